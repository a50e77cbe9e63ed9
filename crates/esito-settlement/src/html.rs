//! A settlement document as a small printable HTML page: every line with its arithmetic, the
//! totals, the payers and the funder's split, with no script and no external asset. Its labels
//! are in Italian first, as the PA writes them (docs/glossary.md), with English beside.
//!
//! Invariant: every text that comes from the document goes through `escape`, so a deliverable's
//! or a payer's name can never inject markup; every label is one of [`LABELS`], in both
//! languages.

use std::fmt::Write;

use chrono::NaiveDate;
use esito_domain::{Payee, VatRegime};

use crate::document::{FunderSection, Line, SettlementDocument};

/// A label of the page, in Italian and in English.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Label {
    pub it: &'static str,
    pub en: &'static str,
}

impl Label {
    /// `italiano / English`, escaped.
    fn text(self) -> String {
        escape(&format!("{} / {}", self.it, self.en))
    }
}

const fn label(it: &'static str, en: &'static str) -> Label {
    Label { it, en }
}

const PERIOD: Label = label("Periodo", "Period");
const AS_OF: Label = label("Posizione del registro", "As of log position");
const TREE_HEAD: Label = label("Radice dell'albero", "Tree head");
const FINAL: Label = label("Liquidazione finale", "Final settlement");
const CURRENCY: Label = label("Valuta", "Currency");
const LINES: Label = label("Righe", "Lines");
const KIND: Label = label("Tipo", "Kind");
const SUBJECT: Label = label("Oggetto", "Subject");
const ARITHMETIC: Label = label("Calcolo", "Arithmetic");
const AMOUNT: Label = label("Importo", "Amount");
const TOTALS: Label = label("Totali", "Totals");
const PERIOD_NET: Label = label(
    "Netto del periodo (dopo il massimale di periodo)",
    "Period net (after the period cap)",
);
const NET_TOTAL: Label = label("Totale netto", "Net total");
const VAT: Label = label("IVA", "VAT");
const TOTAL_WITH_VAT: Label = label("Totale IVA compresa", "Total with VAT");
const UNCOVERED_TOTAL: Label = label(
    "Non coperto dai massimali delle amministrazioni committenti",
    "Uncovered by the payers' caps",
);
const PAYERS: Label = label("Amministrazioni committenti", "Payers");
const PAYER: Label = label("Amministrazione committente", "Payer");
const OWES: Label = label("Dovuto", "Owes");
const UNCOVERED: Label = label("Non coperto", "Uncovered");
const FUNDER: Label = label("Soggetto finanziatore", "Funder");
const ACHIEVEMENT: Label = label("Indice di conseguimento", "Achievement index");
const RETURN_ACCRUED: Label = label("Rendimento maturato", "Return accrued");
const WATERFALL: Label = label("Cascata", "Waterfall");
const GUARANTEE: Label = label("Garanzia", "Guarantee");
const STATEMENT: Label = label("Estratto conto", "Statement");
const PRINCIPAL_DISBURSED: Label = label("Capitale erogato", "Principal disbursed");
const PRINCIPAL_REPAID: Label = label("Capitale rimborsato", "Principal repaid");
const PRINCIPAL_OUTSTANDING: Label = label("Capitale residuo", "Principal outstanding");
const RETURN_PAID: Label = label("Rendimento pagato", "Return paid");
const RETURN_UNPAID: Label = label(
    "Rendimento non pagato, riportato",
    "Return unpaid, carried forward",
);
const ACCRUED_UP_TO: Label = label("Maturato fino al (escluso)", "Accrued up to (not included)");
const ANNUAL_RATE: Label = label("Tasso annuo del periodo", "Annual rate of this period");
const AVERAGE_RATE: Label = label("Tasso annuo medio finora", "Average annual rate so far");
const PAYABLE: Label = label(
    "Scissione dei pagamenti (art. 17-ter DPR 633/72)",
    "Split payment (art. 17-ter DPR 633/72)",
);
const TO_OPERATOR_NET: Label = label(
    "Imponibile da pagare al soggetto gestore",
    "Net payable to the operator",
);
const TO_TREASURY: Label = label("IVA da versare all'Erario", "VAT payable to the Treasury");
const CIG: Label = label("CIG (Codice Identificativo Gara)", "CIG (tender code)");
const CUP: Label = label("CUP (Codice Unico di Progetto)", "CUP (project code)");
const RUP: Label = label(
    "Responsabile Unico del Progetto (RUP)",
    "RUP (officer in charge)",
);
const ACTS: Label = label("Atti", "Acts");
const CERTIFIED: Label = label("Attestazione di regolare esecuzione", "Certified");
const APPROVED: Label = label(
    "Determina di liquidazione (art. 184 TUEL)",
    "Approved (art. 184 TUEL)",
);
const PAID: Label = label(
    "Mandato di pagamento (art. 185 TUEL)",
    "Paid (art. 185 TUEL)",
);

/// Every label of the page.
pub const LABELS: [Label; 44] = [
    PERIOD,
    AS_OF,
    TREE_HEAD,
    FINAL,
    CURRENCY,
    LINES,
    KIND,
    SUBJECT,
    ARITHMETIC,
    AMOUNT,
    TOTALS,
    PERIOD_NET,
    NET_TOTAL,
    VAT,
    TOTAL_WITH_VAT,
    UNCOVERED_TOTAL,
    PAYERS,
    PAYER,
    OWES,
    UNCOVERED,
    FUNDER,
    ACHIEVEMENT,
    RETURN_ACCRUED,
    WATERFALL,
    GUARANTEE,
    STATEMENT,
    PRINCIPAL_DISBURSED,
    PRINCIPAL_REPAID,
    PRINCIPAL_OUTSTANDING,
    RETURN_PAID,
    RETURN_UNPAID,
    ACCRUED_UP_TO,
    ANNUAL_RATE,
    AVERAGE_RATE,
    PAYABLE,
    TO_OPERATOR_NET,
    TO_TREASURY,
    CIG,
    CUP,
    RUP,
    ACTS,
    CERTIFIED,
    APPROVED,
    PAID,
];

/// The acts recorded on a settlement after its calculation, as its page shows them: the RUP's
/// certification, the determina, the mandato and the payment, each citing the CIG and CUP it
/// was adopted under. The document itself holds none of them (it is computed before them).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PageActs {
    /// The date of the attestazione di regolare esecuzione, and the RUP who gave it.
    pub certified: Option<(NaiveDate, Option<String>)>,
    /// The determina di liquidazione's number and date (absent from an approval recorded
    /// before acts were: then `approved` alone says it was approved).
    pub determina: Option<(String, NaiveDate)>,
    pub approved: bool,
    /// The mandato di pagamento's number and date.
    pub mandato: Option<(String, NaiveDate)>,
    /// The day paid and the payment's reference.
    pub paid: Option<(NaiveDate, String)>,
    /// The CIG and CUP the acts cite.
    pub cig: Option<String>,
    pub cup: Option<String>,
}

impl PageActs {
    /// The acts a period's settlement holds, as the stream recorded them: online from the
    /// store, offline from an export.
    pub fn of(settlement: &esito_domain::aggregates::PeriodSettlement) -> Self {
        let status = &settlement.status;
        let certified = status.certified();
        let approved = status.approved();
        let paid = status.paid();
        let codes = paid
            .map(|paid| &paid.codes)
            .or(approved.map(|approved| &approved.codes))
            .or(certified.map(|certified| &certified.codes));
        Self {
            certified: certified.map(|c| (c.certified_on, c.rup.clone())),
            determina: approved.and_then(|a| a.determina_number.clone().zip(a.determina_date)),
            approved: approved.is_some(),
            mandato: paid.and_then(|p| p.mandato_number.clone().zip(p.mandato_date)),
            paid: paid.map(|p| (p.paid_on, p.reference.clone())),
            cig: codes.and_then(|codes| codes.cig.as_ref().map(ToString::to_string)),
            cup: codes.and_then(|codes| codes.cup.as_ref().map(ToString::to_string)),
        }
    }

    fn is_empty(&self) -> bool {
        self.certified.is_none() && !self.approved && self.paid.is_none()
    }
}

/// A date as the PA writes it: `31/03/2024`.
fn italian_date(date: NaiveDate) -> String {
    date.format("%d/%m/%Y").to_string()
}

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
    let _ = write_page(&mut page, document, None, &PageActs::default());
    page
}

/// The page with the acts recorded on the settlement since its calculation.
pub fn render_html_with_acts(document: &SettlementDocument, acts: &PageActs) -> String {
    let mut page = String::new();
    // Writing to a String cannot fail; the results are ignored for that reason only.
    let _ = write_page(&mut page, document, None, acts);
    page
}

/// The page of a settlement the payer withdrew: the same figures, under a notice, in Italian
/// first, that they stand for nothing, with the reason given.
pub fn render_html_withdrawn(document: &SettlementDocument, reason: &str) -> String {
    let mut page = String::new();
    // Writing to a String cannot fail; the results are ignored for that reason only.
    let _ = write_page(&mut page, document, Some(reason), &PageActs::default());
    page
}

fn write_page(
    page: &mut String,
    document: &SettlementDocument,
    withdrawn: Option<&str>,
    acts: &PageActs,
) -> std::fmt::Result {
    let contract = escape(document.contract_id.as_str());
    let period = escape(&document.period.to_string());
    write!(
        page,
        "<!DOCTYPE html>\n<html lang=\"it\">\n<head>\n<meta charset=\"utf-8\">\n\
         <title>Liquidazione / Settlement {contract} {period}</title>\n<style>{STYLE}</style>\n\
         </head>\n<body>\n<h1>Liquidazione del contratto {contract}, periodo {period} / \
         Settlement of {contract}, period {period}</h1>\n"
    )?;
    if let Some(reason) = withdrawn {
        writeln!(
            page,
            "<p class=\"withdrawn\"><strong>Liquidazione ritirata / Settlement withdrawn.</strong> \
             L'amministrazione committente ha ritirato questa liquidazione prima della validazione: le cifre \
             non valgono come liquidazione finché il periodo non è calcolato di nuovo. The payer \
             withdrew this settlement before it was validated: its figures stand for nothing \
             until the period is calculated again. Motivo / Reason: {}</p>",
            escape(reason)
        )?;
    }
    page.push_str("<dl>\n");
    let final_text = if document.final_settlement {
        "sì / yes"
    } else {
        "no"
    };
    let (start_on, end_on) = (document.period_start_on, document.period_end_on);
    for (term, value) in [
        (
            PERIOD,
            format!("dal {start_on} al {end_on} (escluso) / {start_on} to {end_on} (not included)"),
        ),
        (AS_OF, document.as_of.to_string()),
        (TREE_HEAD, document.root_hash.to_string()),
        (FINAL, final_text.to_owned()),
        (CURRENCY, document.currency.to_string()),
    ] {
        writeln!(page, "<dt>{}</dt><dd>{}</dd>", term.text(), escape(&value))?;
    }
    let procurement = &document.procurement;
    for (term, value) in [
        (CIG, procurement.cig.as_ref().map(ToString::to_string)),
        (CUP, procurement.cup.as_ref().map(ToString::to_string)),
        (RUP, procurement.rup.clone()),
    ] {
        if let Some(value) = value {
            writeln!(page, "<dt>{}</dt><dd>{}</dd>", term.text(), escape(&value))?;
        }
    }
    writeln!(
        page,
        "</dl>\n<h2>{}</h2>\n<table>\n<thead><tr><th>{}</th><th>{}</th><th>{}</th>\
         <th class=\"amount\">{}</th></tr></thead>\n<tbody>",
        LINES.text(),
        KIND.text(),
        SUBJECT.text(),
        ARITHMETIC.text(),
        AMOUNT.text()
    )?;
    for line in &document.lines {
        write_line(page, line)?;
    }
    writeln!(
        page,
        "</tbody>\n</table>\n<h2>{}</h2>\n<table>\n<tbody>",
        TOTALS.text()
    )?;
    write_total(page, PERIOD_NET, &document.period_net.to_string())?;
    write_total(page, NET_TOTAL, &document.total.to_string())?;
    if let Some(vat) = &document.vat {
        writeln!(
            page,
            "<tr><td>{}</td><td class=\"arithmetic\">{}</td><td class=\"amount\">{}</td></tr>",
            VAT.text(),
            escape(&vat.arithmetic),
            escape(&vat.amount.to_string())
        )?;
        write_total(page, TOTAL_WITH_VAT, &document.total_with_vat.to_string())?;
    }
    if !document.uncovered.value().is_zero() {
        write_total(page, UNCOVERED_TOTAL, &document.uncovered.to_string())?;
    }
    page.push_str("</tbody>\n</table>\n");
    if document.vat_regime == VatRegime::SplitPayment {
        write_split_payment(page, document)?;
    }
    if !document.payers.is_empty() {
        writeln!(
            page,
            "<h2>{}</h2>\n<table>\n<thead><tr><th>{}</th><th>{}</th>\
             <th class=\"amount\">{}</th><th class=\"amount\">{}</th></tr></thead>\n<tbody>",
            PAYERS.text(),
            PAYER.text(),
            ARITHMETIC.text(),
            OWES.text(),
            UNCOVERED.text()
        )?;
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
    if !acts.is_empty() {
        write_acts(page, acts)?;
    }
    page.push_str("</body>\n</html>\n");
    Ok(())
}

/// The acts after the calculation, in their order, each citing the CIG and CUP.
fn write_acts(page: &mut String, acts: &PageActs) -> std::fmt::Result {
    let codes = match (&acts.cig, &acts.cup) {
        (Some(cig), Some(cup)) => format!(" · CIG {cig} · CUP {cup}"),
        (Some(cig), None) => format!(" · CIG {cig}"),
        (None, Some(cup)) => format!(" · CUP {cup}"),
        (None, None) => String::new(),
    };
    writeln!(page, "<h2>{}</h2>\n<ul>", ACTS.text())?;
    if let Some((on, rup)) = &acts.certified {
        let by = rup
            .as_ref()
            .map(|rup| format!(" ({rup})"))
            .unwrap_or_default();
        writeln!(
            page,
            "<li>{}: {}{}{}</li>",
            CERTIFIED.text(),
            italian_date(*on),
            escape(&by),
            escape(&codes)
        )?;
    }
    if acts.approved {
        let determina = acts
            .determina
            .as_ref()
            .map(|(number, on)| format!("n. {number} del {}", italian_date(*on)))
            .unwrap_or_else(|| "approvata / approved".to_owned());
        writeln!(
            page,
            "<li>{}: {}{}</li>",
            APPROVED.text(),
            escape(&determina),
            escape(&codes)
        )?;
    }
    if let Some((paid_on, reference)) = &acts.paid {
        let mandato = acts
            .mandato
            .as_ref()
            .map(|(number, on)| format!("n. {number} del {}; ", italian_date(*on)))
            .unwrap_or_default();
        writeln!(
            page,
            "<li>{}: {}pagato il / paid on {}, rif. / ref. {}{}</li>",
            PAID.text(),
            escape(&mandato),
            italian_date(*paid_on),
            escape(reference),
            escape(&codes)
        )?;
    }
    page.push_str("</ul>\n");
    Ok(())
}

/// Under split payment: the net to the operator and the VAT to the Treasury, two lines.
fn write_split_payment(page: &mut String, document: &SettlementDocument) -> std::fmt::Result {
    writeln!(page, "<h2>{}</h2>\n<table>\n<tbody>", PAYABLE.text())?;
    for payable in &document.payable {
        let label = match payable.payee {
            Payee::Operator => TO_OPERATOR_NET,
            Payee::Treasury => TO_TREASURY,
        };
        writeln!(
            page,
            "<tr class=\"total\"><td>{}</td><td class=\"arithmetic\">{}</td>\
             <td class=\"amount\">{}</td></tr>",
            label.text(),
            escape(&payable.arithmetic),
            escape(&payable.amount.to_string())
        )?;
    }
    page.push_str("</tbody>\n</table>\n");
    Ok(())
}

fn write_total(page: &mut String, label: Label, amount: &str) -> std::fmt::Result {
    writeln!(
        page,
        "<tr class=\"total\"><td colspan=\"2\">{}</td><td class=\"amount\">{}</td></tr>",
        label.text(),
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
    writeln!(
        page,
        "<h2>{}</h2>\n<h3>{}</h3>\n<ul>",
        FUNDER.text(),
        ACHIEVEMENT.text()
    )?;
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
        "<li>{}</li>\n</ul>\n<h3>{}</h3>\n<ul>",
        escape(&funder.achievement.arithmetic),
        RETURN_ACCRUED.text()
    )?;
    for segment in &funder.accrual.segments {
        writeln!(
            page,
            "<li>dal {from_on} al {to_on} / from {from_on} to {to_on}: {}</li>",
            escape(&segment.arithmetic),
            from_on = segment.from_on,
            to_on = segment.to_on,
        )?;
    }
    writeln!(
        page,
        "<li>{}</li>\n</ul>\n<h3>{}</h3>\n<ol>",
        escape(&funder.accrual.arithmetic),
        WATERFALL.text()
    )?;
    for step in &funder.waterfall.arithmetic {
        writeln!(page, "<li>{}</li>", escape(step))?;
    }
    page.push_str("</ol>\n");
    if let Some(guarantee) = &funder.guarantee {
        writeln!(
            page,
            "<h3>{}</h3>\n<p>{}</p>",
            GUARANTEE.text(),
            escape(&guarantee.arithmetic)
        )?;
    }
    let statement = &funder.statement;
    writeln!(page, "<h3>{}</h3>\n<table>\n<tbody>", STATEMENT.text())?;
    for (label, value) in [
        (
            PRINCIPAL_DISBURSED,
            statement.principal_disbursed.to_string(),
        ),
        (PRINCIPAL_REPAID, statement.principal_repaid.to_string()),
        (
            PRINCIPAL_OUTSTANDING,
            statement.principal_outstanding.to_string(),
        ),
        (RETURN_ACCRUED, statement.return_accrued.to_string()),
        (RETURN_PAID, statement.return_paid.to_string()),
        (RETURN_UNPAID, statement.return_unpaid.to_string()),
        (ACCRUED_UP_TO, statement.accrued_through.to_string()),
        (ANNUAL_RATE, statement.annual_rate.to_string()),
        (AVERAGE_RATE, statement.average_annual_rate.to_string()),
    ] {
        writeln!(
            page,
            "<tr><td>{}</td><td class=\"amount\">{}</td></tr>",
            label.text(),
            escape(&value)
        )?;
    }
    writeln!(
        page,
        "</tbody>\n</table>\n<p class=\"arithmetic\">{}</p>",
        escape(&statement.arithmetic)
    )
}
