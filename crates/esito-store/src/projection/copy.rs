//! PostgreSQL's COPY for a rebuild's rows: what only PostgreSQL has, and what makes a
//! rebuild of a million entries write its rows in a fraction of a second (a statement per
//! thousand rows would cost a round trip each). SQLite writes the same rows with the
//! step's INSERTs (`step::write_rows`).
//!
//! Invariant: a value is written in COPY's text format, escaped by [`copy_text`], so a key or
//! an indicator id with a tab, a newline or a backslash reads back as it was.

use std::fmt::Write as _;

use sqlx::PgConnection;

use super::rebuild::Rebuilt;
use super::*;

/// A text value for PostgreSQL's COPY text format.
pub(crate) fn copy_text(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
}

/// Writes a rebuild's rows by COPY in the caller's transaction, after it deleted the old ones:
/// the monthly rows, the rows per key, the distinct counts and the facts that reach back.
pub(crate) async fn copy_rebuilt(
    tx: &mut PgConnection,
    contract_id: &ContractId,
    rebuilt: &Rebuilt,
) -> Result<(), StoreError> {
    {
        let mut text = String::new();
        for ((indicator, part, month), (events, cents)) in &rebuilt.rows.rows.months {
            if (*events, *cents) == (0, 0) {
                continue;
            }
            copy_text(&mut text, contract_id.as_str());
            text.push('\t');
            copy_text(&mut text, indicator);
            let _ = writeln!(text, "\t{part}\t{month}\t{events}\t{cents}");
        }
        let mut copy = tx
            .copy_in_raw("COPY indicator_months (contract_id, indicator, part, month, events, amount_cents) FROM STDIN")
            .await?;
        copy.send(text.as_bytes()).await?;
        copy.finish().await?;
        let mut text = String::new();
        let mut copy = tx
            .copy_in_raw(concat!(
                "COPY indicator_keys (contract_id, indicator, part, year, fact_key, ",
                "m01, m02, m03, m04, m05, m06, m07, m08, m09, m10, m11, m12) FROM STDIN"
            ))
            .await?;
        for ((indicator, part, year, key), counts) in &rebuilt.rows.rows.keys {
            if *counts == [0; 12] {
                continue;
            }
            copy_text(&mut text, contract_id.as_str());
            text.push('\t');
            copy_text(&mut text, indicator);
            let _ = write!(text, "\t{part}\t{year}\t");
            copy_text(&mut text, key);
            for events in counts {
                let _ = write!(text, "\t{events}");
            }
            text.push('\n');
            if text.len() > 1 << 20 {
                copy.send(text.as_bytes()).await?;
                text.clear();
            }
        }
        copy.send(text.as_bytes()).await?;
        copy.finish().await?;
        let mut text = String::new();
        for ((indicator, part, period), keys) in &rebuilt.rows.distinct {
            if *keys == 0 {
                continue;
            }
            copy_text(&mut text, contract_id.as_str());
            text.push('\t');
            copy_text(&mut text, indicator);
            let _ = writeln!(text, "\t{part}\t{period}\t{keys}");
        }
        let mut copy = tx
            .copy_in_raw(
                "COPY indicator_distinct (contract_id, indicator, part, period, keys) FROM STDIN",
            )
            .await?;
        copy.send(text.as_bytes()).await?;
        copy.finish().await?;
        let mut text = String::new();
        for (fact, until) in rebuilt.span_facts.all() {
            copy_text(&mut text, contract_id.as_str());
            text.push('\t');
            copy_text(&mut text, &fact.indicator);
            let _ = write!(text, "\t{}\t{}\t", fact.part.code(), fact.position);
            match until {
                Some(until) => {
                    let _ = write!(text, "{until}");
                }
                None => text.push_str("\\N"),
            }
            text.push('\t');
            copy_text(&mut text, &fact.event_id);
            let _ = write!(text, "\t{}\t", fact.local_date.format("%Y-%m-%d"));
            match &fact.key {
                Some(key) => copy_text(&mut text, key),
                None => text.push_str("\\N"),
            }
            text.push('\t');
            match fact.amount {
                Some(amount) => {
                    let _ = write!(text, "{}", cents(amount, fact.position)?);
                }
                None => text.push_str("\\N"),
            }
            text.push('\n');
        }
        let mut copy = tx
            .copy_in_raw("COPY indicator_facts (contract_id, indicator, part, position, until_position, event_id, local_date, fact_key, amount_cents) FROM STDIN")
            .await?;
        copy.send(text.as_bytes()).await?;
        copy.finish().await?;
    }
    copy_versions(tx, contract_id, &rebuilt.versions).await
}

/// Writes a rebuild's versions of monthly rows and distinct counts, block by block, by COPY
/// (those of rows per key went out while the log was derived: [`copy_key_versions`]).
async fn copy_versions(
    tx: &mut PgConnection,
    contract_id: &ContractId,
    versions: &[(u64, Versions)],
) -> Result<(), StoreError> {
    let mut text = String::new();
    let mut copy = tx
        .copy_in_raw("COPY indicator_month_versions (contract_id, indicator, part, month, block, events, amount_cents) FROM STDIN")
        .await?;
    for (block, one) in versions {
        for ((indicator, part, month), (events, cents)) in &one.months {
            copy_text(&mut text, contract_id.as_str());
            text.push('\t');
            copy_text(&mut text, indicator);
            let _ = writeln!(text, "\t{part}\t{month}\t{block}\t{events}\t{cents}");
        }
        if text.len() > 1 << 20 {
            copy.send(text.as_bytes()).await?;
            text.clear();
        }
    }
    copy.send(text.as_bytes()).await?;
    copy.finish().await?;
    text.clear();
    let mut copy = tx
        .copy_in_raw("COPY indicator_distinct_versions (contract_id, indicator, part, period, block, keys) FROM STDIN")
        .await?;
    for (block, one) in versions {
        for ((indicator, part, period), keys) in &one.distinct {
            copy_text(&mut text, contract_id.as_str());
            text.push('\t');
            copy_text(&mut text, indicator);
            let _ = writeln!(text, "\t{part}\t{period}\t{block}\t{keys}");
        }
        if text.len() > 1 << 20 {
            copy.send(text.as_bytes()).await?;
            text.clear();
        }
    }
    copy.send(text.as_bytes()).await?;
    copy.finish().await?;
    text.clear();
    debug_assert!(
        versions.iter().all(|(_, one)| one.keys.is_empty()),
        "the rows per key's versions went out while the log was derived"
    );
    Ok(())
}

/// One block's versions of rows per key in COPY's text format.
pub(crate) fn key_versions_text(
    contract_id: &ContractId,
    block: u64,
    keys: &[esito_projector::KeyRow],
) -> String {
    let mut text = String::new();
    for ((indicator, part, year, key), counts) in keys {
        copy_text(&mut text, contract_id.as_str());
        let _ = write!(text, "\t{block}\t{year}\t");
        copy_text(&mut text, indicator);
        let _ = write!(text, "\t{part}\t");
        copy_text(&mut text, key);
        for events in counts {
            let _ = write!(text, "\t{events}");
        }
        text.push('\n');
    }
    text
}

/// Copies the versions of rows per key that `texts` hands over (as [`key_versions_text`]
/// writes them) until it closes.
pub(crate) async fn copy_key_versions(
    tx: &mut PgConnection,
    mut texts: tokio::sync::mpsc::UnboundedReceiver<String>,
) -> Result<(), StoreError> {
    let mut copy = tx
        .copy_in_raw(concat!(
            "COPY indicator_key_versions (contract_id, block, year, indicator, part, fact_key, ",
            "m01, m02, m03, m04, m05, m06, m07, m08, m09, m10, m11, m12) FROM STDIN"
        ))
        .await?;
    let mut text = String::new();
    while let Some(more) = texts.recv().await {
        text.push_str(&more);
        if text.len() > 1 << 20 {
            copy.send(text.as_bytes()).await?;
            text.clear();
        }
    }
    copy.send(text.as_bytes()).await?;
    copy.finish().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_text_escapes_what_would_end_a_value_or_a_row() {
        let mut out = String::new();
        copy_text(&mut out, "a\tb\nc\\d\re");
        assert_eq!(out, "a\\tb\\nc\\\\d\\re");
    }

    #[test]
    fn copy_text_leaves_other_text_as_it_is() {
        let mut out = String::from("x");
        copy_text(&mut out, "Comune di Cuneo è");
        assert_eq!(out, "xComune di Cuneo è");
    }
}
