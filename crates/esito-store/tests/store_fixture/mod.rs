//! What the store's test binaries share beyond `esito-testkit`: Cuneo's Communal Living
//! registered and the centre accesses it counts, and the log read back (its size, its entries
//! in position order, its export verified).

// Each test binary includes this module and uses a different part of it.
#![allow(dead_code)]

use esito_domain::events::{AccessChannel, AccessOutcome, NeedCategory, PeriodKind};
use esito_domain::{Command, ContractId, EventId, Submission};
use esito_store::Store;
use esito_testkit::{id, submit};

/// The registration of Cuneo's Communal Living, from 2023-07-01 to 2024-12-31, settled by
/// quarter.
pub fn registration() -> Submission {
    submit(
        "2023-07-01T09:00:00+02:00",
        Command::RegisterContract {
            title: "Communal Living".into(),
            template: "cuneo".into(),
            definitions: None,
            payer: "Comune di Cuneo".into(),
            funder: Some("CRC Innova".into()),
            operator: "Open House".into(),
            evaluator: "Valutatore".into(),
            term_start_on: "2023-07-01".parse().expect("date"),
            term_end_on: "2024-12-31".parse().expect("date"),
            period_kind: PeriodKind::Quarter,
            procurement: Default::default(),
        },
    )
}

/// A centre access in a stream of its own (`acc-{n}-` and a new UUID), as the desk records
/// them.
pub fn access(n: usize) -> Submission {
    submit(
        "2024-01-15T10:00:00+01:00",
        Command::RecordAccess {
            access_id: id(&format!("acc-{n}-{}", EventId::new_v4().simple())),
            beneficiary_id: None,
            channel: AccessChannel::InPerson,
            need: NeedCategory::ElderlyCare,
            outcome: AccessOutcome::InformationOnly,
        },
    )
}

/// The size of `contract`'s log: 0 before its first entry.
pub async fn size(store: &Store, contract: &ContractId) -> u64 {
    store
        .head(contract)
        .await
        .expect("head reads")
        .map_or(0, |head| head.size)
}

/// Every stored entry of the contract, parsed: position, event id, leaf hash, in position
/// order; each entry's own position is the one it is stored at.
pub async fn stored(store: &Store, contract: &ContractId) -> Vec<(u64, String, esito_log::Hash)> {
    let mut out = Vec::new();
    let mut after = 0;
    loop {
        let page = store
            .entries(contract, after, 1000)
            .await
            .expect("entries read");
        let Some(last) = page.last() else { return out };
        after = last.position.get();
        for stored in page {
            let entry: esito_log::Entry =
                serde_json::from_str(&stored.entry).expect("stored entries parse");
            assert_eq!(entry.position, stored.position);
            out.push((stored.position.get(), entry.event_id, stored.leaf_hash));
        }
    }
}

/// Every entry of the contract, parsed: (position, event id) in position order.
pub async fn positions_and_ids(store: &Store, contract: &ContractId) -> Vec<(u64, String)> {
    stored(store, contract)
        .await
        .into_iter()
        .map(|(position, event_id, _)| (position, event_id))
        .collect()
}

/// The contract's export, verified.
pub async fn export_verifies(store: &Store, contract: &ContractId) -> esito_log::VerifyReport {
    let mut export = Vec::new();
    store
        .export(contract, &mut export)
        .await
        .expect("export writes");
    esito_log::verify_export(export.as_slice(), |_| {}).expect("the export verifies")
}
