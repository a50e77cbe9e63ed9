//! The themes of the grid: Cuneo's four themes × four areas, and a theme a file does not
//! declare refused naming the indicator and the field.

use esito_indicators::definitions::Area;
use esito_indicators::{templates, DefinitionError, Definitions};

const THEMED: &str = r#"
template = "t"
title = { it = "t", en = "t" }

[[theme]]
id = "territory"
label = { it = "Risposta da parte del territorio", en = "The territory's response" }

[[indicator]]
id = "accesses"
area = "reach"
theme = "territory"
kind = "count"
unit = "accesses"
label = { it = "Accessi", en = "Accesses" }
events = ["AccessRecorded"]
"#;

fn refusal(text: &str) -> (String, String, String) {
    match Definitions::parse(text) {
        Err(DefinitionError::Invalid {
            indicator,
            field,
            reason,
        }) => (indicator, field, reason),
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[test]
fn every_cuneo_indicator_names_a_theme_and_the_grid_has_four_themes_by_four_areas() {
    let definitions = templates::embedded("cuneo")
        .expect("cuneo is built in")
        .expect("cuneo's definitions parse");
    let themes: Vec<&str> = definitions.themes.iter().map(|t| t.id.as_str()).collect();
    assert_eq!(
        themes,
        [
            "service_delivery",
            "territory_response",
            "model_attractiveness",
            "user_empowerment"
        ]
    );
    let italian: Vec<&str> = definitions
        .themes
        .iter()
        .map(|t| t.label.it.as_str())
        .collect();
    assert_eq!(
        italian,
        [
            "Realizzazioni e gestione servizi da parte degli operatori",
            "Risposta da parte del territorio",
            "Attrattività del modello",
            "Aumento capacitazione degli utenti"
        ]
    );
    for indicator in &definitions.indicators {
        assert!(
            indicator.theme.is_some(),
            "cuneo's indicator {} names no theme",
            indicator.id
        );
    }
    let grid = esito_indicators::themes::grid(&definitions.themes, &definitions.indicators);
    assert_eq!(grid.len(), 16, "four themes by four areas");
    for cell in &grid {
        assert!(
            !cell.indicators.is_empty(),
            "no cuneo indicator in the cell {} × {:?}",
            cell.theme,
            cell.area
        );
    }
    for area in [
        Area::Reach,
        Area::Utilisation,
        Area::Change,
        Area::EconomicProxy,
    ] {
        assert!(definitions.indicators.iter().any(|i| i.area == area));
    }
}

#[test]
fn cuneo_counts_the_provider_network() {
    let definitions = templates::embedded("cuneo")
        .expect("cuneo is built in")
        .expect("cuneo's definitions parse");
    for (id, theme) in [
        ("providers_accredited", "service_delivery"),
        ("providers_requesting_accreditation", "model_attractiveness"),
        ("products_listed", "service_delivery"),
        ("service_families_covered", "service_delivery"),
    ] {
        let indicator = definitions
            .indicator(id)
            .unwrap_or_else(|| panic!("cuneo has no indicator {id}"));
        assert_eq!(indicator.theme.as_deref(), Some(theme), "{id}");
    }
}

#[test]
fn a_themed_file_parses_and_an_unknown_theme_is_refused_naming_the_field() {
    let definitions = Definitions::parse(THEMED).expect("valid definitions");
    assert_eq!(
        definitions.indicators[0].theme.as_deref(),
        Some("territory")
    );
    let (indicator, field, reason) =
        refusal(&THEMED.replace("theme = \"territory\"\nkind", "theme = \"territori\"\nkind"));
    assert_eq!((indicator.as_str(), field.as_str()), ("accesses", "theme"));
    assert!(reason.contains("`territori`"), "{reason}");
}

#[test]
fn with_themes_declared_an_indicator_without_one_is_refused() {
    let (indicator, field, _) = refusal(&THEMED.replace("theme = \"territory\"\nkind", "kind"));
    assert_eq!((indicator.as_str(), field.as_str()), ("accesses", "theme"));
}

#[test]
fn a_theme_in_a_file_that_declares_none_is_refused() {
    let undeclared = THEMED.replace(
        "[[theme]]\nid = \"territory\"\nlabel = { it = \"Risposta da parte del territorio\", en = \"The territory's response\" }\n",
        "",
    );
    let (indicator, field, _) = refusal(&undeclared);
    assert_eq!((indicator.as_str(), field.as_str()), ("accesses", "theme"));
}

#[test]
fn a_theme_declared_twice_or_labelled_in_one_language_is_refused() {
    let twice = THEMED.replace(
        "\n[[indicator]]",
        "\n[[theme]]\nid = \"territory\"\nlabel = { it = \"x\", en = \"x\" }\n\n[[indicator]]",
    );
    let (theme, field, _) = refusal(&twice);
    assert_eq!((theme.as_str(), field.as_str()), ("territory", "theme.id"));
    let one_language = THEMED.replace("en = \"The territory's response\"", "en = \" \"");
    let (theme, field, _) = refusal(&one_language);
    assert_eq!(
        (theme.as_str(), field.as_str()),
        ("territory", "theme.label")
    );
}
