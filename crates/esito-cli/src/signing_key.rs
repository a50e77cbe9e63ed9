//! The checkpoint signing key's file: made on first start, replaced by a rotation.
//!
//! Invariant: the key file holds one base64 Ed25519 seed, readable by its owner only (mode
//! 0600), and is only ever replaced whole (a new file renamed over it), so a crash leaves
//! either the old key or the new one, never half of either.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use anyhow::Context;
use base64::Engine;
use esito_log::signing::CheckpointKey;
use esito_store::Store;

const ENGINE: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// The key in `path`, or a new one written there (mode 0600) from the operating system's
/// randomness when there is no file yet.
pub fn load_or_create(path: &Path) -> anyhow::Result<CheckpointKey> {
    if path.exists() {
        return load(path);
    }
    let seed = random_seed()?;
    write_new(path, &seed)?;
    Ok(CheckpointKey::from_seed(seed))
}

fn load(path: &Path) -> anyhow::Result<CheckpointKey> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let seed: [u8; 32] = ENGINE
        .decode(text.trim())
        .ok()
        .and_then(|b| b.try_into().ok())
        .with_context(|| format!("{}: not a base64 Ed25519 seed of 32 bytes", path.display()))?;
    Ok(CheckpointKey::from_seed(seed))
}

fn random_seed() -> anyhow::Result<[u8; 32]> {
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed)
        .map_err(|e| anyhow::anyhow!("no randomness for a signing key: {e}"))?;
    Ok(seed)
}

/// Writes `seed` to a file that must not exist yet, readable by its owner only, and flushes it
/// to disk.
fn write_new(path: &Path, seed: &[u8; 32]) -> anyhow::Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    writeln!(file, "{}", ENGINE.encode(seed))?;
    file.sync_all()
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

/// What a rotation did.
pub struct Rotation {
    /// The key replaced, if its file was there.
    pub old_key_id: Option<String>,
    pub new_key_id: String,
}

/// Makes a new signing key in place of the one in `path` (or of a lost one): the database
/// records the new public key as current and retires every other, keeping them all so that
/// earlier checkpoints stay verifiable; then the new key's file replaces the old one, whose
/// private half is gone for good. A running service signs nothing more with the old key and
/// must be restarted.
pub async fn rotate(path: &Path, store: &Store) -> anyhow::Result<Rotation> {
    let old = if path.exists() {
        Some(load(path)?)
    } else {
        None
    };
    let seed = random_seed()?;
    let new = CheckpointKey::from_seed(seed);
    let mut pending = PathBuf::from(path.as_os_str());
    pending.as_mut_os_string().push(".new");
    // Left by a rotation that stopped before the database knew of its key: never used.
    if pending.exists() {
        std::fs::remove_file(&pending)
            .with_context(|| format!("removing {}", pending.display()))?;
    }
    write_new(&pending, &seed)?;
    let old_public = old.as_ref().map(CheckpointKey::public_key);
    let recorded = store
        .rotate_signing_key(
            old.as_ref()
                .zip(old_public.as_deref())
                .map(|(key, public)| (key.key_id(), public)),
            (new.key_id(), &new.public_key()),
        )
        .await;
    if let Err(error) = recorded {
        let _ = std::fs::remove_file(&pending);
        return Err(error).context("recording the new signing key");
    }
    std::fs::rename(&pending, path)
        .with_context(|| format!("moving {} to {}", pending.display(), path.display()))?;
    // The rename itself reaches the disk with its directory.
    let directory = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    std::fs::File::open(directory)
        .and_then(|d| d.sync_all())
        .with_context(|| format!("syncing {}", directory.display()))?;
    Ok(Rotation {
        old_key_id: old.map(|key| key.key_id().to_owned()),
        new_key_id: new.key_id().to_owned(),
    })
}
