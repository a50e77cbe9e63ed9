//! A settlement's arithmetic in the reader's words. The document the API returns writes each
//! line's arithmetic in English (`5 × 10.00 = 50.00; cap 60.00 …`), and that text is what an
//! evaluator re-computes and compares; the pages show it with its words in Italian for an
//! Italian reader, its figures exactly as the document writes them.
//!
//! Invariant: only words change: every digit, sign and symbol of the document's text is
//! shown as it stands, in the same order (a test compares what is left once the words are
//! removed from both).

use crate::lang::Lang;

/// The English phrases of the settlement engine's arithmetic and their Italian, the longer
/// before the shorter they contain (replaced in this order). Append new rows before a row that
/// is part of them.
const PHRASES: &[(&str, &str)] = &[
    // The funder's waterfall and its index.
    (
        "the highest tier not above it starts at",
        "la fascia più alta che non lo supera parte da",
    ),
    ("average annual rate", "tasso medio annuo"),
    ("annual rate", "tasso annuo"),
    ("carried forward", "riportato al periodo successivo"),
    ("not recovered", "non recuperato"),
    ("outstanding", "in essere"),
    ("disbursed", "erogato"),
    ("repaid", "rimborsato"),
    ("principal", "capitale"),
    ("return", "rendimento"),
    ("accrued", "maturato"),
    ("index", "indice"),
    // VAT.
    (
        "without VAT (split payment)",
        "senza IVA (scissione dei pagamenti)",
    ),
    (
        "paid by the payer to the Treasury",
        "versata dall'amministrazione all'Erario",
    ),
    ("no VAT", "senza IVA"),
    ("net total", "totale imponibile"),
    ("VAT", "IVA"),
    // Rate cards, targets, caps and restatements.
    ("outcomes count, over", "esiti contano, su"),
    ("beneficiaries (see each)", "beneficiari (vedi ciascuno)"),
    ("in the period, at most", "nel periodo, al massimo"),
    ("counted before", "contati in precedenza"),
    ("owed before", "dovuti in precedenza"),
    ("left: owes", "residui: sono dovuti"),
    ("left: counts", "residui: ne contano"),
    ("the lines add up to", "le righe sommano"),
    (
        "left of the contract cap",
        "residuo del massimale contrattuale",
    ),
    ("at most the cap", "al massimo il massimale"),
    ("period cap", "massimale del periodo"),
    ("the total", "il totale"),
    ("recomputed", "ricalcolato"),
    ("settled", "liquidato"),
    ("uncovered", "non coperti"),
    ("threshold", "soglia"),
    ("before", "in precedenza"),
    ("counts", "ne contano"),
    ("left", "residui"),
    ("paid", "pagato"),
    ("cap", "massimale"),
    ("of", "di"),
];

/// The names of a line's figures (`rate = 10.00`) in Italian.
const FIGURES: &[(&str, &str)] = &[
    ("advance_paid", "anticipo versato"),
    ("amount", "importo"),
    ("cap_left", "massimale residuo"),
    ("cap_per_beneficiary", "massimale per beneficiario"),
    ("cap_ratio", "rapporto massimo"),
    ("cap", "massimale"),
    ("contract_cap", "massimale contrattuale"),
    ("lines_total", "totale delle righe"),
    ("max_per_beneficiary", "esiti massimi per beneficiario"),
    ("paid_to_date", "pagato finora"),
    ("period_cap", "massimale del periodo"),
    ("period_end_on", "fine del periodo"),
    ("period_start_on", "inizio del periodo"),
    ("rate", "tariffa"),
    ("ratio", "rapporto"),
    ("recomputed_net", "netto ricalcolato"),
    ("settled_net", "netto liquidato"),
    ("share", "quota"),
    ("target", "obiettivo"),
    ("threshold", "soglia"),
    ("total_before_cap", "totale prima del massimale"),
    ("value", "valore"),
];

/// `text`, an arithmetic of the settlement document, in `lang`'s words.
pub fn in_words(text: &str, lang: Lang) -> String {
    match lang {
        Lang::En => text.to_owned(),
        Lang::It => {
            let mut out = text.to_owned();
            for (english, italian) in PHRASES {
                out = replace_words(&out, english, italian);
            }
            out
        }
    }
}

/// A figure's name in `lang`: the document's own name in English.
pub fn figure_name(name: &str, lang: Lang) -> String {
    match lang {
        Lang::En => name.to_owned(),
        Lang::It => FIGURES
            .iter()
            .find(|(english, _)| *english == name)
            .map_or_else(|| name.to_owned(), |(_, italian)| (*italian).to_owned()),
    }
}

/// `text` with each whole-word occurrence of `from` replaced by `to` (not inside a longer word:
/// `of` in `off` stays).
fn replace_words(text: &str, from: &str, to: &str) -> String {
    let is_word = |c: char| c.is_alphanumeric() || c == '_';
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(from) {
        let before = rest[..at].chars().next_back();
        let after = rest[at + from.len()..].chars().next();
        out.push_str(&rest[..at]);
        if before.is_some_and(is_word) || after.is_some_and(is_word) {
            out.push_str(from);
        } else {
            out.push_str(to);
        }
        rest = &rest[at + from.len()..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Lines as the settlement engine writes them, one of each kind of sentence.
    const SAMPLES: &[&str] = &[
        "5 × 10.00 = 50.00",
        "3 ≥ threshold 2; 12 of 15 outcomes count, over 4 beneficiaries (see each): Σ = 120.00; at most the cap 100.00: 100.00",
        "2 in the period, at most 3 − 1 counted before = 2 left: counts 2",
        "cap 60.00 − 10.00 before = 50.00 left: 50.00",
        "the lines add up to 70.00 > period cap 60.00: 70.00 − 60.00 = 10.00",
        "2023-Q3 recomputed 50.00 − settled 40.00 = 10.00",
        "left of the contract cap: 100.00; the total 120.00 > 100.00: 120.00 − 100.00 = 20.00",
        "net total 7000.00, without VAT (split payment)",
        "VAT 1540.00, paid by the payer to the Treasury (art. 17-ter DPR 633/72)",
        "7000.00 + VAT 1540.00 = 8540.00",
        "net total 50.00, no VAT",
        "cap 100.00 − 40.00 owed before = 60.00 left: owes 60.00",
        "100.00 − 60.00 = 40.00 uncovered",
        "index = round6(0.5 × 1.2) = 0.6; the highest tier not above it starts at 0.5: annual rate 0.03",
        "principal: 100.00 disbursed − 20.00 repaid = 80.00; return: 5.00 accrued − 2.00 paid = 3.00 carried forward; average annual rate: round6(3.00 × 365 ÷ 100) = 0.03",
        "0.03 × 80.00 outstanding = 2.40; not recovered: 80.00 − 2.40 = 77.60",
    ];

    /// The words the engine writes, which no Italian text may keep.
    const ENGLISH: &[&str] = &[
        "of",
        "cap",
        "the",
        "left",
        "before",
        "counts",
        "count",
        "owes",
        "paid",
        "net",
        "total",
        "no",
        "without",
        "threshold",
        "settled",
        "recomputed",
        "uncovered",
        "over",
        "see",
        "each",
        "at",
        "most",
        "period",
        "principal",
        "return",
        "index",
        "annual",
        "rate",
        "highest",
        "tier",
        "not",
        "starts",
        "disbursed",
        "repaid",
        "accrued",
        "carried",
        "forward",
        "outstanding",
        "recovered",
        "by",
        "payer",
        "to",
        "Treasury",
        "lines",
        "add",
        "up",
        "contract",
        "outcomes",
        "beneficiaries",
        "split",
        "payment",
    ];

    fn words(text: &str) -> Vec<&str> {
        text.split(|c: char| !(c.is_alphanumeric() || c == '_'))
            .filter(|word| !word.is_empty())
            .collect()
    }

    /// What is left once letters are removed: the figures, signs and symbols in their order.
    fn figures(text: &str) -> String {
        text.split(|c: char| c.is_alphabetic() || c.is_whitespace() || c == '\'')
            .filter(|part| !part.is_empty())
            .collect::<Vec<_>>()
            .join(" ")
    }

    #[test]
    fn every_english_word_of_the_arithmetic_has_its_italian() {
        for sample in SAMPLES {
            let italian = in_words(sample, Lang::It);
            for word in words(&italian) {
                assert!(
                    !ENGLISH.contains(&word),
                    "`{word}` left in `{italian}` (from `{sample}`)"
                );
            }
        }
    }

    #[test]
    fn the_figures_and_signs_stay_as_the_document_writes_them() {
        for sample in SAMPLES {
            let italian = in_words(sample, Lang::It);
            assert_eq!(figures(&italian), figures(sample), "{italian}");
            assert_eq!(in_words(sample, Lang::En), *sample);
        }
    }

    #[test]
    fn only_whole_words_are_replaced() {
        assert_eq!(
            replace_words("off of capital cap", "of", "di"),
            "off di capital cap"
        );
        assert_eq!(
            replace_words("cap_left cap", "cap", "massimale"),
            "cap_left massimale"
        );
    }

    #[test]
    fn every_figure_name_has_its_italian() {
        for (name, italian) in FIGURES {
            assert_eq!(figure_name(name, Lang::It), *italian);
            assert_eq!(figure_name(name, Lang::En), *name);
        }
        assert_eq!(figure_name("unknown", Lang::It), "unknown");
    }
}
