//! The document as others read it: its JSON (field order, money as strings, read back equal),
//! the same bytes for the same input, an input read from JSON as the offline path reads it, the
//! printable page, and the refusals of an input that is not whole.

mod common;

use common::*;
use esito_settlement::{
    render_html, render_html_withdrawn, settle, IndicatorValue, Restatement, SettlementDocument,
    SettlementError, SettlementInput,
};

#[test]
fn a_document_serializes_with_its_fields_in_a_fixed_order_and_money_as_strings() {
    let document = settled(&with_value(
        input(terms(vec![rate_card("exits", "150")])),
        "exits",
        "12",
    ));
    let json = serde_json::to_string(&document).expect("a document serializes");
    let expected = format!(
        concat!(
            r#"{{"contract_id":"cuneo-communal-living","period":"2024-Q1","#,
            r#""period_start_on":"2024-01-01","period_end_on":"2024-04-01","as_of":1234,"#,
            r#""root_hash":"{}","final_settlement":false,"currency":"EUR","#,
            r#""lines":[{{"kind":"rate_card","subject":"exits","amount":"1800.00","#,
            r#""arithmetic":"12 × 150.00 = 1800.00","#,
            r#""figures":[{{"name":"value","value":"12"}},{{"name":"rate","value":"150.00"}}]}}],"#,
            r#""period_net":"1800.00","total":"1800.00","vat":null,"total_with_vat":"1800.00","#,
            r#""vat_regime":"ordinary","payable":[{{"payee":"operator","amount":"1800.00","#,
            r#""arithmetic":"net total 1800.00, no VAT"}}],"#,
            r#""payers":[],"uncovered":"0.00","funder":null}}"#
        ),
        ROOT_HASH
    );
    assert_eq!(json, expected);
}

/// An input that exercises every part of the document: per-beneficiary counts, caps, VAT,
/// payers, a restatement and a funder.
fn everything() -> SettlementInput {
    let mut terms = terms(vec![
        target("clients_reached", "15", "0.5", "6000.00", "1.2"),
        rate_card_with(
            "tenant_milestones",
            "250",
            None,
            None,
            Some(4),
            Some("1000.00"),
        ),
    ]);
    terms.period_cap = Some(money("6000.00"));
    terms.contract_cap = Some(money("90000.00"));
    terms.vat_rate = Some(rate("0.22"));
    terms.payers = vec![
        payer("Comune", "0.7", None),
        payer("Regione", "0.3", Some("1000.00")),
    ];
    let mut input = with_value(input(terms), "clients_reached", "14");
    input = with_value(input, "flat_occupancy", "0.85");
    input.indicators.insert(
        "tenant_milestones".into(),
        IndicatorValue {
            value: Some(d("3")),
            beneficiaries: vec![
                beneficiary("hh-b", 1, 0, "0"),
                beneficiary("hh-a", 2, 3, "750"),
            ],
        },
    );
    input.period = period("2024-Q2", "2024-04-01", "2024-07-01");
    input.history.paid_to_date = money("12000.00");
    input.history.restatements = vec![
        Restatement {
            period: "2024-Q1".into(),
            recomputed_net: money("5100.00"),
            settled_net: money("5000.00"),
        },
        Restatement {
            period: "2023-Q4".into(),
            recomputed_net: money("4000.00"),
            settled_net: money("4100.00"),
        },
    ];
    input.funder = funder(
        funder_terms(
            vec![
                disbursement("2023-07-03", "40000.00"),
                disbursement("2024-01-08", "20000.00"),
            ],
            vec![
                targeted("clients_reached", "15", "0.5"),
                targeted("flat_occupancy", "0.9", "0.5"),
            ],
            "0.6",
            "0.5",
        ),
        esito_settlement::FunderState {
            principal_repaid: money("1000.00"),
            return_accrued: money("863.01"),
            return_paid: money("600.00"),
            principal_days: d("12600000.00"),
            accrued_through: Some(date("2024-04-01")),
        },
    );
    input
}

#[test]
fn a_document_reads_back_equal_to_itself() {
    let document = settled(&everything());
    let json = serde_json::to_string(&document).expect("a document serializes");
    let read: SettlementDocument = serde_json::from_str(&json).expect("a document reads back");
    assert_eq!(read, document);
}

#[test]
fn the_same_input_gives_the_same_bytes_whatever_the_order_of_its_lists() {
    let first = serde_json::to_string(&settled(&everything())).expect("serializes");
    let again = serde_json::to_string(&settled(&everything())).expect("serializes");
    assert_eq!(first, again);
    let mut reordered = everything();
    reordered.history.restatements.reverse();
    if let Some(value) = reordered.indicators.get_mut("tenant_milestones") {
        value.beneficiaries.reverse();
    }
    let reordered = serde_json::to_string(&settled(&reordered)).expect("serializes");
    assert_eq!(first, reordered);
}

#[test]
fn an_input_read_from_json_settles_like_one_built_in_code() {
    // What an offline tool would read: the same figures, written by hand as JSON.
    let json = format!(
        r#"{{
            "contract_id": "cuneo-communal-living",
            "period": "2024-Q1",
            "as_of": 1234,
            "root_hash": "{ROOT_HASH}",
            "payment_terms": {{
                "rules": [{{"kind": "rate_card", "indicator": "exits", "rate": "150"}}],
                "period_cap": "1500.00"
            }},
            "indicators": {{"exits": {{"value": "12"}}}},
            "history": {{"paid_to_date": "0.00"}}
        }}"#
    );
    let read: SettlementInput = serde_json::from_str(&json).expect("the input parses");
    let mut terms = terms(vec![rate_card("exits", "150")]);
    terms.period_cap = Some(money("1500.00"));
    let built = with_value(input(terms), "exits", "12");
    assert_eq!(read, built);
    // 12 × 150 = 1800, over the period cap of 1500: −300.
    assert_eq!(amounts(&settled(&read)), ["1800.00", "-300.00"]);
}

#[test]
fn the_printable_page_shows_each_lines_arithmetic_and_escapes_every_text() {
    let mut input = input(terms(vec![
        rate_card("exits", "150"),
        milestone("<script>alert(\"x\")</script> & 'Co'", "1000.00", "0.3"),
    ]));
    input = with_value(input, "exits", "12");
    input.milestones.insert(
        "<script>alert(\"x\")</script> & 'Co'".into(),
        accepted(Some("2024-02-01"), "300.00"),
    );
    let page = render_html(&settled(&input));
    assert!(page.starts_with("<!DOCTYPE html>"));
    assert!(page.contains("12 × 150.00 = 1800.00"));
    assert!(page.contains("accepted on 2024-02-01: 1000.00 − advance 300.00 = 700.00"));
    assert!(page.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;Co&#39;"));
    assert!(!page.contains("<script"));
    // Self-contained: nothing fetched, nothing run.
    for outside in ["src=", "href=", "http:", "https:", "@import", "javascript"] {
        assert!(!page.contains(outside), "the page holds {outside}");
    }
    assert!(page.contains(ROOT_HASH));
}

#[test]
fn the_printable_page_shows_payers_and_the_funder() {
    let mut input = everything();
    input.final_settlement = true;
    let page = render_html(&settled(&input));
    for part in [
        "<h2>Amministrazioni committenti / Payers</h2>",
        "<h2>Soggetto finanziatore / Funder</h2>",
        "<h3>Cascata / Waterfall</h3>",
        "<h3>Garanzia / Guarantee</h3>",
        "Tasso annuo medio finora / Average annual rate so far",
    ] {
        assert!(page.contains(part), "the page lacks {part}");
    }
}

#[test]
fn an_input_that_is_not_whole_is_refused_naming_the_rule() {
    let rules = || terms(vec![rate_card("exits", "150")]);
    assert_eq!(
        settle(&input(rules())),
        Err(SettlementError::IndicatorValueMissing {
            indicator: "exits".into()
        })
    );
    assert_eq!(
        settle(&with_value(input(rules()), "exits", "-1")),
        Err(SettlementError::IndicatorValueNegative {
            indicator: "exits".into(),
            value: d("-1"),
        })
    );
    assert_eq!(
        settle(&with_value(input(rules()), "exits", "0.1234567")),
        Err(SettlementError::IndicatorValueNotRounded {
            indicator: "exits".into(),
            value: d("0.1234567"),
        })
    );
    // A root hash is parsed as it is read: one that is not 64 lowercase hex digits never
    // reaches `settle`.
    let mut bad_hash = serde_json::to_value(with_value(input(rules()), "exits", "1"))
        .expect("an input serializes");
    bad_hash["root_hash"] = serde_json::json!("ABC");
    let refused =
        serde_json::from_value::<SettlementInput>(bad_hash).expect_err("ABC is not a hash");
    assert!(
        refused
            .to_string()
            .contains("a hash is 64 hex digits, found 3 bytes of text"),
        "{refused}"
    );
    // A period is parsed from its label, so one that ends before it starts cannot be written:
    // an input naming a period that is not one is refused as it is read.
    let mut backwards = serde_json::to_value(with_value(input(rules()), "exits", "1"))
        .expect("an input serializes");
    backwards["period"] = serde_json::json!("2024-Q5");
    let refused =
        serde_json::from_value::<SettlementInput>(backwards).expect_err("2024-Q5 is not a period");
    assert!(
        refused.to_string().contains("`2024-Q5` is not a period"),
        "{refused}"
    );
    let milestones = input(terms(vec![milestone("phase-1", "1000.00", "0.3")]));
    assert_eq!(
        settle(&milestones),
        Err(SettlementError::MilestoneFactsMissing {
            deliverable: "phase-1".into()
        })
    );
    let mut advance_too_big = milestones;
    advance_too_big
        .milestones
        .insert("phase-1".into(), accepted(None, "1000.01"));
    assert_eq!(
        settle(&advance_too_big).map_err(|e| e.code()),
        Err("advance_exceeds_milestone_amount")
    );
    let mut shares = rules();
    shares.payers = vec![payer("Comune", "0.5", None), payer("Regione", "0.4", None)];
    assert_eq!(
        settle(&with_value(input(shares), "exits", "1")).map_err(|e| e.code()),
        Err("payment_terms_invalid")
    );
}

#[test]
fn the_page_of_a_withdrawn_settlement_says_so_in_italian_first_with_the_reason() {
    let document = settled(&everything());
    let page = render_html_withdrawn(&document, "<b>doppia</b> consegna");
    let notice = page
        .find("Liquidazione ritirata / Settlement withdrawn.")
        .expect("the page says it is withdrawn");
    assert!(notice < page.find("<dl>").expect("the figures follow"));
    assert!(page.contains("Motivo / Reason: &lt;b&gt;doppia&lt;/b&gt; consegna"));
    assert!(!page.contains("<b>doppia"));
    // The same figures as the page of the settlement in force.
    let plain = render_html(&document);
    assert!(!plain.contains("ritirata"));
    assert_eq!(
        page.matches("<tr").count(),
        plain.matches("<tr").count(),
        "the same lines"
    );
}

#[test]
fn the_printable_page_labels_are_in_italian_first_then_in_english() {
    let page = render_html(&settled(&everything()));
    assert!(page.contains("<html lang=\"it\">"));
    for (label, expected) in [
        ("<h2>Righe / Lines</h2>", true),
        ("Totale netto / Net total", true),
        ("Netto del periodo (dopo il massimale di periodo)", true),
        ("<h2>Lines</h2>", false),
    ] {
        assert_eq!(page.contains(label), expected, "{label}");
    }
    for label in esito_settlement::PAGE_LABELS {
        assert!(
            !label.it.trim().is_empty() && !label.en.trim().is_empty() && label.it != label.en,
            "a label in one language: {label:?}"
        );
    }
}
