-- The running total of each account's notional per UTC day and instrument,
-- as exact TEXT in the instrument's currency. Every write that changes what
-- an order counts applies the change here in the same transaction, so that a
-- pre-trade check reads one row per instrument instead of every order of the
-- day. `day` is the UTC date (YYYY-MM-DD) of the order's `created_at`.

CREATE TABLE daily_notional (
    account_id TEXT NOT NULL REFERENCES accounts (id),
    day        TEXT NOT NULL,
    instrument TEXT NOT NULL,
    amount     TEXT NOT NULL,
    PRIMARY KEY (account_id, day, instrument)
) STRICT, WITHOUT ROWID;
