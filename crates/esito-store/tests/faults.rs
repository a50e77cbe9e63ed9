//! Faults of the database under the store: a SQLite file that fills answers every write as
//! unavailable and writes nothing, and writes again once space is freed, with no restart; a
//! PostgreSQL that cannot be reached answers as unavailable within the pool's wait.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use esito_domain::{ContractId, EventId};
use esito_store::Store;
use esito_testkit::{contract, fresh_sqlite};
use sqlx::Connection;

mod store_fixture;
use store_fixture::{access, export_verifies, registration, size};

/// The pages the SQLite file at `url` holds now, read on a connection of its own.
async fn page_count(url: &str) -> u32 {
    let mut connection = sqlx::SqliteConnection::connect(url)
        .await
        .expect("the file opens");
    let pages: i64 = sqlx::query_scalar("PRAGMA page_count")
        .fetch_one(&mut connection)
        .await
        .expect("page_count reads");
    u32::try_from(pages).expect("a small file")
}

/// Every acknowledged event is in the log once, at positions 1..n, and the export verifies.
async fn check_log(store: &Store, contract: &ContractId, acknowledged: &[EventId]) {
    let entries = store
        .entries(contract, 0, 10_000)
        .await
        .expect("entries read");
    let positions: Vec<u64> = entries.iter().map(|e| e.position.get()).collect();
    assert_eq!(
        positions,
        (1..=entries.len() as u64).collect::<Vec<_>>(),
        "positions run 1..n without a gap"
    );
    let ids: Vec<String> = entries
        .iter()
        .map(|stored| {
            let entry: esito_log::Entry =
                serde_json::from_str(&stored.entry).expect("stored entries parse");
            entry.event_id
        })
        .collect();
    let unique: BTreeSet<&String> = ids.iter().collect();
    assert_eq!(unique.len(), ids.len(), "every event id appears once");
    let acknowledged: BTreeSet<String> = acknowledged.iter().map(ToString::to_string).collect();
    assert_eq!(
        unique,
        acknowledged.iter().collect(),
        "the log holds exactly the acknowledged events"
    );
    let report = export_verifies(store, contract).await;
    assert_eq!(report.size, entries.len() as u64);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_sqlite_file_is_unavailable_and_writes_again_once_space_is_freed() {
    let fresh = fresh_sqlite().await;
    let store = &fresh.store;
    let cuneo = contract("cuneo");
    let registered = registration();
    store
        .append(&cuneo, "admin", std::slice::from_ref(&registered))
        .await
        .expect("registered");
    let mut acknowledged = vec![registered.event_id];

    // A few pages to spare: the file fills within a few dozen appends.
    store.limit_sqlite_pages(Some(page_count(&fresh.url).await + 8));
    let mut full = None;
    for n in 0..2_000 {
        let submission = access(n);
        match store
            .append(&cuneo, "operator", std::slice::from_ref(&submission))
            .await
        {
            Ok(_) => acknowledged.push(submission.event_id),
            Err(error) => {
                full = Some(error);
                break;
            }
        }
    }
    let error = full.expect("the file fills within 2,000 appends");
    assert!(
        error.is_unavailable(),
        "a full file is unavailable: {error:?}"
    );
    let size_when_full = size(store, &cuneo).await;
    assert_eq!(size_when_full, acknowledged.len() as u64);

    // While it is full, every write is refused as unavailable and writes nothing.
    for n in 0..5 {
        let error = store
            .append(&cuneo, "operator", &[access(10_000 + n)])
            .await
            .expect_err("the file is still full");
        assert!(error.is_unavailable(), "still unavailable: {error:?}");
    }
    assert_eq!(size(store, &cuneo).await, size_when_full);
    // Reads still answer; readiness does not, as long as nothing can be written.
    assert_eq!(
        store
            .entries(&cuneo, 0, 1)
            .await
            .expect("reads answer")
            .len(),
        1
    );
    for _ in 0..2 {
        let error = store
            .check_ready()
            .await
            .expect_err("a full file is not ready");
        assert!(error.is_unavailable(), "{error:?}");
    }

    // Space is freed: the same store is ready and writes again, no restart.
    store.limit_sqlite_pages(None);
    store
        .check_ready()
        .await
        .expect("ready once space is freed");
    for n in 0..20 {
        let submission = access(20_000 + n);
        store
            .append(&cuneo, "operator", std::slice::from_ref(&submission))
            .await
            .expect("writes again once space is freed");
        acknowledged.push(submission.event_id);
    }
    check_log(store, &cuneo, &acknowledged).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgresql_that_cannot_be_reached_is_unavailable_within_two_seconds() {
    // A port nothing listens on: bound, then released.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("a free port")
        .local_addr()
        .expect("its address")
        .port();
    let started = Instant::now();
    let error = Store::connect(&format!("postgres://esito@127.0.0.1:{port}/esito"))
        .await
        .err()
        .expect("nothing to connect to");
    assert!(
        error.is_unavailable(),
        "a refused connection is unavailable: {error:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "answered after {:?}",
        started.elapsed()
    );
}
