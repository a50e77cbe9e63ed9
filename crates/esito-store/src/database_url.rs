//! What a database URL may show and which file it names: every URL printed or put into an
//! error goes through [`redacted`], so a password never reaches a log, a terminal or a caller.
//!
//! Invariant: the output of `redacted` holds no character of a password that the input gave
//! in a URL's user information (`postgres://user:PASSWORD@host`) or as a `password=` setting.

use std::path::PathBuf;
use std::str::FromStr;

/// What a password is shown as.
const HIDDEN: &str = "***";

/// `text` with every password hidden: the password of each URL's user information
/// (`postgres://user:***@host/db`) and the value of each `password=` setting, in a query string
/// or a `key=value` connection string. A URL without a password is returned as it was, so
/// the text may also be an error message that quotes a URL.
pub fn redacted(text: &str) -> String {
    hide_setting_values(&hide_user_passwords(text), "password=")
}

/// The password between `scheme://user:` and the last `@` of each URL. The URL ends where a
/// message quoting it would end it (a space or a quote); a password holding a `/` is hidden
/// too, at worst with more of the URL than its password.
fn hide_user_passwords(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("://") {
        let (before, after) = rest.split_at(at + 3);
        out.push_str(before);
        let end = after
            .find(|c: char| matches!(c, '"' | '\'' | '`') || c.is_whitespace())
            .unwrap_or(after.len());
        let url = &after[..end];
        match url.rfind('@') {
            Some(user_end) => {
                let user_information = &url[..user_end];
                match user_information.find(':') {
                    Some(colon) => {
                        out.push_str(&user_information[..=colon]);
                        out.push_str(HIDDEN);
                    }
                    None => out.push_str(user_information),
                }
                out.push_str(&url[user_end..]);
            }
            None => out.push_str(url),
        }
        rest = &after[end..];
    }
    out.push_str(rest);
    out
}

/// The value after each `key` (matched without regard to case), up to the next `&`, space or
/// quote.
fn hide_setting_values(text: &str, key: &str) -> String {
    let lower = text.to_ascii_lowercase();
    let mut out = String::with_capacity(text.len());
    let mut from = 0;
    while let Some(found) = lower[from..].find(key) {
        let value_start = from + found + key.len();
        out.push_str(&text[from..value_start]);
        let value_len = text[value_start..]
            .find(|c: char| matches!(c, '&' | '"' | '\'' | '`' | '#') || c.is_whitespace())
            .unwrap_or(text.len() - value_start);
        if value_len > 0 {
            out.push_str(HIDDEN);
        }
        from = value_start + value_len;
    }
    out.push_str(&text[from..]);
    out
}

/// The file a SQLite URL names (`sqlite://PATH`, `sqlite:PATH`, with or without a query), or
/// `None` for an in-memory database and for any other URL.
pub fn sqlite_file(url: &str) -> Option<PathBuf> {
    if !url.starts_with("sqlite:") {
        return None;
    }
    let options = sqlx::sqlite::SqliteConnectOptions::from_str(url).ok()?;
    let file = options.get_filename();
    // sqlx names an in-memory database `file:sqlx-in-memory-N`; `mode=memory` keeps the name.
    let in_memory =
        file.to_string_lossy().starts_with("file:sqlx-in-memory-") || url.contains("mode=memory");
    (!in_memory).then(|| file.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_in_a_url_is_hidden_and_the_rest_kept() {
        assert_eq!(
            redacted("postgres://user:SECRET@db.example:5432/esito"),
            "postgres://user:***@db.example:5432/esito"
        );
        assert_eq!(
            redacted("postgresql://u:p%40ss:word@10.0.0.1/x?sslmode=require"),
            "postgresql://u:***@10.0.0.1/x?sslmode=require"
        );
    }

    #[test]
    fn a_password_holding_a_slash_is_hidden_whole() {
        let shown = redacted("postgres://u:se/cr?et@h/db");
        assert!(!shown.contains("se/cr?et"), "{shown}");
        assert_eq!(shown, "postgres://u:***@h/db");
    }

    #[test]
    fn a_url_without_a_password_is_unchanged() {
        for url in [
            "postgres://postgres@127.0.0.1:5432/postgres",
            "postgres://127.0.0.1/x",
            "sqlite://esito.db",
            "sqlite:///var/lib/esito/esito.db?mode=rwc",
            "not a url at all",
        ] {
            assert_eq!(redacted(url), url);
        }
    }

    #[test]
    fn a_password_setting_is_hidden_in_a_query_and_a_connection_string() {
        assert_eq!(
            redacted("postgres://u@h/db?password=SECRET&sslmode=require"),
            "postgres://u@h/db?password=***&sslmode=require"
        );
        assert_eq!(
            redacted("host=h user=u PASSWORD=SECRET dbname=x"),
            "host=h user=u PASSWORD=*** dbname=x"
        );
    }

    #[test]
    fn every_url_quoted_in_a_message_is_redacted() {
        let message = "opening \"postgres://a:ONE@h1/x\": refused; then postgres://b:TWO@h2/y";
        let shown = redacted(message);
        assert!(!shown.contains("ONE") && !shown.contains("TWO"), "{shown}");
        assert_eq!(
            shown,
            "opening \"postgres://a:***@h1/x\": refused; then postgres://b:***@h2/y"
        );
    }

    #[test]
    fn a_sqlite_url_names_its_file_and_memory_names_none() {
        assert_eq!(
            sqlite_file("sqlite://data/esito.db"),
            Some(PathBuf::from("data/esito.db"))
        );
        assert_eq!(
            sqlite_file("sqlite:///var/esito.db?mode=rwc"),
            Some(PathBuf::from("/var/esito.db"))
        );
        assert_eq!(sqlite_file("sqlite::memory:"), None);
        assert_eq!(sqlite_file("sqlite://x.db?mode=memory"), None);
        assert_eq!(sqlite_file("postgres://u@h/db"), None);
    }
}
