//! Themes: the evaluator's grid beside the four areas. A definitions file may declare its
//! themes (`[[theme]]`, each with an id and an Italian and English label); when it does, every
//! indicator names one of them, so each indicator sits in one cell of themes × areas.
//!
//! Invariant: a checked theme id is declared once in its file, and an indicator's theme is one
//! its file declares.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::definitions::{Area, DefinitionError, Indicator, Labels};

/// One theme of a template, as its file declares it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Theme {
    pub id: String,
    pub label: Labels,
}

/// Checks the declared themes and each indicator's theme: ids well formed and declared once;
/// with themes declared, every indicator names a declared one; with none declared, none names
/// any (a theme nobody declared has no label to show).
pub(crate) fn check(themes: &[Theme], indicators: &[Indicator]) -> Result<(), DefinitionError> {
    let mut declared = BTreeSet::new();
    for theme in themes {
        let well_formed = !theme.id.is_empty()
            && theme
                .id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !well_formed {
            return Err(refused(
                &theme.id,
                "theme.id",
                "use lower-case letters, digits and `_`",
            ));
        }
        if !declared.insert(theme.id.as_str()) {
            return Err(refused(
                &theme.id,
                "theme.id",
                "declared twice in the same file",
            ));
        }
        if theme.label.it.trim().is_empty() || theme.label.en.trim().is_empty() {
            return Err(refused(
                &theme.id,
                "theme.label",
                "give the label in Italian and in English",
            ));
        }
    }
    for indicator in indicators {
        match (&indicator.theme, declared.is_empty()) {
            (None, true) => {}
            (None, false) => {
                return Err(refused(
                    &indicator.id,
                    "theme",
                    "required: the file declares themes",
                ))
            }
            (Some(theme), true) => {
                return Err(refused(
                    &indicator.id,
                    "theme",
                    format!("`{theme}` is not declared: the file declares no themes"),
                ))
            }
            (Some(theme), false) if !declared.contains(theme.as_str()) => {
                return Err(refused(
                    &indicator.id,
                    "theme",
                    format!(
                        "`{theme}` is not one of the declared themes ({})",
                        declared.iter().copied().collect::<Vec<_>>().join(", ")
                    ),
                ))
            }
            (Some(_), false) => {}
        }
    }
    Ok(())
}

fn refused(indicator: &str, field: &str, reason: impl Into<String>) -> DefinitionError {
    DefinitionError::Invalid {
        indicator: indicator.to_owned(),
        field: field.to_owned(),
        reason: reason.into(),
    }
}

/// One cell of the grid: a theme and an area, with the ids of the indicators in it, in the
/// file's order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GridCell {
    pub theme: String,
    pub area: Area,
    pub indicators: Vec<String>,
}

/// The grid themes × areas: every cell, themes in the order the file declares them, areas in
/// their order (reach, utilisation, change, economic proxy); a cell no indicator fills has an
/// empty list, so an empty cell shows. Empty when the file declares no themes.
pub fn grid(themes: &[Theme], indicators: &[Indicator]) -> Vec<GridCell> {
    const AREAS: [Area; 4] = [
        Area::Reach,
        Area::Utilisation,
        Area::Change,
        Area::EconomicProxy,
    ];
    themes
        .iter()
        .flat_map(|theme| {
            AREAS.into_iter().map(move |area| GridCell {
                theme: theme.id.clone(),
                area,
                indicators: indicators
                    .iter()
                    .filter(|indicator| {
                        indicator.area == area
                            && indicator.theme.as_deref() == Some(theme.id.as_str())
                    })
                    .map(|indicator| indicator.id.clone())
                    .collect(),
            })
        })
        .collect()
}
