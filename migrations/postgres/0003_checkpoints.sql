-- Signed tree heads, all kept: at every settlement, at least daily, and on demand.
CREATE TABLE checkpoints (
    contract_id TEXT   NOT NULL,
    size        BIGINT NOT NULL CHECK (size >= 1),
    root_hash   TEXT   NOT NULL,
    timestamp   TEXT   NOT NULL,
    key_id      TEXT   NOT NULL,
    signature   TEXT   NOT NULL,
    PRIMARY KEY (contract_id, size, key_id, timestamp)
);
