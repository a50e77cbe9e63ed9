//! The indicators of a contract's whole term as the dashboard shows them, kept per contract
//! with the position they were read as of.
//!
//! Invariant: kept reports are shown only while the log's head is still the position they were
//! read as of. The log only grows and every figure is a function of the log up to a position,
//! so an unchanged head means unchanged figures; any entry appended moves the head, and the
//! next dashboard reads the term again (`esito_api::screens::reports`).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use esito_api::error::ApiError;
use esito_api::{screens, AppState};
use esito_domain::ContractId;
use esito_indicators::{IndicatorReport, Period};

/// The term's reports, read as of `as_of`.
struct Kept {
    as_of: u64,
    periods: Vec<Period>,
    reports: Arc<Vec<IndicatorReport>>,
}

/// The last term's reports read for each contract.
#[derive(Default)]
pub struct Reports {
    by_contract: Mutex<HashMap<ContractId, Arc<Kept>>>,
}

impl Reports {
    /// The indicators of each of `periods` as of the head: those kept when the head has not
    /// moved since they were read, otherwise read again (and kept).
    pub async fn of_term(
        &self,
        api: &AppState,
        contract: &ContractId,
        periods: &[Period],
    ) -> Result<Arc<Vec<IndicatorReport>>, ApiError> {
        let head = screens::head(api, contract).await?;
        if let Some(kept) = self.kept(contract) {
            if kept.as_of == head && kept.periods == periods {
                return Ok(kept.reports.clone());
            }
        }
        let reports = Arc::new(screens::reports(api, contract, periods).await?);
        if let Some(first) = reports.first() {
            let kept = Kept {
                as_of: first.as_of,
                periods: periods.to_vec(),
                reports: reports.clone(),
            };
            self.lock().insert(contract.clone(), Arc::new(kept));
        }
        Ok(reports)
    }

    /// The position the contract's kept reports were read as of, if any are kept.
    pub fn kept_as_of(&self, contract: &ContractId) -> Option<u64> {
        self.kept(contract).map(|kept| kept.as_of)
    }

    fn kept(&self, contract: &ContractId) -> Option<Arc<Kept>> {
        self.lock().get(contract).cloned()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<ContractId, Arc<Kept>>> {
        // A panic while holding the lock cannot leave the map half-written: each change is one
        // insert.
        self.by_contract
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
