-- The indicators' projection, derived from the log (a rebuild deletes and recomputes it):
-- - indicator_months: for the parts that count within their period (count, distinct, sum and
--   the parts of a ratio), the events and amounts per calendar month, as of the checkpoint;
-- - indicator_keys: the same per key (a distinct value, a beneficiary), for distinct counts
--   and per-beneficiary limits;
-- - indicator_facts: the facts of the parts that reach back before their period (occupancy,
--   cohorts, savings measured from a start), each from its entry's position until the
--   position of the entry that corrects or voids it;
-- - projector_checkpoints: how far each contract's log has been projected.
-- Every period is a union of calendar months, so monthly rows answer any period.

CREATE TABLE indicator_months (
    contract_id  TEXT     NOT NULL,
    indicator    TEXT     NOT NULL,
    part         INTEGER NOT NULL,
    month        TEXT     NOT NULL,
    events       INTEGER   NOT NULL,
    amount_cents INTEGER   NOT NULL,
    PRIMARY KEY (contract_id, indicator, part, month)
);

CREATE TABLE indicator_keys (
    contract_id TEXT     NOT NULL,
    indicator   TEXT     NOT NULL,
    part        INTEGER NOT NULL,
    month       TEXT     NOT NULL,
    fact_key    TEXT     NOT NULL,
    events      INTEGER   NOT NULL,
    PRIMARY KEY (contract_id, indicator, part, month, fact_key)
);

-- A period's rows are read by month.
CREATE INDEX indicator_months_month ON indicator_months (contract_id, month);
CREATE INDEX indicator_keys_month ON indicator_keys (contract_id, month);

CREATE TABLE indicator_facts (
    contract_id    TEXT     NOT NULL,
    indicator      TEXT     NOT NULL,
    part           INTEGER NOT NULL,
    position       INTEGER  NOT NULL CHECK (position >= 1),
    until_position INTEGER  CHECK (until_position > position),
    event_id       TEXT     NOT NULL,
    -- The local date of occurred_at, as YYYY-MM-DD (text compares as dates do).
    local_date     TEXT     NOT NULL,
    fact_key       TEXT,
    amount_cents   INTEGER,
    PRIMARY KEY (contract_id, indicator, part, position)
);

-- The facts that reach back before a period are read by part, then date.
CREATE INDEX indicator_facts_span ON indicator_facts (contract_id, part, local_date);
CREATE INDEX indicator_facts_event ON indicator_facts (contract_id, event_id);

-- Updated in the same transaction as the facts it accounts for.
CREATE TABLE projector_checkpoints (
    contract_id        TEXT   PRIMARY KEY,
    position           INTEGER NOT NULL CHECK (position >= 0),
    template           TEXT,
    -- The position of the entry that named the template.
    template_named_at  INTEGER NOT NULL DEFAULT 0,
    definitions_sha256 TEXT
);
