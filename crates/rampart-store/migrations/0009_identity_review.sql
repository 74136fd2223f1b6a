-- Identity hardening: subjects whose tokens were cut off, single-use set-up
-- tokens for new users, and a keyed lookup of recovery codes.
-- Times are RFC 3339 UTC TEXT with microseconds.

-- Every access token of `subject` issued at or before `revoked_at` is refused
-- (rights reduced, user disabled). Kept while such a token can still be alive.
CREATE TABLE revoked_subjects (
    subject    TEXT PRIMARY KEY NOT NULL,
    revoked_at TEXT NOT NULL,
    reason     TEXT NOT NULL
) STRICT;

-- Single-use, expiring set-up tokens: a new (or reset) person chooses their
-- own password with one, so the administrator never learns it. Stored as a
-- SHA-256 hash only; spent, superseded or ended by a password change.
CREATE TABLE setup_tokens (
    token_hash TEXT PRIMARY KEY NOT NULL,
    user_id    TEXT NOT NULL REFERENCES users (id),
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    ended_at   TEXT
) STRICT;

CREATE INDEX setup_tokens_by_user ON setup_tokens (user_id);
