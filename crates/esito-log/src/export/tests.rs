//! The export verifier's unit tests: threads and the line-by-line check agree on every verdict and on progress, the borrowed reading agrees with the owned one, and the verifier that reads checkpoints' sizes first agrees with both while keeping O(log n) hashes.

use std::io::{BufRead, Read};

use super::batch::verify_export_on;
use super::line::{BorrowedLineFields, ParsedLine};
use super::*;
use crate::checkpoint::Checkpoint;
use crate::entry::Entry;
use crate::hash::{empty_root, Hash};

#[test]
fn an_empty_export_is_the_empty_log() {
    let report = verify_export(&b""[..], |_| {}).expect("nothing to reject");
    assert_eq!(
        report,
        VerifyReport {
            contract_id: None,
            size: 0,
            root: empty_root(),
            checkpoints: Vec::new(),
            signatures_checked: 0,
            extends: None,
        }
    );
}

#[test]
fn a_line_mixing_both_kinds_is_malformed() {
    let line = format!(
        r#"{{"position":1,"leaf_hash":"{}","checkpoint":{{}}}}"#,
        empty_root()
    );
    assert!(matches!(
        verify_export(line.as_bytes(), |_| {}),
        Err(VerifyFailure::MalformedLine { line_number: 1, .. })
    ));
}

#[test]
fn a_blank_line_is_malformed() {
    assert!(matches!(
        verify_export(&b"\n"[..], |_| {}),
        Err(VerifyFailure::MalformedLine { line_number: 1, .. })
    ));
}

#[test]
fn a_line_beyond_the_limit_fails_without_being_read_whole() {
    let long = vec![b' '; usize::try_from(MAX_LINE_BYTES).expect("fits") + 10];
    assert_eq!(
        verify_export(&long[..], |_| {}),
        Err(VerifyFailure::LineTooLong { line_number: 1 })
    );
}

fn entry(position: u64) -> Entry {
    Entry {
        contract_id: "contract-7".to_owned(),
        position,
        event_id: format!("00000000-0000-4000-8000-{position:012}"),
        stream_type: "access".to_owned(),
        stream_id: format!("acc-{position}"),
        stream_seq: 1,
        event_type: "AccessRecorded".to_owned(),
        schema_version: 1,
        occurred_at: "2024-02-01T10:15:00+01:00".to_owned(),
        recorded_at: "2024-02-01T09:15:02.123456Z".to_owned(),
        recorded_by: "operator \"ü\"\n".to_owned(),
        corrects: (position % 7 == 0).then(|| format!("prev-{position}")),
        payload: serde_json::json!({
            "need": "elderly_care",
            "outcome": {"kind": "referred", "service": "Servizi sociali"},
            "n": [position, -1.5, null, true],
            "\u{e000}": 1,
            "\u{1f600}": 2
        }),
    }
}

/// The lines of an export of `n` entries and checkpoints at the given sizes, without
/// newlines.
fn export_lines(n: u64, checkpoint_sizes: &[u64]) -> Vec<String> {
    let entries: Vec<Entry> = (1..=n).map(entry).collect();
    let leaves: Vec<Hash> = entries.iter().map(Entry::leaf_hash).collect();
    let mut lines: Vec<String> = entries
        .into_iter()
        .map(|entry| serde_json::to_string(&ExportLine::for_entry(entry)).expect("writes"))
        .collect();
    for &size in checkpoint_sizes {
        let checkpoint = crate::UnsignedCheckpoint {
            contract_id: "contract-7".to_owned(),
            size,
            root_hash: crate::root(&leaves[..usize::try_from(size).expect("fits")]),
            timestamp: "2024-03-02T10:00:00Z".to_owned(),
            key_id: "0123456789abcdef".parse().expect("a test key id"),
        }
        .with_signature("c2ln".to_owned());
        let line = ExportLine::Checkpoint(checkpoint);
        lines.push(serde_json::to_string(&line).expect("writes"));
    }
    lines
}

fn text(lines: &[String]) -> String {
    lines.iter().map(|line| format!("{line}\n")).collect()
}

/// The verdict and progress of checking the lines one by one with
/// [`ExportVerifier::verify_line`], the sequential reference.
fn one_by_one(lines: &[String]) -> (Result<VerifyReport, VerifyFailure>, Vec<u64>) {
    let mut verifier = ExportVerifier::new();
    let mut progress = Vec::new();
    for line in lines {
        let before = verifier.size();
        if let Err(failure) = verifier.verify_line(format!("{line}\n").as_bytes()) {
            return (Err(failure), progress);
        }
        if verifier.size() != before {
            progress.push(verifier.size());
        }
    }
    (verifier.finish(), progress)
}

/// Verifies `reader` with each number of workers and checks that the verdict and the
/// progress are `expected`'s.
fn check_every_worker_count<R: BufRead>(
    reader: impl Fn() -> R,
    expected: &(Result<VerifyReport, VerifyFailure>, Vec<u64>),
) {
    for workers in [1, 2, 3, 8] {
        let mut progress = Vec::new();
        let verdict = verify_export_on(
            ExportVerifier::new(),
            reader(),
            |n| progress.push(n),
            workers,
        );
        assert_eq!(verdict, expected.0, "{workers} workers");
        assert!(
            progress == expected.1,
            "{workers} workers: progress differs"
        );
    }
}

/// Replaces the written leaf hash of the entry at `position`.
fn tamper(lines: &mut [String], position: usize) {
    let other = empty_root().to_string();
    let line = &mut lines[position - 1];
    let start = line.find("\"leaf_hash\":\"").expect("an entry line") + 13;
    line.replace_range(start..start + 64, &other);
}

#[test]
fn threads_find_the_first_failure_that_the_lines_one_by_one_find() {
    let clean = export_lines(10_000, &[1, 4096, 4097, 9_999, 10_000, 5]);
    let mut scenarios = vec![clean.clone()];
    let mut two_hashes = clean.clone();
    tamper(&mut two_hashes, 9_000);
    tamper(&mut two_hashes, 4_500);
    scenarios.push(two_hashes);
    let mut malformed_then_hash = clean.clone();
    malformed_then_hash[4_999] = "{\"position\": 5000,".to_owned();
    tamper(&mut malformed_then_hash, 9_000);
    scenarios.push(malformed_then_hash);
    let mut hash_then_malformed = clean.clone();
    tamper(&mut hash_then_malformed, 5_000);
    hash_then_malformed[8_999] = "not json".to_owned();
    scenarios.push(hash_then_malformed);
    let mut swapped_then_malformed = clean.clone();
    swapped_then_malformed.swap(8_191, 8_192);
    swapped_then_malformed[9_500] = String::new();
    scenarios.push(swapped_then_malformed);
    let mut other_contract = clean.clone();
    other_contract[6_000] = other_contract[6_000].replace("contract-7", "contract-8");
    scenarios.push(other_contract);
    let mut escaped_contract = clean.clone();
    escaped_contract[7_000] = escaped_contract[7_000].replace("contract-7", "contract\\u002d7");
    scenarios.push(escaped_contract);
    let mut entry_after_checkpoint = clean.clone();
    entry_after_checkpoint.push(clean[0].clone());
    scenarios.push(entry_after_checkpoint);
    let mut wrong_checkpoint = clean;
    let last = wrong_checkpoint.len() - 1;
    wrong_checkpoint[last] = wrong_checkpoint[last].replace("\"size\":5", "\"size\":6");
    scenarios.push(wrong_checkpoint);

    for lines in &scenarios {
        let expected = one_by_one(lines);
        let text = text(lines);
        check_every_worker_count(|| text.as_bytes(), &expected);
        let seekable = verify_export_seekable(
            std::io::Cursor::new(text.as_bytes()),
            Trust::default(),
            |_| {},
        );
        assert_eq!(seekable, expected.0, "the seekable reading");
    }
}

#[test]
fn a_reader_failing_deep_in_the_export_fails_after_the_lines_before_it() {
    struct FailsAfter<'a>(&'a [u8]);

    impl Read for FailsAfter<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            if self.0.is_empty() {
                return Err(std::io::Error::other("disk on fire"));
            }
            let n = buf.len().min(self.0.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    let mut lines = export_lines(9_000, &[]);
    let text_before = text(&lines);
    let reader = || std::io::BufReader::new(FailsAfter(text_before.as_bytes()));
    let expected = Err(VerifyFailure::Unreadable {
        line_number: 9_001,
        reason: "disk on fire".to_owned(),
    });
    check_every_worker_count(reader, &(expected, (1..=9_000).collect()));

    tamper(&mut lines, 8_000);
    let text_tampered = text(&lines);
    let reader = || std::io::BufReader::new(FailsAfter(text_tampered.as_bytes()));
    let expected = Err(VerifyFailure::LeafHashMismatch { position: 8_000 });
    check_every_worker_count(reader, &(expected, (1..8_000).collect()));
}

#[test]
fn a_line_too_long_deep_in_the_export_fails_after_the_lines_before_it() {
    let mut lines = export_lines(9_000, &[]);
    let long = " ".repeat(usize::try_from(MAX_LINE_BYTES).expect("fits"));
    let with_long_line = format!("{}{long}\n", text(&lines));
    let expected = Err(VerifyFailure::LineTooLong { line_number: 9_001 });
    check_every_worker_count(
        || with_long_line.as_bytes(),
        &(expected, (1..=9_000).collect()),
    );

    tamper(&mut lines, 6_000);
    let with_long_line = format!("{}{long}\n", text(&lines));
    let expected = Err(VerifyFailure::LeafHashMismatch { position: 6_000 });
    check_every_worker_count(
        || with_long_line.as_bytes(),
        &(expected, (1..6_000).collect()),
    );
}

/// What a line says, comparably.
#[derive(Debug, PartialEq)]
enum Said {
    Entry(u64, Hash, u64, String, Hash),
    Checkpoint(Checkpoint),
}

fn said(parsed: ParsedLine<'_>) -> Said {
    match parsed {
        ParsedLine::Entry {
            position,
            written,
            entry_position,
            contract_id,
            leaf,
        } => Said::Entry(
            position,
            written,
            entry_position,
            contract_id.into_owned(),
            leaf,
        ),
        ParsedLine::Checkpoint(checkpoint) => Said::Checkpoint(checkpoint),
    }
}

/// The line as the owned [`ExportLine`] reader reads it, which is what verification read
/// before lines were borrowed.
fn owned_reading(line: &[u8]) -> Result<Said, String> {
    match serde_json::from_slice::<ExportLine>(line).map_err(|error| error.to_string())? {
        ExportLine::Entry {
            position,
            leaf_hash: written,
            entry,
        } => Ok(Said::Entry(
            position,
            written,
            entry.position,
            entry.contract_id.clone(),
            entry.leaf_hash(),
        )),
        ExportLine::Checkpoint(checkpoint) => Ok(Said::Checkpoint(checkpoint)),
    }
}

#[test]
fn the_borrowed_reading_says_what_the_owned_reading_says() {
    let good = export_lines(7, &[3]);
    let entry_line = good[6].clone();
    let mut lines = good.clone();
    let variants: [(&str, &str); 22] = [
        (
            "\"contract_id\":\"contract-7\"",
            "\"contract_id\":\"contr\\u0061ct-7\"",
        ),
        ("\"need\":", "\"ne\\u0065d\":"),
        (
            "\"need\":\"elderly_care\"",
            "\"need\":\"elderly_care\",\"need\":1",
        ),
        (
            "\"need\":\"elderly_care\"",
            "\"need\":\"elderly_care\",\"ne\\u0065d\":1",
        ),
        ("\"need\":\"elderly_care\"", "\"need\":9007199254740992"),
        ("\"need\":\"elderly_care\"", "\"need\":-9007199254740991"),
        ("\"need\":\"elderly_care\"", "\"need\":-0"),
        ("\"need\":\"elderly_care\"", "\"need\":1E400"),
        ("\"need\":\"elderly_care\"", "\"need\":[1e-7,0.1,2.50]"),
        ("\"corrects\":\"prev-7\"", "\"corrects\":null"),
        ("\"corrects\":\"prev-7\",", ""),
        ("\"position\":7,\"event_id\"", "\"position\":0,\"event_id\""),
        ("\"stream_seq\":1", "\"stream_seq\":9007199254740992"),
        ("\"schema_version\":1", "\"schema_version\":4294967296"),
        ("\"payload\":{", "\"payload\":[{"),
        ("\"entry\":{", "\"checkpoint\":null,\"entry\":{"),
        ("\"entry\":{", "\"checkpoint\":{},\"entry\":{"),
        (
            "\"position\":7,\"leaf_hash\"",
            "\"position\":7,\"position\":7,\"leaf_hash\"",
        ),
        ("\"position\":7,\"leaf_hash\"", "\"leaf_hash\""),
        (
            "\"stream_type\":\"access\"",
            "\"stream_type\":\"access\",\"extra\":1",
        ),
        (
            "\"stream_type\":\"access\"",
            "\"stream_type\":\"a\\ud83d\\ude00\\n\"",
        ),
        ("\"stream_type\":\"access\"", "\"stream_type\":\"a\\ud83d\""),
    ];
    for (from, to) in variants {
        assert!(entry_line.contains(from), "{from}");
        lines.push(entry_line.replacen(from, to, 1));
    }
    let hash = good[0][27..91].to_owned();
    lines.push(good[0].replace(&hash, &hash.to_uppercase()));
    lines.push(good[7].replace("\"checkpoint\":{", "\"position\":null,\"checkpoint\":{"));
    lines.push(good[7].replace("\"size\":3", "\"size\":3,\"extra\":true"));
    lines.push(format!("{} ", good[2]));
    lines.push(format!("{}x", good[2]));
    lines.push(String::new());
    lines.push("[]".to_owned());
    let mut texts: Vec<Vec<u8>> = lines.into_iter().map(String::into_bytes).collect();
    let mut invalid_utf8 = good[1].clone().into_bytes();
    let at = good[1].find("acc-2").expect("the stream id");
    invalid_utf8[at] = 0xff;
    texts.push(invalid_utf8);

    let mut canonical = Vec::new();
    for text in &texts {
        let borrowed = ParsedLine::read(text, &mut canonical).map(said);
        assert_eq!(
            borrowed,
            owned_reading(text),
            "{}",
            String::from_utf8_lossy(text)
        );
    }
    // The lines the export writes go the borrowed way, not through the fallback.
    for line in &good {
        let text = std::str::from_utf8(line.as_bytes()).expect("UTF-8");
        let fields: BorrowedLineFields<'_> = serde_json::from_str(text).expect("reads");
        assert!(ParsedLine::from_borrowed(fields, &mut canonical).is_some());
    }
}

#[test]
fn failures_read_as_one_line_naming_the_position() {
    assert_eq!(
        VerifyFailure::LeafHashMismatch { position: 17 }.to_string(),
        "position 17: leaf hash does not match the entry"
    );
    assert_eq!(
        VerifyFailure::PositionOutOfOrder {
            expected: 17,
            found: 18
        }
        .to_string(),
        "position 17: found position 18 (a line is missing, repeated or out of order)"
    );
}

/// Verifies the export of `n` entries line by line as [`verify_export_seekable`] does, with
/// checkpoints at 40 sizes and a trusted one at a third of the log, and returns how many hashes
/// the verifier kept, and how many a verifier that keeps the leaves kept.
fn hashes_kept(n: u64) -> (usize, usize) {
    let sizes: Vec<u64> = (1..=40).map(|i| n * i / 40 - i % 3).collect();
    let lines = export_lines(n, &sizes);
    let leaves: Vec<Hash> = (1..=n)
        .map(|position| entry(position).leaf_hash())
        .collect();
    let trusted = n / 3;
    let trust = || Trust {
        keys: crate::signing::Keyring::new(),
        checkpoint: Some(
            crate::UnsignedCheckpoint {
                contract_id: "contract-7".to_owned(),
                size: trusted,
                root_hash: crate::root(&leaves[..usize::try_from(trusted).expect("fits")]),
                timestamp: "2024-03-02T10:00:00Z".to_owned(),
                key_id: "0123456789abcdef".parse().expect("a test key id"),
            }
            .with_signature("c2ln".to_owned())
            .into(),
        ),
    };
    let mut at_sizes = ExportVerifier::trusting(trust())
        .expect("no keys to check")
        .keeping_heads_at(sizes.iter().copied(), true);
    let mut every_leaf = ExportVerifier::trusting(trust()).expect("no keys to check");
    for line in &lines {
        let line = format!("{line}\n");
        at_sizes
            .verify_line(line.as_bytes())
            .expect("an untouched export");
        every_leaf
            .verify_line(line.as_bytes())
            .expect("an untouched export");
    }
    let kept = (at_sizes.hashes_kept(), every_leaf.hashes_kept());
    let report = at_sizes.finish().expect("an untouched export");
    assert_eq!(Ok(report), every_leaf.finish());
    kept
}

#[test]
fn the_hashes_kept_grow_with_the_log_only_by_its_logarithm() {
    for n in [10_000u64, 100_000] {
        let (kept, every_leaf) = hashes_kept(n);
        let log = 64 - n.leading_zeros() as usize;
        // The frontier, the frontier at the trusted size and the compact range after it: at most
        // four hashes per level; then each checkpoint and its tree head, and the empty tree's.
        assert!(
            kept <= 4 * log + 2 * 40 + 1,
            "{n} entries: {kept} hashes kept"
        );
        assert!(
            every_leaf >= usize::try_from(n).expect("fits"),
            "{n} entries"
        );
    }
}

/// An entry whose every string and number the quick reading takes as it stands.
fn plain_entry(position: u64) -> Entry {
    Entry {
        recorded_by: "operator-7".to_owned(),
        payload: serde_json::json!({
            "need": "elderly_care",
            "outcome": {"kind": "referred", "service": "Servizi sociali del Comune"},
            "n": [position, -1, null, true, false, [], {}],
            "state": "caf\u{e9} \u{1f600}"
        }),
        ..entry(position)
    }
}

/// An entry line as the service writes it: the entry in canonical form.
fn service_line(entry: &Entry) -> String {
    format!(
        r#"{{"position":{},"leaf_hash":"{}","entry":{}}}"#,
        entry.position,
        entry.leaf_hash(),
        entry.canonical_json()
    )
}

#[test]
fn the_lines_the_service_writes_are_read_quickly() {
    for position in 1..=14 {
        let line = format!("{}\n", service_line(&plain_entry(position)));
        let quick = super::canonical_line::read(line.as_bytes())
            .unwrap_or_else(|| panic!("read quickly: {line}"));
        assert_eq!(
            Ok(Said::Entry(
                quick.position,
                quick.written,
                quick.entry_position,
                quick.contract_id.to_owned(),
                quick.leaf
            )),
            owned_reading(line.as_bytes())
        );
    }
}

mod quick_reading {
    use proptest::prelude::*;
    use serde_json::Value;

    use super::{owned_reading, plain_entry, service_line, Said};
    use crate::export::canonical_line;
    use crate::export::ExportLine;
    use crate::jcs::MAX_EXACT_INTEGER;

    /// JSON values in and around the quick reading's subset: escapes, non-ASCII names,
    /// decimals and integers beyond the exact range included.
    fn value() -> impl Strategy<Value = Value> {
        let max = i64::try_from(MAX_EXACT_INTEGER).expect("fits");
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            (-max..=max).prop_map(Value::from),
            prop_oneof![Just(MAX_EXACT_INTEGER + 1), Just(u64::MAX)].prop_map(Value::from),
            (-1e6f64..1e6).prop_map(Value::from),
            "[a-z0-9 \u{e9}\u{1f600}\"\\\\\n\u{7f}\u{1}/]{0,8}".prop_map(Value::from),
        ];
        leaf.prop_recursive(4, 24, 4, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::btree_map("[a-zA-Z_\u{e000}\u{1f600}]{0,3}", inner, 0..4)
                    .prop_map(|members| Value::Object(members.into_iter().collect())),
            ]
        })
    }

    /// Bytes that change a line's meaning or its form when put in place of another.
    const ALTERATIONS: &[u8] = b" \t\n0179af\"\\{}[],:.eE-+ux\xc3\xff";

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Whenever the quick reading takes a line, the full reading says the same of it:
        /// of a written line, and of that line with a byte changed, put in or taken out.
        #[test]
        fn the_quick_reading_says_what_the_full_reading_says(
            position in 1u64..1_000,
            payload in prop::collection::btree_map("[a-z_]{1,6}", value(), 0..5),
            corrects in any::<bool>(),
            at in any::<prop::sample::Index>(),
            byte in prop::sample::select(ALTERATIONS),
            how in 0u8..3,
        ) {
            let mut entry = plain_entry(position);
            entry.payload = Value::Object(payload.into_iter().collect());
            entry.corrects = corrects.then(|| format!("prev-{position}"));
            let line = service_line(&entry);
            let written_otherwise =
                serde_json::to_string(&ExportLine::for_entry(entry)).expect("writes");
            let mut altered = line.clone().into_bytes();
            let at = at.index(altered.len());
            match how {
                0 => altered[at] = byte,
                1 => altered.insert(at, byte),
                _ => {
                    altered.remove(at);
                }
            }
            for text in [line.as_bytes(), written_otherwise.as_bytes(), &altered[..]] {
                if let Some(quick) = canonical_line::read(text) {
                    prop_assert_eq!(
                        Ok(Said::Entry(
                            quick.position,
                            quick.written,
                            quick.entry_position,
                            quick.contract_id.to_owned(),
                            quick.leaf
                        )),
                        owned_reading(text),
                        "{}",
                        String::from_utf8_lossy(text)
                    );
                }
            }
        }
    }
}
