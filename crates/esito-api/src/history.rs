//! A stream's stored entries read as the domain's typed events, as the ledger replays them.
//!
//! Invariant: an entry that cannot be read is refused (500, `corrupt`), never skipped: a
//! decision made from a stream is made from all of it.

use esito_domain::{replay, Recorded, StreamId, StreamState, StreamType};
use esito_store::StoredEntry;

use crate::error::ApiError;

fn corrupt(position: u64, reason: String) -> ApiError {
    ApiError::from(esito_store::StoreError::Corrupt { position, reason })
}

/// One stored entry: the log's envelope and the typed event it records.
pub(crate) fn recorded(stored: &StoredEntry) -> Result<(esito_log::Entry, Recorded), ApiError> {
    let unreadable = |reason: String| corrupt(stored.position.get(), reason);
    let entry: esito_log::Entry =
        serde_json::from_str(&stored.entry).map_err(|e| unreadable(e.to_string()))?;
    let (_, recorded) = esito_books::recorded(&entry).map_err(|e| unreadable(e.to_string()))?;
    Ok((entry, recorded))
}

/// A stream's entries, in position order, replayed into its state (corrections applied, voids
/// left out, as `decide` sees the stream).
pub(crate) fn replayed(
    stream_type: StreamType,
    entries: &[StoredEntry],
) -> Result<StreamState, ApiError> {
    let history = entries
        .iter()
        .map(|stored| recorded(stored).map(|(_, recorded)| recorded))
        .collect::<Result<Vec<_>, _>>()?;
    replay(stream_type, &history).map_err(|error| {
        corrupt(
            entries.last().map_or(0, |stored| stored.position.get()),
            format!(
                "the {} stream does not replay: {error}",
                stream_type.as_str()
            ),
        )
    })
}

/// The provider an order's token is issued to, as the order stream replays (a corrected issue
/// names the correction's provider, a voided one none); `None` when no token is issued.
pub(crate) fn token_provider(entries: &[StoredEntry]) -> Result<Option<StreamId>, ApiError> {
    match replayed(StreamType::Order, entries)? {
        StreamState::Order(order) => Ok(order.token().map(|token| token.provider_id.clone())),
        _ => unreachable!("the order stream replays into an order"),
    }
}

#[cfg(test)]
mod tests {
    use esito_domain::events::{
        EntryVoided, IseeBand, OrderChannel, OrderPlaced, ServiceFamily, TokenIssued,
    };
    use esito_domain::{Event, EventId, Money};

    use super::*;

    fn id(text: &str) -> StreamId {
        StreamId::parse(text).expect("valid")
    }

    /// An entry of order `ord-1` at `position`, as the ledger writes it.
    fn stored(
        position: u64,
        event_id: EventId,
        corrects: Option<EventId>,
        event: Event,
    ) -> StoredEntry {
        let entry = esito_log::Entry {
            contract_id: "c-1".to_owned(),
            position,
            event_id: event_id.to_string(),
            stream_type: "order".to_owned(),
            stream_id: "ord-1".to_owned(),
            stream_seq: position,
            event_type: event.event_type().to_owned(),
            schema_version: esito_domain::SCHEMA_VERSION,
            occurred_at: "2024-01-10T10:00:00+01:00".to_owned(),
            recorded_at: "2024-01-10T09:00:00.000000Z".to_owned(),
            recorded_by: "operator".to_owned(),
            corrects: corrects.map(|id| id.to_string()),
            payload: event.payload(),
        };
        StoredEntry {
            position: esito_log::Position::new(position).expect("a test's position is positive"),
            leaf_hash: esito_log::leaf_hash(entry.canonical_json().as_bytes()),
            entry: entry.canonical_json(),
        }
    }

    fn placed() -> Event {
        Event::OrderPlaced(OrderPlaced {
            beneficiary_id: id("ben-1"),
            product_id: id("prod-1"),
            provider_id: id("prov-1"),
            service_family: ServiceFamily::Meals,
            channel: OrderChannel::Online,
            isee_band: IseeBand::A,
            price: Money::parse("6.00").expect("valid"),
        })
    }

    fn issued(provider: &str) -> Event {
        Event::TokenIssued(TokenIssued {
            token_code: "TK-1".to_owned(),
            provider_id: id(provider),
            notified_to: vec![],
            expires_on: "2024-12-31".parse().expect("date"),
        })
    }

    /// An order placed and its token issued to prov-1: the ids of the two events and entries.
    fn issued_to_prov_1() -> (EventId, Vec<StoredEntry>) {
        let issue = EventId::new_v4();
        let entries = vec![
            stored(1, EventId::new_v4(), None, placed()),
            stored(2, issue, None, issued("prov-1")),
        ];
        (issue, entries)
    }

    #[test]
    fn the_token_provider_is_the_issues_and_follows_its_corrections_and_voids() {
        let (issue, mut entries) = issued_to_prov_1();
        assert_eq!(token_provider(&entries[..1]).expect("readable"), None);
        assert_eq!(
            token_provider(&entries).expect("readable"),
            Some(id("prov-1"))
        );
        let correction = EventId::new_v4();
        entries.push(stored(3, correction, Some(issue), issued("prov-2")));
        assert_eq!(
            token_provider(&entries).expect("readable"),
            Some(id("prov-2"))
        );
        let mut voided = entries.clone();
        voided.push(stored(
            4,
            EventId::new_v4(),
            Some(correction),
            Event::EntryVoided(EntryVoided {
                reason: "issued in error".to_owned(),
            }),
        ));
        assert_eq!(token_provider(&voided).expect("readable"), None);
    }

    #[test]
    fn an_order_stream_with_an_unreadable_entry_refuses_rather_than_answers() {
        let (issue, entries) = issued_to_prov_1();
        // A correction to prov-2 that cannot be read: skipping it would answer prov-1.
        let mut unreadable = stored(3, EventId::new_v4(), Some(issue), issued("prov-2"));
        for text in [
            "not json".to_owned(),
            unreadable.entry.replace("\"provider_id\"", "\"provider\""),
            unreadable
                .entry
                .replace("\"TokenIssued\"", "\"TokenTeleported\""),
            unreadable.entry.replace(&issue.to_string(), "not-an-id"),
        ] {
            unreadable.entry = text.clone();
            let mut with_it = entries.clone();
            with_it.push(unreadable.clone());
            let error = token_provider(&with_it).expect_err("an unreadable entry refuses");
            assert_eq!(error.status.as_u16(), 500, "{text}");
        }
        // A stream that does not replay (a second issue of the same token) refuses too.
        let mut twice = entries.clone();
        twice.push(stored(3, EventId::new_v4(), None, issued("prov-2")));
        assert_eq!(
            token_provider(&twice)
                .expect_err("no replay")
                .status
                .as_u16(),
            500
        );
    }
}
