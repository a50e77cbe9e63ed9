-- The identity vault: who each pseudonym is, never in the log. Each row holds the person's data
-- key wrapped by the master key (which lives in a file, never here) and the record encrypted
-- with that data key; both are a 24-byte nonce followed by XChaCha20-Poly1305 ciphertext.
-- Erasure deletes the row: without its data key the record cannot be read by anyone.
CREATE TABLE identities (
    contract_id      TEXT NOT NULL,
    beneficiary_id   TEXT NOT NULL,
    wrapped_key      BLOB NOT NULL,
    ciphertext       BLOB NOT NULL,
    -- HMAC-SHA256 of the fiscal code under a key derived from the master key: finds a person
    -- already registered without opening every record.
    fiscal_code_hmac BLOB,
    updated_at       TEXT NOT NULL,
    PRIMARY KEY (contract_id, beneficiary_id)
);
CREATE UNIQUE INDEX identities_by_fiscal_code ON identities (contract_id, fiscal_code_hmac);

-- Who was erased, and when: a read afterwards answers that the identity was erased, and a
-- registration of the same pseudonym is refused. No personal data.
CREATE TABLE identity_erasures (
    contract_id    TEXT NOT NULL,
    beneficiary_id TEXT NOT NULL,
    erased_at      TEXT NOT NULL,
    PRIMARY KEY (contract_id, beneficiary_id)
);

-- The id (16 hex digits of a hash) of the master key that wraps every data key: a service
-- started with another key refuses to use the vault. One row, written on first start and by
-- a rotation.
CREATE TABLE vault_master_key (
    singleton  INTEGER PRIMARY KEY CHECK (singleton = 1),
    key_id     TEXT NOT NULL,
    recorded_at TEXT NOT NULL
);
