//! The identity vault's master key file: made on first start, replaced by a rotation, never in
//! the database (which records only its id).
//!
//! Invariant: the file holds one base64 key of 32 bytes, readable by its owner only (mode 0600),
//! and is only ever replaced whole (a new file renamed over it). A missing or foreign key never
//! stops the service: the vault is closed with the reason, logged at start and answered 503
//! `vault_unavailable` to its requests, and the log and everything computed from it still work.

use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use anyhow::Context;
use base64::Engine;
use esito_api::identities::Vault;
use esito_store::identities::RotationRefused;
use esito_store::Store;
use esito_vault::{MasterKey, MASTER_KEY_BYTES};

const ENGINE: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

fn load(path: &Path) -> anyhow::Result<MasterKey> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let bytes: [u8; MASTER_KEY_BYTES] = ENGINE
        .decode(text.trim())
        .ok()
        .and_then(|b| b.try_into().ok())
        .with_context(|| format!("{}: not a base64 key of 32 bytes", path.display()))?;
    Ok(MasterKey::from_bytes(bytes))
}

/// Writes `key` to a file that must not exist yet, readable by its owner only, and flushes it.
fn write_new(path: &Path, key: &MasterKey) -> anyhow::Result<()> {
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    writeln!(file, "{}", ENGINE.encode(key.bytes()))?;
    file.sync_all()
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

fn pending(path: &Path) -> PathBuf {
    let mut pending = PathBuf::from(path.as_os_str());
    pending.as_mut_os_string().push(".new");
    pending
}

fn sync_directory(path: &Path) -> anyhow::Result<()> {
    let directory = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    std::fs::File::open(directory)
        .and_then(|d| d.sync_all())
        .with_context(|| format!("syncing {}", directory.display()))
}

/// The vault `esito serve` opens: with the key in `path`, made there (mode 0600) when neither
/// the file nor a recorded key exists yet. Errors of the database stop the start; a missing or
/// foreign key closes the vault only, and is logged as an error.
pub async fn open(path: &Path, store: &Store) -> anyhow::Result<Vault> {
    let recorded = store.vault_master_key_id().await?;
    let closed = |reason: String| {
        tracing::error!(
            "identity vault closed: {reason}; the log, indicators and settlements still work"
        );
        Ok(Vault::Closed(reason))
    };
    if !path.exists() {
        return match recorded {
            None => {
                let key = MasterKey::generate()?;
                write_new(path, &key)?;
                store.adopt_vault_master_key(&key.key_id()).await?;
                tracing::info!(key_id = key.key_id(), path = %path.display(), "a new vault master key");
                Ok(Vault::Open(key))
            }
            Some(recorded) => closed(format!(
                "the master key file {} is missing (the vault's key is {recorded}): restore it \
                 from its backup; without it no identity can be read",
                path.display()
            )),
        };
    }
    let key = match load(path) {
        Ok(key) => key,
        Err(error) => return closed(format!("{error:#}")),
    };
    let recorded = store.adopt_vault_master_key(&key.key_id()).await?;
    if recorded == key.key_id() {
        return Ok(Vault::Open(key));
    }
    // A rotation that recorded its new key but stopped before renaming the file finishes here.
    let pending = pending(path);
    if let Ok(new) = load(&pending) {
        if new.key_id() == recorded {
            std::fs::rename(&pending, path)
                .with_context(|| format!("moving {} to {}", pending.display(), path.display()))?;
            sync_directory(path)?;
            tracing::info!(key_id = recorded, "finished a master key rotation");
            return Ok(Vault::Open(new));
        }
    }
    closed(format!(
        "the master key in {} ({}) is not the vault's ({recorded}): start with the vault's key file",
        path.display(),
        key.key_id()
    ))
}

/// What a rotation did.
pub struct Rotation {
    pub old_key_id: String,
    pub new_key_id: String,
    pub rewrapped: u64,
}

/// Makes a new master key in place of the one in `path`: every data key is unwrapped with the
/// old key and wrapped with the new, and each fiscal code's lookup recomputed, in one
/// transaction with the recorded key id; then the new file replaces the old. A running service
/// must be restarted: its old key reads and writes nothing more.
pub async fn rotate(path: &Path, store: &Store) -> anyhow::Result<Rotation> {
    let old = load(path).context("the current master key")?;
    let new = MasterKey::generate()?;
    let pending = pending(path);
    if pending.exists() {
        std::fs::remove_file(&pending)
            .with_context(|| format!("removing {}", pending.display()))?;
    }
    write_new(&pending, &new)?;
    let rotated = store
        .rotate_vault_master_key(&old.key_id(), &new.key_id(), |record| {
            old.rewrap(
                &new,
                &record.contract_id,
                &record.beneficiary_id,
                &record.wrapped_key,
                &record.ciphertext,
            )
        })
        .await;
    let rewrapped = match rotated {
        Ok(Ok(count)) => count,
        failed => {
            let _ = std::fs::remove_file(&pending);
            match failed {
                Err(error) => return Err(error).context("rotating the master key"),
                Ok(Err(RotationRefused::OtherMasterKey { recorded })) => anyhow::bail!(
                    "{}: master key {} is not the vault's ({recorded}); nothing was changed",
                    path.display(),
                    old.key_id()
                ),
                Ok(Err(RotationRefused::Record {
                    contract_id,
                    beneficiary_id,
                    error,
                })) => anyhow::bail!(
                    "the identity of {beneficiary_id} in {contract_id}: {error}; nothing was changed"
                ),
                Ok(Ok(_)) => unreachable!("handled above"),
            }
        }
    };
    std::fs::rename(&pending, path)
        .with_context(|| format!("moving {} to {}", pending.display(), path.display()))?;
    sync_directory(path)?;
    Ok(Rotation {
        old_key_id: old.key_id(),
        new_key_id: new.key_id(),
        rewrapped,
    })
}
