-- The append-only log of every contract, and each contract's head.
-- `entry` holds the exact canonical JSON (RFC 8785) that `leaf_hash` was computed over:
-- verification re-hashes these bytes, never a re-rendering of them.

CREATE TABLE log_entries (
    contract_id    TEXT    NOT NULL,
    position       INTEGER NOT NULL CHECK (position >= 1),
    event_id       TEXT    NOT NULL,
    stream_type    TEXT    NOT NULL,
    stream_id      TEXT    NOT NULL,
    stream_seq     INTEGER NOT NULL CHECK (stream_seq >= 1),
    event_type     TEXT    NOT NULL,
    occurred_at    TEXT    NOT NULL,
    recorded_at    TEXT    NOT NULL,
    recorded_by    TEXT    NOT NULL,
    corrects       TEXT,
    entry          TEXT    NOT NULL,
    leaf_hash      BLOB    NOT NULL CHECK (length(leaf_hash) = 32),
    request_digest BLOB    NOT NULL CHECK (length(request_digest) = 32),
    PRIMARY KEY (contract_id, position)
) WITHOUT ROWID;

-- Named, so that queries can insist on them (INDEXED BY): without statistics the planner
-- would rather scan the whole contract by its primary key.
CREATE UNIQUE INDEX log_entries_event ON log_entries (contract_id, event_id);
CREATE UNIQUE INDEX log_entries_stream ON log_entries (contract_id, stream_type, stream_id, stream_seq);

-- The head of each contract's log: its size and the Merkle frontier (the roots of the
-- perfect subtrees along the right edge), updated in the same transaction as the appends.
-- The row lock on it is what serialises appends to one contract.
CREATE TABLE contract_heads (
    contract_id TEXT    PRIMARY KEY,
    size        INTEGER NOT NULL CHECK (size >= 0),
    frontier    BLOB    NOT NULL
);

CREATE TRIGGER log_entries_refuse_update BEFORE UPDATE ON log_entries
BEGIN
    SELECT RAISE(ABORT, 'log_entries is append-only: UPDATE is refused');
END;

CREATE TRIGGER log_entries_refuse_delete BEFORE DELETE ON log_entries
BEGIN
    SELECT RAISE(ABORT, 'log_entries is append-only: DELETE is refused');
END;
