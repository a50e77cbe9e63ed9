//! A stored log entry read for its facts: the fields `derive` and `template_named` look at,
//! borrowed from the stored text where they hold no escapes, and the payload read only when
//! something will look at it.
//!
//! Invariant: for a text the log stored (one [`esito_log::Entry`] read without error), the
//! [`StoredEntry::view`] of [`StoredEntry::parse`] derives the same facts and names the same
//! template as the view of the full `Entry`; so does that of [`StoredEntry::parse_for`] with
//! the definitions it was given. The rules the log checks when an entry is appended (no repeated
//! keys, exact integers, every field present) are not checked again here.

use std::borrow::Cow;
use std::collections::BTreeSet;
use std::fmt;

use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::definitions::Definitions;
use crate::facts::EntryView;

/// The event types whose payload [`crate::templates::template_named`] reads.
const TEMPLATE_EVENTS: [&str; 2] = ["ContractRegistered", "ContractAmended"];

/// The payload of an entry whose payload was not read: nothing looks at it.
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
    raw_payload: &'a RawValue,
    /// The payload, or the part of it that was read; `None` until it is read.
    payload: Option<Value>,
}

/// The fields read, as they appear in the text; the others are skipped unread.
#[derive(Deserialize)]
struct Fields<'a> {
    position: u64,
    #[serde(borrow, deserialize_with = "borrowed_str")]
    event_id: Cow<'a, str>,
    #[serde(borrow, deserialize_with = "borrowed_str")]
    event_type: Cow<'a, str>,
    #[serde(borrow, deserialize_with = "borrowed_str")]
    stream_id: Cow<'a, str>,
    #[serde(borrow, deserialize_with = "borrowed_str")]
    occurred_at: Cow<'a, str>,
    #[serde(default, borrow, deserialize_with = "present_borrowed_str")]
    corrects: Option<Cow<'a, str>>,
    #[serde(borrow)]
    payload: &'a RawValue,
}

impl<'a> StoredEntry<'a> {
    /// Reads a stored entry and its whole payload; `position` is where the text was stored,
    /// and is what an error names.
    pub fn parse(position: u64, text: &'a str) -> Result<Self, StoredError> {
        let mut entry = Self::parse_unread(position, text)?;
        entry.payload = Some(read_payload(position, entry.raw_payload, None)?);
        Ok(entry)
    }

    /// Reads a stored entry and, of its payload, only what `derive` with `definitions` (if
    /// any) and `template_named` read: nothing for an event type no indicator selects, the
    /// top-level fields the indicators read for one they do, all of it for an entry that may
    /// name a template. Its view derives the same facts as the full entry's with these
    /// definitions only.
    pub fn parse_for(
        position: u64,
        text: &'a str,
        definitions: Option<&Definitions>,
    ) -> Result<Self, StoredError> {
        let mut entry = Self::parse_unread(position, text)?;
        let event_type = entry.event_type.as_ref();
        if TEMPLATE_EVENTS.contains(&event_type) {
            entry.payload = Some(read_payload(position, entry.raw_payload, None)?);
        } else if let Some(fields) =
            definitions.and_then(|definitions| definitions.payload_fields_read(event_type))
        {
            entry.payload = Some(if fields.is_empty() {
                Value::Object(Map::new())
            } else {
                read_payload(position, entry.raw_payload, Some(fields))?
            });
        }
        Ok(entry)
    }

    fn parse_unread(position: u64, text: &'a str) -> Result<Self, StoredError> {
        let fields: Fields<'a> = serde_json::from_str(text).map_err(|error| StoredError {
            position,
            reason: error.to_string(),
        })?;
        if fields.position == 0 {
            return Err(StoredError {
                position,
                reason: "positions start at 1".to_owned(),
            });
        }
        if !fields.payload.get().starts_with('{') {
            return Err(StoredError {
                position,
                reason: "the payload is not a JSON object".to_owned(),
            });
        }
        Ok(Self {
            position: fields.position,
            event_id: fields.event_id,
            event_type: fields.event_type,
            stream_id: fields.stream_id,
            occurred_at: fields.occurred_at,
            corrects: fields.corrects,
            raw_payload: fields.payload,
            payload: None,
        })
    }

    /// The payload's text as stored.
    pub fn raw_payload(&self) -> &'a RawValue {
        self.raw_payload
    }

    /// The payload as read: all of it after [`StoredEntry::parse`], what the definitions need
    /// after [`StoredEntry::parse_for`], `None` if none of it was read.
    pub fn payload(&self) -> Option<&Value> {
        self.payload.as_ref()
    }

    /// Reads the whole payload, if only part of it (or none) was read.
    pub fn read_whole_payload(&mut self) -> Result<&Value, StoredError> {
        let whole = read_payload(self.position, self.raw_payload, None)?;
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

/// The payload object, with only the top-level fields in `keep` if it is given.
fn read_payload(
    position: u64,
    raw: &RawValue,
    keep: Option<&BTreeSet<String>>,
) -> Result<Value, StoredError> {
    let failed = |error: serde_json::Error| StoredError {
        position,
        reason: format!("the payload cannot be read: {error}"),
    };
    match keep {
        None => serde_json::from_str(raw.get()).map_err(failed),
        Some(keep) => {
            let mut deserializer = serde_json::Deserializer::from_str(raw.get());
            let value = Kept(keep).deserialize(&mut deserializer).map_err(failed)?;
            deserializer.end().map_err(failed)?;
            Ok(value)
        }
    }
}

/// Reads a JSON object into a `Value`, keeping only the members named in the set.
struct Kept<'k>(&'k BTreeSet<String>);

impl<'de> DeserializeSeed<'de> for Kept<'_> {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Kept<'_> {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut kept = Map::new();
        while let Some(key) = map.next_key_seed(BorrowedStr)? {
            if self.0.contains(key.as_ref()) {
                let value: Value = map.next_value()?;
                kept.insert(key.into_owned(), value);
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(Value::Object(kept))
    }
}

/// A string, borrowed from the text unless it holds an escape.
struct BorrowedStr;

impl<'de> DeserializeSeed<'de> for BorrowedStr {
    type Value = Cow<'de, str>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for BorrowedStr {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }

    fn visit_borrowed_str<E: de::Error>(self, text: &'de str) -> Result<Self::Value, E> {
        Ok(Cow::Borrowed(text))
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<Self::Value, E> {
        Ok(Cow::Owned(text.to_owned()))
    }

    fn visit_string<E: de::Error>(self, text: String) -> Result<Self::Value, E> {
        Ok(Cow::Owned(text))
    }
}

fn borrowed_str<'de: 'a, 'a, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Cow<'a, str>, D::Error> {
    BorrowedStr.deserialize(deserializer)
}

/// `corrects` is a string when present: the log never stores it as `null`.
fn present_borrowed_str<'de: 'a, 'a, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Option<Cow<'a, str>>, D::Error> {
    BorrowedStr.deserialize(deserializer).map(Some)
}
