//! The answer to "what are the indicators for this period, as of this position": the same
//! document from the API and from `esito indicators --offline`; and the same over a range of
//! days given by dates.

use chrono::NaiveDate;
use serde::Serialize;

use crate::definitions::{Area, Definitions, Indicator, Labels};
use crate::evaluate::{value, Inputs, Value};
use crate::period::Period;
use crate::themes::{self, GridCell, Theme};
use crate::window::Window;

/// Every indicator of a template for one period, as of one log position.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IndicatorReport {
    pub contract_id: String,
    /// The log position the values are computed as of.
    pub as_of: u64,
    pub period: Period,
    pub start_on: NaiveDate,
    /// The first day after the period.
    pub end_on: NaiveDate,
    pub template: String,
    pub definitions_sha256: String,
    /// The themes the definitions declare; empty if none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub themes: Vec<Theme>,
    /// The grid themes × areas, themes first: which indicators fill each cell; empty if the
    /// definitions declare no themes.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub grid: Vec<GridCell>,
    pub indicators: Vec<IndicatorValue>,
}

/// One indicator's value with what it means.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct IndicatorValue {
    pub id: String,
    pub area: Area,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub theme: Option<String>,
    pub kind: &'static str,
    pub unit: String,
    pub label: Labels,
    /// `null` when the indicator has no value (a ratio whose denominator is 0).
    pub value: Option<Value>,
    /// The SHA-256 of the definitions file the value was computed with.
    pub definitions_sha256: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub assumption: Option<String>,
    /// The seed's passage a parameter comes from, in Italian.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

/// Builds the report, asking `inputs` for each indicator's inputs.
pub fn build(
    definitions: &Definitions,
    contract_id: &str,
    as_of: u64,
    period: Period,
    inputs: impl FnMut(&Indicator) -> Inputs,
) -> IndicatorReport {
    IndicatorReport {
        contract_id: contract_id.to_owned(),
        as_of,
        period,
        start_on: period.start_on(),
        end_on: period.end_on(),
        template: definitions.template.clone(),
        definitions_sha256: definitions.sha256.clone(),
        themes: definitions.themes.clone(),
        grid: themes::grid(&definitions.themes, &definitions.indicators),
        indicators: values(definitions, period.into(), inputs),
    }
}

/// Every indicator of a template over a range of days given by dates (`from`, and `to`, the
/// first day after it), as of one log position: each value is the one a period of those days
/// would have, by the same formula.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RangeReport {
    pub contract_id: String,
    pub as_of: u64,
    /// The first day of the range.
    pub from: NaiveDate,
    /// The first day after the range.
    pub to: NaiveDate,
    pub template: String,
    pub definitions_sha256: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub themes: Vec<Theme>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub grid: Vec<GridCell>,
    pub indicators: Vec<IndicatorValue>,
}

/// Builds the report over `window`, asking `inputs` for each indicator's inputs.
pub fn build_range(
    definitions: &Definitions,
    contract_id: &str,
    as_of: u64,
    window: Window,
    inputs: impl FnMut(&Indicator) -> Inputs,
) -> RangeReport {
    RangeReport {
        contract_id: contract_id.to_owned(),
        as_of,
        from: window.start_on(),
        to: window.end_on(),
        template: definitions.template.clone(),
        definitions_sha256: definitions.sha256.clone(),
        themes: definitions.themes.clone(),
        grid: themes::grid(&definitions.themes, &definitions.indicators),
        indicators: values(definitions, window, inputs),
    }
}

/// Each indicator's value over the window, with what it means.
fn values(
    definitions: &Definitions,
    window: Window,
    mut inputs: impl FnMut(&Indicator) -> Inputs,
) -> Vec<IndicatorValue> {
    definitions
        .indicators
        .iter()
        .map(|indicator| IndicatorValue {
            id: indicator.id.clone(),
            area: indicator.area,
            theme: indicator.theme.clone(),
            kind: indicator.kind.name(),
            unit: indicator.unit.clone(),
            label: indicator.label.clone(),
            value: value(indicator, window, &inputs(indicator)),
            definitions_sha256: definitions.sha256.clone(),
            assumption: indicator.assumption.clone(),
            source: indicator.source.clone(),
        })
        .collect()
}
