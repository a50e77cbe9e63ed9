//! `GET /v1/contracts/{id}/export`: the export of docs/design.md §3 streamed over HTTP, the same
//! bytes as `esito export` writes.
//!
//! Invariant: the answer is one snapshot, the tree as it stood when the request came: the head
//! is read first, entries are streamed a page at a time up to it, then the checkpoints of sizes
//! up to it. A later append is not in it, so every checkpoint it ends with covers entries it
//! holds. Memory holds one page, however long the log.

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use esito_domain::ContractId;
use esito_store::StoreError;

use crate::auth::Action;
use crate::error::ApiError;
use crate::query::{Params, Segments, POSITION_MAX};
use crate::Shared;

/// The media type of JSON Lines, one JSON value a line.
pub const JSON_LINES: &str = "application/x-ndjson";

/// The header naming how many entries the answer holds, for a client's progress bar.
pub const ENTRIES_HEADER: &str = "esito-entries";

/// Entries read and sent at a time.
const PAGE_ENTRIES: u32 = esito_store::PAGE_SIZE_MAX;

/// `GET /v1/contracts/{id}/export?after=N`: the entries after position `N` (default 0, the
/// whole log) and then the checkpoints of sizes above `N`, as JSON Lines.
pub async fn export(
    State(state): State<Shared>,
    Segments(contract): Segments<String>,
    params: Params,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let params = params.only(&["after"])?;
    let after = params.integer("after", 0..=POSITION_MAX)?.unwrap_or(0);
    let contract = state.open(&headers, &contract, Action::ExportLog).await?;
    stream(state, contract, after).await
}

/// The export of `contract` after position `after`, streamed, for a caller that has checked
/// `Action::ExportLog` (the endpoint above, and the evaluator's page).
pub(crate) async fn stream(
    state: Shared,
    contract: ContractId,
    after: u64,
) -> Result<Response, ApiError> {
    let head = state
        .store
        .head(&contract)
        .await?
        .map_or(0, |head| head.size);
    let entries = head.saturating_sub(after);
    let pages = Pages {
        state: state.clone(),
        contract,
        from: after,
        after,
        head,
        done: false,
    };
    let stream = futures_util::stream::unfold(pages, |mut pages| async move {
        if pages.done {
            return None;
        }
        match pages.next().await {
            Ok(chunk) => Some((Ok::<Bytes, StoreError>(chunk), pages)),
            Err(error) => {
                // The headers are gone: the connection is cut mid-body, so the client sees an
                // incomplete answer, never a shorter export that looks whole.
                tracing::error!(error = %error, "the export stopped");
                pages.done = true;
                Some((Err(error), pages))
            }
        }
    });
    let mut response = (StatusCode::OK, Body::from_stream(stream)).into_response();
    let answer = response.headers_mut();
    answer.insert(header::CONTENT_TYPE, HeaderValue::from_static(JSON_LINES));
    answer.insert(ENTRIES_HEADER, HeaderValue::from(entries));
    Ok(response)
}

/// Where the streamed export stands: the last position sent, up to the head read at the start.
struct Pages {
    state: Shared,
    contract: ContractId,
    /// The `after` asked for: the checkpoints above it are sent.
    from: u64,
    after: u64,
    head: u64,
    done: bool,
}

impl Pages {
    /// The next page of entry lines, or, once the entries reach the head, the checkpoint lines
    /// (and then the end).
    async fn next(&mut self) -> Result<Bytes, StoreError> {
        if self.after < self.head {
            let page = self
                .state
                .store
                .entries(&self.contract, self.after, PAGE_ENTRIES)
                .await?;
            let mut chunk = String::with_capacity(page.len() * 512);
            for entry in page.iter().take_while(|e| e.position.get() <= self.head) {
                chunk.push_str(&entry.export_line());
                chunk.push('\n');
                self.after = entry.position.get();
            }
            if !page.is_empty() {
                return Ok(Bytes::from(chunk));
            }
            // The head was read before the entries: none missing can be in flight.
            return Err(StoreError::Corrupt {
                position: self.after + 1,
                reason: format!("the head is at {} but the entry is missing", self.head),
            });
        }
        self.done = true;
        let mut chunk = String::new();
        for checkpoint in self.state.store.checkpoints(&self.contract).await? {
            if checkpoint.size > self.from && checkpoint.size <= self.head {
                let line = esito_log::ExportLine::Checkpoint(checkpoint);
                chunk.push_str(&serde_json::to_string(&line).expect("a checkpoint serializes"));
                chunk.push('\n');
            }
        }
        Ok(Bytes::from(chunk))
    }
}
