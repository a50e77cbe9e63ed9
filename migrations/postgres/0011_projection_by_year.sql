-- Rows per key and year, and distinct counts per period, in place of rows per key and month:
-- - indicator_keys: for the parts that count distinct keys (a distinct value, a beneficiary),
--   each key's events in each month (m01 to m12) of a year;
-- - indicator_distinct: how many keys have events within each month, quarter, half-year and
--   year (period written as in docs/design.md §10: 2024-03, 2024-Q1, 2024-H1, 2024), kept
--   with the rows per key in the same transaction.
-- Every period lies within one year, so a key's row for that year answers whether the key
-- counts in it. The projection is derived: its rows are emptied here and projected again
-- from position 1 by the next step.

DROP TABLE indicator_keys;

CREATE TABLE indicator_keys (
    contract_id TEXT     NOT NULL,
    indicator   TEXT     NOT NULL,
    part        SMALLINT NOT NULL,
    year        INTEGER  NOT NULL,
    fact_key    TEXT     NOT NULL,
    m01         BIGINT   NOT NULL DEFAULT 0,
    m02         BIGINT   NOT NULL DEFAULT 0,
    m03         BIGINT   NOT NULL DEFAULT 0,
    m04         BIGINT   NOT NULL DEFAULT 0,
    m05         BIGINT   NOT NULL DEFAULT 0,
    m06         BIGINT   NOT NULL DEFAULT 0,
    m07         BIGINT   NOT NULL DEFAULT 0,
    m08         BIGINT   NOT NULL DEFAULT 0,
    m09         BIGINT   NOT NULL DEFAULT 0,
    m10         BIGINT   NOT NULL DEFAULT 0,
    m11         BIGINT   NOT NULL DEFAULT 0,
    m12         BIGINT   NOT NULL DEFAULT 0,
    PRIMARY KEY (contract_id, indicator, part, year, fact_key)
);

-- A period's rows per key are read by year.
CREATE INDEX indicator_keys_year ON indicator_keys (contract_id, year);

CREATE TABLE indicator_distinct (
    contract_id TEXT     NOT NULL,
    indicator   TEXT     NOT NULL,
    part        SMALLINT NOT NULL,
    period      TEXT     NOT NULL,
    keys        BIGINT   NOT NULL,
    PRIMARY KEY (contract_id, indicator, part, period)
);

CREATE INDEX indicator_distinct_period ON indicator_distinct (contract_id, period);

DELETE FROM indicator_months;
DELETE FROM indicator_facts;
DELETE FROM projector_checkpoints;
