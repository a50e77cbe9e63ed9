//! Periods are the domain's type (`esito_domain::Period`), re-exported here for the indicators'
//! callers: one type from the log to the projection and the settlement.

pub use esito_domain::period::{Period, PeriodError};
