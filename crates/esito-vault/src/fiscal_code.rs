//! The Italian fiscal code (codice fiscale) of a natural person: 16 characters, checked by the
//! check character the Agenzia delle Entrate's algorithm computes from the first 15 (DM
//! 23/12/1976), the digits possibly replaced by letters where two people would share a code
//! (omocodia).
//!
//! Invariant: a `FiscalCode` holds 16 upper-case characters of the right shape whose last is
//! the check character of the others; `Deserialize` goes through `parse`.

use serde::{Deserialize, Serialize};

/// Why a text is not a fiscal code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FiscalCodeError {
    #[error("a fiscal code has 16 characters, not {0}")]
    Length(usize),
    #[error("character {position} (`{found}`) should be {expected}")]
    Shape {
        position: usize,
        found: char,
        expected: &'static str,
    },
    #[error("the check character is {found}, but the first 15 give {expected}")]
    Check { found: char, expected: char },
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct FiscalCode(String);

/// The letters that stand for the digits 0 to 9 in a code changed for omocodia.
const OMOCODIA: &str = "LMNPQRSTUV";
/// The letters of the months, January to December.
const MONTHS: &str = "ABCDEHLMPRST";
/// The values of a character in an odd position (1st, 3rd, ...): digits then letters.
const ODD_DIGITS: [u32; 10] = [1, 0, 5, 7, 9, 13, 15, 17, 19, 21];
const ODD_LETTERS: [u32; 26] = [
    1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23,
];

impl FiscalCode {
    /// Reads a fiscal code, in upper or lower case, with no spaces inside.
    pub fn parse(text: &str) -> Result<Self, FiscalCodeError> {
        let code: Vec<char> = text
            .trim()
            .chars()
            .map(|c| c.to_ascii_uppercase())
            .collect();
        if code.len() != 16 {
            return Err(FiscalCodeError::Length(code.len()));
        }
        for (index, &c) in code.iter().enumerate() {
            let position = index + 1;
            let (fits, expected) = match position {
                1..=6 | 12 => (c.is_ascii_uppercase(), "a letter"),
                9 => (
                    MONTHS.contains(c),
                    "a month's letter (A, B, C, D, E, H, L, M, P, R, S, T)",
                ),
                7 | 8 | 10 | 11 | 13..=15 => (
                    c.is_ascii_digit() || OMOCODIA.contains(c),
                    "a digit (or L, M, N, P, Q, R, S, T, U, V)",
                ),
                _ => (c.is_ascii_uppercase(), "the check letter"),
            };
            if !fits {
                return Err(FiscalCodeError::Shape {
                    position,
                    found: c,
                    expected,
                });
            }
        }
        let expected = check_character(&code[..15]);
        if code[15] != expected {
            return Err(FiscalCodeError::Check {
                found: code[15],
                expected,
            });
        }
        Ok(Self(code.into_iter().collect()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The check character of a code's first 15 characters (upper-case letters and digits).
fn check_character(first: &[char]) -> char {
    let sum: u32 = first
        .iter()
        .enumerate()
        .map(|(index, &c)| {
            let (digit, letter) = (c.to_digit(10), (c as u32).wrapping_sub('A' as u32));
            match (index % 2 == 0, digit) {
                (true, Some(d)) => ODD_DIGITS[d as usize],
                (true, None) => ODD_LETTERS[letter as usize],
                (false, Some(d)) => d,
                (false, None) => letter,
            }
        })
        .sum();
    char::from(b'A' + u8::try_from(sum % 26).expect("below 26"))
}

impl TryFrom<String> for FiscalCode {
    type Error = FiscalCodeError;
    fn try_from(text: String) -> Result<Self, Self::Error> {
        Self::parse(&text)
    }
}

impl From<FiscalCode> for String {
    fn from(code: FiscalCode) -> Self {
        code.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_with_their_check_character_are_accepted_in_either_case() {
        // Worked out by hand from the tables: RSSMRA85T10A562 sums to 122, 122 mod 26 = 18, S.
        for code in ["RSSMRA85T10A562S", "MRTMTT25D09F205Z", "rssmra85t10a562s"] {
            let parsed = FiscalCode::parse(code).expect(code);
            assert_eq!(parsed.as_str(), code.to_ascii_uppercase());
        }
    }

    #[test]
    fn a_wrong_check_character_is_refused_naming_the_right_one() {
        assert_eq!(
            FiscalCode::parse("RSSMRA85T10A562T"),
            Err(FiscalCodeError::Check {
                found: 'T',
                expected: 'S'
            })
        );
    }

    #[test]
    fn a_code_of_the_wrong_shape_is_refused_naming_the_position() {
        assert_eq!(
            FiscalCode::parse("RSSMRA85T10A562"),
            Err(FiscalCodeError::Length(15))
        );
        assert!(matches!(
            FiscalCode::parse("RSSMRA85Z10A562S"),
            Err(FiscalCodeError::Shape { position: 9, .. })
        ));
        assert!(matches!(
            FiscalCode::parse("R5SMRA85T10A562S"),
            Err(FiscalCodeError::Shape { position: 2, .. })
        ));
    }

    #[test]
    fn a_code_changed_for_omocodia_is_checked_like_any_other() {
        // The last digit 2 becomes N; the check character follows: computed by the same table.
        let first: Vec<char> = "RSSMRA85T10A56N".chars().collect();
        let code = format!("RSSMRA85T10A56N{}", check_character(&first));
        assert!(FiscalCode::parse(&code).is_ok(), "{code}");
    }
}
