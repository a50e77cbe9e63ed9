//! A stored log entry read for its facts: the fields `derive` and `template_named` look at,
//! borrowed from the stored text where they hold no escapes, and of the payload only what
//! something will look at.
//!
//! Invariant: for a text the log stored (one [`esito_log::Entry`] reads without error), the
//! [`StoredEntry::view`] of [`StoredEntry::parse`] derives the same facts and names the same
//! template as the view of the full `Entry`; so does that of [`StoredEntry::parse_for`] with
//! the definitions it was given.
//!
//! The text is not read by `serde_json`, which checks all of it: the log checked the whole text
//! (its syntax, no repeated or unknown members, exact integers) when the entry was appended,
//! and checking it again is most of the cost of reading it. A scanner finds the members and
//! the ends of the values it skips without checking what those hold. A text in the log's own
//! layout (RFC 8785, as `Entry::canonical_json` writes it) is read from both ends, so that the
//! payload's end is found without reading the payload; any other text is scanned from the
//! start. What is read is checked: a text cut short, a member read that is missing, not a
//! string, or (where the scanner meets it) repeated, a position that is not a positive integer
//! and a payload that is not an object are refused, and the payload values that are read go
//! through `serde_json`.

use std::borrow::Cow;
use std::ops::ControlFlow;

use serde_json::{Map, Value};

use crate::definitions::Definitions;
use crate::facts::EntryView;

/// The event types whose payload [`crate::templates::template_named`] reads.
const TEMPLATE_EVENTS: [&str; 2] = ["ContractRegistered", "ContractAmended"];

/// The payload of an entry none of whose payload was read: nothing looks at it.
static UNREAD: Value = Value::Null;

/// A stored entry's text that cannot be read as an entry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("position {position}: the stored entry cannot be read: {reason}")]
pub struct StoredError {
    /// The position the text was stored at.
    pub position: u64,
    pub reason: String,
}

/// A stored entry: the fields facts are derived from, and its payload as stored.
#[derive(Debug, Clone)]
pub struct StoredEntry<'a> {
    pub position: u64,
    pub event_id: Cow<'a, str>,
    pub event_type: Cow<'a, str>,
    pub stream_id: Cow<'a, str>,
    pub occurred_at: Cow<'a, str>,
    /// The `event_id` of the entry this one corrects, if any.
    pub corrects: Option<Cow<'a, str>>,
    raw_payload: &'a str,
    /// The payload, or the part of it that was read; `None` until some of it is read.
    payload: Option<Value>,
}

impl<'a> StoredEntry<'a> {
    /// Reads a stored entry and its whole payload; `position` is where the text was stored,
    /// and is what an error names.
    pub fn parse(position: u64, text: &'a str) -> Result<Self, StoredError> {
        let mut entry = Self::read(position, text)?;
        entry.payload = Some(whole_payload(position, entry.raw_payload)?);
        Ok(entry)
    }

    /// Reads a stored entry and, of its payload, only what `derive` with `definitions` (if
    /// any) and `template_named` read: nothing for an event type no indicator selects, the
    /// top-level members the indicators read for one they do, all of it for an entry that may
    /// name a template. Its view derives the same facts as the full entry's with these
    /// definitions only.
    pub fn parse_for(
        position: u64,
        text: &'a str,
        definitions: Option<&Definitions>,
    ) -> Result<Self, StoredError> {
        let mut entry = Self::read(position, text)?;
        let event_type = entry.event_type.as_ref();
        if TEMPLATE_EVENTS.contains(&event_type) {
            entry.payload = Some(whole_payload(position, entry.raw_payload)?);
        } else if let Some(fields) =
            definitions.and_then(|definitions| definitions.payload_fields_read(event_type))
        {
            let mut kept = Map::new();
            if !fields.is_empty() {
                let mut scanner = Scanner::new(position, entry.raw_payload);
                scanner.object(|scanner, key| {
                    if !fields.iter().any(|field| *field == key) {
                        scanner.skip_value()?;
                        return Ok(ControlFlow::Continue(()));
                    }
                    kept.insert(key.into_owned(), scanner.value()?);
                    // A stored payload repeats no key: the members after the last one read
                    // do not matter.
                    Ok(if kept.len() == fields.len() {
                        ControlFlow::Break(())
                    } else {
                        ControlFlow::Continue(())
                    })
                })?;
            }
            entry.payload = Some(Value::Object(kept));
        }
        Ok(entry)
    }

    /// The members facts are derived from; the payload left unread.
    fn read(position: u64, text: &'a str) -> Result<Self, StoredError> {
        match Self::read_canonical(position, text) {
            Some(entry) => Ok(entry),
            None => Self::read_any(position, text),
        }
    }

    /// [`StoredEntry::read`] for a text laid out as the log writes it (RFC 8785: the members
    /// in order, no white space), `None` for any other. The members before the payload are
    /// read from the start, those after it from the end, so that the payload is found without
    /// reading it: the text holds each member once and no other, so what lies between is the
    /// payload. The strings read from the end hold no escape (else it is `None`), hence no
    /// quote, so each is read exactly.
    fn read_canonical(position: u64, text: &'a str) -> Option<Self> {
        let mut scanner = Scanner::new(position, text);
        scanner.literal(b"{\"contract_id\":")?;
        scanner.skip_value().ok()?;
        let corrects = match scanner.literal(b",\"corrects\":") {
            Some(()) => Some(scanner.string("corrects").ok()?),
            None => None,
        };
        scanner.literal(b",\"event_id\":")?;
        let event_id = scanner.string("event_id").ok()?;
        scanner.literal(b",\"event_type\":")?;
        let event_type = scanner.string("event_type").ok()?;
        scanner.literal(b",\"occurred_at\":")?;
        let occurred_at = scanner.string("occurred_at").ok()?;
        scanner.literal(b",\"payload\":")?;
        let payload_start = scanner.at;
        let end = text.len().checked_sub(1)?;
        if text.as_bytes().get(end) != Some(&b'}') {
            return None;
        }
        // From the last member back to the position, which follows the payload.
        let (end, _) = member_before(text, end, b",\"stream_type\":", Is::String)?;
        let (end, _) = member_before(text, end, b",\"stream_seq\":", Is::Number)?;
        let (end, stream_id) = member_before(text, end, b",\"stream_id\":", Is::String)?;
        let (end, _) = member_before(text, end, b",\"schema_version\":", Is::Number)?;
        let (end, _) = member_before(text, end, b",\"recorded_by\":", Is::String)?;
        let (end, _) = member_before(text, end, b",\"recorded_at\":", Is::String)?;
        let (end, position_digits) = member_before(text, end, b",\"position\":", Is::Number)?;
        let raw_payload = text.get(payload_start..end)?;
        if !(raw_payload.starts_with('{') && raw_payload.ends_with('}')) {
            return None;
        }
        // What lies between is the payload only if it is one object: a member the format
        // does not have, after the payload, would otherwise be read as part of it.
        scanner.skip_value().ok()?;
        if scanner.at != end {
            return None;
        }
        let position = position_digits
            .parse()
            .ok()
            .filter(|position| *position > 0)?;
        Some(Self {
            position,
            event_id,
            event_type,
            stream_id: Cow::Borrowed(stream_id),
            occurred_at,
            corrects,
            raw_payload,
            payload: None,
        })
    }

    /// [`StoredEntry::read`] for a text of any layout.
    fn read_any(position: u64, text: &'a str) -> Result<Self, StoredError> {
        let mut scanner = Scanner::new(position, text);
        let mut read = Read::default();
        scanner.object(|scanner, key| {
            match key.as_ref() {
                "position" => {
                    let number = scanner.position()?;
                    scanner.fill(&mut read.position, number, "position")?;
                }
                "payload" => {
                    let payload = scanner.payload()?;
                    scanner.fill(&mut read.payload, payload, "payload")?;
                }
                "event_id" => scanner.string_into(&mut read.event_id, "event_id")?,
                "event_type" => scanner.string_into(&mut read.event_type, "event_type")?,
                "stream_id" => scanner.string_into(&mut read.stream_id, "stream_id")?,
                "occurred_at" => scanner.string_into(&mut read.occurred_at, "occurred_at")?,
                "corrects" => scanner.string_into(&mut read.corrects, "corrects")?,
                _ => scanner.skip_value()?,
            }
            Ok(ControlFlow::Continue(()))
        })?;
        scanner.end()?;
        let missing = |name: &str| scanner.fail(format!("missing field `{name}`"));
        let entry = Self {
            position: read.position.ok_or_else(|| missing("position"))?,
            event_id: read.event_id.ok_or_else(|| missing("event_id"))?,
            event_type: read.event_type.ok_or_else(|| missing("event_type"))?,
            stream_id: read.stream_id.ok_or_else(|| missing("stream_id"))?,
            occurred_at: read.occurred_at.ok_or_else(|| missing("occurred_at"))?,
            corrects: read.corrects,
            raw_payload: read.payload.ok_or_else(|| missing("payload"))?,
            payload: None,
        };
        if entry.position == 0 {
            return Err(scanner.fail("positions start at 1".to_owned()));
        }
        Ok(entry)
    }

    /// The payload's text as stored: a JSON object.
    pub fn raw_payload(&self) -> &'a str {
        self.raw_payload
    }

    /// The payload as read: all of it after [`StoredEntry::parse`], what the definitions need
    /// after [`StoredEntry::parse_for`], `None` if none of it was read.
    pub fn payload(&self) -> Option<&Value> {
        self.payload.as_ref()
    }

    /// Reads the whole payload, if only part of it (or none) was read; an error names the
    /// entry's position.
    pub fn read_whole_payload(&mut self) -> Result<&Value, StoredError> {
        let whole = whole_payload(self.position, self.raw_payload)?;
        Ok(self.payload.insert(whole))
    }

    /// The fields facts are derived from; the payload is `null` if none of it was read.
    pub fn view(&self) -> EntryView<'_> {
        EntryView {
            position: self.position,
            event_id: &self.event_id,
            event_type: &self.event_type,
            stream_id: &self.stream_id,
            occurred_at: &self.occurred_at,
            corrects: self.corrects.as_deref(),
            payload: self.payload.as_ref().unwrap_or(&UNREAD),
        }
    }
}

/// A payload's text read whole by `serde_json`.
fn whole_payload(position: u64, raw: &str) -> Result<Value, StoredError> {
    serde_json::from_str(raw).map_err(|error| StoredError {
        position,
        reason: format!("the payload cannot be read: {error}"),
    })
}

/// What a member read backwards holds.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Is {
    String,
    Number,
}

/// The member `,"name":value` (`key` being `,"name":`) that ends where `end` is, read
/// backwards: the index of its comma, and its value's text (a string's without its quotes).
/// `None` if the text does not end so, or if a string value holds an escape.
fn member_before<'a, const N: usize>(
    text: &'a str,
    end: usize,
    key: &[u8; N],
    is: Is,
) -> Option<(usize, &'a str)> {
    let bytes = text.as_bytes();
    let value_start = match is {
        Is::String => {
            let close = end.checked_sub(1)?;
            if bytes.get(close) != Some(&b'"') {
                return None;
            }
            let open = last_quote_or_backslash(bytes, close)?;
            if bytes[open] != b'"' {
                return None;
            }
            open
        }
        Is::Number => {
            let digits = bytes[..end]
                .iter()
                .rev()
                .take_while(|byte| byte.is_ascii_digit())
                .count();
            if digits == 0 {
                return None;
            }
            end - digits
        }
    };
    let comma = value_start.checked_sub(N)?;
    if bytes.get(comma..value_start)? != key {
        return None;
    }
    let value = match is {
        Is::String => text.get(value_start + 1..end - 1)?,
        Is::Number => text.get(value_start..end)?,
    };
    Some((comma, value))
}

/// The members read so far.
#[derive(Default)]
struct Read<'a> {
    position: Option<u64>,
    event_id: Option<Cow<'a, str>>,
    event_type: Option<Cow<'a, str>>,
    stream_id: Option<Cow<'a, str>>,
    occurred_at: Option<Cow<'a, str>>,
    corrects: Option<Cow<'a, str>>,
    payload: Option<&'a str>,
}

/// Reads JSON text from left to right.
struct Scanner<'a> {
    position: u64,
    text: &'a str,
    at: usize,
}

impl<'a> Scanner<'a> {
    fn new(position: u64, text: &'a str) -> Self {
        Self {
            position,
            text,
            at: 0,
        }
    }

    fn fail(&self, reason: String) -> StoredError {
        StoredError {
            position: self.position,
            reason,
        }
    }

    /// A failure at the scanner's place in the text.
    fn fail_here(&self, what: &str) -> StoredError {
        match self.peek() {
            None => self.fail(format!("the text ends where {what} should be")),
            Some(found) => self.fail(format!(
                "{what} expected at byte {}, found `{}`",
                self.at,
                char::from(found).escape_default()
            )),
        }
    }

    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.at).copied()
    }

    fn skip_space(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.at += 1;
        }
    }

    /// Takes `byte`, after any white space.
    fn take(&mut self, byte: u8, what: &str) -> Result<(), StoredError> {
        self.skip_space();
        if self.peek() == Some(byte) {
            self.at += 1;
            Ok(())
        } else {
            Err(self.fail_here(what))
        }
    }

    /// Reads an object, calling `member` with the scanner at each member's value, until the
    /// object ends or `member` breaks.
    fn object(
        &mut self,
        mut member: impl FnMut(&mut Self, Cow<'a, str>) -> Result<ControlFlow<()>, StoredError>,
    ) -> Result<(), StoredError> {
        self.take(b'{', "`{`")?;
        self.skip_space();
        if self.peek() == Some(b'}') {
            self.at += 1;
            return Ok(());
        }
        loop {
            self.skip_space();
            let key = self.string("a member name")?;
            self.take(b':', "`:`")?;
            self.skip_space();
            if member(self, key)?.is_break() {
                return Ok(());
            }
            self.skip_space();
            match self.peek() {
                Some(b',') => self.at += 1,
                Some(b'}') => {
                    self.at += 1;
                    return Ok(());
                }
                _ => return Err(self.fail_here("`,` or `}`")),
            }
        }
    }

    /// Nothing but white space is left.
    fn end(&mut self) -> Result<(), StoredError> {
        self.skip_space();
        match self.peek() {
            None => Ok(()),
            Some(_) => Err(self.fail_here("the end of the text")),
        }
    }

    /// The index of the string's closing quote, the scanner being at its opening one, and
    /// whether it holds an escape.
    fn string_end(&self) -> Result<(usize, bool), StoredError> {
        let bytes = self.text.as_bytes();
        let mut escaped = false;
        let mut at = self.at + 1;
        loop {
            match quote_or_backslash(bytes, at) {
                Some(found) if bytes[found] == b'"' => return Ok((found, escaped)),
                Some(found) => {
                    escaped = true;
                    at = found + 2;
                }
                None => return Err(self.fail("the text ends inside a string".to_owned())),
            }
        }
    }

    /// Takes `literal` if the text goes on with it.
    fn literal<const N: usize>(&mut self, literal: &[u8; N]) -> Option<()> {
        if self.text.as_bytes().get(self.at..self.at + N)? == literal {
            self.at += N;
            Some(())
        } else {
            None
        }
    }

    /// Fills a member's slot, refusing a member given twice.
    fn fill<T>(&self, slot: &mut Option<T>, value: T, name: &str) -> Result<(), StoredError> {
        if slot.is_some() {
            return Err(self.fail(format!("duplicate field `{name}`")));
        }
        *slot = Some(value);
        Ok(())
    }

    /// Reads a string member into its slot.
    fn string_into(
        &mut self,
        slot: &mut Option<Cow<'a, str>>,
        name: &str,
    ) -> Result<(), StoredError> {
        let text = self.string(name)?;
        self.fill(slot, text, name)
    }

    /// A string, borrowed from the text unless it holds an escape; `what` names it in an error.
    fn string(&mut self, what: &str) -> Result<Cow<'a, str>, StoredError> {
        if self.peek() != Some(b'"') {
            return Err(self.fail_here(&format!("{what} (a string)")));
        }
        let (end, escaped) = self.string_end()?;
        let quoted = &self.text[self.at..=end];
        self.at = end + 1;
        if escaped {
            serde_json::from_str(quoted)
                .map(Cow::Owned)
                .map_err(|error| self.fail(format!("{what}: {error}")))
        } else {
            Ok(Cow::Borrowed(&quoted[1..quoted.len() - 1]))
        }
    }

    /// The entry's position: a positive integer.
    fn position(&mut self) -> Result<u64, StoredError> {
        let start = self.at;
        let mut number: u64 = 0;
        while let Some(digit @ b'0'..=b'9') = self.peek() {
            number = number
                .checked_mul(10)
                .and_then(|number| number.checked_add(u64::from(digit - b'0')))
                .ok_or_else(|| self.fail("the position is too large".to_owned()))?;
            self.at += 1;
        }
        let ends = matches!(
            self.peek(),
            None | Some(b',' | b'}' | b' ' | b'\t' | b'\n' | b'\r')
        );
        if self.at == start || !ends {
            return Err(self.fail_here("the position (a positive integer)"));
        }
        Ok(number)
    }

    /// The payload's text: an object.
    fn payload(&mut self) -> Result<&'a str, StoredError> {
        if self.peek() != Some(b'{') {
            return Err(self.fail("the payload is not a JSON object".to_owned()));
        }
        let start = self.at;
        self.skip_value()?;
        Ok(&self.text[start..self.at])
    }

    /// A value, read by `serde_json` unless it is a string.
    fn value(&mut self) -> Result<Value, StoredError> {
        if self.peek() == Some(b'"') {
            return self
                .string("a payload value")
                .map(|text| Value::String(text.into_owned()));
        }
        let start = self.at;
        self.skip_value()?;
        serde_json::from_str(&self.text[start..self.at])
            .map_err(|error| self.fail(format!("the payload cannot be read: {error}")))
    }

    /// Moves past a value, finding where it ends but not checking what it holds.
    fn skip_value(&mut self) -> Result<(), StoredError> {
        let bytes = self.text.as_bytes();
        match self.peek() {
            Some(b'"') => {
                self.at = self.string_end()?.0 + 1;
                Ok(())
            }
            Some(b'{' | b'[') => {
                let mut depth = 0usize;
                loop {
                    match bytes.get(self.at) {
                        Some(b'"') => {
                            self.at = self.string_end()?.0;
                        }
                        Some(b'{' | b'[') => depth += 1,
                        Some(b'}' | b']') => {
                            depth -= 1;
                            if depth == 0 {
                                self.at += 1;
                                return Ok(());
                            }
                        }
                        Some(_) => {}
                        None => return Err(self.fail("the text ends inside a value".to_owned())),
                    }
                    self.at += 1;
                }
            }
            Some(b'}' | b']' | b',' | b':') | None => Err(self.fail_here("a value")),
            Some(_) => {
                let start = self.at;
                while !matches!(
                    self.peek(),
                    None | Some(b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r')
                ) {
                    self.at += 1;
                }
                if self.at == start {
                    return Err(self.fail_here("a value"));
                }
                Ok(())
            }
        }
    }
}

const ONES: u64 = 0x0101_0101_0101_0101;
const QUOTES: u64 = ONES * b'"' as u64;
const BACKSLASHES: u64 = ONES * b'\\' as u64;

/// The index of the first `"` or `\` at or after `at`, looking at eight bytes at a time.
fn quote_or_backslash(bytes: &[u8], mut at: usize) -> Option<usize> {
    const HIGHS: u64 = 0x8080_8080_8080_8080;
    while let Some(chunk) = bytes.get(at..at + 8) {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let word = u64::from_le_bytes(word);
        // A byte of `x` is zero where `word` holds the byte sought; the lowest bit of
        // `(x - ONES) & !x & HIGHS` marks the first such byte (higher ones may be false).
        let quotes = word ^ QUOTES;
        let backslashes = word ^ BACKSLASHES;
        let found = (quotes.wrapping_sub(ONES) & !quotes
            | backslashes.wrapping_sub(ONES) & !backslashes)
            & HIGHS;
        if found != 0 {
            return Some(at + (found.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    bytes
        .get(at..)?
        .iter()
        .position(|byte| matches!(byte, b'"' | b'\\'))
        .map(|found| at + found)
}

/// The index of the last `"` or `\` before `end`, looking at eight bytes at a time.
fn last_quote_or_backslash(bytes: &[u8], mut end: usize) -> Option<usize> {
    const LOWS: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    // The high bit of each byte of `x` that is zero, and only of those.
    let zeros = |x: u64| !((x & LOWS).wrapping_add(LOWS) | x | LOWS);
    while end >= 8 {
        let mut word = [0u8; 8];
        word.copy_from_slice(bytes.get(end - 8..end)?);
        let word = u64::from_le_bytes(word);
        let found = zeros(word ^ QUOTES) | zeros(word ^ BACKSLASHES);
        if found != 0 {
            return Some(end - 1 - (found.leading_zeros() / 8) as usize);
        }
        end -= 8;
    }
    bytes
        .get(..end)?
        .iter()
        .rposition(|byte| matches!(byte, b'"' | b'\\'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn entry(event_id: &str, stream_id: &str, corrects: Option<&str>) -> esito_log::Entry {
        esito_log::Entry {
            contract_id: "c\"1".to_owned(),
            position: 12,
            event_id: event_id.to_owned(),
            stream_type: "order".to_owned(),
            stream_id: stream_id.to_owned(),
            stream_seq: 3,
            event_type: "OrderPlaced".to_owned(),
            schema_version: 1,
            occurred_at: "2024-03-02T10:15:02+01:00".to_owned(),
            recorded_at: "2024-03-02T09:15:02.123456Z".to_owned(),
            recorded_by: "user:ada".to_owned(),
            corrects: corrects.map(str::to_owned),
            payload: json!({"channel": "online", "nested": {"a": ["}", "\"{"]}, "price": "4.00"}),
        }
    }

    type Fields<'a> = (
        u64,
        &'a str,
        &'a str,
        &'a str,
        &'a str,
        Option<&'a str>,
        &'a str,
    );

    fn fields<'a>(entry: &'a StoredEntry<'_>) -> Fields<'a> {
        (
            entry.position,
            &entry.event_id,
            &entry.event_type,
            &entry.stream_id,
            &entry.occurred_at,
            entry.corrects.as_deref(),
            entry.raw_payload,
        )
    }

    #[test]
    fn a_text_in_the_logs_layout_is_read_from_both_ends_as_the_scanner_reads_it() {
        for entry in [
            entry("e1", "o-1", None),
            entry("e\u{e8}\"2", "o-2", Some("e\\1")),
            entry("e3", "", Some("e1")),
        ] {
            let text = entry.canonical_json();
            let both_ends = StoredEntry::read_canonical(12, &text).expect("the log's layout");
            let scanned = StoredEntry::read_any(12, &text).expect("an entry");
            assert_eq!(fields(&both_ends), fields(&scanned), "{text}");
            assert_eq!(
                serde_json::from_str::<Value>(both_ends.raw_payload).ok(),
                Some(entry.payload)
            );
        }
    }

    #[test]
    fn a_text_in_another_layout_or_with_an_escape_after_the_payload_is_scanned() {
        let entry = entry("e1", "o\\1", None);
        let escaped = entry.canonical_json();
        let plain = serde_json::to_string(&entry).expect("an entry serializes");
        let spaced = escaped.replace(",\"position\":", ", \"position\": ");
        for text in [escaped, plain, spaced] {
            assert!(StoredEntry::read_canonical(12, &text).is_none(), "{text}");
            let read = StoredEntry::read(12, &text).expect("an entry");
            assert_eq!(read.stream_id, "o\\1");
        }
    }

    #[test]
    fn the_eight_byte_search_finds_the_first_quote_or_backslash_wherever_it_is() {
        for length in 0..40 {
            for place in 0..=length {
                for sought in [b'"', b'\\'] {
                    let mut bytes = vec![b'a'; length];
                    if place < length {
                        bytes[place] = sought;
                        // Bytes that differ from the sought ones by one bit, and the other.
                        for (at, byte) in bytes.iter_mut().enumerate().skip(place + 1) {
                            *byte = [b'"', b'\\', b'#', b'!', 0x80, b'a'][at % 6];
                        }
                    }
                    for start in 0..=place.min(length) {
                        let expected = bytes[start..]
                            .iter()
                            .position(|byte| matches!(byte, b'"' | b'\\'))
                            .map(|found| start + found);
                        assert_eq!(quote_or_backslash(&bytes, start), expected);
                    }
                }
            }
        }
        assert_eq!(quote_or_backslash(b"abc", 5), None);
    }

    #[test]
    fn the_eight_byte_search_backwards_finds_the_last_quote_or_backslash_wherever_it_is() {
        for length in 0..40 {
            for place in 0..=length {
                for sought in [b'"', b'\\'] {
                    let mut bytes = vec![b'a'; length];
                    if place < length {
                        bytes[place] = sought;
                        for (at, byte) in bytes.iter_mut().enumerate().take(place) {
                            *byte = [b'"', b'\\', b'#', b'!', 0x80, 0xa2, b'a'][at % 7];
                        }
                    }
                    for end in place..=length {
                        let expected = bytes[..end]
                            .iter()
                            .rposition(|byte| matches!(byte, b'"' | b'\\'));
                        assert_eq!(last_quote_or_backslash(&bytes, end), expected);
                    }
                }
            }
        }
        assert_eq!(last_quote_or_backslash(b"abc", 5), None);
    }
}
