//! One store suite, run against SQLite and against a real PostgreSQL (`DATABASE_URL`), each
//! test on a fresh database (a new SQLite file, a new PostgreSQL schema).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use esito_domain::events::*;
use esito_domain::{Command, ContractId, DomainError, EventId, Money, Month, Submission};
use esito_store::{AppendError, Store};
use esito_testkit::{at, both_stores as store_suite, contract, id, money, pact, submit, Fresh};

mod store_fixture;
use store_fixture::{access, export_verifies, positions_and_ids, registration, size};

store_suite!(
    eight_writers_on_one_contract_get_gap_free_positions,
    eight_writers_over_four_contracts_get_gap_free_positions,
    a_retry_with_the_same_event_id_writes_one_event,
    the_same_event_id_with_other_content_is_refused,
    concurrent_retries_write_one_event,
    update_and_delete_on_the_log_fail_at_the_database,
    each_rejected_command_writes_nothing_and_names_the_rule,
    a_batch_with_one_bad_command_writes_nothing,
    a_correction_and_a_void_are_appended_to_the_stream_they_name,
    the_head_tree_matches_the_leaves_and_the_export_verifies,
    a_second_instance_never_decides_on_what_it_has_not_seen,
    an_order_for_a_suspended_providers_product_is_refused,
    running_projection_rebuild_offline_and_naive_agree_at_every_position,
    a_projector_that_fails_before_its_commit_loses_nothing_and_counts_nothing_twice,
    a_template_amended_mid_log_gives_the_same_values_running_rebuilt_and_offline,
    values_as_of_positions_in_earlier_blocks_equal_those_of_the_log_prefix,
    proofs_from_stored_subtrees_equal_proofs_from_every_leaf_up_to_600_entries,
    proofs_across_the_second_stored_level_equal_proofs_from_every_leaf,
    a_log_whose_subtrees_were_never_stored_gets_the_same_proofs_and_keeps_the_subtrees,
    every_signing_key_is_kept_and_at_most_one_is_current,
);

// ---------------------------------------------------------------------------------------------
// Fixtures

/// A contract with one provider, one product, one client, one flat and a tenancy.
fn catalogue_and_tenancy() -> Vec<Submission> {
    let tariffs: BTreeMap<IseeBand, Money> = [
        (IseeBand::A, "4.00"),
        (IseeBand::B, "6.00"),
        (IseeBand::C, "8.00"),
        (IseeBand::D, "10.00"),
    ]
    .into_iter()
    .map(|(band, price)| (band, money(price)))
    .collect();
    vec![
        registration(),
        submit(
            "2023-07-01T10:00:00+02:00",
            Command::AccreditProvider {
                provider_id: id("prov-1"),
                name: "Cucina Solidale".into(),
                service_family: ServiceFamily::Meals,
            },
        ),
        submit(
            "2023-07-01T10:05:00+02:00",
            Command::AccreditProvider {
                provider_id: id("prov-2"),
                name: "Pasti Amici".into(),
                service_family: ServiceFamily::Meals,
            },
        ),
        submit(
            "2023-07-01T10:10:00+02:00",
            Command::ListProduct {
                product_id: id("prod-1"),
                provider_id: id("prov-1"),
                name: "Pasto".into(),
                service_family: ServiceFamily::Meals,
                tariffs,
            },
        ),
        submit(
            "2023-07-02T10:00:00+02:00",
            Command::RegisterBeneficiary {
                beneficiary_id: id("ben-1"),
                isee_band: Some(IseeBand::B),
                household_size: Some(2),
                age_band: Some(AgeBand::From80),
                flags: vec![VulnerabilityFlag::FrailElderly],
            },
        ),
        submit(
            "2023-07-03T10:00:00+02:00",
            Command::PlaceOrder {
                order_id: id("ord-1"),
                beneficiary_id: id("ben-1"),
                product_id: id("prod-1"),
                channel: OrderChannel::Online,
                price: money("6.00"),
            },
        ),
        submit(
            "2023-07-03T10:01:00+02:00",
            Command::IssueToken {
                order_id: id("ord-1"),
                token_code: "TK-1".into(),
                notified_to: vec![
                    TokenRecipient::Client,
                    TokenRecipient::Centre,
                    TokenRecipient::Provider,
                ],
                expires_on: "2023-09-30".parse().expect("date"),
            },
        ),
        submit(
            "2023-07-05T12:00:00+02:00",
            Command::RecordDelivery {
                order_id: id("ord-1"),
                provider_id: id("prov-1"),
            },
        ),
        submit(
            "2023-07-01T08:00:00+02:00",
            Command::MakeUnitAvailable {
                unit_id: id("flat-1"),
                label: "Via Roma".into(),
                lent_by: "Comune".into(),
            },
        ),
        submit(
            "2023-07-04T10:00:00+02:00",
            Command::StartTenancy {
                tenancy_id: id("ten-1"),
                unit_id: id("flat-1"),
                beneficiary_id: id("ben-1"),
                pact: pact(),
            },
        ),
        submit(
            "2023-08-01T10:00:00+02:00",
            Command::ChargeRent {
                tenancy_id: id("ten-1"),
                month: Month::parse("2023-08").expect("month"),
                amount: money("250.00"),
            },
        ),
        submit(
            "2023-08-30T10:00:00+02:00",
            Command::EndTenancy {
                tenancy_id: id("ten-1"),
                reason: TenancyEndReason::MovedToPrivateMarket,
            },
        ),
    ]
}

/// An order of prod-1 for ben-1, on 10 July 2023, with its token issued to prov-1.
fn order_with_token(order_id: &str) -> Vec<Submission> {
    vec![
        submit(
            "2023-07-10T10:00:00+02:00",
            Command::PlaceOrder {
                order_id: id(order_id),
                beneficiary_id: id("ben-1"),
                product_id: id("prod-1"),
                channel: OrderChannel::Centre,
                price: money("6.00"),
            },
        ),
        submit(
            "2023-07-10T10:01:00+02:00",
            Command::IssueToken {
                order_id: id(order_id),
                token_code: format!("TK-{order_id}"),
                notified_to: vec![TokenRecipient::Client],
                expires_on: "2023-09-30".parse().expect("date"),
            },
        ),
    ]
}

const WRITERS: usize = 8;
const EVENTS_PER_WRITER: usize = 500;

/// Runs 8 writers × 500 single-event appends spread over `contracts`; returns the acknowledged ids.
async fn run_writers(store: Arc<Store>, contracts: Vec<ContractId>) -> Vec<(ContractId, String)> {
    let mut tasks = Vec::new();
    for writer in 0..WRITERS {
        let (store, contracts) = (store.clone(), contracts.clone());
        tasks.push(tokio::spawn(async move {
            let mut acknowledged = Vec::new();
            for n in 0..EVENTS_PER_WRITER {
                let contract = &contracts[(writer + n) % contracts.len()];
                let submission = access(n);
                let outcome = store
                    .append(contract, "writer", std::slice::from_ref(&submission))
                    .await
                    .expect("append");
                assert!(!outcome[0].duplicate);
                acknowledged.push((contract.clone(), submission.event_id.to_string()));
            }
            acknowledged
        }));
    }
    let mut acknowledged = Vec::new();
    for task in tasks {
        acknowledged.extend(task.await.expect("writer finishes"));
    }
    acknowledged
}

async fn check_after_writers(
    store: &Store,
    contracts: &[ContractId],
    acknowledged: &[(ContractId, String)],
) {
    for contract in contracts {
        let entries = positions_and_ids(store, contract).await;
        let positions: Vec<u64> = entries.iter().map(|(p, _)| *p).collect();
        let expected: Vec<u64> = (1..=entries.len() as u64).collect();
        assert_eq!(
            positions, expected,
            "positions of {contract} are 1..n without gaps"
        );
        let ids: Vec<&String> = entries.iter().map(|(_, id)| id).collect();
        let unique: BTreeSet<&String> = ids.iter().copied().collect();
        assert_eq!(
            unique.len(),
            ids.len(),
            "every event id of {contract} appears once"
        );
        let mine: BTreeSet<&String> = acknowledged
            .iter()
            .filter(|(c, _)| c == contract)
            .map(|(_, id)| id)
            .collect();
        assert!(
            mine.is_subset(&unique),
            "every acknowledged event of {contract} is in its log"
        );
        // The registration plus the writers' events.
        assert_eq!(entries.len(), mine.len() + 1);
        let report = export_verifies(store, contract).await;
        assert_eq!(report.size, entries.len() as u64);
    }
}

// ---------------------------------------------------------------------------------------------
// The suite

async fn eight_writers_on_one_contract_get_gap_free_positions(fresh: Fresh) {
    let store = Arc::new(fresh.store);
    let contracts = vec![contract("one-contract")];
    store
        .append(&contracts[0], "admin", &[registration()])
        .await
        .expect("registered");
    let acknowledged = run_writers(store.clone(), contracts.clone()).await;
    assert_eq!(acknowledged.len(), WRITERS * EVENTS_PER_WRITER);
    check_after_writers(&store, &contracts, &acknowledged).await;
}

async fn eight_writers_over_four_contracts_get_gap_free_positions(fresh: Fresh) {
    let store = Arc::new(fresh.store);
    let contracts: Vec<ContractId> = (1..=4)
        .map(|n| contract(&format!("contract-{n}")))
        .collect();
    for contract in &contracts {
        store
            .append(contract, "admin", &[registration()])
            .await
            .expect("registered");
    }
    let acknowledged = run_writers(store.clone(), contracts.clone()).await;
    check_after_writers(&store, &contracts, &acknowledged).await;
}

async fn a_retry_with_the_same_event_id_writes_one_event(fresh: Fresh) {
    let store = fresh.store;
    let cuneo = contract("cuneo");
    store
        .append(&cuneo, "admin", &[registration()])
        .await
        .expect("registered");
    let submission = access(1);
    let first = store
        .append(&cuneo, "operator", std::slice::from_ref(&submission))
        .await
        .expect("first");
    let again = store
        .append(&cuneo, "operator", std::slice::from_ref(&submission))
        .await
        .expect("retry");
    assert!(!first[0].duplicate);
    assert!(again[0].duplicate, "the retry is answered as a duplicate");
    assert_eq!(
        (again[0].position, again[0].leaf_hash),
        (first[0].position, first[0].leaf_hash)
    );
    assert_eq!(size(&store, &cuneo).await, 2);
    // The same id twice in one batch is one event too.
    let other = access(2);
    let batch = store
        .append(&cuneo, "operator", &[other.clone(), other])
        .await
        .expect("batch");
    assert_eq!(batch[0].position, batch[1].position);
    assert_eq!(size(&store, &cuneo).await, 3);
}

async fn the_same_event_id_with_other_content_is_refused(fresh: Fresh) {
    let store = fresh.store;
    let cuneo = contract("cuneo");
    store
        .append(&cuneo, "admin", &[registration()])
        .await
        .expect("registered");
    let submission = access(1);
    store
        .append(&cuneo, "operator", std::slice::from_ref(&submission))
        .await
        .expect("first");
    let mut altered = access(2);
    altered.event_id = submission.event_id;
    let error = store
        .append(&cuneo, "operator", &[altered])
        .await
        .expect_err("a reused id");
    assert!(
        matches!(error, AppendError::EventIdReused { event_id, .. } if event_id == submission.event_id),
        "{error}"
    );
    assert_eq!(size(&store, &cuneo).await, 2);
}

async fn concurrent_retries_write_one_event(fresh: Fresh) {
    let store = Arc::new(fresh.store);
    let cuneo = contract("cuneo");
    store
        .append(&cuneo, "admin", &[registration()])
        .await
        .expect("registered");
    let submission = access(1);
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let (store, cuneo, submission) = (store.clone(), cuneo.clone(), submission.clone());
            tokio::spawn(async move {
                store
                    .append(&cuneo, "operator", &[submission])
                    .await
                    .expect("append")[0]
                    .clone()
            })
        })
        .collect();
    let mut outcomes = Vec::new();
    for task in tasks {
        outcomes.push(task.await.expect("task"));
    }
    assert_eq!(
        outcomes.iter().filter(|o| !o.duplicate).count(),
        1,
        "exactly one write"
    );
    assert!(outcomes
        .iter()
        .all(|o| o.position == 2 && o.leaf_hash == outcomes[0].leaf_hash));
    assert_eq!(size(&store, &cuneo).await, 2);
}

async fn update_and_delete_on_the_log_fail_at_the_database(fresh: Fresh) {
    let store = fresh.store;
    let cuneo = contract("cuneo");
    store
        .append(&cuneo, "admin", &[registration(), access(1)])
        .await
        .expect("appended");
    // 300 entries: their stored subtree roots are as immutable as the log.
    append_accesses(&store, &cuneo, 298, &[100]).await;
    let before = positions_and_ids(&store, &cuneo).await;
    let statements = [
        "UPDATE log_entries SET recorded_by = 'mallory'",
        "DELETE FROM log_entries WHERE position = 2",
        "UPDATE log_subtrees SET idx = 7",
        "DELETE FROM log_subtrees",
    ];
    for statement in statements {
        let error = if fresh.url.starts_with("sqlite:") {
            let pool = sqlx::SqlitePool::connect(&fresh.url)
                .await
                .expect("SQLite opens");
            sqlx::query(statement)
                .execute(&pool)
                .await
                .expect_err("refused")
        } else {
            let pool = sqlx::PgPool::connect(&fresh.url)
                .await
                .expect("PostgreSQL opens");
            for table in ["log_entries", "log_subtrees"] {
                let truncate = sqlx::query(&format!("TRUNCATE {table}"))
                    .execute(&pool)
                    .await
                    .expect_err("refused");
                assert!(truncate.to_string().contains("append-only"), "{truncate}");
            }
            sqlx::query(statement)
                .execute(&pool)
                .await
                .expect_err("refused")
        };
        assert!(
            error.to_string().contains("append-only"),
            "{statement}: {error}"
        );
    }
    assert_eq!(positions_and_ids(&store, &cuneo).await, before);
}

async fn each_rejected_command_writes_nothing_and_names_the_rule(fresh: Fresh) {
    let store = fresh.store;
    let cuneo = contract("cuneo");
    store
        .append(&cuneo, "operator", &catalogue_and_tenancy())
        .await
        .expect("the fixture is valid");
    let before = size(&store, &cuneo).await;
    let cases: Vec<(Submission, &str)> = vec![
        (
            submit(
                "2023-07-06T12:00:00+02:00",
                Command::RecordDelivery {
                    order_id: id("ord-1"),
                    provider_id: id("prov-1"),
                },
            ),
            "token_already_redeemed",
        ),
        (
            submit(
                "2023-07-06T12:00:00+02:00",
                Command::RecordDelivery {
                    order_id: id("ord-1"),
                    provider_id: id("prov-2"),
                },
            ),
            "token_already_redeemed",
        ),
        (
            submit(
                "2023-09-02T10:00:00+02:00",
                Command::RecordRentPayment {
                    tenancy_id: id("ten-1"),
                    month: Month::parse("2023-08").expect("month"),
                    amount: money("250.00"),
                },
            ),
            "tenancy_ended",
        ),
        (
            submit(
                "2025-01-01T10:00:00+01:00",
                Command::RecordDelivery {
                    order_id: id("ord-1"),
                    provider_id: id("prov-1"),
                },
            ),
            "date_outside_contract_term",
        ),
        (
            submit("2023-06-30T10:00:00+02:00", access(9).command),
            "date_outside_contract_term",
        ),
    ];
    for (submission, code) in cases {
        let error = store
            .append(&cuneo, "operator", &[submission])
            .await
            .expect_err(code);
        match error {
            AppendError::Rejected { error, .. } => assert_eq!(error.code(), code, "{error}"),
            other => panic!("expected {code}, got {other}"),
        }
        assert_eq!(size(&store, &cuneo).await, before, "{code} wrote nothing");
    }

    // A second order whose token is issued to prov-1, delivered by prov-2.
    let second = order_with_token("ord-2");
    store
        .append(&cuneo, "operator", &second)
        .await
        .expect("order 2");
    let before = size(&store, &cuneo).await;
    let by_another = submit(
        "2023-07-12T12:00:00+02:00",
        Command::RecordDelivery {
            order_id: id("ord-2"),
            provider_id: id("prov-2"),
        },
    );
    let error = store
        .append(&cuneo, "provider", &[by_another])
        .await
        .expect_err("another provider");
    assert!(
        matches!(
            error,
            AppendError::Rejected {
                error: DomainError::TokenDeliveredByAnotherProvider { .. },
                ..
            }
        ),
        "{error}"
    );
    assert_eq!(size(&store, &cuneo).await, before);

    // Amounts negative or with three decimals never become a command.
    for amount in ["-250.00", "250.005"] {
        let body = serde_json::json!({
            "event_id": EventId::new_v4(),
            "occurred_at": "2023-08-02T10:00:00+02:00",
            "command": {"type": "ChargeRent", "tenancy_id": "ten-1", "month": "2023-09", "amount": amount}
        });
        let error = serde_json::from_value::<Submission>(body).expect_err(amount);
        assert!(error.to_string().contains("amount"), "{error}");
    }
    assert_eq!(size(&store, &cuneo).await, before);
}

async fn a_batch_with_one_bad_command_writes_nothing(fresh: Fresh) {
    let store = fresh.store;
    let cuneo = contract("cuneo");
    let mut batch = catalogue_and_tenancy();
    let bad_index = batch.len();
    batch.push(submit(
        "2023-09-01T10:00:00+02:00",
        Command::ChargeRent {
            tenancy_id: id("ten-1"),
            month: Month::parse("2023-09").expect("month"),
            amount: money("250.00"),
        },
    ));
    let error = store
        .append(&cuneo, "operator", &batch)
        .await
        .expect_err("the tenancy has ended");
    assert!(
        matches!(error, AppendError::Rejected { index, error: DomainError::TenancyEnded { .. } } if index == bad_index),
        "{error}"
    );
    assert_eq!(size(&store, &cuneo).await, 0);
    assert!(store.entries(&cuneo, 0, 10).await.expect("read").is_empty());
}

async fn a_correction_and_a_void_are_appended_to_the_stream_they_name(fresh: Fresh) {
    let store = fresh.store;
    let cuneo = contract("cuneo");
    let fixture = catalogue_and_tenancy();
    let delivery_id = fixture[7].event_id;
    store
        .append(&cuneo, "operator", &fixture)
        .await
        .expect("fixture");
    let void = submit(
        "2023-07-06T09:00:00+02:00",
        Command::VoidEvent {
            voids: delivery_id,
            reason: "recorded on the wrong order".into(),
        },
    );
    store
        .append(&cuneo, "operator", std::slice::from_ref(&void))
        .await
        .expect("void");
    // The token is redeemable again once its redemption is voided.
    let redelivery = submit(
        "2023-07-07T12:00:00+02:00",
        Command::RecordDelivery {
            order_id: id("ord-1"),
            provider_id: id("prov-1"),
        },
    );
    store
        .append(&cuneo, "provider", &[redelivery])
        .await
        .expect("redeemed again");
    let last = store
        .entries(&cuneo, size(&store, &cuneo).await - 2, 2)
        .await
        .expect("read");
    let void_entry: esito_log::Entry = serde_json::from_str(&last[0].entry).expect("entry");
    assert_eq!(void_entry.event_type, "EntryVoided");
    assert_eq!(
        (
            void_entry.stream_type.as_str(),
            void_entry.stream_id.as_str()
        ),
        ("order", "ord-1")
    );
    assert_eq!(
        void_entry.corrects.as_deref(),
        Some(delivery_id.to_string().as_str())
    );
    // Naming an unknown event is refused.
    let unknown = submit(
        "2023-07-06T09:00:00+02:00",
        Command::VoidEvent {
            voids: EventId::new_v4(),
            reason: "?".into(),
        },
    );
    let error = store
        .append(&cuneo, "operator", &[unknown])
        .await
        .expect_err("unknown");
    assert!(
        matches!(
            error,
            AppendError::Rejected {
                error: DomainError::CorrectedEventNotFound { .. },
                ..
            }
        ),
        "{error}"
    );
}

async fn the_head_tree_matches_the_leaves_and_the_export_verifies(fresh: Fresh) {
    let store = fresh.store;
    let cuneo = contract("cuneo");
    store
        .append(&cuneo, "operator", &catalogue_and_tenancy())
        .await
        .expect("fixture");
    for n in 0..30 {
        store
            .append(&cuneo, "operator", &[access(n)])
            .await
            .expect("append");
    }
    let entries = store.entries(&cuneo, 0, 1000).await.expect("read");
    let leaves: Vec<esito_log::Hash> = entries
        .iter()
        .map(|stored| {
            let entry: esito_log::Entry = serde_json::from_str(&stored.entry).expect("entry");
            assert_eq!(
                entry.canonical_json(),
                stored.entry,
                "the stored bytes are canonical"
            );
            assert_eq!(
                esito_log::leaf_hash(stored.entry.as_bytes()),
                stored.leaf_hash
            );
            stored.leaf_hash
        })
        .collect();
    let head = store.head(&cuneo).await.expect("head").expect("a head");
    assert_eq!(head.size, leaves.len() as u64);
    assert_eq!(head.root_hash, esito_log::root(&leaves));
    let report = export_verifies(&store, &cuneo).await;
    assert_eq!(report.root, head.root_hash);
}

async fn a_second_instance_never_decides_on_what_it_has_not_seen(fresh: Fresh) {
    let first = fresh.store;
    let cuneo = contract("cuneo");
    first
        .append(&cuneo, "operator", &catalogue_and_tenancy())
        .await
        .expect("fixture");
    let second = Store::connect(&fresh.url).await.expect("a second instance");

    // The second instance redeems a token the first has seen issued and not yet redeemed.
    let order = order_with_token("ord-2");
    first
        .append(&cuneo, "operator", &order)
        .await
        .expect("order 2");
    let delivery = || {
        submit(
            "2023-07-12T12:00:00+02:00",
            Command::RecordDelivery {
                order_id: id("ord-2"),
                provider_id: id("prov-1"),
            },
        )
    };
    second
        .append(&cuneo, "provider", &[delivery()])
        .await
        .expect("redeemed by the second instance");
    let before = size(&first, &cuneo).await;
    let error = first
        .append(&cuneo, "provider", &[delivery()])
        .await
        .expect_err("already redeemed elsewhere");
    assert!(
        matches!(
            error,
            AppendError::Rejected {
                error: DomainError::TokenAlreadyRedeemed { .. },
                ..
            }
        ),
        "{error}"
    );
    assert_eq!(size(&first, &cuneo).await, before);

    // A third instance, which has seen none of the streams, registers nothing twice...
    let third = Store::connect(&fresh.url).await.expect("a third instance");
    third
        .append(&cuneo, "operator", &[access(1)])
        .await
        .expect("an unrelated append");
    let again = submit(
        "2023-07-20T10:00:00+02:00",
        Command::RegisterBeneficiary {
            beneficiary_id: id("ben-1"),
            isee_band: Some(IseeBand::A),
            household_size: Some(1),
            age_band: Some(AgeBand::From18To34),
            flags: vec![],
        },
    );
    let error = third
        .append(&cuneo, "operator", &[again])
        .await
        .expect_err("already registered");
    assert!(
        matches!(
            error,
            AppendError::Rejected {
                error: DomainError::BeneficiaryAlreadyRegistered { .. },
                ..
            }
        ),
        "{error}"
    );
    // ...and refuses nothing because of streams it has not read.
    let order = submit(
        "2023-07-21T10:00:00+02:00",
        Command::PlaceOrder {
            order_id: id("ord-3"),
            beneficiary_id: id("ben-1"),
            product_id: id("prod-1"),
            channel: OrderChannel::Online,
            price: money("6.00"),
        },
    );
    third
        .append(&cuneo, "operator", &[order])
        .await
        .expect("the beneficiary and product exist");
    export_verifies(&third, &cuneo).await;
}

async fn an_order_for_a_suspended_providers_product_is_refused(fresh: Fresh) {
    let store = fresh.store;
    let cuneo = contract("cuneo");
    store
        .append(&cuneo, "operator", &catalogue_and_tenancy())
        .await
        .expect("fixture");
    let suspension = submit(
        "2023-07-15T10:00:00+02:00",
        Command::SuspendProvider {
            provider_id: id("prov-1"),
            reason: "accreditation lapsed".into(),
        },
    );
    store
        .append(&cuneo, "operator", &[suspension])
        .await
        .expect("suspended");
    let order = |n: &str| {
        submit(
            "2023-07-16T10:00:00+02:00",
            Command::PlaceOrder {
                order_id: id(n),
                beneficiary_id: id("ben-1"),
                product_id: id("prod-1"),
                channel: OrderChannel::Online,
                price: money("6.00"),
            },
        )
    };
    let before = size(&store, &cuneo).await;
    for instance in [
        &store,
        &Store::connect(&fresh.url).await.expect("a second instance"),
    ] {
        let error = instance
            .append(&cuneo, "operator", &[order("ord-9")])
            .await
            .expect_err("suspended");
        assert!(
            matches!(&error, AppendError::Rejected { error, .. } if error.code() == "provider_suspended"),
            "{error}"
        );
    }
    assert_eq!(size(&store, &cuneo).await, before);
    let reinstated = submit(
        "2023-07-17T10:00:00+02:00",
        Command::ReinstateProvider {
            provider_id: id("prov-1"),
        },
    );
    store
        .append(&cuneo, "operator", &[reinstated])
        .await
        .expect("reinstated");
    let mut again = order("ord-9");
    again.occurred_at = at("2023-07-18T10:00:00+02:00");
    store
        .append(&cuneo, "operator", &[again])
        .await
        .expect("ordered once reinstated");
}

// ---------------------------------------------------------------------------------------------
// The indicators' projection

/// One step of a random history; indices pick among what exists when the step runs, and a
/// step the domain refuses writes nothing and is skipped.
#[derive(Debug, Clone)]
enum Step {
    Access {
        who: Option<u8>,
        day: u16,
        need: u8,
    },
    Order {
        who: u8,
        day: u16,
        online: bool,
    },
    Issue {
        order: u8,
        day: u16,
    },
    Deliver {
        order: u8,
        day: u16,
    },
    Tenancy {
        unit: u8,
        day: u16,
    },
    Milestone {
        tenancy: u8,
        day: u16,
    },
    EndTenancy {
        tenancy: u8,
        day: u16,
    },
    CorrectAccess {
        access: u8,
        who: Option<u8>,
        day: u16,
    },
    Void {
        entry: u8,
        day: u16,
    },
}

fn step_strategy() -> impl proptest::strategy::Strategy<Value = Step> {
    use proptest::prelude::*;
    // Days from 1 July 2023: the year the periods below cover, in any order, so that events
    // arrive late for periods already reported.
    let day = 0u16..400;
    prop_oneof![
        3 => (proptest::option::of(0u8..4), day.clone(), 0u8..3).prop_map(|(who, day, need)| Step::Access { who, day, need }),
        3 => (0u8..4, day.clone(), any::<bool>()).prop_map(|(who, day, online)| Step::Order { who, day, online }),
        2 => (any::<u8>(), day.clone()).prop_map(|(order, day)| Step::Issue { order, day }),
        2 => (any::<u8>(), day.clone()).prop_map(|(order, day)| Step::Deliver { order, day }),
        1 => (0u8..2, day.clone()).prop_map(|(unit, day)| Step::Tenancy { unit, day }),
        1 => (any::<u8>(), day.clone()).prop_map(|(tenancy, day)| Step::Milestone { tenancy, day }),
        1 => (any::<u8>(), day.clone()).prop_map(|(tenancy, day)| Step::EndTenancy { tenancy, day }),
        2 => (any::<u8>(), proptest::option::of(0u8..4), day.clone()).prop_map(|(access, who, day)| Step::CorrectAccess { access, who, day }),
        2 => (any::<u8>(), day).prop_map(|(entry, day)| Step::Void { entry, day }),
    ]
}

fn on_day(day: u16) -> String {
    let date = chrono::NaiveDate::from_ymd_opt(2023, 7, 1).expect("date")
        + chrono::Duration::days(i64::from(day));
    format!("{date}T11:00:00+02:00")
}

/// A fixture with four beneficiaries (bands a to d), a provider, a product and two flats.
fn projection_fixture() -> Vec<Submission> {
    let mut fixture = catalogue_and_tenancy();
    // Keep the registration, the catalogue and the first beneficiary; drop the tenancy and
    // ben-1's order so the random steps make them.
    fixture.truncate(5);
    for (n, band) in [(2, IseeBand::A), (3, IseeBand::C), (4, IseeBand::D)] {
        fixture.push(submit(
            "2023-07-02T10:00:00+02:00",
            Command::RegisterBeneficiary {
                beneficiary_id: id(&format!("ben-{n}")),
                isee_band: Some(band),
                household_size: Some(1),
                age_band: Some(AgeBand::From80),
                flags: vec![],
            },
        ));
    }
    for unit in ["flat-1", "flat-2"] {
        fixture.push(submit(
            "2023-07-01T08:00:00+02:00",
            Command::MakeUnitAvailable {
                unit_id: id(unit),
                label: unit.into(),
                lent_by: "Comune".into(),
            },
        ));
    }
    fixture
}

const TARIFFS: [&str; 4] = ["6.00", "4.00", "8.00", "10.00"];

/// What the random history has made so far, to aim the next step.
#[derive(Default)]
struct Made {
    orders: Vec<String>,
    tenancies: Vec<String>,
    accesses: Vec<(String, EventId)>,
    voidable: Vec<EventId>,
}

fn command_for(step: &Step, made: &Made, n: usize) -> Option<(Submission, Option<&'static str>)> {
    let pick = |items: usize, index: u8| (items > 0).then(|| usize::from(index) % items);
    let who = |k: u8| id(&format!("ben-{}", k + 1));
    let (day, command, made_kind) = match step {
        Step::Access {
            who: person,
            day,
            need,
        } => (
            *day,
            Command::RecordAccess {
                access_id: id(&format!("acc-{n}")),
                beneficiary_id: person.map(who),
                channel: AccessChannel::InPerson,
                need: [
                    NeedCategory::ElderlyCare,
                    NeedCategory::HomeManagement,
                    NeedCategory::Housing,
                ][usize::from(*need)],
                outcome: AccessOutcome::InformationOnly,
            },
            Some("access"),
        ),
        Step::Order {
            who: person,
            day,
            online,
        } => (
            *day,
            Command::PlaceOrder {
                order_id: id(&format!("ord-{n}")),
                beneficiary_id: who(*person),
                product_id: id("prod-1"),
                channel: if *online {
                    OrderChannel::Online
                } else {
                    OrderChannel::Centre
                },
                price: money(TARIFFS[usize::from(*person)]),
            },
            Some("order"),
        ),
        Step::Issue { order, day } => (
            *day,
            Command::IssueToken {
                order_id: id(&made.orders[pick(made.orders.len(), *order)?]),
                token_code: format!("TK-{n}"),
                notified_to: vec![TokenRecipient::Client],
                expires_on: "2025-06-30".parse().expect("date"),
            },
            None,
        ),
        Step::Deliver { order, day } => (
            *day,
            Command::RecordDelivery {
                order_id: id(&made.orders[pick(made.orders.len(), *order)?]),
                provider_id: id("prov-1"),
            },
            None,
        ),
        Step::Tenancy { unit, day } => (
            *day,
            Command::StartTenancy {
                tenancy_id: id(&format!("ten-{n}")),
                unit_id: id(&format!("flat-{}", unit + 1)),
                beneficiary_id: who(*unit),
                pact: pact(),
            },
            Some("tenancy"),
        ),
        Step::Milestone { tenancy, day } => (
            *day,
            Command::RecordTenantMilestone {
                tenancy_id: id(&made.tenancies[pick(made.tenancies.len(), *tenancy)?]),
                milestone: TenantMilestone::JobFound,
            },
            None,
        ),
        Step::EndTenancy { tenancy, day } => (
            *day,
            Command::EndTenancy {
                tenancy_id: id(&made.tenancies[pick(made.tenancies.len(), *tenancy)?]),
                reason: TenancyEndReason::MovedToPrivateMarket,
            },
            None,
        ),
        Step::CorrectAccess {
            access,
            who: person,
            day,
        } => {
            let (_, event_id) = &made.accesses[pick(made.accesses.len(), *access)?];
            (
                *day,
                Command::CorrectEvent {
                    corrects: *event_id,
                    replacement: Event::AccessRecorded(AccessRecorded {
                        beneficiary_id: person.map(who),
                        channel: AccessChannel::Phone,
                        need: NeedCategory::Other,
                        outcome: AccessOutcome::InformationOnly,
                    }),
                },
                Some("correction"),
            )
        }
        Step::Void { entry, day } => (
            *day,
            Command::VoidEvent {
                voids: made.voidable[pick(made.voidable.len(), *entry)?],
                reason: "recorded by mistake".into(),
            },
            None,
        ),
    };
    Some((submit(&on_day(day), command), made_kind))
}

const PERIODS: [&str; 6] = [
    "2023-Q3", "2023-Q4", "2024-Q1", "2024-Q2", "2023", "2024-03",
];

/// The indicators as of `as_of`, computed the naive way: apply corrections and voids to the
/// entries up to `as_of`, then derive and evaluate the survivors as if they had always been so.
fn naive_report(
    definitions: &esito_indicators::Definitions,
    entries: &[esito_log::Entry],
    period: esito_indicators::Period,
    as_of: u64,
) -> esito_indicators::IndicatorReport {
    let mut effective: Vec<Option<&esito_log::Entry>> = Vec::new();
    let mut slot: BTreeMap<&str, usize> = BTreeMap::new();
    for entry in entries.iter().take_while(|entry| entry.position <= as_of) {
        match entry.corrects.as_deref() {
            None => {
                slot.insert(&entry.event_id, effective.len());
                effective.push(Some(entry));
            }
            Some(target) => {
                let at = slot[target];
                if entry.event_type == "EntryVoided" {
                    effective[at] = None;
                } else {
                    effective[at] = Some(entry);
                    slot.insert(&entry.event_id, at);
                }
            }
        }
    }
    let facts: Vec<esito_indicators::Fact> = effective
        .into_iter()
        .flatten()
        .flat_map(|entry| {
            esito_indicators::derive(definitions, entry.into())
                .expect("entries derive")
                .facts
        })
        .collect();
    esito_indicators::report::build(definitions, "projection", as_of, period, |indicator| {
        esito_indicators::Inputs::from_facts(
            period,
            facts.iter().filter(|fact| fact.indicator == indicator.id),
        )
    })
}

async fn all_entries(store: &Store, contract: &ContractId) -> Vec<esito_log::Entry> {
    store
        .entries(contract, 0, 10_000)
        .await
        .expect("read")
        .iter()
        .map(|stored| serde_json::from_str(&stored.entry).expect("entry"))
        .collect()
}

async fn running_projection_rebuild_offline_and_naive_agree_at_every_position(fresh: Fresh) {
    use proptest::strategy::{Strategy, ValueTree};
    let store = fresh.store;
    let definitions = esito_indicators::templates::embedded("cuneo")
        .expect("cuneo is embedded")
        .expect("cuneo parses");
    let periods: Vec<esito_indicators::Period> = PERIODS
        .iter()
        .map(|text| text.parse().expect("period"))
        .collect();
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let history = proptest::collection::vec(step_strategy(), 20..45);
    let (mut corrections, mut voids) = (0, 0);
    for case in 0..4 {
        let steps = history.new_tree(&mut runner).expect("a history").current();
        let cuneo = contract(&format!("projection-{case}"));
        store
            .append(&cuneo, "operator", &projection_fixture())
            .await
            .expect("fixture");
        let mut made = Made::default();
        // Values as of each head as the history grows: later events must never change them.
        let mut seen: Vec<(
            u64,
            esito_indicators::Period,
            esito_indicators::IndicatorReport,
        )> = Vec::new();
        for (n, step) in steps.iter().enumerate() {
            let Some((submission, kind)) = command_for(step, &made, n) else {
                continue;
            };
            let Ok(outcomes) = store
                .append(&cuneo, "operator", std::slice::from_ref(&submission))
                .await
            else {
                continue;
            };
            let event_id = outcomes[0].event_id;
            match (kind, &submission.command) {
                (Some("order"), Command::PlaceOrder { order_id, .. }) => {
                    made.orders.push(order_id.as_str().to_owned())
                }
                (Some("tenancy"), Command::StartTenancy { tenancy_id, .. }) => {
                    made.tenancies.push(tenancy_id.as_str().to_owned())
                }
                (Some("access"), Command::RecordAccess { access_id, .. }) => made
                    .accesses
                    .push((access_id.as_str().to_owned(), event_id)),
                (Some("correction"), Command::CorrectEvent { corrects, .. }) => {
                    for access in &mut made.accesses {
                        if access.1 == *corrects {
                            access.1 = event_id;
                        }
                    }
                }
                _ => {}
            }
            if !matches!(
                submission.command,
                Command::VoidEvent { .. } | Command::CorrectEvent { .. }
            ) {
                made.voidable.push(event_id);
            }
            // The running projection, in small steps so transactions end mid-history.
            store
                .project_step_with(&cuneo, 3, esito_store::projection::Fault::None)
                .await
                .expect("a step");
            let head = size(&store, &cuneo).await;
            let period = periods[n % periods.len()];
            let report = store
                .indicators(&cuneo, period, None)
                .await
                .expect("indicators");
            assert_eq!(report.as_of, head);
            seen.push((head, period, report));
            // The periods read together (the dashboard's one snapshot) equal each read alone.
            let together = store
                .indicators_of_periods(&cuneo, &periods, None)
                .await
                .expect("the periods' indicators");
            assert_eq!(together.len(), periods.len());
            for (period, report) in periods.iter().zip(&together) {
                let alone = store
                    .indicators(&cuneo, *period, None)
                    .await
                    .expect("indicators");
                assert_eq!(
                    report, &alone,
                    "case {case}: {period} read with the others and alone differ at {head}"
                );
            }
        }
        let entries = all_entries(&store, &cuneo).await;
        let head = entries.len() as u64;
        corrections += entries
            .iter()
            .filter(|entry| entry.corrects.is_some() && entry.event_type != "EntryVoided")
            .count();
        voids += entries
            .iter()
            .filter(|entry| entry.event_type == "EntryVoided")
            .count();
        for (as_of, period, earlier) in &seen {
            let later = store
                .indicators(&cuneo, *period, Some(*as_of))
                .await
                .expect("indicators");
            assert_eq!(
                &later, earlier,
                "case {case}: as of {as_of}, {period} changed as events arrived"
            );
        }
        // The running projection against the naive computation and the offline one.
        let mut running = Vec::new();
        for as_of in 0..=head {
            for period in &periods {
                let report = store
                    .indicators(&cuneo, *period, Some(as_of))
                    .await
                    .expect("indicators");
                let mut naive = naive_report(&definitions, &entries, *period, as_of);
                naive.contract_id = cuneo.as_str().to_owned();
                assert_eq!(
                    report, naive,
                    "case {case}: running and naive differ as of {as_of} for {period}"
                );
                let offline = esito_indicators::offline::indicators(
                    &definitions,
                    entries
                        .iter()
                        .cloned()
                        .map(Ok::<_, std::convert::Infallible>),
                    *period,
                    Some(as_of),
                )
                .expect("infallible");
                if as_of > 0 {
                    assert_eq!(
                        Ok(report.clone()),
                        offline.map_err(|e| e.to_string()),
                        "case {case}: running and offline differ as of {as_of} for {period}"
                    );
                }
                running.push(report);
            }
        }
        // A full rebuild gives the same values at every position.
        store.reset_projection(&cuneo).await.expect("reset");
        assert_eq!(
            store
                .projection_state(&cuneo)
                .await
                .expect("state")
                .position,
            0
        );
        let mut rebuilt = Vec::new();
        for as_of in 0..=head {
            for period in &periods {
                rebuilt.push(
                    store
                        .indicators(&cuneo, *period, Some(as_of))
                        .await
                        .expect("indicators"),
                );
            }
        }
        assert_eq!(running, rebuilt, "case {case}: running and rebuilt differ");
        // The one-transaction rebuild gives them too.
        store
            .rebuild_projection(&cuneo, |_| {})
            .await
            .expect("rebuild");
        let mut rebuilt_at_once = Vec::new();
        for as_of in 0..=head {
            for period in &periods {
                rebuilt_at_once.push(
                    store
                        .indicators(&cuneo, *period, Some(as_of))
                        .await
                        .expect("indicators"),
                );
            }
        }
        assert_eq!(
            running, rebuilt_at_once,
            "case {case}: running and rebuilt at once differ"
        );
    }
    assert!(
        corrections > 0 && voids > 0,
        "the histories held {corrections} corrections and {voids} voids"
    );
}

async fn a_projector_that_fails_before_its_commit_loses_nothing_and_counts_nothing_twice(
    fresh: Fresh,
) {
    let store = fresh.store;
    let cuneo = contract("cuneo");
    store
        .append(&cuneo, "operator", &catalogue_and_tenancy())
        .await
        .expect("fixture");
    for n in 0..5 {
        store
            .append(&cuneo, "operator", &order_with_token(&format!("ord-f{n}")))
            .await
            .expect("orders");
    }
    let head = size(&store, &cuneo).await;
    let period: esito_indicators::Period = "2023-Q3".parse().expect("period");
    // Five positions projected, then a step that fails after writing its facts.
    store
        .project_step_with(&cuneo, 5, esito_store::projection::Fault::None)
        .await
        .expect("a step");
    let failed = store
        .project_step_with(&cuneo, 7, esito_store::projection::Fault::BeforeCommit)
        .await;
    assert!(failed.is_err(), "the injected failure surfaces");
    assert_eq!(
        store
            .projection_state(&cuneo)
            .await
            .expect("state")
            .position,
        5,
        "the failed step left the checkpoint"
    );
    // The restart projects the rest: 6 orders (ord-1 and five more), each counted once.
    let report = store
        .indicators(&cuneo, period, None)
        .await
        .expect("indicators");
    let orders = report
        .indicators
        .iter()
        .find(|value| value.id == "orders_placed")
        .expect("orders_placed");
    assert_eq!(orders.value, Some(esito_indicators::Value::Count(6)));
    let (_, explained) = store
        .explain(&cuneo, "orders_placed", period, Some(head), 0, 1_000)
        .await
        .expect("explain");
    let positions: BTreeSet<u64> = explained.iter().map(|fact| fact.position).collect();
    assert_eq!(
        positions.len(),
        6,
        "each order explained once: {explained:?}"
    );
    // Paged explanations add up to the whole.
    let (_, first) = store
        .explain(&cuneo, "orders_placed", period, Some(head), 0, 4)
        .await
        .expect("page 1");
    let (_, rest) = store
        .explain(
            &cuneo,
            "orders_placed",
            period,
            Some(head),
            first.last().expect("a page").position,
            4,
        )
        .await
        .expect("page 2");
    assert_eq!([first, rest].concat(), explained);
}

async fn a_template_amended_mid_log_gives_the_same_values_running_rebuilt_and_offline(
    fresh: Fresh,
) {
    let store = fresh.store;
    let amended = contract("amended");
    store
        .append(&amended, "operator", &catalogue_and_tenancy())
        .await
        .expect("fixture");
    for n in 0..4 {
        store
            .append(
                &amended,
                "operator",
                &order_with_token(&format!("ord-a{n}")),
            )
            .await
            .expect("orders");
    }
    let period: esito_indicators::Period = "2023-Q3".parse().expect("period");
    let before = store
        .indicators(&amended, period, None)
        .await
        .expect("cuneo's indicators");
    store
        .append(
            &amended,
            "operator",
            &[submit(
                "2023-08-01T09:00:00+02:00",
                Command::AmendContract {
                    effective_on: "2023-08-01".parse().expect("date"),
                    changes: vec![esito_domain::terms::ContractChange::Template {
                        template: "torino".into(),
                        definitions: None,
                        definitions_sha256: None,
                    }],
                },
            )],
        )
        .await
        .expect("the amendment");
    for n in 4..7 {
        store
            .append(
                &amended,
                "operator",
                &order_with_token(&format!("ord-a{n}")),
            )
            .await
            .expect("orders");
    }
    let head = size(&store, &amended).await;
    let torino = esito_indicators::templates::embedded("torino")
        .expect("torino is embedded")
        .expect("torino parses");
    let cuneo = esito_indicators::templates::embedded("cuneo")
        .expect("cuneo is embedded")
        .expect("cuneo parses");
    let periods: Vec<esito_indicators::Period> = ["2023-Q3", "2023", "2023-07"]
        .iter()
        .map(|text| text.parse().expect("period"))
        .collect();
    // The running projection, in small steps, meets the amendment and restarts with torino.
    let mut running = Vec::new();
    for period in &periods {
        while store
            .project_step_with(&amended, 4, esito_store::projection::Fault::None)
            .await
            .expect("a step")
            .applied
            > 0
        {}
        running.push(
            store
                .indicators(&amended, *period, None)
                .await
                .expect("indicators"),
        );
    }
    assert_ne!(before.definitions_sha256, torino.sha256);
    // Read together, July (from the log, with cuneo) and the others (from the rows) alike.
    assert_eq!(
        store
            .indicators_of_periods(&amended, &periods, None)
            .await
            .expect("the periods' indicators"),
        running
    );
    // Amended from 2023-08-01: the quarter and the year end after it and are computed with
    // torino; July ends before it and keeps cuneo's definitions, as of any position.
    let in_force = [&torino, &torino, &cuneo];
    for ((period, report), definitions) in periods.iter().zip(&running).zip(in_force) {
        assert_eq!(
            report.definitions_sha256, definitions.sha256,
            "the definitions in force for {period}"
        );
        assert_eq!(report.as_of, head);
    }
    let entries = all_entries(&store, &amended).await;
    let books = |period: esito_indicators::Period, as_of: Option<u64>| {
        esito_books::offline::indicators(
            None,
            || {
                Ok::<_, std::convert::Infallible>(
                    entries
                        .iter()
                        .cloned()
                        .map(Ok::<_, std::convert::Infallible>),
                )
            },
            period,
            as_of,
        )
        .expect("infallible")
        .expect("offline indicators")
    };
    for ((period, report), definitions) in periods.iter().zip(&running).zip(in_force) {
        let offline = esito_indicators::offline::indicators(
            definitions,
            entries
                .iter()
                .cloned()
                .map(Ok::<_, std::convert::Infallible>),
            *period,
            None,
        )
        .expect("infallible")
        .expect("offline indicators");
        assert_eq!(&offline, report, "running and offline differ for {period}");
        assert_eq!(
            &books(*period, None),
            report,
            "the offline books choose alike"
        );
    }
    // As of the position before the amendment, nothing changed: cuneo's values, as taken then.
    let q3: esito_indicators::Period = "2023-Q3".parse().expect("period");
    let as_of_before = store
        .indicators(&amended, q3, Some(before.as_of))
        .await
        .expect("as of before the amendment");
    assert_eq!(
        as_of_before, before,
        "as of a position before the amendment"
    );
    assert_eq!(books(q3, Some(before.as_of)), before);
    store
        .rebuild_projection(&amended, |_| {})
        .await
        .expect("rebuild");
    let state = store.projection_state(&amended).await.expect("state");
    assert_eq!(state.template.as_deref(), Some("torino"));
    assert_eq!(state.position, head);
    for (period, report) in periods.iter().zip(&running) {
        let rebuilt = store
            .indicators(&amended, *period, None)
            .await
            .expect("indicators");
        assert_eq!(
            &rebuilt, report,
            "running and rebuilt at once differ for {period}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Proofs from stored subtrees

/// Appends `count` accesses in batches whose sizes cycle through `batches`, so that subtrees
/// complete inside batches, at their last entry and across them.
/// The offline computation's indicators for `period` from the entries up to `as_of`.
fn offline_report(
    definitions: &esito_indicators::Definitions,
    entries: &[esito_log::Entry],
    period: esito_indicators::Period,
    as_of: u64,
) -> esito_indicators::IndicatorReport {
    esito_indicators::offline::indicators(
        definitions,
        entries
            .iter()
            .cloned()
            .map(Ok::<_, std::convert::Infallible>),
        period,
        Some(as_of),
    )
    .expect("the entries read")
    .expect("the offline computation")
}

async fn values_as_of_positions_in_earlier_blocks_equal_those_of_the_log_prefix(fresh: Fresh) {
    let store = fresh.store;
    let cuneo = contract("blocks");
    let block = esito_projector::BLOCK_ENTRIES as usize;
    let mut fixture = projection_fixture();
    for n in 5..=60 {
        fixture.push(submit(
            "2023-07-02T10:00:00+02:00",
            Command::RegisterBeneficiary {
                beneficiary_id: id(&format!("ben-{n}")),
                isee_band: Some(IseeBand::B),
                household_size: Some(1),
                age_band: Some(AgeBand::From80),
                flags: vec![],
            },
        ));
    }
    store
        .append(&cuneo, "operator", &fixture)
        .await
        .expect("fixture");
    // Accesses of sixty people over eighteen months, so that the rows per key and the distinct
    // counts change in every block; later, corrections and voids of accesses blocks back.
    let access = |n: usize| {
        let day = (n * 547 / (3 * block)) as u16;
        submit(
            &on_day(day),
            Command::RecordAccess {
                access_id: id(&format!("acc-{n}")),
                beneficiary_id: Some(id(&format!("ben-{}", 1 + (n * 7) % 60))),
                channel: AccessChannel::InPerson,
                need: NeedCategory::ElderlyCare,
                outcome: AccessOutcome::InformationOnly,
            },
        )
    };
    let mut accesses = Vec::new();
    let total = 3 * block - fixture.len() - 40;
    for start in (0..total).step_by(500) {
        let batch: Vec<Submission> = (start..(start + 500).min(total)).map(access).collect();
        for outcome in store
            .append(&cuneo, "operator", &batch)
            .await
            .expect("accesses")
        {
            accesses.push(outcome.event_id);
        }
        // The running projector, in steps that end within blocks and at their ends.
        while store
            .project_step_with(&cuneo, 700, esito_store::projection::Fault::None)
            .await
            .expect("a step")
            .applied
            > 0
        {}
    }
    let mut late = Vec::new();
    for n in 0..80 {
        let target = accesses[(n * 97) % accesses.len()];
        let command = if n % 2 == 0 {
            Command::VoidEvent {
                voids: target,
                reason: "recorded by mistake".into(),
            }
        } else {
            Command::CorrectEvent {
                corrects: target,
                replacement: Event::AccessRecorded(AccessRecorded {
                    beneficiary_id: Some(id(&format!("ben-{}", 1 + n % 3))),
                    channel: AccessChannel::Phone,
                    need: NeedCategory::Other,
                    outcome: AccessOutcome::InformationOnly,
                }),
            }
        };
        late.push(submit(&on_day(540), command));
    }
    for one in &late {
        // Some targets were voided by an earlier one: refused, and left out.
        let _ = store
            .append(&cuneo, "operator", std::slice::from_ref(one))
            .await;
    }
    let entries = all_entries(&store, &cuneo).await;
    let head = entries.len() as u64;
    assert!(head > 3 * block as u64, "the log spans four blocks: {head}");
    let definitions = esito_indicators::templates::embedded("cuneo")
        .expect("cuneo is embedded")
        .expect("cuneo parses");
    let mut positions: BTreeSet<u64> = (1..=3)
        .flat_map(|b| {
            let end = (b * block) as u64;
            [end - 1, end, end + 1]
        })
        .collect();
    positions.extend((0..12).map(|n| 1 + (n * 1_009) % head));
    positions.extend([1, head - 1, head]);
    let check = |label: &'static str| {
        let store = &store;
        let cuneo = &cuneo;
        let entries = &entries;
        let definitions = &definitions;
        let positions = &positions;
        async move {
            for as_of in positions {
                for period in PERIODS {
                    let period: esito_indicators::Period = period.parse().expect("period");
                    let report = store
                        .indicators(cuneo, period, Some(*as_of))
                        .await
                        .expect("indicators");
                    assert_eq!(
                        report,
                        offline_report(definitions, entries, period, *as_of),
                        "{label}: as of {as_of}, {period}"
                    );
                }
                // Each key's count, what caps per beneficiary are paid by, against the rows
                // the same log prefix projects in memory: as of a position on each side of a
                // block's end, and of the head.
                if ![
                    block as u64 - 1,
                    block as u64 + 1,
                    2 * block as u64 + 1,
                    entries.len() as u64,
                ]
                .contains(as_of)
                {
                    continue;
                }
                let prefix = &entries[..*as_of as usize];
                let targets = prefix
                    .iter()
                    .filter_map(|entry| entry.corrects.clone())
                    .collect();
                let mut streamed = esito_projector::Streamed::new(definitions, targets);
                for entry in prefix {
                    streamed.push(entry.clone()).expect("the prefix projects");
                }
                let projected = streamed.finish().expect("the prefix projects");
                for period in ["2023-Q3", "2024-01", "2024"] {
                    let period: esito_indicators::Period = period.parse().expect("period");
                    for indicator in &definitions.indicators {
                        assert_eq!(
                            store
                                .key_counts(cuneo, &indicator.id, period, Some(*as_of))
                                .await
                                .expect("counts per key"),
                            projected
                                .key_counts(&indicator.id, period)
                                .expect("counts per key in memory"),
                            "{label}: counts per key of {} as of {as_of}, {period}",
                            indicator.id
                        );
                    }
                }
            }
        }
    };
    check("running").await;
    store.reset_projection(&cuneo).await.expect("reset");
    check("projected again").await;
    store
        .rebuild_projection(&cuneo, |_| {})
        .await
        .expect("rebuild");
    check("rebuilt at once").await;
}

async fn append_accesses(store: &Store, contract: &ContractId, count: usize, batches: &[usize]) {
    let mut done = 0;
    for batch in batches.iter().cycle() {
        if done == count {
            break;
        }
        let size = (*batch).min(count - done);
        let submissions: Vec<Submission> = (done..done + size).map(access).collect();
        store
            .append(contract, "operator", &submissions)
            .await
            .expect("appended");
        done += size;
    }
}

async fn all_leaf_hashes(store: &Store, contract: &ContractId) -> Vec<esito_log::Hash> {
    let mut leaves = Vec::new();
    loop {
        let page = store
            .entries(contract, leaves.len() as u64, esito_store::PAGE_SIZE_MAX)
            .await
            .expect("entries read");
        if page.is_empty() {
            return leaves;
        }
        leaves.extend(page.iter().map(|stored| stored.leaf_hash));
    }
}

/// Every level of the tree over a log's leaves, kept whole: the reference proofs from stored
/// subtrees are compared with (hashing a slice of 65,536 leaves per sibling takes too long).
struct WholeTree {
    levels: Vec<Vec<esito_log::Hash>>,
    size: u64,
}

impl WholeTree {
    fn new(leaves: &[esito_log::Hash], size: u64) -> Self {
        let mut levels = vec![leaves[..size as usize].to_vec()];
        while levels.last().is_some_and(|level| level.len() > 1) {
            let above = levels
                .last()
                .expect("a level")
                .chunks_exact(2)
                .map(|pair| esito_log::node_hash(&pair[0], &pair[1]))
                .collect();
            levels.push(above);
        }
        Self { levels, size }
    }
}

impl esito_log::merkle::SubtreeHashes for WholeTree {
    fn leaf_count(&self) -> u64 {
        self.size
    }

    fn subtree_root(&self, start: u64, len: u64) -> esito_log::Hash {
        if len.is_power_of_two() && start % len == 0 {
            let height = len.trailing_zeros() as usize;
            self.levels[height][(start >> height) as usize]
        } else {
            let k = 1 << (63 - (len - 1).leading_zeros());
            esito_log::node_hash(
                &self.subtree_root(start, k),
                &self.subtree_root(start + k, len - k),
            )
        }
    }
}

/// At `size`, for each point: the inclusion proof of that leaf, the consistency proof from the
/// tree ending after it, and both tree heads are the same from the store's few nodes as from
/// every leaf.
async fn proofs_agree(
    store: &Store,
    contract: &ContractId,
    leaves: &[esito_log::Hash],
    size: u64,
    points: &[u64],
) {
    use esito_log::merkle::{consistency_proof, inclusion_proof, SubtreeHashes};
    // RFC 9162 over the leaves themselves at some sizes; the whole tree (the same, faster) at all.
    let reference: Box<dyn SubtreeHashes> = if size % 100 == 0 && size <= 1_000 {
        Box::new(leaves[..size as usize].to_vec())
    } else {
        Box::new(WholeTree::new(leaves, size))
    };
    for &point in points.iter().filter(|p| **p < size) {
        let esito_store::ProofRead::Ready { head, nodes } = store
            .proof_nodes(contract, size, &[point, size - 1])
            .await
            .expect("proof nodes read")
        else {
            panic!("a tree of {size} is in the log");
        };
        assert!(head.size >= size);
        assert_eq!(
            inclusion_proof(point, size, &nodes),
            inclusion_proof(point, size, reference.as_ref()),
            "leaf {point} of {size}"
        );
        assert_eq!(
            consistency_proof(point + 1, size, &nodes),
            consistency_proof(point + 1, size, reference.as_ref()),
            "{} to {size}",
            point + 1
        );
        assert_eq!(nodes.subtree_root(point, 1), leaves[point as usize]);
        assert_eq!(
            nodes.tree_head(),
            reference.subtree_root(0, size),
            "head of {size}"
        );
        assert_eq!(
            nodes.head_at(point + 1),
            reference.subtree_root(0, point + 1)
        );
    }
}

async fn proofs_from_stored_subtrees_equal_proofs_from_every_leaf_up_to_600_entries(fresh: Fresh) {
    let store = fresh.store;
    let cuneo = contract("cuneo");
    store
        .append(&cuneo, "operator", &[registration()])
        .await
        .expect("registered");
    append_accesses(&store, &cuneo, 619, &[1, 7, 100, 255, 3, 256, 1]).await;
    let leaves = all_leaf_hashes(&store, &cuneo).await;
    assert_eq!(leaves.len(), 620);
    let head = store.head(&cuneo).await.expect("head").expect("a head");
    assert_eq!(head.root_hash, esito_log::root(&leaves));
    assert!(matches!(
        store
            .proof_nodes(&cuneo, 621, &[0, 620])
            .await
            .expect("read"),
        esito_store::ProofRead::BeyondHead { head_size: 620 }
    ));
    assert!(matches!(
        store
            .proof_nodes(&contract("nobody"), 1, &[0])
            .await
            .expect("read"),
        esito_store::ProofRead::BeyondHead { head_size: 0 }
    ));
    for size in 1..=620u64 {
        proofs_agree(
            &store,
            &cuneo,
            &leaves,
            size,
            &[0, 255, 256, size / 2, size - 1],
        )
        .await;
    }
}

async fn proofs_across_the_second_stored_level_equal_proofs_from_every_leaf(fresh: Fresh) {
    let store = fresh.store;
    let cuneo = contract("cuneo");
    store
        .append(&cuneo, "operator", &[registration()])
        .await
        .expect("registered");
    append_accesses(&store, &cuneo, 65_536 + 299, &[1_000, 999, 1]).await;
    let leaves = all_leaf_hashes(&store, &cuneo).await;
    let points = [0, 255, 256, 40_000, 65_279, 65_280, 65_535, 65_536, 65_700];
    for size in [
        65_535,
        65_536,
        65_537,
        65_536 + 255,
        65_536 + 256,
        65_536 + 300,
    ] {
        proofs_agree(&store, &cuneo, &leaves, size, &points).await;
    }
}

/// The roots of stored subtrees, deleted behind the store's back (the triggers dropped first),
/// as in a log written before they were kept.
async fn forget_stored_subtrees(url: &str) {
    if url.starts_with("sqlite:") {
        let pool = sqlx::SqlitePool::connect(url).await.expect("SQLite opens");
        for statement in [
            "DROP TRIGGER log_subtrees_refuse_delete",
            "DELETE FROM log_subtrees",
        ] {
            sqlx::query(statement)
                .execute(&pool)
                .await
                .expect("as the owner");
        }
    } else {
        let pool = sqlx::PgPool::connect(url).await.expect("PostgreSQL opens");
        for statement in [
            "DROP TRIGGER log_subtrees_refuse_update_delete ON log_subtrees",
            "DELETE FROM log_subtrees",
        ] {
            sqlx::query(statement)
                .execute(&pool)
                .await
                .expect("as the owner");
        }
    }
}

async fn stored_subtree_count(url: &str) -> i64 {
    let statement = "SELECT count(*) FROM log_subtrees";
    if url.starts_with("sqlite:") {
        let pool = sqlx::SqlitePool::connect(url).await.expect("SQLite opens");
        sqlx::query_scalar(statement)
            .fetch_one(&pool)
            .await
            .expect("counted")
    } else {
        let pool = sqlx::PgPool::connect(url).await.expect("PostgreSQL opens");
        sqlx::query_scalar(statement)
            .fetch_one(&pool)
            .await
            .expect("counted")
    }
}

async fn a_log_whose_subtrees_were_never_stored_gets_the_same_proofs_and_keeps_the_subtrees(
    fresh: Fresh,
) {
    let store = fresh.store;
    let cuneo = contract("cuneo");
    store
        .append(&cuneo, "operator", &[registration()])
        .await
        .expect("registered");
    append_accesses(&store, &cuneo, 2_999, &[500]).await;
    // One root per complete tile: 187 of 16 leaves and 11 of 256 for 3,000 entries.
    assert_eq!(stored_subtree_count(&fresh.url).await, 187 + 11);
    forget_stored_subtrees(&fresh.url).await;
    assert_eq!(stored_subtree_count(&fresh.url).await, 0);
    let leaves = all_leaf_hashes(&store, &cuneo).await;
    proofs_agree(&store, &cuneo, &leaves, 3_000, &[0, 1_000, 2_999]).await;
    assert_eq!(
        stored_subtree_count(&fresh.url).await,
        187 + 11,
        "the subtrees a proof needed, and those they are made of, were computed once and kept"
    );
    proofs_agree(&store, &cuneo, &leaves, 2_100, &[5, 2_048]).await;
    // Appends go on completing tiles, beside the ones filled in.
    append_accesses(&store, &cuneo, 72, &[72]).await;
    assert_eq!(stored_subtree_count(&fresh.url).await, 192 + 12);
    let leaves = all_leaf_hashes(&store, &cuneo).await;
    proofs_agree(&store, &cuneo, &leaves, 3_072, &[3_071, 17]).await;
}

// ---------------------------------------------------------------------------------------------
// Signing keys

async fn every_signing_key_is_kept_and_at_most_one_is_current(fresh: Fresh) {
    use esito_store::KeyStanding;
    let store = fresh.store;
    let (a, b, c) = (
        ("aaaaaaaaaaaaaaaa", "key-a"),
        ("bbbbbbbbbbbbbbbb", "key-b"),
        ("cccccccccccccccc", "key-c"),
    );
    assert_eq!(
        store.record_signing_key(a.0, a.1).await.expect("recorded"),
        KeyStanding::Current
    );
    assert_eq!(
        store.record_signing_key(a.0, a.1).await.expect("again"),
        KeyStanding::Current
    );
    assert_eq!(
        store.record_signing_key(b.0, b.1).await.expect("answered"),
        KeyStanding::OtherIsCurrent {
            key_id: a.0.parse().expect("a test key id")
        },
        "a second key does not become current by starting with it"
    );
    store.rotate_signing_key(Some(a), b).await.expect("rotated");
    assert!(matches!(
        store.record_signing_key(a.0, a.1).await.expect("answered"),
        KeyStanding::Retired { .. }
    ));
    assert_eq!(
        store.record_signing_key(b.0, b.1).await.expect("answered"),
        KeyStanding::Current
    );
    // The key file lost: a rotation without the old key retires whatever is current.
    store.rotate_signing_key(None, c).await.expect("rotated");
    let keys = store.signing_keys().await.expect("listed");
    let listed: Vec<(&str, &str, bool)> = keys
        .iter()
        .map(|k| {
            (
                k.key_id.as_str(),
                k.public_key.as_str(),
                k.retired_at.is_some(),
            )
        })
        .collect();
    assert_eq!(
        listed,
        vec![
            ("aaaaaaaaaaaaaaaa", "key-a", true),
            ("bbbbbbbbbbbbbbbb", "key-b", true),
            ("cccccccccccccccc", "key-c", false)
        ]
    );
    let retired_at = keys[0].retired_at.clone();
    // The database itself keeps them: no key is removed, changed or retired twice.
    let statements = [
        "DELETE FROM signing_keys",
        "UPDATE signing_keys SET public_key = 'mallory' WHERE key_id = 'cccccccccccccccc'",
        "UPDATE signing_keys SET retired_at = '2000-01-01T00:00:00Z' WHERE key_id = 'aaaaaaaaaaaaaaaa'",
        "UPDATE signing_keys SET retired_at = NULL WHERE key_id = 'bbbbbbbbbbbbbbbb'",
        "INSERT INTO signing_keys (key_id, public_key, created_at) VALUES ('dddddddddddddddd', 'key-d', 'now')",
    ];
    for statement in statements {
        let error = if fresh.url.starts_with("sqlite:") {
            let pool = sqlx::SqlitePool::connect(&fresh.url)
                .await
                .expect("SQLite opens");
            sqlx::query(statement)
                .execute(&pool)
                .await
                .expect_err("refused")
        } else {
            let pool = sqlx::PgPool::connect(&fresh.url)
                .await
                .expect("PostgreSQL opens");
            sqlx::query(statement)
                .execute(&pool)
                .await
                .expect_err("refused")
        };
        let error = error.to_string();
        assert!(
            error.contains("keeps every key")
                || error.contains("signing_keys_one_current")
                || error.contains("UNIQUE"),
            "{statement}: {error}"
        );
    }
    let keys_after = store.signing_keys().await.expect("listed");
    assert_eq!(keys_after, keys);
    assert_eq!(keys_after[0].retired_at, retired_at);
}
