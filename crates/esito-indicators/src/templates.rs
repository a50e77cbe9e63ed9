//! The contract templates' indicator files under `projections/`, built into the binary so that
//! the service and the offline re-computation read the same bytes; and which template a
//! contract's log names.

use std::sync::OnceLock;

use serde_json::Value;

use crate::definitions::{DefinitionError, Definitions};
use crate::facts::EntryView;

/// Each template's name and file, as checked in.
pub const FILES: [(&str, &str); 4] = [
    ("cuneo", include_str!("../../../projections/cuneo.toml")),
    ("torino", include_str!("../../../projections/torino.toml")),
    ("prato", include_str!("../../../projections/prato.toml")),
    ("cremona", include_str!("../../../projections/cremona.toml")),
];

/// The definitions of a template built into the binary, parsed once and kept for the life of
/// the process.
pub fn built_in(template: &str) -> Option<Result<&'static Definitions, &'static DefinitionError>> {
    static PARSED: OnceLock<Vec<Result<Definitions, DefinitionError>>> = OnceLock::new();
    let parsed = PARSED.get_or_init(|| {
        FILES
            .iter()
            .map(|(_, text)| Definitions::parse(text))
            .collect()
    });
    FILES
        .iter()
        .position(|(name, _)| *name == template)
        .map(|index| parsed[index].as_ref())
}

/// A copy of [`built_in`]'s definitions, for a caller that changes them.
pub fn embedded(template: &str) -> Option<Result<Definitions, DefinitionError>> {
    built_in(template).map(|parsed| parsed.cloned().map_err(Clone::clone))
}

/// The template an entry names: the registration's, or an amendment's new one.
pub fn template_named(entry: EntryView<'_>) -> Option<String> {
    match entry.event_type {
        "ContractRegistered" => entry.payload.get("template")?.as_str().map(str::to_owned),
        "ContractAmended" => entry
            .payload
            .get("changes")?
            .as_array()?
            .iter()
            .rev()
            .find(|change| change.get("kind").and_then(Value::as_str) == Some("template"))?
            .get("template")?
            .as_str()
            .map(str::to_owned),
        _ => None,
    }
}
