-- Every public key that has signed checkpoints, so that a checkpoint stays verifiable after its
-- key is rotated away. The private keys are never here: each lives in a file of its own.
-- A key is current until it is retired; at most one is current. Nothing else ever changes:
-- a key once published stays published.

CREATE TABLE signing_keys (
    key_id     TEXT PRIMARY KEY,
    public_key TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    retired_at TEXT
);

CREATE UNIQUE INDEX signing_keys_one_current ON signing_keys ((retired_at IS NULL))
    WHERE retired_at IS NULL;

CREATE FUNCTION signing_keys_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE'
        OR OLD.retired_at IS NOT NULL
        OR NEW.key_id IS DISTINCT FROM OLD.key_id
        OR NEW.public_key IS DISTINCT FROM OLD.public_key
        OR NEW.created_at IS DISTINCT FROM OLD.created_at THEN
        RAISE EXCEPTION 'signing_keys keeps every key: only retiring the current one is allowed, % is refused', TG_OP
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NEW;
END;
$$;

CREATE TRIGGER signing_keys_refuse_change BEFORE UPDATE OR DELETE ON signing_keys
    FOR EACH ROW EXECUTE FUNCTION signing_keys_refuse_change();

CREATE TRIGGER signing_keys_refuse_truncate BEFORE TRUNCATE ON signing_keys
    FOR EACH STATEMENT EXECUTE FUNCTION append_only_refuse_change();
