//! The language of a page: Italian unless the reader asks for English, by `?lang=`, by the
//! cookie `esito_lang` that remembers that choice, or by `Accept-Language`, in that order.

use axum::extract::Request;
use axum::http::header::{ACCEPT_LANGUAGE, COOKIE, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;

use crate::labels;

/// The cookie that remembers a reader's language.
pub const COOKIE_NAME: &str = "esito_lang";
/// How long the choice is remembered: a year.
const COOKIE_SECONDS: u32 = 365 * 24 * 60 * 60;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    It,
    En,
}

impl Lang {
    pub fn code(self) -> &'static str {
        match self {
            Lang::It => "it",
            Lang::En => "en",
        }
    }

    pub fn parse(text: &str) -> Option<Lang> {
        match text.trim().to_ascii_lowercase().as_str() {
            "it" => Some(Lang::It),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// The other language: what the switch in the header offers.
    pub fn other(self) -> Lang {
        match self {
            Lang::It => Lang::En,
            Lang::En => Lang::It,
        }
    }

    /// The page's text for `key` in this language (`labels::LABELS`).
    pub fn t(self, key: &str) -> &'static str {
        labels::text(self, key)
    }

    /// One of two texts that come in both languages (an indicator's label, say).
    pub fn pick<'a>(self, it: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::It => it,
            Lang::En => en,
        }
    }
}

/// The value of cookie `name` in the request's `Cookie` headers.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

/// The `lang` the query asks for, if any.
fn asked(query: Option<&str>) -> Option<Lang> {
    query?
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(key, _)| *key == "lang")
        .and_then(|(_, value)| Lang::parse(value))
}

/// The first of Italian and English the reader's `Accept-Language` names, by preference.
fn accepted(headers: &HeaderMap) -> Option<Lang> {
    let text = headers.get(ACCEPT_LANGUAGE)?.to_str().ok()?;
    let mut ranked: Vec<(u16, usize, Lang)> = text
        .split(',')
        .enumerate()
        .filter_map(|(index, item)| {
            let mut parts = item.split(';');
            let tag = parts.next()?.trim().to_ascii_lowercase();
            let primary = tag.split('-').next()?;
            let lang = Lang::parse(primary)?;
            let quality = parts
                .filter_map(|part| part.trim().strip_prefix("q="))
                .find_map(thousandths)
                .unwrap_or(1000);
            (quality > 0).then_some((quality, index, lang))
        })
        .collect();
    ranked.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    ranked.first().map(|(_, _, lang)| *lang)
}

/// A quality value in thousandths: `1`, `0.8`, `0.125` (RFC 9110 §12.4.2: at most three
/// decimals, at most 1).
fn thousandths(q: &str) -> Option<u16> {
    let (whole, decimals) = q.trim().split_once('.').unwrap_or((q.trim(), ""));
    if decimals.len() > 3 || !decimals.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let whole: u16 = whole.parse().ok()?;
    let decimals: u16 = format!("{decimals:0<3}").parse().ok()?;
    let value = whole.checked_mul(1000)?.checked_add(decimals)?;
    (value <= 1000).then_some(value)
}

/// The language of a request: `?lang=`, then the cookie, then `Accept-Language`, then Italian.
pub fn of(query: Option<&str>, headers: &HeaderMap) -> Lang {
    asked(query)
        .or_else(|| cookie(headers, COOKIE_NAME).and_then(Lang::parse))
        .or_else(|| accepted(headers))
        .unwrap_or_default()
}

/// Puts the request's language in its extensions for the handlers, and remembers a `?lang=`
/// in the cookie.
pub async fn negotiate(mut request: Request, next: Next) -> Response {
    let query = request.uri().query().map(str::to_owned);
    let lang = of(query.as_deref(), request.headers());
    let remember = asked(query.as_deref()).is_some();
    request.extensions_mut().insert(lang);
    let mut response = next.run(request).await;
    if remember {
        let cookie = format!(
            "{COOKIE_NAME}={}; Path=/; Max-Age={COOKIE_SECONDS}; SameSite=Lax",
            lang.code()
        );
        response.headers_mut().append(
            SET_COOKIE,
            HeaderValue::from_str(&cookie).expect("a language cookie is ASCII"),
        );
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.append(
                axum::http::HeaderName::from_bytes(name.as_bytes()).expect("a name"),
                HeaderValue::from_str(value).expect("a value"),
            );
        }
        headers
    }

    #[test]
    fn italian_is_the_default() {
        assert_eq!(of(None, &HeaderMap::new()), Lang::It);
        assert_eq!(
            of(None, &headers(&[("accept-language", "de-DE")])),
            Lang::It
        );
    }

    #[test]
    fn the_first_of_italian_and_english_the_reader_accepts_wins() {
        let en = headers(&[("accept-language", "de;q=1, en-GB;q=0.8, it;q=0.5")]);
        assert_eq!(of(None, &en), Lang::En);
        let it = headers(&[("accept-language", "en;q=0.3, it-IT")]);
        assert_eq!(of(None, &it), Lang::It);
        let order = headers(&[("accept-language", "en-US, it")]);
        assert_eq!(of(None, &order), Lang::En);
    }

    #[test]
    fn the_query_beats_the_cookie_which_beats_the_header() {
        let both = headers(&[("accept-language", "en"), ("cookie", "a=b; esito_lang=it")]);
        assert_eq!(of(None, &both), Lang::It);
        assert_eq!(of(Some("x=1&lang=en"), &both), Lang::En);
    }
}
