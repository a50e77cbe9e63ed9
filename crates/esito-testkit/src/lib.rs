//! Test fixtures shared by the workspace's test binaries: a fresh store on SQLite and on
//! PostgreSQL, the fixture that serves one, the macro that runs a suite on both, and the
//! builders of test values.
//!
//! Invariant: only ever a dev-dependency, so nothing here reaches the binary; it reaches the
//! database only through `esito-store`, the one crate with SQL.

use std::path::Path;
use std::sync::Arc;

use esito_domain::events::Pact;
use esito_domain::{Command, ContractId, EventId, Money, OccurredAt, StreamId, Submission};
use esito_store::Store;

/// A fresh database, with the URL a second instance or a raw connection opens it by;
/// dropping it removes the SQLite file (PostgreSQL schemas die with the throwaway cluster).
pub struct Fresh {
    pub store: Store,
    pub url: String,
    _dir: Option<tempfile::TempDir>,
}

/// The URL of the SQLite file `esito.db` in `dir`.
pub fn sqlite_url(dir: &Path) -> String {
    format!("sqlite://{}", dir.join("esito.db").display())
}

/// A new SQLite file in a temporary directory.
pub async fn fresh_sqlite() -> Fresh {
    let dir = tempfile::tempdir().expect("a temporary directory");
    let url = sqlite_url(dir.path());
    let store = Store::connect(&url).await.expect("SQLite opens");
    Fresh {
        store,
        url,
        _dir: Some(dir),
    }
}

/// A new schema of the PostgreSQL that `DATABASE_URL` names.
pub async fn fresh_postgres() -> Fresh {
    let base = std::env::var("DATABASE_URL").expect(
        "DATABASE_URL must name a PostgreSQL for the suites on both stores: run `make test` or \
         `scripts/with-postgres.sh`, which start one",
    );
    let schema = format!("t_{}", uuid::Uuid::new_v4().simple());
    let url = esito_store::anchor::scratch_postgres(&base, &schema)
        .await
        .expect("PostgreSQL answers and makes a schema");
    let store = Store::connect(&url).await.expect("PostgreSQL opens");
    Fresh {
        store,
        url,
        _dir: None,
    }
}

/// The URL of a new, empty schema of the PostgreSQL that `DATABASE_URL` names, for a test
/// that runs the `esito` binary against it: nothing is opened here but the schema.
pub fn blank_postgres_url(prefix: &str) -> String {
    let base = std::env::var("DATABASE_URL").expect(
        "DATABASE_URL must name a PostgreSQL for the tests on both stores: run `make test` or \
         `scripts/with-postgres.sh`, which start one",
    );
    let schema = format!("{prefix}_{}", uuid::Uuid::new_v4().simple());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime for one statement");
    runtime
        .block_on(esito_store::anchor::scratch_postgres(&base, &schema))
        .expect("PostgreSQL answers and makes a schema")
}

/// What a suite runs against: its app (a router, for the API) over a fresh store.
pub struct Fixture<App> {
    pub app: App,
    pub store: Arc<Store>,
    pub url: String,
    _dir: Option<tempfile::TempDir>,
}

impl Fresh {
    /// The fixture that serves this store with the app `serve` builds over it.
    pub fn with_app<App>(self, serve: impl FnOnce(Arc<Store>) -> App) -> Fixture<App> {
        let store = Arc::new(self.store);
        Fixture {
            app: serve(store.clone()),
            store,
            url: self.url,
            _dir: self._dir,
        }
    }
}

/// Runs each named suite function on SQLite and on PostgreSQL, each on a fresh database: with
/// the `Fresh` store itself, or, after `fixture = name;`, with what the binary's own
/// `async fn name(Fresh)` builds from it. The calling crate depends on tokio.
#[macro_export]
macro_rules! both_stores {
    (fixture = $fixture:ident; $($test:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $test() {
                    super::$test(super::$fixture($crate::fresh_sqlite().await).await).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $test() {
                    super::$test(super::$fixture($crate::fresh_postgres().await).await).await;
                }
            )*
        }
    };
    ($($test:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $test() {
                    super::$test($crate::fresh_sqlite().await).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $test() {
                    super::$test($crate::fresh_postgres().await).await;
                }
            )*
        }
    };
}

/// A stream id the test wrote.
pub fn id(text: &str) -> StreamId {
    StreamId::parse(text).expect("test ids are valid")
}

/// An amount the test wrote, such as `"6.00"`.
pub fn money(text: &str) -> Money {
    Money::parse(text).expect("test amounts are valid")
}

/// An instant the test wrote, in RFC 3339 with its offset.
pub fn at(text: &str) -> OccurredAt {
    OccurredAt::parse(text).expect("test instants are valid")
}

/// A contract id the test wrote.
pub fn contract(name: &str) -> ContractId {
    ContractId::parse(name).expect("test contract ids are valid")
}

/// A tenancy's pact: 250 euro a month, at most 300, with housing accompaniment and financial
/// education.
pub fn pact() -> Pact {
    Pact {
        monthly_rent: money("250.00"),
        rent_cap: money("300.00"),
        housing_accompaniment: true,
        financial_education: true,
    }
}

/// The command as of `when`, under a new event id.
pub fn submit(when: &str, command: Command) -> Submission {
    Submission {
        event_id: EventId::new_v4(),
        occurred_at: at(when),
        command,
    }
}
