//! The export read in batches of lines, each batch parsed, canonicalized and hashed on a worker thread, the results checked in order on the calling thread.
//!
//! Invariant: batches come back in the order they were read (batch k goes to worker k mod n and
//! is taken back in the same turn), and at most two per worker and about [`IN_FLIGHT_BYTES`]
//! of lines are in flight, so memory stays flat however long the export.

use std::io::{BufRead, Read};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::thread;

use super::line::ParsedLine;
use super::verify::{ExportVerifier, Trust, VerifyFailure, VerifyReport};
use super::MAX_LINE_BYTES;
use crate::checkpoint::Checkpoint;
use crate::hash::Hash;

/// The most lines [`verify_export`] hands to a thread at once: enough that handing them over
/// costs nothing beside reading them.
const BATCH_LINES: usize = 4096;

/// A batch ends after the line that takes it past this many bytes, so that long lines do not
/// make batches large.
const BATCH_BYTES: usize = 1024 * 1024;

/// [`verify_export`] reads no new batch while this many bytes of lines wait to be checked.
const IN_FLIGHT_BYTES: usize = 16 * 1024 * 1024;

/// The most threads [`verify_export`] reads lines on; beyond this the calling thread, which
/// reads the export and applies the checks in order, is the limit.
const MAX_WORKERS: usize = 8;

/// How many threads to read lines on: as many as the machine runs at once, up to
/// [`MAX_WORKERS`].
pub(super) fn workers() -> usize {
    thread::available_parallelism().map_or(1, |n| n.get().min(MAX_WORKERS))
}

/// Verifies an export as it streams past, calling `on_progress` with the number of entries
/// verified after each entry. See the module documentation for what is checked, the memory used
/// and the threads.
pub fn verify_export<R: BufRead>(
    reader: R,
    on_progress: impl FnMut(u64),
) -> Result<VerifyReport, VerifyFailure> {
    verify_export_trusting(reader, Trust::default(), on_progress)
}

/// [`verify_export`], checking signatures with `trust.keys` and that the export extends
/// `trust.checkpoint` (see the module documentation).
pub fn verify_export_trusting<R: BufRead>(
    reader: R,
    trust: Trust,
    on_progress: impl FnMut(u64),
) -> Result<VerifyReport, VerifyFailure> {
    let verifier = ExportVerifier::trusting(trust)?;
    verify_export_on(verifier, reader, on_progress, workers())
}

/// [`verify_export`] with the lines read on `workers` threads, or on the calling thread alone
/// for fewer than two; tests choose the number to exercise each way on any machine.
pub(super) fn verify_export_on<R: BufRead>(
    mut verifier: ExportVerifier,
    reader: R,
    on_progress: impl FnMut(u64),
    workers: usize,
) -> Result<VerifyReport, VerifyFailure> {
    verify_lines_on(&mut verifier, reader, on_progress, workers)?;
    verifier.finish()
}

/// Gives every line of `reader` to `verifier`, read on `workers` threads as
/// [`verify_export_on`] does, stopping at the first failure; the caller finishes.
pub(super) fn verify_lines_on<R: BufRead>(
    verifier: &mut ExportVerifier,
    reader: R,
    mut on_progress: impl FnMut(u64),
    workers: usize,
) -> Result<(), VerifyFailure> {
    let mut lines = BatchReader { reader, lines: 0 };
    let mut batch = Batch::default();
    lines.read_batch(&mut batch);
    if batch.end.is_some() || workers < 2 {
        // An export of one batch, or one core: threads would only add their own cost.
        let mut canonical = Vec::with_capacity(1024);
        loop {
            batch.read_lines(&mut canonical);
            let last = batch.end.is_some();
            verifier.verify_batch(&mut batch, &mut on_progress)?;
            if last {
                return Ok(());
            }
            lines.read_batch(&mut batch);
        }
    }
    let stop = AtomicBool::new(false);
    thread::scope(|scope| {
        let mut to_workers = Vec::with_capacity(workers);
        let mut from_workers = Vec::with_capacity(workers);
        for _ in 0..workers {
            let (send_batch, batches) = mpsc::channel::<Batch>();
            let (send_read, read) = mpsc::channel::<Batch>();
            let stop = &stop;
            scope.spawn(move || {
                let mut canonical = Vec::with_capacity(1024);
                for mut batch in batches {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    batch.read_lines(&mut canonical);
                    if send_read.send(batch).is_err() {
                        break;
                    }
                }
            });
            to_workers.push(send_batch);
            from_workers.push(read);
        }
        let verdict = verify_in_order(
            verifier,
            &mut lines,
            batch,
            &to_workers,
            &from_workers,
            &mut on_progress,
        );
        // On a failure the workers may still hold batches; they are not needed.
        stop.store(true, Ordering::Relaxed);
        verdict
    })
}

/// Hands batches to the workers in turn (batch k to worker k mod n) and takes their results
/// back in the same turn, so that results arrive in export order without any reordering;
/// `first` is the batch already read.
fn verify_in_order<R: BufRead>(
    verifier: &mut ExportVerifier,
    lines: &mut BatchReader<R>,
    first: Batch,
    to_workers: &[mpsc::Sender<Batch>],
    from_workers: &[mpsc::Receiver<Batch>],
    on_progress: &mut impl FnMut(u64),
) -> Result<(), VerifyFailure> {
    let workers = to_workers.len();
    let mut next = Some(first);
    let mut spare: Vec<Batch> = Vec::new();
    let (mut sent, mut done, mut in_flight_bytes) = (0usize, 0usize, 0usize);
    let mut read_all = false;
    loop {
        // Two batches per worker keep each busy while the calling thread reads and checks.
        while !read_all && sent - done < 2 * workers && in_flight_bytes < IN_FLIGHT_BYTES {
            let batch = match next.take() {
                Some(batch) => batch,
                None => {
                    let mut batch = spare.pop().unwrap_or_default();
                    lines.read_batch(&mut batch);
                    batch
                }
            };
            read_all = batch.end.is_some();
            in_flight_bytes += batch.text.len();
            to_workers[sent % workers]
                .send(batch)
                .expect("a worker takes batches until the verifier stops");
            sent += 1;
        }
        if done == sent {
            return Ok(());
        }
        let mut batch = from_workers[done % workers]
            .recv()
            .expect("a worker returns every batch it takes unless it panicked");
        done += 1;
        in_flight_bytes -= batch.text.len();
        verifier.verify_batch(&mut batch, on_progress)?;
        // A batch that held a very long line gives its memory back rather than keeping it.
        if batch.text.capacity() <= 4 * BATCH_BYTES {
            spare.push(batch);
        }
    }
}

/// Consecutive lines of an export, read but not yet checked.
#[derive(Default)]
pub(super) struct Batch {
    /// The lines, each with its newline, one after another.
    pub(super) text: Vec<u8>,
    /// Where each line ends in `text`.
    pub(super) ends: Vec<usize>,
    /// Why reading stopped after these lines; `None` if there are more.
    pub(super) end: Option<BatchEnd>,
    /// What each line says, filled by [`Batch::read_lines`]; stops at the first malformed line,
    /// since the export fails there at the latest.
    pub(super) lines: Vec<ReadLine>,
    /// The contracts the entries name, each once in a row, so that a line does not copy its
    /// contract id.
    pub(super) contracts: Vec<String>,
}

pub(super) enum BatchEnd {
    Eof,
    /// The reader failed or a line was too long; the export fails here unless a line before
    /// fails first.
    Failed(VerifyFailure),
}

/// A line of a [`Batch`] as read on a worker.
pub(super) enum ReadLine {
    Entry {
        position: u64,
        written: Hash,
        entry_position: u64,
        /// Index into [`Batch::contracts`].
        contract: usize,
        leaf: Hash,
    },
    /// Boxed, being rare and much larger than an entry's result.
    Checkpoint(Box<Checkpoint>),
    Malformed(String),
}

impl Batch {
    /// Reads, canonicalizes and hashes each line: the work that needs no other line.
    fn read_lines(&mut self, canonical: &mut Vec<u8>) {
        self.lines.clear();
        self.contracts.clear();
        let mut start = 0;
        for &end in &self.ends {
            let line = &self.text[start..end];
            start = end;
            let read = match ParsedLine::read(line, canonical) {
                Ok(ParsedLine::Entry {
                    position,
                    written,
                    entry_position,
                    contract_id,
                    leaf,
                }) => {
                    if self.contracts.last().map(String::as_str) != Some(&*contract_id) {
                        self.contracts.push(contract_id.into_owned());
                    }
                    ReadLine::Entry {
                        position,
                        written,
                        entry_position,
                        contract: self.contracts.len() - 1,
                        leaf,
                    }
                }
                Ok(ParsedLine::Checkpoint(checkpoint)) => {
                    ReadLine::Checkpoint(Box::new(checkpoint))
                }
                Err(reason) => {
                    self.lines.push(ReadLine::Malformed(reason));
                    return;
                }
            };
            self.lines.push(read);
        }
    }
}

/// Reads an export into batches, bounding each line by [`MAX_LINE_BYTES`].
struct BatchReader<R> {
    reader: R,
    /// Lines read so far, to number the line a read fails on.
    lines: u64,
}

impl<R: BufRead> BatchReader<R> {
    /// Refills `batch` with the next lines, up to [`BATCH_LINES`] or a little over
    /// [`BATCH_BYTES`], and notes in it why reading stopped if it did.
    fn read_batch(&mut self, batch: &mut Batch) {
        batch.text.clear();
        batch.ends.clear();
        batch.end = None;
        while batch.ends.len() < BATCH_LINES && batch.text.len() < BATCH_BYTES {
            let line_number = self.lines + 1;
            let start = batch.text.len();
            let read = (&mut self.reader)
                .take(MAX_LINE_BYTES + 1)
                .read_until(b'\n', &mut batch.text);
            let end = match read {
                Ok(0) => BatchEnd::Eof,
                Ok(read) if read as u64 > MAX_LINE_BYTES => {
                    BatchEnd::Failed(VerifyFailure::LineTooLong { line_number })
                }
                Ok(_) => {
                    self.lines = line_number;
                    batch.ends.push(batch.text.len());
                    continue;
                }
                Err(error) => BatchEnd::Failed(VerifyFailure::Unreadable {
                    line_number,
                    reason: error.to_string(),
                }),
            };
            batch.text.truncate(start);
            batch.end = Some(end);
            return;
        }
    }
}
