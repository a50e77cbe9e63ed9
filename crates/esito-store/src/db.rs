//! The database edge of numbers: the databases hold `i64`, the log counts in `u64` and `Position`.
//!
//! Invariant: every number crosses between the two through these checked conversions, never
//! through `as`, so a negative number read back is refused as corruption instead of wrapping
//! into a huge size, and a size too large to store is refused instead of being stored negative.

use esito_log::Position;

use crate::StoreError;

/// A size, count or index as the database stores it. The error is sqlx's, an encoding
/// failure, so that both the store's errors and the statements that speak sqlx's take it.
pub(crate) fn to_i64(value: u64) -> Result<i64, sqlx::Error> {
    i64::try_from(value).map_err(|error| sqlx::Error::Encode(Box::new(error)))
}

/// Each of `values` as the database stores it, for a statement that binds them as an array.
pub(crate) fn to_i64_all(values: impl IntoIterator<Item = u64>) -> Result<Vec<i64>, sqlx::Error> {
    values.into_iter().map(to_i64).collect()
}

/// A size, count or index read back: a negative one means the stored rows are not the store's.
pub(crate) fn to_u64(value: i64) -> Result<u64, StoreError> {
    u64::try_from(value).map_err(|_| StoreError::Corrupt {
        position: 0,
        reason: format!("a stored size, count or index is negative: {value}"),
    })
}

/// A position read back. The position it should have been is unknown, so the error names
/// position 0, which no entry has.
pub(crate) fn position(value: i64) -> Result<Position, StoreError> {
    Position::try_from(value).map_err(|error| StoreError::Corrupt {
        position: 0,
        reason: format!("a stored position: {error}"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_negative_number_read_back_is_corruption() {
        assert!(matches!(
            to_u64(-1),
            Err(StoreError::Corrupt { position: 0, reason }) if reason.contains("-1")
        ));
        assert_eq!(to_u64(0).expect("0 is a size"), 0);
        assert!(matches!(
            position(0),
            Err(StoreError::Corrupt { position: 0, reason }) if reason.contains("found 0")
        ));
        assert!(matches!(position(-5), Err(StoreError::Corrupt { .. })));
        assert_eq!(position(3).expect("3 is a position").get(), 3);
    }

    #[test]
    fn a_number_beyond_i64_is_not_stored() {
        assert!(matches!(to_i64(u64::MAX), Err(sqlx::Error::Encode(_))));
        assert_eq!(to_i64(41).expect("41 fits"), 41);
        assert!(to_i64_all([1, u64::MAX]).is_err());
        assert_eq!(to_i64_all([1, 2]).expect("both fit"), [1, 2]);
    }
}
