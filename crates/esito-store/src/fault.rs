//! Which database failures mean "unavailable": the database is down, unreachable, full,
//! read-only or busy, so the same request may succeed once it is back; every other failure is
//! the request's or the service's own.
//!
//! Invariant: a failure classed here as unavailable wrote nothing the caller was told of: the
//! statement or the transaction it belongs to failed, so a retry with the same event ids is
//! answered either as the first write or as its replay, never twice.

use std::time::Duration;

/// How long a request waits for a connection from a pool, and a new connection for the
/// database to answer: a database that is down is answered as unavailable within 2 s. The pool
/// retries a refused connection until this deadline, so a request to a stopped PostgreSQL takes
/// all of it: 1 s leaves a margin for a loaded machine.
pub(crate) const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(1);

/// PostgreSQL's SQLSTATEs of a server that cannot serve now: class 08 (connection exception)
/// by its prefix, and these: the server shutting down or starting (57P01 admin shutdown, 57P02
/// crash shutdown, 57P03 cannot connect now), a statement cancelled (57014, the statement
/// timeout), insufficient resources (53000, 53100 disk full, 53200 out of memory, 53300 too
/// many connections), and a read-only transaction (25006: a standby, or a server set
/// read-only).
const POSTGRES_UNAVAILABLE: &[&str] = &[
    "57P01", "57P02", "57P03", "57014", "53000", "53100", "53200", "53300", "25006",
];

/// SQLite's primary result codes of a file that cannot be written now: 5 BUSY (another
/// process holds the write lock past the busy timeout), 8 READONLY, 10 IOERR, 13 FULL, 14
/// CANTOPEN. An extended code (`SQLITE_IOERR_WRITE` = 778, say) carries its primary code in
/// its low byte.
const SQLITE_UNAVAILABLE: &[u32] = &[5, 8, 10, 13, 14];

/// True when `error` says the database cannot serve now rather than that the request or the
/// data is wrong.
pub(crate) fn is_unavailable(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(database) => {
            let Some(code) = database.code() else {
                return false;
            };
            if database
                .try_downcast_ref::<sqlx::sqlite::SqliteError>()
                .is_some()
            {
                sqlite_code_unavailable(&code)
            } else {
                postgres_code_unavailable(&code)
            }
        }
        _ => false,
    }
}

fn postgres_code_unavailable(sqlstate: &str) -> bool {
    sqlstate.starts_with("08") || POSTGRES_UNAVAILABLE.contains(&sqlstate)
}

fn sqlite_code_unavailable(code: &str) -> bool {
    code.parse::<u32>()
        .is_ok_and(|extended| SQLITE_UNAVAILABLE.contains(&(extended & 0xff)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn postgres_shutdown_connection_and_resource_codes_are_unavailable() {
        for code in [
            "57P01", "57P02", "57P03", "08000", "08006", "08001", "53100", "53300", "25006",
        ] {
            assert!(postgres_code_unavailable(code), "{code}");
        }
        // A unique violation, a syntax error, a serialization failure: the request's own.
        for code in ["23505", "42601", "40001", "22P02", "P0001"] {
            assert!(!postgres_code_unavailable(code), "{code}");
        }
    }

    #[test]
    fn sqlite_full_readonly_ioerr_busy_are_unavailable_with_their_extended_codes() {
        // 13 FULL, 8 READONLY, 10 IOERR, 778 IOERR_WRITE, 5 BUSY, 517 BUSY_SNAPSHOT.
        for code in ["13", "8", "10", "778", "5", "517", "14"] {
            assert!(sqlite_code_unavailable(code), "{code}");
        }
        // 19 CONSTRAINT, 2067 CONSTRAINT_UNIQUE, 1 ERROR, 11 CORRUPT.
        for code in ["19", "2067", "1", "11", "not a number"] {
            assert!(!sqlite_code_unavailable(code), "{code}");
        }
    }

    #[test]
    fn pool_timeouts_and_broken_connections_are_unavailable_and_a_bad_row_is_not() {
        assert!(is_unavailable(&sqlx::Error::PoolTimedOut));
        assert!(is_unavailable(&sqlx::Error::PoolClosed));
        assert!(is_unavailable(&sqlx::Error::Io(std::io::Error::from(
            std::io::ErrorKind::ConnectionRefused
        ))));
        assert!(!is_unavailable(&sqlx::Error::RowNotFound));
        assert!(!is_unavailable(&sqlx::Error::ColumnNotFound("x".into())));
    }
}
