//! The append on either database: the batch checked and digested once, then queued with the
//! contract's other appends (`group.rs`) and handed, as a group, to the backend, whose
//! transaction (SQLite) or three ways (PostgreSQL, ADR 0002) read, plan each batch in order
//! (`group::plan`, which calls [`ledger::plan`]) and write; and the decoders of the rows both
//! read for it.
//!
//! Invariant: the backends differ in how they read and write, never in what they decide:
//! every decision is `ledger::resolve` and `ledger::plan`, pure and the same for both.

use std::sync::Arc;

use esito_domain::{ContractId, EventId, Submission};
use esito_log::merkle::Frontier;
use esito_log::Hash;

use crate::backend::{each_backend, Conn};
use crate::group::{GroupStats, Request};
use crate::ledger::{Batch, Head, KnownEvent, NewRow, BATCH_SIZE_MAX};
use crate::log::stream_ref;
use crate::{db, AppendError, AppendOutcome, Store};

/// New entries per INSERT: 14 parameters each, under SQLite's 32,766 and PostgreSQL's 65,535.
const ENTRIES_PER_INSERT: usize = 500;

impl Store {
    /// Appends a batch of commands to one contract's log, all or nothing. `principal` is
    /// recorded as `recorded_by`. Concurrent appends to one contract are written together, in
    /// one transaction (`group.rs`); each is decided after the ones before it and answered
    /// alone, as if they had come one after the other.
    pub async fn append(
        &self,
        contract_id: &ContractId,
        principal: &str,
        submissions: &[Submission],
    ) -> Result<Vec<AppendOutcome>, AppendError> {
        if submissions.is_empty() || submissions.len() > BATCH_SIZE_MAX {
            return Err(AppendError::BatchSize {
                size: submissions.len(),
            });
        }
        let request = Arc::new(Request::new(principal, submissions));
        each_backend!(self, Store(store) => {
            let write = move |requests: Vec<Arc<Request>>| async move {
                let batches: Vec<Batch<'_>> =
                    requests.iter().map(|request| request.batch(contract_id)).collect();
                store.append(&batches).await
            };
            store.groups.submit(contract_id, request, write).await
        })
    }

    /// How this store's appends were grouped since it opened.
    pub fn group_stats(&self) -> GroupStats {
        each_backend!(self, Store(store) => store.groups.stats())
    }
}

/// Inserts the new entries inside the caller's transaction, which holds the contract's head:
/// SQLite's append and PostgreSQL's locked path (its other two ways write rows and head in
/// one conditional statement of their own).
pub(crate) async fn insert_entries(
    conn: Conn<'_>,
    contract_id: &ContractId,
    rows: &[NewRow],
) -> Result<(), AppendError> {
    each_backend!(conn, Conn(conn), dialect => {
        for chunk in rows.chunks(ENTRIES_PER_INSERT) {
            let mut query = sqlx::QueryBuilder::new(
                "INSERT INTO log_entries (contract_id, position, event_id, stream_type, stream_id,
                 stream_seq, event_type, occurred_at, recorded_at, recorded_by, corrects, entry,
                 leaf_hash, request_digest) ",
            );
            let numbers = chunk
                .iter()
                .map(|row| Ok((db::to_i64(row.position)?, db::to_i64(row.stream_seq)?)))
                .collect::<Result<Vec<_>, sqlx::Error>>()?;
            query.push_values(chunk.iter().zip(numbers), |mut values, (row, (position, stream_seq))| {
                values
                    .push_bind(contract_id.as_str())
                    .push_bind(position)
                    .push_bind(dialect::event_id(row.event_id))
                    .push_bind(row.stream_type)
                    .push_bind(row.stream_id.as_str())
                    .push_bind(stream_seq)
                    .push_bind(row.event_type)
                    .push_bind(row.occurred_at.as_str())
                    .push_bind(row.recorded_at.as_str())
                    .push_bind(row.recorded_by.as_str())
                    .push_bind(row.corrects.map(dialect::event_id))
                    .push_bind(row.entry.as_str())
                    .push_bind(row.leaf_hash.as_bytes().to_vec())
                    .push_bind(row.request_digest.to_vec());
            });
            query.build().execute(&mut *conn).await?;
        }
    });
    Ok(())
}

/// Moves the contract's head to `head` inside the caller's transaction, after its entries.
pub(crate) async fn advance_head(
    conn: Conn<'_>,
    contract_id: &ContractId,
    head: &Head,
) -> Result<(), AppendError> {
    each_backend!(conn, Conn(conn) => {
        sqlx::query("UPDATE contract_heads SET size = $1, frontier = $2 WHERE contract_id = $3")
            .bind(db::to_i64(head.size)?)
            .bind(head.frontier.to_bytes())
            .bind(contract_id.as_str())
            .execute(conn)
            .await?;
    });
    Ok(())
}

/// A stored head (size, frontier) as the head an append is decided against.
pub(crate) fn head_from_row(size: i64, frontier: &[u8]) -> Result<Head, AppendError> {
    let size = db::to_u64(size)?;
    let frontier = Frontier::from_bytes(frontier).map_err(|e| AppendError::Corrupt {
        position: size,
        reason: format!("frontier: {e}"),
    })?;
    Ok(Head { size, frontier })
}

/// A stored event found under one of the batch's ids (or an id it corrects), as
/// (event id, position, stream type, stream id, request digest, leaf hash).
pub(crate) fn known_event(
    event_id: EventId,
    position: i64,
    (stream_type, stream_id): (&str, &str),
    request_digest: Vec<u8>,
    leaf_hash: &[u8],
) -> Result<KnownEvent, AppendError> {
    let position = db::position(position)?.get();
    let corrupt = |reason: String| AppendError::Corrupt { position, reason };
    Ok(KnownEvent {
        event_id,
        position,
        stream: stream_ref(stream_type, stream_id).map_err(corrupt)?,
        request_digest,
        leaf_hash: Hash::from_slice(leaf_hash).map_err(|e| corrupt(e.to_string()))?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_head_row_reads_its_size_and_frontier() {
        let mut frontier = Frontier::default();
        frontier.push_and_report(esito_log::leaf_hash(b"a"), |_, _| {});
        let head = head_from_row(1, &frontier.to_bytes()).expect("a frontier of one leaf");
        assert_eq!(head.size, 1);
        assert_eq!(head.frontier.root(), frontier.root());
    }

    #[test]
    fn a_head_whose_frontier_does_not_parse_is_corrupt_at_its_size() {
        let error = head_from_row(4, &[0xff]).expect_err("one byte");
        assert!(matches!(error, AppendError::Corrupt { position: 4, .. }));
    }

    #[test]
    fn a_known_event_with_an_unknown_stream_type_is_corrupt_at_its_position() {
        let hash = esito_log::leaf_hash(b"a");
        let error = known_event(
            EventId::new_v4(),
            5,
            ("no-such-type", "x"),
            vec![1; 32],
            hash.as_bytes(),
        )
        .expect_err("unknown type");
        assert!(
            matches!(error, AppendError::Corrupt { position: 5, reason } if reason.contains("no-such-type"))
        );
    }
}
