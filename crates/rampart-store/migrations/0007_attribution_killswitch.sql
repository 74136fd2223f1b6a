-- Attribution of every order, and kill switch engagements of every scope.
--
-- An order names whether a person or an API client placed it, the algorithm
-- behind it, the desk of its account and the version of the risk limits it
-- was checked against. An account may name its desk; a client may name the
-- algorithm it runs (its client id stands in when it does not).

ALTER TABLE orders ADD COLUMN placed_by_kind TEXT NOT NULL DEFAULT 'client'
    CHECK (placed_by_kind IN ('user', 'client'));
ALTER TABLE orders ADD COLUMN algo_id TEXT;
ALTER TABLE orders ADD COLUMN desk TEXT;
ALTER TABLE orders ADD COLUMN limits_version INTEGER CHECK (limits_version > 0);

ALTER TABLE accounts ADD COLUMN desk TEXT;
ALTER TABLE clients ADD COLUMN algo_id TEXT;

-- Orders placed before attribution: people are known from `users`; a
-- client's order is attributed to the client as its algorithm.
UPDATE orders SET placed_by_kind = 'user'
    WHERE placed_by IN (SELECT id FROM users);
UPDATE orders SET algo_id = placed_by WHERE placed_by_kind = 'client';

CREATE INDEX orders_by_placed_by ON orders (placed_by, id);
CREATE INDEX orders_by_algo ON orders (algo_id, id);
CREATE INDEX orders_by_desk ON orders (desk, id);

-- Kill switch engagements gain the instrument, client and trader scopes.
-- SQLite cannot change a CHECK in place, so the table is rebuilt: the new one
-- is created, every engagement copied, the old one dropped and the new one
-- renamed. `target` names the account, instrument, client or trader; it is
-- empty only for the global scope.
CREATE TABLE kill_switches_scoped (
    id          TEXT PRIMARY KEY NOT NULL,
    scope       TEXT NOT NULL
                CHECK (scope IN ('global', 'account', 'instrument', 'client', 'trader')),
    target      TEXT,
    reason      TEXT NOT NULL,
    engaged_by  TEXT NOT NULL,
    engaged_at  TEXT NOT NULL,
    released_by TEXT,
    released_at TEXT,
    CHECK ((scope = 'global') = (target IS NULL)),
    CHECK ((released_by IS NULL) = (released_at IS NULL))
) STRICT;

INSERT INTO kill_switches_scoped
    (id, scope, target, reason, engaged_by, engaged_at, released_by, released_at)
    SELECT id, scope, account_id, reason, engaged_by, engaged_at, released_by, released_at
    FROM kill_switches;

DROP INDEX kill_switches_active;
DROP TABLE kill_switches;
ALTER TABLE kill_switches_scoped RENAME TO kill_switches;
CREATE INDEX kill_switches_active ON kill_switches (released_at);
