//! Value types checked at construction: ids, money, instants, business dates.
//!
//! Invariant: every value here went through its `parse`/`new`, including when it was
//! deserialized (`#[serde(try_from = ...)]`), so code that holds one may trust it.

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, FixedOffset, NaiveDate, SecondsFormat, Utc};
use rust_decimal::Decimal;
use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde::{Deserialize, Serialize};

/// The time zone of every programme (docs/design.md §4): periods and terms are local dates here.
pub const PROGRAMME_TIME_ZONE: chrono_tz::Tz = chrono_tz::Europe::Rome;

/// Longest identifier accepted for contracts and streams.
pub const ID_LENGTH_MAX: usize = 64;

/// Why a value was refused. Each variant names the rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValueError {
    #[error("an identifier must be 1 to {ID_LENGTH_MAX} characters of a-z, A-Z, 0-9, '-', '_', '.', ':' (got {0:?})")]
    MalformedIdentifier(String),
    #[error(
        "a contract id must be 3 to {ID_LENGTH_MAX} characters of a-z, 0-9 and '-' (got {0:?})"
    )]
    MalformedContractId(String),
    #[error("{0:?} is not an ISO 4217 code this ledger knows: one of {CURRENCIES:?}")]
    UnknownCurrency(String),
    #[error("an amount is a decimal string such as \"18.50\" (got {0:?})")]
    AmountNotADecimal(String),
    #[error("an amount must not be negative (got {0})")]
    AmountNegative(String),
    #[error("an amount has at most 2 decimal places (got {0})")]
    AmountHasTooManyDecimals(String),
    #[error("an instant is RFC 3339 with an explicit offset, such as 2024-03-02T10:15:00+01:00 (got {0:?})")]
    MalformedInstant(String),
    #[error("an instant has at most {INSTANT_DECIMALS_MAX} decimal places of seconds, a nanosecond: finer is not kept, so it is refused rather than cut (got {0:?})")]
    InstantTooPrecise(String),
    #[error("a date is written YYYY-MM-DD (got {0:?})")]
    MalformedDate(String),
    #[error("a month is written YYYY-MM (got {0:?})")]
    MalformedMonth(String),
    #[error("a rate or a share is a decimal string such as \"0.3\" (got {0:?})")]
    RateNotADecimal(String),
    #[error("a rate or a share must not be negative (got {0})")]
    RateNegative(String),
    #[error("a rate or a share has at most {RATE_DECIMALS_MAX} decimal places (got {0})")]
    RateHasTooManyDecimals(String),
    #[error("a share lies between 0 and 1 (got {0})")]
    ShareAboveOne(String),
}

fn is_identifier_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':')
}

/// A contract id such as `cuneo-communal-living`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ContractId(String);

impl ContractId {
    pub fn parse(text: &str) -> Result<Self, ValueError> {
        let well_formed = (3..=ID_LENGTH_MAX).contains(&text.len())
            && text
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            && !text.starts_with('-')
            && !text.ends_with('-');
        if well_formed {
            Ok(Self(text.to_owned()))
        } else {
            Err(ValueError::MalformedContractId(text.to_owned()))
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The id of a stream (an aggregate instance): an order, a tenancy, a beneficiary's pseudonym.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct StreamId(String);

impl StreamId {
    pub fn parse(text: &str) -> Result<Self, ValueError> {
        if (1..=ID_LENGTH_MAX).contains(&text.len()) && text.chars().all(is_identifier_char) {
            Ok(Self(text.to_owned()))
        } else {
            Err(ValueError::MalformedIdentifier(text.to_owned()))
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

macro_rules! string_newtype_impls {
    ($($name:ident),*) => {$(
        impl TryFrom<String> for $name {
            type Error = ValueError;
            fn try_from(text: String) -> Result<Self, ValueError> {
                Self::parse(&text)
            }
        }
        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.0
            }
        }
        impl FromStr for $name {
            type Err = ValueError;
            fn from_str(text: &str) -> Result<Self, ValueError> {
                Self::parse(text)
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl JsonSchema for $name {
            fn schema_name() -> Cow<'static, str> {
                stringify!($name).into()
            }
            fn json_schema(_: &mut SchemaGenerator) -> Schema {
                json_schema!({
                    "type": "string",
                    "minLength": 1,
                    "maxLength": ID_LENGTH_MAX,
                    "pattern": "^[A-Za-z0-9._:-]+$"
                })
            }
        }
    )*};
}
string_newtype_impls!(ContractId, StreamId);

/// A unique event id (UUID). The client may choose it, which makes a retry the same event.
pub type EventId = uuid::Uuid;

/// An amount in euro: a decimal string with at most two places, never negative, never a float.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Money(Decimal);

impl Money {
    pub const ZERO: Money = Money(Decimal::ZERO);

    pub fn parse(text: &str) -> Result<Self, ValueError> {
        let value = Decimal::from_str_exact(text)
            .map_err(|_| ValueError::AmountNotADecimal(text.to_owned()))?;
        Self::new(value)
    }
    pub fn new(value: Decimal) -> Result<Self, ValueError> {
        if value.is_sign_negative() && !value.is_zero() {
            return Err(ValueError::AmountNegative(value.to_string()));
        }
        if value.normalize().scale() > 2 {
            return Err(ValueError::AmountHasTooManyDecimals(value.to_string()));
        }
        // Invariant: always written with exactly two places, so equal amounts hash equally.
        let mut value = value.abs();
        value.rescale(2);
        Ok(Self(value))
    }
    pub fn amount(self) -> Decimal {
        self.0
    }
}

impl TryFrom<String> for Money {
    type Error = ValueError;
    fn try_from(text: String) -> Result<Self, ValueError> {
        Self::parse(&text)
    }
}
impl From<Money> for String {
    fn from(money: Money) -> String {
        money.0.to_string()
    }
}
impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}
impl JsonSchema for Money {
    fn schema_name() -> Cow<'static, str> {
        "Money".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "description": "Euro amount: a decimal string with at most two places, never negative.",
            "pattern": "^[0-9]+(\\.[0-9]{1,2})?$"
        })
    }
}

impl Money {
    /// Rounds a computed amount to the cent, half away from zero (docs/design.md §5): the one
    /// rounding of a line, an advance or a VAT amount.
    pub fn rounded(value: Decimal) -> Result<Self, ValueError> {
        Self::new(
            value.round_dp_with_strategy(2, rust_decimal::RoundingStrategy::MidpointAwayFromZero),
        )
    }
    /// True for an amount above zero: what a payment, a cost or a disbursement must be.
    pub fn is_positive(self) -> bool {
        self.0 > Decimal::ZERO
    }
}

/// Most decimal places of a rate or a share: the six places of section 4's ratios and indices.
pub const RATE_DECIMALS_MAX: u32 = 6;

/// Checks a decimal for `Rate` and `Share` and writes it in one canonical form (no trailing
/// zeros, never `-0`), so equal values encode and hash equally.
fn canonical_rate(value: Decimal) -> Result<Decimal, ValueError> {
    if value.is_sign_negative() && !value.is_zero() {
        return Err(ValueError::RateNegative(value.to_string()));
    }
    let value = value.abs().normalize();
    if value.scale() > RATE_DECIMALS_MAX {
        return Err(ValueError::RateHasTooManyDecimals(value.to_string()));
    }
    Ok(value)
}

fn parse_rate_text(text: &str) -> Result<Decimal, ValueError> {
    Decimal::from_str_exact(text).map_err(|_| ValueError::RateNotADecimal(text.to_owned()))
}

/// A non-negative decimal with at most six places, written as a string: a rate (euro per unit
/// of an indicator, an annual interest rate, a VAT rate), a ratio or a target value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Rate(Decimal);

impl Rate {
    pub const ZERO: Rate = Rate(Decimal::ZERO);

    pub fn parse(text: &str) -> Result<Self, ValueError> {
        Self::new(parse_rate_text(text)?)
    }
    pub fn new(value: Decimal) -> Result<Self, ValueError> {
        canonical_rate(value).map(Self)
    }
    pub fn value(self) -> Decimal {
        self.0
    }
}

/// The ISO 4217 codes a contract's terms may name: the euro area's and its neighbours', and
/// the other currencies social outcomes contracts are written in.
pub const CURRENCIES: [&str; 20] = [
    "AUD", "BGN", "CAD", "CHF", "CZK", "DKK", "EUR", "GBP", "HUF", "ISK", "JPY", "NOK", "NZD",
    "PLN", "RON", "SEK", "TRY", "UAH", "USD", "ZAR",
];

/// A currency by its ISO 4217 code, one of [`CURRENCIES`]; the euro unless the terms say
/// otherwise. Every amount of a settlement is in its contract's currency.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Currency(String);

impl Currency {
    pub fn parse(text: &str) -> Result<Self, ValueError> {
        if CURRENCIES.contains(&text) {
            Ok(Self(text.to_owned()))
        } else {
            Err(ValueError::UnknownCurrency(text.to_owned()))
        }
    }
    pub fn euro() -> Self {
        Self("EUR".to_owned())
    }
    pub fn is_euro(&self) -> bool {
        self.0 == "EUR"
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Default for Currency {
    fn default() -> Self {
        Self::euro()
    }
}

impl std::fmt::Display for Currency {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for Currency {
    type Error = ValueError;
    fn try_from(text: String) -> Result<Self, Self::Error> {
        Self::parse(&text)
    }
}

impl From<Currency> for String {
    fn from(currency: Currency) -> Self {
        currency.0
    }
}

impl JsonSchema for Currency {
    fn schema_name() -> Cow<'static, str> {
        "Currency".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "description": "An ISO 4217 currency code; every amount of the contract's settlements is in it.",
            "enum": CURRENCIES
        })
    }
}

/// A share of a whole: a decimal from 0 to 1 inclusive with at most six places, written as a
/// string (`"0.3"` is 30 %).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Share(Decimal);

impl Share {
    pub const ZERO: Share = Share(Decimal::ZERO);
    pub const ONE: Share = Share(Decimal::ONE);

    pub fn parse(text: &str) -> Result<Self, ValueError> {
        Self::new(parse_rate_text(text)?)
    }
    pub fn new(value: Decimal) -> Result<Self, ValueError> {
        let value = canonical_rate(value)?;
        if value > Decimal::ONE {
            return Err(ValueError::ShareAboveOne(value.to_string()));
        }
        Ok(Self(value))
    }
    pub fn value(self) -> Decimal {
        self.0
    }
}

macro_rules! rate_newtype_impls {
    ($($name:ident => $pattern:literal, $description:literal);* $(;)?) => {$(
        impl TryFrom<String> for $name {
            type Error = ValueError;
            fn try_from(text: String) -> Result<Self, ValueError> {
                Self::parse(&text)
            }
        }
        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.0.to_string()
            }
        }
        impl FromStr for $name {
            type Err = ValueError;
            fn from_str(text: &str) -> Result<Self, ValueError> {
                Self::parse(text)
            }
        }
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
        impl JsonSchema for $name {
            fn schema_name() -> Cow<'static, str> {
                stringify!($name).into()
            }
            fn json_schema(_: &mut SchemaGenerator) -> Schema {
                json_schema!({
                    "type": "string",
                    "description": $description,
                    "pattern": $pattern
                })
            }
        }
    )*};
}
rate_newtype_impls! {
    Rate => "^[0-9]+(\\.[0-9]{1,6})?$",
        "A non-negative decimal string with at most six places: a rate, a ratio or a target value.";
    Share => "^(0(\\.[0-9]{1,6})?|1(\\.0{1,6})?)$",
        "A share from 0 to 1: a decimal string with at most six places (\"0.3\" is 30 %).";
}

/// When something happened in the world (business time), with the offset it was given in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct OccurredAt(DateTime<FixedOffset>);

/// Most decimal places of an instant's seconds: chrono keeps nanoseconds and would silently
/// drop any place after the ninth.
pub const INSTANT_DECIMALS_MAX: usize = 9;

impl OccurredAt {
    pub fn parse(text: &str) -> Result<Self, ValueError> {
        let instant = DateTime::parse_from_rfc3339(text)
            .map_err(|_| ValueError::MalformedInstant(text.to_owned()))?;
        if second_decimals(text) > INSTANT_DECIMALS_MAX {
            return Err(ValueError::InstantTooPrecise(text.to_owned()));
        }
        Ok(Self(instant))
    }
    pub fn new(instant: DateTime<FixedOffset>) -> Self {
        Self(instant)
    }
    /// A wall-clock time in the programmes' time zone, with the offset in force that day.
    /// `None` for a time skipped by the spring change of clocks.
    pub fn at_local(local: chrono::NaiveDateTime) -> Option<Self> {
        use chrono::TimeZone;
        PROGRAMME_TIME_ZONE
            .from_local_datetime(&local)
            .earliest()
            .map(|at| Self(at.fixed_offset()))
    }
    /// The date in the programmes' time zone: the date that periods and terms compare.
    pub fn local_date(self) -> NaiveDate {
        self.0.with_timezone(&PROGRAMME_TIME_ZONE).date_naive()
    }
    pub fn instant(self) -> DateTime<FixedOffset> {
        self.0
    }
}
/// How many decimal places the seconds of an RFC 3339 instant have: the digits after the `.`
/// that follows the time's seconds (the date has no `.`).
fn second_decimals(text: &str) -> usize {
    text.split_once('.').map_or(0, |(_, fraction)| {
        fraction.chars().take_while(char::is_ascii_digit).count()
    })
}

impl TryFrom<String> for OccurredAt {
    type Error = ValueError;
    fn try_from(text: String) -> Result<Self, ValueError> {
        Self::parse(&text)
    }
}
impl From<OccurredAt> for String {
    fn from(at: OccurredAt) -> String {
        at.0.to_rfc3339_opts(SecondsFormat::AutoSi, false)
    }
}
impl fmt::Display for OccurredAt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&String::from(*self))
    }
}
impl JsonSchema for OccurredAt {
    fn schema_name() -> Cow<'static, str> {
        "OccurredAt".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "format": "date-time",
            "description": "RFC 3339 instant with an explicit offset."
        })
    }
}

/// Server time of recording, always UTC with microseconds: `2024-03-02T09:15:02.123456Z`.
pub fn format_recorded_at(instant: DateTime<Utc>) -> String {
    instant.to_rfc3339_opts(SecondsFormat::Micros, true)
}

/// A business date, `YYYY-MM-DD`.
pub type BusinessDate = NaiveDate;

/// A calendar month, `YYYY-MM`, as rent is charged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Month {
    year: i32,
    month: u32,
}

impl Month {
    pub fn parse(text: &str) -> Result<Self, ValueError> {
        let malformed = || ValueError::MalformedMonth(text.to_owned());
        let (year, month) = text.split_once('-').ok_or_else(malformed)?;
        if year.len() != 4 || month.len() != 2 {
            return Err(malformed());
        }
        let year: i32 = year.parse().map_err(|_| malformed())?;
        let month: u32 = month.parse().map_err(|_| malformed())?;
        if !(1..=12).contains(&month) {
            return Err(malformed());
        }
        Ok(Self { year, month })
    }
    pub fn of(date: NaiveDate) -> Self {
        use chrono::Datelike;
        Self {
            year: date.year(),
            month: date.month(),
        }
    }
    pub fn first_day(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year, self.month, 1).expect("a parsed month has a first day")
    }
}
impl TryFrom<String> for Month {
    type Error = ValueError;
    fn try_from(text: String) -> Result<Self, ValueError> {
        Self::parse(&text)
    }
}
impl From<Month> for String {
    fn from(month: Month) -> String {
        format!("{:04}-{:02}", month.year, month.month)
    }
}
impl fmt::Display for Month {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}
impl JsonSchema for Month {
    fn schema_name() -> Cow<'static, str> {
        "Month".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "string", "pattern": "^[0-9]{4}-(0[1-9]|1[0-2])$" })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_refuses_negative_amounts_and_a_third_decimal() {
        assert_eq!(
            Money::parse("-1.00"),
            Err(ValueError::AmountNegative("-1.00".into()))
        );
        assert_eq!(
            Money::parse("18.505"),
            Err(ValueError::AmountHasTooManyDecimals("18.505".into()))
        );
        assert!(matches!(
            Money::parse("1e3"),
            Err(ValueError::AmountNotADecimal(_))
        ));
    }

    #[test]
    fn money_is_always_written_with_two_places() {
        assert_eq!(String::from(Money::parse("18.5").expect("valid")), "18.50");
        assert_eq!(String::from(Money::parse("7").expect("valid")), "7.00");
        assert_eq!(
            String::from(Money::parse("18.500").expect("trailing zero")),
            "18.50"
        );
    }

    #[test]
    fn money_from_a_json_number_is_refused() {
        assert!(serde_json::from_str::<Money>("18.5").is_err());
        assert!(serde_json::from_str::<Money>("\"18.50\"").is_ok());
    }

    #[test]
    fn an_instant_without_offset_is_refused_and_local_dates_are_in_rome() {
        assert!(OccurredAt::parse("2024-03-02T10:15:00").is_err());
        // 23:30 UTC on 31 December is already 1 January in Rome.
        let at = OccurredAt::parse("2023-12-31T23:30:00Z").expect("valid");
        assert_eq!(
            at.local_date(),
            NaiveDate::from_ymd_opt(2024, 1, 1).expect("date")
        );
        assert_eq!(
            String::from(OccurredAt::parse("2024-03-02T10:15:00+01:00").expect("valid")),
            "2024-03-02T10:15:00+01:00"
        );
    }

    #[test]
    fn ids_refuse_spaces_and_contract_ids_refuse_capitals() {
        assert!(StreamId::parse("a b").is_err());
        assert!(StreamId::parse("TK-2024.001").is_ok());
        assert!(ContractId::parse("Cuneo").is_err());
        assert!(ContractId::parse("cuneo-communal-living").is_ok());
    }
}
