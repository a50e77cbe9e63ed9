//! Every figure the templates (`projections/*.toml`) and the demo (`demo/*.jsonl`) set is
//! marked where it is set, as a seed's passage (`source`) or an `assumption`, and each mark is
//! listed in docs/assumptions.md, which says what counts as a figure.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use esito_indicators::definitions::{Kind, UnitCost};
use esito_indicators::{templates, Definitions};
use serde_json::Value;

/// The commands that set a parameter (docs/assumptions.md, "What counts as a figure"): their
/// numbers, numeric strings and dates are figures. Every other line records activity.
const FIGURE_COMMANDS: [&str; 14] = [
    "RegisterContract",
    "AmendContract",
    "ListProduct",
    "ChangeProductPrice",
    "StartTenancy",
    "StartPlacement",
    "ExitPath",
    "DefinePhase",
    "InvoiceAdvance",
    "IssueInvoice",
    "AssessNeed",
    "EnrolInPath",
    "ReassessPath",
    "IssueToken",
];

const DEMO_FILES: [&str; 4] = [
    "cuneo-communal-living",
    "torino-homes4all",
    "prato-autonomia",
    "cremona-kcity",
];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The ids docs/assumptions.md lists, by table.
#[derive(Debug, Default)]
struct Listed {
    /// "From the seeds": each row quotes the seed's passage.
    sources: BTreeSet<String>,
    /// "Assumptions of the templates": `template.indicator`.
    templates: BTreeSet<String>,
    /// "Assumptions of the demo".
    demo: BTreeSet<String>,
    /// Rows of "From the seeds" that quote no passage.
    unquoted: Vec<String>,
}

fn listed(page: &str) -> Listed {
    let mut listed = Listed::default();
    let mut table = "";
    for line in page.lines() {
        if let Some(heading) = line.strip_prefix("## ") {
            table = heading;
            continue;
        }
        let Some(id) = line
            .strip_prefix("| `")
            .and_then(|rest| rest.split_once('`'))
            .map(|(id, _)| id.to_owned())
        else {
            continue;
        };
        if table.starts_with("From the seeds") {
            if !(line.contains("seed 00") && line.contains('«') && line.contains('»')) {
                listed.unquoted.push(id.clone());
            }
            listed.sources.insert(id);
        } else if table.starts_with("Assumptions of the templates") {
            listed.templates.insert(id);
        } else if table.starts_with("Assumptions of the demo") {
            listed.demo.insert(id);
        }
    }
    listed
}

/// A number, a numeric string (`"6000.00"`, `"0.5"`) or a date (`"2024-12-31"`).
fn is_figure(value: &Value) -> bool {
    match value {
        Value::Number(_) => true,
        Value::String(text) => {
            let numeric = |part: &str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
            let number = match text.split_once('.') {
                Some((whole, fraction)) => numeric(whole) && numeric(fraction),
                None => numeric(text),
            };
            let date = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").is_ok();
            number || date
        }
        _ => false,
    }
}

fn holds_a_figure(value: &Value) -> bool {
    match value {
        Value::Array(items) => items.iter().any(holds_a_figure),
        Value::Object(members) => members.values().any(holds_a_figure),
        other => is_figure(other),
    }
}

/// The ids of a line's mark (`source` or `assumption`): a list of strings.
fn marks(line: &Value, name: &str) -> Vec<String> {
    line.get(name)
        .and_then(Value::as_array)
        .map(|ids| {
            ids.iter()
                .map(|id| id.as_str().unwrap_or_default().to_owned())
                .collect()
        })
        .unwrap_or_default()
}

/// What is wrong with the marks of one demo line; each mark used is added to `used`.
fn demo_line_problems(
    at: &str,
    line: &Value,
    listed: &Listed,
    used: &mut BTreeSet<String>,
) -> Vec<String> {
    let command = &line["command"];
    let command_type = command["type"].as_str().unwrap_or_default();
    let sources = marks(line, "source");
    let assumptions = marks(line, "assumption");
    let mut problems = Vec::new();
    if FIGURE_COMMANDS.contains(&command_type)
        && holds_a_figure(command)
        && sources.is_empty()
        && assumptions.is_empty()
    {
        problems.push(format!(
            "{at}: {command_type} sets figures with neither `source` nor `assumption`"
        ));
    }
    for id in &sources {
        if !listed.sources.contains(id) {
            problems.push(format!("{at}: source `{id}` is not in docs/assumptions.md"));
        }
        used.insert(id.clone());
    }
    for id in &assumptions {
        if !listed.demo.contains(id) {
            problems.push(format!(
                "{at}: assumption `{id}` is not in docs/assumptions.md"
            ));
        }
        used.insert(id.clone());
    }
    problems
}

/// What is wrong with the marks of a template's figures; each mark used is added to `used`.
fn template_problems(
    definitions: &Definitions,
    listed: &Listed,
    used: &mut BTreeSet<String>,
) -> Vec<String> {
    let mut problems = Vec::new();
    for indicator in &definitions.indicators {
        let figures = match &indicator.kind {
            Kind::CohortShare { within_days, .. } => vec![format!("within_days = {within_days}")],
            Kind::Savings {
                baseline,
                unit_cost,
                ..
            } => {
                let mut figures = vec![format!("baseline = {baseline}")];
                if let UnitCost::Fixed(cost) = unit_cost {
                    figures.push(format!("unit_cost = {cost}"));
                }
                figures
            }
            _ => Vec::new(),
        };
        if figures.is_empty() {
            continue;
        }
        let at = format!("{}.{}", definitions.template, indicator.id);
        if indicator.assumption.is_none() && indicator.source.is_none() {
            problems.push(format!(
                "{at}: {} with neither `source` nor `assumption`",
                figures.join(", ")
            ));
        }
        if indicator.assumption.is_some() {
            if !listed.templates.contains(&at) {
                problems.push(format!(
                    "{at}: its assumption is not in docs/assumptions.md"
                ));
            }
            used.insert(at.clone());
        }
        if let Some(source) = &indicator.source {
            let quoted =
                source.starts_with("seed 00") && source.contains('«') && source.contains('»');
            if !quoted {
                problems.push(format!(
                    "{at}: the source does not quote a seed as `seed NNN: «...»`: {source}"
                ));
            }
        }
    }
    problems
}

#[test]
fn every_figure_of_the_templates_and_the_demo_is_marked_and_listed() {
    let page = std::fs::read_to_string(root().join("docs/assumptions.md"))
        .expect("docs/assumptions.md reads");
    let listed = listed(&page);
    assert!(
        listed.unquoted.is_empty(),
        "rows of \"From the seeds\" that quote no passage: {:?}",
        listed.unquoted
    );
    let mut used = BTreeSet::new();
    let mut problems = Vec::new();
    for (template, _) in templates::FILES {
        let definitions = templates::embedded(template)
            .expect("a template")
            .expect("the template parses");
        problems.extend(template_problems(&definitions, &listed, &mut used));
    }
    for name in DEMO_FILES {
        let text = std::fs::read_to_string(root().join(format!("demo/{name}.jsonl")))
            .expect("a demo file reads");
        for (index, line) in text.lines().enumerate() {
            let line: Value = serde_json::from_str(line).expect("a JSON line");
            let at = format!("demo/{name}.jsonl line {}", index + 1);
            problems.extend(demo_line_problems(&at, &line, &listed, &mut used));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    // A template's figure from a seed is cited where it is set; the table lists it too.
    used.insert("cremona.on_time_within_days".to_owned());
    let unused: Vec<&String> = listed
        .sources
        .iter()
        .chain(&listed.templates)
        .chain(&listed.demo)
        .filter(|id| !used.contains(*id))
        .collect();
    assert!(
        unused.is_empty(),
        "docs/assumptions.md lists ids nothing uses: {unused:?}"
    );
}

#[test]
fn an_unmarked_or_unlisted_figure_is_found() {
    let listed = listed(
        "## From the seeds\n| `seed.one` | 1 | seed 003: «un passo» |\n\
         ## Assumptions of the demo\n| `demo.one` | 2 | why |\n",
    );
    let mut used = BTreeSet::new();
    let line = |text: &str| serde_json::from_str::<Value>(text).expect("JSON");
    let unmarked = line(r#"{"command":{"type":"StartPlacement","nightly_cost":"45.00"}}"#);
    assert_eq!(
        demo_line_problems("l1", &unmarked, &listed, &mut used).len(),
        1
    );
    let dated = line(r#"{"command":{"type":"RegisterContract","term_end_on":"2024-12-31"}}"#);
    assert_eq!(
        demo_line_problems("l2", &dated, &listed, &mut used).len(),
        1
    );
    let unlisted = line(
        r#"{"command":{"type":"StartPlacement","nightly_cost":"45.00"},"assumption":["demo.two"]}"#,
    );
    assert_eq!(
        demo_line_problems("l3", &unlisted, &listed, &mut used).len(),
        1
    );
    let marked = line(
        r#"{"command":{"type":"DefinePhase","amount":"10000.00"},"source":["seed.one"],"assumption":["demo.one"]}"#,
    );
    assert!(demo_line_problems("l4", &marked, &listed, &mut used).is_empty());
    let activity = line(r#"{"command":{"type":"PlaceOrder","price":"7.22"}}"#);
    assert!(demo_line_problems("l5", &activity, &listed, &mut used).is_empty());

    let template = r#"
template = "t"
title = { it = "t", en = "t" }

[[indicator]]
id = "share"
area = "change"
kind = "cohort_share"
unit = "share"
label = { it = "q", en = "s" }
entered = { events = ["TenancyStarted"] }
reached = { events = ["TenantMilestoneReached"] }
within_days = 180
"#;
    let bare = Definitions::parse(template).expect("valid definitions");
    assert_eq!(template_problems(&bare, &listed, &mut used).len(), 1);
    let unlisted = Definitions::parse(&format!("{template}assumption = \"a window\"\n"))
        .expect("valid definitions");
    assert_eq!(template_problems(&unlisted, &listed, &mut used).len(), 1);
    let unquoted = Definitions::parse(&format!("{template}source = \"the seed says so\"\n"))
        .expect("valid definitions");
    assert_eq!(template_problems(&unquoted, &listed, &mut used).len(), 1);
    let cited = Definitions::parse(&format!(
        "{template}source = \"seed 000: «entro 180 giorni»\"\n"
    ))
    .expect("valid definitions");
    assert!(template_problems(&cited, &listed, &mut used).is_empty());
}
