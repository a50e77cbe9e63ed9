//! Helpers shared by the rule tests: values from text, submissions, a registered contract and
//! the states a command reads.

// Each test binary includes this module and uses a different part of it.
#![allow(dead_code)]

use chrono::NaiveDate;
use esito_domain::aggregates::{Beneficiary, BeneficiaryState, ContractState, ProviderState};
use esito_domain::events::*;
use esito_domain::{
    replay, Command, DecisionContext, Event, EventId, Money, Month, OccurredAt, Rate, Recorded,
    Share, StreamId, StreamState, Submission,
};

pub fn id(text: &str) -> StreamId {
    StreamId::parse(text).expect("test ids are valid")
}
pub fn money(text: &str) -> Money {
    Money::parse(text).expect("test amounts are valid")
}
pub fn rate(text: &str) -> Rate {
    Rate::parse(text).expect("test rates are valid")
}
pub fn share(text: &str) -> Share {
    Share::parse(text).expect("test shares are valid")
}
pub fn date(text: &str) -> NaiveDate {
    text.parse().expect("test dates are valid")
}
pub fn at(text: &str) -> OccurredAt {
    OccurredAt::parse(text).expect("test instants are valid")
}
/// A tenancy's pact: 250 euro a month, at most 300, with housing accompaniment and financial
/// education.
pub fn pact() -> Pact {
    Pact {
        monthly_rent: money("250.00"),
        rent_cap: money("300.00"),
        housing_accompaniment: true,
        financial_education: true,
    }
}
/// A tenancy of `ben-1` in `flat-1` under way, January 2024's rent charged.
pub fn active_tenancy() -> Vec<Event> {
    vec![
        Event::TenancyStarted(TenancyStarted {
            unit_id: id("flat-1"),
            beneficiary_id: id("ben-1"),
            pact: pact(),
        }),
        Event::RentCharged(RentCharged {
            month: Month::parse("2024-01").expect("a test month"),
            amount: money("250.00"),
        }),
    ]
}
pub fn submit(when: &str, command: Command) -> Submission {
    Submission {
        event_id: EventId::new_v4(),
        occurred_at: at(when),
        command,
    }
}

pub const PAYER: &str = "Comune di Cuneo";

/// A contract from 2023-07-01 to 2024-12-31, settled by quarter, with a funder.
pub fn registration() -> ContractRegistered {
    ContractRegistered {
        title: "Communal Living".into(),
        template: "cuneo".into(),
        definitions: None,
        definitions_sha256: None,
        payer: PAYER.into(),
        funder: Some("CRC Innova".into()),
        operator: "Open House".into(),
        evaluator: "Valutatore indipendente".into(),
        term_start_on: date("2023-07-01"),
        term_end_on: date("2024-12-31"),
        period_kind: PeriodKind::Quarter,
        procurement: Default::default(),
    }
}

/// The contract state after these events, replayed as the store would.
pub fn contract_after(events: Vec<Event>) -> ContractState {
    let history: Vec<Recorded> = events.into_iter().map(recorded).collect();
    match replay(StreamType::Contract, &history).expect("a consistent contract stream") {
        StreamState::Contract(state) => state,
        _ => unreachable!("a contract stream replays into a contract"),
    }
}

pub fn contract() -> ContractState {
    contract_after(vec![Event::ContractRegistered(registration())])
}

pub fn context() -> DecisionContext {
    context_with(contract())
}

pub fn context_with(contract: ContractState) -> DecisionContext {
    DecisionContext {
        contract,
        ..Default::default()
    }
}

pub fn recorded(event: Event) -> Recorded {
    Recorded {
        event_id: EventId::new_v4(),
        corrects: None,
        occurred_at: at("2024-01-10T10:00:00+01:00"),
        event,
    }
}

/// The context with one more stream state read.
pub fn reading(
    mut context: DecisionContext,
    stream_type: StreamType,
    stream_id: &str,
    state: StreamState,
) -> DecisionContext {
    context
        .reads
        .insert(StreamRef::new(stream_type, id(stream_id)), state);
    context
}

pub fn beneficiary_registration(band: IseeBand) -> BeneficiaryRegistered {
    BeneficiaryRegistered {
        isee_band: Some(band),
        household_size: Some(3),
        age_band: Some(AgeBand::From35To64),
        flags: vec![VulnerabilityFlag::HousingEmergency],
    }
}

pub fn registered_beneficiary(band: IseeBand) -> StreamState {
    StreamState::Beneficiary(BeneficiaryState::Registered(Beneficiary::new(
        beneficiary_registration(band),
    )))
}

/// The context reading `ben-1`, registered in band `b`.
pub fn context_with_beneficiary() -> DecisionContext {
    reading(
        context(),
        StreamType::Beneficiary,
        "ben-1",
        registered_beneficiary(IseeBand::B),
    )
}

pub fn accredited_provider() -> StreamState {
    StreamState::Provider(ProviderState::Accredited {
        accredited: ProviderAccredited {
            name: "Pasti Cuneo".into(),
            service_family: ServiceFamily::Meals,
        },
        requested: None,
        suspensions: Vec::new(),
    })
}

/// The state a stream of `stream_type` reaches after `events`.
pub fn state_after(stream_type: StreamType, events: Vec<Event>) -> StreamState {
    let history: Vec<Recorded> = events.into_iter().map(recorded).collect();
    replay(stream_type, &history).expect("a consistent stream")
}
