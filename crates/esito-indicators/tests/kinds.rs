//! Each kind of docs/design.md §4 on small logs whose values are worked out by hand, and the
//! checks a definitions file must pass.

use esito_indicators::definitions::DefinitionError;
use esito_indicators::{templates, Definitions, MemoryProjection, Period, Value};
use esito_log::Entry;
use rust_decimal::Decimal;
use serde_json::{json, Value as Json};

fn entry(position: u64, event_type: &str, stream_id: &str, on: &str, payload: Json) -> Entry {
    Entry {
        contract_id: "c".to_owned(),
        position,
        event_id: format!("e{position}"),
        stream_type: "any".to_owned(),
        stream_id: stream_id.to_owned(),
        stream_seq: 1,
        event_type: event_type.to_owned(),
        schema_version: 1,
        occurred_at: format!("{on}T10:00:00+01:00"),
        recorded_at: "2024-01-01T00:00:00Z".to_owned(),
        recorded_by: "test".to_owned(),
        corrects: None,
        payload,
    }
}

fn correcting(mut corrected: Entry, position: u64, target: &str) -> Entry {
    corrected.position = position;
    corrected.event_id = format!("e{position}");
    corrected.corrects = Some(target.to_owned());
    corrected
}

fn project(definitions: &Definitions, entries: &[Entry]) -> MemoryProjection {
    let mut projection = MemoryProjection::new();
    for entry in entries {
        projection
            .apply(definitions, entry.into())
            .expect("the test entries derive");
    }
    projection
}

fn value_of(
    definitions: &Definitions,
    projection: &MemoryProjection,
    id: &str,
    period: &str,
    as_of: u64,
) -> Option<Value> {
    let indicator = definitions.indicator(id).expect("a defined indicator");
    let period: Period = period.parse().expect("a test period");
    esito_indicators::value(
        indicator,
        period,
        &projection.inputs(indicator, period, as_of),
    )
}

fn dec(text: &str) -> Decimal {
    text.parse().expect("a test decimal")
}

const ORDERS: &str = r#"
template = "t"
title = { it = "t", en = "t" }

[[indicator]]
id = "orders"
area = "utilisation"
kind = "count"
unit = "orders"
label = { it = "o", en = "o" }
events = ["OrderPlaced"]

[[indicator]]
id = "low_isee_clients"
area = "reach"
kind = "distinct"
unit = "people"
label = { it = "c", en = "c" }
events = ["OrderPlaced"]
where = { isee_band = ["a", "b"] }
field = "beneficiary_id"

[[indicator]]
id = "spent"
area = "economic_proxy"
kind = "sum"
unit = "EUR"
label = { it = "s", en = "s" }
events = ["OrderPlaced"]
field = "price"

[[indicator]]
id = "online_share"
area = "utilisation"
kind = "ratio"
unit = "share"
label = { it = "r", en = "r" }
numerator = { events = ["OrderPlaced"], where = { channel = "online" } }
denominator = { events = ["OrderPlaced"] }
"#;

fn order(
    position: u64,
    on: &str,
    beneficiary: &str,
    band: &str,
    channel: &str,
    price: &str,
) -> Entry {
    entry(
        position,
        "OrderPlaced",
        &format!("o{position}"),
        on,
        json!({"beneficiary_id": beneficiary, "isee_band": band, "channel": channel, "price": price}),
    )
}

#[test]
fn count_distinct_sum_and_ratio_count_the_events_of_their_period() {
    let definitions = Definitions::parse(ORDERS).expect("valid definitions");
    let log = [
        order(1, "2024-01-05", "b1", "a", "online", "10.00"),
        order(2, "2024-02-10", "b1", "b", "centre", "12.50"),
        order(3, "2024-03-31", "b2", "d", "online", "7.25"),
        // 1 April belongs to the second quarter.
        order(4, "2024-04-01", "b3", "a", "online", "99.00"),
    ];
    let projection = project(&definitions, &log);
    // Q1: orders 1, 2 and 3.
    assert_eq!(
        value_of(&definitions, &projection, "orders", "2024-Q1", 4),
        Some(Value::Count(3))
    );
    // Bands a and b in Q1: orders 1 and 2, both b1: one client.
    assert_eq!(
        value_of(&definitions, &projection, "low_isee_clients", "2024-Q1", 4),
        Some(Value::Count(1))
    );
    // 10.00 + 12.50 + 7.25 = 29.75.
    assert_eq!(
        value_of(&definitions, &projection, "spent", "2024-Q1", 4),
        Some(Value::Money(dec("29.75")))
    );
    // Two of three online: 0.666666666… rounds half away from zero to 0.666667.
    assert_eq!(
        value_of(&definitions, &projection, "online_share", "2024-Q1", 4),
        Some(Value::Ratio(dec("0.666667")))
    );
    // No order in Q3: a ratio over nothing has no value; a count is 0.
    assert_eq!(
        value_of(&definitions, &projection, "online_share", "2024-Q3", 4),
        None
    );
    assert_eq!(
        value_of(&definitions, &projection, "orders", "2024-Q3", 4),
        Some(Value::Count(0))
    );
}

#[test]
fn a_correction_counts_instead_of_the_original_from_its_position_and_a_void_stops_it() {
    let definitions = Definitions::parse(ORDERS).expect("valid definitions");
    let first = order(1, "2024-01-05", "b1", "a", "online", "10.00");
    let second = order(2, "2024-01-06", "b2", "c", "centre", "20.00");
    // Position 3 corrects order 1's price to 15.00; position 4 voids order 2.
    let corrected = correcting(
        order(0, "2024-01-05", "b1", "a", "online", "15.00"),
        3,
        "e1",
    );
    let void = Entry {
        stream_id: "o2".to_owned(),
        ..correcting(
            entry(
                4,
                "EntryVoided",
                "o2",
                "2024-01-07",
                json!({"reason": "typo"}),
            ),
            4,
            "e2",
        )
    };
    let projection = project(&definitions, &[first, second, corrected, void]);
    let spent = |as_of| value_of(&definitions, &projection, "spent", "2024-Q1", as_of);
    assert_eq!(
        spent(2),
        Some(Value::Money(dec("30.00"))),
        "10 + 20 before the correction"
    );
    assert_eq!(
        spent(3),
        Some(Value::Money(dec("35.00"))),
        "15 + 20 once corrected"
    );
    assert_eq!(
        spent(4),
        Some(Value::Money(dec("15.00"))),
        "15 once order 2 is voided"
    );
    assert_eq!(
        value_of(&definitions, &projection, "orders", "2024-Q1", 4),
        Some(Value::Count(1))
    );
}

const HOUSING: &str = r#"
template = "t"
title = { it = "t", en = "t" }

[[indicator]]
id = "occupancy"
area = "utilisation"
kind = "occupancy"
unit = "share"
label = { it = "o", en = "o" }
available = { events = ["UnitMadeAvailable"] }
occupied = { events = ["TenancyStarted"] }
vacated = { events = ["TenancyEnded"] }

[[indicator]]
id = "milestone_within_30_days"
area = "change"
kind = "cohort_share"
unit = "share"
label = { it = "m", en = "m" }
entered = { events = ["TenancyStarted"] }
reached = { events = ["TenantMilestoneReached"] }
within_days = 30

[[indicator]]
id = "hotel_savings"
area = "economic_proxy"
kind = "savings"
unit = "EUR"
label = { it = "s", en = "s" }
start = { events = ["PlacementStarted"] }
outcome = { events = ["HouseholdRehoused"] }
baseline = "100"
actual = "days_since_start"
unit_cost_field = "nightly_cost"
unit_cost_from = "start"
"#;

#[test]
fn occupancy_counts_occupied_over_available_unit_days() {
    let definitions = Definitions::parse(HOUSING).expect("valid definitions");
    let log = [
        entry(
            1,
            "UnitMadeAvailable",
            "u1",
            "2023-12-01",
            json!({"label": "A", "lent_by": "City"}),
        ),
        entry(
            2,
            "UnitMadeAvailable",
            "u2",
            "2024-02-01",
            json!({"label": "B", "lent_by": "City"}),
        ),
        entry(
            3,
            "TenancyStarted",
            "t1",
            "2024-01-11",
            json!({"unit_id": "u1", "beneficiary_id": "b1"}),
        ),
        entry(
            4,
            "TenancyStarted",
            "t2",
            "2024-03-01",
            json!({"unit_id": "u2", "beneficiary_id": "b2"}),
        ),
        entry(
            5,
            "TenancyEnded",
            "t1",
            "2024-03-21",
            json!({"reason": "other"}),
        ),
    ];
    let projection = project(&definitions, &log);
    // Q1 2024 has 91 days (a leap year: 31 + 29 + 31).
    // Available: u1 all 91 days; u2 from 1 February: 29 + 31 = 60. Total 151.
    // Occupied: t1 from 11 January up to, not including, 21 March: 21 + 29 + 20 = 70;
    // t2 from 1 March to the end of the quarter: 31. Total 101.
    // 101 / 151 = 0.668874172… → 0.668874.
    assert_eq!(
        value_of(&definitions, &projection, "occupancy", "2024-Q1", 5),
        Some(Value::Ratio(dec("0.668874")))
    );
    // As of position 4 t1 has not ended: 81 + 31 = 112 occupied days; 112 / 151 = 0.741721854… → 0.741722.
    assert_eq!(
        value_of(&definitions, &projection, "occupancy", "2024-Q1", 4),
        Some(Value::Ratio(dec("0.741722")))
    );
}

#[test]
fn a_cohort_share_counts_who_reached_the_milestone_within_the_window_known_by_the_period_end() {
    let definitions = Definitions::parse(HOUSING).expect("valid definitions");
    let log = [
        entry(
            1,
            "TenancyStarted",
            "t1",
            "2024-01-01",
            json!({"unit_id": "u1", "beneficiary_id": "b1"}),
        ),
        entry(
            2,
            "TenancyStarted",
            "t2",
            "2024-01-10",
            json!({"unit_id": "u2", "beneficiary_id": "b2"}),
        ),
        entry(
            3,
            "TenancyStarted",
            "t3",
            "2024-03-20",
            json!({"unit_id": "u3", "beneficiary_id": "b3"}),
        ),
        // t1 on day 30 exactly: within the window.
        entry(
            4,
            "TenantMilestoneReached",
            "t1",
            "2024-01-31",
            json!({"milestone": "job_found"}),
        ),
        // t2 on day 31: too late.
        entry(
            5,
            "TenantMilestoneReached",
            "t2",
            "2024-02-10",
            json!({"milestone": "job_found"}),
        ),
        // t3 within its window, but in April: not known by the end of Q1.
        entry(
            6,
            "TenantMilestoneReached",
            "t3",
            "2024-04-02",
            json!({"milestone": "job_found"}),
        ),
    ];
    let projection = project(&definitions, &log);
    // Q1: entered t1, t2, t3; reached in time and known by 1 April: t1. 1 / 3 → 0.333333.
    assert_eq!(
        value_of(
            &definitions,
            &projection,
            "milestone_within_30_days",
            "2024-Q1",
            6
        ),
        Some(Value::Ratio(dec("0.333333")))
    );
    // Q2: t1 and t3 of 3 → 0.666667.
    assert_eq!(
        value_of(
            &definitions,
            &projection,
            "milestone_within_30_days",
            "2024-Q2",
            6
        ),
        Some(Value::Ratio(dec("0.666667")))
    );
}

#[test]
fn savings_count_each_outcome_in_its_period_floored_at_zero() {
    let definitions = Definitions::parse(HOUSING).expect("valid definitions");
    let placed = |position, stream: &str, on: &str, cost: &str| {
        entry(
            position,
            "PlacementStarted",
            stream,
            on,
            json!({"beneficiary_id": "b", "nightly_cost": cost}),
        )
    };
    let log = [
        placed(1, "p1", "2024-01-01", "50.00"),
        placed(2, "p2", "2023-09-01", "40.00"),
        // p1 rehoused after 40 nights: (100 − 40) × 50.00 = 3,000.00.
        entry(
            3,
            "HouseholdRehoused",
            "p1",
            "2024-02-10",
            json!({"housing": "public_housing"}),
        ),
        // p2 after 161 nights: (100 − 161) floored at 0.
        entry(
            4,
            "HouseholdRehoused",
            "p2",
            "2024-02-09",
            json!({"housing": "public_housing"}),
        ),
    ];
    let projection = project(&definitions, &log);
    assert_eq!(
        value_of(&definitions, &projection, "hotel_savings", "2024-Q1", 4),
        Some(Value::Money(dec("3000.00")))
    );
    // As of position 2 no one is rehoused yet.
    assert_eq!(
        value_of(&definitions, &projection, "hotel_savings", "2024-Q1", 2),
        Some(Value::Money(dec("0.00")))
    );
}

#[test]
fn the_four_templates_parse_and_name_the_indicators_their_terms_pay_on() {
    for (template, _) in templates::FILES {
        let definitions = templates::embedded(template)
            .expect("an embedded template")
            .unwrap_or_else(|error| panic!("{template}: {error}"));
        assert_eq!(definitions.template, template);
        assert_eq!(definitions.sha256.len(), 64);
    }
    let named = |template: &str, id: &str| {
        templates::embedded(template)
            .and_then(Result::ok)
            .and_then(|definitions| definitions.indicator(id).cloned())
            .is_some()
    };
    for (template, id) in [
        ("cuneo", "clients_reached"),
        ("cuneo", "tokens_redeemed"),
        ("cuneo", "flat_occupancy"),
        ("cuneo", "tenant_milestones"),
        ("torino", "hotel_nights_savings"),
        ("torino", "households_rehoused"),
        ("torino", "private_affordable_rehousings"),
        ("prato", "exits_to_private_market"),
        ("prato", "households_reaching_milestone_share"),
        ("cremona", "deliverables_accepted"),
    ] {
        assert!(named(template, id), "{template} has no indicator {id}");
    }
}

#[test]
fn a_definitions_file_that_breaks_a_rule_is_refused_naming_the_indicator_and_field() {
    let broken = [
        (
            ORDERS.replace(
                "events = [\"OrderPlaced\"]\n\n[[indicator]]\nid = \"low",
                "events = [\"OrderPlacd\"]\n\n[[indicator]]\nid = \"low",
            ),
            "orders",
            "events",
        ),
        (
            ORDERS.replace("field = \"price\"", "field = \"prize\""),
            "spent",
            "field",
        ),
        (
            ORDERS.replace("kind = \"sum\"", "kind = \"average\""),
            "spent",
            "kind",
        ),
        (
            ORDERS.replace("where = { isee_band", "where = { band"),
            "low_isee_clients",
            "where.band",
        ),
    ];
    for (text, indicator, field) in broken {
        match Definitions::parse(&text) {
            Err(DefinitionError::Invalid {
                indicator: named,
                field: at,
                ..
            }) => {
                assert_eq!((named.as_str(), at.as_str()), (indicator, field));
            }
            other => panic!("expected a refusal naming {indicator}.{field}, got {other:?}"),
        }
    }
    assert!(matches!(
        Definitions::parse(
            &ORDERS.replace("unit = \"orders\"", "unit = \"orders\"\ncolour = \"red\"")
        ),
        Err(DefinitionError::Syntax(_))
    ));
}

#[test]
fn the_sha256_names_the_exact_bytes_of_the_file() {
    let one = Definitions::parse(ORDERS).expect("valid");
    let other = Definitions::parse(&format!("{ORDERS}\n# a comment\n")).expect("valid");
    assert_ne!(one.sha256, other.sha256);
    assert_eq!(one.indicators, other.indicators);
}

#[test]
fn the_methodology_names_each_definitions_file_by_its_current_sha256() {
    let methodology = include_str!("../../../docs/methodology.md");
    for (template, _) in templates::FILES {
        let definitions = templates::embedded(template)
            .expect("embedded")
            .expect("parses");
        assert!(
            methodology.contains(&definitions.sha256),
            "docs/methodology.md does not give {template}'s SHA-256 {}",
            definitions.sha256
        );
    }
}

const ACCESSES: &str = r#"
template = "t"
title = { it = "t", en = "t" }

[[indicator]]
id = "centre_users"
area = "reach"
kind = "distinct"
unit = "people"
label = { it = "u", en = "u" }
events = ["AccessRecorded"]
field = "beneficiary_id"
"#;

#[test]
fn a_distinct_counts_explanation_lists_only_the_facts_that_count() {
    let definitions = Definitions::parse(ACCESSES).expect("valid definitions");
    let access = |position: u64, beneficiary: Option<&str>| {
        let mut payload =
            json!({"channel": "in_person", "need": "housing", "outcome": "information_only"});
        if let Some(beneficiary) = beneficiary {
            payload["beneficiary_id"] = json!(beneficiary);
        }
        entry(
            position,
            "AccessRecorded",
            &format!("a{position}"),
            "2024-02-01",
            payload,
        )
    };
    // Two people, and a walk-in who left no pseudonym: the walk-in is no one the distinct
    // count counts, so the explanation leaves the access out.
    let log = [
        access(1, Some("b1")),
        access(2, None),
        access(3, Some("b2")),
        access(4, Some("b1")),
    ];
    let projection = project(&definitions, &log);
    let indicator = definitions.indicator("centre_users").expect("defined");
    let period: Period = "2024-Q1".parse().expect("a period");
    assert_eq!(
        value_of(&definitions, &projection, "centre_users", "2024-Q1", 4),
        Some(Value::Count(2))
    );
    let explained = projection.explain(indicator, period, 4);
    let positions: Vec<u64> = explained.iter().map(|fact| fact.position).collect();
    assert_eq!(positions, [1, 3, 4]);
    let keys: std::collections::BTreeSet<_> = explained
        .iter()
        .filter_map(|fact| fact.key.as_deref())
        .collect();
    assert_eq!(keys.len(), 2, "the explanation's people are the value");
}

#[test]
fn cuneos_token_money_indicators_on_a_small_log_worked_by_hand() {
    // Two orders in February 2024. ord-1, band b at 7.00: the client pays 7.00, the provider
    // is paid the full tariff 10.00 (band b pays 70 %), the Comune covers 3.00. ord-2, band d
    // at 8.00: the client pays 8.00, the provider 8.00, nothing to cover. ord-3's client pays
    // 5.00 on 2 April: another quarter.
    //   client_tariff_payments = 7.00 + 8.00 = 15.00
    //   provider_payments      = 10.00 + 8.00 = 18.00
    //   solidarity_cover       = 3.00
    //   tariff_share_covered   = 3.00 ÷ 18.00 = 0.1666… → 0.166667
    let definitions = templates::embedded("cuneo")
        .expect("embedded")
        .expect("parses");
    let entries = [
        entry(
            1,
            "ClientPaymentRecorded",
            "ord-1",
            "2024-02-01",
            json!({"amount": "7.00", "isee_band": "b"}),
        ),
        entry(
            2,
            "ClientPaymentRecorded",
            "ord-2",
            "2024-02-02",
            json!({"amount": "8.00", "isee_band": "d"}),
        ),
        entry(
            3,
            "ProviderPaymentRecorded",
            "ord-1",
            "2024-02-10",
            json!({"provider_id": "prov-1", "amount": "10.00", "isee_band": "b", "tariff_share": "0.7"}),
        ),
        entry(
            4,
            "SolidarityCoverRecorded",
            "ord-1",
            "2024-02-10",
            json!({"covered_by": "Comune di Cuneo", "amount": "3.00", "isee_band": "b"}),
        ),
        entry(
            5,
            "ProviderPaymentRecorded",
            "ord-2",
            "2024-02-12",
            json!({"provider_id": "prov-2", "amount": "8.00", "isee_band": "d", "tariff_share": "1"}),
        ),
        entry(
            6,
            "ClientPaymentRecorded",
            "ord-3",
            "2024-04-02",
            json!({"amount": "5.00", "isee_band": "a"}),
        ),
    ];
    let projection = project(&definitions, &entries);
    let q1 = |id: &str| value_of(&definitions, &projection, id, "2024-Q1", 6);
    assert_eq!(
        q1("client_tariff_payments"),
        Some(Value::Money(dec("15.00")))
    );
    assert_eq!(q1("provider_payments"), Some(Value::Money(dec("18.00"))));
    assert_eq!(q1("solidarity_cover"), Some(Value::Money(dec("3.00"))));
    assert_eq!(
        q1("tariff_share_covered"),
        Some(Value::Ratio(dec("0.166667")))
    );
    // As of position 4, before ord-2's provider is paid: 3.00 ÷ 10.00.
    assert_eq!(
        value_of(
            &definitions,
            &projection,
            "tariff_share_covered",
            "2024-Q1",
            4
        ),
        Some(Value::Ratio(dec("0.300000")))
    );
    // In 2024-Q2 only ord-3's client pays; no provider is paid, so no share.
    let q2 = |id: &str| value_of(&definitions, &projection, id, "2024-Q2", 6);
    assert_eq!(
        q2("client_tariff_payments"),
        Some(Value::Money(dec("5.00")))
    );
    assert_eq!(q2("tariff_share_covered"), None);
}
