//! The payloads of a contract's settlement stream: calculated, validated, certified (the RUP's
//! *attestazione di regolare esecuzione*), approved (the *determina di liquidazione*), paid (the
//! *mandato di pagamento*), or withdrawn before it is validated. Each act after the validation
//! cites the contract's CIG and CUP as they stood when it was recorded.

use chrono::NaiveDate;
use esito_log::{Hash, KeyId};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::period::Period;
use crate::procurement::{Cig, Cup};

/// The checkpoint signed of the tree head a settlement was computed as of: with the
/// settlement's `as_of` (the size) and `root_hash`, the whole checkpoint of docs/design.md §3,
/// whose signature anyone holding the service's public key can check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SettlementCheckpoint {
    /// RFC 3339 in UTC.
    pub timestamp: String,
    #[schemars(with = "String")]
    pub key_id: KeyId,
    /// Base64 of the Ed25519 signature.
    pub signature: String,
}

/// A period's settlement, computed by the service (docs/design.md §5) from the log as it stood
/// at `as_of`: what it was computed from, and the whole document. A later calculation of the
/// same period, before it is approved, replaces it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SettlementCalculated {
    /// As docs/design.md §10 writes periods (`2024-Q1`).
    pub period: Period,
    pub period_start_on: NaiveDate,
    /// The first day after the period.
    pub period_end_on: NaiveDate,
    /// The log position the settlement was computed as of: the head when it was asked for.
    pub as_of: u64,
    /// The tree head (hex) at `as_of`.
    #[schemars(with = "String")]
    pub root_hash: Hash,
    /// The checkpoint signed at that moment; absent only when the service has no signing key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkpoint: Option<SettlementCheckpoint>,
    /// The indicator-definition template under `projections/` the values were computed with.
    pub template: String,
    /// SHA-256 (hex) of that template's file.
    #[schemars(with = "String")]
    pub definitions_sha256: Hash,
    /// SHA-256 (hex) of the RFC 8785 JSON of the terms in force for the period:
    /// `{"payment_terms": ..., "funder_terms": ...}` (`funder_terms` absent without a funder).
    #[schemars(with = "String")]
    pub terms_sha256: Hash,
    /// The last settlement of the contract's term: the funder's guarantee is called.
    pub final_settlement: bool,
    /// The settlement document (`schemas/settlement/SettlementDocument.json`), whole.
    #[schemars(with = "serde_json::Map<String, serde_json::Value>")]
    pub document: serde_json::Value,
}

/// The evaluator checked the settlement's figures (re-computed, for one, from an export).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SettlementValidated {
    pub period: Period,
    /// The `as_of` of the calculation validated: the one the evaluator checked.
    pub as_of: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// The CIG and CUP an act cites: the contract's when the act was recorded.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ActCodes {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cig: Option<Cig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cup: Option<Cup>,
}

impl ActCodes {
    pub fn is_empty(&self) -> bool {
        self.cig.is_none() && self.cup.is_none()
    }
}

/// The RUP certified the validated settlement: the *attestazione di regolare esecuzione*,
/// the statement that the work was done as agreed, on which the payment is liquidated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SettlementCertified {
    pub period: Period,
    /// The `as_of` of the calculation certified.
    pub as_of: u64,
    /// The date of the attestazione.
    pub certified_on: NaiveDate,
    /// The RUP who certified, by office and role, as the contract names it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rup: Option<String>,
    #[serde(default, skip_serializing_if = "ActCodes::is_empty")]
    pub codes: ActCodes,
}

/// The payer approved the validated (and, under the PA's acts, certified) settlement: the
/// *determina di liquidazione* (art. 184 TUEL). From here it is never calculated again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SettlementApproved {
    pub period: Period,
    /// The `as_of` of the calculation approved.
    pub as_of: u64,
    /// The determina's number; absent from approvals recorded before acts were (ADR 0016).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub determina_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub determina_date: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "ActCodes::is_empty")]
    pub codes: ActCodes,
}

/// The payer paid the approved settlement: its total with VAT, split as the document says;
/// the *mandato di pagamento* (art. 185 TUEL) ordered it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SettlementPaid {
    pub period: Period,
    pub paid_on: NaiveDate,
    /// The payment order or transfer that paid it.
    pub reference: String,
    /// The mandato's number; absent from payments recorded before acts were (ADR 0016).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mandato_number: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mandato_date: Option<NaiveDate>,
    #[serde(default, skip_serializing_if = "ActCodes::is_empty")]
    pub codes: ActCodes,
}

/// The payer withdrew the calculated settlement before the evaluator validated it (a fault
/// found in the log, say): it stands withdrawn until the period is calculated again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SettlementWithdrawn {
    pub period: Period,
    /// The `as_of` of the calculation withdrawn.
    pub as_of: u64,
    /// Why it was withdrawn, as the payer wrote it.
    pub reason: String,
}
