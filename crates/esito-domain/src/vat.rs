//! How VAT is paid (docs/design.md §5): in the ordinary way, to the operator with the net
//! amount; or under split payment (*scissione dei pagamenti*, art. 17-ter DPR 633/72), where
//! a public body pays the operator the net amount and the VAT directly to the Treasury (Erario).
//!
//! Invariant: `Ordinary` is the default and is never written (`skip_serializing_if`), so terms
//! and events recorded before split payment existed read, hash and serialize as they did.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Who receives the VAT of the contract's invoices and settlements.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum VatRegime {
    /// The operator is paid the net amount plus VAT.
    #[default]
    Ordinary,
    /// The operator is paid the net amount; the payer pays the VAT to the Treasury.
    SplitPayment,
}

impl VatRegime {
    pub fn is_ordinary(&self) -> bool {
        *self == VatRegime::Ordinary
    }

    pub fn as_str(self) -> &'static str {
        match self {
            VatRegime::Ordinary => "ordinary",
            VatRegime::SplitPayment => "split_payment",
        }
    }
}

/// Who a payment goes to: the operator, or the Treasury (the VAT, under split payment).
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Payee {
    #[default]
    Operator,
    Treasury,
}

impl Payee {
    pub fn is_operator(&self) -> bool {
        *self == Payee::Operator
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Payee::Operator => "operator",
            Payee::Treasury => "treasury",
        }
    }
}
