-- Indexes shaped like the projection's three reads, so that a settlement, which reads the
-- indicators of its period and of every earlier period it restates, stays fast on a large log:
-- - a period's aggregates read every fact dated in it: a covering index, so the rows
--   themselves are not read (it replaces the index on the date alone, its prefix);
-- - the facts that reach back before a period (occupancy, cohorts, savings) are a few parts;
-- - the facts behind one indicator's value are read by indicator and date.
-- Without the last two the planner walked the date index over the whole log.

CREATE INDEX indicator_facts_period ON indicator_facts
    (contract_id, local_date, part, indicator, position, until_position, fact_key, amount_cents);
DROP INDEX indicator_facts_date;
CREATE INDEX indicator_facts_span ON indicator_facts (contract_id, part, local_date);
CREATE INDEX indicator_facts_indicator ON indicator_facts (contract_id, indicator, local_date);
