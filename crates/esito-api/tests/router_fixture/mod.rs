//! What the API's test binaries share beyond `esito-testkit`: the fixture over a router, a key
//! for each role on the contract under test, and payment terms to settle it by.

// Each test binary includes this module and uses a different part of it.
#![allow(dead_code)]

use axum::Router;
use esito_api::auth::{store_key, Role};
use esito_domain::terms::{ContractChange, PaymentRule, PaymentTerms};
use esito_domain::{Command, ContractId, Money, Rate};
use esito_store::Store;

/// The router under test over a fresh store.
pub type Fixture = esito_testkit::Fixture<Router>;

/// The key of `role`, stored by `store_role_keys`.
pub fn key(role: Role) -> String {
    format!("test-key-{}", role.as_str())
}

/// One key per role: the admin's for every contract, each other role's for `contract` only,
/// the provider's for `prov-1`.
pub async fn store_role_keys(store: &Store, contract: &ContractId) {
    for role in Role::ALL {
        let contracts = if role == Role::Admin {
            vec![]
        } else {
            vec![contract.clone()]
        };
        let provider = (role == Role::Provider).then_some("prov-1");
        store_key(store, &key(role), role.as_str(), role, &contracts, provider)
            .await
            .expect("a key");
    }
}

/// From the term's first day, `rate` euro per unit of `indicator`, at most `period_cap` a
/// period.
pub fn rate_card_from_the_start(indicator: &str, rate: &str, period_cap: Option<&str>) -> Command {
    Command::AmendContract {
        effective_on: "2023-07-01".parse().expect("date"),
        changes: vec![ContractChange::PaymentTerms {
            payment_terms: PaymentTerms {
                rules: vec![PaymentRule::RateCard {
                    indicator: indicator.into(),
                    rate: Rate::parse(rate).expect("valid"),
                    threshold: None,
                    cap: None,
                    max_per_beneficiary: None,
                    cap_per_beneficiary: None,
                }],
                period_cap: period_cap.map(|cap| Money::parse(cap).expect("valid")),
                contract_cap: None,
                vat_rate: None,
                payers: vec![],
            },
        }],
    }
}
