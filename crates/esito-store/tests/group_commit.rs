//! Group commit, run against SQLite and against a real PostgreSQL (`DATABASE_URL`), each test on
//! a fresh database: many writers on one contract, in one store or in two sharing the
//! database, each acknowledged once, at positions without gaps, in a log that verifies; a
//! refused command among them fails alone.
//!
//! Where a test needs its requests in one group, it holds the contract's head from another
//! connection, so the first writer waits at the database and the others queue behind it.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;

use esito_domain::{ContractId, DomainError, Submission};
use esito_store::{AppendError, AppendOutcome, GroupStats, Store};
use esito_testkit::{both_stores, contract, Fresh};

mod store_fixture;
use store_fixture::{access, export_verifies, registration, stored};

both_stores!(
    sixty_four_writers_on_one_contract_are_each_acknowledged_once_at_gap_free_positions,
    a_refused_command_among_sixty_four_fails_alone_and_the_other_sixty_three_commit,
    the_same_event_id_sent_twice_in_one_group_is_one_entry,
    two_instances_with_thirty_two_writers_each_on_one_contract_lose_nothing_and_refuse_alone,
);

const WRITERS: usize = 64;
const APPENDS_PER_WRITER: usize = 8;

/// What a writer asked and was answered.
type Acknowledged = Vec<(Submission, Result<AppendOutcome, AppendError>)>;

async fn append_one(
    store: &Store,
    contract_id: &ContractId,
    submission: Submission,
) -> (Submission, Result<AppendOutcome, AppendError>) {
    let answer = store
        .append(contract_id, "operator", std::slice::from_ref(&submission))
        .await
        .map(|outcomes| {
            assert_eq!(outcomes.len(), 1, "one outcome per command");
            outcomes[0].clone()
        });
    (submission, answer)
}

/// The log holds exactly the registration and every acknowledged event, once each, at
/// positions 1..n, each where its answer said, and its export verifies; returns n.
async fn check_log(store: &Store, contract_id: &ContractId, acknowledged: &Acknowledged) -> u64 {
    let entries = stored(store, contract_id).await;
    let positions: Vec<u64> = entries.iter().map(|(p, _, _)| *p).collect();
    let expected: Vec<u64> = (1..=entries.len() as u64).collect();
    assert_eq!(positions, expected, "positions are 1..n without gaps");
    let by_id: BTreeMap<&str, (u64, esito_log::Hash)> = entries
        .iter()
        .map(|(position, event_id, hash)| (event_id.as_str(), (*position, *hash)))
        .collect();
    assert_eq!(by_id.len(), entries.len(), "every event id appears once");
    let mut written = BTreeSet::new();
    for (submission, answer) in acknowledged {
        let Ok(outcome) = answer else { continue };
        let event_id = submission.event_id.to_string();
        assert_eq!(outcome.event_id, submission.event_id);
        assert_eq!(
            by_id.get(event_id.as_str()),
            Some(&(outcome.position, outcome.leaf_hash)),
            "an acknowledged event is in the log where its answer says"
        );
        if !outcome.duplicate {
            assert!(written.insert(event_id), "an event is written once");
        }
    }
    assert_eq!(
        written.len() + 1,
        entries.len(),
        "the log holds the registration and the acknowledged events, nothing else"
    );
    let report = export_verifies(store, contract_id).await;
    assert_eq!(report.size, entries.len() as u64);
    report.size
}

/// `writers` tasks on `store`, each appending `appends` accesses one at a time.
fn spawn_writers(
    store: &Arc<Store>,
    contract_id: &ContractId,
    writers: usize,
    appends: usize,
) -> Vec<tokio::task::JoinHandle<Acknowledged>> {
    (0..writers)
        .map(|_| {
            let (store, contract_id) = (store.clone(), contract_id.clone());
            tokio::spawn(async move {
                let mut acknowledged = Vec::new();
                for n in 0..appends {
                    acknowledged.push(append_one(&store, &contract_id, access(n)).await);
                }
                acknowledged
            })
        })
        .collect()
}

async fn gather(tasks: Vec<tokio::task::JoinHandle<Acknowledged>>) -> Acknowledged {
    let mut acknowledged = Vec::new();
    for task in tasks {
        acknowledged.extend(task.await.expect("a writer finishes"));
    }
    acknowledged
}

/// The contract's head held by a transaction of another connection: the store's writers wait
/// for it at the database until it is released.
enum HeadHeld {
    Sqlite(sqlx::Transaction<'static, sqlx::Sqlite>),
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
}

impl HeadHeld {
    async fn take(url: &str, contract_id: &ContractId) -> Self {
        if url.starts_with("sqlite:") {
            let pool = sqlx::SqlitePool::connect(url).await.expect("SQLite opens");
            // The database's write lock: the store's `BEGIN IMMEDIATE` waits for it.
            let tx = pool
                .begin_with("BEGIN IMMEDIATE")
                .await
                .expect("the write lock");
            HeadHeld::Sqlite(tx)
        } else {
            let pool = sqlx::PgPool::connect(url).await.expect("PostgreSQL opens");
            let mut tx = pool.begin().await.expect("a transaction");
            sqlx::query("SELECT 1 FROM contract_heads WHERE contract_id = $1 FOR UPDATE")
                .bind(contract_id.as_str())
                .fetch_one(&mut *tx)
                .await
                .expect("the head row, locked");
            HeadHeld::Postgres(tx)
        }
    }

    async fn release(self) {
        match self {
            HeadHeld::Sqlite(tx) => tx.rollback().await.expect("released"),
            HeadHeld::Postgres(tx) => tx.rollback().await.expect("released"),
        }
    }
}

/// Waits until `count` appends lead or wait in the store's queue (a bound, not a speed).
async fn until_requests(store: &Store, count: u64) {
    tokio::time::timeout(Duration::from_secs(10), async {
        while store.group_stats().requests < count {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    })
    .await
    .expect("the appends reach the queue within 10 s");
}

// ---------------------------------------------------------------------------------------------
// The suite

async fn sixty_four_writers_on_one_contract_are_each_acknowledged_once_at_gap_free_positions(
    fresh: Fresh,
) {
    let store = Arc::new(fresh.store);
    let hot = contract("hot");
    store
        .append(&hot, "admin", &[registration()])
        .await
        .expect("registered");
    let acknowledged = gather(spawn_writers(&store, &hot, WRITERS, APPENDS_PER_WRITER)).await;
    assert_eq!(acknowledged.len(), WRITERS * APPENDS_PER_WRITER);
    for (_, answer) in &acknowledged {
        let outcome = answer.as_ref().expect("every access is accepted");
        assert!(
            !outcome.duplicate,
            "each write is acknowledged once, as new"
        );
    }
    let size = check_log(&store, &hot, &acknowledged).await;
    assert_eq!(size, 1 + (WRITERS * APPENDS_PER_WRITER) as u64);
    let stats = store.group_stats();
    assert_eq!(stats.requests, 1 + (WRITERS * APPENDS_PER_WRITER) as u64);
    assert!(
        stats.groups < stats.requests && stats.largest > 1,
        "concurrent appends to one contract were written in groups: {stats:?}"
    );
}

async fn a_refused_command_among_sixty_four_fails_alone_and_the_other_sixty_three_commit(
    fresh: Fresh,
) {
    let store = Arc::new(fresh.store);
    let hot = contract("hot");
    store
        .append(&hot, "admin", &[registration()])
        .await
        .expect("registered");
    let held = HeadHeld::take(&fresh.url, &hot).await;
    // The first writer leads and waits at the database; the other 62 and the refused one queue.
    let writers = spawn_writers(&store, &hot, WRITERS - 1, 1);
    until_requests(&store, WRITERS as u64).await;
    let refused = {
        let (store, hot) = (store.clone(), hot.clone());
        tokio::spawn(async move { append_one(&store, &hot, registration()).await })
    };
    until_requests(&store, 1 + WRITERS as u64).await;
    held.release().await;

    let (_, answer) = refused.await.expect("the refused writer finishes");
    assert!(
        matches!(
            answer,
            Err(AppendError::Rejected {
                index: 0,
                error: DomainError::ContractAlreadyRegistered
            })
        ),
        "{answer:?}"
    );
    let acknowledged = gather(writers).await;
    assert_eq!(acknowledged.len(), WRITERS - 1);
    assert!(acknowledged.iter().all(|(_, answer)| answer.is_ok()));
    assert_eq!(check_log(&store, &hot, &acknowledged).await, WRITERS as u64);
    assert_eq!(
        store.group_stats(),
        GroupStats {
            requests: 1 + WRITERS as u64,
            // The registration, the first writer alone, then the 62 others with the refused one.
            groups: 3,
            largest: WRITERS - 1,
        }
    );
}

async fn the_same_event_id_sent_twice_in_one_group_is_one_entry(fresh: Fresh) {
    let store = Arc::new(fresh.store);
    let hot = contract("hot");
    store
        .append(&hot, "admin", &[registration()])
        .await
        .expect("registered");
    let held = HeadHeld::take(&fresh.url, &hot).await;
    let first = spawn_writers(&store, &hot, 1, 1);
    until_requests(&store, 2).await;
    // 32 accesses, each sent by two writers at once, all queued behind the first writer.
    let accesses: Vec<Submission> = (0..WRITERS / 2).map(access).collect();
    let tasks: Vec<_> = accesses
        .iter()
        .chain(&accesses)
        .map(|submission| {
            let (store, hot, submission) = (store.clone(), hot.clone(), submission.clone());
            tokio::spawn(async move { vec![append_one(&store, &hot, submission).await] })
        })
        .collect();
    until_requests(&store, 2 + WRITERS as u64).await;
    held.release().await;

    let mut acknowledged = gather(first).await;
    let twice = gather(tasks).await;
    for submission in &accesses {
        let answers: Vec<&AppendOutcome> = twice
            .iter()
            .filter(|(sent, _)| sent.event_id == submission.event_id)
            .map(|(_, answer)| answer.as_ref().expect("accepted"))
            .collect();
        assert_eq!(answers.len(), 2);
        assert_eq!(
            answers.iter().filter(|outcome| !outcome.duplicate).count(),
            1,
            "one of the two writes it, the other is answered with it"
        );
        assert_eq!(
            (answers[0].position, answers[0].leaf_hash),
            (answers[1].position, answers[1].leaf_hash)
        );
    }
    acknowledged.extend(twice);
    assert_eq!(
        check_log(&store, &hot, &acknowledged).await,
        2 + (WRITERS / 2) as u64
    );
    assert_eq!(store.group_stats().largest, WRITERS, "the 64 in one group");
}

async fn two_instances_with_thirty_two_writers_each_on_one_contract_lose_nothing_and_refuse_alone(
    fresh: Fresh,
) {
    let first = Arc::new(fresh.store);
    let second = Arc::new(Store::connect(&fresh.url).await.expect("a second instance"));
    let hot = contract("hot");
    first
        .append(&hot, "admin", &[registration()])
        .await
        .expect("registered");
    let mut tasks = spawn_writers(&first, &hot, WRITERS / 2, APPENDS_PER_WRITER);
    tasks.extend(spawn_writers(
        &second,
        &hot,
        WRITERS / 2 - 1,
        APPENDS_PER_WRITER,
    ));
    // The last writer of the second instance sends a registration between its accesses.
    let refusing = {
        let (store, hot) = (second.clone(), hot.clone());
        tokio::spawn(async move {
            let mut acknowledged = Vec::new();
            for n in 0..APPENDS_PER_WRITER {
                let submission = if n == APPENDS_PER_WRITER / 2 {
                    registration()
                } else {
                    access(n)
                };
                acknowledged.push(append_one(&store, &hot, submission).await);
            }
            acknowledged
        })
    };
    tasks.push(refusing);
    let acknowledged = gather(tasks).await;
    assert_eq!(acknowledged.len(), WRITERS * APPENDS_PER_WRITER);
    let refused: Vec<&Result<AppendOutcome, AppendError>> = acknowledged
        .iter()
        .filter(|(_, answer)| answer.is_err())
        .map(|(_, answer)| answer)
        .collect();
    assert_eq!(refused.len(), 1, "only the registration is refused");
    assert!(matches!(
        refused[0],
        Err(AppendError::Rejected {
            index: 0,
            error: DomainError::ContractAlreadyRegistered
        })
    ));
    for (_, answer) in &acknowledged {
        if let Ok(outcome) = answer {
            assert!(!outcome.duplicate);
        }
    }
    let size = check_log(&first, &hot, &acknowledged).await;
    assert_eq!(size, (WRITERS * APPENDS_PER_WRITER) as u64);
    assert_eq!(check_log(&second, &hot, &acknowledged).await, size);
}
