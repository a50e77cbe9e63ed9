-- The roots of complete, aligned subtrees of each contract's tree, at every fourth level
-- (4, 8, 12, ...): the root of leaves [idx * 2^level, (idx + 1) * 2^level). With them a proof
-- at any size reads a few dozen stored hashes instead of every leaf hash of the log.
-- Written with the entries that complete them; a proof fills in any that a log written before
-- this table lacks. Like the log, they never change once written.

CREATE TABLE log_subtrees (
    contract_id TEXT     NOT NULL,
    level       SMALLINT NOT NULL CHECK (level >= 4 AND level < 64 AND level % 4 = 0),
    idx         BIGINT   NOT NULL CHECK (idx >= 0),
    hash        BYTEA    NOT NULL CHECK (length(hash) = 32),
    PRIMARY KEY (contract_id, level, idx)
);

CREATE FUNCTION append_only_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % is refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TRIGGER log_subtrees_refuse_update_delete BEFORE UPDATE OR DELETE ON log_subtrees
    FOR EACH ROW EXECUTE FUNCTION append_only_refuse_change();

CREATE TRIGGER log_subtrees_refuse_truncate BEFORE TRUNCATE ON log_subtrees
    FOR EACH STATEMENT EXECUTE FUNCTION append_only_refuse_change();
