//! Each new command's name is its JSON `type`, and its target is the stream type its events
//! belong to.

mod common;

use std::collections::BTreeMap;
use std::num::NonZeroU8;

use common::*;
use esito_domain::events::*;
use esito_domain::{Command, ContractId, StreamType, Target};

fn samples() -> Vec<(Command, StreamType)> {
    let phase = |command| (command, StreamType::Phase);
    vec![
        (
            Command::AmendContract {
                effective_on: date("2024-01-01"),
                changes: vec![],
            },
            StreamType::Contract,
        ),
        (
            Command::RequestProviderAccreditation {
                provider_id: id("p"),
                name: "n".into(),
                service_family: ServiceFamily::Meals,
            },
            StreamType::Provider,
        ),
        (
            Command::SuspendProvider {
                provider_id: id("p"),
                reason: "r".into(),
            },
            StreamType::Provider,
        ),
        (
            Command::ReinstateProvider {
                provider_id: id("p"),
            },
            StreamType::Provider,
        ),
        (
            Command::ChangeProductPrice {
                product_id: id("p"),
                tariffs: BTreeMap::new(),
            },
            StreamType::Product,
        ),
        (
            Command::WithdrawProduct {
                product_id: id("p"),
                reason: "r".into(),
            },
            StreamType::Product,
        ),
        (
            Command::UpdateBeneficiary {
                beneficiary_id: id("b"),
                effective_on: date("2024-01-01"),
                isee_band: None,
                household_size: None,
                flags: None,
            },
            StreamType::Beneficiary,
        ),
        (
            Command::AssessNeed {
                beneficiary_id: id("b"),
                needs: vec![],
                score: None,
            },
            StreamType::Beneficiary,
        ),
        (
            Command::MakeReferral {
                beneficiary_id: id("b"),
                to_service: "s".into(),
                reason: "r".into(),
            },
            StreamType::Beneficiary,
        ),
        (
            Command::StartPlacement {
                placement_id: id("x"),
                beneficiary_id: id("b"),
                accommodation: AccommodationKind::Hotel,
                nightly_cost: money("1"),
            },
            StreamType::Placement,
        ),
        (
            Command::EndPlacement {
                placement_id: id("x"),
                reason: PlacementEndReason::Other,
            },
            StreamType::Placement,
        ),
        (
            Command::RehouseHousehold {
                placement_id: id("x"),
                housing: HousingKind::PublicHousing,
            },
            StreamType::Placement,
        ),
        (
            Command::EnrolInPath {
                path_id: id("x"),
                beneficiary_id: id("b"),
                scores: BTreeMap::new(),
            },
            StreamType::Path,
        ),
        (
            Command::ReassessPath {
                path_id: id("x"),
                scores: BTreeMap::new(),
            },
            StreamType::Path,
        ),
        (
            Command::RecordPathMilestone {
                path_id: id("x"),
                milestone: PathMilestone::JobFound,
            },
            StreamType::Path,
        ),
        (
            Command::ExitPath {
                path_id: id("x"),
                reason: PathExitReason::Other,
                from_municipal_housing: false,
                monthly_cost_avoided: None,
            },
            StreamType::Path,
        ),
        phase(Command::DefinePhase {
            phase_id: id("x"),
            number: NonZeroU8::MIN,
            title: "t".into(),
            deliverable: "d".into(),
            amount: money("1"),
            vat_rate: rate("0.22"),
            advance_share: share("0.3"),
            vat: Default::default(),
        }),
        phase(Command::InvoiceAdvance {
            phase_id: id("x"),
            invoice_number: "1".into(),
            amount: money("1"),
            vat: money("0"),
            issued_on: date("2024-01-01"),
        }),
        phase(Command::IssueInvoice {
            phase_id: id("x"),
            invoice_number: "1".into(),
            amount: money("1"),
            vat: money("0"),
            issued_on: date("2024-01-01"),
        }),
        phase(Command::SubmitDeliverable {
            phase_id: id("x"),
            document: "d".into(),
        }),
        phase(Command::AcceptDeliverable {
            phase_id: id("x"),
            accepted_by: "a".into(),
        }),
        phase(Command::RecordInvoicePayment {
            phase_id: id("x"),
            invoice_number: "1".into(),
            amount: money("1"),
            paid_on: date("2024-01-01"),
            payee: Default::default(),
        }),
    ]
}

#[test]
fn each_new_commands_name_is_its_json_type_and_it_targets_its_stream_type() {
    let contract = ContractId::parse("cremona-kcity").expect("contract id");
    for (command, stream_type) in samples() {
        let json = serde_json::to_value(&command).expect("a command serializes");
        assert_eq!(json["type"], command.name(), "{json}");
        let Target::Stream(stream) = command.target(&contract) else {
            panic!("{} names its own stream", command.name());
        };
        assert_eq!(stream.stream_type, stream_type, "{}", command.name());
        assert_eq!(
            serde_json::from_value::<Command>(json).expect("reads back"),
            command
        );
    }
}

#[test]
fn new_stream_types_have_snake_case_names_that_parse_back() {
    for (stream_type, name) in [
        (StreamType::Placement, "placement"),
        (StreamType::Path, "path"),
        (StreamType::Phase, "phase"),
    ] {
        assert_eq!(stream_type.as_str(), name);
        assert_eq!(StreamType::parse(name), Some(stream_type));
        assert_eq!(
            serde_json::to_value(stream_type).expect("serializes"),
            serde_json::json!(name)
        );
    }
}
