//! The contract templates' indicator files under `projections/`, built into the binary as
//! ready-made definitions a registration may name; the catalogue `decide` checks definitions
//! with; the definitions a contract's log records (their text, or a template's name only in
//! entries written before the text was recorded); and the definitions parsed from a log's text,
//! kept by SHA-256.
//!
//! Invariant: a log whose entries record the definitions' text is computed from that text
//! alone; a built-in file is read only for an entry that names a template without its text,
//! and then only if its SHA-256 is the one the projection was derived with.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, OnceLock};

use esito_domain::{CheckedDefinitions, DefinitionsCatalog};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::definitions::{DefinitionError, Definitions};
use crate::facts::EntryView;

/// Each template's name and file, as checked in.
pub const FILES: [(&str, &str); 4] = [
    ("cuneo", include_str!("../../../projections/cuneo.toml")),
    ("torino", include_str!("../../../projections/torino.toml")),
    ("prato", include_str!("../../../projections/prato.toml")),
    ("cremona", include_str!("../../../projections/cremona.toml")),
];

/// Whether the built-in files are hidden ([`hide_built_ins`]).
static HIDDEN: AtomicBool = AtomicBool::new(false);

/// Hides the four built-in files from [`built_in`], [`embedded`] and the catalogue for the
/// rest of the process: what a binary without them computes. The `esito` binary calls it when
/// `ESITO_HIDE_BUILT_IN_DEFINITIONS=1` is set, so a test shows an export computed from its own
/// text alone; a service never sets it.
pub fn hide_built_ins() {
    HIDDEN.store(true, Ordering::SeqCst);
}

fn built_ins_hidden() -> bool {
    HIDDEN.load(Ordering::SeqCst)
}

/// The text of the built-in template `name`.
pub fn built_in_text(name: &str) -> Option<&'static str> {
    if built_ins_hidden() {
        return None;
    }
    FILES
        .iter()
        .find(|(file, _)| *file == name)
        .map(|(_, text)| *text)
}

/// The catalogue `decide` checks definitions with: the built-in files as ready-made templates,
/// and [`Definitions::parse`], the check every file passes.
#[derive(Debug)]
pub struct Catalog;

/// The one catalogue, for `DecisionContext::definitions`.
pub static CATALOG: Catalog = Catalog;

impl DefinitionsCatalog for Catalog {
    fn template_text(&self, name: &str) -> Option<&'static str> {
        built_in_text(name)
    }

    fn check(&self, text: &str) -> Result<CheckedDefinitions, String> {
        let checked = |definitions: &Definitions| CheckedDefinitions {
            template: definitions.template.clone(),
            sha256: definitions
                .sha256
                .parse()
                .expect("a SHA-256 in hex is a hash"),
            indicators: definitions
                .indicators
                .iter()
                .map(|indicator| indicator.id.clone())
                .collect(),
            outcomes: definitions
                .outcomes
                .iter()
                .map(|outcome| outcome.id.clone())
                .collect(),
            beneficiary_fields: definitions.beneficiary_fields(),
        };
        let definitions = from_text(text).map_err(|error| error.to_string())?;
        Ok(checked(definitions))
    }
}

fn sha256_hex(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// Definitions parsed from a log's text, by SHA-256. Each distinct text a log records is parsed
/// once and kept for the life of the process: a log records a text at registration and at each
/// amendment of its definitions, so they are as many as those entries.
fn texts() -> &'static Mutex<HashMap<String, &'static Definitions>> {
    static TEXTS: OnceLock<Mutex<HashMap<String, &'static Definitions>>> = OnceLock::new();
    TEXTS.get_or_init(Default::default)
}

/// The definitions of a text a log recorded, parsed earlier by [`from_text`].
pub fn recorded(sha256: &str) -> Option<&'static Definitions> {
    texts()
        .lock()
        .expect("the definitions' lock is never poisoned")
        .get(sha256)
        .copied()
}

/// The definitions of a text a log records, parsed once and kept (see [`texts`]).
pub fn from_text(text: &str) -> Result<&'static Definitions, DefinitionError> {
    let sha = sha256_hex(text);
    if let Some(known) = recorded(&sha) {
        return Ok(known);
    }
    let parsed: &'static Definitions = Box::leak(Box::new(Definitions::parse(text)?));
    texts()
        .lock()
        .expect("the definitions' lock is never poisoned")
        .insert(sha, parsed);
    Ok(parsed)
}

/// The definitions a log records, as an entry names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NamedDefinitions<'a> {
    pub template: &'a str,
    /// The text, in entries that record it.
    pub text: Option<&'a str>,
    /// Its SHA-256, as the entry records it.
    pub sha256: Option<&'a str>,
}

/// The definitions an entry records: the registration's, or an amendment's new ones.
pub fn definitions_named(entry: EntryView<'_>) -> Option<NamedDefinitions<'_>> {
    let named = match entry.event_type {
        "ContractRegistered" => entry.payload,
        "ContractAmended" => entry
            .payload
            .get("changes")?
            .as_array()?
            .iter()
            .rev()
            .find(|change| change.get("kind").and_then(Value::as_str) == Some("template"))?,
        _ => return None,
    };
    Some(NamedDefinitions {
        template: named.get("template")?.as_str()?,
        text: named.get("definitions").and_then(Value::as_str),
        sha256: named.get("definitions_sha256").and_then(Value::as_str),
    })
}

/// The definitions an entry records, parsed: from its text when it holds one (which must hash
/// to the SHA-256 it records), else the built-in file of the template it names.
pub fn definitions_of_entry(
    named: NamedDefinitions<'_>,
) -> Option<Result<&'static Definitions, DefinitionError>> {
    match named.text {
        Some(text) => {
            let parsed = from_text(text);
            if let (Ok(definitions), Some(sha)) = (&parsed, named.sha256) {
                if definitions.sha256 != sha {
                    return Some(Err(DefinitionError::TextDisagreesWithHash {
                        recorded: sha.to_owned(),
                        computed: definitions.sha256.clone(),
                    }));
                }
            }
            Some(parsed)
        }
        None => built_in(named.template).map(|parsed| parsed.map_err(Clone::clone)),
    }
}

/// The definitions of a template built into the binary, parsed once and kept for the life of
/// the process; none while [`hide_built_ins`] holds.
pub fn built_in(template: &str) -> Option<Result<&'static Definitions, &'static DefinitionError>> {
    if built_ins_hidden() {
        return None;
    }
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
    definitions_named(entry).map(|named| named.template.to_owned())
}
