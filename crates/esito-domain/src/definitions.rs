//! A contract's indicator definitions as its log records them: the whole text of a definitions
//! file and its SHA-256, whether the contract names a ready-made template or brings its own.
//!
//! Invariant: the domain never reads a definitions text itself (the format and its check
//! against the events belong to `esito-indicators`, which depends on this crate); `decide` asks
//! a [`DefinitionsCatalog`] the caller hands it, and records only what the catalogue accepted.

use esito_log::Hash;

/// The most bytes a definitions text may hold: the four ready-made files hold under 5 KiB each.
pub const DEFINITIONS_BYTES_MAX: usize = 256 * 1024;

/// What `decide` asks about indicator definitions: the text of a ready-made template, and the
/// check of a text as the ready-made files are checked. `esito-indicators` answers it.
pub trait DefinitionsCatalog: std::fmt::Debug + Send + Sync {
    /// The text of the ready-made template `name`, if there is one.
    fn template_text(&self, name: &str) -> Option<&'static str>;
    /// Checks a definitions text; the reason names the indicator and the field at fault, or
    /// the line and column of a syntax error.
    fn check(&self, text: &str) -> Result<CheckedDefinitions, String>;
}

/// What a definitions text accepted by the catalogue declares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckedDefinitions {
    /// The `template` the text names itself by.
    pub template: String,
    /// SHA-256 of the text's bytes.
    pub sha256: Hash,
    /// The ids of its indicators, in file order.
    pub indicators: Vec<String>,
    /// The outcomes `OutcomeRecorded` may name, in file order.
    pub outcomes: Vec<String>,
    /// The fields of a beneficiary's registration or update its indicators read.
    pub beneficiary_fields: Vec<String>,
}
