//! One place per query: a statement both databases share is written once, as the body of
//! [`each_backend!`], which runs it on whichever database the store holds.
//!
//! Both databases read `$n` placeholders, and the schemas give every shared column a type
//! that binds and decodes the same way from Rust, so one body serves both. The macro compiles
//! the body once per backend, as a generic function would be compiled once per database (but
//! without the dozen `for<'q>` bounds sqlx asks of a function generic over its `Database`): a
//! value one database cannot bind fails to compile, never at run time. What truly differs
//! lives in `sqlite.rs` and `postgres.rs`, reached through the `dialect` a body may name (ADR
//! 0008).

use sqlx::{PgConnection, Postgres, Sqlite, SqliteConnection, Transaction};

use crate::{Store, StoreError};

/// Runs `$body` with `$x` bound to the backend inside `$value`: a `Store` (its backend store,
/// whose `pool` a read runs on), a `Conn` (a connection inside a transaction) or a `Tx`. With
/// `dialect` named, `$dialect` is that backend's module (`sqlite` or `postgres`), for the few
/// words the two dialects spell differently.
macro_rules! each_backend {
    ($value:expr, $kind:ident($x:ident) => $body:expr) => {
        match $value {
            $kind::Sqlite($x) => $body,
            $kind::Postgres($x) => $body,
        }
    };
    ($value:expr, $kind:ident($x:ident), $dialect:ident => $body:expr) => {
        match $value {
            $kind::Sqlite($x) => {
                use $crate::sqlite as $dialect;
                $body
            }
            $kind::Postgres($x) => {
                use $crate::postgres as $dialect;
                $body
            }
        }
    };
}

pub(crate) use each_backend;

/// A connection inside a transaction, borrowed from a [`Write`], a read transaction or a
/// backend's own append.
pub(crate) enum Conn<'c> {
    Sqlite(&'c mut SqliteConnection),
    Postgres(&'c mut PgConnection),
}

/// An open transaction on either database.
pub(crate) enum Tx {
    Sqlite(Transaction<'static, Sqlite>),
    Postgres(Transaction<'static, Postgres>),
}

impl Tx {
    pub(crate) fn conn(&mut self) -> Conn<'_> {
        match self {
            Tx::Sqlite(tx) => Conn::Sqlite(tx),
            Tx::Postgres(tx) => Conn::Postgres(tx),
        }
    }

    pub(crate) async fn commit(self) -> Result<(), StoreError> {
        each_backend!(self, Tx(tx) => tx.commit().await?);
        Ok(())
    }
}

/// A write transaction, serialised as its backend serialises writers (see `begin_write` in
/// `sqlite.rs` and `postgres.rs`); the guard, if any, is released when it is dropped.
pub(crate) struct Write<'s> {
    pub(crate) tx: Tx,
    pub(crate) _writer: Option<tokio::sync::MutexGuard<'s, ()>>,
}

impl Write<'_> {
    pub(crate) fn conn(&mut self) -> Conn<'_> {
        self.tx.conn()
    }

    pub(crate) async fn commit(self) -> Result<(), StoreError> {
        self.tx.commit().await
    }
}

impl Store {
    /// A write transaction on either database.
    pub(crate) async fn begin_write(&self) -> Result<Write<'_>, StoreError> {
        each_backend!(self, Store(store) => store.begin_write().await)
    }

    /// A read transaction that sees one snapshot of the database throughout.
    pub(crate) async fn begin_read(&self) -> Result<Tx, StoreError> {
        each_backend!(self, Store(store) => store.begin_read().await)
    }
}
