//! The export verifier on a 50-entry export: it passes untouched, and each kind of tampering fails at the position where it was done, or at the checkpoint or trusted checkpoint that catches it.

use std::io::{self, BufReader, Cursor, Read};

use esito_log::signing::{CheckpointKey, Keyring, SignatureError};
use esito_log::{
    empty_root, root, verify_consistency, verify_export, verify_export_seekable,
    verify_export_trusting, Checkpoint, ConsistencyProof, Entry, ExportLine, ExportVerifier, Hash,
    Trust, UnsignedCheckpoint, VerifyFailure, VerifyReport,
};
use serde_json::{json, Value};

const CONTRACT: &str = "contract-7";

fn entry(position: u64) -> Entry {
    Entry {
        contract_id: CONTRACT.to_owned(),
        position,
        event_id: format!("00000000-0000-4000-8000-{position:012}"),
        stream_type: "invoice".to_owned(),
        stream_id: format!("invoice-{}", position % 4),
        stream_seq: position.div_ceil(4),
        event_type: "InvoiceIssued".to_owned(),
        schema_version: 1,
        occurred_at: "2024-03-02T10:15:02+01:00".to_owned(),
        recorded_at: format!("2024-03-02T09:15:{:02}.123456Z", position % 60),
        recorded_by: "user:ada".to_owned(),
        corrects: (position % 10 == 0)
            .then(|| format!("00000000-0000-4000-8000-{:012}", position - 1)),
        payload: json!({
            "amount": format!("{}.50", position * 3),
            "currency": "EUR",
            "lines": [{"sku": "Ω-1", "qty": position}],
            "note": "café \"quoted\"\n"
        }),
    }
}

fn entries(n: u64) -> Vec<Entry> {
    (1..=n).map(entry).collect()
}

fn leaf_hashes(entries: &[Entry]) -> Vec<Hash> {
    entries.iter().map(Entry::leaf_hash).collect()
}

fn checkpoint(entries: &[Entry], size: u64) -> Checkpoint {
    UnsignedCheckpoint {
        contract_id: CONTRACT.to_owned(),
        size,
        root_hash: root(&leaf_hashes(&entries[..size as usize])),
        timestamp: "2024-03-02T10:00:00Z".to_owned(),
        key_id: "0123456789abcdef".parse().expect("a test key id"),
    }
    .with_signature("bm90IGNoZWNrZWQgaGVyZQ==".to_owned())
}

fn line(export_line: &ExportLine) -> String {
    serde_json::to_string(export_line).expect("an export line serializes")
}

/// The export's lines, without newlines, so tests can edit them.
fn export_lines(entries: &[Entry], checkpoint_sizes: &[u64]) -> Vec<String> {
    let mut lines: Vec<String> = entries
        .iter()
        .cloned()
        .map(|entry| line(&ExportLine::for_entry(entry)))
        .collect();
    for &size in checkpoint_sizes {
        lines.push(line(&checkpoint(entries, size).into()));
    }
    lines
}

/// The verdict on the export, which a reader that can seek, keeping only the tree heads at the
/// sizes of the checkpoints at the end, must give as well.
fn verify(lines: &[String]) -> Result<VerifyReport, VerifyFailure> {
    let text: String = lines.iter().map(|line| format!("{line}\n")).collect();
    let verdict = verify_export(text.as_bytes(), |_| {});
    let seekable = verify_export_seekable(Cursor::new(text.as_bytes()), Trust::default(), |_| {});
    assert_eq!(seekable, verdict, "the seekable reading differs");
    verdict
}

/// Edits the JSON of the line at 1-based `position`.
fn edit(lines: &mut [String], position: usize, change: impl FnOnce(&mut Value)) {
    let mut value: Value = serde_json::from_str(&lines[position - 1]).expect("a JSON line");
    change(&mut value);
    lines[position - 1] = value.to_string();
}

#[test]
fn an_untouched_export_verifies_and_reports_the_tree_head() {
    let entries = entries(50);
    let report = verify(&export_lines(&entries, &[])).expect("an untouched export verifies");
    assert_eq!(report.contract_id.as_deref(), Some(CONTRACT));
    assert_eq!(report.size, 50);
    assert_eq!(report.root, root(&leaf_hashes(&entries)));
    assert!(report.checkpoints.is_empty());
}

#[test]
fn an_untouched_export_with_checkpoints_verifies_and_returns_them() {
    let entries = entries(50);
    let lines = export_lines(&entries, &[0, 1, 16, 17, 33, 50]);
    let report = verify(&lines).expect("an untouched export verifies");
    let sizes: Vec<u64> = report.checkpoints.iter().map(|c| c.size).collect();
    assert_eq!(sizes, [0, 1, 16, 17, 33, 50]);
    assert_eq!(report.checkpoints[2], checkpoint(&entries, 16));
}

#[test]
fn checkpoints_in_decreasing_size_order_still_verify() {
    let entries = entries(50);
    assert!(verify(&export_lines(&entries, &[40, 7, 30, 2])).is_ok());
}

#[test]
fn progress_is_reported_after_every_entry() {
    let entries = entries(50);
    let text: String = export_lines(&entries, &[50])
        .iter()
        .map(|line| format!("{line}\n"))
        .collect();
    let mut seen = Vec::new();
    verify_export(text.as_bytes(), |n| seen.push(n)).expect("an untouched export verifies");
    assert_eq!(seen, (1..=50).collect::<Vec<u64>>());
}

#[test]
fn an_edited_payload_is_caught_at_its_position() {
    let mut lines = export_lines(&entries(50), &[]);
    edit(&mut lines, 17, |line| {
        line["entry"]["payload"]["amount"] = json!("51.49")
    });
    assert_eq!(
        verify(&lines),
        Err(VerifyFailure::LeafHashMismatch { position: 17 })
    );
}

#[test]
fn an_edited_leaf_hash_is_caught_at_its_position() {
    let entries = entries(50);
    let mut lines = export_lines(&entries, &[]);
    let other = entries[0].leaf_hash().to_string();
    edit(&mut lines, 17, |line| line["leaf_hash"] = json!(other));
    assert_eq!(
        verify(&lines),
        Err(VerifyFailure::LeafHashMismatch { position: 17 })
    );
}

#[test]
fn a_removed_line_is_caught_at_the_missing_position() {
    let mut lines = export_lines(&entries(50), &[]);
    lines.remove(16);
    assert_eq!(
        verify(&lines),
        Err(VerifyFailure::PositionOutOfOrder {
            expected: 17,
            found: 18
        })
    );
}

#[test]
fn two_swapped_lines_are_caught_at_the_first_of_them() {
    let mut lines = export_lines(&entries(50), &[]);
    lines.swap(16, 17);
    assert_eq!(
        verify(&lines),
        Err(VerifyFailure::PositionOutOfOrder {
            expected: 17,
            found: 18
        })
    );
}

#[test]
fn a_repeated_line_is_caught_where_it_repeats() {
    let mut lines = export_lines(&entries(50), &[]);
    lines.insert(17, lines[16].clone());
    assert_eq!(
        verify(&lines),
        Err(VerifyFailure::PositionOutOfOrder {
            expected: 18,
            found: 17
        })
    );
}

#[test]
fn a_removed_last_line_goes_unnoticed_without_a_checkpoint() {
    // A shortened export is a valid export of a shorter log: only a signed checkpoint covering
    // the removed entry can tell them apart.
    let entries = entries(50);
    let mut lines = export_lines(&entries, &[]);
    lines.pop();
    let report = verify(&lines).expect("a shortened export is still well formed");
    assert_eq!(report.size, 49);
    assert_eq!(report.root, root(&leaf_hashes(&entries[..49])));
}

#[test]
fn a_removed_last_entry_is_caught_by_a_checkpoint_covering_it() {
    let mut lines = export_lines(&entries(50), &[50]);
    lines.remove(49);
    assert_eq!(
        verify(&lines),
        Err(VerifyFailure::CheckpointBeyondLog {
            size: 50,
            log_size: 49
        })
    );
}

#[test]
fn a_rewritten_export_with_recomputed_hashes_is_caught_only_by_its_checkpoint() {
    let entries = entries(50);
    let mut rewritten = entries.clone();
    rewritten[16].payload["amount"] = json!("0.00");
    let mut lines = export_lines(&rewritten, &[]);
    assert!(verify(&lines).is_ok());
    lines.push(line(&checkpoint(&entries, 30).into()));
    assert_eq!(
        verify(&lines),
        Err(VerifyFailure::CheckpointRootMismatch { size: 30 })
    );
}

#[test]
fn a_checkpoint_before_the_tampering_still_verifies() {
    let entries = entries(50);
    let mut rewritten = entries.clone();
    rewritten[40].payload["amount"] = json!("0.00");
    let mut lines = export_lines(&rewritten, &[]);
    lines.push(line(&checkpoint(&entries, 40).into()));
    assert!(verify(&lines).is_ok());
}

#[test]
fn an_entry_of_another_contract_is_caught_at_its_position() {
    let mut entries = entries(50);
    entries[16].contract_id = "contract-8".to_owned();
    assert_eq!(
        verify(&export_lines(&entries, &[])),
        Err(VerifyFailure::ContractMismatch { position: 17 })
    );
}

#[test]
fn an_entry_whose_own_position_disagrees_with_its_line_is_caught() {
    let mut lines = export_lines(&entries(50), &[]);
    edit(&mut lines, 17, |line| line["entry"]["position"] = json!(71));
    assert_eq!(
        verify(&lines),
        Err(VerifyFailure::EntryPositionMismatch {
            position: 17,
            entry_position: 71
        })
    );
}

#[test]
fn a_field_added_to_an_entry_makes_the_line_malformed() {
    let mut lines = export_lines(&entries(50), &[]);
    edit(&mut lines, 17, |line| {
        line["entry"]["approved"] = json!(true)
    });
    assert!(matches!(
        verify(&lines),
        Err(VerifyFailure::MalformedLine {
            line_number: 17,
            ..
        })
    ));
}

#[test]
fn a_line_that_is_not_json_is_malformed_at_its_line_number() {
    let mut lines = export_lines(&entries(50), &[]);
    lines[4] = "{\"position\": 5,".to_owned();
    let failure = verify(&lines).expect_err("a broken line fails");
    assert!(matches!(
        failure,
        VerifyFailure::MalformedLine { line_number: 5, .. }
    ));
    assert!(!failure.to_string().contains('\n'), "one line: {failure}");
}

#[test]
fn a_checkpoint_with_a_wrong_root_is_caught_at_its_size() {
    let entries = entries(50);
    let mut lines = export_lines(&entries, &[]);
    let mut wrong = checkpoint(&entries, 20);
    wrong.root_hash = checkpoint(&entries, 21).root_hash;
    lines.push(line(&wrong.into()));
    assert_eq!(
        verify(&lines),
        Err(VerifyFailure::CheckpointRootMismatch { size: 20 })
    );
}

#[test]
fn a_checkpoint_of_another_contract_is_caught() {
    let entries = entries(50);
    let mut lines = export_lines(&entries, &[]);
    let mut other = checkpoint(&entries, 20);
    other.contract_id = "contract-8".to_owned();
    lines.push(line(&other.into()));
    assert_eq!(
        verify(&lines),
        Err(VerifyFailure::CheckpointContractMismatch { size: 20 })
    );
}

#[test]
fn an_entry_after_a_checkpoint_is_refused() {
    let entries = entries(50);
    let mut lines = export_lines(&entries[..49], &[49]);
    lines.push(line(&ExportLine::for_entry(entries[49].clone())));
    assert_eq!(
        verify(&lines),
        Err(VerifyFailure::EntryAfterCheckpoint { line_number: 51 })
    );
}

#[test]
fn export_lines_read_back_as_written() {
    let entries = entries(12);
    for text in export_lines(&entries, &[12]) {
        let parsed: ExportLine = serde_json::from_str(&text).expect("a written line reads back");
        assert_eq!(line(&parsed), text);
    }
    let first = line(&ExportLine::for_entry(entries[0].clone()));
    assert!(
        first.starts_with(r#"{"position":1,"leaf_hash":""#),
        "{first}"
    );
    let last = line(&checkpoint(&entries, 12).into());
    assert!(
        last.starts_with(r#"{"checkpoint":{"contract_id":"#),
        "{last}"
    );
}

#[test]
fn a_failing_reader_is_reported_at_the_line_it_failed_on() {
    struct FailsAfter(Vec<u8>);

    impl Read for FailsAfter {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            if self.0.is_empty() {
                return Err(io::Error::other("disk on fire"));
            }
            let n = buf.len().min(self.0.len());
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0.drain(..n);
            Ok(n)
        }
    }

    let text: String = export_lines(&entries(3), &[])
        .iter()
        .map(|line| format!("{line}\n"))
        .collect();
    let reader = BufReader::with_capacity(64, FailsAfter(text.into_bytes()));
    assert_eq!(
        verify_export(reader, |_| {}),
        Err(VerifyFailure::Unreadable {
            line_number: 4,
            reason: "disk on fire".to_owned()
        })
    );
}

/// The verdict of checking the lines one at a time with [`ExportVerifier::verify_line`], the
/// sequential reference that [`verify_export`]'s threads must agree with.
fn verify_one_by_one(lines: &[String]) -> Result<VerifyReport, VerifyFailure> {
    let mut verifier = ExportVerifier::new();
    for line in lines {
        verifier.verify_line(format!("{line}\n").as_bytes())?;
    }
    verifier.finish()
}

#[test]
fn a_failure_deep_in_a_large_export_is_caught_where_the_sequential_check_catches_it() {
    let entries = entries(20_000);
    let clean = export_lines(&entries, &[20_000]);
    let report = verify(&clean).expect("an untouched large export verifies");
    assert_eq!(Ok(report), verify_one_by_one(&clean));

    let mut once = clean.clone();
    edit(&mut once, 15_000, |line| {
        line["entry"]["payload"]["amount"] = json!("0.00")
    });
    assert_eq!(
        verify(&once),
        Err(VerifyFailure::LeafHashMismatch { position: 15_000 })
    );
    assert_eq!(verify(&once), verify_one_by_one(&once));

    let mut twice = once;
    edit(&mut twice, 9_000, |line| {
        line["entry"]["payload"]["amount"] = json!("0.00")
    });
    assert_eq!(
        verify(&twice),
        Err(VerifyFailure::LeafHashMismatch { position: 9_000 })
    );
    assert_eq!(verify(&twice), verify_one_by_one(&twice));
}

#[test]
fn a_malformed_line_deep_in_a_large_export_is_named_only_if_nothing_fails_before_it() {
    let mut lines = export_lines(&entries(20_000), &[]);
    lines[14_999] = "{\"position\": 15000,".to_owned();
    let failure = verify(&lines).expect_err("a broken line fails");
    assert!(matches!(
        failure,
        VerifyFailure::MalformedLine {
            line_number: 15_000,
            ..
        }
    ));
    assert_eq!(Err(failure), verify_one_by_one(&lines));

    lines.swap(8_999, 9_000);
    assert_eq!(
        verify(&lines),
        Err(VerifyFailure::PositionOutOfOrder {
            expected: 9_000,
            found: 9_001
        })
    );
    assert_eq!(verify(&lines), verify_one_by_one(&lines));
}

/// A checkpoint over the first `size` of `entries`, signed by `key`.
fn signed(key: &CheckpointKey, entries: &[Entry], size: u64) -> Checkpoint {
    key.sign(
        CONTRACT,
        size,
        root(&leaf_hashes(&entries[..size as usize])),
        "2024-03-02T10:00:00Z".to_owned(),
    )
}

fn keyring(keys: &[&CheckpointKey]) -> Keyring {
    let mut keyring = Keyring::new();
    for key in keys {
        keyring.add(&key.public_key()).expect("a key made here");
    }
    keyring
}

/// [`verify`] with `trust`.
fn verify_trusting(lines: &[String], trust: Trust) -> Result<VerifyReport, VerifyFailure> {
    let text: String = lines.iter().map(|line| format!("{line}\n")).collect();
    let verdict = verify_export_trusting(text.as_bytes(), trust.clone(), |_| {});
    let seekable = verify_export_seekable(Cursor::new(text.as_bytes()), trust, |_| {});
    assert_eq!(seekable, verdict, "the seekable reading differs");
    verdict
}

fn trusting(checkpoint: Checkpoint) -> Trust {
    Trust {
        keys: Keyring::new(),
        checkpoint: Some(checkpoint.into()),
    }
}

/// The entries with the payload of the one at `position` changed: another history of the
/// same size, whose export, written with recomputed hashes, is consistent in itself.
fn another_history(entries: &[Entry], position: usize) -> Vec<Entry> {
    let mut rewritten = entries.to_vec();
    rewritten[position - 1].payload["amount"] = json!("0.00");
    rewritten
}

#[test]
fn an_export_extending_a_trusted_checkpoint_verifies_and_carries_the_consistency_proof() {
    let key = CheckpointKey::from_seed([1; 32]);
    let entries = entries(50);
    let leaves = leaf_hashes(&entries);
    let lines = export_lines(&entries, &[]);
    for size in [1, 2, 16, 17, 33, 49, 50] {
        let trusted = signed(&key, &entries, size);
        let report = verify_trusting(
            &lines,
            Trust {
                keys: keyring(&[&key]),
                checkpoint: Some(trusted.clone().into()),
            },
        )
        .unwrap_or_else(|failure| panic!("size {size}: {failure}"));
        let proof = report.extends.expect("a trusted checkpoint was given");
        assert_eq!(
            proof,
            ConsistencyProof::build(size, 50, leaves.as_slice()).expect("a proof"),
            "size {size}"
        );
        // What an independent verifier holding only the old checkpoint does with the proof.
        verify_consistency(
            size,
            50,
            &trusted.root_hash,
            &report.root,
            &proof.consistency_path,
        )
        .expect("the proof verifies");
    }
}

#[test]
fn a_trusted_checkpoint_of_the_empty_log_is_extended_by_any_export() {
    let trusted = UnsignedCheckpoint {
        contract_id: CONTRACT.to_owned(),
        size: 0,
        root_hash: empty_root(),
        timestamp: "2024-03-02T10:00:00Z".to_owned(),
        key_id: "0123456789abcdef".parse().expect("a test key id"),
    }
    .with_signature("bm90IGNoZWNrZWQgaGVyZQ==".to_owned());
    let report = verify_trusting(&export_lines(&entries(5), &[]), trusting(trusted.clone()))
        .expect("every log extends the empty one");
    assert_eq!(report.extends.map(|proof| proof.first), Some(0));

    let mut wrong = trusted;
    wrong.root_hash = entry(1).leaf_hash();
    assert!(matches!(
        verify_trusting(&export_lines(&entries(5), &[]), trusting(wrong)),
        Err(VerifyFailure::DoesNotExtendTrustedCheckpoint { size: 0, .. })
    ));
}

#[test]
fn another_history_of_the_trusted_size_is_caught_naming_both_tree_heads() {
    let key = CheckpointKey::from_seed([1; 32]);
    let entries = entries(50);
    let trusted = signed(&key, &entries, 30);
    let rewritten = another_history(&entries, 17);
    // Consistent in itself, and with checkpoints the rewriter made over it.
    let lines = export_lines(&rewritten, &[30, 50]);
    assert!(verify(&lines).is_ok());

    let failure = verify_trusting(&lines, trusting(trusted.clone()))
        .expect_err("another history of the trusted size");
    let tree_head = root(&leaf_hashes(&rewritten[..30]));
    assert_eq!(
        failure,
        VerifyFailure::DoesNotExtendTrustedCheckpoint {
            size: 30,
            tree_head,
            trusted_root: trusted.root_hash,
        }
    );
    assert_eq!(
        failure.to_string(),
        format!(
            "export does not extend the trusted checkpoint: tree head at size 30 is {tree_head}, trusted root is {}",
            trusted.root_hash
        )
    );
}

#[test]
fn a_change_after_the_trusted_size_is_for_later_checkpoints_to_catch() {
    // The trusted checkpoint vouches for its first 30 entries only; entry 40 is covered by a
    // checkpoint in the export, if its signature is checked.
    let (key, rewriter) = (
        CheckpointKey::from_seed([1; 32]),
        CheckpointKey::from_seed([2; 32]),
    );
    let entries = entries(50);
    let rewritten = another_history(&entries, 40);
    let mut lines = export_lines(&rewritten, &[]);
    lines.push(line(&signed(&rewriter, &rewritten, 50).into()));
    assert!(verify_trusting(&lines, trusting(signed(&key, &entries, 30))).is_ok());

    let failure = verify_trusting(
        &lines,
        Trust {
            keys: keyring(&[&key]),
            checkpoint: Some(signed(&key, &entries, 30).into()),
        },
    )
    .expect_err("the later checkpoint is not the service's");
    assert!(matches!(
        failure,
        VerifyFailure::CheckpointSignature {
            reason: SignatureError::UnknownKey { size: 50, .. }
        }
    ));
}

#[test]
fn a_trusted_checkpoint_larger_than_the_export_is_caught() {
    let entries = entries(50);
    let lines = export_lines(&entries[..40], &[40]);
    let key = CheckpointKey::from_seed([1; 32]);
    let failure = verify_trusting(&lines, trusting(signed(&key, &entries, 50)))
        .expect_err("the export was cut short");
    assert_eq!(
        failure,
        VerifyFailure::TrustedCheckpointBeyondExport {
            size: 50,
            log_size: 40
        }
    );
    assert_eq!(
        failure.to_string(),
        "export does not extend the trusted checkpoint: the checkpoint is at size 50, the export holds only 40 entries"
    );
}

#[test]
fn a_trusted_checkpoint_of_another_contract_is_caught_at_the_first_line() {
    let entries = entries(50);
    let mut trusted = signed(&CheckpointKey::from_seed([1; 32]), &entries, 20);
    trusted.contract_id = "contract-8".to_owned();
    assert_eq!(
        verify_trusting(&export_lines(&entries, &[]), trusting(trusted)),
        Err(VerifyFailure::TrustedCheckpointContractMismatch {
            trusted: "contract-8".to_owned(),
            export: CONTRACT.to_owned()
        })
    );
}

#[test]
fn a_trusted_checkpoint_with_a_forged_signature_is_refused_before_any_line_is_read() {
    struct Unreadable;

    impl Read for Unreadable {
        fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
            Err(io::Error::other("not to be read"))
        }
    }

    let key = CheckpointKey::from_seed([1; 32]);
    let mut trusted = signed(&key, &entries(50), 20);
    trusted.size = 21;
    assert_eq!(
        verify_export_trusting(
            BufReader::new(Unreadable),
            Trust {
                keys: keyring(&[&key]),
                checkpoint: Some(trusted.into()),
            },
            |_| {}
        ),
        Err(VerifyFailure::TrustedCheckpointSignature {
            reason: SignatureError::Forged {
                size: 21,
                key_id: key.key_id().to_owned()
            }
        })
    );
}

#[test]
fn checkpoints_signed_by_rotated_keys_each_verify_with_their_own_key() {
    let (old, new) = (
        CheckpointKey::from_seed([1; 32]),
        CheckpointKey::from_seed([2; 32]),
    );
    let entries = entries(50);
    let mut lines = export_lines(&entries, &[]);
    lines.push(line(&signed(&old, &entries, 20).into()));
    lines.push(line(&signed(&new, &entries, 50).into()));

    let report = verify_trusting(
        &lines,
        Trust {
            keys: keyring(&[&new, &old]),
            checkpoint: Some(signed(&old, &entries, 10).into()),
        },
    )
    .expect("each checkpoint is signed by a key given");
    assert_eq!(report.signatures_checked, 2);

    assert_eq!(
        verify_trusting(
            &lines,
            Trust {
                keys: keyring(&[&new]),
                checkpoint: None,
            }
        ),
        Err(VerifyFailure::CheckpointSignature {
            reason: SignatureError::UnknownKey {
                size: 20,
                key_id: old.key_id().to_owned(),
                given: new.key_id().to_owned()
            }
        })
    );
    assert_eq!(
        verify_trusting(&lines, Trust::default()).map(|report| report.signatures_checked),
        Ok(0),
        "without keys no signature is checked"
    );
}

#[test]
fn a_checkpoint_edited_in_the_export_is_named_forged_when_keys_are_given() {
    let key = CheckpointKey::from_seed([1; 32]);
    let entries = entries(50);
    let mut lines = export_lines(&entries, &[]);
    let mut edited = signed(&key, &entries, 20);
    edited.root_hash = root(&leaf_hashes(&entries[..21]));
    lines.push(line(&edited.into()));
    assert_eq!(
        verify(&lines),
        Err(VerifyFailure::CheckpointRootMismatch { size: 20 })
    );
    assert_eq!(
        verify_trusting(
            &lines,
            Trust {
                keys: keyring(&[&key]),
                checkpoint: None
            }
        ),
        Err(VerifyFailure::CheckpointSignature {
            reason: SignatureError::Forged {
                size: 20,
                key_id: key.key_id().to_owned()
            }
        })
    );
}

#[test]
fn a_rewritten_history_deep_in_a_large_export_is_caught_where_the_sequential_check_catches_it() {
    let key = CheckpointKey::from_seed([1; 32]);
    let entries = entries(20_000);
    let trusted = signed(&key, &entries, 10_000);
    let rewritten = another_history(&entries, 9_000);
    let lines = export_lines(&rewritten, &[20_000]);
    let trust = || Trust {
        keys: keyring(&[&key]),
        checkpoint: Some(trusted.clone().into()),
    };
    let mut verifier = ExportVerifier::trusting(trust()).expect("the trusted checkpoint is signed");
    let one_by_one = lines
        .iter()
        .try_for_each(|line| verifier.verify_line(format!("{line}\n").as_bytes()));
    // Caught at the trusted size, before the export's own checkpoint is reached.
    let failure = verify_trusting(&lines, trust()).expect_err("another history");
    assert!(matches!(
        failure,
        VerifyFailure::DoesNotExtendTrustedCheckpoint { size: 10_000, .. }
    ));
    assert_eq!(Err(failure), one_by_one);
}

#[test]
fn checkpoints_at_many_sizes_give_the_same_verdicts_with_and_without_a_trusted_checkpoint() {
    let key = CheckpointKey::from_seed([1; 32]);
    let entries = entries(300);
    let sizes: Vec<u64> = (0..=300)
        .step_by(7)
        .chain([1, 2, 255, 256, 257, 300])
        .collect();
    let mut lines = export_lines(&entries, &[]);
    for &size in sizes.iter().rev() {
        lines.push(line(&signed(&key, &entries, size).into()));
    }
    for trusted in [None, Some(0), Some(1), Some(128), Some(129), Some(300)] {
        let trust = || Trust {
            keys: keyring(&[&key]),
            checkpoint: trusted.map(|size| signed(&key, &entries, size).into()),
        };
        let report = verify_trusting(&lines, trust()).expect("an untouched export verifies");
        assert_eq!(report.checkpoints.len(), sizes.len());
        assert_eq!(report.extends.map(|proof| proof.first), trusted);

        // A wrong root at each of a few sizes: the first such checkpoint in the file is named.
        for wrong_at in [0usize, 5, sizes.len() - 1] {
            let mut wrong = lines.clone();
            let at = 300 + wrong_at;
            let size = sizes[sizes.len() - 1 - wrong_at];
            let mut forged = checkpoint(&entries, size);
            forged.root_hash =
                checkpoint(&entries, if size == 300 { 299 } else { size + 1 }).root_hash;
            wrong[at] = line(&forged.into());
            let failure = verify_trusting(
                &wrong,
                Trust {
                    keys: Keyring::new(),
                    checkpoint: trusted.map(|size| signed(&key, &entries, size).into()),
                },
            )
            .expect_err("a wrong root");
            assert_eq!(failure, VerifyFailure::CheckpointRootMismatch { size });
        }
    }
}

#[test]
fn a_checkpoint_not_at_the_end_is_checked_as_where_it_stands() {
    // The sizes read from the end stop at the last entry, so the checkpoint at 10 is found only
    // on the way through: the file is read again knowing it.
    let entries = entries(50);
    let mut lines = export_lines(&entries[..49], &[10]);
    lines.push(line(&ExportLine::for_entry(entries[49].clone())));
    lines.push(line(&checkpoint(&entries, 20).into()));
    assert_eq!(
        verify(&lines),
        Err(VerifyFailure::EntryAfterCheckpoint { line_number: 51 })
    );

    let mut wrong = checkpoint(&entries, 10);
    wrong.root_hash = entry(1).leaf_hash();
    lines[49] = line(&wrong.into());
    assert_eq!(
        verify(&lines),
        Err(VerifyFailure::CheckpointRootMismatch { size: 10 })
    );
    assert_eq!(verify(&lines), verify_one_by_one(&lines));
}
