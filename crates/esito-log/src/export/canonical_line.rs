//! The quick reading of an entry line exactly as the service writes it: one pass over the bytes
//! that checks they are already in canonical form, then the leaf hash of those same bytes, with
//! nothing parsed into values and nothing written again.
//!
//! An entry line the service writes is `{"position":n,"leaf_hash":"hex","entry":E}` where `E`
//! is the entry's RFC 8785 form, so canonicalizing `E` gives `E` back. This reading accepts only
//! a narrow, unambiguous subset of such lines: no whitespace, every string free of escapes and
//! control characters, every object key ASCII and greater than the one before, every number an
//! integer within ±(2^53 − 1) written without sign of zero, fraction or exponent, nesting at
//! most [`MAX_DEPTH`] deep. Everything else (a checkpoint line, an escaped string, a decimal
//! number, a line edited by hand) is left to the full reading.
//!
//! Invariant: whenever [`read`] returns an entry, the full reading of the same bytes
//! ([`ParsedLine::read`](super::line::ParsedLine::read)) returns an entry with the same
//! position, written hash, entry position, contract and leaf hash. The property test in
//! `export::tests` holds the two readings to that over generated and altered lines.

use crate::hash::{leaf_hash, Hash};
use crate::jcs::MAX_EXACT_INTEGER;

/// Deeper values go to the full reading, well inside `serde_json`'s own limit of 128.
const MAX_DEPTH: usize = 64;

/// What the quick reading learns from an entry line.
#[derive(Debug, PartialEq, Eq)]
pub(super) struct CanonicalEntryLine<'a> {
    pub(super) position: u64,
    pub(super) written: Hash,
    pub(super) entry_position: u64,
    pub(super) contract_id: &'a str,
    pub(super) leaf: Hash,
}

/// The line, if it is an entry line in the subset the module documentation describes; `None`
/// leaves it to the full reading.
pub(super) fn read(line: &[u8]) -> Option<CanonicalEntryLine<'_>> {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let mut scan = Scan::new(line.strip_prefix(b"{\"position\":")?);
    let position = scan.integer()?;
    scan.literal(b",\"leaf_hash\":\"")?;
    let written = scan.hex_hash()?;
    scan.literal(b"\",\"entry\":")?;
    let entry_start = scan.at;
    let fields = scan.entry()?;
    let entry = &scan.bytes[entry_start..scan.at];
    scan.literal(b"}")?;
    if !scan.is_done() {
        return None;
    }
    // Every string was checked for escapes and control characters but not for UTF-8; the whole
    // entry is checked at once, as the full reading checks the whole line.
    std::str::from_utf8(entry).ok()?;
    let contract_id = std::str::from_utf8(fields.contract_id).ok()?;
    Some(CanonicalEntryLine {
        position,
        written,
        entry_position: fields.position,
        contract_id,
        leaf: leaf_hash(entry),
    })
}

/// The entry members the verifier reads.
struct EntryFields<'a> {
    contract_id: &'a [u8],
    position: u64,
}

/// A cursor over the bytes of a line.
struct Scan<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Scan<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Scan { bytes, at: 0 }
    }

    fn is_done(&self) -> bool {
        self.at == self.bytes.len()
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    fn literal(&mut self, expected: &[u8]) -> Option<()> {
        if self.bytes[self.at..].starts_with(expected) {
            self.at += expected.len();
            Some(())
        } else {
            None
        }
    }

    /// A non-negative integer within ±(2^53 − 1), with no leading zero.
    fn integer(&mut self) -> Option<u64> {
        let start = self.at;
        let mut value: u64 = 0;
        while let Some(byte @ b'0'..=b'9') = self.peek() {
            value = value.checked_mul(10)?.checked_add(u64::from(byte - b'0'))?;
            self.at += 1;
        }
        let digits = self.at - start;
        let leading_zero = digits > 1 && self.bytes[start] == b'0';
        let fraction_or_exponent = matches!(self.peek(), Some(b'.' | b'e' | b'E'));
        if digits == 0 || leading_zero || fraction_or_exponent || value > MAX_EXACT_INTEGER {
            return None;
        }
        Some(value)
    }

    /// Any integer the subset allows: [`Scan::integer`], or its negative when not zero.
    fn signed_integer(&mut self) -> Option<()> {
        if self.peek() == Some(b'-') {
            self.at += 1;
            // "-0" is written "0" in canonical form.
            return (self.integer()? != 0).then_some(());
        }
        self.integer().map(|_| ())
    }

    /// 64 lowercase hex digits, as the service writes a hash.
    fn hex_hash(&mut self) -> Option<Hash> {
        let digits = self.bytes.get(self.at..self.at + 64)?;
        if !digits
            .iter()
            .all(|byte| matches!(byte, b'0'..=b'9' | b'a'..=b'f'))
        {
            return None;
        }
        self.at += 64;
        std::str::from_utf8(digits).ok()?.parse().ok()
    }

    /// A string with no escape and no control character, whose canonical form is itself;
    /// returns its contents.
    fn string(&mut self) -> Option<&'a [u8]> {
        if self.peek() != Some(b'"') {
            return None;
        }
        let start = self.at + 1;
        let length = self.bytes[start..]
            .iter()
            .position(|&byte| byte == b'"' || byte == b'\\' || byte < 0x20)?;
        let end = start + length;
        if self.bytes[end] != b'"' {
            return None;
        }
        self.at = end + 1;
        Some(&self.bytes[start..end])
    }

    /// `"name":` for one of the entry's members.
    fn member(&mut self, name: &[u8]) -> Option<()> {
        self.literal(b"\"")?;
        self.literal(name)?;
        self.literal(b"\":")
    }

    /// The entry object, its members in canonical order, each of the type the entry reader
    /// takes and within the entry rules.
    fn entry(&mut self) -> Option<EntryFields<'a>> {
        self.literal(b"{")?;
        self.member(b"contract_id")?;
        let contract_id = self.string()?;
        if self.bytes[self.at..].starts_with(b",\"corrects\":") {
            self.literal(b",")?;
            self.member(b"corrects")?;
            self.string()?;
        }
        for name in [&b"event_id"[..], b"event_type", b"occurred_at"] {
            self.literal(b",")?;
            self.member(name)?;
            self.string()?;
        }
        self.literal(b",")?;
        self.member(b"payload")?;
        if self.peek() != Some(b'{') {
            return None;
        }
        self.value(0)?;
        self.literal(b",")?;
        self.member(b"position")?;
        let position = self.integer()?;
        for name in [&b"recorded_at"[..], b"recorded_by"] {
            self.literal(b",")?;
            self.member(name)?;
            self.string()?;
        }
        self.literal(b",")?;
        self.member(b"schema_version")?;
        u32::try_from(self.integer()?).ok()?;
        self.literal(b",")?;
        self.member(b"stream_id")?;
        self.string()?;
        self.literal(b",")?;
        self.member(b"stream_seq")?;
        self.integer()?;
        self.literal(b",")?;
        self.member(b"stream_type")?;
        self.string()?;
        self.literal(b"}")?;
        (position != 0).then_some(EntryFields {
            contract_id,
            position,
        })
    }

    /// Any value of the subset.
    fn value(&mut self, depth: usize) -> Option<()> {
        if depth > MAX_DEPTH {
            return None;
        }
        match self.peek()? {
            b'{' => {
                self.at += 1;
                if self.peek() == Some(b'}') {
                    self.at += 1;
                    return Some(());
                }
                let mut previous: Option<&[u8]> = None;
                loop {
                    let key = self.string()?;
                    // ASCII names order by bytes as RFC 8785 orders them, by UTF-16 units.
                    if !key.is_ascii() || previous.is_some_and(|previous| previous >= key) {
                        return None;
                    }
                    previous = Some(key);
                    self.literal(b":")?;
                    self.value(depth + 1)?;
                    match self.peek()? {
                        b',' => self.at += 1,
                        b'}' => {
                            self.at += 1;
                            return Some(());
                        }
                        _ => return None,
                    }
                }
            }
            b'[' => {
                self.at += 1;
                if self.peek() == Some(b']') {
                    self.at += 1;
                    return Some(());
                }
                loop {
                    self.value(depth + 1)?;
                    match self.peek()? {
                        b',' => self.at += 1,
                        b']' => {
                            self.at += 1;
                            return Some(());
                        }
                        _ => return None,
                    }
                }
            }
            b'"' => self.string().map(|_| ()),
            b't' => self.literal(b"true"),
            b'f' => self.literal(b"false"),
            b'n' => self.literal(b"null"),
            b'-' | b'0'..=b'9' => self.signed_integer(),
            _ => None,
        }
    }
}
