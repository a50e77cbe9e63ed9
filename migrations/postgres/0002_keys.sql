-- Bearer keys: only the SHA-256 of a key is stored; the key itself is shown once.
CREATE TABLE api_keys (
    key_hash    BYTEA NOT NULL PRIMARY KEY CHECK (length(key_hash) = 32),
    principal   TEXT NOT NULL,
    role        TEXT NOT NULL,
    -- JSON array of contract ids; empty for an admin of every contract.
    contracts   TEXT NOT NULL,
    -- The provider stream a provider's key speaks for.
    provider_id TEXT,
    created_at  TEXT NOT NULL
);
