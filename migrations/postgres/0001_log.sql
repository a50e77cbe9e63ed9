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

-- The write half of an append, in one statement (so one round trip that also commits):
-- lock the contract's head, and insert the entries and move the head only if the head is
-- still at the size the caller decided against. Returns false, writing nothing, when another
-- writer got there first; the caller then reads again and decides again.
CREATE FUNCTION esito_append(
    p_contract_id    TEXT,
    p_expected_size  BIGINT,
    p_new_size       BIGINT,
    p_frontier       BYTEA,
    p_positions      BIGINT[],
    p_event_ids      UUID[],
    p_stream_types   TEXT[],
    p_stream_ids     TEXT[],
    p_stream_seqs    BIGINT[],
    p_event_types    TEXT[],
    p_occurred_at    TEXT[],
    p_recorded_at    TEXT[],
    p_recorded_by    TEXT[],
    p_corrects       UUID[],
    p_entries        TEXT[],
    p_leaf_hashes    BYTEA[],
    p_digests        BYTEA[]
) RETURNS BOOLEAN LANGUAGE plpgsql AS $$
DECLARE
    current_size BIGINT;
BEGIN
    SELECT size INTO current_size FROM contract_heads WHERE contract_id = p_contract_id FOR UPDATE;
    IF NOT FOUND THEN
        IF p_expected_size <> 0 THEN
            RETURN false;
        END IF;
        INSERT INTO contract_heads (contract_id, size, frontier) VALUES (p_contract_id, 0, p_frontier)
            ON CONFLICT (contract_id) DO NOTHING;
        IF NOT FOUND THEN
            RETURN false;
        END IF;
    ELSIF current_size <> p_expected_size THEN
        RETURN false;
    END IF;
    INSERT INTO log_entries (contract_id, position, event_id, stream_type, stream_id, stream_seq,
        event_type, occurred_at, recorded_at, recorded_by, corrects, entry, leaf_hash, request_digest)
    SELECT p_contract_id, * FROM UNNEST(p_positions, p_event_ids, p_stream_types, p_stream_ids,
        p_stream_seqs, p_event_types, p_occurred_at, p_recorded_at, p_recorded_by, p_corrects,
        p_entries, p_leaf_hashes, p_digests);
    UPDATE contract_heads SET size = p_new_size, frontier = p_frontier WHERE contract_id = p_contract_id;
    RETURN true;
END;
$$;
