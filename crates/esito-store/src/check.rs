//! Checking commands against the log without writing them: what an import reports before it
//! writes anything.
//!
//! Invariant: each submission is decided exactly as `Store::append` would decide it sent alone,
//! after the accepted submissions before it (`group::plan`, the append's own planning), and
//! nothing is written: the transaction that read for the plan rolls back.

use esito_domain::{ContractId, Submission};

use crate::backend::each_backend;
use crate::group::Request;
use crate::ledger::Batch;
use crate::{AppendError, Store};

/// The most submissions one check decides: what one call of an import holds.
pub const CHECK_SIZE_MAX: usize = 100_000;

impl Store {
    /// Decides each submission in order, each as if sent alone after the accepted ones before
    /// it (a refused one changes nothing for the next), and writes nothing. One answer per
    /// submission: `None` when it would be written or is already in the log with the same
    /// content, or why it would be refused (its `index` is its own). `Err` when the database
    /// cannot be read, or for more than [`CHECK_SIZE_MAX`] submissions.
    pub async fn check(
        &self,
        contract_id: &ContractId,
        principal: &str,
        submissions: &[Submission],
    ) -> Result<Vec<Option<AppendError>>, AppendError> {
        if submissions.is_empty() {
            return Ok(Vec::new());
        }
        if submissions.len() > CHECK_SIZE_MAX {
            return Err(AppendError::BatchSize {
                size: submissions.len(),
            });
        }
        let requests: Vec<Request> = submissions
            .iter()
            .map(|submission| Request::new(principal, std::slice::from_ref(submission)))
            .collect();
        let batches: Vec<Batch<'_>> = requests
            .iter()
            .map(|request| request.batch(contract_id))
            .collect();
        let answers = each_backend!(self, Store(store) => store.check(&batches).await)?;
        answers
            .into_iter()
            .enumerate()
            .map(|(index, answer)| match answer {
                Ok(_) => Ok(None),
                Err(AppendError::Store(error)) => Err(AppendError::Store(error)),
                Err(AppendError::Rejected { error, .. }) => {
                    Ok(Some(AppendError::Rejected { index, error }))
                }
                Err(AppendError::EventIdReused { event_id, .. }) => {
                    Ok(Some(AppendError::EventIdReused { index, event_id }))
                }
                Err(other) => Ok(Some(other)),
            })
            .collect()
    }
}

