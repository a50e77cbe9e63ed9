//! Verification of an export that can be read twice (a file): the checkpoints' sizes read back from its end first, so that the entries are checked keeping only the tree heads at those sizes.
//!
//! Invariant: the verdict is the one [`verify_export`] gives for the same bytes; the sizes read
//! from the end are only a plan, and a checkpoint found at a size outside it makes the export
//! be read once more with that size added.
//!
//! [`verify_export`]: super::verify_export

use std::io::{self, BufReader, Read, Seek, SeekFrom};

use serde::de::IgnoredAny;
use serde::Deserialize;

use super::batch::{verify_lines_on, workers};
use super::verify::{ExportVerifier, Trust, VerifyFailure, VerifyReport};
use super::MAX_LINE_BYTES;

/// How many bytes the end of the export is read back in at a time, at first; a line longer
/// than this is read in a chunk as long as what is already held, so that it is copied
/// O(log length) times.
const TAIL_CHUNK_BYTES: usize = 64 * 1024;

/// The buffer the export is read through from the start.
const READ_BUFFER_BYTES: usize = 256 * 1024;

/// [`verify_export_trusting`], for a reader that can seek: the tree heads that checkpoints
/// need are kept at their sizes alone, read first from the checkpoint lines at the export's
/// end, so the memory kept does not grow with the number of entries (see the module
/// documentation of [`crate::export`]).
///
/// [`verify_export_trusting`]: super::verify_export_trusting
pub fn verify_export_seekable<R: Read + Seek>(
    mut reader: R,
    trust: Trust,
    mut on_progress: impl FnMut(u64),
) -> Result<VerifyReport, VerifyFailure> {
    let verifier = ExportVerifier::trusting(trust)?;
    let unreadable = |error: io::Error| VerifyFailure::Unreadable {
        line_number: 1,
        reason: error.to_string(),
    };
    let mut sizes = checkpoint_sizes_at_end(&mut reader).map_err(unreadable)?;
    let mut first = verifier
        .clone()
        .keeping_heads_at(sizes.iter().copied(), false);
    reader.seek(SeekFrom::Start(0)).map_err(unreadable)?;
    let read = BufReader::with_capacity(READ_BUFFER_BYTES, &mut reader);
    let verdict = verify_lines_on(&mut first, read, &mut on_progress, workers());
    if first.unplanned().is_empty() {
        verdict?;
        return first.finish();
    }
    // A checkpoint was not among those at the end: its tree head was not kept, and a failure
    // after it may not be the first. Read again knowing its size.
    sizes.extend_from_slice(first.unplanned());
    drop(first);
    let mut second = verifier.keeping_heads_at(sizes, true);
    reader.seek(SeekFrom::Start(0)).map_err(unreadable)?;
    let read = BufReader::with_capacity(READ_BUFFER_BYTES, &mut reader);
    verify_lines_on(&mut second, read, &mut on_progress, workers())?;
    second.finish()
}

/// A line read back from the end for the size of its checkpoint only; anything else in it is
/// left for the verification to judge.
#[derive(Deserialize)]
struct TailLine {
    #[serde(default)]
    position: Option<IgnoredAny>,
    #[serde(default)]
    checkpoint: Option<TailCheckpoint>,
}

#[derive(Deserialize)]
struct TailCheckpoint {
    size: u64,
}

/// The sizes of the checkpoints at the end of the export, last line first: every line read
/// back that names a checkpoint's size, until the first that has a position (the last entry)
/// or one longer than [`MAX_LINE_BYTES`], at which verification fails anyway. A line that is
/// neither is passed over: the verification names it.
fn checkpoint_sizes_at_end<R: Read + Seek>(reader: &mut R) -> io::Result<Vec<u64>> {
    let mut start = reader.seek(SeekFrom::End(0))?;
    // The bytes from `start` to the start of the last line looked at.
    let mut held: Vec<u8> = Vec::new();
    let mut sizes = Vec::new();
    loop {
        // A line is whole once the newline before it is held, or the file's start is.
        let without_own_newline = held.len().saturating_sub(1);
        let line_start = match held[..without_own_newline]
            .iter()
            .rposition(|&b| b == b'\n')
        {
            Some(newline) => Some(newline + 1),
            None if start == 0 => Some(0),
            None => None,
        };
        if let Some(line_start) = line_start {
            let line = held.split_off(line_start);
            match serde_json::from_slice::<TailLine>(&line) {
                Ok(TailLine {
                    checkpoint: Some(checkpoint),
                    ..
                }) => sizes.push(checkpoint.size),
                Ok(TailLine {
                    position: Some(_), ..
                }) => return Ok(sizes),
                Ok(_) | Err(_) => {}
            }
            if line_start == 0 && start == 0 {
                return Ok(sizes);
            }
            continue;
        }
        if held.len() as u64 > MAX_LINE_BYTES {
            return Ok(sizes);
        }
        let chunk = TAIL_CHUNK_BYTES.max(held.len());
        let chunk = u64::try_from(chunk).map_or(start, |chunk| chunk.min(start));
        start -= chunk;
        reader.seek(SeekFrom::Start(start))?;
        let mut bytes = vec![0; usize::try_from(chunk).expect("a chunk fits in memory")];
        reader.read_exact(&mut bytes)?;
        bytes.extend_from_slice(&held);
        held = bytes;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    fn sizes(text: &str) -> Vec<u64> {
        checkpoint_sizes_at_end(&mut Cursor::new(text.as_bytes())).expect("in memory")
    }

    #[test]
    fn the_sizes_are_read_from_the_checkpoints_at_the_end_last_first() {
        let text = "{\"position\":1}\n{\"position\":2}\n{\"checkpoint\":{\"size\":1}}\n{\"checkpoint\":{\"size\":2,\"root_hash\":\"x\"}}\n";
        assert_eq!(sizes(text), [2, 1]);
        assert_eq!(sizes(text.trim_end()), [2, 1]);
    }

    #[test]
    fn lines_that_are_neither_are_passed_over_and_the_last_entry_ends_the_reading() {
        let text =
            "{\"checkpoint\":{\"size\":9}}\n{\"position\":2}\n\nnot json\n{\"checkpoint\":{\"size\":1}}\n\n";
        assert_eq!(sizes(text), [1]);
        assert_eq!(sizes("{\"checkpoint\":{\"size\":3}}"), [3]);
        assert_eq!(sizes(""), Vec::<u64>::new());
    }

    #[test]
    fn lines_longer_than_a_chunk_are_read_whole() {
        let long = " ".repeat(3 * TAIL_CHUNK_BYTES + 17);
        let text = format!(
            "{{\"position\":1}}\n{{\"checkpoint\":{{\"size\":4}}{long}}}\n{{\"checkpoint\":{{\"size\":5}}}}{long}\n"
        );
        assert_eq!(sizes(&text), [5, 4]);
    }
}
