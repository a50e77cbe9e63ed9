//! Rebuilding a contract's projection on either database: the log streamed in chunks,
//! derived on worker threads, added up in position order, and written in one transaction
//! (by COPY on PostgreSQL); and values as of earlier positions, which derive a stretch of the
//! log the same way.
//!
//! Invariant: a rebuild derives every entry with the definitions of the template the log
//! ends with (`templates_up_to`), as the running projector would after its restarts.

use super::copy::{copy_key_versions, copy_rebuilt, key_versions_text};
use super::step::{delete_rows, lock_checkpoint, save_state, write_rows, write_versions};
use super::*;
use crate::backend::{each_backend, Conn};
use crate::db;
use esito_projector::SpanFacts;

/// What a rebuild writes: every row of the contract's projection, derived from the whole log.
#[derive(Debug, Default)]
pub(crate) struct Rebuilt {
    pub state: ProjectionState,
    /// The monthly rows, the rows per key and the distinct counts.
    pub rows: Running,
    /// Each block's versions, by block.
    pub versions: Vec<(u64, Versions)>,
    /// Facts of the parts that reach back, with the position they stop counting at.
    pub span_facts: SpanFacts,
}

impl Store {
    /// Rebuilds the contract's projection from position 1 in one transaction, the checkpoint
    /// row locked: the log is read and derived in chunks of one block and the rows written
    /// once (by COPY on PostgreSQL, where the rows per key's versions go out while the log is
    /// still being derived, and the transaction is open throughout). `progress` hears each
    /// position reached.
    pub async fn rebuild_projection(
        &self,
        contract_id: &ContractId,
        mut progress: impl FnMut(u64),
    ) -> Result<u64, StoreError> {
        let head = self.head(contract_id).await?.map_or(0, |head| head.size);
        let started = std::time::Instant::now();
        let state = self.templates_up_to(contract_id, head).await?;
        let definitions = definitions_of(&state)?;
        let mut rebuilt = Rebuilt {
            state: ProjectionState {
                position: head,
                ..state
            },
            ..Rebuilt::default()
        };
        let mut key_versions = 0;
        let mut write = match self {
            // SQLite has one writer: the log is derived before the write lock is taken.
            Store::Sqlite(_) => {
                let Rebuilt {
                    rows,
                    versions,
                    span_facts,
                    ..
                } = &mut rebuilt;
                self.derive_range(contract_id, definitions, 0, head, |facts, delta, last| {
                    span_facts.add(facts);
                    versions.push((block_of(last), rows.add_block(delta)));
                    progress(last);
                })
                .await?;
                let mut write = self.begin_write().await?;
                lock_checkpoint(write.conn(), contract_id).await?;
                delete_rows(write.conn(), contract_id).await?;
                write_rows(
                    write.conn(),
                    contract_id,
                    &rebuilt.rows.rows,
                    rebuilt.span_facts.all(),
                )
                .await?;
                for (block, versions) in &rebuilt.versions {
                    write_versions(write.conn(), contract_id, *block, versions).await?;
                }
                write
            }
            Store::Postgres(_) => {
                let mut write = self.begin_write().await?;
                lock_checkpoint(write.conn(), contract_id).await?;
                delete_rows(write.conn(), contract_id).await?;
                let Conn::Postgres(conn) = write.conn() else {
                    unreachable!("a PostgreSQL store's transaction is on PostgreSQL")
                };
                let (sender, receiver) = tokio::sync::mpsc::unbounded_channel();
                let each = {
                    let Rebuilt {
                        rows,
                        versions,
                        span_facts,
                        ..
                    } = &mut rebuilt;
                    let (progress, key_versions) = (&mut progress, &mut key_versions);
                    move |facts: &mut BatchFacts, delta, last| {
                        span_facts.add(facts);
                        let block = block_of(last);
                        let mut one = rows.add_block(delta);
                        let keys = std::mem::take(&mut one.keys);
                        *key_versions += keys.len();
                        // A send fails only once the COPY has failed, which is reported.
                        let _ = sender.send(key_versions_text(contract_id, block, &keys));
                        versions.push((block, one));
                        progress(last);
                    }
                };
                let derive = self.derive_range(contract_id, definitions, 0, head, each);
                let (derived, copied) =
                    tokio::join!(derive, copy_key_versions(&mut *conn, receiver));
                derived?;
                copied?;
                copy_rebuilt(conn, contract_id, &rebuilt).await?;
                write
            }
        };
        save_state(write.conn(), contract_id, &rebuilt.state).await?;
        write.commit().await?;
        tracing::info!(
            contract = %contract_id,
            entries = rebuilt.state.position,
            month_rows = rebuilt.rows.rows.months.len(),
            key_rows = rebuilt.rows.rows.keys.len(),
            versions = key_versions
                + rebuilt.versions.iter().map(|(_, one)| one.len()).sum::<usize>(),
            span_facts = rebuilt.span_facts.all().len(),
            seconds = started.elapsed().as_secs_f64(),
            "projection rebuilt"
        );
        Ok(rebuilt.state.position)
    }
}

impl Store {
    /// What the log's entries in `(after, up_to]` add to the rows: their facts, less those of
    /// the entries they supersede, derived with `definitions` (none: nothing), added up.
    pub(crate) async fn derive_suffix(
        &self,
        contract_id: &ContractId,
        definitions: Option<&'static Definitions>,
        after: u64,
        up_to: u64,
    ) -> Result<Delta, StoreError> {
        let mut total = Delta::default();
        self.derive_range(contract_id, definitions, after, up_to, |_, delta, _| {
            total.merge(delta)
        })
        .await?;
        Ok(total)
    }

    /// Derives the log's entries in `(after, up_to]` chunk by chunk, each chunk within one
    /// block: their facts, less those of the entries they supersede, with `definitions` (none:
    /// nothing). Chunks are parsed and derived on worker threads while the read streams;
    /// `each` hears, in position order, every chunk's other facts, what it adds to the rows
    /// and its last position.
    pub(crate) async fn derive_range(
        &self,
        contract_id: &ContractId,
        definitions: Option<&'static Definitions>,
        after: u64,
        up_to: u64,
        mut each: impl FnMut(&mut BatchFacts, Delta, u64),
    ) -> Result<(), StoreError> {
        use futures_util::StreamExt;
        let workers = std::thread::available_parallelism().map_or(2, |cores| cores.get());
        let chunks = futures_util::stream::unfold(
            self.entry_chunks(contract_id, after, up_to),
            |mut receiver| async move { receiver.recv().await.map(|chunk| (chunk, receiver)) },
        );
        let derived_chunks = chunks
            .map(|chunk| async move {
                let rows = chunk?;
                tokio::task::spawn_blocking(move || derive_chunk(definitions, rows))
                    .await
                    .map_err(|error| {
                        StoreError::Database(format!("a derivation worker failed: {error}"))
                    })?
            })
            .buffered(workers + 1);
        let mut derived_chunks = std::pin::pin!(derived_chunks);
        while let Some(chunk) = derived_chunks.next().await {
            let DerivedChunk {
                last_position,
                mut delta,
                mut facts,
            } = chunk?;
            if let (Some(definitions), false) = (definitions, facts.missing.is_empty()) {
                let earlier = self
                    .entries_by_event_id(contract_id, &facts.missing)
                    .await?;
                for target in &facts.missing {
                    let Some(entry) = earlier.get(target) else {
                        return Err(StoreError::Corrupt {
                            position: last_position,
                            reason: format!(
                                "an entry supersedes {target}, which is not in the log"
                            ),
                        });
                    };
                    delta.apply(&derived(definitions, entry)?.facts, -1)?;
                }
            }
            each(&mut facts, delta, last_position);
        }
        Ok(())
    }
}

impl Store {
    /// The projection state a rebuild up to `head` ends with, as far as templates go: the
    /// contract stream's entries (where templates are named) run through the rules of
    /// [`after_templates`], restarting as the projector would, so that one pass over the log
    /// derives every entry with the definitions it ends with.
    async fn templates_up_to(
        &self,
        contract_id: &ContractId,
        head: u64,
    ) -> Result<ProjectionState, StoreError> {
        let stream = esito_domain::events::contract_stream(contract_id);
        let entries = self
            .stream_entries(contract_id, &stream)
            .await?
            .iter()
            .filter(|stored| stored.position <= head)
            .map(|stored| parse_entry(stored.position.get(), &stored.entry))
            .collect::<Result<Vec<_>, _>>()?;
        let mut state = ProjectionState::default();
        loop {
            match after_templates(&state, entries.iter().map(EntryView::from))? {
                StepPlan::Advance(state) => return Ok(state),
                StepPlan::Restart(restart) => state = restart,
            }
        }
    }
}

impl Store {
    /// The log's entries in `(after, up_to]` in position order, in chunks that end at blocks'
    /// ends (or the last entry), read by a task of its own (a streamed SELECT on PostgreSQL) so
    /// that reading and deriving overlap.
    fn entry_chunks(
        &self,
        contract_id: &ContractId,
        after: u64,
        up_to: u64,
    ) -> tokio::sync::mpsc::Receiver<Result<Vec<(u64, String)>, StoreError>> {
        let (sender, receiver) = tokio::sync::mpsc::channel(4);
        let contract = contract_id.as_str().to_owned();
        each_backend!(self, Store(store) => {
            let pool = store.pool.clone();
            tokio::spawn(async move {
                // Reads until the end or a failure; a failure is sent as the last item.
                let read = async {
                    use futures_util::TryStreamExt;
                    let mut rows = sqlx::query_as::<_, (i64, String)>(
                        "SELECT position, entry FROM log_entries
                         WHERE contract_id = $1 AND position > $2 AND position <= $3
                         ORDER BY position",
                    )
                    .bind(&contract)
                    .bind(db::to_i64(after)?)
                    .bind(db::to_i64(up_to)?)
                    .fetch(&pool);
                    let mut chunk = Vec::with_capacity(esito_projector::BLOCK_ENTRIES as usize);
                    while let Some((position, entry)) = rows.try_next().await? {
                        let position = db::position(position)?.get();
                        chunk.push((position, entry));
                        if position % esito_projector::BLOCK_ENTRIES == 0
                            && sender.send(Ok(std::mem::take(&mut chunk))).await.is_err()
                        {
                            return Ok(());
                        }
                    }
                    if !chunk.is_empty() {
                        let _ = sender.send(Ok(chunk)).await;
                    }
                    Ok::<(), StoreError>(())
                };
                if let Err(error) = read.await {
                    let _ = sender.send(Err(error)).await;
                }
                });
        });
        receiver
    }
}
