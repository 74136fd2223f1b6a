-- The initial schema of the Rampart store.
-- Decimals are exact TEXT, times are RFC 3339 UTC TEXT with six fractional
-- digits (so text order is time order), ids are TEXT. STRICT tables refuse
-- values of any other type, so no floating-point value can enter.

CREATE TABLE accounts (
    id           TEXT PRIMARY KEY NOT NULL,
    currency     TEXT NOT NULL,
    initial_cash TEXT NOT NULL,
    limits       TEXT NOT NULL CHECK (json_valid(limits)),
    created_at   TEXT NOT NULL
) STRICT;

CREATE TABLE cash (
    account_id TEXT PRIMARY KEY NOT NULL REFERENCES accounts (id),
    amount     TEXT NOT NULL
) STRICT;

CREATE TABLE clients (
    id          TEXT PRIMARY KEY NOT NULL,
    name        TEXT NOT NULL,
    secret_hash TEXT NOT NULL,
    roles       TEXT NOT NULL CHECK (json_valid(roles)),
    disabled    INTEGER NOT NULL CHECK (disabled IN (0, 1)),
    created_at  TEXT NOT NULL
) STRICT;

CREATE TABLE client_accounts (
    client_id  TEXT NOT NULL REFERENCES clients (id),
    account_id TEXT NOT NULL REFERENCES accounts (id),
    PRIMARY KEY (client_id, account_id)
) STRICT, WITHOUT ROWID;

CREATE TABLE users (
    id                   TEXT PRIMARY KEY NOT NULL,
    username             TEXT NOT NULL UNIQUE,
    password_hash        TEXT NOT NULL,
    roles                TEXT NOT NULL CHECK (json_valid(roles)),
    must_change_password INTEGER NOT NULL CHECK (must_change_password IN (0, 1)),
    created_at           TEXT NOT NULL
) STRICT;

CREATE TABLE orders (
    id                 TEXT PRIMARY KEY NOT NULL,
    client_order_id    TEXT,
    account_id         TEXT NOT NULL REFERENCES accounts (id),
    instrument         TEXT NOT NULL,
    side               TEXT NOT NULL CHECK (side IN ('buy', 'sell')),
    order_type         TEXT NOT NULL CHECK (order_type IN ('market', 'limit')),
    quantity           TEXT NOT NULL,
    limit_price        TEXT,
    time_in_force      TEXT NOT NULL CHECK (time_in_force IN ('gtc', 'ioc')),
    status             TEXT NOT NULL
                       CHECK (status IN ('rejected', 'open', 'filled', 'cancelled')),
    filled_quantity    TEXT NOT NULL,
    average_fill_price TEXT,
    reject_code        TEXT,
    reject_reason      TEXT,
    placed_by          TEXT NOT NULL,
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL,
    UNIQUE (account_id, client_order_id)
) STRICT;

CREATE INDEX orders_by_account_and_time ON orders (account_id, created_at);
CREATE INDEX orders_by_status ON orders (status);

CREATE TABLE positions (
    account_id TEXT NOT NULL REFERENCES accounts (id),
    instrument TEXT NOT NULL,
    quantity   TEXT NOT NULL,
    cost       TEXT NOT NULL,
    PRIMARY KEY (account_id, instrument)
) STRICT, WITHOUT ROWID;

CREATE TABLE kill_switches (
    id          TEXT PRIMARY KEY NOT NULL,
    scope       TEXT NOT NULL CHECK (scope IN ('global', 'account')),
    account_id  TEXT REFERENCES accounts (id),
    reason      TEXT NOT NULL,
    engaged_by  TEXT NOT NULL,
    engaged_at  TEXT NOT NULL,
    released_by TEXT,
    released_at TEXT,
    CHECK ((scope = 'global') = (account_id IS NULL)),
    CHECK ((released_by IS NULL) = (released_at IS NULL))
) STRICT;

CREATE INDEX kill_switches_active ON kill_switches (released_at);

CREATE TABLE audit_events (
    seq            INTEGER PRIMARY KEY NOT NULL CHECK (seq > 0),
    time           TEXT NOT NULL,
    actor          TEXT NOT NULL,
    action         TEXT NOT NULL,
    target         TEXT NOT NULL,
    outcome        TEXT NOT NULL,
    request_id     TEXT NOT NULL,
    policy_version TEXT,
    details        TEXT NOT NULL CHECK (json_valid(details)),
    leaf_hash      BLOB NOT NULL CHECK (length(leaf_hash) = 32),
    chain_hash     BLOB NOT NULL CHECK (length(chain_hash) = 32)
) STRICT;

-- The audit log is append-only for the gateway; anyone who removes these
-- triggers to rewrite it is caught by the hash chain.
CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit events are append-only');
END;

CREATE TRIGGER audit_events_no_delete BEFORE DELETE ON audit_events
BEGIN
    SELECT RAISE(ABORT, 'audit events are append-only');
END;
