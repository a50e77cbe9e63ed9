//! What a settlement is computed from, gathered from a contract's log by one function: the same online from the store and offline from an export. No I/O.
//!
//! The settlement engine (`esito-settlement`) reads no log: it is given indicator values,
//! terms and history. This crate gathers them, as of a pinned log position:
//!
//! 1. [`Books::from_entries`] reads the streams a settlement depends on (the contract's terms,
//!    Cremona's phases, the earlier settlements) from the log's entries up to the position;
//! 2. [`Books::needs`] says which indicator values and facts to fetch: the period's own, and
//!    those of every earlier settled period, which is recomputed to be restated;
//! 3. the caller fetches them into [`Figures`]: the store from its projection, the offline
//!    tool from an export projected in memory ([`offline`]);
//! 4. [`settlement_input`] assembles the engine's input from the books and the figures, and
//!    [`settle`] runs the engine on it.
//!
//! Steps 1, 2 and 4 are the same code online and offline, and step 3 yields the same figures
//! (the indicator crate's own invariant), so the two settlements agree to the cent, byte for
//! byte once serialized.

mod books;
mod error;
mod gather;
pub mod indigo;
pub mod offline;

pub use books::{recorded, Books, Needed, BOOK_STREAM_TYPES};
pub use error::BooksError;
pub use gather::{settle, settlement_input, terms_sha256, Figures, Gathered, Settled};
