//! Contract terms carried as data: the payment terms (docs/design.md §5: rules per indicator,
//! caps, VAT, payers) and the funder terms (disbursements, return tiers, the achievement index).
//!
//! Invariant: each value is checked by its type (`Money`, `Rate`, `Share`, `NonZeroU32`); what
//! needs the whole (shares that add up to one, a floor tier, no duplicates) is checked by
//! `check`, which `decide` runs before any event holds the terms. Figures (rates, targets, caps)
//! come from the contract, never from here.

use std::collections::BTreeSet;
use std::num::NonZeroU32;

use chrono::NaiveDate;
use rust_decimal::Decimal;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::errors::DomainError;
use crate::events::{ContractRegistered, PeriodKind};
use crate::procurement::Procurement;
use crate::values::{Currency, Money, Rate, Share};
use crate::vat::VatRegime;

/// How the outcome payment of a period is computed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PaymentTerms {
    /// One rule per indicator (or per deliverable, for milestones).
    pub rules: Vec<PaymentRule>,
    /// The currency of every amount of these terms and of the settlements (ISO 4217); the
    /// euro when left out.
    #[serde(default, skip_serializing_if = "Currency::is_euro")]
    pub currency: Currency,
    /// The most a single period may pay, before VAT.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub period_cap: Option<Money>,
    /// What the payer appropriated for the whole contract, before VAT.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contract_cap: Option<Money>,
    /// VAT on the net total, where the contract has it (`"0.22"`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vat_rate: Option<Rate>,
    /// How the VAT is paid: `"ordinary"` (to the operator, the default, what terms recorded
    /// before this field read as) or `"split_payment"` (to the Treasury, art. 17-ter DPR
    /// 633/72), which needs a `vat_rate`.
    #[serde(default, skip_serializing_if = "VatRegime::is_ordinary")]
    pub vat: VatRegime,
    /// Several payers sharing the contract; empty when the contract's payer pays everything.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub payers: Vec<PayerShare>,
}

/// One payment rule (the rule table of docs/design.md §5), tagged by `kind`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum PaymentRule {
    /// `rate × value` when `value ≥ threshold`, at most `cap`.
    RateCard {
        indicator: String,
        rate: Rate,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        threshold: Option<Rate>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cap: Option<Money>,
        /// How many times one beneficiary's outcome may count.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max_per_beneficiary: Option<NonZeroU32>,
        /// The most paid for one beneficiary over the whole contract.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cap_per_beneficiary: Option<Money>,
    },
    /// `amount × min(value ÷ target, cap_ratio)`, nothing below `threshold`.
    Target {
        indicator: String,
        target: Rate,
        threshold: Rate,
        amount: Money,
        cap_ratio: Rate,
    },
    /// `share × value` of a savings indicator (Torino's result premium), at most `cap`.
    SavingsShare {
        indicator: String,
        share: Share,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cap: Option<Money>,
    },
    /// A fixed amount when the deliverable is accepted, less the advance paid on it
    /// (Cremona: 30 % on signing, 70 % on delivery).
    Milestone {
        deliverable: String,
        amount: Money,
        advance_share: Share,
    },
}

impl PaymentRule {
    /// What the rule is about: an indicator id, or a deliverable for milestones.
    pub fn subject(&self) -> &str {
        match self {
            PaymentRule::RateCard { indicator, .. }
            | PaymentRule::Target { indicator, .. }
            | PaymentRule::SavingsShare { indicator, .. } => indicator,
            PaymentRule::Milestone { deliverable, .. } => deliverable,
        }
    }
}

/// One of several payers: it owes `share` of the net total, at most `cap`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PayerShare {
    pub name: String,
    pub share: Share,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cap: Option<Money>,
}

/// How the funder's capital is remunerated (docs/design.md §5, funder terms).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FunderTerms {
    /// Capital paid to the operator, in date order.
    pub disbursements: Vec<Disbursement>,
    /// The annual rate by achievement index, in `min_index` order; the tier at 0 is the floor.
    pub return_tiers: Vec<ReturnTier>,
    /// The indicators whose weighted achievement makes the index; weights add up to 1.
    pub targeted_indicators: Vec<TargetedIndicator>,
    /// The most of a payment that return and principal together may take.
    pub max_funder_share: Share,
    /// The share of principal still outstanding at the end that the guarantee covers.
    pub guarantee_share: Share,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Disbursement {
    pub on: NaiveDate,
    pub amount: Money,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReturnTier {
    pub min_index: Share,
    pub annual_rate: Rate,
}

/// An indicator of the achievement index: it counts `min(value ÷ target, 1) × weight`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TargetedIndicator {
    pub indicator: String,
    pub target: Rate,
    pub weight: Share,
}

/// One change an amendment makes, tagged by `kind`: the named term is replaced as a whole.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum ContractChange {
    TermEndOn {
        term_end_on: NaiveDate,
    },
    PeriodKind {
        period_kind: PeriodKind,
    },
    /// The indicator definitions: a ready-made template under `projections/` by its name, or
    /// a definitions text of the contract's own (`definitions`); the event records the text
    /// and its SHA-256 either way.
    Template {
        #[serde(default, skip_serializing_if = "String::is_empty")]
        template: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        definitions: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        #[schemars(with = "Option<String>")]
        definitions_sha256: Option<esito_log::Hash>,
    },
    /// A funder joins or replaces the funder (Prato's future social impact bond).
    Funder {
        funder: String,
    },
    PaymentTerms {
        payment_terms: PaymentTerms,
    },
    FunderTerms {
        funder_terms: FunderTerms,
    },
    /// The CIG, CUP and RUP the payment acts cite, all three replaced.
    Procurement {
        procurement: Procurement,
    },
    /// The ISEE bands' thresholds and tariff shares (Cuneo's e-commerce).
    TariffTerms {
        tariff_terms: TariffTerms,
    },
}

impl ContractChange {
    /// The term the change replaces, as its `kind` tag reads.
    pub fn kind(&self) -> &'static str {
        match self {
            ContractChange::TermEndOn { .. } => "term_end_on",
            ContractChange::PeriodKind { .. } => "period_kind",
            ContractChange::Template { .. } => "template",
            ContractChange::Funder { .. } => "funder",
            ContractChange::PaymentTerms { .. } => "payment_terms",
            ContractChange::FunderTerms { .. } => "funder_terms",
            ContractChange::Procurement { .. } => "procurement",
            ContractChange::TariffTerms { .. } => "tariff_terms",
        }
    }
}

/// The terms of a contract in force on a date: the registration with every amendment
/// effective on or before that date applied in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContractTerms {
    pub title: String,
    pub template: String,
    /// SHA-256 of the definitions' text, where the log records it.
    pub definitions_sha256: Option<esito_log::Hash>,
    pub payer: String,
    pub funder: Option<String>,
    pub operator: String,
    pub evaluator: String,
    pub term_start_on: NaiveDate,
    pub term_end_on: NaiveDate,
    pub period_kind: PeriodKind,
    pub payment_terms: Option<PaymentTerms>,
    pub funder_terms: Option<FunderTerms>,
    /// The CIG, CUP and RUP the payment acts cite.
    pub procurement: Procurement,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tariff_terms: Option<TariffTerms>,
}

impl ContractTerms {
    pub fn registered(registration: &ContractRegistered) -> Self {
        Self {
            title: registration.title.clone(),
            template: registration.template.clone(),
            definitions_sha256: registration.definitions_sha256,
            payer: registration.payer.clone(),
            funder: registration.funder.clone(),
            operator: registration.operator.clone(),
            evaluator: registration.evaluator.clone(),
            term_start_on: registration.term_start_on,
            term_end_on: registration.term_end_on,
            period_kind: registration.period_kind,
            payment_terms: None,
            funder_terms: None,
            procurement: registration.procurement.clone(),
            tariff_terms: None,
        }
    }

    pub fn apply(&mut self, change: &ContractChange) {
        match change {
            ContractChange::TermEndOn { term_end_on } => self.term_end_on = *term_end_on,
            ContractChange::PeriodKind { period_kind } => self.period_kind = *period_kind,
            ContractChange::Template {
                template,
                definitions_sha256,
                ..
            } => {
                self.template = template.clone();
                self.definitions_sha256 = *definitions_sha256;
            }
            ContractChange::Funder { funder } => self.funder = Some(funder.clone()),
            ContractChange::PaymentTerms { payment_terms } => {
                self.payment_terms = Some(payment_terms.clone())
            }
            ContractChange::FunderTerms { funder_terms } => {
                self.funder_terms = Some(funder_terms.clone())
            }
            ContractChange::Procurement { procurement } => self.procurement = procurement.clone(),
            ContractChange::TariffTerms { tariff_terms } => {
                self.tariff_terms = Some(tariff_terms.clone())
            }
        }
    }

    pub fn contains(&self, date: NaiveDate) -> bool {
        self.term_start_on <= date && date <= self.term_end_on
    }

    /// Refuses a date of a command's field that lies outside the term.
    pub fn check_within(&self, field: &'static str, date: NaiveDate) -> Result<(), DomainError> {
        if self.contains(date) {
            Ok(())
        } else {
            Err(DomainError::FieldDateOutsideContractTerm {
                field,
                date,
                term_start_on: self.term_start_on,
                term_end_on: self.term_end_on,
            })
        }
    }
}

fn non_empty(field: &'static str, text: &str) -> Result<(), DomainError> {
    if text.trim().is_empty() {
        Err(DomainError::FieldEmpty { field })
    } else {
        Ok(())
    }
}

/// Refuses a list naming the same key twice.
fn distinct(
    field: &'static str,
    keys: impl IntoIterator<Item = String>,
) -> Result<(), DomainError> {
    let mut seen: BTreeSet<String> = BTreeSet::new();
    for key in keys {
        if !seen.insert(key.clone()) {
            return Err(DomainError::DuplicateInList { field, key });
        }
    }
    Ok(())
}

/// Shares that split a whole must add up to exactly one.
fn sums_to_one(
    field: &'static str,
    shares: impl Iterator<Item = Share>,
) -> Result<(), DomainError> {
    let total: Decimal = shares.map(Share::value).sum();
    if total == Decimal::ONE {
        Ok(())
    } else {
        Err(DomainError::SharesDoNotSumToOne { field, total })
    }
}

impl PaymentTerms {
    /// The rules between values: at least one rule, one rule per indicator or deliverable,
    /// targets above zero, a cap ratio not below its threshold, payers' shares adding up to 1.
    pub fn check(&self) -> Result<(), DomainError> {
        if self.rules.is_empty() {
            return Err(DomainError::FieldEmpty {
                field: "payment_terms.rules",
            });
        }
        for rule in &self.rules {
            match rule {
                PaymentRule::RateCard { indicator, .. }
                | PaymentRule::SavingsShare { indicator, .. } => {
                    non_empty("payment_terms.rules.indicator", indicator)?
                }
                PaymentRule::Target {
                    indicator,
                    target,
                    threshold,
                    cap_ratio,
                    ..
                } => {
                    non_empty("payment_terms.rules.indicator", indicator)?;
                    if target.value().is_zero() {
                        return Err(DomainError::TargetNotPositive {
                            indicator: indicator.clone(),
                        });
                    }
                    if cap_ratio < threshold {
                        return Err(DomainError::CapRatioBelowThreshold {
                            indicator: indicator.clone(),
                            cap_ratio: *cap_ratio,
                            threshold: *threshold,
                        });
                    }
                }
                PaymentRule::Milestone {
                    deliverable,
                    amount,
                    ..
                } => {
                    non_empty("payment_terms.rules.deliverable", deliverable)?;
                    if !amount.is_positive() {
                        return Err(DomainError::AmountNotPositive {
                            field: "payment_terms.rules.amount",
                        });
                    }
                }
            }
        }
        distinct(
            "payment_terms.rules",
            self.rules.iter().map(|rule| rule.subject().to_owned()),
        )?;
        if !self.vat.is_ordinary() && self.vat_rate.is_none() {
            return Err(DomainError::SplitPaymentWithoutVatRate);
        }
        if !self.payers.is_empty() {
            for payer in &self.payers {
                non_empty("payment_terms.payers.name", &payer.name)?;
            }
            distinct(
                "payment_terms.payers",
                self.payers.iter().map(|payer| payer.name.clone()),
            )?;
            sums_to_one(
                "payment_terms.payers",
                self.payers.iter().map(|payer| payer.share),
            )?;
        }
        Ok(())
    }
}

impl FunderTerms {
    /// The rules between values: disbursements above zero within the term, a floor tier at
    /// index 0 and no tier twice, targeted indicators with targets above zero and weights
    /// adding up to 1.
    pub fn check(&self, term: &ContractTerms) -> Result<(), DomainError> {
        if self.disbursements.is_empty() {
            return Err(DomainError::FieldEmpty {
                field: "funder_terms.disbursements",
            });
        }
        for disbursement in &self.disbursements {
            if !disbursement.amount.is_positive() {
                return Err(DomainError::AmountNotPositive {
                    field: "funder_terms.disbursements.amount",
                });
            }
            term.check_within("funder_terms.disbursements.on", disbursement.on)?;
        }
        if self.return_tiers.is_empty() {
            return Err(DomainError::FieldEmpty {
                field: "funder_terms.return_tiers",
            });
        }
        distinct(
            "funder_terms.return_tiers",
            self.return_tiers
                .iter()
                .map(|tier| tier.min_index.to_string()),
        )?;
        if !self
            .return_tiers
            .iter()
            .any(|tier| tier.min_index == Share::ZERO)
        {
            return Err(DomainError::ReturnTiersWithoutFloor);
        }
        if self.targeted_indicators.is_empty() {
            return Err(DomainError::FieldEmpty {
                field: "funder_terms.targeted_indicators",
            });
        }
        for targeted in &self.targeted_indicators {
            non_empty(
                "funder_terms.targeted_indicators.indicator",
                &targeted.indicator,
            )?;
            if targeted.target.value().is_zero() {
                return Err(DomainError::TargetNotPositive {
                    indicator: targeted.indicator.clone(),
                });
            }
        }
        distinct(
            "funder_terms.targeted_indicators",
            self.targeted_indicators
                .iter()
                .map(|targeted| targeted.indicator.clone()),
        )?;
        sums_to_one(
            "funder_terms.targeted_indicators",
            self.targeted_indicators.iter().map(|t| t.weight),
        )
    }

    /// The same terms in canonical order: disbursements by date, tiers by `min_index`, so that
    /// the settlement engine and an evaluator read them alike.
    pub fn sorted(&self) -> Self {
        let mut sorted = self.clone();
        sorted.disbursements.sort_by_key(|d| d.on);
        sorted.return_tiers.sort_by_key(|tier| tier.min_index);
        sorted
    }
}

// ---------------------------------------------------------------------------------------------
// Tariffs by ISEE band: the token money of Cuneo's e-commerce.

/// How a token's money is shared (docs/design.md §2, orders and tokens): the client pays the
/// tariff of its ISEE band, a share of the full tariff the provider is paid; the difference is
/// the solidarity cover of the reduced tariff. The bands' thresholds and shares are the
/// contract's parameters («tariffe differenziate per fasce ISEE», seed 000), never constants of
/// the code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TariffTerms {
    /// One per ISEE band, `a` to `d` in order: `a` the lowest ISEE.
    pub bands: Vec<BandTariff>,
}

/// One ISEE band: the ISEE it reaches up to and the share of the full tariff it pays.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BandTariff {
    pub band: crate::events::IseeBand,
    /// The ISEE (euro) below which a household is in the band, the band before it reaching up
    /// to its own; none for the last band, which holds every higher ISEE and those not declared.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub isee_below: Option<Money>,
    /// The share of the full tariff the band pays; the last band pays the full tariff (1).
    pub tariff_share: Share,
}

fn tariff_bands_invalid(field: &'static str, reason: &'static str) -> DomainError {
    DomainError::TariffBandsInvalid { field, reason }
}

impl TariffTerms {
    /// The rules between the bands: the four bands once each, in order; a threshold for each
    /// but the last, rising; shares above zero, rising with the band, the last one whole.
    pub fn check(&self) -> Result<(), DomainError> {
        let bands: Vec<crate::events::IseeBand> = self.bands.iter().map(|band| band.band).collect();
        if bands != crate::events::IseeBand::ALL {
            return Err(tariff_bands_invalid(
                "tariff_terms.bands.band",
                "the bands are a, b, c and d, each once and in that order",
            ));
        }
        let (last, rest) = self.bands.split_last().expect("four bands, checked");
        if last.isee_below.is_some() || rest.iter().any(|band| band.isee_below.is_none()) {
            return Err(tariff_bands_invalid(
                "tariff_terms.bands.isee_below",
                "every band but the last has a threshold; the last holds every higher ISEE",
            ));
        }
        if rest
            .windows(2)
            .any(|pair| pair[0].isee_below >= pair[1].isee_below)
        {
            return Err(tariff_bands_invalid(
                "tariff_terms.bands.isee_below",
                "the thresholds rise from one band to the next",
            ));
        }
        if self
            .bands
            .iter()
            .any(|band| band.tariff_share == Share::ZERO)
            || self
                .bands
                .windows(2)
                .any(|pair| pair[0].tariff_share > pair[1].tariff_share)
        {
            return Err(tariff_bands_invalid(
                "tariff_terms.bands.tariff_share",
                "the shares are above zero and never fall from one band to the next",
            ));
        }
        if last.tariff_share != Share::ONE {
            return Err(tariff_bands_invalid(
                "tariff_terms.bands.tariff_share",
                "the last band pays the full tariff, a share of 1",
            ));
        }
        Ok(())
    }

    /// The band of a household with this ISEE, by the thresholds of the terms.
    pub fn band_for(&self, isee: Money) -> crate::events::IseeBand {
        self.bands
            .iter()
            .find(|band| band.isee_below.is_none_or(|below| isee < below))
            .map_or(crate::events::IseeBand::D, |band| band.band)
    }

    /// The share of the full tariff the band pays.
    pub fn share(&self, band: crate::events::IseeBand) -> Share {
        self.bands
            .iter()
            .find(|terms| terms.band == band)
            .map_or(Share::ONE, |terms| terms.tariff_share)
    }

    /// What a client of the band pays for a service of this full tariff: the share of it,
    /// rounded to the cent.
    pub fn client_tariff(
        &self,
        band: crate::events::IseeBand,
        full_tariff: Money,
    ) -> Result<Money, DomainError> {
        Money::rounded(full_tariff.amount() * self.share(band).value())
            .map_err(|_| DomainError::AmountNotPositive { field: "amount" })
    }
}
