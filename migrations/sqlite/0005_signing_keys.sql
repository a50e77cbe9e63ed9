-- Every public key that has signed checkpoints, so that a checkpoint stays verifiable after its
-- key is rotated away. The private keys are never here: each lives in a file of its own.
-- A key is current until it is retired; at most one is current. Nothing else ever changes:
-- a key once published stays published.

CREATE TABLE signing_keys (
    key_id     TEXT PRIMARY KEY,
    public_key TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    retired_at TEXT
) WITHOUT ROWID;

CREATE UNIQUE INDEX signing_keys_one_current ON signing_keys (retired_at IS NULL)
    WHERE retired_at IS NULL;

CREATE TRIGGER signing_keys_refuse_delete BEFORE DELETE ON signing_keys
BEGIN
    SELECT RAISE(ABORT, 'signing_keys keeps every key: only retiring the current one is allowed, DELETE is refused');
END;

CREATE TRIGGER signing_keys_refuse_change BEFORE UPDATE ON signing_keys
WHEN OLD.retired_at IS NOT NULL
    OR NEW.key_id IS NOT OLD.key_id
    OR NEW.public_key IS NOT OLD.public_key
    OR NEW.created_at IS NOT OLD.created_at
BEGIN
    SELECT RAISE(ABORT, 'signing_keys keeps every key: only retiring the current one is allowed, UPDATE is refused');
END;
