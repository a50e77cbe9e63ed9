//! The running projector on either database: one step projects up to a batch of entries in
//! one transaction, the checkpoint row locked first; and the statements that write the rows,
//! shared with the reset and the rebuild.
//!
//! Invariant: a contract's rows and its checkpoint change in one transaction, so a step that
//! fails before its commit leaves both as they were and the next derives the same entries.

use sqlx::Row;

use super::*;
use crate::backend::{each_backend, Conn};
use crate::db;
use esito_indicators::EntryView;
use esito_projector::{needs_text, prime};

/// A row of `projector_checkpoints` read as (position, template, template_named_at,
/// definitions_sha256).
type CheckpointRow = (i64, Option<String>, i64, Option<String>);

impl Store {
    /// Projects up to [`PROJECT_BATCH`] more entries of the contract's log in one transaction.
    pub async fn project_step(&self, contract_id: &ContractId) -> Result<StepOutcome, StoreError> {
        self.project_step_with(contract_id, PROJECT_BATCH, Fault::None)
            .await
    }

    #[doc(hidden)]
    pub async fn project_step_with(
        &self,
        contract_id: &ContractId,
        batch: u32,
        fault: Fault,
    ) -> Result<StepOutcome, StoreError> {
        let mut write = self.begin_write().await?;
        let mut state = lock_checkpoint(write.conn(), contract_id).await?;
        if let Some(position) = needs_text(&state) {
            let rows = entries_in(write.conn(), contract_id, position - 1, 1).await?;
            prime_definitions(&rows)?;
        }
        let before = state.position;
        if let Some(restart) = restart_for_definitions(&state)? {
            delete_rows(write.conn(), contract_id).await?;
            state = restart;
        }
        // A step never crosses a block's end, so that the last step in a block leaves the
        // rows its versions record as the block ends them.
        let batch = batch.min(u32::try_from(room_in_block(state.position)).unwrap_or(u32::MAX));
        let rows = entries_in(write.conn(), contract_id, state.position, batch).await?;
        let mut entries = read_step(&state, &rows)?;
        // Entries the batch supersedes from before it: read outside the transaction, which is
        // safe because stored entries never change.
        let earlier = self
            .entries_by_event_id(contract_id, &earlier_targets(&entries))
            .await?;
        let (state, applied) = match plan_step(&state, &mut entries, &earlier)? {
            StepPlan::Restart(restart) => {
                delete_rows(write.conn(), contract_id).await?;
                (restart, 0)
            }
            StepPlan::Advance(Advance {
                delta,
                span_facts,
                superseded,
                state,
            }) => {
                let span_facts: Vec<(Fact, Option<u64>)> =
                    span_facts.into_iter().map(|fact| (fact, None)).collect();
                let versions = write_rows(write.conn(), contract_id, &delta, &span_facts).await?;
                write_versions(
                    write.conn(),
                    contract_id,
                    block_of(state.position),
                    &versions,
                )
                .await?;
                each_backend!(write.conn(), Conn(conn) => {
                    for (event_id, position) in &superseded {
                        sqlx::query(SUPERSEDE_SQL)
                            .bind(db::to_i64(*position)?)
                            .bind(contract_id.as_str())
                            .bind(event_id.as_str())
                            .execute(&mut *conn)
                            .await?;
                    }
                });
                (state, entries.len())
            }
        };
        save_state(write.conn(), contract_id, &state).await?;
        if fault == Fault::BeforeCommit {
            return Err(StoreError::Database(format!(
                "injected failure before committing positions {}..={}",
                before + 1,
                state.position
            )));
        }
        write.commit().await?;
        Ok(StepOutcome {
            position: state.position,
            applied,
        })
    }

    /// Projects until the checkpoint reaches `position` (or the head, if it is lower), and
    /// says where the projection then stands.
    pub async fn catch_up(
        &self,
        contract_id: &ContractId,
        position: u64,
    ) -> Result<ProjectionState, StoreError> {
        loop {
            let state = self.projection_state(contract_id).await?;
            if state.position >= position {
                return Ok(state);
            }
            let step = self.project_step(contract_id).await?;
            if step.applied == 0 && step.position == state.position {
                return self.projection_state(contract_id).await;
            }
        }
    }

    /// Deletes the contract's rows and checkpoint: the next step starts from position 1.
    pub async fn reset_projection(&self, contract_id: &ContractId) -> Result<(), StoreError> {
        let mut write = self.begin_write().await?;
        delete_rows(write.conn(), contract_id).await?;
        each_backend!(write.conn(), Conn(conn) => {
            sqlx::query("DELETE FROM projector_checkpoints WHERE contract_id = $1")
                .bind(contract_id.as_str())
                .execute(conn)
                .await?;
        });
        write.commit().await
    }

    /// How far the contract's log has been projected.
    pub async fn projection_state(
        &self,
        contract_id: &ContractId,
    ) -> Result<ProjectionState, StoreError> {
        let row: Option<CheckpointRow> = each_backend!(self, Store(store) => {
            sqlx::query_as(
                "SELECT position, template, template_named_at, definitions_sha256
                 FROM projector_checkpoints WHERE contract_id = $1",
            )
            .bind(contract_id.as_str())
            .fetch_optional(&store.pool)
            .await?
        });
        let state = row.map(checkpoint_state).transpose()?.unwrap_or_default();
        if let Some(position) = needs_text(&state) {
            let rows: Vec<(u64, String)> = self
                .entries(contract_id, position - 1, 1)
                .await?
                .into_iter()
                .map(|stored| (stored.position.get(), stored.entry))
                .collect();
            prime_definitions(&rows)?;
        }
        Ok(state)
    }
}

/// Parses the definitions text the entries (position, text) record, so that `definitions_of`
/// finds the text a checkpoint's rows were derived with after this process started.
fn prime_definitions(rows: &[(u64, String)]) -> Result<(), StoreError> {
    for (position, text) in rows {
        let entry: Entry = serde_json::from_str(text).map_err(|error| StoreError::Corrupt {
            position: *position,
            reason: error.to_string(),
        })?;
        prime(EntryView::from(&entry))?;
    }
    Ok(())
}

/// Creates the contract's checkpoint row if it has none, and reads it locked until the
/// transaction ends (the dialect's `ROW_LOCK`).
pub(crate) async fn lock_checkpoint(
    conn: Conn<'_>,
    contract_id: &ContractId,
) -> Result<ProjectionState, StoreError> {
    let row: CheckpointRow = each_backend!(conn, Conn(conn), dialect => {
        sqlx::query(ENSURE_CHECKPOINT_SQL)
            .bind(contract_id.as_str())
            .execute(&mut *conn)
            .await?;
        sqlx::query_as(&format!(
            "SELECT position, template, template_named_at, definitions_sha256
             FROM projector_checkpoints WHERE contract_id = $1{}",
            dialect::ROW_LOCK
        ))
        .bind(contract_id.as_str())
        .fetch_one(&mut *conn)
        .await?
    });
    checkpoint_state(row)
}

/// A checkpoint row as the state it records.
fn checkpoint_state(
    (position, template, template_named_at, definitions_sha256): CheckpointRow,
) -> Result<ProjectionState, StoreError> {
    Ok(ProjectionState {
        position: db::to_u64(position)?,
        template,
        template_named_at: db::to_u64(template_named_at)?,
        definitions_sha256,
    })
}

/// The stored entries (position, text) in `(after, after + batch]`.
async fn entries_in(
    conn: Conn<'_>,
    contract_id: &ContractId,
    after: u64,
    batch: u32,
) -> Result<Vec<(u64, String)>, StoreError> {
    let rows: Vec<(i64, String)> = each_backend!(conn, Conn(conn) => {
        sqlx::query_as(ENTRIES_SQL)
            .bind(contract_id.as_str())
            .bind(db::to_i64(after)?)
            .bind(db::to_i64(after.saturating_add(u64::from(batch)))?)
            .fetch_all(conn)
            .await?
    });
    rows.into_iter()
        .map(|(position, entry)| Ok((db::position(position)?.get(), entry)))
        .collect()
}

/// Adds `delta` to the monthly rows (upserts) and inserts the facts of the parts that reach
/// back, each with the position it stops counting at; says the rows it touched as they stand
/// after it (every row per key in `delta`, its change netting to nothing included).
pub(crate) async fn write_rows(
    conn: Conn<'_>,
    contract_id: &ContractId,
    delta: &Delta,
    span_facts: &[(Fact, Option<u64>)],
) -> Result<Versions, StoreError> {
    // The columns that need a check, computed before the inserts, whose binds cannot fail.
    let mut checked = Vec::with_capacity(span_facts.len());
    for (fact, until) in span_facts {
        checked.push((
            fact.amount
                .map(|amount| cents(amount, fact.position))
                .transpose()?,
            db::to_i64(fact.position)?,
            until.map(db::to_i64).transpose()?,
        ));
    }
    let months: Vec<_> = delta
        .months
        .iter()
        .filter(|(_, change)| **change != (0, 0))
        .collect();
    // Every key the delta touched, so that the block's versions hold it.
    let keys: Vec<_> = delta.keys.iter().collect();
    let mut months_after = HashMap::new();
    let mut keys_after = HashMap::new();
    let mut distinct_after = HashMap::new();
    each_backend!(conn, Conn(conn) => {
        for chunk in months.chunks(ROWS_PER_INSERT) {
            let mut upsert = sqlx::QueryBuilder::new(UPSERT_MONTHS_SQL);
            upsert.push_values(chunk, |mut row, ((indicator, part, month), (events, cents))| {
                row.push_bind(contract_id.as_str())
                    .push_bind(indicator.as_str())
                    .push_bind(*part)
                    .push_bind(month.as_str())
                    .push_bind(*events)
                    .push_bind(*cents);
            });
            upsert.push(UPSERT_MONTHS_TAIL);
            for row in upsert.build().fetch_all(&mut *conn).await? {
                months_after.insert(
                    (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?),
                    (row.try_get(3)?, row.try_get(4)?),
                );
            }
        }
        let mut distinct = DistinctChanges::new();
        let mut emptied = Vec::new();
        for chunk in keys.chunks(KEY_ROWS_PER_INSERT) {
            let mut upsert = sqlx::QueryBuilder::new(UPSERT_KEYS_SQL);
            upsert.push_values(chunk, |mut row, ((indicator, part, year, key), change)| {
                row.push_bind(contract_id.as_str())
                    .push_bind(indicator.as_str())
                    .push_bind(*part)
                    .push_bind(*year)
                    .push_bind(key.as_str());
                for events in change.iter() {
                    row.push_bind(*events);
                }
            });
            upsert.push(UPSERT_KEYS_TAIL);
            for row in upsert.build().fetch_all(&mut *conn).await? {
                let stored: (String, i16, i32, String) = (
                    row.try_get(0)?,
                    row.try_get(1)?,
                    row.try_get(2)?,
                    row.try_get(3)?,
                );
                let mut after: MonthCounts = [0; 12];
                for (month, events) in after.iter_mut().enumerate() {
                    *events = row.try_get(4 + month)?;
                }
                let change = delta.keys.get(&stored).copied().unwrap_or_default();
                let mut before = after;
                for (events, change) in before.iter_mut().zip(change) {
                    *events -= change;
                }
                let (indicator, part, year, _) = &stored;
                distinct_changes(&mut distinct, indicator, *part, *year, &before, &after);
                if after == [0; 12] {
                    emptied.push(stored.clone());
                }
                keys_after.insert(stored, after);
            }
        }
        for (indicator, part, year, key) in &emptied {
            sqlx::query(DELETE_KEY_SQL)
                .bind(contract_id.as_str())
                .bind(indicator.as_str())
                .bind(*part)
                .bind(*year)
                .bind(key.as_str())
                .execute(&mut *conn)
                .await?;
        }
        let distinct: Vec<_> = distinct
            .iter()
            .filter(|(_, change)| **change != 0)
            .collect();
        for chunk in distinct.chunks(ROWS_PER_INSERT) {
            let mut upsert = sqlx::QueryBuilder::new(UPSERT_DISTINCT_SQL);
            upsert.push_values(chunk, |mut row, ((indicator, part, period), change)| {
                row.push_bind(contract_id.as_str())
                    .push_bind(indicator.as_str())
                    .push_bind(*part)
                    .push_bind(period.as_str())
                    .push_bind(*change);
            });
            upsert.push(UPSERT_DISTINCT_TAIL);
            for row in upsert.build().fetch_all(&mut *conn).await? {
                distinct_after.insert(
                    (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?),
                    row.try_get(3)?,
                );
            }
        }
        if distinct.iter().any(|(_, change)| **change < 0) {
            sqlx::query(PRUNE_DISTINCT_SQL)
                .bind(contract_id.as_str())
                .execute(&mut *conn)
                .await?;
        }
        let rows: Vec<_> = span_facts.iter().zip(&checked).collect();
        for chunk in rows.chunks(ROWS_PER_INSERT) {
            let mut insert = sqlx::QueryBuilder::new(INSERT_FACTS_SQL);
            insert.push_values(chunk, |mut row, ((fact, _), (amount, position, until))| {
                row.push_bind(contract_id.as_str())
                    .push_bind(fact.indicator.as_str())
                    .push_bind(fact.part.code())
                    .push_bind(*position)
                    .push_bind(*until)
                    .push_bind(fact.event_id.as_str())
                    .push_bind(fact.local_date.format("%Y-%m-%d").to_string())
                    .push_bind(fact.key.as_deref())
                    .push_bind(*amount);
            });
            insert.build().execute(&mut *conn).await?;
        }
    });
    Ok(step_versions(months_after, distinct_after, keys_after))
}

/// Writes `versions` as the rows of `block` (replacing what an earlier step in the same block
/// wrote for the same rows).
pub(crate) async fn write_versions(
    conn: Conn<'_>,
    contract_id: &ContractId,
    block: u64,
    versions: &Versions,
) -> Result<(), StoreError> {
    if versions.is_empty() {
        return Ok(());
    }
    let block = db::to_i64(block)?;
    each_backend!(conn, Conn(conn) => {
        for chunk in versions.months.chunks(ROWS_PER_INSERT) {
            let mut upsert = sqlx::QueryBuilder::new(UPSERT_MONTH_VERSIONS_SQL);
            upsert.push_values(chunk, |mut row, ((indicator, part, month), (events, cents))| {
                row.push_bind(contract_id.as_str())
                    .push_bind(indicator.as_str())
                    .push_bind(*part)
                    .push_bind(month.as_str())
                    .push_bind(block)
                    .push_bind(*events)
                    .push_bind(*cents);
            });
            upsert.push(UPSERT_MONTH_VERSIONS_TAIL);
            upsert.build().execute(&mut *conn).await?;
        }
        for chunk in versions.distinct.chunks(ROWS_PER_INSERT) {
            let mut upsert = sqlx::QueryBuilder::new(UPSERT_DISTINCT_VERSIONS_SQL);
            upsert.push_values(chunk, |mut row, ((indicator, part, period), keys)| {
                row.push_bind(contract_id.as_str())
                    .push_bind(indicator.as_str())
                    .push_bind(*part)
                    .push_bind(period.as_str())
                    .push_bind(block)
                    .push_bind(*keys);
            });
            upsert.push(UPSERT_DISTINCT_VERSIONS_TAIL);
            upsert.build().execute(&mut *conn).await?;
        }
        for chunk in versions.keys.chunks(KEY_ROWS_PER_INSERT) {
            let mut upsert = sqlx::QueryBuilder::new(UPSERT_KEY_VERSIONS_SQL);
            upsert.push_values(chunk, |mut row, ((indicator, part, year, key), counts)| {
                row.push_bind(contract_id.as_str())
                    .push_bind(block)
                    .push_bind(*year)
                    .push_bind(indicator.as_str())
                    .push_bind(*part)
                    .push_bind(key.as_str());
                for events in counts {
                    row.push_bind(*events);
                }
            });
            upsert.push(UPSERT_KEY_VERSIONS_TAIL);
            upsert.build().execute(&mut *conn).await?;
        }
    });
    Ok(())
}

/// Deletes the contract's projection rows (not its checkpoint).
pub(crate) async fn delete_rows(
    conn: Conn<'_>,
    contract_id: &ContractId,
) -> Result<(), StoreError> {
    each_backend!(conn, Conn(conn) => {
        for sql in DELETE_SQL {
            sqlx::query(sql)
                .bind(contract_id.as_str())
                .execute(&mut *conn)
                .await?;
        }
    });
    Ok(())
}

/// Saves the contract's projector checkpoint.
pub(crate) async fn save_state(
    conn: Conn<'_>,
    contract_id: &ContractId,
    state: &ProjectionState,
) -> Result<(), StoreError> {
    each_backend!(conn, Conn(conn) => {
        sqlx::query(SAVE_STATE_SQL)
            .bind(db::to_i64(state.position)?)
            .bind(state.template.as_deref())
            .bind(db::to_i64(state.template_named_at)?)
            .bind(state.definitions_sha256.as_deref())
            .bind(contract_id.as_str())
            .execute(conn)
            .await?;
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_checkpoint_row_reads_as_the_state_it_records() {
        let state = checkpoint_state((42, Some("cuneo".to_owned()), 3, Some("ab".to_owned())))
            .expect("a checkpoint of positive numbers reads");
        assert_eq!(
            state,
            ProjectionState {
                position: 42,
                template: Some("cuneo".to_owned()),
                template_named_at: 3,
                definitions_sha256: Some("ab".to_owned()),
            }
        );
    }
}
