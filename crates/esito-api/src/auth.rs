//! Access (docs/design.md §7): bearer keys stored as SHA-256 hashes, one role each, on contracts.
//!
//! Invariant: every decision of who may do what is in `Role::may`; handlers ask it and
//! nothing else.

use std::collections::HashMap;
use std::sync::RwLock;

use axum::http::HeaderMap;
use esito_domain::ContractId;
use esito_store::{KeyRecord, Store};
use sha2::{Digest, Sha256};

use crate::error::{ApiError, ErrorCode};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    Admin,
    Operator,
    Provider,
    Payer,
    Funder,
    Evaluator,
}

impl Role {
    pub const ALL: [Role; 6] = [
        Role::Admin,
        Role::Operator,
        Role::Provider,
        Role::Payer,
        Role::Funder,
        Role::Evaluator,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Operator => "operator",
            Role::Provider => "provider",
            Role::Payer => "payer",
            Role::Funder => "funder",
            Role::Evaluator => "evaluator",
        }
    }

    pub fn parse(text: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|role| role.as_str() == text)
    }

    /// The one table of permissions.
    pub fn may(self, action: Action) -> bool {
        match (self, action) {
            // Settlements (docs/design.md §7): each step is one role's, the admin's key
            // included. The payer (or the admin) asks for a calculation, which the service
            // computes and records itself: no key sends `CalculateSettlement` as a command.
            (Role::Payer | Role::Admin, Action::CalculateSettlement) => true,
            (_, Action::CalculateSettlement) => false,
            (_, Action::Command(name)) if SERVICE_COMMANDS.contains(&name) => false,
            (role, Action::Command(VALIDATE_SETTLEMENT)) => role == Role::Evaluator,
            (role, Action::Command(APPROVE_SETTLEMENT | RECORD_SETTLEMENT_PAYMENT)) => {
                role == Role::Payer
            }
            (Role::Admin, _) => true,
            (Role::Operator, Action::Command(name)) => !ADMIN_COMMANDS.contains(&name),
            (Role::Provider, Action::Command(name)) => PROVIDER_COMMANDS.contains(&name),
            (Role::Payer | Role::Funder | Role::Evaluator, Action::Command(_)) => false,
            (
                Role::Operator | Role::Payer | Role::Funder | Role::Evaluator,
                Action::ReadLog | Action::ReadLists,
            ) => true,
            (Role::Provider, Action::ReadLog) => false,
            // A provider sees its own tokens, and nothing else of the contract.
            (Role::Provider, Action::ReadLists) => true,
        }
    }
}

/// Commands only the admin may send: they shape the contract itself.
pub const ADMIN_COMMANDS: &[&str] = &["RegisterContract", "AmendContract"];

/// Commands a provider may send, each about one of its own tokens.
pub const PROVIDER_COMMANDS: &[&str] = &["RecordDelivery", "AgreeDeliveryTime"];

/// Commands only the service sends, having computed them itself: they have no endpoint.
pub const SERVICE_COMMANDS: &[&str] = &["CalculateSettlement"];

/// Only the evaluator validates a settlement.
pub const VALIDATE_SETTLEMENT: &str = "ValidateSettlement";
/// Only the payer approves a settlement, and records that it paid it: the payment is the
/// payer's act, and so its record.
pub const APPROVE_SETTLEMENT: &str = "ApproveSettlement";
pub const RECORD_SETTLEMENT_PAYMENT: &str = "RecordSettlementPayment";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Command(&'static str),
    /// Ask the service to calculate a period's settlement (`POST .../settlements`).
    CalculateSettlement,
    ReadLog,
    ReadLists,
}

/// Who is calling: from a key found by its hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub name: String,
    pub role: Role,
    /// Empty for an admin: every contract.
    pub contracts: Vec<ContractId>,
    pub provider_id: Option<String>,
}

impl Principal {
    pub fn may_touch(&self, contract_id: &ContractId) -> bool {
        (self.role == Role::Admin && self.contracts.is_empty())
            || self.contracts.contains(contract_id)
    }

    /// Refuses, as 403, a contract the key was not given.
    pub fn check_contract(&self, contract_id: &ContractId) -> Result<(), ApiError> {
        if self.may_touch(contract_id) {
            Ok(())
        } else {
            Err(ApiError::new(
                ErrorCode::Forbidden,
                format!("this key has no access to contract {contract_id}"),
            ))
        }
    }

    /// Refuses, as 403, what the role or the contract does not allow.
    pub fn check(&self, contract_id: &ContractId, action: Action) -> Result<(), ApiError> {
        self.check_contract(contract_id)?;
        if !self.role.may(action) {
            let what = match action {
                Action::Command(name) => format!("send {name}"),
                Action::CalculateSettlement => "ask for a settlement".to_owned(),
                Action::ReadLog => "read the log".to_owned(),
                Action::ReadLists => "read these lists".to_owned(),
            };
            return Err(ApiError::new(
                ErrorCode::Forbidden,
                format!("the {} role may not {what}", self.role.as_str()),
            ));
        }
        Ok(())
    }
}

pub fn key_hash(key: &str) -> [u8; 32] {
    Sha256::digest(key.as_bytes()).into()
}

/// A new random key: `esito_` and 64 hex digits (two UUIDv4s' random bytes).
pub fn new_key() -> String {
    format!(
        "esito_{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

/// Keys found by hash, kept once seen: keys never change after they are created.
#[derive(Default)]
pub struct KeyCache {
    known: RwLock<HashMap<[u8; 32], Principal>>,
}

impl KeyCache {
    pub async fn authenticate(
        &self,
        store: &Store,
        headers: &HeaderMap,
    ) -> Result<Principal, ApiError> {
        let unauthenticated = |detail: &str| ApiError::new(ErrorCode::Unauthenticated, detail);
        let value = headers
            .get(axum::http::header::AUTHORIZATION)
            .ok_or_else(|| unauthenticated("send the key as Authorization: Bearer KEY"))?;
        let key = value
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer "))
            .ok_or_else(|| unauthenticated("the Authorization header must be: Bearer KEY"))?;
        let hash = key_hash(key.trim());
        if let Some(principal) = self
            .known
            .read()
            .expect("the key cache lock is never poisoned")
            .get(&hash)
        {
            return Ok(principal.clone());
        }
        let record = store
            .key_by_hash(&hash)
            .await?
            .ok_or_else(|| unauthenticated("unknown key"))?;
        let principal =
            principal(&record).ok_or_else(|| unauthenticated("this key's record is unreadable"))?;
        self.known
            .write()
            .expect("the key cache lock is never poisoned")
            .insert(hash, principal.clone());
        Ok(principal)
    }
}

fn principal(record: &KeyRecord) -> Option<Principal> {
    Some(Principal {
        name: record.principal.clone(),
        role: Role::parse(&record.role)?,
        contracts: record
            .contracts
            .iter()
            .map(|c| ContractId::parse(c).ok())
            .collect::<Option<_>>()?,
        provider_id: record.provider_id.clone(),
    })
}

/// Creates a key and stores its hash; returns the key, which is never stored.
pub async fn create_key(
    store: &Store,
    principal: &str,
    role: Role,
    contracts: &[ContractId],
    provider_id: Option<&str>,
) -> Result<String, esito_store::StoreError> {
    let key = new_key();
    store_key(store, &key, principal, role, contracts, provider_id).await?;
    Ok(key)
}

/// Stores the hash of a given key (the demo's keys are fixed so that they can be printed again).
pub async fn store_key(
    store: &Store,
    key: &str,
    principal: &str,
    role: Role,
    contracts: &[ContractId],
    provider_id: Option<&str>,
) -> Result<(), esito_store::StoreError> {
    store
        .insert_key(&KeyRecord {
            key_hash: key_hash(key),
            principal: principal.to_owned(),
            role: role.as_str().to_owned(),
            contracts: contracts.iter().map(ToString::to_string).collect(),
            provider_id: provider_id.map(str::to_owned),
        })
        .await
}
