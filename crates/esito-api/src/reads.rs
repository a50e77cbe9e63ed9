//! Reading: the log by position with a cursor, one event, one stream, and lists of streams.

use axum::extract::State;
use axum::http::HeaderMap;
use axum::Json;
use esito_domain::{StreamId, StreamRef, StreamType};
use esito_log::merkle::tiles::ProofNodes;
use esito_log::merkle::SubtreeHashes;
use esito_log::{Hash, Position};
use esito_store::ProofRead;
use esito_store::StoredEntry;
use serde::Serialize;
use serde_json::json;
use serde_json::value::RawValue;

use crate::auth::{Action, TokenScope};
use crate::error::{ApiError, ErrorCode};
use crate::query::{Params, Segments, POSITION_MAX};
use crate::{contract_id, history, Shared};

/// Entries per page when the client names no limit, and the most it may ask for.
pub const PAGE_SIZE_DEFAULT: u32 = 100;
pub const PAGE_SIZE_MAX: u32 = 1_000;

/// An entry as in the export: its canonical bytes embedded as they were hashed.
#[derive(Serialize)]
pub struct EntryLine {
    position: Position,
    leaf_hash: Hash,
    entry: Box<RawValue>,
}

fn line(stored: StoredEntry) -> Result<EntryLine, ApiError> {
    let entry = RawValue::from_string(stored.entry).map_err(|e| {
        ApiError::from(esito_store::StoreError::Corrupt {
            position: stored.position.get(),
            reason: e.to_string(),
        })
    })?;
    Ok(EntryLine {
        position: stored.position,
        leaf_hash: stored.leaf_hash,
        entry,
    })
}

/// `limit`: from 1 to `PAGE_SIZE_MAX`, refused beyond, `PAGE_SIZE_DEFAULT` when absent.
fn limit(params: &Params) -> Result<u32, ApiError> {
    let limit = params.integer("limit", 1..=u64::from(PAGE_SIZE_MAX))?;
    Ok(limit.map_or(PAGE_SIZE_DEFAULT, |limit| {
        u32::try_from(limit).expect("a limit is at most PAGE_SIZE_MAX")
    }))
}

/// `GET /v1/contracts/{id}/events?after=N&limit=L`: entries in position order; `next_after`
/// is the cursor for the next page, absent at the end of the log.
pub async fn events(
    State(state): State<Shared>,
    Segments(contract): Segments<String>,
    params: Params,
    headers: HeaderMap,
) -> Result<Json<serde_json::Value>, ApiError> {
    let params = params.only(&["after", "limit"])?;
    let limit = limit(&params)?;
    let after = params.integer("after", 0..=POSITION_MAX)?.unwrap_or(0);
    let contract = state.open(&headers, &contract, Action::ReadLog).await?;
    let entries = state.store.entries(&contract, after, limit).await?;
    let next_after = (entries.len() == limit as usize)
        .then(|| entries.last().map(|e| e.position))
        .flatten();
    let entries: Vec<EntryLine> = entries.into_iter().map(line).collect::<Result<_, _>>()?;
    Ok(Json(
        json!({ "entries": entries, "next_after": next_after }),
    ))
}

/// `GET /v1/contracts/{id}/events/{event_id}`.
pub async fn event(
    State(state): State<Shared>,
    Segments((contract, event_id)): Segments<(String, String)>,
    params: Params,
    headers: HeaderMap,
) -> Result<Json<EntryLine>, ApiError> {
    params.only(&[])?;
    let contract = state.open(&headers, &contract, Action::ReadLog).await?;
    let unknown = || {
        ApiError::new(
            ErrorCode::UnknownEvent,
            format!("there is no event {event_id} in {contract}"),
        )
    };
    let id = uuid::Uuid::parse_str(&event_id).map_err(|_| unknown())?;
    let stored = state
        .store
        .entry_by_event_id(&contract, id)
        .await?
        .ok_or_else(unknown)?;
    Ok(Json(line(stored)?))
}

fn stream_type(text: &str) -> Result<StreamType, ApiError> {
    StreamType::parse(text).ok_or_else(|| {
        ApiError::new(
            ErrorCode::UnknownStreamType,
            format!("there is no stream type {text}"),
        )
    })
}

/// `GET /v1/contracts/{id}/streams/{type}/{stream_id}`: every entry of one stream.
pub async fn stream(
    State(state): State<Shared>,
    Segments((contract, kind, stream_id)): Segments<(String, String, String)>,
    params: Params,
    headers: HeaderMap,
) -> Result<Json<serde_json::Value>, ApiError> {
    params.only(&[])?;
    let contract = state.open(&headers, &contract, Action::ReadLog).await?;
    let stream_type = stream_type(&kind)?;
    let unknown = || {
        ApiError::new(
            ErrorCode::UnknownEvent,
            format!("there is no {kind} {stream_id} in {contract}"),
        )
    };
    let id = StreamId::parse(&stream_id).map_err(|_| unknown())?;
    let entries = state
        .store
        .stream_entries(&contract, &StreamRef::new(stream_type, id))
        .await?;
    if entries.is_empty() {
        return Err(unknown());
    }
    let summary = summarize(&entries);
    let entries: Vec<EntryLine> = entries.into_iter().map(line).collect::<Result<_, _>>()?;
    Ok(Json(
        json!({ "stream_type": kind, "stream_id": stream_id, "summary": summary, "entries": entries }),
    ))
}

/// A stream at a glance: its last event and the fields of its payloads, later ones over
/// earlier, corrections in place of what they correct and voided events left out.
fn summarize(entries: &[StoredEntry]) -> serde_json::Value {
    let parsed: Vec<esito_log::Entry> = entries
        .iter()
        .filter_map(|e| serde_json::from_str(&e.entry).ok())
        .collect();
    let voided: std::collections::HashSet<&str> = parsed
        .iter()
        .filter(|e| e.event_type == "EntryVoided")
        .filter_map(|e| e.corrects.as_deref())
        .collect();
    let superseded: std::collections::HashSet<&str> = parsed
        .iter()
        .filter(|e| e.event_type != "EntryVoided")
        .filter_map(|e| e.corrects.as_deref())
        .collect();
    let mut fields = serde_json::Map::new();
    let mut events = Vec::new();
    for entry in &parsed {
        if entry.event_type == "EntryVoided"
            || voided.contains(entry.event_id.as_str())
            || superseded.contains(entry.event_id.as_str())
        {
            continue;
        }
        events.push(entry.event_type.clone());
        if let serde_json::Value::Object(payload) = &entry.payload {
            fields.extend(payload.clone());
        }
    }
    json!({ "events": events, "last_event": events.last(), "fields": fields })
}

/// The lists: their path segment and the stream type they list.
const LISTS: [(&str, &str); 4] = [
    ("beneficiaries", "beneficiary"),
    ("tokens", "order"),
    ("tenancies", "tenancy"),
    ("placements", "placement"),
];

/// `GET /v1/contracts/{id}/{beneficiaries|tokens|tenancies|placements}`, by id, with a cursor.
/// A provider sees only the tokens issued to it.
pub async fn list(
    State(state): State<Shared>,
    Segments((contract, list)): Segments<(String, String)>,
    params: Params,
    headers: HeaderMap,
) -> Result<Json<serde_json::Value>, ApiError> {
    let Some((_, kind)) = LISTS.iter().find(|(path, _)| *path == list) else {
        return Err(ApiError::new(
            ErrorCode::NotFound,
            format!("no such endpoint: there is no list {list}; see /openapi.json"),
        ));
    };
    let params = params.only(&["after", "limit"])?;
    let limit = limit(&params)?;
    let after = params.text("after");
    let principal = state.keys.authenticate(&state.store, &headers).await?;
    let contract = contract_id(&contract)?;
    let scope = if list == "tokens" {
        principal.check_tokens(&contract)?
    } else {
        principal.check(&contract, Action::ReadLists)?;
        TokenScope::Every
    };
    state.require_contract(&contract).await?;
    let Some(stream_type) = StreamType::parse(kind) else {
        return Ok(Json(json!({ "items": [], "next_after": null })));
    };
    let ids = state
        .store
        .stream_ids(&contract, stream_type, after, limit)
        .await?;
    let next_after = (ids.len() == limit as usize)
        .then(|| ids.last().cloned())
        .flatten();
    let mut items = Vec::new();
    for id in ids {
        let stream_id = StreamId::parse(&id).map_err(|e| {
            ApiError::from(esito_store::StoreError::Corrupt {
                position: 0,
                reason: e.to_string(),
            })
        })?;
        let entries = state
            .store
            .stream_entries(&contract, &StreamRef::new(stream_type, stream_id))
            .await?;
        if list == "tokens" {
            // An order is listed once its token is issued, to whom the scope allows: the
            // order's events read as the domain replays them, an unreadable one refusing.
            let Some(provider) = history::token_provider(&entries)? else {
                continue;
            };
            if let TokenScope::OfProvider(mine) = &scope {
                if mine.as_deref() != Some(provider.as_str()) {
                    continue;
                }
            }
        }
        let mut summary = summarize(&entries);
        // Only the fields about a person the role may see (`views::FIELDS`).
        crate::views::redact(principal.role, &mut summary);
        items.push(json!({ "id": id, "summary": summary }));
    }
    Ok(Json(json!({ "items": items, "next_after": next_after })))
}

fn tree_size_refused(field: &str, head_size: u64) -> ApiError {
    ApiError::new(
        ErrorCode::InvalidValue,
        format!("{field}: a tree size from 1 to {head_size}"),
    )
    .with_field(field)
}

async fn head_size(
    state: &crate::AppState,
    contract: &esito_domain::ContractId,
) -> Result<u64, ApiError> {
    Ok(state.store.head(contract).await?.map_or(0, |h| h.size))
}

/// A tree size asked for as `field`: the log's size when absent; never 0.
async fn tree_size(
    state: &crate::AppState,
    contract: &esito_domain::ContractId,
    size: Option<u64>,
    field: &str,
) -> Result<u64, ApiError> {
    match size {
        Some(size) if size > 0 => Ok(size),
        Some(_) => Err(tree_size_refused(field, head_size(state, contract).await?)),
        None => match head_size(state, contract).await? {
            0 => Err(tree_size_refused(field, 0)),
            size => Ok(size),
        },
    }
}

/// The head and the nodes for proofs about `points` in the tree of `size`, read in one
/// statement; a size beyond the log's is refused as `field`.
async fn proof_nodes(
    state: &crate::AppState,
    contract: &esito_domain::ContractId,
    size: u64,
    points: &[u64],
    field: &str,
) -> Result<(esito_store::ContractHead, ProofNodes), ApiError> {
    match state.store.proof_nodes(contract, size, points).await? {
        ProofRead::Ready { head, nodes } => Ok((head, nodes)),
        ProofRead::BeyondHead { head_size } => Err(tree_size_refused(field, head_size)),
    }
}

/// The tree head of the nodes' tree, checked against the head the log keeps when the tree is
/// the whole log: a stored subtree that does not belong to the log is never served as proof.
fn checked_tree_head(
    nodes: &ProofNodes,
    head: &esito_store::ContractHead,
) -> Result<esito_log::Hash, ApiError> {
    let root = nodes.tree_head();
    if head.size == nodes.tree_size() && head.root_hash != root {
        return Err(ApiError::from(esito_store::StoreError::Corrupt {
            position: head.size,
            reason: "the stored subtrees do not lead to the tree head".to_owned(),
        }));
    }
    Ok(root)
}

/// `GET /v1/contracts/{id}/proofs/inclusion?position=P&size=N`: RFC 9162 PATH for the entry
/// at position P (leaf index P - 1) in the tree of size N (default: the whole log), built from
/// stored subtrees: a few dozen hashes read at any size, with the head, in one statement.
pub async fn inclusion(
    State(state): State<Shared>,
    Segments(contract): Segments<String>,
    params: Params,
    headers: HeaderMap,
) -> Result<Json<serde_json::Value>, ApiError> {
    let params = params.only(&["position", "size"])?;
    let position = params.required_integer("position", 1..=POSITION_MAX)?;
    let size = params.integer("size", 1..=POSITION_MAX)?;
    let contract = state.open(&headers, &contract, Action::ReadProofs).await?;
    Ok(Json(inclusion_of(&state, &contract, position, size).await?))
}

/// The inclusion proof of the entry at `position` in the tree of `size` (default: the whole
/// log), as `inclusion` answers it once it has read its request.
pub(crate) async fn inclusion_of(
    state: &crate::AppState,
    contract: &esito_domain::ContractId,
    position: u64,
    size: Option<u64>,
) -> Result<serde_json::Value, ApiError> {
    let size = tree_size(state, contract, size, "size").await?;
    if position > size {
        return Err(ApiError::new(
            ErrorCode::InvalidValue,
            format!("position: from 1 to the tree size {size}"),
        )
        .with_field("position"));
    }
    let leaf_index = position - 1;
    let (head, nodes) = proof_nodes(state, contract, size, &[leaf_index, size - 1], "size").await?;
    let proof = esito_log::InclusionProof::build(leaf_index, size, &nodes)
        .map_err(|e| ApiError::new(ErrorCode::InvalidValue, e.to_string()))?;
    let root = checked_tree_head(&nodes, &head)?;
    let mut body = serde_json::to_value(&proof).expect("a proof serializes");
    body["leaf_hash"] = json!(nodes.subtree_root(leaf_index, 1).to_string());
    body["root_hash"] = json!(root.to_string());
    Ok(body)
}

/// `GET /v1/contracts/{id}/proofs/consistency?first=M&second=N`: RFC 9162 PROOF that the tree
/// of size N extends the tree of size M, built from stored subtrees.
pub async fn consistency(
    State(state): State<Shared>,
    Segments(contract): Segments<String>,
    params: Params,
    headers: HeaderMap,
) -> Result<Json<serde_json::Value>, ApiError> {
    let params = params.only(&["first", "second"])?;
    let first = params.required_integer("first", 1..=POSITION_MAX)?;
    let second = params.required_integer("second", 1..=POSITION_MAX)?;
    let contract = state.open(&headers, &contract, Action::ReadProofs).await?;
    let second = tree_size(&state, &contract, Some(second), "second").await?;
    if first > second {
        return Err(ApiError::new(
            ErrorCode::InvalidValue,
            format!("first: from 1 to second, {second}"),
        )
        .with_field("first"));
    }
    let points = [first - 1, second - 1];
    let (head, nodes) = proof_nodes(&state, &contract, second, &points, "second").await?;
    let proof = esito_log::ConsistencyProof::build(first, second, &nodes)
        .map_err(|e| ApiError::new(ErrorCode::InvalidValue, e.to_string()))?;
    let second_root = checked_tree_head(&nodes, &head)?;
    let mut body = serde_json::to_value(&proof).expect("a proof serializes");
    body["first_root"] = json!(nodes.head_at(first).to_string());
    body["second_root"] = json!(second_root.to_string());
    Ok(Json(body))
}

/// `GET /v1/checkpoint-key`: the public key that signs checkpoints (public, no key needed).
pub async fn checkpoint_key(
    State(state): State<Shared>,
    params: Params,
) -> Result<Json<serde_json::Value>, ApiError> {
    params.only(&[])?;
    let key = state.checkpoint_key.as_ref().ok_or_else(|| {
        ApiError::new(ErrorCode::Unavailable, "this service signs no checkpoints")
    })?;
    Ok(Json(
        json!({ "key_id": key.key_id(), "public_key": key.public_key() }),
    ))
}

/// `GET /v1/checkpoint-keys`: every public key that has signed checkpoints, oldest first, with
/// when it was recorded and when a rotation retired it (public, no key needed): a checkpoint
/// is checked with the key its `key_id` names.
pub async fn checkpoint_keys(
    State(state): State<Shared>,
    params: Params,
) -> Result<Json<serde_json::Value>, ApiError> {
    params.only(&[])?;
    let keys: Vec<serde_json::Value> = state
        .store
        .signing_keys()
        .await?
        .into_iter()
        .map(|key| {
            json!({ "key_id": key.key_id, "public_key": key.public_key,
                    "created_at": key.created_at, "retired_at": key.retired_at })
        })
        .collect();
    Ok(Json(json!({ "keys": keys })))
}

/// `GET /v1/contracts/{id}/checkpoints/latest`.
pub async fn latest_checkpoint(
    State(state): State<Shared>,
    Segments(contract): Segments<String>,
    params: Params,
    headers: HeaderMap,
) -> Result<Json<esito_log::Checkpoint>, ApiError> {
    params.only(&[])?;
    let contract = state.open(&headers, &contract, Action::ReadProofs).await?;
    let latest = state
        .store
        .checkpoints(&contract)
        .await?
        .into_iter()
        .max_by(|a, b| (a.size, &a.timestamp).cmp(&(b.size, &b.timestamp)));
    latest.map(Json).ok_or_else(|| {
        ApiError::new(
            ErrorCode::UnknownEvent,
            format!("{contract} has no checkpoint yet"),
        )
    })
}

/// `POST /v1/contracts/{id}/checkpoints`: the admin asks for a checkpoint now.
pub async fn make_checkpoint(
    State(state): State<Shared>,
    Segments(contract): Segments<String>,
    params: Params,
    headers: HeaderMap,
) -> Result<(axum::http::StatusCode, Json<esito_log::Checkpoint>), ApiError> {
    params.only(&[])?;
    let principal = state.keys.authenticate(&state.store, &headers).await?;
    let contract = contract_id(&contract)?;
    principal.check(&contract, Action::MakeCheckpoint)?;
    state.require_contract(&contract).await?;
    let checkpoint = state.make_checkpoint(&contract).await?.ok_or_else(|| {
        ApiError::new(ErrorCode::Unavailable, "this service signs no checkpoints")
    })?;
    Ok((axum::http::StatusCode::CREATED, Json(checkpoint)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nodes_over(leaves: &[esito_log::Hash]) -> ProofNodes {
        let mut nodes = ProofNodes::new(leaves.len() as u64);
        for (index, leaf) in leaves.iter().enumerate() {
            nodes.insert(0, index as u64, *leaf);
        }
        nodes
    }

    #[test]
    fn a_tree_head_from_nodes_that_do_not_lead_to_the_logs_head_is_refused() {
        let leaves: Vec<esito_log::Hash> = (0u8..5).map(|i| esito_log::leaf_hash(&[i])).collect();
        let head = esito_store::ContractHead {
            size: 5,
            root_hash: esito_log::root(&leaves),
        };
        let good = nodes_over(&leaves);
        assert_eq!(checked_tree_head(&good, &head).ok(), Some(head.root_hash));
        let mut forged = leaves.clone();
        forged[2] = esito_log::leaf_hash(b"forged");
        let error = checked_tree_head(&nodes_over(&forged), &head).expect_err("another tree head");
        assert_eq!(error.status.as_u16(), 500);
        // An earlier tree has no kept head to compare with.
        let earlier = nodes_over(&forged[..4]);
        assert_eq!(
            checked_tree_head(&earlier, &head).ok(),
            Some(esito_log::root(&forged[..4]))
        );
    }
}
