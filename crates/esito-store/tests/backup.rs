//! `Store::backup_into`: a SQLite store's copy, taken while appends go on, opens as a store
//! whose log is a prefix of the original's, tree head for tree head; a file is never
//! overwritten; a PostgreSQL store is left to pg_dump.

use std::sync::Arc;

use esito_store::{BackupError, Store};
use esito_testkit::contract;

mod store_fixture;
use store_fixture::{access, registration};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sqlite_copy_taken_during_appends_is_a_prefix_of_the_log_with_its_tree_heads() {
    let fresh = esito_testkit::fresh_sqlite().await;
    let store = Arc::new(fresh.store);
    let cuneo = contract("cuneo-communal-living");
    store
        .append(&cuneo, "test", &[registration()])
        .await
        .expect("registered");
    for n in 0..20 {
        store
            .append(&cuneo, "test", &[access(n)])
            .await
            .expect("appended");
    }
    let writing = {
        let (store, cuneo) = (store.clone(), cuneo.clone());
        tokio::spawn(async move {
            for n in 0..50 {
                store
                    .append(&cuneo, "test", &[access(n)])
                    .await
                    .expect("appended");
            }
        })
    };
    let dir = tempfile::tempdir().expect("tempdir");
    let copy = dir.path().join("copy.db");
    store.backup_into(&copy).await.expect("backed up");
    writing.await.expect("the writer ends");

    let restored = Store::connect(&format!("sqlite://{}", copy.display()))
        .await
        .expect("the copy opens");
    let head = restored.head(&cuneo).await.expect("read").expect("a head");
    assert!(
        (21..=71).contains(&head.size),
        "the copy holds what was committed: {}",
        head.size
    );
    let original = store
        .entries(&cuneo, 0, 100)
        .await
        .expect("the original's entries");
    let copied = restored
        .entries(&cuneo, 0, 100)
        .await
        .expect("the copy's entries");
    assert_eq!(copied.len() as u64, head.size);
    assert_eq!(
        copied[..],
        original[..copied.len()],
        "a prefix, byte for byte"
    );
    let leaves: Vec<_> = copied.iter().map(|entry| entry.leaf_hash).collect();
    assert_eq!(
        head.root_hash,
        esito_log::merkle::root(&leaves),
        "the copy's head is the tree head of its own entries"
    );
    let original_head = store.head(&cuneo).await.expect("read").expect("a head");
    assert_eq!(original_head.size, 71);

    let before = std::fs::read(&copy).expect("the copy");
    match store.backup_into(&copy).await {
        Err(BackupError::Exists { path }) => assert_eq!(path, copy.display().to_string()),
        other => panic!("a second backup to the same file: {other:?}"),
    }
    assert_eq!(
        std::fs::read(&copy).expect("the copy"),
        before,
        "left as it was"
    );
}

#[tokio::test]
async fn a_postgres_store_is_left_to_pg_dump() {
    let fresh = esito_testkit::fresh_postgres().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let copy = dir.path().join("copy.db");
    assert!(matches!(
        fresh.store.backup_into(&copy).await,
        Err(BackupError::Postgres)
    ));
    assert!(!copy.exists(), "nothing written");
}
