//! `esito import`: commands from a CSV file into a contract's log, the file read as a stream.
//!
//! The file is read three times and never held: for its SHA-256 (the rows' event ids derive
//! from it), to check every row's form (every bad row reported, nothing written), then in calls
//! of `CALL_ROWS` rows, each decided whole against the log (`Store::check`) and written only if
//! every row of it passes (or with `--skip-invalid`, its good rows). A file of up to
//! `CALL_ROWS` rows is so written whole or not at all; a longer one call by call.

use std::io::{BufReader, IsTerminal, Read};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use esito_api::import::{self, Dialect, Options, Problem, Report, RowReader, Rows};
use esito_domain::ContractId;
use indicatif::{ProgressBar, ProgressStyle};
use sha2::{Digest, Sha256};

/// Rows decided and written at a time: a call's check holds each row's planned entry and
/// history (a few KiB a row), so this bounds the memory of an import of any length below
/// 256 MiB.
pub const CALL_ROWS: usize = 20_000;
const _: () = assert!(CALL_ROWS <= import::IMPORT_ROWS_MAX);

#[derive(clap::Args)]
pub struct ImportArgs {
    /// The CSV file: one row per command, columns named as the command's fields (templates in
    /// docs/import/), `;` or `,` separated, UTF-8 with or without a byte order mark.
    file: PathBuf,
    #[arg(long)]
    contract: String,
    /// The command each row is, as its path segment: `record-access`, `place-order`...
    #[arg(long)]
    command: String,
    /// Check every row and write nothing.
    #[arg(long)]
    dry_run: bool,
    /// Write the good rows even when some are bad (each bad one is reported).
    #[arg(long)]
    skip_invalid: bool,
    /// Also write the bad rows' report as CSV (line, column, code, message) to this file.
    #[arg(long, value_name = "FILE")]
    report: Option<PathBuf>,
    /// Who the events are recorded by (`recorded_by`).
    #[arg(long, default_value = "esito-import")]
    principal: String,
    #[arg(long, env = "ESITO_DATABASE", default_value = esito_cli::DEFAULT_DATABASE)]
    database: String,
}

pub async fn run(args: ImportArgs) -> anyhow::Result<ExitCode> {
    let contract = ContractId::parse(&args.contract).context("--contract")?;
    let (digest, dialect, length) = digest_and_dialect(&args.file)?;
    let options = Options {
        dry_run: args.dry_run,
        skip_invalid: args.skip_invalid,
    };
    let bar = progress_bar(length);

    // First every row's form, the whole file, holding only the problems.
    let mut problems = Vec::new();
    let mut rows_read = 0u64;
    let reader = for_each_row(
        &args,
        &dialect,
        digest,
        &bar,
        |reader, line, row, record| {
            rows_read = row;
            if let Err(problem) = reader.submission(line, row, record) {
                problems.push(problem);
            }
        },
    )?;
    let reader = match reader {
        Ok(reader) => reader,
        Err(header) => return refused(&args, &header, 0),
    };
    if !problems.is_empty() && !options.skip_invalid && !options.dry_run {
        return refused(&args, &problems, rows_read);
    }

    // Then call by call: decided whole, written if every row passes.
    let store = esito_cli::connect_existing(&args.database).await?;
    if store.head(&contract).await?.is_none() {
        anyhow::bail!("contract {contract} has no entries: register it first");
    }
    bar.set_position(0);
    bar.set_message("writing");
    let mut total = Report::default();
    bar.set_length(rows_read);
    let mut rows = Rows::default();
    let file = std::fs::File::open(&args.file)?;
    let mut records = dialect.reader(skip_bom(BufReader::new(file), &dialect)?);
    let _ = records.headers()?;
    let mut record = csv::StringRecord::new();
    let mut row = 0u64;
    loop {
        // The first reading read every row: one that fails now changed meanwhile.
        let more = records
            .read_record(&mut record)
            .with_context(|| format!("{}: read again", args.file.display()))?;
        if more {
            row += 1;
            let line = record.position().map_or(row + 1, csv::Position::line);
            rows.push(&reader, line, row, &record);
        }
        if rows.count as usize == CALL_ROWS || (!more && rows.count > 0) {
            let call = std::mem::take(&mut rows);
            let written_before = total.written + total.already_in_log;
            let report = import::check_and_write(
                &store,
                &contract,
                &args.principal,
                call,
                options,
                |done| bar.set_position(written_before + done),
            )
            .await
            .map_err(|error| anyhow::anyhow!("{}: {}", error.code, error.detail))?;
            let stop = !report.problems.is_empty() && !options.skip_invalid && !options.dry_run;
            total.add(report);
            if stop {
                bar.finish_and_clear();
                return refused(&args, &total.problems, total.rows);
            }
        }
        if !more {
            break;
        }
    }
    bar.finish_and_clear();
    // The form's problems, already known, with the log's.
    if options.dry_run || options.skip_invalid {
        total.problems = merged(problems, total.problems);
    }
    report_problems(&args, &total.problems)?;
    crate::output::line(format_args!(
        "{}: {} rows, {} valid, {} written, {} already in the log{} (delimiter '{}'{})",
        if options.dry_run {
            "checked"
        } else {
            "imported"
        },
        total.rows,
        total.valid,
        total.written,
        total.already_in_log,
        if total.problems.is_empty() {
            String::new()
        } else {
            format!(", {} bad rows skipped", total.problems.len())
        },
        char::from(dialect.delimiter),
        if dialect.bom { ", BOM" } else { "" },
    ))?;
    if std::env::var_os("ESITO_REPORT_PEAK_MEMORY").is_some() {
        crate::report_peak_memory();
    }
    Ok(if options.dry_run && !total.problems.is_empty() {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}

/// The problems of both readings, each row once, in line order.
fn merged(mut form: Vec<Problem>, log: Vec<Problem>) -> Vec<Problem> {
    for problem in log {
        if !form.iter().any(|known| known.line == problem.line) {
            form.push(problem);
        }
    }
    form.sort_by_key(|problem| problem.line);
    form
}

/// Reports the bad rows and writes nothing more: exit 1.
fn refused(args: &ImportArgs, problems: &[Problem], rows: u64) -> anyhow::Result<ExitCode> {
    report_problems(args, problems)?;
    crate::output::line(format_args!(
        "refused: {} bad rows of {rows}; nothing was written",
        problems.len()
    ))?;
    Ok(ExitCode::FAILURE)
}

/// Every bad row as text on standard error, and as CSV to `--report`.
fn report_problems(args: &ImportArgs, problems: &[Problem]) -> anyhow::Result<()> {
    eprint!("{}", import::problems_text(problems));
    if let Some(path) = &args.report {
        std::fs::write(path, import::problems_csv(problems))
            .with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(())
}

/// The file's SHA-256, its dialect (from its first bytes) and its length, in one reading.
fn digest_and_dialect(path: &Path) -> anyhow::Result<([u8; 32], Dialect, u64)> {
    let mut file =
        std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut hasher = Sha256::new();
    let mut buffer = vec![0; 1 << 16];
    let mut start = Vec::new();
    let mut length = 0u64;
    loop {
        let read = file.read(&mut buffer)?;
        if read == 0 {
            break;
        }
        hasher.update(&buffer[..read]);
        if start.len() < 1 << 16 {
            start.extend_from_slice(&buffer[..read.min((1 << 16) - start.len())]);
        }
        length += read as u64;
    }
    Ok((hasher.finalize().into(), Dialect::sniff(&start), length))
}

/// The reader past the byte order mark, when the file has one.
fn skip_bom<R: Read>(mut input: R, dialect: &Dialect) -> anyhow::Result<R> {
    if dialect.bom {
        let mut bom = [0; 3];
        input.read_exact(&mut bom)?;
    }
    Ok(input)
}

/// Reads every row once, calling `each` with the row reader, its line, its number and its
/// cells; returns the row reader, or the header's problems.
fn for_each_row(
    args: &ImportArgs,
    dialect: &Dialect,
    digest: [u8; 32],
    bar: &ProgressBar,
    mut each: impl FnMut(&RowReader, u64, u64, &csv::StringRecord),
) -> anyhow::Result<Result<RowReader, Vec<Problem>>> {
    let file = std::fs::File::open(&args.file)?;
    let mut records = dialect.reader(skip_bom(BufReader::new(bar.wrap_read(file)), dialect)?);
    let header = records
        .headers()
        .with_context(|| format!("{}: the header row", args.file.display()))?
        .clone();
    let reader = match RowReader::new(&args.command, &header, digest) {
        Ok(reader) => reader,
        Err(problems) => return Ok(Err(problems)),
    };
    let mut record = csv::StringRecord::new();
    let mut row = 0u64;
    loop {
        match records.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                row += 1;
                let line = record.position().map_or(row + 1, csv::Position::line);
                each(&reader, line, row, &record);
            }
            Err(error) => anyhow::bail!("{}: {error}", args.file.display()),
        }
    }
    Ok(Ok(reader))
}

/// A bar over the file's bytes, then its rows written, when standard error is a terminal.
fn progress_bar(length: u64) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let style = ProgressStyle::with_template("importing [{bar:32}] {pos}/{len} {msg} (eta {eta})")
        .map_or_else(
            |_| ProgressStyle::default_bar(),
            |style| style.progress_chars("=> "),
        );
    ProgressBar::new(length).with_style(style)
}
