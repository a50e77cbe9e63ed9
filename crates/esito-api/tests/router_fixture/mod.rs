//! What the API's test binaries share beyond `esito-testkit`: the fixture over a router, and
//! a key for each role on the contract under test.

use axum::Router;
use esito_api::auth::{store_key, Role};
use esito_domain::ContractId;
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
