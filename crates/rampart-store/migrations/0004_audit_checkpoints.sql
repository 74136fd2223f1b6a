-- Signed checkpoints of the audit tree, and the indexes that serve audit queries.
--
-- A checkpoint commits to the first `tree_size` audit events (leaf index =
-- seq - 1) through the RFC 9162 root of their leaves. `text` is the signed
-- note exactly as it was signed and exported; the other columns repeat what
-- it says, for lookups. Checkpoints, like events, are never changed or removed.
CREATE TABLE audit_checkpoints (
    tree_size INTEGER PRIMARY KEY NOT NULL CHECK (tree_size >= 0),
    root_hash BLOB NOT NULL CHECK (length(root_hash) = 32),
    time      TEXT NOT NULL,
    text      TEXT NOT NULL
) STRICT;

CREATE TRIGGER audit_checkpoints_no_update BEFORE UPDATE ON audit_checkpoints
BEGIN
    SELECT RAISE(ABORT, 'audit checkpoints are append-only');
END;

CREATE TRIGGER audit_checkpoints_no_delete BEFORE DELETE ON audit_checkpoints
BEGIN
    SELECT RAISE(ABORT, 'audit checkpoints are append-only');
END;

CREATE INDEX audit_events_time ON audit_events (time, seq);
CREATE INDEX audit_events_actor ON audit_events (actor, seq);
CREATE INDEX audit_events_action ON audit_events (action, seq);
CREATE INDEX audit_events_target ON audit_events (target, seq);
CREATE INDEX audit_events_outcome ON audit_events (outcome, seq);
