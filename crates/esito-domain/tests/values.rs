//! The decimal value types at the boundary: rates, shares and money parse from decimal strings
//! only, refuse what breaks their rule, and read back what they write.

use esito_domain::{Money, OccurredAt, Rate, Share, ValueError};
use rust_decimal::Decimal;

#[test]
fn a_rate_round_trips_in_its_canonical_form() {
    let rate = Rate::parse("18.500").expect("a rate");
    assert_eq!(String::from(rate), "18.5");
    let json = serde_json::to_string(&rate).expect("serializes");
    assert_eq!(json, "\"18.5\"");
    assert_eq!(
        serde_json::from_str::<Rate>(&json).expect("reads back"),
        rate
    );
    assert_eq!(String::from(Rate::parse("0.000000").expect("zero")), "0");
    assert_eq!(
        String::from(Rate::parse("-0").expect("minus zero is zero")),
        "0"
    );
}

#[test]
fn a_negative_rate_is_refused() {
    assert_eq!(
        Rate::parse("-0.01"),
        Err(ValueError::RateNegative("-0.01".into()))
    );
    assert_eq!(
        Share::parse("-0.5"),
        Err(ValueError::RateNegative("-0.5".into()))
    );
}

#[test]
fn a_rate_with_seven_decimals_is_refused_and_trailing_zeros_do_not_count() {
    assert_eq!(
        Rate::parse("0.1234567"),
        Err(ValueError::RateHasTooManyDecimals("0.1234567".into()))
    );
    assert!(Rate::parse("0.123456").is_ok());
    assert!(Rate::parse("0.1234560").is_ok());
    assert_eq!(
        Share::parse("0.0000001"),
        Err(ValueError::RateHasTooManyDecimals("0.0000001".into()))
    );
}

#[test]
fn a_rate_that_is_not_a_decimal_is_refused() {
    assert!(matches!(
        Rate::parse("3%"),
        Err(ValueError::RateNotADecimal(_))
    ));
    assert!(matches!(
        Rate::parse("1e-2"),
        Err(ValueError::RateNotADecimal(_))
    ));
}

#[test]
fn a_share_above_one_is_refused_and_one_is_accepted() {
    assert_eq!(
        Share::parse("1.000001"),
        Err(ValueError::ShareAboveOne("1.000001".into()))
    );
    assert_eq!(String::from(Share::parse("1.000000").expect("one")), "1");
    assert_eq!(Share::parse("1").expect("one"), Share::ONE);
    assert_eq!(Share::parse("0").expect("zero"), Share::ZERO);
    // A rate has no such bound: a cap ratio of 1.2 or a rate of 250 euro per unit.
    assert!(Rate::parse("250").is_ok());
}

#[test]
fn json_numbers_are_refused_for_money_rates_and_shares() {
    assert!(serde_json::from_str::<Money>("18.5").is_err());
    assert!(serde_json::from_str::<Rate>("0.22").is_err());
    assert!(serde_json::from_str::<Share>("0.3").is_err());
    assert!(serde_json::from_str::<Share>("1").is_err());
    assert!(serde_json::from_str::<Share>("\"0.3\"").is_ok());
}

#[test]
fn a_share_read_from_json_goes_through_the_same_checks() {
    let error = serde_json::from_str::<Share>("\"1.5\"").expect_err("above one");
    assert!(error.to_string().contains("between 0 and 1"), "{error}");
    let error = serde_json::from_str::<Rate>("\"-2\"").expect_err("negative");
    assert!(
        error.to_string().contains("must not be negative"),
        "{error}"
    );
}

#[test]
fn money_is_rounded_to_the_cent_half_away_from_zero() {
    let rounded = |text: &str| {
        String::from(Money::rounded(text.parse::<Decimal>().expect("decimal")).expect("money"))
    };
    assert_eq!(rounded("3000.025"), "3000.03");
    assert_eq!(rounded("0.005"), "0.01");
    assert_eq!(rounded("0.0049"), "0.00");
    assert_eq!(rounded("660.0066"), "660.01");
    assert!(Money::rounded("-0.5".parse::<Decimal>().expect("decimal")).is_err());
}

#[test]
fn an_instant_finer_than_a_nanosecond_is_refused_not_truncated() {
    let twelve = "2024-03-02T10:15:00.123456789012+01:00";
    assert_eq!(
        OccurredAt::parse(twelve),
        Err(ValueError::InstantTooPrecise(twelve.into()))
    );
    let error = serde_json::from_str::<OccurredAt>(&format!("\"{twelve}\"")).expect_err("refused");
    assert!(error.to_string().contains("nanosecond"), "{error}");
    // Nine places, a nanosecond, are kept as they were given.
    let nine = OccurredAt::parse("2024-03-02T10:15:00.123456789+01:00").expect("nanoseconds");
    assert_eq!(String::from(nine), "2024-03-02T10:15:00.123456789+01:00");
    assert!(OccurredAt::parse("2024-03-02T10:15:00+01:00").is_ok());
    assert!(OccurredAt::parse("2024-03-02T10:15:00.5Z").is_ok());
}
