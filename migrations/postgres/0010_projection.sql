-- The indicators' projection: what each entry contributes to each indicator (a fact), from
-- the entry's position until the position of the entry that corrects or voids it, and how far
-- each contract's log has been projected. Unlike the log, these rows are derived: a rebuild
-- deletes and recomputes them from the log.

CREATE TABLE indicator_facts (
    contract_id    TEXT     NOT NULL,
    indicator      TEXT     NOT NULL,
    part           SMALLINT NOT NULL,
    position       BIGINT   NOT NULL CHECK (position >= 1),
    until_position BIGINT   CHECK (until_position > position),
    event_id       TEXT     NOT NULL,
    -- The local date of occurred_at, as YYYY-MM-DD (text compares as dates do).
    local_date     TEXT     NOT NULL,
    fact_key       TEXT,
    amount_cents   BIGINT,
    PRIMARY KEY (contract_id, indicator, part, position)
);

CREATE INDEX indicator_facts_date ON indicator_facts (contract_id, local_date);
CREATE INDEX indicator_facts_event ON indicator_facts (contract_id, event_id);

-- Updated in the same transaction as the facts it accounts for.
CREATE TABLE projector_checkpoints (
    contract_id        TEXT   PRIMARY KEY,
    position           BIGINT NOT NULL CHECK (position >= 0),
    template           TEXT,
    -- The position of the entry that named the template.
    template_named_at  BIGINT NOT NULL DEFAULT 0,
    definitions_sha256 TEXT
);
