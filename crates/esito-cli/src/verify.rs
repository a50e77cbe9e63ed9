//! `esito verify`: an export checked against what its holder trusts (keys, an earlier checkpoint), with one verdict line.
//!
//! The checks are the log crate's; this module reads the files, draws a progress bar when a
//! person is watching (standard error is a terminal), and words the verdict: on standard output
//! one line, `verified: ...` (exit 0) or `FAILED ...` (exit 1).

use std::io::{BufReader, IsTerminal};
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use esito_log::signing::Keyring;
use esito_log::{
    Checkpoint, CheckpointNote, Trust, TrustedCheckpoint, VerifyFailure, VerifyReport,
};
use indicatif::{ProgressBar, ProgressStyle};

/// How often, in entries, the progress bar's count of entries is redrawn.
const PROGRESS_EVERY_ENTRIES: u64 = 4096;

#[derive(clap::Args)]
pub struct VerifyArgs {
    /// The export, as `esito export` writes it (JSON Lines). A regular file is verified in
    /// memory that does not grow with the log; a pipe (such as /dev/stdin) keeps 32 bytes per
    /// entry.
    file: PathBuf,
    /// A checkpoint key, base64, from /v1/checkpoint-key, or a contract's verifier key in the
    /// signed-note form (name+id+key), obtained out of band. Repeat it for every key the
    /// service has signed with: each checkpoint is checked with the key its key_id names, and
    /// one signed by a key not given fails.
    #[arg(long = "public-key", value_name = "B64")]
    public_keys: Vec<String>,
    /// A checkpoint kept from before: the JSON checkpoint object, an export's
    /// {"checkpoint": ...} line, or the C2SP signed note of /v1/contracts/{id}/checkpoint. The
    /// export must extend it.
    #[arg(long, value_name = "FILE")]
    trusted_checkpoint: Option<PathBuf>,
}

pub fn run(args: VerifyArgs) -> anyhow::Result<ExitCode> {
    let trust = trust(&args)?;
    let keys_given = !trust.keys.is_empty();
    let trusted_signature_checked = keys_given && trust.checkpoint.is_some();
    let file = std::fs::File::open(&args.file)
        .with_context(|| format!("opening {}", args.file.display()))?;
    let metadata = file.metadata().ok();
    let regular_file = metadata.as_ref().is_some_and(std::fs::Metadata::is_file);
    let bar = progress_bar(metadata.map_or(0, |m| m.len()));
    let on_progress = |entries: u64| {
        if entries % PROGRESS_EVERY_ENTRIES == 0 {
            bar.set_message(format!("{entries} entries"));
        }
    };
    // A file is read back from its end first, so that memory does not grow with the log; a
    // pipe or a device can be read once only, and its leaf hashes are kept instead.
    let verdict = if regular_file {
        esito_log::verify_export_seekable(bar.wrap_read(file), trust, on_progress)
    } else {
        esito_log::verify_export_trusting(BufReader::new(bar.wrap_read(file)), trust, on_progress)
    };
    bar.finish_and_clear();
    if std::env::var_os("ESITO_REPORT_PEAK_MEMORY").is_some() {
        crate::report_peak_memory();
    }
    Ok(match verdict {
        Ok(report) => {
            crate::output::line(verified(&report, keys_given, trusted_signature_checked))?;
            ExitCode::SUCCESS
        }
        Err(failure) => {
            crate::output::line(failed(&failure))?;
            ExitCode::FAILURE
        }
    })
}

/// The keys and the trusted checkpoint the arguments name; a key or a file that cannot be read
/// is an error of the command, not a verdict on the export.
fn trust(args: &VerifyArgs) -> anyhow::Result<Trust> {
    let mut keys = Keyring::new();
    for key in &args.public_keys {
        keys.add(key)
            .with_context(|| format!("--public-key {key}"))?;
    }
    let checkpoint = match &args.trusted_checkpoint {
        None => None,
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading {}", path.display()))?;
            // A JSON checkpoint opens with a brace; a C2SP note with its origin line.
            let trusted: TrustedCheckpoint = if text.trim_start().starts_with('{') {
                Checkpoint::from_json(&text)
                    .with_context(|| {
                        format!("--trusted-checkpoint {}: not a checkpoint", path.display())
                    })?
                    .into()
            } else {
                TrustedCheckpoint::Note(CheckpointNote::parse(&text).with_context(|| {
                    format!(
                        "--trusted-checkpoint {}: not a checkpoint note",
                        path.display()
                    )
                })?)
            };
            Some(trusted)
        }
    };
    Ok(Trust { keys, checkpoint })
}

/// A bar over the bytes of the export when standard error is a terminal; otherwise a hidden
/// one, so that pipes, logs and tests see nothing of it.
fn progress_bar(length: u64) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let style = ProgressStyle::with_template(
        "verifying [{bar:32}] {bytes}/{total_bytes} {msg} (eta {eta})",
    )
    .map_or_else(
        |_| ProgressStyle::default_bar(),
        |style| style.progress_chars("=> "),
    );
    ProgressBar::new(length).with_style(style)
}

/// `verified: contract C, N entries, root H, K checkpoints (K signatures checked), extends
/// trusted checkpoint at size M`.
fn verified(report: &VerifyReport, keys_given: bool, trusted_signature_checked: bool) -> String {
    let contract = report
        .contract_id
        .as_ref()
        .map_or_else(|| "an empty export".to_owned(), |c| format!("contract {c}"));
    let count = report.checkpoints.len() as u64;
    let mut line = format!(
        "verified: {contract}, {}, root {}, {}",
        counted(report.size, "entry", "entries"),
        report.root,
        counted(count, "checkpoint", "checkpoints"),
    );
    if count > 0 {
        if keys_given {
            let checked = counted(report.signatures_checked, "signature", "signatures");
            line.push_str(&format!(" ({checked} checked)"));
        } else {
            line.push_str(" (signatures not checked: give --public-key)");
        }
    }
    if let Some(proof) = &report.extends {
        line.push_str(&format!(
            ", extends trusted checkpoint at size {}",
            proof.first
        ));
        if trusted_signature_checked {
            line.push_str(" (signature checked)");
        }
    }
    line
}

fn counted(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// `FAILED at position N: ...` (or `at line N`) for what is placed in the export's lines;
/// `FAILED: ...` naming the checkpoint for the rest, whose cause may lie anywhere before it.
fn failed(failure: &VerifyFailure) -> String {
    // No catch-all arm: a new kind of failure must be placed here before it compiles.
    match failure {
        VerifyFailure::Unreadable { .. }
        | VerifyFailure::LineTooLong { .. }
        | VerifyFailure::MalformedLine { .. }
        | VerifyFailure::EntryAfterCheckpoint { .. }
        | VerifyFailure::PositionOutOfOrder { .. }
        | VerifyFailure::EntryPositionMismatch { .. }
        | VerifyFailure::ContractMismatch { .. }
        | VerifyFailure::LeafHashMismatch { .. } => format!("FAILED at {failure}"),
        VerifyFailure::CheckpointContractMismatch { .. }
        | VerifyFailure::CheckpointBeyondLog { .. }
        | VerifyFailure::CheckpointRootMismatch { .. }
        | VerifyFailure::CheckpointSignature { .. }
        | VerifyFailure::TrustedCheckpointSignature { .. }
        | VerifyFailure::TrustedNoteSignature { .. }
        | VerifyFailure::TrustedCheckpointContractMismatch { .. }
        | VerifyFailure::TrustedCheckpointBeyondExport { .. }
        | VerifyFailure::DoesNotExtendTrustedCheckpoint { .. }
        | VerifyFailure::TrustedConsistencyProof { .. } => format!("FAILED: {failure}"),
    }
}
