//! The beneficiary stream: a person or household by pseudonym, its circumstances over time
//! (ISEE band, household size, flags, each update from a date), and what the services centre
//! did for it: need assessments and referrals to services of the territory.
//!
//! Why assessments and referrals live here and not in a `case` stream of their own: the seeds
//! describe no case with a life of its own (no opening, closing or owner), only acts of the
//! centre about one person ("analisi del bisogno", then a service activated or the person
//! oriented to the territory); every rule about them is about that person (registered,
//! assessed before referred), which this one stream checks without reading another; and the
//! person's stream already orders all that is known about them, which indicators read per
//! beneficiary. A programme that opens and closes cases can add a `case` stream later without
//! moving these events.
//!
//! Invariant: nothing is recorded about a beneficiary before its registration; updates are
//! held in `effective_on` order and a referral follows an assessment.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::{does_not_fit, inconsistent, non_empty, DecisionContext};
use crate::commands::Command;
use crate::errors::DomainError;
use crate::events::{
    BeneficiaryRegistered, BeneficiaryUpdated, Event, IdentityErased, NeedAssessed, ReferralMade,
};
use crate::values::{OccurredAt, StreamId};

/// Household sizes the domain accepts: 1 person to a very large family.
const HOUSEHOLD_SIZE_RANGE: std::ops::RangeInclusive<u8> = 1..=20;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "status")]
pub enum BeneficiaryState {
    #[default]
    NotRegistered,
    Registered(Beneficiary),
}

/// A registered beneficiary: its registration and everything recorded about it since.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Beneficiary {
    pub registered: BeneficiaryRegistered,
    /// In `effective_on` order.
    #[serde(default)]
    pub updates: Vec<BeneficiaryUpdated>,
    #[serde(default)]
    pub assessments: Vec<NeedAssessed>,
    #[serde(default)]
    pub referrals: Vec<ReferralMade>,
}

impl Beneficiary {
    /// A beneficiary just registered, with nothing recorded since.
    pub fn new(registered: BeneficiaryRegistered) -> Self {
        Self {
            registered,
            updates: Vec::new(),
            assessments: Vec::new(),
            referrals: Vec::new(),
        }
    }

    /// The beneficiary's circumstances on `date`: the registration with every update effective
    /// on or before it.
    pub fn profile_on(&self, date: NaiveDate) -> BeneficiaryRegistered {
        let mut profile = self.registered.clone();
        for update in self
            .updates
            .iter()
            .take_while(|update| update.effective_on <= date)
        {
            if let Some(band) = update.isee_band {
                profile.isee_band = Some(band);
            }
            if let Some(size) = update.household_size {
                profile.household_size = Some(size);
            }
            if let Some(flags) = &update.flags {
                profile.flags = flags.clone();
            }
        }
        profile
    }

    fn latest_update_on(&self) -> Option<NaiveDate> {
        self.updates.last().map(|update| update.effective_on)
    }
}

impl BeneficiaryState {
    /// The beneficiary, if registered.
    pub fn registered(&self) -> Option<&Beneficiary> {
        match self {
            BeneficiaryState::Registered(beneficiary) => Some(beneficiary),
            BeneficiaryState::NotRegistered => None,
        }
    }

    /// The beneficiary's circumstances on `date` (`Beneficiary::profile_on`). `None` for a
    /// beneficiary never registered.
    pub fn profile_on(&self, date: NaiveDate) -> Option<BeneficiaryRegistered> {
        self.registered()
            .map(|beneficiary| beneficiary.profile_on(date))
    }

    pub(super) fn evolve(&mut self, event: &Event) -> Result<(), DomainError> {
        let beneficiary = match (&mut *self, event) {
            (BeneficiaryState::NotRegistered, Event::BeneficiaryRegistered(registered)) => {
                *self = BeneficiaryState::Registered(Beneficiary::new(registered.clone()));
                return Ok(());
            }
            (BeneficiaryState::NotRegistered, _) => {
                return Err(inconsistent(event, "the beneficiary is not registered"))
            }
            (BeneficiaryState::Registered(beneficiary), _) => beneficiary,
        };
        match event {
            Event::BeneficiaryUpdated(update) => {
                if beneficiary
                    .latest_update_on()
                    .is_some_and(|latest| update.effective_on < latest)
                {
                    return Err(inconsistent(event, "dated before the latest update"));
                }
                if update
                    .household_size
                    .is_some_and(|size| !HOUSEHOLD_SIZE_RANGE.contains(&size))
                {
                    return Err(inconsistent(event, "household size out of range"));
                }
                beneficiary.updates.push(update.clone());
            }
            // The person's identity left the vault; the pseudonym's record stays as it was.
            // An outcome changes no rule of the stream: indicators count it.
            Event::IdentityErased(_) | Event::OutcomeRecorded(_) => {}
            Event::NeedAssessed(assessed) => beneficiary.assessments.push(assessed.clone()),
            Event::ReferralMade(referral) => {
                if beneficiary.assessments.is_empty() {
                    return Err(inconsistent(event, "no assessment precedes the referral"));
                }
                beneficiary.referrals.push(referral.clone());
            }
            _ => {
                return Err(inconsistent(
                    event,
                    "the stream already holds it or cannot hold it",
                ))
            }
        }
        Ok(())
    }
}

fn check_household_size(household_size: u8) -> Result<(), DomainError> {
    if HOUSEHOLD_SIZE_RANGE.contains(&household_size) {
        Ok(())
    } else {
        Err(DomainError::HouseholdSizeOutOfRange { household_size })
    }
}

/// Circumstances left out of a registration must be ones the contract's definitions in force
/// on `date` do not read (of `BeneficiaryRegistered` or `BeneficiaryUpdated`).
fn check_unread(
    missing: &[&'static str],
    context: &DecisionContext,
    date: NaiveDate,
) -> Result<(), DomainError> {
    let Some(first) = missing.first() else {
        return Ok(());
    };
    let required = |field| DomainError::BeneficiaryFieldRequired { field };
    let contract = context
        .contract
        .contract()
        .ok_or(DomainError::ContractNotRegistered)?;
    let catalog = context.definitions.ok_or(required(*first))?;
    let (template, text) = contract.definitions_on(date);
    let text = text
        .or_else(|| catalog.template_text(template))
        .ok_or(required(*first))?;
    let read = catalog
        .check(text)
        .map_err(|_| required(*first))?
        .beneficiary_fields;
    match missing
        .iter()
        .find(|field| read.iter().any(|one| one == *field))
    {
        Some(field) => Err(required(field)),
        None => Ok(()),
    }
}

fn registered<'a>(
    beneficiary_id: &StreamId,
    state: &'a BeneficiaryState,
) -> Result<&'a Beneficiary, DomainError> {
    state
        .registered()
        .ok_or_else(|| DomainError::UnknownBeneficiary {
            beneficiary_id: beneficiary_id.clone(),
        })
}

pub(super) fn decide(
    command: &Command,
    at: OccurredAt,
    state: &BeneficiaryState,
    context: &DecisionContext,
) -> Result<Event, DomainError> {
    match command {
        Command::RegisterBeneficiary {
            beneficiary_id,
            isee_band,
            household_size,
            age_band,
            flags,
        } => {
            if state.registered().is_some() {
                return Err(DomainError::BeneficiaryAlreadyRegistered {
                    beneficiary_id: beneficiary_id.clone(),
                });
            }
            if let Some(size) = household_size {
                check_household_size(*size)?;
            }
            let missing: Vec<&'static str> = [
                ("isee_band", isee_band.is_none()),
                ("household_size", household_size.is_none()),
                ("age_band", age_band.is_none()),
            ]
            .into_iter()
            .filter_map(|(field, missing)| missing.then_some(field))
            .collect();
            check_unread(&missing, context, at.local_date())?;
            let mut flags = flags.clone();
            flags.sort();
            flags.dedup();
            Ok(Event::BeneficiaryRegistered(BeneficiaryRegistered {
                isee_band: *isee_band,
                household_size: *household_size,
                age_band: *age_band,
                flags,
            }))
        }
        Command::UpdateBeneficiary {
            beneficiary_id,
            effective_on,
            isee_band,
            household_size,
            flags,
        } => {
            let beneficiary = registered(beneficiary_id, state)?;
            if isee_band.is_none() && household_size.is_none() && flags.is_none() {
                return Err(DomainError::UpdateChangesNothing);
            }
            if let Some(size) = household_size {
                check_household_size(*size)?;
            }
            if let Some(latest_on) = beneficiary.latest_update_on() {
                if *effective_on < latest_on {
                    return Err(DomainError::DateBeforeLatestChange {
                        field: "effective_on",
                        date: *effective_on,
                        latest_on,
                    });
                }
            }
            let flags = flags.as_ref().map(|flags| {
                let mut flags = flags.clone();
                flags.sort();
                flags.dedup();
                flags
            });
            Ok(Event::BeneficiaryUpdated(BeneficiaryUpdated {
                effective_on: *effective_on,
                isee_band: *isee_band,
                household_size: *household_size,
                flags,
            }))
        }
        Command::EraseIdentity { beneficiary_id } => {
            registered(beneficiary_id, state)?;
            Ok(Event::IdentityErased(IdentityErased {}))
        }
        Command::AssessNeed {
            beneficiary_id,
            needs,
            score,
        } => {
            registered(beneficiary_id, state)?;
            if needs.is_empty() {
                return Err(DomainError::FieldEmpty { field: "needs" });
            }
            let mut needs = needs.clone();
            needs.sort();
            needs.dedup();
            Ok(Event::NeedAssessed(NeedAssessed {
                needs,
                score: *score,
            }))
        }
        Command::MakeReferral {
            beneficiary_id,
            to_service,
            reason,
        } => {
            let beneficiary = registered(beneficiary_id, state)?;
            non_empty("to_service", to_service)?;
            non_empty("reason", reason)?;
            if beneficiary.assessments.is_empty() {
                return Err(DomainError::ReferralWithoutAssessment {
                    beneficiary_id: beneficiary_id.clone(),
                });
            }
            Ok(Event::ReferralMade(ReferralMade {
                to_service: to_service.clone(),
                reason: reason.clone(),
            }))
        }
        other => Err(does_not_fit(other)),
    }
}
