-- The append-only log of every contract, and each contract's head.
-- `entry` holds the exact canonical JSON (RFC 8785) that `leaf_hash` was computed over, as
-- text, not jsonb: verification re-hashes these bytes, never a re-rendering of them.

CREATE TABLE log_entries (
    contract_id    TEXT   NOT NULL,
    position       BIGINT NOT NULL CHECK (position >= 1),
    event_id       UUID   NOT NULL,
    stream_type    TEXT   NOT NULL,
    stream_id      TEXT   NOT NULL,
    stream_seq     BIGINT NOT NULL CHECK (stream_seq >= 1),
    event_type     TEXT   NOT NULL,
    occurred_at    TEXT   NOT NULL,
    recorded_at    TEXT   NOT NULL,
    recorded_by    TEXT   NOT NULL,
    corrects       UUID,
    entry          TEXT   NOT NULL,
    leaf_hash      BYTEA  NOT NULL CHECK (length(leaf_hash) = 32),
    request_digest BYTEA  NOT NULL CHECK (length(request_digest) = 32),
    PRIMARY KEY (contract_id, position),
    UNIQUE (contract_id, event_id),
    UNIQUE (contract_id, stream_type, stream_id, stream_seq)
);

-- The head of each contract's log: its size and the Merkle frontier (the roots of the
-- perfect subtrees along the right edge), updated in the same transaction as the appends.
-- The row lock on it is what serialises appends to one contract, in commit order.
CREATE TABLE contract_heads (
    contract_id TEXT   PRIMARY KEY,
    size        BIGINT NOT NULL CHECK (size >= 0),
    frontier    BYTEA  NOT NULL
);

CREATE FUNCTION log_entries_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'log_entries is append-only: % is refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TRIGGER log_entries_refuse_update_delete BEFORE UPDATE OR DELETE ON log_entries
    FOR EACH ROW EXECUTE FUNCTION log_entries_refuse_change();

CREATE TRIGGER log_entries_refuse_truncate BEFORE TRUNCATE ON log_entries
    FOR EACH STATEMENT EXECUTE FUNCTION log_entries_refuse_change();

