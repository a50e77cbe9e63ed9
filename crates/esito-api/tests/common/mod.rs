//! What the API's test binaries share: a fresh store of each kind and the macro that runs one
//! suite on both.

use std::sync::Arc;

use axum::Router;
use esito_store::Store;

/// The router under test, its store, and the directory a SQLite file lives in.
pub struct Fixture {
    pub app: Router,
    pub store: Arc<Store>,
    pub _dir: Option<tempfile::TempDir>,
}

/// A new SQLite file in a temporary directory.
pub async fn sqlite() -> (Store, Option<tempfile::TempDir>) {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let url = format!("sqlite://{}", dir.path().join("esito.db").display());
    (Store::connect(&url).await.expect("SQLite opens"), Some(dir))
}

/// A new schema of the PostgreSQL that `DATABASE_URL` names.
pub async fn postgres() -> (Store, Option<tempfile::TempDir>) {
    let base = std::env::var("DATABASE_URL").expect(
        "DATABASE_URL must name a PostgreSQL for the API suite: run `make test`, which starts one",
    );
    let schema = format!("api_{}", uuid::Uuid::new_v4().simple());
    let admin = sqlx::PgPool::connect(&base)
        .await
        .expect("PostgreSQL answers");
    sqlx::query(&format!("CREATE SCHEMA {schema}"))
        .execute(&admin)
        .await
        .expect("a schema");
    admin.close().await;
    let separator = if base.contains('?') { '&' } else { '?' };
    (
        Store::connect(&format!("{base}{separator}options[search_path]={schema}"))
            .await
            .expect("PostgreSQL opens"),
        None,
    )
}

/// Runs each named suite function on SQLite and on PostgreSQL, each with the binary's own
/// `fixture(store)`.
macro_rules! both_stores {
    ($($test:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    super::$test(super::fixture(super::common::sqlite().await).await).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    super::$test(super::fixture(super::common::postgres().await).await).await;
                }
            )*
        }
    };
}
