//! `esito settle`: a period's settlement offline from an export alone (verified first), as an
//! evaluator re-computes it, or from the store as the service would calculate it now. The same
//! function gathers what the engine needs in both cases (`esito-books`).

use std::io::{BufRead, BufReader};
use std::path::Path;

use anyhow::Context;
use esito_books::Settled;
use esito_domain::ContractId;
use esito_indicators::Period;
use esito_log::ExportLine;
use esito_store::Store;

use crate::indicators::{definitions, export_entries, verified};

/// The entries of the export's settlement stream: only its lines are parsed.
fn settlement_entries(file: &Path) -> anyhow::Result<Vec<esito_log::Entry>> {
    let reader = BufReader::new(
        std::fs::File::open(file).with_context(|| format!("opening {}", file.display()))?,
    );
    let mut entries = Vec::new();
    for (index, line) in reader.lines().enumerate() {
        let line = line.with_context(|| format!("reading line {}", index + 1))?;
        // Canonical JSON writes this member exactly so; other lines need no parsing.
        if !line.contains(r#""stream_type":"settlement""#) {
            continue;
        }
        if let ExportLine::Entry { entry, .. } = serde_json::from_str(&line)
            .with_context(|| format!("line {}: not an export line", index + 1))?
        {
            entries.push(entry);
        }
    }
    Ok(entries)
}

/// The `as_of` the export's own settlement of `period` was computed as of, if it holds one.
fn recorded_as_of(file: &Path, period: Period) -> anyhow::Result<Option<u64>> {
    Ok(esito_books::offline::recorded_as_of(
        &settlement_entries(file)?,
        period,
    ))
}

/// The acts the export records on the settlement of `period` (the RUP's certification, the
/// determina, the mandato), for its printable page; none when the export holds no settlement
/// of the period.
pub fn recorded_acts(file: &Path, period: Period) -> anyhow::Result<esito_settlement::PageActs> {
    let mut history = Vec::new();
    for entry in settlement_entries(file)? {
        let (_, recorded) = esito_books::recorded(&entry)
            .with_context(|| format!("reading position {}", entry.position))?;
        history.push(recorded);
    }
    let esito_domain::StreamState::Settlement(settlements) =
        esito_domain::replay(esito_domain::StreamType::Settlement, &history)
            .context("replaying the export's settlements")?
    else {
        anyhow::bail!("the settlement stream replays into settlements");
    };
    Ok(settlements
        .period(period)
        .map(esito_settlement::PageActs::of)
        .unwrap_or_default())
}

/// The settlement of `period` from an export alone, as of `as_of`; by default as of the
/// position the export's own settlement of the period was computed as of (so that it is
/// re-computed exactly), or else as of the last entry.
pub fn offline(
    file: &Path,
    period: Period,
    as_of: Option<u64>,
    definitions_file: Option<&Path>,
) -> anyhow::Result<Settled> {
    let report = verified(file)?;
    let definitions = definitions(definitions_file)?;
    let as_of = match as_of {
        Some(as_of) => as_of,
        None => recorded_as_of(file, period)?.unwrap_or(report.size),
    };
    let settled = esito_books::offline::settlement(
        definitions.as_ref(),
        || export_entries(file),
        period,
        as_of,
    )?
    .with_context(|| format!("settling {period} as of position {as_of}"))?;
    Ok(settled)
}

/// The settlement of `period` as the service would calculate it now, from the store; nothing
/// is recorded.
pub async fn from_store(store: &Store, contract: &str, period: Period) -> anyhow::Result<Settled> {
    let contract = ContractId::parse(contract).context("--contract")?;
    store
        .settlement(&contract, period)
        .await
        .with_context(|| format!("settling {period} of {contract}"))
}

#[cfg(test)]
mod tests {
    use esito_books::Books;
    use esito_domain::{Command, EventId, OccurredAt, Submission};
    use esito_settlement::{LineKind, SettlementDocument};

    use super::*;

    async fn demo_store(dir: &tempfile::TempDir) -> Store {
        let url = format!("sqlite://{}", dir.path().join("demo.db").display());
        let store = Store::connect(&url).await.expect("a SQLite store");
        crate::demo::load(&store).await.expect("the demo loads");
        store
    }

    fn now() -> OccurredAt {
        OccurredAt::new(chrono::Utc::now().fixed_offset())
    }

    async fn append(store: &Store, contract: &ContractId, who: &str, command: Command) {
        let submission = Submission {
            event_id: EventId::new_v4(),
            occurred_at: now(),
            command,
        };
        store
            .append(contract, who, &[submission])
            .await
            .unwrap_or_else(|error| panic!("{contract}: {error}"));
    }

    /// Calculates the settlement of `period` through the store, records it as the service
    /// does, and takes it through validation, certification, approval and payment.
    async fn settle_and_pay(store: &Store, contract: &ContractId, period: Period) -> Settled {
        let settled = store
            .settlement(contract, period)
            .await
            .unwrap_or_else(|error| panic!("{contract} {period}: {error}"));
        let as_of = settled.document.as_of;
        append(store, contract, "payer", settled.command(None)).await;
        append(
            store,
            contract,
            "evaluator",
            Command::ValidateSettlement {
                period,
                as_of,
                note: None,
            },
        )
        .await;
        let today = now().local_date();
        // The demo's contracts have a CIG: the RUP certifies, the determina approves, the
        // mandato pays, each with its number and date.
        append(
            store,
            contract,
            "payer",
            Command::CertifySettlement {
                period,
                as_of,
                certified_on: today,
            },
        )
        .await;
        append(
            store,
            contract,
            "payer",
            Command::ApproveSettlement {
                period,
                as_of,
                determina_number: Some(format!("DD {period}")),
                determina_date: Some(today),
            },
        )
        .await;
        append(
            store,
            contract,
            "payer",
            Command::RecordSettlementPayment {
                period,
                paid_on: today,
                reference: format!("mandato {period}"),
                mandato_number: Some(format!("MP {period}")),
                mandato_date: Some(today),
            },
        )
        .await;
        settled
    }

    async fn books(store: &Store, contract: &ContractId) -> Books {
        let size = store
            .head(contract)
            .await
            .expect("head")
            .expect("a log")
            .size;
        let entries = store.book_entries(contract).await.expect("entries");
        Books::from_entries(contract, size, &entries).expect("the books read")
    }

    /// The periods to settle, in order: from the one its payment terms take effect in.
    fn periods_of_the_term(books: &Books) -> Vec<Period> {
        books
            .contract()
            .contract()
            .expect("registered")
            .settlement_periods()
    }

    /// The document the log holds for a period.
    fn recorded(books: &Books, period: Period) -> SettlementDocument {
        let settlement = books
            .settlements()
            .period(period)
            .expect("the period is settled");
        serde_json::from_value(settlement.calculated.document.clone()).expect("a document")
    }

    async fn export(
        store: &Store,
        contract: &ContractId,
        dir: &tempfile::TempDir,
    ) -> std::path::PathBuf {
        let file = dir.path().join(format!("{contract}.jsonl"));
        let mut out = std::io::BufWriter::new(std::fs::File::create(&file).expect("a file"));
        store.export(contract, &mut out).await.expect("exported");
        std::io::Write::flush(&mut out).expect("flushed");
        file
    }

    /// Torino's phase II is funded by the Fund's grant, which takes nothing back; Compagnia di
    /// San Paolo joins as the funder of phase III by an amendment effective 1 July 2024 and
    /// lends 200,000 on 15 July: its account opens then, with none of the grant's figures.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_funder_that_joins_by_amendment_opens_an_account_of_its_own() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let store = demo_store(&dir).await;
        let torino = ContractId::parse("torino-homes4all").expect("a valid id");
        let periods = periods_of_the_term(&books(&store, &torino).await);
        assert_eq!(
            periods.first().map(ToString::to_string).as_deref(),
            Some("2023-Q1")
        );
        let mut documents = Vec::new();
        for period in periods
            .iter()
            .take_while(|period| period.to_string() != "2024-Q4")
        {
            documents.push(settle_and_pay(&store, &torino, *period).await.document);
        }
        let statement = |label: &str| {
            documents
                .iter()
                .find(|document| document.period.to_string() == label)
                .and_then(|document| document.funder.as_ref())
                .map(|section| section.statement.clone())
                .unwrap_or_else(|| panic!("{label} has a funder's statement"))
        };
        // The grant: 800,000 in January 2023 and 800,000 in January 2024, no return, nothing
        // repaid.
        let grant = statement("2024-Q2");
        let euros = |n: i64| rust_decimal::Decimal::from(n);
        assert_eq!(grant.principal_disbursed.value(), euros(1_600_000));
        assert_eq!(grant.principal_repaid.value(), euros(0));
        assert_eq!(grant.return_accrued.value(), euros(0));
        // Compagnia di San Paolo in 2024-Q3: 200,000 from 15 July to 30 September, 78 days
        // (17 + 31 + 30): 15,600,000 euro-days, and nothing of the grant's.
        let phase_three = statement("2024-Q3");
        assert_eq!(phase_three.principal_disbursed.value(), euros(200_000));
        assert_eq!(phase_three.principal_days, euros(15_600_000));
        assert_eq!(
            phase_three.accrued_through.to_string(),
            "2024-10-01",
            "accrued to the end of the quarter"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn online_and_offline_settlements_agree_for_every_period_of_the_demo() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let store = demo_store(&dir).await;
        for contract in store.contracts().await.expect("contracts") {
            let periods = periods_of_the_term(&books(&store, &contract).await);
            let mut online = Vec::new();
            for period in &periods {
                online.push(settle_and_pay(&store, &contract, *period).await);
            }
            let books = books(&store, &contract).await;
            let file = export(&store, &contract, &dir).await;
            for (period, online) in periods.iter().zip(&online) {
                let offline = offline(&file, *period, None, None)
                    .unwrap_or_else(|error| panic!("{contract} {period} offline: {error:#}"));
                let recorded = recorded(&books, *period);
                let text = |document: &SettlementDocument| {
                    serde_json::to_string_pretty(document).expect("a document serializes")
                };
                assert_eq!(
                    text(&offline.document),
                    text(&online.document),
                    "{contract} {period}"
                );
                assert_eq!(
                    text(&recorded),
                    text(&online.document),
                    "{contract} {period}"
                );
                assert_eq!(offline, *online, "{contract} {period}: hashes and template");
            }
            let last = recorded(&books, *periods.last().expect("a period"));
            assert!(
                last.final_settlement,
                "{contract}: the last period is the final one"
            );
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_late_event_is_restated_by_the_next_settlement_and_the_earlier_one_stays_as_it_was() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let store = demo_store(&dir).await;
        let contract = ContractId::parse("cuneo-communal-living").expect("valid");
        // The first period of Cuneo's terms, «valido dal 01/01/2024».
        let q1: Period = "2024-Q1".parse().expect("a period");
        settle_and_pay(&store, &contract, q1).await;
        let q1_before = recorded(&books(&store, &contract).await, q1);
        // A milestone of the second household, dated in 2024-Q1, recorded only now.
        let late = Submission {
            event_id: EventId::new_v4(),
            occurred_at: OccurredAt::parse("2024-03-05T17:30:00+01:00").expect("valid"),
            command: Command::RecordTenantMilestone {
                tenancy_id: "ten-2".parse().expect("valid"),
                milestone: esito_domain::events::TenantMilestone::JobFound,
            },
        };
        store
            .append(&contract, "operator", &[late])
            .await
            .expect("the late milestone is recorded");
        let q2: Period = "2024-Q2".parse().expect("a period");
        let settled = settle_and_pay(&store, &contract, q2).await;
        let restatements: Vec<_> = settled
            .document
            .lines
            .iter()
            .filter(|line| line.kind == LineKind::Restatement)
            .collect();
        assert_eq!(restatements.len(), 1, "{:#?}", settled.document.lines);
        // ten-2's household had no milestone settled before 2024-Q1 (the terms start then) and
        // 1 in it; the late one counts too (min(2, 4 − 0) = 2 at 250 euro, 500 ≤ its 1,000
        // cap), and the quarter stays below its 15,000 cap: 250 more than was settled.
        assert_eq!(restatements[0].subject, "2024-Q1");
        assert_eq!(restatements[0].amount.to_string(), "250.00");
        let books = books(&store, &contract).await;
        assert_eq!(
            recorded(&books, q1),
            q1_before,
            "the earlier settlement is unchanged"
        );
        let file = export(&store, &contract, &dir).await;
        let offline = offline(&file, q2, None, None).expect("offline");
        assert_eq!(offline, settled);
        // Restated once: the next settlement finds 2024-Q1 settled at what it now computes.
        let q3 = settle_and_pay(&store, &contract, "2024-Q3".parse().expect("a period")).await;
        assert!(
            q3.document
                .lines
                .iter()
                .all(|line| line.kind != LineKind::Restatement),
            "{:#?}",
            q3.document.lines
        );
    }

    /// Cremona under split payment (art. 17-ter DPR 633/72): each phase's balance, 70 % of its
    /// net amount, is paid to KCity without VAT and its 22 % VAT to the Treasury, online and
    /// offline alike.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn cremona_pays_kcity_the_net_and_the_treasury_the_vat_online_and_offline() {
        use esito_domain::Payee;
        let dir = tempfile::tempdir().expect("a temporary directory");
        let store = demo_store(&dir).await;
        let contract = ContractId::parse("cremona-kcity").expect("valid");
        let periods = periods_of_the_term(&books(&store, &contract).await);
        let mut online = Vec::new();
        for period in &periods {
            online.push(settle_and_pay(&store, &contract, *period).await);
        }
        let file = export(&store, &contract, &dir).await;
        // By hand: phase 1 (10,000) accepted 2023-10-13 and phase 2 (10,000) 2024-01-19:
        // 10,000 − 30 % advance = 7,000 net, 22 % of it 1,540 VAT; phase 3 (8,000) accepted
        // 2024-04-26: 8,000 − 2,400 = 5,600 net, 1,232 VAT. The other quarters pay nothing.
        let expected = |period: &str| match period {
            "2023-Q4" | "2024-Q1" => ("7000.00", "1540.00"),
            "2024-Q2" => ("5600.00", "1232.00"),
            _ => ("0.00", "0.00"),
        };
        for (period, online) in periods.iter().zip(&online) {
            let offline = offline(&file, *period, None, None).expect("offline");
            assert_eq!(offline, *online, "{period}: online and offline agree");
            let payable: Vec<(Payee, String)> = online
                .document
                .payable
                .iter()
                .map(|line| (line.payee, line.amount.to_string()))
                .collect();
            let (net, vat) = expected(&period.to_string());
            assert_eq!(
                payable,
                [
                    (Payee::Operator, net.to_owned()),
                    (Payee::Treasury, vat.to_owned())
                ],
                "{period}"
            );
        }
        // The offline page lists the acts the export records, citing the CIG.
        let q4: Period = "2023-Q4".parse().expect("a period");
        let acts = recorded_acts(&file, q4).expect("the acts");
        assert_eq!(
            acts.determina.as_ref().map(|(number, _)| number.as_str()),
            Some("DD 2023-Q4")
        );
        assert_eq!(
            acts.mandato.as_ref().map(|(number, _)| number.as_str()),
            Some("MP 2023-Q4")
        );
        assert_eq!(acts.cig.as_deref(), Some("Z8C3B1A9F2"));
        let document = offline(&file, q4, None, None).expect("offline").document;
        let page = esito_settlement::render_html_with_acts(&document, &acts);
        assert!(page.contains(
            "Mandato di pagamento (art. 185 TUEL) / Paid (art. 185 TUEL): n. MP 2023-Q4"
        ));
        assert!(page.contains("CIG Z8C3B1A9F2"));
    }
}
