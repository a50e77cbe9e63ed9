//! `esito demo`: the four programmes of the seeds, read from the files under `demo/` at the
//! repository root (embedded in the binary), appended with the demo's keys.
//!
//! Each file holds one contract's submissions as JSON Lines, in the order they are appended:
//! the registration, the terms, then every command with its event id, `occurred_at` and the
//! principal that records it (`demo/README.md`). The event ids are fixed, so loading the demo
//! again writes nothing.
//!
//! Invariant: every command of the demo is accepted by the domain in the order the demo
//! appends it, and every date lies in its contract's term (a test replays them through
//! `decide`).

use chrono::{NaiveDate, NaiveTime};
use esito_api::auth::Role;
use esito_domain::events::PeriodKind;
use esito_domain::terms::ContractChange;
use esito_domain::{Command, ContractId, EventId, OccurredAt, Submission};
use esito_store::Store;

/// Commands per append: well under the store's `BATCH_SIZE_MAX`, so one failing batch names a
/// small slice of the demo.
const BATCH: usize = 200;
const _: () = assert!(BATCH <= esito_store::BATCH_SIZE_MAX);

/// The namespace of the event ids of registrations made from the demo's first programme
/// (UUIDv5 of the contract), so that registering a contract again writes nothing.
const NAMESPACE: uuid::Uuid = uuid::uuid!("5b0c8f4e-8d3a-4f7e-9a51-6f1e0c2d7a90");

/// The four programmes' files, in the order the design lists them; each file is named after
/// its contract.
const FILES: [(&str, &str); 4] = [
    (
        "cuneo-communal-living",
        include_str!("../../../demo/cuneo-communal-living.jsonl"),
    ),
    (
        "torino-homes4all",
        include_str!("../../../demo/torino-homes4all.jsonl"),
    ),
    (
        "prato-autonomia",
        include_str!("../../../demo/prato-autonomia.jsonl"),
    ),
    (
        "cremona-kcity",
        include_str!("../../../demo/cremona-kcity.jsonl"),
    ),
];

/// One line of a demo file: a submission and who records it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Line {
    event_id: EventId,
    occurred_at: OccurredAt,
    principal: String,
    command: Command,
    /// The ids, in docs/assumptions.md, of the seeds' passages the line's figures come from.
    /// Read by the test that every figure is marked, not by the loader.
    #[serde(default, rename = "source")]
    _source: Vec<String>,
    /// The ids, in docs/assumptions.md, of the assumptions the line's figures are.
    #[serde(default, rename = "assumption")]
    _assumption: Vec<String>,
}

/// One programme of the demo: its contract and its submissions in the order they are appended,
/// each with the principal that records it.
struct Programme {
    contract: ContractId,
    submissions: Vec<(String, Submission)>,
}

impl Programme {
    fn parse(contract: &str, text: &str) -> anyhow::Result<Self> {
        let contract = ContractId::parse(contract)?;
        let submissions = text
            .lines()
            .enumerate()
            .map(|(index, line)| {
                let line: Line = serde_json::from_str(line).map_err(|error| {
                    anyhow::anyhow!("demo/{contract}.jsonl line {}: {error}", index + 1)
                })?;
                let submission = Submission {
                    event_id: line.event_id,
                    occurred_at: line.occurred_at,
                    command: line.command,
                };
                Ok((line.principal, submission))
            })
            .collect::<anyhow::Result<_>>()?;
        Ok(Programme {
            contract,
            submissions,
        })
    }
}

/// The four programmes, in the order they are loaded.
fn programmes() -> anyhow::Result<Vec<Programme>> {
    FILES
        .iter()
        .map(|(contract, text)| Programme::parse(contract, text))
        .collect()
}

/// The contracts the demo registers, which the demo keys may touch.
fn contract_ids() -> Vec<ContractId> {
    FILES
        .iter()
        .map(|(contract, _)| ContractId::parse(contract).expect("demo contract ids are valid"))
        .collect()
}

/// The registration and the terms that open the first programme, Cuneo's: `esito load` and
/// the benchmarks model their contracts on them.
fn cuneo_opening() -> Programme {
    let (contract, text) = FILES[0];
    let opening: String = text.lines().take(3).flat_map(|line| [line, "\n"]).collect();
    Programme::parse(contract, &opening).expect("the demo files parse (a test reads them)")
}

/// A registration with Cuneo's parties and quarterly periods: `esito load` registers its
/// synthetic contracts this way, so they read like the demo's first programme. Its event id
/// depends only on the contract.
pub fn contract_registration(
    contract: &ContractId,
    title: &str,
    template: &str,
    term_start_on: NaiveDate,
    term_end_on: NaiveDate,
) -> Submission {
    let Some((_, first)) = cuneo_opening().submissions.into_iter().next() else {
        unreachable!("the Cuneo demo is not empty (a test reads it)");
    };
    let Command::RegisterContract {
        payer,
        funder,
        operator,
        evaluator,
        ..
    } = first.command
    else {
        unreachable!("the Cuneo demo opens with its registration (a test checks it)");
    };
    let eight = NaiveTime::from_hms_opt(8, 0, 0).expect("08:00 is a time");
    Submission {
        event_id: uuid::Uuid::new_v5(&NAMESPACE, format!("{contract}/registered").as_bytes()),
        occurred_at: OccurredAt::at_local(term_start_on.and_time(eight))
            .expect("08:00 is never in a clock change"),
        command: Command::RegisterContract {
            title: title.to_owned(),
            template: template.to_owned(),
            definitions: None,
            payer,
            funder,
            operator,
            evaluator,
            term_start_on,
            term_end_on,
            period_kind: PeriodKind::Quarter,
            procurement: Default::default(),
        },
    }
}

/// Cuneo's terms, as the demo's first programme receives them by its two opening amendments
/// (the tariff terms from the term's first day; the funder, the payment and the funder's terms
/// from 1 January 2024), in that order: the benchmarks give their synthetic contracts these,
/// all from their term's first day.
pub fn cuneo_terms() -> Vec<ContractChange> {
    let changes: Vec<ContractChange> = cuneo_opening()
        .submissions
        .into_iter()
        .skip(1)
        .flat_map(|(_, submission)| match submission.command {
            Command::AmendContract { changes, .. } => changes,
            _ => unreachable!("the Cuneo demo's terms follow its registration (a test checks it)"),
        })
        .collect();
    assert!(
        !changes.is_empty(),
        "the Cuneo demo has its terms (a test checks it)"
    );
    changes
}

/// The demo's keys, one per role. They are fixed, and so public: they exist so that a newcomer
/// can call the demo at once, and must never be created on a real deployment.
pub fn demo_keys() -> Vec<(Role, String, Option<&'static str>)> {
    Role::ALL
        .into_iter()
        .map(|role| {
            let provider = (role == Role::Provider).then_some("prov-01");
            (role, format!("esito_demo_{}", role.as_str()), provider)
        })
        .collect()
}

/// Stores the demo keys that are missing. A key already stored is left as it is: its hash is
/// its identity, and a key is never rewritten.
async fn store_demo_keys(store: &Store) -> anyhow::Result<()> {
    for (role, key, provider) in demo_keys() {
        if store
            .key_by_hash(&esito_api::auth::key_hash(&key))
            .await?
            .is_some()
        {
            continue;
        }
        // An admin key without contracts is an admin of every contract; the others name the
        // four demo contracts.
        let contracts = if role == Role::Admin {
            Vec::new()
        } else {
            contract_ids()
        };
        let principal = format!("demo-{}", role.as_str());
        esito_api::auth::store_demo_key(store, &key, &principal, role, &contracts, provider)
            .await?;
    }
    Ok(())
}

/// Loads the demo; returns a one-line summary of what was written for each contract. A database
/// that holds a contract the demo does not load is refused before anything is written: the
/// demo's keys are public, and must never reach a real contract.
pub async fn load(store: &Store) -> anyhow::Result<String> {
    let demo = contract_ids();
    if let Some(foreign) = store
        .contracts()
        .await?
        .into_iter()
        .find(|contract| !demo.contains(contract))
    {
        anyhow::bail!(
            "this database holds contract {foreign}, which the demo does not load: the demo \
             writes its public keys only into a database of its own; nothing was written"
        );
    }
    store_demo_keys(store).await?;
    let mut parts = Vec::new();
    for programme in programmes()? {
        let (mut written, mut present) = (0, 0);
        // One principal's consecutive lines, in batches: a batch has one principal.
        for run in programme.submissions.chunk_by(|a, b| a.0 == b.0) {
            let principal = &run[0].0;
            for batch in run.chunks(BATCH) {
                let batch: Vec<Submission> = batch.iter().map(|(_, s)| s.clone()).collect();
                for outcome in store.append(&programme.contract, principal, &batch).await? {
                    if outcome.duplicate {
                        present += 1;
                    } else {
                        written += 1;
                    }
                }
            }
        }
        parts.push(format!(
            "{} {written} events written, {present} already present",
            programme.contract
        ));
    }
    Ok(format!("demo: {}", parts.join("; ")))
}

#[cfg(test)]
mod tests;
