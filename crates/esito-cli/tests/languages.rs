//! Italian and English side by side: every label and title of the templates, every glossary
//! term and every error title exists in both languages, and the Italian texts use the words of
//! the glossary, not the ones it retires.

use std::path::{Path, PathBuf};

use esito_api::titles;
use esito_indicators::templates;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn read(path: &str) -> String {
    std::fs::read_to_string(root().join(path)).unwrap_or_else(|error| panic!("{path}: {error}"))
}

/// Words the Italian texts do not use, each with the glossary's word for it.
const RETIRED: [(&str, &str); 9] = [
    ("ente pagatore", "amministrazione committente"),
    ("enti pagatori", "amministrazioni committenti"),
    ("beneficiari", "destinatario, destinatari"),
    ("tetto", "massimale"),
    ("tetti", "massimali"),
    (
        "traguard",
        "obiettivo del patto / del percorso, valore obiettivo, esito atteso",
    ),
    ("busta", "intestazione dell'evento"),
    ("al più", "al massimo, non oltre"),
    ("riscattat", "utilizzato (un token), erogato (un servizio)"),
];

/// The retired words a text uses, as whole words (or word stems, for those that end in
/// `traguard`, `riscattat`, `beneficiari`).
fn retired_words(text: &str) -> Vec<&'static str> {
    let lower = text.to_lowercase();
    RETIRED
        .iter()
        .filter(|(word, _)| {
            lower.match_indices(word).any(|(at, _)| {
                let before = lower[..at].chars().next_back();
                let after = lower[at + word.len()..].chars().next();
                let stem = matches!(*word, "traguard" | "riscattat" | "beneficiari");
                before.is_none_or(|c| !c.is_alphanumeric())
                    && (stem || after.is_none_or(|c| !c.is_alphanumeric()))
            })
        })
        .map(|(word, _)| *word)
        .collect()
}

/// One text in both languages: neither empty, and not the same text (a copy is one language).
fn both(at: &str, it: &str, en: &str, problems: &mut Vec<String>) {
    if it.trim().is_empty() || en.trim().is_empty() {
        problems.push(format!(
            "{at}: it = {it:?}, en = {en:?}: a language is missing"
        ));
    } else if it.trim() == en.trim() {
        problems.push(format!("{at}: the same text in both languages: {it:?}"));
    }
    let retired = retired_words(it);
    if !retired.is_empty() {
        problems.push(format!("{at}: the Italian {it:?} uses {retired:?}"));
    }
}

#[test]
fn every_label_and_title_of_the_templates_is_in_italian_and_in_english() {
    let mut problems = Vec::new();
    for (template, _) in templates::FILES {
        let definitions = templates::embedded(template)
            .expect("a template")
            .expect("the template parses");
        // A title is a programme's name: the same in both languages, but never missing.
        if definitions.title.it.trim().is_empty() || definitions.title.en.trim().is_empty() {
            problems.push(format!("{template}: the title lacks a language"));
        }
        for theme in &definitions.themes {
            let at = format!("{template} theme {}", theme.id);
            both(&at, &theme.label.it, &theme.label.en, &mut problems);
        }
        for indicator in &definitions.indicators {
            let at = format!("{template}.{}", indicator.id);
            both(&at, &indicator.label.it, &indicator.label.en, &mut problems);
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn every_label_of_the_settlement_page_is_in_italian_and_in_english() {
    let mut problems = Vec::new();
    for label in esito_settlement::PAGE_LABELS {
        both(label.en, label.it, label.en, &mut problems);
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn every_error_title_is_in_italian_and_in_english() {
    let mut problems = Vec::new();
    for (rule, title) in titles::SETTLEMENT_RULES {
        assert_eq!(titles::of_code(rule), title, "{rule}");
        both(
            &format!("title of {rule}"),
            title.it,
            title.en,
            &mut problems,
        );
    }
    for code in titles::CODES {
        let title = titles::of(code);
        both(code.as_str(), title.it, title.en, &mut problems);
    }
    both(
        "a domain rule",
        titles::RULE.it,
        titles::RULE.en,
        &mut problems,
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The glossary's rows: (English, Italian).
fn glossary_rows(page: &str) -> Vec<(String, String)> {
    page.lines()
        .filter(|line| line.starts_with("| ") && !line.starts_with("| word "))
        .filter(|line| !line.starts_with("|---"))
        .map(|line| {
            let cells: Vec<&str> = line.trim_matches('|').split(" | ").collect();
            (
                cells.first().map_or("", |cell| cell.trim()).to_owned(),
                cells.get(1).map_or("", |cell| cell.trim()).to_owned(),
            )
        })
        .collect()
}

#[test]
fn every_glossary_term_is_in_both_languages_and_the_pas_terms_are_there() {
    let page = read("docs/glossary.md");
    let rows = glossary_rows(&page);
    assert!(
        rows.len() > 40,
        "the glossary's table reads: {} rows",
        rows.len()
    );
    let mut problems = Vec::new();
    for (english, italian) in &rows {
        if english.is_empty() || italian.is_empty() {
            problems.push(format!("`{english}` | `{italian}`: a language is missing"));
        }
        let retired = retired_words(italian);
        if !retired.is_empty() {
            problems.push(format!("`{italian}` uses {retired:?}"));
        }
    }
    let italian: Vec<&str> = rows.iter().map(|(_, italian)| italian.as_str()).collect();
    for term in [
        "amministrazione committente",
        "soggetto gestore",
        "soggetto finanziatore",
        "soggetto valutatore",
        "destinatario",
        "massimale di periodo",
        "massimale contrattuale",
        "conguaglio",
        "premio di risultato",
        "metodo dei più alti resti",
        "attestazione di regolare esecuzione",
        "determina di liquidazione",
        "mandato di pagamento",
    ] {
        if !italian.iter().any(|cell| cell.starts_with(term)) {
            problems.push(format!("the glossary has no row for `{term}`"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The Italian section of a bilingual page: from its `## Italiano` heading to the next `## `.
fn italian_section(page: &str) -> &str {
    let start = page.find("\n## Italiano").expect("an Italian section");
    let rest = &page[start + 1..];
    let end = rest[3..].find("\n## ").map_or(rest.len(), |end| end + 3);
    &rest[..end]
}

#[test]
fn the_italian_of_the_methodology_and_the_settlement_guide_uses_the_glossarys_words() {
    let mut problems = Vec::new();
    for path in ["docs/methodology.md", "docs/settlement.md"] {
        let page = read(path);
        for (number, line) in italian_section(&page).lines().enumerate() {
            // Quotations of the definitions' English text and code are not Italian prose.
            let prose: String = line.split('`').step_by(2).collect::<Vec<_>>().join(" ");
            let retired = retired_words(&prose);
            if !retired.is_empty() {
                problems.push(format!(
                    "{path}, Italian section line {}: {retired:?} in {line:?}",
                    number + 1
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn a_text_in_one_language_or_with_a_retired_word_is_found() {
    let mut problems = Vec::new();
    both("empty", "", "Accesses", &mut problems);
    both("copied", "Accesses", "Accesses", &mut problems);
    both(
        "retired",
        "Token riscattati",
        "Tokens redeemed",
        &mut problems,
    );
    both("retired", "Tetto di periodo", "Period cap", &mut problems);
    assert_eq!(problems.len(), 4, "{problems:?}");
    let mut fine = Vec::new();
    both(
        "fine",
        "Prestazioni erogate con token",
        "Tokens redeemed",
        &mut fine,
    );
    both("fine", "Spesa di un altro tettore", "x", &mut fine);
    assert!(fine.is_empty(), "{fine:?}");
    assert_eq!(
        glossary_rows("| word | italiano | meaning |\n|---|---|---|\n| cap |  | the most |\n"),
        [("cap".to_owned(), String::new())]
    );
}
