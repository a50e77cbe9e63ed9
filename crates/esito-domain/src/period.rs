//! Periods as the contracts write them (`2024`, `2024-H1`, `2024-Q1`, `2024-03`): half-open
//! ranges of local dates in the programmes' time zone, every one within a single year.
//!
//! Invariant: a `Period` is only made by parsing its text or from a date and a `PeriodKind`;
//! it writes itself back as the same text, so a stored period reads back and re-hashes
//! byte for byte.

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use chrono::{Datelike, NaiveDate};
use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde::{Deserialize, Serialize};

use crate::events::PeriodKind;

/// The text of a period: a year, a half-year, a quarter or a month.
const PERIOD_PATTERN: &str = "^[0-9]{4}(-(H[12]|Q[1-4]|0[1-9]|1[0-2]))?$";

/// A period `[start_on, end_on)` of local dates. `Deserialize` goes through `FromStr`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Period {
    year: i32,
    /// First month (1-based) and length in months.
    first_month: u32,
    months: u32,
}

/// Why a period's text was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{text}` is not a period: write a year (`2024`), a half-year (`2024-H1`), a quarter \
     (`2024-Q1`) or a month (`2024-03`)"
)]
pub struct PeriodError {
    pub text: String,
}

impl Period {
    /// The year, half-year, quarter or month (as `kind` says) holding `date`.
    pub fn containing(kind: PeriodKind, date: NaiveDate) -> Self {
        let months = kind.months();
        let first_month = (date.month0() / months) * months + 1;
        Self {
            year: date.year(),
            first_month,
            months,
        }
    }

    /// The year the period lies in (every period lies within one year).
    pub fn year(self) -> i32 {
        self.year
    }

    /// The period's months as 0-based indexes into its year.
    pub fn month_indexes(self) -> std::ops::Range<usize> {
        let first = self.first_month as usize - 1;
        first..first + self.months as usize
    }

    /// The 19 periods of a year: its 12 months, 4 quarters, 2 halves and the year itself.
    pub fn all_in_year(year: i32) -> [Period; 19] {
        let mut out = [Self {
            year,
            first_month: 1,
            months: 12,
        }; 19];
        let mut index = 0;
        for (months, count) in [(1, 12), (3, 4), (6, 2)] {
            for n in 0..count {
                out[index] = Self {
                    year,
                    first_month: n * months + 1,
                    months,
                };
                index += 1;
            }
        }
        out
    }

    /// The first day of the period.
    pub fn start_on(self) -> NaiveDate {
        NaiveDate::from_ymd_opt(self.year, self.first_month, 1).unwrap_or(NaiveDate::MIN)
    }

    /// The first day after the period.
    pub fn end_on(self) -> NaiveDate {
        let next = self.first_month + self.months;
        let (year, month) = if next > 12 {
            (self.year + 1, next - 12)
        } else {
            (self.year, next)
        };
        NaiveDate::from_ymd_opt(year, month, 1).unwrap_or(NaiveDate::MAX)
    }

    /// True when `date` lies in `[start_on, end_on)`.
    pub fn contains(self, date: NaiveDate) -> bool {
        self.start_on() <= date && date < self.end_on()
    }

    /// The next period of the same length.
    pub fn next(self) -> Self {
        let next = self.first_month + self.months;
        if next > 12 {
            Self {
                year: self.year + 1,
                first_month: next - 12,
                ..self
            }
        } else {
            Self {
                first_month: next,
                ..self
            }
        }
    }
}

impl FromStr for Period {
    type Err = PeriodError;

    fn from_str(text: &str) -> Result<Self, PeriodError> {
        let refuse = || PeriodError {
            text: text.to_owned(),
        };
        let (year_text, rest) = match text.split_once('-') {
            Some((year, rest)) => (year, Some(rest)),
            None => (text, None),
        };
        if year_text.len() != 4 || !year_text.bytes().all(|b| b.is_ascii_digit()) {
            return Err(refuse());
        }
        let year: i32 = year_text.parse().map_err(|_| refuse())?;
        let (first_month, months) = match rest {
            None => (1, 12),
            Some(rest) => {
                let number = |digits: &str| -> Option<u32> {
                    (!digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
                        .then(|| digits.parse().ok())
                        .flatten()
                };
                if let Some(half) = rest.strip_prefix('H') {
                    match number(half) {
                        Some(h @ 1..=2) if half.len() == 1 => ((h - 1) * 6 + 1, 6),
                        _ => return Err(refuse()),
                    }
                } else if let Some(quarter) = rest.strip_prefix('Q') {
                    match number(quarter) {
                        Some(q @ 1..=4) if quarter.len() == 1 => ((q - 1) * 3 + 1, 3),
                        _ => return Err(refuse()),
                    }
                } else {
                    match number(rest) {
                        Some(m @ 1..=12) if rest.len() == 2 => (m, 1),
                        _ => return Err(refuse()),
                    }
                }
            }
        };
        Ok(Self {
            year,
            first_month,
            months,
        })
    }
}

impl fmt::Display for Period {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.months {
            12 => write!(f, "{}", self.year),
            6 => write!(f, "{}-H{}", self.year, self.first_month / 6 + 1),
            3 => write!(f, "{}-Q{}", self.year, self.first_month / 3 + 1),
            _ => write!(f, "{}-{:02}", self.year, self.first_month),
        }
    }
}

impl JsonSchema for Period {
    fn schema_name() -> Cow<'static, str> {
        "Period".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "description": "A year (2024), half-year (2024-H1), quarter (2024-Q1) or month (2024-03).",
            "pattern": PERIOD_PATTERN
        })
    }
}

impl TryFrom<String> for Period {
    type Error = PeriodError;
    fn try_from(text: String) -> Result<Self, PeriodError> {
        text.parse()
    }
}

impl From<Period> for String {
    fn from(period: Period) -> String {
        period.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(text: &str) -> NaiveDate {
        text.parse().expect("a test date")
    }

    #[test]
    fn each_notation_names_its_half_open_range_of_dates() {
        for (text, start, end) in [
            ("2024", "2024-01-01", "2025-01-01"),
            ("2024-H1", "2024-01-01", "2024-07-01"),
            ("2024-H2", "2024-07-01", "2025-01-01"),
            ("2024-Q1", "2024-01-01", "2024-04-01"),
            ("2024-Q4", "2024-10-01", "2025-01-01"),
            ("2024-03", "2024-03-01", "2024-04-01"),
            ("2024-12", "2024-12-01", "2025-01-01"),
        ] {
            let period: Period = text.parse().expect("a valid period");
            assert_eq!(period.start_on(), date(start), "{text}");
            assert_eq!(period.end_on(), date(end), "{text}");
            assert_eq!(period.to_string(), text);
        }
    }

    #[test]
    fn a_year_holds_nineteen_periods_each_naming_its_months() {
        let labels: Vec<String> = Period::all_in_year(2025)
            .iter()
            .map(|period| format!("{period}={:?}", period.month_indexes()))
            .collect();
        assert_eq!(labels[0], "2025-01=0..1");
        assert_eq!(labels[11], "2025-12=11..12");
        assert_eq!(labels[12], "2025-Q1=0..3");
        assert_eq!(labels[15], "2025-Q4=9..12");
        assert_eq!(labels[16], "2025-H1=0..6");
        assert_eq!(labels[17], "2025-H2=6..12");
        assert_eq!(labels[18], "2025=0..12");
        for period in Period::all_in_year(2025) {
            assert_eq!(period.year(), 2025);
            assert_eq!(period.to_string().parse::<Period>(), Ok(period));
        }
    }

    #[test]
    fn malformed_periods_are_refused() {
        for text in [
            "", "24", "2024-Q5", "2024-Q0", "2024-H3", "2024-13", "2024-3", "2024-q1",
        ] {
            assert!(text.parse::<Period>().is_err(), "{text} was accepted");
        }
    }

    #[test]
    fn the_period_containing_a_date_follows_the_calendar() {
        let on = date("2024-05-31");
        assert_eq!(
            Period::containing(PeriodKind::Quarter, on).to_string(),
            "2024-Q2"
        );
        assert_eq!(
            Period::containing(PeriodKind::HalfYear, on).to_string(),
            "2024-H1"
        );
        assert_eq!(
            Period::containing(PeriodKind::Month, on).to_string(),
            "2024-05"
        );
        assert_eq!(Period::containing(PeriodKind::Year, on).to_string(), "2024");
        assert_eq!(
            Period::containing(PeriodKind::Quarter, on)
                .next()
                .to_string(),
            "2024-Q3"
        );
        assert_eq!(
            "2024-Q4".parse::<Period>().map(|p| p.next().to_string()),
            Ok("2025-Q1".to_owned())
        );
    }

    #[test]
    fn a_period_is_written_and_read_as_its_label_through_the_parser() {
        for text in ["2024", "2024-H2", "2024-Q3", "2024-11"] {
            let period: Period = text.parse().expect("a valid period");
            let json = serde_json::to_string(&period).expect("a period serializes");
            assert_eq!(json, format!("\"{text}\""));
            assert_eq!(serde_json::from_str::<Period>(&json).ok(), Some(period));
        }
        let refused = serde_json::from_str::<Period>("\"2024-Q5\"").expect_err("not a period");
        assert!(
            refused.to_string().contains("`2024-Q5` is not a period"),
            "{refused}"
        );
    }

    #[test]
    fn a_period_kind_names_the_period_starting_on_its_first_day_only() {
        assert_eq!(
            PeriodKind::Quarter.period_starting(date("2024-04-01")),
            Some("2024-Q2".parse().expect("a valid period"))
        );
        assert_eq!(
            PeriodKind::Quarter.period_starting(date("2024-05-01")),
            None
        );
        assert_eq!(
            PeriodKind::Year
                .period_starting(date("2024-01-01"))
                .map(|period| (period.to_string(), period.end_on())),
            Some(("2024".to_owned(), date("2025-01-01")))
        );
    }
}
