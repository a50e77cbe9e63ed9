//! `esito load`: concurrent writers appending synthetic centre accesses.
//!
//! Each event id is printed, and standard output flushed, only after its transaction has
//! committed: a line on standard output is an acknowledgement. The durability test kills the
//! process mid-run and checks every printed id is in the log.

use std::io::Write;
use std::sync::Arc;

use esito_domain::events::{AccessChannel, AccessOutcome, NeedCategory};
use esito_domain::{Command, ContractId, EventId, OccurredAt, StreamId, Submission};
use esito_store::Store;

#[derive(clap::Args)]
pub struct LoadArgs {
    #[arg(long, env = "ESITO_DATABASE", default_value = crate::DEFAULT_DATABASE)]
    database: String,
    /// Contracts `load-1` .. `load-N`, registered if missing; writers spread over them.
    #[arg(long, default_value_t = 1)]
    contracts: usize,
    #[arg(long, default_value_t = 4)]
    writers: usize,
    #[arg(long, default_value_t = 500)]
    events_per_writer: usize,
    /// Commands per append transaction.
    #[arg(long, default_value_t = 1)]
    batch: usize,
}

pub fn contract_id(index: usize) -> ContractId {
    ContractId::parse(&format!("load-{}", index + 1)).expect("load-N is a valid contract id")
}

/// A synthetic access in stream `access_id`, at a time inside the load contracts' term.
pub fn access(access_id: &str, sequence: usize) -> Submission {
    let minute = sequence % (60 * 24 * 28);
    let at = format!(
        "2024-02-{:02}T{:02}:{:02}:00+01:00",
        1 + minute / (60 * 24),
        (minute / 60) % 24,
        minute % 60
    );
    Submission {
        event_id: EventId::new_v4(),
        occurred_at: OccurredAt::parse(&at).expect("a well-formed instant"),
        command: Command::RecordAccess {
            access_id: StreamId::parse(access_id).expect("a well-formed id"),
            beneficiary_id: None,
            channel: AccessChannel::InPerson,
            need: NeedCategory::HomeManagement,
            outcome: AccessOutcome::InformationOnly,
        },
    }
}

/// The synthetic contracts' definitions: no indicator, so that a load measures appends alone.
const LOAD_DEFINITIONS: &str =
    "template = \"load\"\ntitle = { it = \"Carico sintetico\", en = \"Synthetic load\" }\n";

pub async fn register_load_contracts(
    store: &Store,
    count: usize,
) -> anyhow::Result<Vec<ContractId>> {
    let mut ids = Vec::new();
    for index in 0..count {
        let id = contract_id(index);
        let mut submission = crate::demo::contract_registration(
            &id,
            "Synthetic load",
            "",
            "2024-01-01".parse()?,
            "2024-12-31".parse()?,
        );
        if let Command::RegisterContract { definitions, .. } = &mut submission.command {
            *definitions = Some(LOAD_DEFINITIONS.to_owned());
        }
        store.append(&id, "load", &[submission]).await?;
        ids.push(id);
    }
    Ok(ids)
}

pub async fn run(args: LoadArgs) -> anyhow::Result<()> {
    let store = Arc::new(crate::connect(&args.database).await?);
    let contracts = Arc::new(register_load_contracts(&store, args.contracts.max(1)).await?);
    let run_id = EventId::new_v4().simple().to_string()[..8].to_owned();
    let mut tasks = Vec::new();
    for writer in 0..args.writers {
        let (store, contracts, run_id) = (store.clone(), contracts.clone(), run_id.clone());
        let (events, batch) = (args.events_per_writer, args.batch.max(1));
        tasks.push(tokio::spawn(async move {
            let mut sequence = 0;
            while sequence < events {
                let contract = &contracts[(writer + sequence) % contracts.len()];
                let size = batch.min(events - sequence);
                let submissions: Vec<Submission> = (sequence..sequence + size)
                    .map(|i| access(&format!("{run_id}-w{writer}-{i}"), i))
                    .collect();
                store.append(contract, "load", &submissions).await?;
                let mut out = std::io::stdout().lock();
                for submission in &submissions {
                    writeln!(out, "{contract} {}", submission.event_id)?;
                }
                out.flush()?;
                sequence += size;
            }
            anyhow::Ok(())
        }));
    }
    for task in tasks {
        task.await??;
    }
    Ok(())
}
