//! Amounts, numbers and dates as each language writes them: `11.764,00 €` and `31/03/2024` in
//! Italian, `€11,764.00` and `31 Mar 2024` in English.
//!
//! Invariant: an amount is formatted from its `Decimal` exactly, rounded half away from zero
//! to its decimals only when it has more (a settlement's amounts have two already).

use chrono::NaiveDate;
use rust_decimal::{Decimal, RoundingStrategy};

use crate::lang::Lang;

/// The symbol of a currency where one is known; other codes are written as they are.
fn symbol(currency: &str) -> Option<&'static str> {
    match currency {
        "EUR" => Some("€"),
        "GBP" => Some("£"),
        "USD" => Some("$"),
        _ => None,
    }
}

/// `amount` with `decimals` places, grouped by thousands: `-11.764,00` (Italian),
/// `-11,764.00` (English).
pub fn number(amount: Decimal, decimals: u32, lang: Lang) -> String {
    let rounded = amount.round_dp_with_strategy(decimals, RoundingStrategy::MidpointAwayFromZero);
    let text = format!("{:.*}", decimals as usize, rounded.abs());
    let (whole, fraction) = text.split_once('.').unwrap_or((text.as_str(), ""));
    let (group, point) = match lang {
        Lang::It => ('.', ','),
        Lang::En => (',', '.'),
    };
    let mut grouped = String::with_capacity(text.len() + whole.len() / 3 + 1);
    if rounded.is_sign_negative() && !rounded.is_zero() {
        grouped.push('-');
    }
    for (index, digit) in whole.chars().enumerate() {
        if index > 0 && (whole.len() - index) % 3 == 0 {
            grouped.push(group);
        }
        grouped.push(digit);
    }
    if !fraction.is_empty() {
        grouped.push(point);
        grouped.push_str(fraction);
    }
    grouped
}

/// An amount of `currency` (an ISO 4217 code) with two decimals: `11.764,00 €`, `€11,764.00`,
/// `-250,50 €`, `-€250.50`; a currency without a known symbol by its code, `11.764,00 CHF`,
/// `CHF 11,764.00`.
pub fn money(amount: Decimal, currency: &str, lang: Lang) -> String {
    let digits = number(amount, 2, lang);
    match (lang, symbol(currency)) {
        (Lang::It, Some(symbol)) => format!("{digits} {symbol}"),
        (Lang::It, None) => format!("{digits} {currency}"),
        (Lang::En, Some(symbol)) => match digits.strip_prefix('-') {
            Some(positive) => format!("-{symbol}{positive}"),
            None => format!("{symbol}{digits}"),
        },
        (Lang::En, None) => format!("{currency} {digits}"),
    }
}

/// A business date: `31/03/2024` (Italian), `31 Mar 2024` (English).
pub fn date(date: NaiveDate, lang: Lang) -> String {
    match lang {
        Lang::It => date.format("%d/%m/%Y").to_string(),
        Lang::En => date.format("%-d %b %Y").to_string(),
    }
}

/// A count grouped by thousands: `1.824` (Italian), `1,824` (English).
pub fn count(count: u64, lang: Lang) -> String {
    number(Decimal::from(count), 0, lang)
}

/// A share as a percentage with at most one decimal: `0.456` is `45,6%` or `45.6%`.
pub fn percent(share: Decimal, lang: Lang) -> String {
    let hundredths = (share * Decimal::ONE_HUNDRED)
        .round_dp_with_strategy(1, RoundingStrategy::MidpointAwayFromZero)
        .normalize();
    format!("{}%", number(hundredths, hundredths.scale(), lang))
}

/// An instant as the log records it (RFC 3339), shown as its date and time in Europe/Rome's
/// offset as recorded: `31/03/2024 10:05` or `31 Mar 2024 10:05`; the text itself when it
/// does not read.
pub fn instant(text: &str, lang: Lang) -> String {
    match chrono::DateTime::parse_from_rfc3339(text) {
        Ok(at) => format!("{} {}", date(at.date_naive(), lang), at.format("%H:%M")),
        Err(_) => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(text: &str) -> Decimal {
        text.parse().expect("a decimal")
    }

    #[test]
    fn italian_amounts_group_by_dots_and_put_the_euro_after() {
        assert_eq!(money(d("11764"), "EUR", Lang::It), "11.764,00 €");
        assert_eq!(money(d("11764.5"), "EUR", Lang::It), "11.764,50 €");
        assert_eq!(money(d("1234567.89"), "EUR", Lang::It), "1.234.567,89 €");
        assert_eq!(money(d("999.99"), "EUR", Lang::It), "999,99 €");
        assert_eq!(money(d("0"), "EUR", Lang::It), "0,00 €");
    }

    #[test]
    fn english_amounts_group_by_commas_and_put_the_euro_before() {
        assert_eq!(money(d("11764"), "EUR", Lang::En), "€11,764.00");
        assert_eq!(money(d("1000000"), "EUR", Lang::En), "€1,000,000.00");
        assert_eq!(money(d("100"), "EUR", Lang::En), "€100.00");
    }

    #[test]
    fn negative_amounts_keep_their_sign_before_the_symbol() {
        assert_eq!(money(d("-250.5"), "EUR", Lang::It), "-250,50 €");
        assert_eq!(money(d("-250.5"), "EUR", Lang::En), "-€250.50");
        assert_eq!(money(d("-1234.56"), "EUR", Lang::It), "-1.234,56 €");
        assert_eq!(money(d("-0.001"), "EUR", Lang::En), "€0.00");
    }

    #[test]
    fn other_currencies_carry_their_symbol_or_code() {
        assert_eq!(money(d("11764"), "GBP", Lang::It), "11.764,00 £");
        assert_eq!(money(d("11764"), "GBP", Lang::En), "£11,764.00");
        assert_eq!(money(d("11764"), "CHF", Lang::It), "11.764,00 CHF");
        assert_eq!(money(d("11764"), "CHF", Lang::En), "CHF 11,764.00");
    }

    #[test]
    fn a_third_decimal_rounds_half_away_from_zero() {
        assert_eq!(money(d("0.005"), "EUR", Lang::It), "0,01 €");
        assert_eq!(money(d("-0.005"), "EUR", Lang::En), "-€0.01");
    }

    #[test]
    fn dates_are_day_month_year() {
        let day = NaiveDate::from_ymd_opt(2024, 3, 31).expect("a date");
        assert_eq!(date(day, Lang::It), "31/03/2024");
        assert_eq!(date(day, Lang::En), "31 Mar 2024");
        let first = NaiveDate::from_ymd_opt(2024, 1, 1).expect("a date");
        assert_eq!(date(first, Lang::It), "01/01/2024");
        assert_eq!(date(first, Lang::En), "1 Jan 2024");
    }

    #[test]
    fn counts_and_percentages() {
        assert_eq!(count(1824, Lang::It), "1.824");
        assert_eq!(count(1824, Lang::En), "1,824");
        assert_eq!(count(12, Lang::En), "12");
        assert_eq!(percent(d("0.456"), Lang::It), "45,6%");
        assert_eq!(percent(d("0.3"), Lang::En), "30%");
    }
}
