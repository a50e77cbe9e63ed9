//! `esito-bench --scale`: the figures that must not grow with the log, measured by the
//! sections of the default run (indicators on PostgreSQL, `esito verify`, `esito settle
//! --offline`) at each of several log sizes, printed side by side with their growth factor
//! (the last size's figure over the first's) and their target; `target/bench/scale.json`.
//!
//! Each size's data is gone before the next one's is written (the scratch schema emptied, the
//! scratch directories removed), so the disk holds one size at a time.

use std::path::Path;

use anyhow::Context;
use esito_store::anchor;
use serde_json::json;

/// The scratch schema of the indicators' section at every size, emptied after each.
const SCHEMA: &str = "esito_bench_scale";

/// The log sizes to measure, in entries, in the order given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sizes(pub Vec<u64>);

/// Reads `--scale-sizes`: whole numbers of entries, comma-separated, each large enough for
/// every section's log.
pub fn parse_sizes(text: &str) -> Result<Sizes, String> {
    let sizes = text
        .split(',')
        .map(|part| {
            let part = part.trim();
            let size: u64 = part
                .parse()
                .map_err(|_| format!("{part:?} is not a whole number of entries"))?;
            if size < crate::settlement::ENTRIES_MIN {
                return Err(format!(
                    "{size} entries is fewer than the {} the settlement's log holds before its first access",
                    crate::settlement::ENTRIES_MIN
                ));
            }
            Ok(size)
        })
        .collect::<Result<Vec<u64>, String>>()?;
    Ok(Sizes(sizes))
}

/// What a figure must stay within at every size.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Target {
    Below(f64),
    AtLeast(f64),
    Reported,
}

impl Target {
    fn met(self, value: f64) -> Option<bool> {
        match self {
            Target::Below(limit) => Some(value < limit),
            Target::AtLeast(limit) => Some(value >= limit),
            Target::Reported => None,
        }
    }

    fn text(self) -> String {
        match self {
            Target::Below(limit) => format!("< {limit}"),
            Target::AtLeast(limit) => format!(">= {limit}"),
            Target::Reported => "reported".to_owned(),
        }
    }

    fn json(self) -> serde_json::Value {
        match self {
            Target::Below(limit) => json!({ "below": limit }),
            Target::AtLeast(limit) => json!({ "at_least": limit }),
            Target::Reported => serde_json::Value::Null,
        }
    }
}

/// A figure of the table: where a size's sections report it, and its target.
struct Figure {
    name: &'static str,
    unit: &'static str,
    /// The section (`indicators`, `verify`, `settlement`) and a JSON pointer into its report.
    section: &'static str,
    pointer: &'static str,
    target: Target,
}

const FIGURES: [Figure; 8] = [
    Figure {
        name: "esito verify, peak memory",
        unit: "MiB",
        section: "verify",
        pointer: "/peak_rss_mib",
        target: Target::Below(64.0),
    },
    Figure {
        name: "esito verify, rate / raw SHA-256",
        unit: "ratio",
        section: "verify",
        pointer: "/rate/ratio",
        target: Target::AtLeast(0.8),
    },
    Figure {
        name: "indicator query as of the head, p99",
        unit: "ms",
        section: "indicators",
        pointer: "/query_ms/p99",
        target: Target::Below(crate::indicators::HEAD_P99_TARGET_AT_SCALE_MS),
    },
    Figure {
        name: "indicator query as of any position, p99",
        unit: "ms",
        section: "indicators",
        pointer: "/query_as_of_anywhere_ms/p99",
        target: Target::Below(crate::indicators::ANYWHERE_P99_TARGET_MS),
    },
    Figure {
        name: "indicator query a tenth back, p99",
        unit: "ms",
        section: "indicators",
        pointer: "/query_as_of_earlier_ms/p99",
        target: Target::Reported,
    },
    Figure {
        name: "esito rebuild, peak memory",
        unit: "MiB",
        section: "indicators",
        pointer: "/rebuild_peak_rss_mib",
        target: Target::Below(256.0),
    },
    Figure {
        name: "esito settle --offline, peak memory",
        unit: "MiB",
        section: "settlement",
        pointer: "/offline/peak_rss_mib",
        target: Target::Below(256.0),
    },
    Figure {
        name: "esito settle --offline, time",
        unit: "s",
        section: "settlement",
        pointer: "/offline/seconds",
        target: Target::Reported,
    },
];

/// A figure at every size.
struct Row {
    figure: &'static Figure,
    values: Vec<f64>,
}

impl Row {
    /// The last size's value over the first's; none if the first is zero.
    fn growth(&self) -> Option<f64> {
        match (self.values.first(), self.values.last()) {
            (Some(first), Some(last)) if *first > 0.0 => Some(last / first),
            _ => None,
        }
    }

    /// Met if met at every size; none for a figure only reported.
    fn met(&self) -> Option<bool> {
        self.values
            .iter()
            .map(|value| self.figure.target.met(*value))
            .try_fold(true, |all, met| met.map(|met| all && met))
    }

    fn json(&self) -> serde_json::Value {
        json!({
            "figure": self.figure.name,
            "unit": self.figure.unit,
            "values": self.values,
            "growth": self.growth(),
            "target": self.figure.target.json(),
            "met": self.met(),
        })
    }
}

/// Each figure of `FIGURES` read from each size's sections
/// (`{"entries", "indicators", "verify", "settlement"}`).
fn rows(sections: &[serde_json::Value]) -> anyhow::Result<Vec<Row>> {
    FIGURES
        .iter()
        .map(|figure| {
            let values = sections
                .iter()
                .map(|size| {
                    size[figure.section]
                        .pointer(figure.pointer)
                        .and_then(serde_json::Value::as_f64)
                        .with_context(|| {
                            format!(
                                "the {} section at {} entries reports no {} ({})",
                                figure.section, size["entries"], figure.name, figure.pointer
                            )
                        })
                })
                .collect::<anyhow::Result<Vec<f64>>>()?;
            Ok(Row { figure, values })
        })
        .collect()
}

/// The table, one line a figure, one column a size.
fn table(sizes: &[u64], rows: &[Row]) -> String {
    let mut text = format!("  {:<46}", "figure");
    for size in sizes {
        text += &format!(" {:>16}", format!("{size} entries"));
    }
    text += "   growth  target\n";
    for row in rows {
        text += &format!(
            "  {:<46}",
            format!("{} ({})", row.figure.name, row.figure.unit)
        );
        for value in &row.values {
            text += &format!(" {value:>16.2}");
        }
        let growth = row
            .growth()
            .map_or_else(|| "-".to_owned(), |g| format!("x{g:.2}"));
        let verdict = match row.met() {
            Some(true) => ": met",
            Some(false) => ": NOT met",
            None => "",
        };
        text += &format!("  {growth:>7}  {}{verdict}\n", row.figure.target.text());
    }
    text
}

fn report(sizes: &[u64], sections: &[serde_json::Value]) -> anyhow::Result<serde_json::Value> {
    let rows = rows(sections)?;
    Ok(json!({
        "machine": { "cores": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1) },
        "sizes": sizes,
        "figures": rows.iter().map(Row::json).collect::<Vec<_>>(),
        "sections": sections,
    }))
}

/// Runs the sections at each size, prints the table and writes `scale.json` in `out`
/// (rewritten after each size, so that the sizes measured survive a later one's failure).
pub async fn measure(base_url: &str, sizes: &Sizes, out: &Path) -> anyhow::Result<()> {
    let file = out.join("scale.json");
    let mut sections = Vec::with_capacity(sizes.0.len());
    for (done, &size) in sizes.0.iter().enumerate() {
        println!("scale, {size} entries:");
        let indicators = crate::indicators::measure(base_url, SCHEMA, size).await?;
        // Emptied, so that the next size's log does not sit beside this one's.
        anchor::scratch_postgres(base_url, SCHEMA).await?;
        let verify = {
            let scratch = tempfile::tempdir()?;
            crate::verify::measure(scratch.path(), size)?
        };
        let settlement = {
            let scratch = tempfile::tempdir()?;
            crate::settlement::measure(scratch.path(), size).await?
        };
        sections.push(json!({
            "entries": size,
            "indicators": indicators,
            "verify": verify,
            "settlement": settlement,
        }));
        let report = report(&sizes.0[..=done], &sections)?;
        std::fs::write(&file, serde_json::to_string_pretty(&report)? + "\n")?;
    }
    println!("scale: the figures that must not grow with the log, side by side");
    print!("{}", table(&sizes.0, &rows(&sections)?));
    println!("written: {}", file.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A size's sections reporting `value` for every figure of the table.
    fn sections(entries: u64, value: f64) -> serde_json::Value {
        let mut size =
            json!({ "entries": entries, "indicators": {}, "verify": {}, "settlement": {} });
        for figure in &FIGURES {
            let mut at = &mut size[figure.section];
            for key in figure.pointer.split('/').skip(1) {
                at = &mut at[key];
            }
            *at = json!(value);
        }
        size
    }

    #[test]
    fn sizes_are_read_in_order_spaces_allowed() {
        assert_eq!(
            parse_sizes("1000000, 3000000,20000"),
            Ok(Sizes(vec![1_000_000, 3_000_000, 20_000]))
        );
    }

    #[test]
    fn a_size_that_is_not_a_whole_number_is_refused_by_name() {
        let error = parse_sizes("1000000,3e6").expect_err("3e6 is refused");
        assert!(error.contains("\"3e6\" is not a whole number"), "{error}");
        assert!(parse_sizes("").is_err());
        assert!(parse_sizes("1000000,").is_err());
    }

    #[test]
    fn a_size_too_small_for_the_settlements_log_is_refused_with_the_minimum() {
        let error = parse_sizes("10000").expect_err("too small");
        assert!(
            error.contains(&crate::settlement::ENTRIES_MIN.to_string()),
            "{error}"
        );
        assert!(parse_sizes(&crate::settlement::ENTRIES_MIN.to_string()).is_ok());
    }

    #[test]
    fn growth_is_the_last_size_over_the_first() {
        let rows = rows(&[sections(1, 2.0), sections(2, 3.0), sections(3, 5.0)]).expect("rows");
        assert_eq!(rows.len(), FIGURES.len());
        for row in &rows {
            assert_eq!(row.values, vec![2.0, 3.0, 5.0]);
            assert_eq!(row.growth(), Some(2.5));
        }
        let zero = rows_of(0.0);
        assert_eq!(zero[0].growth(), None);
    }

    fn rows_of(value: f64) -> Vec<Row> {
        rows(&[sections(1, value), sections(2, value)]).expect("rows")
    }

    #[test]
    fn a_target_is_met_only_if_met_at_every_size() {
        // Verify's peak memory: below 64 MiB at the first size, not at the second.
        let mut second = sections(2, 10.0);
        second["verify"]["peak_rss_mib"] = json!(64.0);
        let rows = rows(&[sections(1, 10.0), second]).expect("rows");
        let memory = &rows[0];
        assert_eq!(memory.figure.pointer, "/peak_rss_mib");
        assert_eq!(memory.met(), Some(false));
        // Verify's rate: at least 0.8 is met at exactly 0.8, not at 0.79.
        assert_eq!(Target::AtLeast(0.8).met(0.8), Some(true));
        assert_eq!(Target::AtLeast(0.8).met(0.79), Some(false));
        // A figure only reported has no verdict.
        assert!(rows.iter().any(|row| row.met().is_none()));
        let table = table(&[1, 2], &rows);
        assert!(table.contains("< 64: NOT met"), "{table}");
    }

    #[test]
    fn a_figure_missing_from_a_section_is_an_error_naming_it() {
        let mut second = sections(3_000_000, 1.0);
        second["settlement"]["offline"] = json!({});
        let error = rows(&[sections(1_000_000, 1.0), second])
            .err()
            .expect("a missing figure is an error")
            .to_string();
        assert!(
            error.contains("settlement section at 3000000 entries"),
            "{error}"
        );
        assert!(
            error.contains("esito settle --offline, peak memory"),
            "{error}"
        );
    }

    #[test]
    fn the_report_holds_each_figure_at_each_size_with_its_target() {
        let report = report(&[1, 2], &[sections(1, 4.0), sections(2, 8.0)]).expect("report");
        let figures = report["figures"].as_array().expect("figures");
        assert_eq!(figures.len(), FIGURES.len());
        assert_eq!(figures[0]["values"], json!([4.0, 8.0]));
        assert_eq!(figures[0]["growth"], json!(2.0));
        assert_eq!(figures[0]["target"], json!({ "below": 64.0 }));
        assert_eq!(figures[0]["met"], json!(true));
        assert_eq!(figures[1]["target"], json!({ "at_least": 0.8 }));
        assert_eq!(report["sizes"], json!([1, 2]));
    }
}
