//! Tables for spreadsheets: the indicators of a period, the facts behind a value and a
//! settlement's lines as CSV (`?format=csv` on their JSON endpoints, `--format csv` on the
//! command line), written here once for both.
//!
//! Invariant: a table holds the figures of the JSON it stands for, written as the JSON writes
//! them (money with two places and a point, ratios with six), one row per item, with a header
//! row of the JSON's field names; RFC 4180 (comma, CRLF line ends, quotes where needed), UTF-8.

use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use esito_indicators::IndicatorReport;
use esito_settlement::SettlementDocument;
use serde_json::Value;

use crate::error::{ApiError, ErrorCode};
use crate::query::Params;

/// The media type of a table.
pub const TEXT_CSV: &str = "text/csv; charset=utf-8";

/// What a reading endpoint answers in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Csv,
}

/// `format`: `json` (the default) or `csv`; anything else is refused, naming the parameter.
pub fn format(params: &Params) -> Result<Format, ApiError> {
    match params.text("format") {
        None | Some("json") => Ok(Format::Json),
        Some("csv") => Ok(Format::Csv),
        Some(other) => Err(ApiError::new(
            ErrorCode::InvalidValue,
            format!("format: `json` or `csv`, not `{other}`"),
        )
        .with_field("format")),
    }
}

/// A table as an answer: `text/csv`, saved by a browser under `filename`.
pub fn response(table: Vec<u8>, filename: &str) -> Response {
    let mut response = table.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(TEXT_CSV));
    if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"{filename}\"")) {
        headers.insert(header::CONTENT_DISPOSITION, value);
    }
    response
}

/// A JSON scalar as a cell: a string as it is, a number or a boolean as JSON writes it, null
/// as an empty cell.
fn cell(value: &Value) -> String {
    match value {
        Value::Null => String::new(),
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

fn write(rows: impl IntoIterator<Item = Vec<String>>) -> Vec<u8> {
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    for row in rows {
        writer
            .write_record(&row)
            .expect("writing to memory does not fail");
    }
    writer
        .into_inner()
        .expect("writing to memory does not fail")
}

/// The indicators of a period: one row per indicator.
pub fn indicators(report: &IndicatorReport) -> Vec<u8> {
    indicator_rows(
        &report.contract_id,
        &report.period.to_string(),
        report.as_of,
        &report.indicators,
    )
}

/// The indicators over a range of dates: one row per indicator, the range written
/// `FROM/TO` (ISO 8601's interval; `TO` the first day after it) where a period's label goes.
pub fn indicators_between(report: &esito_indicators::RangeReport) -> Vec<u8> {
    indicator_rows(
        &report.contract_id,
        &format!("{}/{}", report.from, report.to),
        report.as_of,
        &report.indicators,
    )
}

fn indicator_rows(
    contract_id: &str,
    period: &str,
    as_of: u64,
    indicators: &[esito_indicators::IndicatorValue],
) -> Vec<u8> {
    let header = [
        "contract_id",
        "period",
        "as_of",
        "indicator",
        "area",
        "theme",
        "kind",
        "unit",
        "label_it",
        "label_en",
        "value",
        "definitions_sha256",
    ];
    let rows = indicators.iter().map(|indicator| {
        let json = serde_json::to_value(indicator).expect("an indicator serializes");
        vec![
            contract_id.to_owned(),
            period.to_owned(),
            as_of.to_string(),
            indicator.id.clone(),
            cell(&json["area"]),
            indicator.theme.clone().unwrap_or_default(),
            indicator.kind.to_owned(),
            indicator.unit.clone(),
            cell(&json["label"]["it"]),
            cell(&json["label"]["en"]),
            cell(&json["value"]),
            indicator.definitions_sha256.clone(),
        ]
    });
    write(std::iter::once(header.map(str::to_owned).to_vec()).chain(rows))
}

/// An explanation (`GET .../explain`): one row per fact, each with the value it explains.
pub fn explanation(explanation: &Value) -> Vec<u8> {
    let header = [
        "contract_id",
        "indicator",
        "period",
        "as_of",
        "value",
        "position",
        "event_id",
        "part",
        "local_date",
        "key",
        "amount",
    ];
    let facts = explanation["facts"].as_array().cloned().unwrap_or_default();
    let rows = facts.iter().map(|fact| {
        let mut row: Vec<String> = ["contract_id", "indicator", "period", "as_of", "value"]
            .iter()
            .map(|field| cell(&explanation[field]))
            .collect();
        row.extend(
            [
                "position",
                "event_id",
                "part",
                "local_date",
                "key",
                "amount",
            ]
            .iter()
            .map(|field| cell(&fact[field])),
        );
        row
    });
    write(std::iter::once(header.map(str::to_owned).to_vec()).chain(rows))
}

/// A settlement's lines: one row per line, then the net total, the VAT when there is one, and
/// the total with VAT, each a row of its own kind (and, under split payment, what is payable to
/// the operator and to the Treasury); every amount beside its currency.
pub fn settlement(document: &SettlementDocument) -> Vec<u8> {
    let header = [
        "contract_id",
        "period",
        "as_of",
        "line",
        "kind",
        "subject",
        "amount",
        "currency",
        "arithmetic",
    ];
    let currency = document.currency.to_string();
    let (contract, period, as_of) = (
        document.contract_id.to_string(),
        document.period.to_string(),
        document.as_of.to_string(),
    );
    let row = |line: String, kind: &str, subject: &str, amount: String, arithmetic: &str| {
        vec![
            contract.clone(),
            period.clone(),
            as_of.clone(),
            line,
            kind.to_owned(),
            subject.to_owned(),
            amount,
            currency.clone(),
            arithmetic.to_owned(),
        ]
    };
    let mut rows = vec![header.map(str::to_owned).to_vec()];
    for (index, line) in document.lines.iter().enumerate() {
        rows.push(row(
            (index + 1).to_string(),
            line.kind.as_str(),
            &line.subject,
            line.amount.to_string(),
            &line.arithmetic,
        ));
    }
    rows.push(row(
        String::new(),
        "total",
        "",
        document.total.to_string(),
        "",
    ));
    if let Some(vat) = &document.vat {
        rows.push(row(
            String::new(),
            "vat",
            "",
            vat.amount.to_string(),
            &vat.arithmetic,
        ));
    }
    rows.push(row(
        String::new(),
        "total_with_vat",
        "",
        document.total_with_vat.to_string(),
        "",
    ));
    // Under split payment, who is paid what: the net to the operator, the VAT to the Treasury.
    if document.vat_regime == esito_domain::VatRegime::SplitPayment {
        for payable in &document.payable {
            rows.push(row(
                String::new(),
                &format!("payable_to_{}", payable.payee.as_str()),
                "",
                payable.amount.to_string(),
                &payable.arithmetic,
            ));
        }
    }
    write(rows)
}
