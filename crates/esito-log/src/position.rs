//! A log position: where an entry stands in its contract's log, counted from 1.
//!
//! Invariant: `1 <= position <= 2^53 - 1`, the range an entry's `position` may hold (the JSON
//! integers every reader agrees on), so a position fits a database's `i64` without a check that
//! could fail. It is written as a plain JSON integer, so the log's bytes do not change, and read
//! through the same check, from JSON and from the database alike.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The largest integer JSON readers agree on, `2^53 - 1` (RFC 8785, I-JSON).
const MAX: u64 = (1 << 53) - 1;

/// A 1-based position in a contract's log; the leaf index in the tree is one less.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "u64", into = "u64")]
pub struct Position(u64);

/// A number that is not a position: zero, negative, or beyond `2^53 - 1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a position is an integer from 1 to 2^53 - 1, found {found}")]
pub struct PositionError {
    /// The number refused, widened so that both a database's `i64` and a `u64` fit.
    pub found: i128,
}

impl Position {
    /// The first entry of every log.
    pub const FIRST: Self = Self(1);

    /// Checks that `value` is a position.
    pub fn new(value: u64) -> Result<Self, PositionError> {
        if value == 0 || value > MAX {
            Err(PositionError {
                found: i128::from(value),
            })
        } else {
            Ok(Self(value))
        }
    }

    /// The position after a log of `size` entries: where its next entry goes.
    pub fn after(size: u64) -> Result<Self, PositionError> {
        size.checked_add(1).map_or(
            Err(PositionError {
                found: i128::from(size) + 1,
            }),
            Self::new,
        )
    }

    /// The number, 1-based; also the size of the log that ends with this entry.
    pub const fn get(self) -> u64 {
        self.0
    }

    /// The index of this entry's leaf in the Merkle tree, 0-based.
    pub const fn leaf_index(self) -> u64 {
        self.0 - 1
    }

    /// The position after this one.
    ///
    /// Panics past `2^53 - 1`: no log holds that many entries, since no entry can be written
    /// there (`Entry::check`), so reaching it means the books are broken.
    pub fn next(self) -> Self {
        Self::after(self.0).expect("a log never holds 2^53 - 1 entries")
    }

    /// The value a database stores, an `i64`; every position fits.
    pub fn to_db(self) -> i64 {
        i64::try_from(self.0).expect("a position is below 2^53, so it fits an i64")
    }
}

impl TryFrom<u64> for Position {
    type Error = PositionError;

    fn try_from(value: u64) -> Result<Self, Self::Error> {
        Self::new(value)
    }
}

/// Reads a position from a database's `i64`, refusing zero and negative numbers.
impl TryFrom<i64> for Position {
    type Error = PositionError;

    fn try_from(value: i64) -> Result<Self, Self::Error> {
        u64::try_from(value)
            .map_err(|_| PositionError {
                found: i128::from(value),
            })
            .and_then(Self::new)
    }
}

impl From<Position> for u64 {
    fn from(position: Position) -> Self {
        position.0
    }
}

impl From<Position> for i64 {
    fn from(position: Position) -> Self {
        position.to_db()
    }
}

impl PartialEq<u64> for Position {
    fn eq(&self, other: &u64) -> bool {
        self.0 == *other
    }
}

impl PartialEq<Position> for u64 {
    fn eq(&self, other: &Position) -> bool {
        *self == other.0
    }
}

/// A position compares with a log's size: `position <= size` is whether the log holds it.
impl PartialOrd<u64> for Position {
    fn partial_cmp(&self, other: &u64) -> Option<std::cmp::Ordering> {
        Some(self.0.cmp(other))
    }
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_position_from_the_database_refuses_zero_and_negatives() {
        for refused in [0_i64, -1, i64::MIN] {
            assert_eq!(
                Position::try_from(refused),
                Err(PositionError {
                    found: i128::from(refused)
                })
            );
        }
        let read = Position::try_from(7_i64).expect("7 is a position");
        assert_eq!(read.get(), 7);
        assert_eq!(read.to_db(), 7);
        assert_eq!(i64::from(read), 7);
    }

    #[test]
    fn a_position_beyond_the_exact_json_integers_is_refused() {
        assert!(Position::new(MAX).is_ok());
        assert_eq!(
            Position::new(MAX + 1),
            Err(PositionError {
                found: i128::from(MAX) + 1
            })
        );
        assert!(Position::try_from(i64::MAX).is_err());
        assert!(Position::after(u64::MAX).is_err());
    }

    #[test]
    fn a_position_is_written_and_read_as_a_plain_json_integer() {
        let position = Position::new(42).expect("42 is a position");
        let json = serde_json::to_string(&position).expect("a position serialises");
        assert_eq!(json, "42");
        assert_eq!(
            serde_json::from_str::<Position>(&json).expect("42 reads back"),
            position
        );
        assert!(serde_json::from_str::<Position>("0").is_err());
        assert!(serde_json::from_str::<Position>("-3").is_err());
        assert!(serde_json::from_str::<Position>("\"42\"").is_err());
    }

    #[test]
    fn the_leaf_index_is_one_less_and_next_is_one_more() {
        assert_eq!(Position::FIRST.leaf_index(), 0);
        assert_eq!(Position::FIRST.next(), Position::new(2).expect("2"));
        assert_eq!(Position::after(0), Ok(Position::FIRST));
        assert_eq!(Position::after(9).expect("10").leaf_index(), 9);
    }
}
