-- Versions of the projection's rows by block of 1,024 positions (block b holds the positions
-- (b - 1) * 1024 + 1 to b * 1024), so that a value as of any position is read from the rows as
-- of the end of its block, less the entries after it in that block:
-- - indicator_month_versions: a monthly row as the end of each block that changed it left it;
-- - indicator_distinct_versions: a period's distinct count likewise;
-- - indicator_key_versions: every row per key an entry of the block touched, as the block's
--   end left it.
-- For the block the checkpoint is in, "the end" is the checkpoint. The projection is derived:
-- its rows are emptied here and projected again from position 1 by the next step.

CREATE TABLE indicator_month_versions (
    contract_id  TEXT     NOT NULL,
    indicator    TEXT     NOT NULL,
    part         SMALLINT NOT NULL,
    month        TEXT     NOT NULL,
    block        BIGINT   NOT NULL CHECK (block >= 1),
    events       BIGINT   NOT NULL,
    amount_cents BIGINT   NOT NULL,
    PRIMARY KEY (contract_id, indicator, part, month, block)
);

CREATE TABLE indicator_distinct_versions (
    contract_id TEXT     NOT NULL,
    indicator   TEXT     NOT NULL,
    part        SMALLINT NOT NULL,
    period      TEXT     NOT NULL,
    block       BIGINT   NOT NULL CHECK (block >= 1),
    keys        BIGINT   NOT NULL,
    PRIMARY KEY (contract_id, indicator, part, period, block)
);

-- Read by block and year: the rows per key of one block, for one year.
CREATE TABLE indicator_key_versions (
    contract_id TEXT     NOT NULL,
    block       BIGINT   NOT NULL CHECK (block >= 1),
    year        INTEGER  NOT NULL,
    indicator   TEXT     NOT NULL,
    part        SMALLINT NOT NULL,
    fact_key    TEXT     NOT NULL,
    m01         BIGINT   NOT NULL,
    m02         BIGINT   NOT NULL,
    m03         BIGINT   NOT NULL,
    m04         BIGINT   NOT NULL,
    m05         BIGINT   NOT NULL,
    m06         BIGINT   NOT NULL,
    m07         BIGINT   NOT NULL,
    m08         BIGINT   NOT NULL,
    m09         BIGINT   NOT NULL,
    m10         BIGINT   NOT NULL,
    m11         BIGINT   NOT NULL,
    m12         BIGINT   NOT NULL,
    PRIMARY KEY (contract_id, block, year, indicator, part, fact_key)
);

DELETE FROM indicator_months;
DELETE FROM indicator_keys;
DELETE FROM indicator_distinct;
DELETE FROM indicator_facts;
DELETE FROM projector_checkpoints;
