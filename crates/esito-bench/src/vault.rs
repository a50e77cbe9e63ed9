//! The identity vault (docs/privacy.md): how fast identities are registered, read, found by
//! fiscal code and erased, and how long a master key rotation takes, with `identities` people
//! registered in one contract. Each figure is the store's and the vault's work as the API's
//! handlers do it (seal then write; read then open; erase then record `IdentityErased` in the
//! log), without HTTP. Written to `vault.json`.

use std::time::{Duration, Instant};

use esito_domain::events::{AgeBand, IseeBand};
use esito_domain::{Command, ContractId, StreamId, Submission};
use esito_store::identities::{Erasure, Registration, SealedRow, StoredIdentity};
use esito_store::Store;
use esito_vault::{FiscalCode, Identity, MasterKey};
use serde_json::{json, Value};

use crate::api::percentile;

const CONTRACT: &str = "vault-bench";
/// Beneficiaries registered in the log per append.
const BATCH: usize = 1_000;
/// Reads, lookups and erasures timed one by one, at most.
const SAMPLES: usize = 2_000;

fn pseudonym(n: u64) -> StreamId {
    StreamId::parse(&format!("ben-{n:06}")).expect("a valid id")
}

/// A valid fiscal code for person `n`: six letters and the digits of `n`, then whichever check
/// letter the first fifteen give.
fn fiscal_code(n: u64) -> FiscalCode {
    let letters: String = (0..6)
        .map(|i| char::from(b'A' + u8::try_from((n / 26u64.pow(i)) % 26).expect("below 26")))
        .collect();
    let first = format!(
        "{letters}{:02}A{:02}Z{:03}",
        n % 100,
        (n / 100) % 70 + 1,
        (n / 7_000) % 1_000
    );
    ('A'..='Z')
        .find_map(|check| FiscalCode::parse(&format!("{first}{check}")).ok())
        .expect("one check letter fits")
}

fn identity(n: u64) -> Identity {
    serde_json::from_value(json!({
        "given_name": format!("Nome{n}"), "family_name": format!("Cognome{n}"),
        "fiscal_code": fiscal_code(n), "birth_date": "1960-05-04",
        "contacts": {"phone": format!("+39 011 {n:07}")}
    }))
    .expect("a valid identity")
}

fn ms(sorted: &mut [Duration]) -> (f64, f64) {
    sorted.sort();
    (percentile(sorted, 50), percentile(sorted, 99))
}

/// Registers `identities` beneficiaries in the log (not timed), then times the vault on them.
pub async fn measure(name: &str, url: &str, identities: u64) -> anyhow::Result<Value> {
    let store = Store::connect(url).await?;
    let contract = ContractId::parse(CONTRACT)?;
    let registration = esito_cli::demo::contract_registration(
        &contract,
        "Vault benchmark",
        "cuneo",
        "2024-01-01".parse()?,
        "2024-12-31".parse()?,
    );
    store.append(&contract, "bench", &[registration]).await?;
    let at = esito_domain::OccurredAt::parse("2024-02-01T09:00:00+01:00")?;
    let all: Vec<u64> = (0..identities).collect();
    for chunk in all.chunks(BATCH) {
        let batch: Vec<Submission> = chunk
            .iter()
            .map(|&n| Submission {
                event_id: uuid::Uuid::new_v4(),
                occurred_at: at,
                command: Command::RegisterBeneficiary {
                    beneficiary_id: pseudonym(n),
                    isee_band: Some(IseeBand::ALL[(n % 4) as usize]),
                    household_size: Some(2),
                    age_band: Some(AgeBand::From65To79),
                    flags: vec![],
                },
            })
            .collect();
        store.append(&contract, "bench", &batch).await?;
    }
    let master = MasterKey::generate()?;
    store.adopt_vault_master_key(&master.key_id()).await?;
    let key_id = master.key_id();

    // Registration: seal, then one transaction each, one after the other.
    let started = Instant::now();
    for n in 0..identities {
        let sealed = master.seal(CONTRACT, pseudonym(n).as_str(), &identity(n))?;
        let row = SealedRow {
            wrapped_key: sealed.wrapped_key,
            ciphertext: sealed.ciphertext,
            fiscal_code_hmac: sealed.fiscal_code_hmac,
        };
        let done = store
            .put_identity(CONTRACT, pseudonym(n).as_str(), &key_id, &row)
            .await?;
        anyhow::ensure!(done == Registration::Created, "registration {n}: {done:?}");
    }
    let register_seconds = started.elapsed().as_secs_f64();
    let register_rate = identities as f64 / register_seconds;

    let samples = SAMPLES.min(usize::try_from(identities)?);
    let step = (identities / samples as u64).max(1);
    let picked: Vec<u64> = (0..samples as u64)
        .map(|i| (i * step * 7_919) % identities)
        .collect();

    let mut reads = Vec::with_capacity(samples);
    for &n in &picked {
        let started = Instant::now();
        let StoredIdentity::Present(row) = store.identity(CONTRACT, pseudonym(n).as_str()).await?
        else {
            anyhow::bail!("identity {n} is missing");
        };
        let opened = master.open(
            CONTRACT,
            pseudonym(n).as_str(),
            &row.wrapped_key,
            &row.ciphertext,
        )?;
        reads.push(started.elapsed());
        anyhow::ensure!(
            opened == identity(n),
            "identity {n} reads back as registered"
        );
    }
    let mut lookups = Vec::with_capacity(samples);
    for &n in &picked {
        let started = Instant::now();
        let found = store
            .identity_by_fiscal_code(CONTRACT, &master.lookup(&fiscal_code(n)))
            .await?;
        lookups.push(started.elapsed());
        anyhow::ensure!(
            found.as_deref() == Some(pseudonym(n).as_str()),
            "lookup {n}"
        );
    }

    let new = MasterKey::generate()?;
    let started = Instant::now();
    let rewrapped = store
        .rotate_vault_master_key(&key_id, &new.key_id(), |record| {
            master.rewrap(
                &new,
                &record.contract_id,
                &record.beneficiary_id,
                &record.wrapped_key,
                &record.ciphertext,
            )
        })
        .await?
        .map_err(|refused| anyhow::anyhow!("rotation refused: {refused:?}"))?;
    let rotation_seconds = started.elapsed().as_secs_f64();
    anyhow::ensure!(
        rewrapped == identities,
        "{rewrapped} of {identities} rewrapped"
    );

    // Erasure: the rows, then IdentityErased in the log, as DELETE does.
    let mut erasures = Vec::with_capacity(samples);
    let mut erased = std::collections::BTreeSet::new();
    for &n in &picked {
        if !erased.insert(n) {
            continue;
        }
        let started = Instant::now();
        let Erasure::Erased { erased_at } = store
            .erase_identity(CONTRACT, pseudonym(n).as_str())
            .await?
        else {
            anyhow::bail!("identity {n} was not there to erase");
        };
        let submission = Submission {
            event_id: uuid::Uuid::new_v4(),
            occurred_at: esito_domain::OccurredAt::parse(&erased_at)?,
            command: Command::EraseIdentity {
                beneficiary_id: pseudonym(n),
            },
        };
        store.append(&contract, "bench", &[submission]).await?;
        erasures.push(started.elapsed());
    }

    let (read_p50, read_p99) = ms(&mut reads);
    let (lookup_p50, lookup_p99) = ms(&mut lookups);
    let (erase_p50, erase_p99) = ms(&mut erasures);
    println!("vault ({name}, {identities} identities):");
    println!("  register                 {register_rate:>11.0} /s        ({register_seconds:.1} s, sealed and written one at a time)");
    println!("  read and open            p50 {read_p50:>7.3} ms  p99 {read_p99:>7.3} ms  ({samples} reads)");
    println!("  find by fiscal code      p50 {lookup_p50:>7.3} ms  p99 {lookup_p99:>7.3} ms");
    println!("  erase and record         p50 {erase_p50:>7.3} ms  p99 {erase_p99:>7.3} ms  ({} erasures)", erasures.len());
    println!("  master key rotation      {rotation_seconds:>11.2} s         ({rewrapped} data keys rewrapped in one transaction)");
    Ok(json!({
        "store": name,
        "identities": identities,
        "register_per_second": register_rate,
        "register_seconds": register_seconds,
        "read_ms": { "p50": read_p50, "p99": read_p99, "samples": samples },
        "lookup_ms": { "p50": lookup_p50, "p99": lookup_p99, "samples": samples },
        "erase_ms": { "p50": erase_p50, "p99": erase_p99, "samples": erasures.len() },
        "rotation_seconds": rotation_seconds,
    }))
}
