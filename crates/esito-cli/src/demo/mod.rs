//! `esito demo`: the four programmes of the seeds, each with its contract, terms and a data set.
//!
//! Cuneo's Communal Living at the seed's own scale, Torino's Homes4All placements and
//! rehousings, Prato's autonomy paths and Cremona's three phases with KCity. Every data set is
//! generated from fixed seeds, so it is the same on every machine, and every event id is a
//! UUIDv5 of its contract and label: loading the demo again writes nothing.
//!
//! Invariant: every command of the demo is accepted by the domain in the order the demo
//! appends it, and every date lies in its contract's term (a test replays them through
//! `decide`).

mod cremona;
mod cuneo;
mod prato;
mod torino;

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use esito_api::auth::Role;
use esito_domain::events::PeriodKind;
use esito_domain::terms::ContractChange;
use esito_domain::{
    Command, ContractId, EventId, Money, OccurredAt, Rate, Share, StreamId, Submission,
};
use esito_store::Store;
use rust_decimal::Decimal;

const DEMO_PRINCIPAL: &str = "demo-loader";
/// Commands per append: well under the store's `BATCH_SIZE_MAX`, so one failing batch names a
/// small slice of the demo.
const BATCH: usize = 200;
const _: () = assert!(BATCH <= esito_store::BATCH_SIZE_MAX);

/// The namespace of the demo's event ids (UUIDv5).
const NAMESPACE: uuid::Uuid = uuid::uuid!("5b0c8f4e-8d3a-4f7e-9a51-6f1e0c2d7a90");

/// The evaluator of every demo contract.
// Assumption: the seeds name no evaluator; the Fondo per l'Innovazione Sociale requires an
// independent external one, which the demo names generically.
const EVALUATOR: &str = "Valutatore indipendente";

/// A small deterministic generator (SplitMix64): the demo must not depend on the machine.
struct Dice(u64);

impl Dice {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    /// A whole number from `low` to `high`, both included.
    fn between(&mut self, low: i64, high: i64) -> i64 {
        low + self.below((high - low + 1) as u64) as i64
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

fn id(text: &str) -> StreamId {
    StreamId::parse(text).expect("demo ids are well formed")
}

fn contract_id(text: &str) -> ContractId {
    ContractId::parse(text).expect("demo contract ids are well formed")
}

fn money(value: Decimal) -> Money {
    Money::new(value.round_dp(2)).expect("demo amounts are non-negative")
}

fn euros(text: &str) -> Money {
    Money::parse(text).expect("demo amounts are well formed")
}

fn rate(text: &str) -> Rate {
    Rate::parse(text).expect("demo rates are well formed")
}

fn share(text: &str) -> Share {
    Share::parse(text).expect("demo shares lie between 0 and 1")
}

fn local(date: NaiveDate, hour: u32, minute: u32) -> OccurredAt {
    let time = NaiveTime::from_hms_opt(hour, minute, 0).expect("demo times are valid");
    OccurredAt::at_local(NaiveDateTime::new(date, time)).expect("demo times avoid the clock change")
}

fn date(text: &str) -> NaiveDate {
    text.parse().expect("demo dates are valid")
}

/// The parties a contract is registered with.
struct Parties {
    payer: &'static str,
    funder: Option<&'static str>,
    operator: &'static str,
    evaluator: &'static str,
}

/// What `RegisterContract` says about a contract besides its parties.
struct Charter<'a> {
    title: &'a str,
    template: &'a str,
    term_start_on: NaiveDate,
    term_end_on: NaiveDate,
    period_kind: PeriodKind,
}

/// The registration of a contract, with an event id that depends only on the contract.
fn registration(contract: &ContractId, charter: &Charter, parties: &Parties) -> Submission {
    Submission {
        event_id: uuid::Uuid::new_v5(&NAMESPACE, format!("{contract}/registered").as_bytes()),
        occurred_at: local(charter.term_start_on, 8, 0),
        command: Command::RegisterContract {
            title: charter.title.to_owned(),
            template: charter.template.to_owned(),
            payer: parties.payer.to_owned(),
            funder: parties.funder.map(str::to_owned),
            operator: parties.operator.to_owned(),
            evaluator: parties.evaluator.to_owned(),
            term_start_on: charter.term_start_on,
            term_end_on: charter.term_end_on,
            period_kind: charter.period_kind,
        },
    }
}

/// A registration with Cuneo's parties and quarterly periods: `esito load` registers its
/// synthetic contracts this way, so they read like the demo's first programme.
pub fn contract_registration(
    contract: &ContractId,
    title: &str,
    template: &str,
    term_start_on: NaiveDate,
    term_end_on: NaiveDate,
) -> Submission {
    let charter = Charter {
        title,
        template,
        term_start_on,
        term_end_on,
        period_kind: PeriodKind::Quarter,
    };
    registration(contract, &charter, &cuneo::PARTIES)
}

/// Cuneo's payment and funder terms, as the demo's first programme has them: the benchmarks
/// give their synthetic contracts these.
pub fn cuneo_terms() -> Vec<ContractChange> {
    cuneo::initial_terms()
}

/// Submissions labelled and sorted by business time, so every event follows what it needs.
struct Script {
    contract: ContractId,
    items: Vec<(OccurredAt, usize, Submission)>,
}

impl Script {
    /// A script that opens with the contract's registration and its first terms, effective on
    /// the term's first day (`AmendContract` is how a contract receives its terms).
    fn open(
        contract: &ContractId,
        charter: &Charter,
        parties: &Parties,
        terms: Vec<ContractChange>,
    ) -> Self {
        let mut script = Script {
            contract: contract.clone(),
            items: Vec::new(),
        };
        let registered = registration(contract, charter, parties);
        script.items.push((registered.occurred_at, 0, registered));
        script.add(
            "amended/initial-terms",
            local(charter.term_start_on, 8, 5),
            Command::AmendContract {
                effective_on: charter.term_start_on,
                changes: terms,
            },
        );
        script
    }

    fn add(&mut self, label: &str, occurred_at: OccurredAt, command: Command) {
        let event_id: EventId =
            uuid::Uuid::new_v5(&NAMESPACE, format!("{}/{label}", self.contract).as_bytes());
        let order = self.items.len();
        self.items.push((
            occurred_at,
            order,
            Submission {
                event_id,
                occurred_at,
                command,
            },
        ));
    }

    fn into_submissions(mut self) -> Vec<Submission> {
        self.items.sort_by_key(|(at, order, _)| (*at, *order));
        self.items
            .into_iter()
            .map(|(_, _, submission)| submission)
            .collect()
    }
}

/// One programme of the demo: its contract and its submissions in the order they are appended.
struct Programme {
    contract: ContractId,
    submissions: Vec<Submission>,
}

/// The four programmes, in the order docs/design.md §9 lists them.
fn programmes() -> Vec<Programme> {
    vec![
        Programme {
            contract: contract_id(cuneo::CONTRACT),
            submissions: cuneo::submissions(),
        },
        Programme {
            contract: contract_id(torino::CONTRACT),
            submissions: torino::submissions(),
        },
        Programme {
            contract: contract_id(prato::CONTRACT),
            submissions: prato::submissions(),
        },
        Programme {
            contract: contract_id(cremona::CONTRACT),
            submissions: cremona::submissions(),
        },
    ]
}

/// The contracts the demo registers, which the demo keys may touch.
fn contract_ids() -> Vec<ContractId> {
    [
        cuneo::CONTRACT,
        torino::CONTRACT,
        prato::CONTRACT,
        cremona::CONTRACT,
    ]
    .into_iter()
    .map(contract_id)
    .collect()
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
        esito_api::auth::store_key(store, &key, &principal, role, &contracts, provider).await?;
    }
    Ok(())
}

/// Loads the demo; returns a one-line summary of what was written for each contract.
pub async fn load(store: &Store) -> anyhow::Result<String> {
    store_demo_keys(store).await?;
    let mut parts = Vec::new();
    for programme in programmes() {
        let (mut written, mut present) = (0, 0);
        for batch in programme.submissions.chunks(BATCH) {
            for outcome in store
                .append(&programme.contract, DEMO_PRINCIPAL, batch)
                .await?
            {
                if outcome.duplicate {
                    present += 1;
                } else {
                    written += 1;
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
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use esito_domain::events::contract_stream;
    use esito_domain::{decide, DecisionContext, StreamRef, StreamState};

    use super::*;

    /// Decides every submission in order against the states the earlier ones left, as the
    /// store does, and returns the first refusal with its index and command.
    pub(super) fn replay_through_the_domain(
        contract: &ContractId,
        submissions: &[Submission],
    ) -> Result<(), String> {
        let mut states: BTreeMap<StreamRef, StreamState> = BTreeMap::new();
        let state_of = |states: &BTreeMap<StreamRef, StreamState>, stream: &StreamRef| {
            states
                .get(stream)
                .cloned()
                .unwrap_or_else(|| StreamState::empty(stream.stream_type))
        };
        for (index, submission) in submissions.iter().enumerate() {
            let refused = |reason: String| {
                format!(
                    "{contract} #{index} {} at {}: {reason}",
                    submission.command.name(),
                    submission.occurred_at
                )
            };
            let target = submission
                .command
                .target(contract)
                .stream()
                .ok_or_else(|| refused("the demo corrects nothing".to_owned()))?;
            let StreamState::Contract(contract_state) =
                state_of(&states, &contract_stream(contract))
            else {
                unreachable!("the contract stream holds a contract");
            };
            let mut context = DecisionContext {
                contract: contract_state,
                ..Default::default()
            };
            for read in submission.command.reads() {
                let state = state_of(&states, &read);
                context.reads.insert(read, state);
            }
            for read in submission.command.dependent_reads(&context.reads) {
                let state = state_of(&states, &read);
                context.reads.insert(read, state);
            }
            let event = decide(submission, &state_of(&states, &target), &context)
                .map_err(|error| refused(error.to_string()))?;
            states
                .entry(target.clone())
                .or_insert_with(|| StreamState::empty(target.stream_type))
                .evolve(&event)
                .map_err(|error| refused(error.to_string()))?;
        }
        Ok(())
    }

    pub(super) fn count(submissions: &[Submission], name: &str) -> usize {
        submissions
            .iter()
            .filter(|submission| submission.command.name() == name)
            .count()
    }

    #[test]
    fn every_command_of_the_demo_is_accepted_by_the_domain() {
        for programme in programmes() {
            replay_through_the_domain(&programme.contract, &programme.submissions)
                .unwrap_or_else(|refusal| panic!("{refusal}"));
        }
    }

    #[test]
    fn the_demo_is_the_same_on_every_run() {
        let first = programmes();
        let second = programmes();
        assert_eq!(first.len(), 4);
        for (a, b) in first.iter().zip(&second) {
            assert_eq!(a.contract, b.contract);
            assert_eq!(a.submissions, b.submissions);
        }
    }

    #[test]
    fn event_ids_are_unique_across_the_demo() {
        let mut ids = BTreeSet::new();
        for programme in programmes() {
            for submission in &programme.submissions {
                assert!(
                    ids.insert(submission.event_id),
                    "{} {}",
                    programme.contract,
                    submission.command.name()
                );
            }
        }
    }

    #[test]
    fn each_contract_opens_with_its_registration_and_its_terms() {
        for programme in programmes() {
            let names: Vec<&str> = programme
                .submissions
                .iter()
                .take(2)
                .map(|submission| submission.command.name())
                .collect();
            assert_eq!(
                names,
                ["RegisterContract", "AmendContract"],
                "{}",
                programme.contract
            );
            assert_eq!(count(&programme.submissions, "RegisterContract"), 1);
        }
    }

    #[test]
    fn the_non_admin_demo_keys_cover_the_four_contracts() {
        let ids: Vec<String> = contract_ids().iter().map(ToString::to_string).collect();
        assert_eq!(
            ids,
            [
                "cuneo-communal-living",
                "torino-homes4all",
                "prato-autonomia",
                "cremona-kcity"
            ]
        );
        let provider_keys: Vec<_> = demo_keys()
            .into_iter()
            .filter(|(_, _, provider)| provider.is_some())
            .collect();
        assert_eq!(provider_keys.len(), 1);
        assert_eq!(provider_keys[0].0, Role::Provider);
        assert_eq!(provider_keys[0].2, Some("prov-01"));
    }

    #[tokio::test]
    async fn loading_the_demo_twice_writes_nothing_the_second_time() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let url = format!("sqlite://{}", dir.path().join("demo.db").display());
        let store = Store::connect(&url).await.expect("a SQLite store");
        let first = load(&store).await.expect("the demo loads");
        assert!(!first.contains(" 0 events written"), "{first}");
        assert!(first.contains(", 0 already present"), "{first}");
        let again = load(&store).await.expect("the demo loads again");
        assert_eq!(again.matches(" 0 events written").count(), 4, "{again}");
        let totals: Vec<usize> = programmes()
            .iter()
            .map(|programme| programme.submissions.len())
            .collect();
        for (programme, total) in programmes().iter().zip(totals) {
            assert!(
                again.contains(&format!(
                    "{} 0 events written, {total} already present",
                    programme.contract
                )),
                "{again}"
            );
        }
        let key = store
            .key_by_hash(&esito_api::auth::key_hash("esito_demo_operator"))
            .await
            .expect("keys read")
            .expect("the operator's demo key is stored");
        assert_eq!(key.contracts.len(), 4);
    }
}
