//! The indicators of the four demo programmes against figures worked out by hand.
//!
//! Every expected value below was derived by reading the generators the demo files
//! (`demo/*.jsonl`) were written from, the definitions (`projections/*.toml`) and the rules of
//! docs/design.md §4, never by running the code and copying its answer; the reasoning is
//! written beside each expectation. Where a figure depends on the demo's dice (a random date or
//! choice), the test asserts what the construction fixes instead: totals over periods that
//! cover the whole window, values in periods the dice cannot reach, bounds and relations
//! between indicators.
//!
//! Reminders used throughout: an event belongs to the period holding the local date (Europe/Rome)
//! of its `occurred_at`; every demo event is written at a local time between 08:00 and 18:00,
//! so its local date is the date the generator gives it. Log positions count from 1 in each
//! contract's own log, in the order of the lines of its demo file (by `occurred_at`, then by
//! the order the generator added them); position 1 is `RegisterContract` and position 2 the
//! `AmendContract` of the initial terms.

use esito_testkit::sqlite_url;
use std::process::Command;

use rust_decimal::Decimal;
use serde_json::Value;

const ESITO: &str = env!("CARGO_BIN_EXE_esito");

const CUNEO: &str = "cuneo-communal-living";
const TORINO: &str = "torino-homes4all";
const PRATO: &str = "prato-autonomia";
const CREMONA: &str = "cremona-kcity";

/// The demo loaded into a fresh SQLite file.
struct Demo {
    _dir: tempfile::TempDir,
    database: String,
}

impl Demo {
    fn load() -> Self {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let database = sqlite_url(dir.path());
        let output = Command::new(ESITO)
            .args(["demo", "--database", &database])
            .output()
            .expect("esito runs");
        assert!(
            output.status.success(),
            "esito demo: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        Demo {
            _dir: dir,
            database,
        }
    }

    /// The indicators of `contract` for `period`, as of the latest position.
    fn report(&self, contract: &str, period: &str) -> Report {
        self.report_as_of(contract, period, None)
    }

    fn report_as_of(&self, contract: &str, period: &str, as_of: Option<u64>) -> Report {
        let mut args = vec![
            "indicators".to_owned(),
            "--contract".to_owned(),
            contract.to_owned(),
            "--period".to_owned(),
            period.to_owned(),
            "--database".to_owned(),
            self.database.clone(),
        ];
        if let Some(position) = as_of {
            args.push("--as-of".to_owned());
            args.push(position.to_string());
        }
        let output = Command::new(ESITO)
            .args(&args)
            .output()
            .expect("esito runs");
        assert!(
            output.status.success(),
            "esito {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr)
        );
        let json: Value = serde_json::from_slice(&output.stdout).expect("the report is JSON");
        Report {
            label: format!("{contract} {period} as of {as_of:?}"),
            json,
        }
    }
}

/// One `esito indicators` report.
struct Report {
    label: String,
    json: Value,
}

impl Report {
    fn value(&self, id: &str) -> &Value {
        self.json["indicators"]
            .as_array()
            .expect("the report lists its indicators")
            .iter()
            .find(|indicator| indicator["id"] == id)
            .map(|indicator| &indicator["value"])
            .unwrap_or_else(|| panic!("{}: no indicator `{id}`", self.label))
    }

    /// A count or distinct count: a JSON integer.
    fn count(&self, id: &str) -> u64 {
        self.value(id)
            .as_u64()
            .unwrap_or_else(|| panic!("{}: `{id}` is not a count: {}", self.label, self.value(id)))
    }

    /// Money, a ratio or a share: a decimal string.
    fn text(&self, id: &str) -> &str {
        self.value(id).as_str().unwrap_or_else(|| {
            panic!(
                "{}: `{id}` is not a decimal string: {}",
                self.label,
                self.value(id)
            )
        })
    }

    fn decimal(&self, id: &str) -> Decimal {
        self.text(id)
            .parse()
            .unwrap_or_else(|_| panic!("{}: `{id}` is not a decimal", self.label))
    }

    fn expect_count(&self, id: &str, expected: u64, why: &str) {
        assert_eq!(self.count(id), expected, "{}: `{id}`: {why}", self.label);
    }

    fn expect_text(&self, id: &str, expected: &str, why: &str) {
        assert_eq!(self.text(id), expected, "{}: `{id}`: {why}", self.label);
    }

    fn expect_null(&self, id: &str, why: &str) {
        assert!(
            self.value(id).is_null(),
            "{}: `{id}` should have no value ({why}), got {}",
            self.label,
            self.value(id)
        );
    }

    /// Before any programme event (as of the registration or the initial terms) nothing has
    /// happened: every count is 0, every sum and saving is 0.00, and every ratio, occupancy and
    /// cohort share has no value, its denominator being 0.
    fn expect_nothing_yet(&self) {
        for indicator in self.json["indicators"].as_array().expect("indicators") {
            let id = indicator["id"].as_str().expect("an id");
            let value = &indicator["value"];
            match indicator["kind"].as_str().expect("a kind") {
                "count" | "distinct" => assert_eq!(value, 0, "{}: `{id}`", self.label),
                "sum" | "savings" => assert_eq!(value, "0.00", "{}: `{id}`", self.label),
                _ => assert!(value.is_null(), "{}: `{id}` is {value}", self.label),
            }
        }
    }
}

fn euros(text: &str) -> Decimal {
    text.parse().expect("a decimal")
}

// ---------------------------------------------------------------------------------------------
// Cuneo, Communal Living (demo/cuneo-communal-living.jsonl)

#[test]
fn esito_rebuild_gives_every_demo_contract_the_values_the_running_projection_gave() {
    let demo = Demo::load();
    let asked = [
        (CUNEO, "2024-Q1"),
        (CUNEO, "2024"),
        (TORINO, "2024-H1"),
        (PRATO, "2024"),
        (CREMONA, "2024-Q2"),
    ];
    // As of the head and as of an earlier position, from the projection the queries catch up.
    let before: Vec<(Value, Value)> = asked
        .iter()
        .map(|(contract, period)| {
            (
                demo.report(contract, period).json,
                demo.report_as_of(contract, period, Some(20)).json,
            )
        })
        .collect();
    let output = Command::new(ESITO)
        .args(["rebuild", "--database", &demo.database])
        .output()
        .expect("esito runs");
    assert!(
        output.status.success(),
        "esito rebuild: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let said = String::from_utf8_lossy(&output.stdout);
    for contract in [CUNEO, TORINO, PRATO, CREMONA] {
        assert!(
            said.contains(&format!("rebuilt: {contract}, ")),
            "esito rebuild names {contract}: {said}"
        );
    }
    for ((contract, period), (head, earlier)) in asked.iter().zip(before) {
        assert_eq!(
            demo.report(contract, period).json,
            head,
            "{contract} {period}"
        );
        assert_eq!(
            demo.report_as_of(contract, period, Some(20)).json,
            earlier,
            "{contract} {period} as of 20"
        );
    }
}

#[test]
fn cuneo_indicators_follow_from_the_generator() {
    let demo = Demo::load();
    let q3 = demo.report(CUNEO, "2023-Q3");
    let q4 = demo.report(CUNEO, "2023-Q4");
    let h2 = demo.report(CUNEO, "2023-H2");
    let q1 = demo.report(CUNEO, "2024-Q1");
    let q2 = demo.report(CUNEO, "2024-Q2");

    // Centre accesses: access `a` (1..=300) falls on start + floor(a × days / 301), start being
    // 2023-07-01 and days = 2024-03-31 − 2023-07-01 = 274, moved to Monday when a Sunday. No
    // dice. Offset 91 is Saturday 30 September, so 2023-Q3 holds the a with a × 274 < 92 × 301
    // = 27,692, that is a ≤ 101. Offset 183 is Sunday 31 December: the one access there (a =
    // 202, since 202 × 274 / 301 = 183.9) moves to 1 January, so 2023-Q4 holds a = 102..=201.
    // The last access, a = 300, has offset 273 (Saturday 30 March 2024): 2024-Q1 holds the 99
    // left, and nothing falls after March.
    q3.expect_count("centre_accesses", 101, "a = 1..=101 fall before 1 October");
    q4.expect_count(
        "centre_accesses",
        100,
        "a = 102..=201; a = 202 moves to 1 January",
    );
    q1.expect_count("centre_accesses", 99, "a = 202..=300");
    q2.expect_count("centre_accesses", 0, "the last access is on 30 March 2024");

    // Orders: 89, each placed on first contact + below(span) days, span reaching 2024-03-15,
    // so between 2023-07-01 and 2024-03-14: 2023-H2 and 2024-Q1 hold all of them between them,
    // however the dice share them out.
    assert_eq!(
        h2.count("orders_placed") + q1.count("orders_placed"),
        89,
        "the seed's 89 orders, all placed from July 2023 to 14 March 2024"
    );
    q2.expect_count("orders_placed", 0, "the last order is placed by 14 March");

    // Tokens redeemed: an order's fate is fixed by its number, o mod 30: 7 cancelled (o = 7,
    // 37, 67), 13 or 26 expired (13, 26, 43, 56, 73, 86), 19 or 29 refunded (19, 29, 49, 59,
    // 79, 89), the rest delivered: 89 − 3 − 6 − 6 = 74 tokens redeemed, each 1 to 14 days after
    // its order, so by 28 March 2024.
    let redeemed_h2 = h2.count("tokens_redeemed");
    let redeemed_q1 = q1.count("tokens_redeemed");
    assert_eq!(
        redeemed_h2 + redeemed_q1,
        74,
        "89 orders less 3 cancelled, 6 expired and 6 refunded"
    );
    q2.expect_count("tokens_redeemed", 0, "the last redemption is by 28 March");
    // Tokens are issued on the order's day and redeemed by 28 March: in 2024-Q2 neither
    // happens, so the redemption rate has no denominator and no value.
    q2.expect_null("token_redemption_rate", "no token is issued in 2024-Q2");

    // Savings on home care: each redeemed token counts baseline 1 − actual 0 = 1 intervention
    // at the fixed 18.00 euro, in the period of its redemption.
    for (report, redeemed) in [(&h2, redeemed_h2), (&q1, redeemed_q1)] {
        assert_eq!(
            report.decimal("municipal_care_cost_avoided"),
            Decimal::from(redeemed) * euros("18.00"),
            "{}: 18.00 euro for each of the {redeemed} tokens redeemed",
            report.label
        );
    }
    assert_eq!(
        h2.decimal("municipal_care_cost_avoided") + q1.decimal("municipal_care_cost_avoided"),
        euros("1332.00"),
        "74 tokens × 18.00 euro"
    );

    // Clients reached: only the 37 clients `cl-001`..`cl-037` place orders; which of them
    // order is the dice's choice, so only the bound is fixed.
    for report in [&h2, &q1] {
        assert!(
            report.count("clients_reached") <= 37,
            "{}: at most the 37 clients the generator registers",
            report.label
        );
        assert!(
            report.count("clients_reached_low_isee") <= report.count("clients_reached"),
            "{}: the ISEE a and b clients are among the clients",
            report.label
        );
    }

    // Flat occupancy. The three flats are made available on 2023-07-01 and never withdrawn.
    // Tenancy h (0, 1, 2) starts on start + 2 + 7h: ten-1 on 3 July, ten-2 on 10 July, ten-3
    // on 17 July; ten-3 ends on 29 March 2024 (the household moved to the private market);
    // ten-4 moves into the same flat on 2 May 2024; ten-1 and ten-2 never end.
    // 2023-Q3 has 92 days: 3 × 92 = 276 available; occupied 90 (3 July – 30 September) + 83
    // (from 10 July) + 76 (from 17 July) = 249; 249 / 276 = 0.9021739… → 0.902174.
    q3.expect_text("flat_occupancy", "0.902174", "249 of 276 flat-days");
    // 2023-Q4: the three tenancies fill all 3 × 92 days.
    q4.expect_text("flat_occupancy", "1.000000", "276 of 276 flat-days");
    // 2024-Q1 has 91 days (leap February): 273 available; ten-1 and ten-2 91 each, ten-3 from
    // 1 January to 28 March (the end date excluded) 31 + 29 + 28 = 88; 270 / 273 = 0.98901098…
    q1.expect_text("flat_occupancy", "0.989011", "270 of 273 flat-days");
    // 2024-Q2 has 91 days: 273 available; ten-1 and ten-2 91 each, ten-4 from 2 May to
    // 30 June 30 + 30 = 60; 242 / 273 = 0.88644688…
    q2.expect_text("flat_occupancy", "0.886447", "242 of 273 flat-days");

    // Rent: charged on the first of each month (or on moving in) and paid 3 to 7 days later,
    // so always within its month. Rents 260 (ten-1), 300 (ten-2), 180 (ten-3) from July 2023
    // to March 2024: 740 a month, 2,220 a quarter. In 2024-Q2 ten-1 and ten-2 pay April to
    // June (3 × 260 + 3 × 300 = 1,680) and ten-4 pays May and June at 190 (380): 2,060.
    q3.expect_text("rent_collected", "2220.00", "3 months × (260 + 300 + 180)");
    q4.expect_text("rent_collected", "2220.00", "3 months × (260 + 300 + 180)");
    q1.expect_text("rent_collected", "2220.00", "3 months × (260 + 300 + 180)");
    q2.expect_text("rent_collected", "2060.00", "3 × 260 + 3 × 300 + 2 × 190");

    // Tenants' milestones, on the dates the generator writes: module 1 for all three on
    // 2023-09-20; module 2 for all three on 2023-12-13 and ten-3's job on 2023-11-06; ten-1's
    // job 2024-01-22, ten-2's savings 2024-02-28, ten-3's home 2024-02-16; module 3 for ten-1
    // and ten-2 on 2024-04-17, ten-2's job on 2024-06-10 and ten-4's module 1 on 2024-06-19.
    q3.expect_count("tenant_milestones", 3, "module 1 of three tenancies");
    q4.expect_count("tenant_milestones", 4, "module 2 of three, and ten-3's job");
    q1.expect_count(
        "tenant_milestones",
        3,
        "ten-1's job, ten-2's savings, ten-3's home",
    );
    q2.expect_count(
        "tenant_milestones",
        4,
        "two modules 3, ten-2's job, ten-4's module 1",
    );

    // The only tenancy that ends is ten-3, on 29 March 2024, moved to the private market.
    q1.expect_count("moves_to_private_market", 1, "ten-3 on 29 March 2024");
    h2.expect_count("moves_to_private_market", 0, "no tenancy ends in 2023");

    // Cohort share (milestone within 180 days of moving in), known at the period's end.
    // To 31 August 2023: three households in (3, 10, 17 July), none has a milestone yet.
    demo.report(CUNEO, "2023-08").expect_text(
        "tenants_reaching_milestone_share",
        "0.000000",
        "3 in, the first milestone comes on 20 September",
    );
    // To 30 September 2023: module 1 on 20 September, 65 to 79 days after moving in.
    q3.expect_text(
        "tenants_reaching_milestone_share",
        "1.000000",
        "3 of 3, module 1 on 20 September",
    );
    // To 31 May 2024: ten-4 (2 May) is in but its first milestone is on 19 June: 3 of 4.
    demo.report(CUNEO, "2024-05").expect_text(
        "tenants_reaching_milestone_share",
        "0.750000",
        "ten-4 has moved in but reached nothing yet",
    );
    // To 30 June 2024: ten-4's module 1 on 19 June, 48 days after moving in: 4 of 4.
    q2.expect_text(
        "tenants_reaching_milestone_share",
        "1.000000",
        "4 of 4 with ten-4's module 1",
    );

    // As of: position 1 is the registration, 2 the tariff terms from 1 July 2023 and 3 the
    // outcome-based terms from 1 January 2024; the three flats are made available at 08:30,
    // 08:31 and 08:32 on 1 July 2023, before anything else of the demo (the households are
    // registered at 08:40, the providers from 09:10), so they are positions 4 to 6.
    demo.report_as_of(CUNEO, "2023-Q3", Some(1))
        .expect_nothing_yet();
    let terms_only = demo.report_as_of(CUNEO, "2023-Q3", Some(3));
    terms_only.expect_nothing_yet();
    terms_only.expect_null("flat_occupancy", "no flat is available as of position 3");
    demo.report_as_of(CUNEO, "2023-Q3", Some(6)).expect_text(
        "flat_occupancy",
        "0.000000",
        "as of position 6: three flats available for 92 days, no tenancy yet",
    );
}

// ---------------------------------------------------------------------------------------------
// Torino, Homes4All (demo/torino-homes4all.jsonl)

#[test]
fn torino_indicators_follow_from_the_generator() {
    let demo = Demo::load();
    // Placement n (1..=36) starts on 2023-01-16 + floor((n − 1) × 651 / 35) days, 651 being
    // 2024-10-28 − 2023-01-16; no dice. The offsets are floor(18.6 k), k = n − 1:
    // 0 18 37 55 74 | 93 111 130 148 | 167 186 204 223 241 | 260 279 297 316 334 |
    // 353 372 390 409 427 | 446 465 483 502 520 | 539 558 576 595 613 | 632 651.
    // The quarters start at offsets 75 (2023-04-01), 166 (07-01), 258 (10-01), 350
    // (2024-01-01), 441 (04-01), 532 (07-01) and 624 (10-01), which splits them as above.
    let quarters = [
        ("2023-Q1", 5),
        ("2023-Q2", 4),
        ("2023-Q3", 5),
        ("2023-Q4", 5),
        ("2024-Q1", 5),
        ("2024-Q2", 5),
        ("2024-Q3", 5),
        ("2024-Q4", 2),
    ];
    for (period, placements) in quarters {
        demo.report(TORINO, period).expect_count(
            "placements_started",
            placements,
            "the placement dates are fixed by HOUSEHOLDS and the first and last dates",
        );
    }
    let y2023 = demo.report(TORINO, "2023");
    let y2024 = demo.report(TORINO, "2024");
    y2023.expect_count("placements_started", 19, "5 + 4 + 5 + 5");
    y2024.expect_count("placements_started", 17, "5 + 5 + 5 + 2");
    // Each household is placed once, so the households taken in charge are the placements.
    y2023.expect_count(
        "households_taken_in_charge",
        19,
        "one placement per household",
    );
    y2024.expect_count(
        "households_taken_in_charge",
        17,
        "one placement per household",
    );

    // A rehousing comes 60 to 300 days after the placement (dice), so nobody is rehoused
    // before 2023-01-16 + 60 = 17 March 2023. By the end of February 2023 three households
    // are placed (16 January, 3 and 22 February) and none is rehoused.
    let february = demo.report(TORINO, "2023-02");
    february.expect_count(
        "households_rehoused",
        0,
        "the first rehousing is after 17 March",
    );
    february.expect_text("hotel_nights_savings", "0.00", "no rehousing, no saving");
    february.expect_text(
        "rehoused_within_180_days_share",
        "0.000000",
        "3 placed by 28 February, none rehoused yet",
    );
    demo.report(TORINO, "2022-Q4").expect_null(
        "rehoused_within_180_days_share",
        "nobody is placed before 16 January 2023",
    );

    // Rehousings over the whole demo: households 5, 17 and 29 (n mod 12 = 5) leave without
    // one, so at most 33; a rehousing is recorded when it falls by 2024-12-20 (offset 704),
    // which is certain for a placement at offset ≤ 404, households 1..=22 (offset 390), less
    // households 5 and 17: at least 20.
    let rehoused = y2023.count("households_rehoused") + y2024.count("households_rehoused");
    assert!(
        (20..=33).contains(&rehoused),
        "{rehoused} rehoused: at least 20 are certain, at most 36 − 3"
    );
    // Savings: each rehousing saves (540 − d) × nightly cost with d, the days since the
    // placement, from 60 to 300, and the cost from 45 to 70 euro: between 240 × 45 = 10,800
    // and 480 × 70 = 33,600 euro for each household rehoused in the period.
    for report in [&y2023, &y2024] {
        let count = Decimal::from(report.count("households_rehoused"));
        let savings = report.decimal("hotel_nights_savings");
        assert!(
            count * euros("10800") <= savings && savings <= count * euros("33600"),
            "{}: {savings} euro for {count} households rehoused",
            report.label
        );
        assert!(
            report.count("private_affordable_rehousings") <= report.count("households_rehoused"),
            "{}: private rehousings are rehousings",
            report.label
        );
    }

    // As of: position 3 is the registration of h4a-01 (16 January 2023, 09:00), position 4 its
    // placement (same day, 15:00); the next event, its needs' assessment, comes 3 to 10 days
    // later.
    demo.report_as_of(TORINO, "2023-Q1", Some(2))
        .expect_nothing_yet();
    demo.report_as_of(TORINO, "2023-Q1", Some(3)).expect_count(
        "placements_started",
        0,
        "as of position 3 h4a-01 is registered, not yet placed",
    );
    let first = demo.report_as_of(TORINO, "2023-Q1", Some(4));
    first.expect_count("placements_started", 1, "position 4 is pl-01's start");
    first.expect_count("households_taken_in_charge", 1, "h4a-01");
}

// ---------------------------------------------------------------------------------------------
// Prato, autonomy paths (demo/prato-autonomia.jsonl)

#[test]
fn prato_indicators_follow_from_the_generator() {
    let demo = Demo::load();
    // Path n (1..=30) is enrolled on 2022-10-17 + floor((n − 1) × 525 / 29) days, 525 being
    // 2024-03-25 − 2022-10-17; no dice. The offsets, floor(18.103 k), are 0 18 36 54 72 |
    // 90 … 253 | 271 … 434 | 452 470 488 506 525, and the half-years start at offsets 76
    // (2023-01-01), 257 (2023-07-01) and 441 (2024-01-01).
    let h2_2022 = demo.report(PRATO, "2022-H2");
    let h1_2023 = demo.report(PRATO, "2023-H1");
    let h2_2023 = demo.report(PRATO, "2023-H2");
    let h1_2024 = demo.report(PRATO, "2024-H1");
    let h2_2024 = demo.report(PRATO, "2024-H2");
    h2_2022.expect_count("households_enrolled", 5, "offsets 0 to 72");
    h1_2023.expect_count("households_enrolled", 10, "offsets 90 to 253");
    h2_2023.expect_count("households_enrolled", 10, "offsets 271 to 434");
    h1_2024.expect_count(
        "households_enrolled",
        5,
        "offsets 452 to 525 (25 March 2024)",
    );
    h2_2024.expect_count(
        "households_enrolled",
        0,
        "the last enrolment is on 25 March 2024",
    );

    // Households followed (enrolled, reassessed or reaching a milestone), one path each.
    // 2022-H2: the five paths enrolled; their other events in 2022 are on the same paths.
    h2_2022.expect_count("households_on_path", 5, "the five paths enrolled in 2022");
    // 2023-H1: the ten enrolled then, and the five of 2022, whose first reassessment comes
    // 110 to 130 days after enrolment, at the latest 28 December 2022 + 130 = 7 May 2023; a
    // path can only leave after its second reassessment, so that first one always happens.
    h1_2023.expect_count(
        "households_on_path",
        15,
        "10 enrolled and 5 reassessed for the first time",
    );

    // Cohort share (a milestone within 365 days of enrolment), known at the period's end. By
    // 30 November 2022 three paths are enrolled (17 October, 4 and 22 November); the first
    // milestone possible is the financial education course, 50 to 80 days after enrolment, so
    // not before 6 December.
    demo.report(PRATO, "2022-11").expect_text(
        "households_reaching_milestone_share",
        "0.000000",
        "3 enrolled, no milestone possible before 6 December",
    );
    demo.report(PRATO, "2022-Q3").expect_null(
        "households_reaching_milestone_share",
        "nobody is enrolled before 17 October 2022",
    );

    // Exits to the private market need two reassessments (at least 220 days after enrolment,
    // so from 25 May 2023 for path 1), then 30 to 50 days to find a home and 14 to 40 more to
    // leave: not before 8 July 2023. Until then nothing is avoided.
    h2_2022.expect_count("exits_to_private_market", 0, "no exit before July 2023");
    h1_2023.expect_count("exits_to_private_market", 0, "no exit before 8 July 2023");
    h1_2023.expect_text(
        "municipal_housing_cost_avoided",
        "0.00",
        "no exit, no saving",
    );
    // Each exit to the private market leaves a municipal home costing 10 × (45 to 75) euro a
    // month, and saves twelve months of it: a multiple of 120 euro, from 5,400 to 9,000. The
    // other exits from municipal housing (to public housing) carry no cost and add nothing.
    for report in [&h2_2023, &h1_2024, &h2_2024] {
        let exits = Decimal::from(report.count("exits_to_private_market"));
        let avoided = report.decimal("municipal_housing_cost_avoided");
        assert!(
            exits * euros("5400") <= avoided && avoided <= exits * euros("9000"),
            "{}: {avoided} euro for {exits} exits",
            report.label
        );
        assert!(
            (avoided % euros("120")).is_zero(),
            "{}: {avoided} is not twelve months of whole tens of euro",
            report.label
        );
    }

    // As of: position 2 (the initial terms) comes before any household.
    demo.report_as_of(PRATO, "2022-H2", Some(2))
        .expect_nothing_yet();
}

// ---------------------------------------------------------------------------------------------
// Cremona, KCity (demo/cremona-kcity.jsonl)

#[test]
fn cremona_indicators_follow_from_the_generator() {
    let demo = Demo::load();
    // The phases: 10,000, 10,000 and 8,000 euro net, 30 % of each invoiced on the one signing
    // (3,000, 3,000, 2,400) and the remaining 70 % on delivery (7,000, 7,000, 5,600); each
    // payment is the invoice with 22 % VAT (3,660, 3,660, 2,928; 8,540, 8,540, 6,832). Dates,
    // all fixed:
    //   signing 2023-07-03: the three advances; all three paid 07-27.
    //   phase 1: submitted 2023-10-02, accepted 10-13; balance 10-16, paid 11-10.
    //   phase 2: submitted 2024-01-08 and 01-15, accepted 01-19; balance 01-22, paid 03-11
    //            (the late one: due 02-21).
    //   phase 3: submitted 04-15, accepted 04-26; balance 04-29, paid 05-22.
    let expected = [
        // (period, submitted, accepted, invoiced, paid)
        ("2023-Q3", 0, 0, "8400.00", "10248.00"),
        ("2023-Q4", 1, 1, "7000.00", "8540.00"),
        ("2024-Q1", 2, 1, "7000.00", "8540.00"),
        ("2024-Q2", 1, 1, "5600.00", "6832.00"),
        ("2024-Q3", 0, 0, "0.00", "0.00"),
        ("2024-Q4", 0, 0, "0.00", "0.00"),
    ];
    let why = [
        "the three advances 3,000 + 3,000 + 2,400, paid 3,660 + 3,660 + 2,928",
        "phase 1 submitted and accepted; its balance 7,000, paid 8,540",
        "phase 2's two versions, accepted; its balance 7,000, paid late, 8,540",
        "phase 3 submitted and accepted; its balance 5,600, paid 5,600 × 1.22",
        "nothing happens after 22 May 2024",
        "nothing happens after 22 May 2024",
    ];
    for ((period, submitted, accepted, invoiced, paid), why) in expected.into_iter().zip(why) {
        let report = demo.report(CREMONA, period);
        report.expect_count("deliverables_submitted", submitted, why);
        report.expect_count("deliverables_accepted", accepted, why);
        report.expect_text("amount_invoiced", invoiced, why);
        report.expect_text("amount_paid", paid, why);
    }
    // The years add up to the offer: 28,000 invoiced net, 34,160 paid with VAT.
    let y2023 = demo.report(CREMONA, "2023");
    let y2024 = demo.report(CREMONA, "2024");
    y2023.expect_text("amount_invoiced", "15400.00", "8,400 of advances + 7,000");
    y2024.expect_text("amount_invoiced", "12600.00", "7,000 + 5,600");
    y2023.expect_text("amount_paid", "18788.00", "10,248 + 8,540");
    y2024.expect_text("amount_paid", "15372.00", "8,540 + 6,832");
    assert_eq!(
        y2023.decimal("amount_invoiced") + y2024.decimal("amount_invoiced"),
        euros("28000.00"),
        "10,000 + 10,000 + 8,000 euro before VAT"
    );
    assert_eq!(
        y2023.decimal("amount_paid") + y2024.decimal("amount_paid"),
        euros("34160.00"),
        "28,000 euro and 22 % VAT"
    );

    // Accepted within 315 days of the advance, all three invoiced on 3 July 2023, so by
    // 13 May 2024: phase 1 on 13 October 2023, phase 2 on 19 January, phase 3 on 26 April.
    demo.report(CREMONA, "2023-Q2").expect_null(
        "deliverables_accepted_on_time_share",
        "no advance before 3 July 2023",
    );
    for (period, share, why) in [
        ("2023-Q3", "0.000000", "three advances, none accepted yet"),
        ("2023-Q4", "0.333333", "phase 1 accepted"),
        ("2024-Q1", "0.666667", "phases 1 and 2 accepted"),
        ("2024-Q2", "1.000000", "all three accepted within 315 days"),
    ] {
        demo.report(CREMONA, period)
            .expect_text("deliverables_accepted_on_time_share", share, why);
    }

    // As of. The log, in the order of `occurred_at`: 1 registration and 2 terms (3 July 2023,
    // 08:00 and 08:05); 3–5 the three phases defined (09:11–09:13); 6–8 the three advances
    // (10:00–10:02); 9–14 their payments (27 July), each the net to KCity and the VAT to the
    // Treasury; 15 phase 1 submitted (2 October); 16 accepted (13 October); 17 its balance
    // (16 October); 18 and 19 paid (10 November); 20 and 21 phase 2 submitted (8 and 15
    // January); 22 accepted (19 January); 23 its balance (22 January); 24 and 25 paid (11
    // March); 26 phase 3 submitted (15 April); 27 accepted (26 April); 28 its balance (29
    // April); 29 and 30 paid (22 May). 30 entries in all.
    assert_eq!(
        y2024.json["as_of"], 30,
        "2 + 3 × (defined, advance, 2 payments, accepted, balance, 2 payments) + 4 submissions"
    );
    demo.report_as_of(CREMONA, "2023-Q3", Some(1))
        .expect_nothing_yet();
    demo.report_as_of(CREMONA, "2023-Q3", Some(5))
        .expect_nothing_yet();
    demo.report_as_of(CREMONA, "2023-Q3", Some(6)).expect_text(
        "amount_invoiced",
        "3000.00",
        "position 6 is phase 1's advance",
    );
    demo.report_as_of(CREMONA, "2023-Q3", Some(8)).expect_text(
        "amount_invoiced",
        "8400.00",
        "positions 6 to 8 are the three advances of the one signing",
    );
    let before_acceptance = demo.report_as_of(CREMONA, "2024-Q1", Some(21));
    before_acceptance.expect_count("deliverables_submitted", 2, "both versions are in");
    before_acceptance.expect_count("deliverables_accepted", 0, "position 22 accepts it");
    demo.report_as_of(CREMONA, "2024-Q1", Some(22))
        .expect_count(
            "deliverables_accepted",
            1,
            "position 22 is phase 2's acceptance",
        );
    demo.report_as_of(CREMONA, "2024", Some(23)).expect_text(
        "amount_paid",
        "0.00",
        "nothing is paid in 2024 before position 24",
    );
    demo.report_as_of(CREMONA, "2024", Some(24)).expect_text(
        "amount_paid",
        "7000.00",
        "position 24 pays KCity phase 2's balance, 7,000 net (split payment)",
    );
    demo.report_as_of(CREMONA, "2024", Some(25)).expect_text(
        "amount_paid",
        "8540.00",
        "position 25 pays its VAT, 22 % of 7,000, to the Treasury",
    );
}

#[test]
fn cuneo_reads_as_four_themes_by_four_areas_and_counts_the_seeds_provider_network() {
    let demo = Demo::load();
    let h2 = demo.report(CUNEO, "2023-H2");
    let q1 = demo.report(CUNEO, "2024-Q1");

    // The seed's window, July 2023 – March 2024, is 2023-H2 and 2024-Q1. The demo accredits
    // its 16 providers and lists their 160 products on 1 July 2023, records the 2 requests for
    // accreditation, and starts the 2 prototypes on 14 February 2024: over the window the
    // network's indicators give the seed's «16 fornitori accreditati», «2 fornitori in fase di
    // accreditamento», «160 prodotti a catalogo», «2 nuovi prodotti in fase di
    // prototipizzazione»; the 16 providers cover the seed's seven families of services.
    let window = |id: &str| h2.count(id) + q1.count(id);
    assert_eq!(window("providers_accredited"), 16);
    assert_eq!(window("providers_requesting_accreditation"), 2);
    assert_eq!(window("products_listed"), 160);
    assert_eq!(window("products_in_prototyping"), 2);
    q1.expect_count(
        "products_in_prototyping",
        2,
        "both started on 14 February 2024",
    );
    h2.expect_count(
        "service_families_covered",
        7,
        "prov-01 … prov-16 cover meals, cleaning, personal care, socio-health care, \
         accompaniment, baby parking and socio-educational support",
    );

    // Every indicator names its theme; the grid has the sixteen cells, each filled.
    for indicator in q1.json["indicators"].as_array().expect("indicators") {
        assert!(
            indicator["theme"].is_string(),
            "{}: no theme",
            indicator["id"]
        );
    }
    let themes: Vec<&str> = q1.json["themes"]
        .as_array()
        .expect("the themes")
        .iter()
        .map(|theme| theme["id"].as_str().expect("an id"))
        .collect();
    assert_eq!(
        themes,
        [
            "service_delivery",
            "territory_response",
            "model_attractiveness",
            "user_empowerment"
        ]
    );
    let grid = q1.json["grid"].as_array().expect("the grid");
    assert_eq!(grid.len(), 16);
    for (cell, (theme, area)) in grid.iter().zip(themes.iter().flat_map(|theme| {
        ["reach", "utilisation", "change", "economic_proxy"].map(move |area| (*theme, area))
    })) {
        assert_eq!(
            (cell["theme"].as_str(), cell["area"].as_str()),
            (Some(theme), Some(area))
        );
        assert!(
            !cell["indicators"].as_array().expect("a list").is_empty(),
            "the cell {theme} × {area} is empty"
        );
    }
    // A template without themes has neither themes nor grid.
    let torino = demo.report(TORINO, "2024-Q1");
    assert!(torino.json.get("grid").is_none() && torino.json.get("themes").is_none());
}
