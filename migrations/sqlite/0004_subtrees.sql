-- The roots of complete, aligned subtrees of each contract's tree, at every fourth level
-- (4, 8, 12, ...): the root of leaves [idx * 2^level, (idx + 1) * 2^level). With them a proof
-- at any size reads a few dozen stored hashes instead of every leaf hash of the log.
-- Written with the entries that complete them; a proof fills in any that a log written before
-- this table lacks. Like the log, they never change once written.

CREATE TABLE log_subtrees (
    contract_id TEXT    NOT NULL,
    level       INTEGER NOT NULL CHECK (level >= 4 AND level < 64 AND level % 4 = 0),
    idx         INTEGER NOT NULL CHECK (idx >= 0),
    hash        BLOB    NOT NULL CHECK (length(hash) = 32),
    PRIMARY KEY (contract_id, level, idx)
) WITHOUT ROWID;

CREATE TRIGGER log_subtrees_refuse_update BEFORE UPDATE ON log_subtrees
BEGIN
    SELECT RAISE(ABORT, 'log_subtrees is append-only: UPDATE is refused');
END;

CREATE TRIGGER log_subtrees_refuse_delete BEFORE DELETE ON log_subtrees
BEGIN
    SELECT RAISE(ABORT, 'log_subtrees is append-only: DELETE is refused');
END;
