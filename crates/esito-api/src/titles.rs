//! The titles of the problem details, in English (`title`) and in Italian (`title_it`), one
//! per error code: what municipal staff read first when a request is refused. The Italian is
//! the PA's, in the words of docs/glossary.md.
//!
//! Invariant: every `ErrorCode` has both titles (an exhaustive match, no wildcard); the rules
//! of a settlement's steps have titles of their own (`SETTLEMENT_RULES`), and every other
//! domain rule shares the one title of a broken rule.

use crate::error::ErrorCode;

/// A title in English and in Italian.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Title {
    pub en: &'static str,
    pub it: &'static str,
}

const fn title(en: &'static str, it: &'static str) -> Title {
    Title { en, it }
}

/// The title of a domain rule's refusal (its own code says which rule).
pub const RULE: Title = title(
    "A rule of the contract is not met",
    "Regola del contratto non rispettata",
);

/// Every code, for the tests and the docs that walk them.
pub const CODES: [ErrorCode; 30] = [
    ErrorCode::Unauthenticated,
    ErrorCode::Forbidden,
    ErrorCode::NotYourToken,
    ErrorCode::UnknownContract,
    ErrorCode::UnknownCommand,
    ErrorCode::UnknownEvent,
    ErrorCode::UnknownStreamType,
    ErrorCode::UnknownIndicator,
    ErrorCode::UnknownSettlement,
    ErrorCode::UnknownKey,
    ErrorCode::UnknownIdentity,
    ErrorCode::IdentityErased,
    ErrorCode::FiscalCodeRegistered,
    ErrorCode::VaultUnavailable,
    ErrorCode::NoIndicatorDefinitions,
    ErrorCode::MalformedJson,
    ErrorCode::UnknownField,
    ErrorCode::MissingField,
    ErrorCode::InvalidType,
    ErrorCode::InvalidValue,
    ErrorCode::BodyTooLarge,
    ErrorCode::BatchSize,
    ErrorCode::EventIdReused,
    ErrorCode::ContractAlreadyExists,
    ErrorCode::Internal,
    ErrorCode::Unavailable,
    ErrorCode::NotFound,
    ErrorCode::MethodNotAllowed,
    ErrorCode::UnsupportedMediaType,
    ErrorCode::InvalidRows,
];

/// The titles of a code that is not a domain rule.
pub fn of(code: ErrorCode) -> Title {
    match code {
        ErrorCode::Unauthenticated => title("Authentication required", "Autenticazione richiesta"),
        ErrorCode::Forbidden => title(
            "Not allowed to this role",
            "Operazione non consentita al ruolo",
        ),
        ErrorCode::NotYourToken => title(
            "The token is another provider's",
            "Il token è di un altro fornitore",
        ),
        ErrorCode::UnknownContract => title("Unknown contract", "Contratto inesistente"),
        ErrorCode::UnknownCommand => title("Unknown command", "Comando inesistente"),
        ErrorCode::UnknownEvent => title("Unknown event", "Evento inesistente"),
        ErrorCode::UnknownStreamType => title("Unknown stream type", "Tipo di flusso inesistente"),
        ErrorCode::UnknownIndicator => title("Unknown indicator", "Indicatore inesistente"),
        ErrorCode::UnknownSettlement => title("Unknown settlement", "Liquidazione inesistente"),
        ErrorCode::UnknownKey => title("Unknown key", "Chiave inesistente"),
        ErrorCode::UnknownIdentity => title("Unknown identity", "Identità inesistente"),
        ErrorCode::IdentityErased => title("Identity erased", "Identità cancellata"),
        ErrorCode::FiscalCodeRegistered => title(
            "Fiscal code already registered",
            "Codice fiscale già registrato",
        ),
        ErrorCode::VaultUnavailable => title(
            "Identity vault unavailable",
            "Cassaforte delle identità non disponibile",
        ),
        ErrorCode::NoIndicatorDefinitions => title(
            "No indicator definitions",
            "Definizioni degli indicatori mancanti",
        ),
        ErrorCode::MalformedJson => title("Malformed JSON", "JSON non leggibile"),
        ErrorCode::UnknownField => title("Unknown field", "Campo non previsto"),
        ErrorCode::MissingField => title("Missing field", "Campo obbligatorio mancante"),
        ErrorCode::InvalidType => title("Wrong type of value", "Tipo di dato errato"),
        ErrorCode::InvalidValue => title("Value not allowed", "Valore non ammesso"),
        ErrorCode::BodyTooLarge => title("Request too large", "Richiesta troppo grande"),
        ErrorCode::BatchSize => title(
            "Batch size not allowed",
            "Numero di comandi del lotto non ammesso",
        ),
        ErrorCode::EventIdReused => title(
            "Event id already used",
            "Identificativo dell'evento già usato",
        ),
        ErrorCode::ContractAlreadyExists => {
            title("Contract already registered", "Contratto già registrato")
        }
        ErrorCode::Internal => title("Internal error", "Errore interno"),
        ErrorCode::Unavailable => title(
            "Service unavailable for now",
            "Servizio momentaneamente non disponibile",
        ),
        ErrorCode::NotFound => title("Not found", "Risorsa inesistente"),
        ErrorCode::MethodNotAllowed => title("Method not allowed", "Metodo non ammesso"),
        ErrorCode::UnsupportedMediaType => title(
            "Media type not supported",
            "Formato della richiesta non ammesso",
        ),
        ErrorCode::InvalidRows => title("Rows refused", "Righe respinte"),
    }
}

/// The rules of a settlement's steps, each with a title of its own: what a municipal officer
/// reads when a step comes out of order (calculated → validated → certified → approved →
/// paid) or an act lacks its number or date.
pub const SETTLEMENT_RULES: [(&str, Title); 9] = [
    (
        "settlement_not_validated",
        title(
            "The settlement is not validated yet",
            "La liquidazione non è ancora validata dal soggetto valutatore",
        ),
    ),
    (
        "settlement_already_validated",
        title(
            "The settlement is already validated",
            "La liquidazione è già validata",
        ),
    ),
    (
        "settlement_not_certified",
        title(
            "The settlement is not certified yet",
            "Manca l'attestazione di regolare esecuzione del RUP",
        ),
    ),
    (
        "settlement_already_certified",
        title(
            "The settlement is already certified",
            "L'attestazione di regolare esecuzione è già registrata",
        ),
    ),
    (
        "settlement_not_approved",
        title(
            "The settlement is not approved yet",
            "Manca la determina di liquidazione",
        ),
    ),
    (
        "settlement_already_approved",
        title(
            "The settlement is already approved",
            "La determina di liquidazione è già registrata",
        ),
    ),
    (
        "settlement_already_paid",
        title(
            "The settlement is already paid",
            "Il mandato di pagamento è già registrato",
        ),
    ),
    (
        "settlement_act_missing",
        title(
            "The act's number or date is missing",
            "Manca il numero o la data dell'atto",
        ),
    ),
    (
        "treasury_paid_without_split_payment",
        title(
            "VAT is not under split payment",
            "L'IVA non è in scissione dei pagamenti",
        ),
    ),
];

/// The titles of a stable code as `ApiError` holds it: a code of `ErrorCode`'s, a settlement
/// step's rule, or another domain rule's.
pub fn of_code(code: &str) -> Title {
    if let Some((_, title)) = SETTLEMENT_RULES.iter().find(|(rule, _)| *rule == code) {
        return *title;
    }
    CODES
        .into_iter()
        .find(|known| known.as_str() == code)
        .map_or(RULE, of)
}
