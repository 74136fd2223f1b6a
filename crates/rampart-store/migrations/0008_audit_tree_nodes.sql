-- Hashes of the complete subtrees of the audit tree of 256 leaves or more.
--
-- The node at (`level`, `idx`) is the RFC 9162 hash of the 2^level leaves from leaf
-- index idx * 2^level (event `seq` = leaf index + 1). Proofs and roots read O(log n) of
-- these instead of every leaf hash. The rows are derived from the leaves: verification
-- never trusts them, and a proof built from a wrong one fails against the signed root.
-- Like the events, they are never changed or removed.
CREATE TABLE audit_tree_nodes (
    level INTEGER NOT NULL CHECK (level >= 8 AND level < 64),
    idx   INTEGER NOT NULL CHECK (idx >= 0),
    hash  BLOB NOT NULL CHECK (length(hash) = 32),
    PRIMARY KEY (level, idx)
) STRICT, WITHOUT ROWID;

CREATE TRIGGER audit_tree_nodes_no_update BEFORE UPDATE ON audit_tree_nodes
BEGIN
    SELECT RAISE(ABORT, 'audit tree nodes are append-only');
END;

CREATE TRIGGER audit_tree_nodes_no_delete BEFORE DELETE ON audit_tree_nodes
BEGIN
    SELECT RAISE(ABORT, 'audit tree nodes are append-only');
END;
