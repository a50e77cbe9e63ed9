//! Indicator definitions: one TOML file per contract template under `projections/`, parsed and
//! checked into typed definitions of the seven kinds of docs/design.md §4.
//!
//! Invariant: a `Definitions` only exists for a file whose every indicator names known event
//! types, payload fields those events have, and the parameters its kind needs; the SHA-256 of
//! the file's exact bytes travels with it, so every value can say which definitions made it.

use std::collections::{BTreeMap, BTreeSet};

use esito_domain::events::Event;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub use crate::outcomes::Outcome;
use crate::outcomes::{check_outcomes, check_outcomes_selected};
use crate::reads::{event_bit, payload_reads, EventReads};
use crate::selection::{check_field, check_selection};
use crate::themes::Theme;

/// The four impact areas.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Area {
    Reach,
    Utilisation,
    Change,
    EconomicProxy,
}

/// A text in Italian and English.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Labels {
    pub it: String,
    pub en: String,
}

/// The field an indicator reads: a payload path (`beneficiary_id`, `pact.monthly_rent`) or the
/// envelope's stream id, written `@stream_id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldRef {
    StreamId,
    Payload(Vec<String>),
}

impl FieldRef {
    pub(crate) fn parse(text: &str) -> Self {
        if text == "@stream_id" {
            FieldRef::StreamId
        } else {
            FieldRef::Payload(text.split('.').map(str::to_owned).collect())
        }
    }
}

/// Which events a measure takes: their types, and the values their payload fields must hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selection {
    pub events: BTreeSet<String>,
    /// Field path → accepted values (a string, a boolean written `"true"`/`"false"`, or the
    /// `kind` of a tagged value such as `{"kind": "referred", ...}`).
    pub filters: Vec<(Vec<String>, BTreeSet<String>)>,
}

/// A count, distinct count or sum over selected events: the parts of a ratio.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Measure {
    Count,
    Distinct(FieldRef),
    Sum(FieldRef),
}

/// How `savings` measures `actual`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Actual {
    /// Days from the start event's date to the outcome event's date.
    DaysSinceStart,
    /// Nothing was spent before the outcome (the whole baseline is avoided).
    Zero,
}

/// Where `savings` takes its unit cost.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UnitCost {
    Fixed(Decimal),
    /// A money field of the start event.
    StartField(FieldRef),
    /// A money field of the outcome event.
    OutcomeField(FieldRef),
}

/// The seven kinds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    Count {
        select: Selection,
    },
    Distinct {
        select: Selection,
        field: FieldRef,
    },
    Sum {
        select: Selection,
        field: FieldRef,
    },
    Ratio {
        numerator: (Selection, Measure),
        denominator: (Selection, Measure),
    },
    Occupancy {
        available: Selection,
        withdrawn: Option<Selection>,
        occupied: Selection,
        vacated: Selection,
    },
    CohortShare {
        entered: Selection,
        reached: Selection,
        within_days: u32,
        key: FieldRef,
    },
    Savings {
        start: Option<Selection>,
        outcome: Selection,
        key: FieldRef,
        baseline: Decimal,
        actual: Actual,
        unit_cost: UnitCost,
    },
}

impl Kind {
    pub fn name(&self) -> &'static str {
        match self {
            Kind::Count { .. } => "count",
            Kind::Distinct { .. } => "distinct",
            Kind::Sum { .. } => "sum",
            Kind::Ratio { .. } => "ratio",
            Kind::Occupancy { .. } => "occupancy",
            Kind::CohortShare { .. } => "cohort_share",
            Kind::Savings { .. } => "savings",
        }
    }
}

/// One indicator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Indicator {
    pub id: String,
    pub area: Area,
    /// The theme of the grid (`crate::themes`) the indicator belongs to, if its file declares
    /// themes.
    pub theme: Option<String>,
    pub label: Labels,
    pub unit: String,
    pub kind: Kind,
    /// The key that identifies a beneficiary's outcome (for caps per beneficiary), if any.
    pub beneficiary: Option<FieldRef>,
    /// The parameters the seeds do not give, said in words.
    pub assumption: Option<String>,
    /// The seed's passage, in Italian, that a parameter comes from (docs/assumptions.md).
    pub source: Option<String>,
    /// The event types its selections name, as the bits of [`event_bit`]: `derive` looks
    /// further only at the indicators that may select an entry.
    pub(crate) selected: u128,
}

/// A template's indicators, with the SHA-256 of the file they were read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Definitions {
    pub template: String,
    pub title: Labels,
    /// The themes the file declares, in its order (`crate::themes`); empty if none.
    pub themes: Vec<Theme>,
    /// The outcomes `OutcomeRecorded` may name, in file order.
    pub outcomes: Vec<Outcome>,
    pub indicators: Vec<Indicator>,
    /// Hex SHA-256 of the file's bytes.
    pub sha256: String,
    /// Each event type some indicator selects, with the top-level payload fields the
    /// indicators read from such an event, in event type order; built from `indicators` when
    /// they are parsed. Removing indicators leaves it a superset, which still holds every
    /// field read. A list, because a few comparisons by length first cost less than a search.
    reads: Vec<EventReads>,
}

/// A rule a definitions file breaks, naming the indicator and the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DefinitionError {
    #[error("the definitions are not valid TOML for this format: {0}")]
    Syntax(String),
    #[error("the recorded definitions hash to {computed}, not to the SHA-256 {recorded} recorded with them")]
    TextDisagreesWithHash { recorded: String, computed: String },
    #[error("indicator `{indicator}`, field `{field}`: {reason}")]
    Invalid {
        indicator: String,
        field: String,
        reason: String,
    },
}

impl Definitions {
    /// The fields of `BeneficiaryRegistered` and `BeneficiaryUpdated` the indicators read:
    /// what a registration may not leave out.
    pub fn beneficiary_fields(&self) -> Vec<String> {
        let mut fields: Vec<String> = self
            .reads
            .iter()
            .filter(|reads| {
                matches!(
                    reads.event_type.as_str(),
                    "BeneficiaryRegistered" | "BeneficiaryUpdated"
                )
            })
            .flat_map(|reads| reads.fields.iter().cloned())
            .collect();
        fields.sort();
        fields.dedup();
        fields
    }

    /// Parses and checks a definitions file.
    pub fn parse(text: &str) -> Result<Self, DefinitionError> {
        let file: DefinitionsFile =
            toml::from_str(text).map_err(|error| DefinitionError::Syntax(error.to_string()))?;
        let schemas = payload_fields();
        let outcomes = check_outcomes(file.outcomes)?;
        let mut seen = BTreeSet::new();
        let mut indicators = Vec::with_capacity(file.indicators.len());
        for raw in file.indicators {
            if !seen.insert(raw.id.clone()) {
                return Err(invalid(&raw.id, "id", "defined twice in the same file"));
            }
            let indicator = raw.check(&schemas)?;
            check_outcomes_selected(&indicator, &outcomes)?;
            indicators.push(indicator);
        }
        crate::themes::check(&file.themes, &indicators)?;
        let reads = payload_reads(&indicators);
        Ok(Self {
            template: file.template,
            title: file.title,
            themes: file.themes,
            outcomes,
            indicators,
            sha256: hex::encode(Sha256::digest(text.as_bytes())),
            reads,
        })
    }

    pub fn indicator(&self, id: &str) -> Option<&Indicator> {
        self.indicators.iter().find(|indicator| indicator.id == id)
    }

    /// Whether some indicator selects events of this type: an entry of any other type
    /// contributes no facts.
    pub fn selects_event(&self, event_type: &str) -> bool {
        self.event_reads(event_type).is_some()
    }

    /// The top-level payload fields the indicators may read from an event of this type (in
    /// filters, keys, amounts and beneficiaries), in order and each once; `None` if no
    /// indicator selects it.
    pub fn payload_fields_read(&self, event_type: &str) -> Option<&[String]> {
        self.event_reads(event_type)
            .map(|reads| reads.fields.as_slice())
    }

    /// The bit of an event type some indicator selects, for [`Indicator::may_select`]; `None`
    /// if no indicator selects it.
    pub(crate) fn selected_bit(&self, event_type: &str) -> Option<u128> {
        self.event_reads(event_type).map(|reads| reads.bit)
    }

    fn event_reads(&self, event_type: &str) -> Option<&EventReads> {
        self.reads
            .iter()
            .find(|reads| reads.event_type == event_type)
    }
}

pub(crate) fn invalid(indicator: &str, field: &str, reason: impl Into<String>) -> DefinitionError {
    DefinitionError::Invalid {
        indicator: indicator.to_owned(),
        field: field.to_owned(),
        reason: reason.into(),
    }
}

// ---------------------------------------------------------------------------------------------
// The file format, as written; `check` turns it into the typed definitions above.

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DefinitionsFile {
    template: String,
    title: Labels,
    #[serde(rename = "theme", default)]
    themes: Vec<Theme>,
    #[serde(rename = "outcome", default)]
    outcomes: Vec<Outcome>,
    /// None at all is a contract that computes nothing yet (the synthetic load's).
    #[serde(rename = "indicator", default)]
    indicators: Vec<IndicatorFile>,
}

#[derive(Deserialize)]
#[serde(untagged)]
pub(crate) enum FilterValues {
    One(String),
    Flag(bool),
    Many(Vec<String>),
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct SelectionFile {
    events: Vec<String>,
    #[serde(rename = "where", default)]
    filters: BTreeMap<String, FilterValues>,
    /// For a ratio's parts: `count`, `distinct` or `sum`.
    #[serde(default)]
    measure: Option<String>,
    #[serde(default)]
    field: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct IndicatorFile {
    id: String,
    area: Area,
    #[serde(default)]
    theme: Option<String>,
    label: Labels,
    unit: String,
    kind: String,
    #[serde(default)]
    assumption: Option<String>,
    #[serde(default)]
    source: Option<String>,
    #[serde(default)]
    beneficiary: Option<String>,
    // count, distinct, sum
    #[serde(default)]
    events: Option<Vec<String>>,
    #[serde(rename = "where", default)]
    filters: BTreeMap<String, FilterValues>,
    #[serde(default)]
    field: Option<String>,
    // ratio
    #[serde(default)]
    numerator: Option<SelectionFile>,
    #[serde(default)]
    denominator: Option<SelectionFile>,
    // occupancy
    #[serde(default)]
    available: Option<SelectionFile>,
    #[serde(default)]
    withdrawn: Option<SelectionFile>,
    #[serde(default)]
    occupied: Option<SelectionFile>,
    #[serde(default)]
    vacated: Option<SelectionFile>,
    // cohort_share
    #[serde(default)]
    entered: Option<SelectionFile>,
    #[serde(default)]
    reached: Option<SelectionFile>,
    #[serde(default)]
    within_days: Option<u32>,
    // savings (and cohort_share's key)
    #[serde(default)]
    key: Option<String>,
    #[serde(default)]
    start: Option<SelectionFile>,
    #[serde(default)]
    outcome: Option<SelectionFile>,
    #[serde(default)]
    baseline: Option<String>,
    #[serde(default)]
    actual: Option<Actual>,
    #[serde(default)]
    unit_cost: Option<String>,
    #[serde(default)]
    unit_cost_field: Option<String>,
    /// `start` or `outcome`: which event holds `unit_cost_field`.
    #[serde(default)]
    unit_cost_from: Option<String>,
}

/// The payload field names of each event type, from the domain's JSON Schemas.
fn payload_fields() -> BTreeMap<&'static str, BTreeSet<String>> {
    Event::payload_schemas()
        .into_iter()
        .map(|(event_type, schema)| {
            let fields = schema
                .as_value()
                .get("properties")
                .and_then(|properties| properties.as_object())
                .map(|properties| properties.keys().cloned().collect())
                .unwrap_or_default();
            (event_type, fields)
        })
        .collect()
}

impl IndicatorFile {
    fn check(
        self,
        schemas: &BTreeMap<&'static str, BTreeSet<String>>,
    ) -> Result<Indicator, DefinitionError> {
        let id = self.id.clone();
        if id.is_empty()
            || !id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        {
            return Err(invalid(&id, "id", "use lower-case letters, digits and `_`"));
        }
        let selection = |name: &str, file: &SelectionFile| -> Result<Selection, DefinitionError> {
            check_selection(&id, name, &file.events, &file.filters, schemas)
        };
        let field_of = |name: &str, text: &Option<String>, events: &BTreeSet<String>| {
            let text = text
                .as_deref()
                .ok_or_else(|| invalid(&id, name, "required for this kind"))?;
            check_field(&id, name, text, events, schemas)
        };
        let required =
            |name: &str, part: &Option<SelectionFile>| -> Result<Selection, DefinitionError> {
                let part = part
                    .as_ref()
                    .ok_or_else(|| invalid(&id, name, "required for this kind"))?;
                selection(name, part)
            };
        let kind = match self.kind.as_str() {
            "count" | "distinct" | "sum" => {
                let events = self
                    .events
                    .as_ref()
                    .ok_or_else(|| invalid(&id, "events", "required for this kind"))?;
                let select = check_selection(&id, "where", events, &self.filters, schemas)?;
                match self.kind.as_str() {
                    "count" => Kind::Count { select },
                    "distinct" => {
                        let field = field_of("field", &self.field, &select.events)?;
                        Kind::Distinct { select, field }
                    }
                    _ => {
                        let field = field_of("field", &self.field, &select.events)?;
                        Kind::Sum { select, field }
                    }
                }
            }
            "ratio" => {
                let part = |name: &str, file: &Option<SelectionFile>| {
                    let file = file
                        .as_ref()
                        .ok_or_else(|| invalid(&id, name, "required for a ratio"))?;
                    let select = selection(name, file)?;
                    let measure = match file.measure.as_deref().unwrap_or("count") {
                        "count" => Measure::Count,
                        "distinct" => Measure::Distinct(field_of(
                            &format!("{name}.field"),
                            &file.field,
                            &select.events,
                        )?),
                        "sum" => Measure::Sum(field_of(
                            &format!("{name}.field"),
                            &file.field,
                            &select.events,
                        )?),
                        other => {
                            return Err(invalid(
                                &id,
                                &format!("{name}.measure"),
                                format!("`{other}` is not count, distinct or sum"),
                            ))
                        }
                    };
                    Ok((select, measure))
                };
                Kind::Ratio {
                    numerator: part("numerator", &self.numerator)?,
                    denominator: part("denominator", &self.denominator)?,
                }
            }
            "occupancy" => Kind::Occupancy {
                available: required("available", &self.available)?,
                withdrawn: self
                    .withdrawn
                    .as_ref()
                    .map(|file| selection("withdrawn", file))
                    .transpose()?,
                occupied: required("occupied", &self.occupied)?,
                vacated: required("vacated", &self.vacated)?,
            },
            "cohort_share" => {
                let entered = required("entered", &self.entered)?;
                let reached = required("reached", &self.reached)?;
                let within_days = self
                    .within_days
                    .ok_or_else(|| invalid(&id, "within_days", "required for a cohort share"))?;
                let both: BTreeSet<String> =
                    entered.events.union(&reached.events).cloned().collect();
                let key = check_field(
                    &id,
                    "key",
                    self.key.as_deref().unwrap_or("@stream_id"),
                    &both,
                    schemas,
                )?;
                Kind::CohortShare {
                    entered,
                    reached,
                    within_days,
                    key,
                }
            }
            "savings" => {
                let outcome = required("outcome", &self.outcome)?;
                let start = self
                    .start
                    .as_ref()
                    .map(|file| selection("start", file))
                    .transpose()?;
                let mut both = outcome.events.clone();
                if let Some(start) = &start {
                    both.extend(start.events.iter().cloned());
                }
                let key = check_field(
                    &id,
                    "key",
                    self.key.as_deref().unwrap_or("@stream_id"),
                    &both,
                    schemas,
                )?;
                let baseline = decimal(&id, "baseline", self.baseline.as_deref())?;
                let actual = self
                    .actual
                    .ok_or_else(|| invalid(&id, "actual", "required: days_since_start or zero"))?;
                if actual == Actual::DaysSinceStart && start.is_none() {
                    return Err(invalid(
                        &id,
                        "start",
                        "required when actual is days_since_start",
                    ));
                }
                let unit_cost = match (&self.unit_cost, &self.unit_cost_field) {
                    (Some(cost), None) => UnitCost::Fixed(decimal(&id, "unit_cost", Some(cost))?),
                    (None, Some(_)) => match self.unit_cost_from.as_deref().unwrap_or("outcome") {
                        "outcome" => UnitCost::OutcomeField(field_of(
                            "unit_cost_field",
                            &self.unit_cost_field,
                            &outcome.events,
                        )?),
                        "start" => {
                            let start = start.as_ref().ok_or_else(|| {
                                invalid(&id, "unit_cost_from", "there is no start selection")
                            })?;
                            UnitCost::StartField(field_of(
                                "unit_cost_field",
                                &self.unit_cost_field,
                                &start.events,
                            )?)
                        }
                        other => {
                            return Err(invalid(
                                &id,
                                "unit_cost_from",
                                format!("`{other}` is not start or outcome"),
                            ))
                        }
                    },
                    _ => {
                        return Err(invalid(
                            &id,
                            "unit_cost",
                            "give exactly one of unit_cost and unit_cost_field",
                        ))
                    }
                };
                Kind::Savings {
                    start,
                    outcome,
                    key,
                    baseline,
                    actual,
                    unit_cost,
                }
            }
            other => {
                return Err(invalid(
                    &id,
                    "kind",
                    format!(
                        "`{other}` is not one of count, distinct, sum, ratio, occupancy, \
                         cohort_share, savings"
                    ),
                ))
            }
        };
        let beneficiary = match &self.beneficiary {
            None => None,
            Some(text) => {
                let events = match &kind {
                    Kind::Count { select }
                    | Kind::Distinct { select, .. }
                    | Kind::Sum { select, .. } => select.events.clone(),
                    _ => BTreeSet::new(),
                };
                Some(check_field(&id, "beneficiary", text, &events, schemas)?)
            }
        };
        let mut indicator = Indicator {
            id: self.id,
            area: self.area,
            theme: self.theme,
            label: self.label,
            unit: self.unit,
            kind,
            beneficiary,
            assumption: self.assumption,
            source: self.source,
            selected: 0,
        };
        indicator.selected = indicator
            .selections()
            .iter()
            .flat_map(|(select, _)| &select.events)
            .fold(0, |bits, event| bits | event_bit(event));
        Ok(indicator)
    }
}

fn decimal(id: &str, field: &str, text: Option<&str>) -> Result<Decimal, DefinitionError> {
    let text = text.ok_or_else(|| invalid(id, field, "required for this kind"))?;
    text.parse::<Decimal>()
        .map_err(|_| invalid(id, field, format!("`{text}` is not a decimal number")))
}
