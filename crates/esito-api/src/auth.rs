//! Access (docs/design.md §7): bearer keys stored as SHA-256 hashes, one role each, on contracts.
//!
//! Invariant: every decision of who may do what is in `Role::may`; handlers ask it, through
//! `Principal::check`, and nothing else. The table names every role and every action, so a new
//! one does not compile until it has its answers.

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

    /// The one table of permissions. Every arm names its roles: no arm grants by a wildcard.
    pub fn may(self, action: Action) -> bool {
        use Role::*;
        match (self, action) {
            (role, Action::Command(name)) => role.may_send(CommandKind::of(name)),
            // Each item of a batch is then checked as its own command.
            (Admin | Operator | Provider | Payer | Funder | Evaluator, Action::SendBatch) => true,
            // The payer (or the admin) asks for a calculation, which the service computes and
            // records itself: no key sends `CalculateSettlement` as a command.
            (Admin | Payer, Action::CalculateSettlement) => true,
            (Operator | Provider | Funder | Evaluator, Action::CalculateSettlement) => false,
            (Admin, Action::MakeCheckpoint) => true,
            (Operator | Provider | Payer | Funder | Evaluator, Action::MakeCheckpoint) => false,
            // A key that names no contract reaches every contract only if it is the admin's.
            (Admin, Action::ReachEveryContract) => true,
            (Operator | Provider | Payer | Funder | Evaluator, Action::ReachEveryContract) => false,
            (
                Admin | Operator | Payer | Funder | Evaluator,
                Action::ReadLog
                | Action::ReadProofs
                | Action::ReadIndicators
                | Action::ReadSettlements
                | Action::ReadLists,
            ) => true,
            // A provider sees its own tokens, and nothing else of the contract.
            (
                Provider,
                Action::ReadLog
                | Action::ReadProofs
                | Action::ReadIndicators
                | Action::ReadSettlements
                | Action::ReadLists,
            ) => false,
            // The whole log at once, for those who check or pay for the results; the operator
            // keeps its own records and reads the log page by page.
            (Admin | Payer | Funder | Evaluator, Action::ExportLog) => true,
            (Operator | Provider, Action::ExportLog) => false,
            (Admin | Operator | Provider | Payer | Funder | Evaluator, Action::ReadOwnTokens) => {
                true
            }
            // The operator records deliveries for the providers; a provider only for itself.
            (Admin | Operator, Action::SpeakForEveryProvider) => true,
            (Provider | Payer | Funder | Evaluator, Action::SpeakForEveryProvider) => false,
        }
    }

    /// Who sends each kind of command. Settlements (docs/design.md §7): each step is one
    /// role's, the admin's key included.
    fn may_send(self, kind: CommandKind) -> bool {
        use Role::*;
        match (self, kind) {
            (Admin | Operator | Provider | Payer | Funder | Evaluator, CommandKind::Service) => {
                false
            }
            (Evaluator, CommandKind::Validation) => true,
            (Admin | Operator | Provider | Payer | Funder, CommandKind::Validation) => false,
            (Payer, CommandKind::PayerStep) => true,
            (Admin | Operator | Provider | Funder | Evaluator, CommandKind::PayerStep) => false,
            (Admin, CommandKind::ContractShaping) => true,
            (Operator | Provider | Payer | Funder | Evaluator, CommandKind::ContractShaping) => {
                false
            }
            (Admin | Operator | Provider, CommandKind::Delivery) => true,
            (Payer | Funder | Evaluator, CommandKind::Delivery) => false,
            (Admin | Operator, CommandKind::Operation) => true,
            (Provider | Payer | Funder | Evaluator, CommandKind::Operation) => false,
            (Admin | Operator | Provider | Payer | Funder | Evaluator, CommandKind::Unknown) => {
                false
            }
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
/// Only the payer withdraws a calculated settlement it asked for, before it is validated.
pub const WITHDRAW_SETTLEMENT: &str = "WithdrawSettlement";

/// The kinds of command the table tells apart, each sent by the same roles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CommandKind {
    /// `SERVICE_COMMANDS`.
    Service,
    /// `VALIDATE_SETTLEMENT`.
    Validation,
    /// `APPROVE_SETTLEMENT`, `RECORD_SETTLEMENT_PAYMENT` and `WITHDRAW_SETTLEMENT`.
    PayerStep,
    /// `ADMIN_COMMANDS`.
    ContractShaping,
    /// `PROVIDER_COMMANDS`.
    Delivery,
    /// Every other command the API serves: the operator's running of the contract.
    Operation,
    /// A name that is no command the API serves.
    Unknown,
}

impl CommandKind {
    fn of(name: &str) -> Self {
        if SERVICE_COMMANDS.contains(&name) {
            CommandKind::Service
        } else if name == VALIDATE_SETTLEMENT {
            CommandKind::Validation
        } else if [
            APPROVE_SETTLEMENT,
            RECORD_SETTLEMENT_PAYMENT,
            WITHDRAW_SETTLEMENT,
        ]
        .contains(&name)
        {
            CommandKind::PayerStep
        } else if ADMIN_COMMANDS.contains(&name) {
            CommandKind::ContractShaping
        } else if PROVIDER_COMMANDS.contains(&name) {
            CommandKind::Delivery
        } else if crate::catalog::catalog().schemas.contains_key(name) {
            CommandKind::Operation
        } else {
            CommandKind::Unknown
        }
    }
}

/// What a key asks to do; `Role::may` answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Send one command: at its endpoint, as a batch's item, or as a settlement's step.
    Command(&'static str),
    /// Send a batch (`POST .../batch`); each item is then checked as its own command.
    SendBatch,
    /// Ask the service to calculate a period's settlement (`POST .../settlements`).
    CalculateSettlement,
    /// Ask for a checkpoint signed now (`POST .../checkpoints`).
    MakeCheckpoint,
    /// Act on every contract with a key that names none.
    ReachEveryContract,
    /// Read the log: entries by position, one event, one stream.
    ReadLog,
    /// Read proofs of inclusion and consistency, and the latest checkpoint.
    ReadProofs,
    /// Read the indicators' values and the facts that explain them.
    ReadIndicators,
    /// Stream the export of the log (`GET .../export`), as `esito export` writes it.
    ExportLog,
    /// Read settlements: the list, one as JSON, its printable page.
    ReadSettlements,
    /// Read the lists in full: beneficiaries, tenancies, placements, every token.
    ReadLists,
    /// List the tokens issued to the key's own provider (a key with no provider has none).
    ReadOwnTokens,
    /// Speak about a token issued to any provider (record or schedule its delivery), rather
    /// than only about those issued to the key's own provider.
    SpeakForEveryProvider,
}

impl Action {
    /// What the action is, as a refusal names it: "the payer role may not {what}".
    fn describe(self) -> String {
        match self {
            Action::Command(name) => format!("send {name}"),
            Action::SendBatch => "send a batch".to_owned(),
            Action::CalculateSettlement => "ask for a settlement".to_owned(),
            Action::MakeCheckpoint => "make checkpoints on demand".to_owned(),
            Action::ReachEveryContract => "reach every contract".to_owned(),
            Action::ReadLog => "read the log".to_owned(),
            Action::ReadProofs => "read proofs and checkpoints".to_owned(),
            Action::ReadIndicators => "read the indicators".to_owned(),
            Action::ExportLog => "export the log".to_owned(),
            Action::ReadSettlements => "read the settlements".to_owned(),
            Action::ReadLists => "read these lists".to_owned(),
            Action::ReadOwnTokens => "read its own tokens".to_owned(),
            Action::SpeakForEveryProvider => "speak about another provider's tokens".to_owned(),
        }
    }
}

/// The tokens a key may list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenScope {
    Every,
    /// Only those issued to this provider; none when the key has no provider.
    OfProvider(Option<String>),
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
        if self.contracts.is_empty() {
            self.role.may(Action::ReachEveryContract)
        } else {
            self.contracts.contains(contract_id)
        }
    }

    fn refuse(&self, action: Action) -> ApiError {
        ApiError::new(
            ErrorCode::Forbidden,
            format!(
                "the {} role may not {}",
                self.role.as_str(),
                action.describe()
            ),
        )
    }

    /// Refuses, as 403, what the role or the contract does not allow.
    pub fn check(&self, contract_id: &ContractId, action: Action) -> Result<(), ApiError> {
        if !self.may_touch(contract_id) {
            return Err(ApiError::new(
                ErrorCode::Forbidden,
                format!("this key has no access to contract {contract_id}"),
            ));
        }
        if !self.role.may(action) {
            return Err(self.refuse(action));
        }
        Ok(())
    }

    /// The tokens this key may list on the contract: every token, or its provider's own;
    /// refused, as 403, when it may list neither.
    pub fn check_tokens(&self, contract_id: &ContractId) -> Result<TokenScope, ApiError> {
        if self.check(contract_id, Action::ReadLists).is_ok() {
            return Ok(TokenScope::Every);
        }
        self.check(contract_id, Action::ReadOwnTokens)?;
        Ok(TokenScope::OfProvider(self.provider_id.clone()))
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
    /// Whether the key with this hash has been found in the store (and so authenticated).
    pub fn knows(&self, hash: &[u8; 32]) -> bool {
        self.known
            .read()
            .expect("the key cache lock is never poisoned")
            .contains_key(hash)
    }

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
