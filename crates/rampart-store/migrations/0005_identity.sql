-- People, sessions and four-eyes approvals.
-- Users gain assigned accounts, a disabled flag and TOTP state; their display
-- name and e-mail are personal data and live apart, in `user_profiles`.
-- Secrets are stored only as hashes, except the TOTP seed, which must be
-- usable to check a code. Times are RFC 3339 UTC TEXT with microseconds.

ALTER TABLE users ADD COLUMN disabled INTEGER NOT NULL DEFAULT 0
    CHECK (disabled IN (0, 1));
ALTER TABLE users ADD COLUMN mfa_secret TEXT;
ALTER TABLE users ADD COLUMN mfa_pending_secret TEXT;
ALTER TABLE users ADD COLUMN mfa_last_step INTEGER CHECK (mfa_last_step >= 0);
ALTER TABLE users ADD COLUMN updated_at TEXT;

CREATE TABLE user_accounts (
    user_id    TEXT NOT NULL REFERENCES users (id),
    account_id TEXT NOT NULL REFERENCES accounts (id),
    PRIMARY KEY (user_id, account_id)
) STRICT, WITHOUT ROWID;

CREATE TABLE user_profiles (
    user_id      TEXT PRIMARY KEY NOT NULL REFERENCES users (id),
    display_name TEXT,
    email        TEXT
) STRICT;

CREATE TABLE recovery_codes (
    user_id   TEXT NOT NULL REFERENCES users (id),
    position  INTEGER NOT NULL CHECK (position >= 0),
    code_hash TEXT NOT NULL,
    used_at   TEXT,
    PRIMARY KEY (user_id, position)
) STRICT, WITHOUT ROWID;

-- Failed sign-ins per user (`user`) and per source address (`address`).
CREATE TABLE login_failures (
    scope           TEXT NOT NULL CHECK (scope IN ('user', 'address')),
    key             TEXT NOT NULL,
    failures        INTEGER NOT NULL CHECK (failures >= 0),
    last_failure_at TEXT NOT NULL,
    locked_until    TEXT,
    PRIMARY KEY (scope, key)
) STRICT, WITHOUT ROWID;

-- A refresh-token family: one sign-in or client grant and its rotations.
CREATE TABLE refresh_families (
    id                  TEXT PRIMARY KEY NOT NULL,
    subject             TEXT NOT NULL,
    subject_kind        TEXT NOT NULL CHECK (subject_kind IN ('user', 'client')),
    current_hash        TEXT NOT NULL UNIQUE,
    amr                 TEXT NOT NULL CHECK (json_valid(amr)),
    created_at          TEXT NOT NULL,
    last_used_at        TEXT NOT NULL,
    idle_expires_at     TEXT NOT NULL,
    absolute_expires_at TEXT NOT NULL,
    revoked_at          TEXT,
    revoked_reason      TEXT,
    CHECK ((revoked_at IS NULL) = (revoked_reason IS NULL))
) STRICT;

CREATE INDEX refresh_families_by_subject ON refresh_families (subject);

-- Tokens of a family that were already rotated; presenting one again is reuse.
CREATE TABLE refresh_rotated (
    token_hash TEXT PRIMARY KEY NOT NULL,
    family_id  TEXT NOT NULL REFERENCES refresh_families (id),
    rotated_at TEXT NOT NULL
) STRICT;

-- Access tokens revoked before their expiry; pruned once expired.
CREATE TABLE revoked_jtis (
    jti        TEXT PRIMARY KEY NOT NULL,
    expires_at TEXT NOT NULL,
    revoked_at TEXT NOT NULL
) STRICT;

-- Client assertions (RFC 7523) already used; pruned once expired.
CREATE TABLE assertion_jtis (
    client_id  TEXT NOT NULL,
    jti        TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    PRIMARY KEY (client_id, jti)
) STRICT, WITHOUT ROWID;

-- The public key a client signs its assertions with (`private_key_jwt`).
CREATE TABLE client_jwks (
    client_id  TEXT PRIMARY KEY NOT NULL REFERENCES clients (id),
    jwk        TEXT NOT NULL CHECK (json_valid(jwk)),
    created_at TEXT NOT NULL
) STRICT;

-- The person answerable for an API client, for four-eyes checks.
ALTER TABLE clients ADD COLUMN owner TEXT;

-- Four-eyes decisions of any kind: role grants, risk changes, releases.
CREATE TABLE approvals (
    id          TEXT PRIMARY KEY NOT NULL,
    kind        TEXT NOT NULL,
    target      TEXT NOT NULL,
    payload     TEXT NOT NULL CHECK (json_valid(payload)),
    proposed_by TEXT NOT NULL,
    proposed_at TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    status      TEXT NOT NULL
                CHECK (status IN ('pending', 'approved', 'rejected', 'expired')),
    decided_by  TEXT,
    decided_at  TEXT,
    comment     TEXT,
    CHECK ((status = 'pending') = (decided_at IS NULL) OR status = 'expired')
) STRICT;

CREATE INDEX approvals_by_status ON approvals (status, proposed_at);
