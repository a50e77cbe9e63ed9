//! Access (docs/design.md §7): bearer keys stored as SHA-256 hashes, one role each, on contracts.
//!
//! Invariant: every decision of who may do what is in `Role::may`; handlers ask it, through
//! `Principal::check`, and nothing else. The table names every role and every action, so a new
//! one does not compile until it has its answers.

use std::collections::HashMap;
use std::sync::RwLock;
use std::time::{Duration, Instant};

use axum::http::HeaderMap;
use chrono::{DateTime, Utc};
use esito_domain::values::format_recorded_at;
use esito_domain::ContractId;
use esito_store::{KeyRecord, Store, StoredKey};
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
            // Keys are the admin's: list, create, revoke (with a key that reaches every contract).
            (Admin, Action::ManageKeys) => true,
            (Operator | Provider | Payer | Funder | Evaluator, Action::ManageKeys) => false,
            // Identities (docs/privacy.md): the operator registers, reads and erases them; the
            // admin registers and erases but does not read; no other role reaches them.
            (Admin | Operator, Action::WriteIdentities) => true,
            (Provider | Payer | Funder | Evaluator, Action::WriteIdentities) => false,
            (Operator, Action::ReadIdentities) => true,
            (Admin | Provider | Payer | Funder | Evaluator, Action::ReadIdentities) => false,
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
pub const SERVICE_COMMANDS: &[&str] = &["CalculateSettlement", "EraseIdentity"];

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
    /// List, create and revoke keys (`/v1/keys`); only with a key that reaches every contract.
    ManageKeys,
    /// Register, replace and erase a person's identity in the vault.
    WriteIdentities,
    /// Read a person's identity, or find a pseudonym by fiscal code.
    ReadIdentities,
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
            Action::ManageKeys => "manage keys".to_owned(),
            Action::WriteIdentities => "register or erase identities".to_owned(),
            Action::ReadIdentities => "read identities".to_owned(),
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

    /// Refuses, as 403, an action that is no contract's (keys) unless the role may take it
    /// and the key reaches every contract.
    pub fn check_everywhere(&self, action: Action) -> Result<(), ApiError> {
        if !self.role.may(action) {
            return Err(self.refuse(action));
        }
        if !self.contracts.is_empty() || !self.role.may(Action::ReachEveryContract) {
            return Err(ApiError::new(
                ErrorCode::Forbidden,
                format!(
                    "only a key that reaches every contract may {}",
                    action.describe()
                ),
            ));
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

/// How long a key found in the store is trusted without asking the store again: a key revoked,
/// or a database that stops holding only demo contracts, is refused by every instance within
/// this bound plus one lookup. Kept under a second (docs/design.md §7).
pub const KEY_FRESHNESS: Duration = Duration::from_millis(500);
const _: () = assert!(KEY_FRESHNESS.as_millis() < 1000);

/// A key's last use is written at most this often, whichever instance sees it.
pub const LAST_USE_INTERVAL: Duration = Duration::from_secs(60);

/// A key found by hash, trusted until `checked_at + KEY_FRESHNESS`.
struct Known {
    principal: Principal,
    expires_at: Option<DateTime<Utc>>,
    checked_at: Instant,
}

/// Keys found by hash, each kept at most `KEY_FRESHNESS` before the store is asked again:
/// revocation is the store's, and every instance sees it within a second.
#[derive(Default)]
pub struct KeyCache {
    known: RwLock<HashMap<[u8; 32], Known>>,
}

impl KeyCache {
    /// Whether the key with this hash has been found in the store (and so authenticated).
    pub fn knows(&self, hash: &[u8; 32]) -> bool {
        self.known
            .read()
            .expect("the key cache lock is never poisoned")
            .contains_key(hash)
    }

    fn forget(&self, hash: &[u8; 32]) {
        self.known
            .write()
            .expect("the key cache lock is never poisoned")
            .remove(hash);
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
        self.authenticate_hash(store, key_hash(key.trim())).await
    }

    /// The principal of the key with this SHA-256, as `authenticate` finds it: the screens'
    /// sessions keep the hash of the key they were opened with, never the key.
    pub async fn authenticate_hash(
        &self,
        store: &Store,
        hash: [u8; 32],
    ) -> Result<Principal, ApiError> {
        let unauthenticated = |detail: &str| ApiError::new(ErrorCode::Unauthenticated, detail);
        let now = Utc::now();
        if let Some(known) = self
            .known
            .read()
            .expect("the key cache lock is never poisoned")
            .get(&hash)
        {
            if known.checked_at.elapsed() < KEY_FRESHNESS
                && known.expires_at.is_none_or(|expires_at| now < expires_at)
            {
                return Ok(known.principal.clone());
            }
        }
        let found = store.key_by_hash(&hash).await?;
        let usable = found.as_ref().map(|stored| usable(stored, now));
        let (stored, expires_at) = match (found, usable) {
            (Some(stored), Some(Ok(expires_at))) => (stored, expires_at),
            (_, Some(Err(detail))) => {
                self.forget(&hash);
                return Err(unauthenticated(&detail));
            }
            (None, _) | (Some(_), None) => {
                self.forget(&hash);
                return Err(unauthenticated("unknown key"));
            }
        };
        if stored.record.demo && !store.holds_only_demo_contracts().await? {
            self.forget(&hash);
            return Err(unauthenticated(
                "a demo key works only on a database that holds nothing but the demo's contracts",
            ));
        }
        let principal = principal(&stored.record)
            .ok_or_else(|| unauthenticated("this key's record is unreadable"))?;
        record_use(store, &hash, stored.last_used_at.as_deref(), now).await;
        self.known
            .write()
            .expect("the key cache lock is never poisoned")
            .insert(
                hash,
                Known {
                    principal: principal.clone(),
                    expires_at,
                    checked_at: Instant::now(),
                },
            );
        Ok(principal)
    }
}

/// The key's expiry if it may be used at `now`; otherwise why not.
fn usable(stored: &StoredKey, now: DateTime<Utc>) -> Result<Option<DateTime<Utc>>, String> {
    if let Some(revoked_at) = &stored.revoked_at {
        return Err(format!("this key was revoked at {revoked_at}"));
    }
    let expires_at = match &stored.record.expires_at {
        None => None,
        Some(text) => Some(
            DateTime::parse_from_rfc3339(text)
                .map_err(|_| "this key's record is unreadable".to_owned())?
                .with_timezone(&Utc),
        ),
    };
    match expires_at {
        Some(expires_at) if expires_at <= now => Err(format!(
            "this key expired at {}",
            stored.record.expires_at.as_deref().unwrap_or_default()
        )),
        _ => Ok(expires_at),
    }
}

/// Writes the key's last use when the one stored is older than `LAST_USE_INTERVAL`. A failure
/// is logged and does not refuse the request: the last use is a convenience, not a record.
async fn record_use(
    store: &Store,
    hash: &[u8; 32],
    last_used_at: Option<&str>,
    now: DateTime<Utc>,
) {
    let interval = chrono::Duration::from_std(LAST_USE_INTERVAL).expect("a minute fits");
    let since = format_recorded_at(now - interval);
    if last_used_at.is_some_and(|last| last >= since.as_str()) {
        return;
    }
    if let Err(error) = store
        .record_key_use(hash, &format_recorded_at(now), &since)
        .await
    {
        tracing::warn!(%error, key_id = %crate::access_log::key_id(hash), "recording a key's last use");
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

/// What a new key may do, checked: the one set of rules `esito keys create` and
/// `POST /v1/keys` share.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewKey {
    pub principal: String,
    pub role: Role,
    /// None: every contract (an admin only).
    pub contracts: Vec<ContractId>,
    /// A provider's key names its provider, and only a provider's key does.
    pub provider_id: Option<String>,
    /// How long it works; `None`: until revoked.
    pub lifetime: Option<Lifetime>,
}

/// Why a new key's request is refused: the field at fault and the reason.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {reason}")]
pub struct KeyRequestError {
    pub field: &'static str,
    pub reason: String,
}

impl NewKey {
    /// Checks the request: the role's contracts and provider as the table of roles needs them.
    pub fn new(
        principal: Option<String>,
        role: Role,
        contracts: Vec<ContractId>,
        provider_id: Option<String>,
        lifetime: Option<Lifetime>,
    ) -> Result<Self, KeyRequestError> {
        if contracts.is_empty() && !role.may(Action::ReachEveryContract) {
            return Err(KeyRequestError {
                field: "contracts",
                reason: format!("a {} key names at least one contract", role.as_str()),
            });
        }
        if provider_id.is_some() != (role == Role::Provider) {
            return Err(KeyRequestError {
                field: "provider",
                reason: "required for a provider key, and only for one".to_owned(),
            });
        }
        if let Some(provider) = &provider_id {
            esito_domain::StreamId::parse(provider).map_err(|e| KeyRequestError {
                field: "provider",
                reason: e.to_string(),
            })?;
        }
        let principal = principal.unwrap_or_else(|| {
            format!(
                "{}-{}",
                role.as_str(),
                &uuid::Uuid::new_v4().simple().to_string()[..8]
            )
        });
        if principal.is_empty() || principal.len() > PRINCIPAL_BYTES_MAX {
            return Err(KeyRequestError {
                field: "principal",
                reason: format!("1 to {PRINCIPAL_BYTES_MAX} bytes"),
            });
        }
        Ok(Self {
            principal,
            role,
            contracts,
            provider_id,
            lifetime,
        })
    }
}

/// The longest principal name a key may carry (it is recorded on every entry it writes).
pub const PRINCIPAL_BYTES_MAX: usize = 128;

/// How long a key works: `90d`, `12h` or `30m`, at most `LIFETIME_DAYS_MAX` days.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lifetime(chrono::Duration);

/// The longest lifetime a key may be given; a key that must outlive it is given none.
pub const LIFETIME_DAYS_MAX: i64 = 3650;

impl Lifetime {
    pub fn parse(text: &str) -> Result<Self, KeyRequestError> {
        let refuse = || {
            KeyRequestError {
            field: "expires_in",
            reason: format!(
                "`{text}`: a whole number and a unit, d, h or m (`90d`), at most {LIFETIME_DAYS_MAX} days"
            ),
        }
        };
        let split = text.len().checked_sub(1).ok_or_else(refuse)?;
        if !text.is_char_boundary(split) {
            return Err(refuse());
        }
        let (number, unit) = text.split_at(split);
        if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) {
            return Err(refuse());
        }
        let number: i64 = number.parse().map_err(|_| refuse())?;
        let minutes = match unit {
            "d" => number.checked_mul(24 * 60),
            "h" => number.checked_mul(60),
            "m" => Some(number),
            _ => None,
        }
        .ok_or_else(refuse)?;
        if minutes == 0 || minutes > LIFETIME_DAYS_MAX * 24 * 60 {
            return Err(refuse());
        }
        Ok(Lifetime(chrono::Duration::minutes(minutes)))
    }

    /// When a key created at `now` with this lifetime expires.
    pub fn expires_at(self, now: DateTime<Utc>) -> DateTime<Utc> {
        now + self.0
    }
}

/// Creates a key and stores its hash; returns the key, which is never stored.
pub async fn create(store: &Store, new: &NewKey) -> Result<String, esito_store::StoreError> {
    let key = new_key();
    store
        .insert_key(&KeyRecord {
            key_hash: key_hash(&key),
            principal: new.principal.clone(),
            role: new.role.as_str().to_owned(),
            contracts: new.contracts.iter().map(ToString::to_string).collect(),
            provider_id: new.provider_id.clone(),
            expires_at: new
                .lifetime
                .map(|lifetime| format_recorded_at(lifetime.expires_at(Utc::now()))),
            demo: false,
        })
        .await?;
    Ok(key)
}

/// Creates a key that never expires and stores its hash; returns the key, which is never stored.
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

/// Stores the hash of a given key, which never expires.
pub async fn store_key(
    store: &Store,
    key: &str,
    principal: &str,
    role: Role,
    contracts: &[ContractId],
    provider_id: Option<&str>,
) -> Result<(), esito_store::StoreError> {
    insert_lasting_key(store, key, principal, role, contracts, provider_id, false).await
}

/// Stores the hash of one of the demo's fixed keys, marked so that it works only while the
/// database holds nothing but the demo's contracts.
pub async fn store_demo_key(
    store: &Store,
    key: &str,
    principal: &str,
    role: Role,
    contracts: &[ContractId],
    provider_id: Option<&str>,
) -> Result<(), esito_store::StoreError> {
    insert_lasting_key(store, key, principal, role, contracts, provider_id, true).await
}

/// The hash of a key that never expires, demo or not.
async fn insert_lasting_key(
    store: &Store,
    key: &str,
    principal: &str,
    role: Role,
    contracts: &[ContractId],
    provider_id: Option<&str>,
    demo: bool,
) -> Result<(), esito_store::StoreError> {
    store
        .insert_key(&KeyRecord {
            key_hash: key_hash(key),
            principal: principal.to_owned(),
            role: role.as_str().to_owned(),
            contracts: contracts.iter().map(ToString::to_string).collect(),
            provider_id: provider_id.map(str::to_owned),
            expires_at: None,
            demo,
        })
        .await
}
