-- Risk limits as a versioned object: every version an account's limits ever
-- had, who proposed it, who approved it and when it took effect. The account
-- keeps the limits in force and their version; both change together, in the
-- transaction that appends the new version.

ALTER TABLE accounts ADD COLUMN limits_version INTEGER NOT NULL DEFAULT 1
    CHECK (limits_version >= 1);

CREATE TABLE risk_limit_versions (
    account_id    TEXT NOT NULL REFERENCES accounts (id),
    version       INTEGER NOT NULL CHECK (version >= 1),
    limits        TEXT NOT NULL CHECK (json_valid(limits)),
    reason        TEXT NOT NULL,
    proposed_by   TEXT NOT NULL,
    approved_by   TEXT,
    approval_id   TEXT,
    -- 1 when a tightening applied at once, without a second person.
    reviewable_after_the_fact INTEGER NOT NULL DEFAULT 0
        CHECK (reviewable_after_the_fact IN (0, 1)),
    effective_at  TEXT NOT NULL,
    PRIMARY KEY (account_id, version),
    CHECK ((approved_by IS NULL) = (approval_id IS NULL)),
    CHECK (reviewable_after_the_fact = 0 OR approved_by IS NULL)
) STRICT, WITHOUT ROWID;

-- Every existing account starts at version 1 with the limits it was created with.
INSERT INTO risk_limit_versions (account_id, version, limits, reason, proposed_by, effective_at)
SELECT id, 1, limits, 'initial limits', 'system', created_at FROM accounts;

-- So does every account created from now on.
CREATE TRIGGER accounts_initial_limits_version AFTER INSERT ON accounts
BEGIN
    INSERT INTO risk_limit_versions
        (account_id, version, limits, reason, proposed_by, effective_at)
    VALUES (NEW.id, 1, NEW.limits, 'initial limits', 'system', NEW.created_at);
END;

-- History is append-only.
CREATE TRIGGER risk_limit_versions_no_update BEFORE UPDATE ON risk_limit_versions
BEGIN
    SELECT RAISE(ABORT, 'risk limit versions are append-only');
END;

CREATE TRIGGER risk_limit_versions_no_delete BEFORE DELETE ON risk_limit_versions
BEGIN
    SELECT RAISE(ABORT, 'risk limit versions are append-only');
END;
