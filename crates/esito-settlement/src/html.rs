//! A settlement document as a small printable HTML page: every line with its arithmetic, the
//! totals, the payers and the funder's split, with no script and no external asset.
//!
//! Invariant: every text that comes from the document goes through `escape`, so a deliverable's
//! or a payer's name can never inject markup.

use std::fmt::Write;

use crate::document::{FunderSection, Line, SettlementDocument};

const STYLE: &str = "body{font-family:Georgia,serif;max-width:62em;margin:2em auto;padding:0 1em;\
color:#111}h1{font-size:1.4em}h2{font-size:1.15em;margin-top:1.6em}table{border-collapse:\
collapse;width:100%;margin:.5em 0}th,td{border:1px solid #999;padding:.3em .5em;text-align:left;\
vertical-align:top}td.amount,th.amount{text-align:right;white-space:nowrap;\
font-variant-numeric:tabular-nums}td.arithmetic{font-family:Menlo,Consolas,monospace;\
font-size:.9em}tr.total td{font-weight:bold}dl{display:grid;grid-template-columns:max-content \
auto;gap:.2em 1em}dt{font-weight:bold}dd{margin:0;word-break:break-all}ul{margin:.2em 0;\
padding-left:1.2em}p.withdrawn{border:2px solid #a00;padding:.5em;color:#a00}@media print{body{margin:0;max-width:none}h2{break-after:avoid}\
tr{break-inside:avoid}}";

/// Escapes the five characters that are markup in HTML text and attribute values.
pub(crate) fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            _ => escaped.push(c),
        }
    }
    escaped
}

/// The document as a self-contained HTML page.
pub fn render_html(document: &SettlementDocument) -> String {
    let mut page = String::new();
    // Writing to a String cannot fail; the results are ignored for that reason only.
    let _ = write_page(&mut page, document, None);
    page
}

/// The page of a settlement the payer withdrew: the same figures, under a notice, in Italian
/// first, that they stand for nothing, with the reason given.
pub fn render_html_withdrawn(document: &SettlementDocument, reason: &str) -> String {
    let mut page = String::new();
    // Writing to a String cannot fail; the results are ignored for that reason only.
    let _ = write_page(&mut page, document, Some(reason));
    page
}

fn write_page(
    page: &mut String,
    document: &SettlementDocument,
    withdrawn: Option<&str>,
) -> std::fmt::Result {
    let contract = escape(document.contract_id.as_str());
    let period = escape(&document.period.to_string());
    write!(
        page,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <title>Settlement {contract} {period}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n\
         <h1>Settlement of {contract}, period {period}</h1>\n"
    )?;
    if let Some(reason) = withdrawn {
        writeln!(
            page,
            "<p class=\"withdrawn\"><strong>Liquidazione ritirata / Settlement withdrawn.</strong> \
             L'ente pagatore ha ritirato questa liquidazione prima della validazione: le cifre \
             non valgono come liquidazione finché il periodo non è calcolato di nuovo. The payer \
             withdrew this settlement before it was validated: its figures stand for nothing \
             until the period is calculated again. Motivo / Reason: {}</p>",
            escape(reason)
        )?;
    }
    page.push_str("<dl>\n");
    let final_text = if document.final_settlement {
        "yes"
    } else {
        "no"
    };
    for (term, value) in [
        (
            "Period",
            format!(
                "{} to {} (not included)",
                document.period_start_on, document.period_end_on
            ),
        ),
        ("As of log position", document.as_of.to_string()),
        ("Tree head", document.root_hash.to_string()),
        ("Final settlement", final_text.to_owned()),
        ("Valuta / Currency", document.currency.to_string()),
    ] {
        writeln!(page, "<dt>{}</dt><dd>{}</dd>", escape(term), escape(&value))?;
    }
    page.push_str(
        "</dl>\n<h2>Lines</h2>\n<table>\n<thead><tr><th>Kind</th><th>Subject</th>\
                   <th>Arithmetic</th><th class=\"amount\">Amount</th></tr></thead>\n<tbody>\n",
    );
    for line in &document.lines {
        write_line(page, line)?;
    }
    page.push_str("</tbody>\n</table>\n<h2>Totals</h2>\n<table>\n<tbody>\n");
    write_total(
        page,
        "Period net (after the period cap)",
        &document.period_net.to_string(),
    )?;
    write_total(page, "Net total", &document.total.to_string())?;
    if let Some(vat) = &document.vat {
        writeln!(
            page,
            "<tr><td>VAT</td><td class=\"arithmetic\">{}</td><td class=\"amount\">{}</td></tr>",
            escape(&vat.arithmetic),
            escape(&vat.amount.to_string())
        )?;
        write_total(page, "Total with VAT", &document.total_with_vat.to_string())?;
    }
    if !document.uncovered.value().is_zero() {
        write_total(
            page,
            "Uncovered by the payers' caps",
            &document.uncovered.to_string(),
        )?;
    }
    page.push_str("</tbody>\n</table>\n");
    if !document.payers.is_empty() {
        page.push_str(
            "<h2>Payers</h2>\n<table>\n<thead><tr><th>Payer</th><th>Arithmetic</th>\
             <th class=\"amount\">Owes</th><th class=\"amount\">Uncovered</th></tr></thead>\n\
             <tbody>\n",
        );
        for payer in &document.payers {
            writeln!(
                page,
                "<tr><td>{}</td><td class=\"arithmetic\">{}</td><td class=\"amount\">{}</td>\
                 <td class=\"amount\">{}</td></tr>",
                escape(&payer.name),
                escape(&payer.arithmetic),
                escape(&payer.owed.to_string()),
                escape(&payer.uncovered.to_string())
            )?;
        }
        page.push_str("</tbody>\n</table>\n");
    }
    if let Some(funder) = &document.funder {
        write_funder(page, funder)?;
    }
    page.push_str("</body>\n</html>\n");
    Ok(())
}

fn write_total(page: &mut String, label: &str, amount: &str) -> std::fmt::Result {
    writeln!(
        page,
        "<tr class=\"total\"><td colspan=\"2\">{}</td><td class=\"amount\">{}</td></tr>",
        escape(label),
        escape(amount)
    )
}

fn write_line(page: &mut String, line: &Line) -> std::fmt::Result {
    write!(
        page,
        "<tr><td>{}</td><td>{}</td><td class=\"arithmetic\">{}",
        escape(line.kind.as_str()),
        escape(&line.subject),
        escape(&line.arithmetic)
    )?;
    if !line.beneficiaries.is_empty() {
        page.push_str("<ul>");
        for part in &line.beneficiaries {
            write!(
                page,
                "<li>{}: {}</li>",
                escape(&part.beneficiary),
                escape(&part.arithmetic)
            )?;
        }
        page.push_str("</ul>");
    }
    writeln!(
        page,
        "</td><td class=\"amount\">{}</td></tr>",
        escape(&line.amount.to_string())
    )
}

fn write_funder(page: &mut String, funder: &FunderSection) -> std::fmt::Result {
    page.push_str("<h2>Funder</h2>\n<h3>Achievement index</h3>\n<ul>\n");
    for term in &funder.achievement.terms {
        writeln!(
            page,
            "<li>{}: {}</li>",
            escape(&term.indicator),
            escape(&term.arithmetic)
        )?;
    }
    writeln!(
        page,
        "<li>{}</li>\n</ul>\n<h3>Return accrued</h3>\n<ul>",
        escape(&funder.achievement.arithmetic)
    )?;
    for segment in &funder.accrual.segments {
        writeln!(
            page,
            "<li>from {} to {}: {}</li>",
            segment.from_on,
            segment.to_on,
            escape(&segment.arithmetic)
        )?;
    }
    writeln!(
        page,
        "<li>{}</li>\n</ul>\n<h3>Waterfall</h3>\n<ol>",
        escape(&funder.accrual.arithmetic)
    )?;
    for step in &funder.waterfall.arithmetic {
        writeln!(page, "<li>{}</li>", escape(step))?;
    }
    page.push_str("</ol>\n");
    if let Some(guarantee) = &funder.guarantee {
        writeln!(
            page,
            "<h3>Guarantee</h3>\n<p>{}</p>",
            escape(&guarantee.arithmetic)
        )?;
    }
    let statement = &funder.statement;
    page.push_str("<h3>Statement</h3>\n<table>\n<tbody>\n");
    for (label, value) in [
        (
            "Principal disbursed",
            statement.principal_disbursed.to_string(),
        ),
        ("Principal repaid", statement.principal_repaid.to_string()),
        (
            "Principal outstanding",
            statement.principal_outstanding.to_string(),
        ),
        ("Return accrued", statement.return_accrued.to_string()),
        ("Return paid", statement.return_paid.to_string()),
        (
            "Return unpaid, carried forward",
            statement.return_unpaid.to_string(),
        ),
        (
            "Accrued up to (not included)",
            statement.accrued_through.to_string(),
        ),
        (
            "Annual rate of this period",
            statement.annual_rate.to_string(),
        ),
        (
            "Average annual rate so far",
            statement.average_annual_rate.to_string(),
        ),
    ] {
        writeln!(
            page,
            "<tr><td>{}</td><td class=\"amount\">{}</td></tr>",
            escape(label),
            escape(&value)
        )?;
    }
    writeln!(
        page,
        "</tbody>\n</table>\n<p class=\"arithmetic\">{}</p>",
        escape(&statement.arithmetic)
    )
}
