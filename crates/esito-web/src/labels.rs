//! Every text of every page, in Italian and English: `(key, it, en)`.
//!
//! Invariant: a page asks for its texts only by `Lang::t("key")` with a key written out, so a
//! test reads the sources and fails on a key this table lacks; another fails on a key whose
//! Italian or English is empty, or on a key written twice. The Italian is the glossary's
//! (`docs/glossary.md`): *amministrazione committente*, *soggetto gestore*, *massimale*, …
//! Append new rows at the end of their group.

use std::collections::HashMap;
use std::sync::OnceLock;

use crate::lang::Lang;

pub const LABELS: &[(&str, &str, &str)] = &[
    // The layout.
    ("app.name", "Esito", "Esito"),
    ("app.tagline", "Registro dei contratti outcome based", "Ledger of outcome-based contracts"),
    ("layout.skip", "Vai al contenuto", "Skip to content"),
    ("layout.switch", "English", "Italiano"),
    ("layout.switch_hint", "Read this page in English", "Leggi questa pagina in italiano"),
    ("layout.role", "Ruolo", "Role"),
    ("layout.sign_out", "Esci", "Sign out"),
    ("layout.contracts", "Contratti", "Contracts"),
    ("layout.nav", "Navigazione", "Navigation"),
    ("layout.footer", "Ogni cifra è calcolata dal registro del contratto e può essere ricalcolata dalla sua esportazione.", "Every figure is computed from the contract's log and can be computed again from its export."),
    // Roles, as the glossary names the parties.
    ("role.admin", "Amministratore del sistema", "System administrator"),
    ("role.operator", "Soggetto gestore", "Operator"),
    ("role.provider", "Fornitore accreditato", "Accredited provider"),
    ("role.payer", "Amministrazione committente", "Outcome payer"),
    ("role.funder", "Soggetto finanziatore", "Funder"),
    ("role.evaluator", "Soggetto valutatore", "Evaluator"),
    // Signing in.
    ("signin.title", "Accesso", "Sign in"),
    ("signin.intro", "Inserisci la chiave di accesso che ti è stata consegnata. La pagina mostra soltanto ciò che il tuo ruolo può vedere.", "Enter the access key you were given. The pages show only what your role may see."),
    ("signin.key", "Chiave di accesso", "Access key"),
    ("signin.key_hint", "Inizia con esito_: non condividerla.", "It starts with esito_: do not share it."),
    ("signin.submit", "Accedi", "Sign in"),
    ("signin.wrong_key", "Chiave non valida, scaduta o revocata: controlla la chiave e riprova.", "This key is unknown, expired or revoked: check the key and try again."),
    ("signin.signed_out", "Sei uscito. Per continuare, accedi di nuovo.", "You are signed out. Sign in again to go on."),
    ("signin.expired", "La sessione è scaduta o non è valida: accedi di nuovo.", "The session has expired or is not valid: sign in again."),
    // Error pages.
    ("error.forbidden_title", "Accesso negato", "Access denied"),
    ("error.forbidden", "Il tuo ruolo non consente di aprire questa pagina o di compiere questa azione.", "Your role may not open this page or take this action."),
    ("error.csrf", "Il modulo è scaduto o non proviene da questa pagina: ricarica la pagina e riprova.", "The form has expired or did not come from this page: reload the page and try again."),
    ("error.not_found_title", "Pagina non trovata", "Page not found"),
    ("error.not_found", "Non esiste ciò che hai chiesto.", "What you asked for does not exist."),
    ("error.refused_title", "Richiesta rifiutata", "Request refused"),
    ("error.failed_title", "Errore del servizio", "Service error"),
    ("error.failed", "Il servizio non ha potuto rispondere. Riprova tra poco; se l'errore resta, segnalalo indicando l'ora.", "The service could not answer. Try again shortly; if it persists, report it with the time."),
    ("error.back", "Torna ai contratti", "Back to the contracts"),
    // The contract list.
    ("contracts.title", "Contratti", "Contracts"),
    ("contracts.intro", "I contratti che la tua chiave può vedere.", "The contracts your key may see."),
    ("contracts.none", "Nessun contratto è visibile con questa chiave.", "No contract is visible with this key."),
    ("contracts.name", "Contratto", "Contract"),
    ("contracts.term", "Durata", "Term"),
    ("contracts.parties", "Parti", "Parties"),
    // Parties and terms.
    ("party.payer", "Amministrazione committente", "Outcome payer"),
    ("party.operator", "Soggetto gestore", "Operator"),
    ("party.funder", "Soggetto finanziatore", "Funder"),
    ("party.evaluator", "Soggetto valutatore", "Evaluator"),
    ("procurement.cig", "CIG (Codice Identificativo Gara)", "CIG (tender identification code)"),
    ("procurement.cup", "CUP (Codice Unico di Progetto)", "CUP (public investment project code)"),
    ("procurement.rup", "Responsabile Unico del Progetto (RUP)", "Project manager (RUP)"),
    ("term.from_to", "dal", "from"),
    ("term.to", "al", "to"),
    ("term.periods", "Periodi", "Periods"),
    ("period.month", "mensili", "monthly"),
    ("period.quarter", "trimestrali", "quarterly"),
    ("period.half", "semestrali", "half-yearly"),
    ("period.year", "annuali", "yearly"),
    // The dashboard.
    ("dashboard.parties", "Le parti", "The parties"),
    ("dashboard.term", "Durata del contratto", "The contract's term"),
    ("dashboard.areas", "Gli indicatori per area d'impatto", "The indicators by impact area"),
    ("dashboard.grid", "Aree tematiche e aree d'impatto", "Themes and impact areas"),
    ("dashboard.grid_intro", "Ogni cella elenca gli indicatori dell'area tematica (riga) nell'area d'impatto (colonna).", "Each cell lists the indicators of the theme (row) in the impact area (column)."),
    ("dashboard.settlements", "Liquidazioni", "Settlements"),
    ("dashboard.no_indicators", "Questo contratto non ha definizioni di indicatori.", "This contract has no indicator definitions."),
    ("dashboard.as_of", "Valori calcolati alla posizione del registro", "Values computed as of log position"),
    ("dashboard.period", "Periodo", "Period"),
    ("dashboard.value", "Valore", "Value"),
    ("dashboard.target", "Valore obiettivo", "Target"),
    ("dashboard.unit", "Unità", "Unit"),
    ("dashboard.explain", "Eventi", "Events"),
    ("dashboard.explain_hint", "Gli eventi del registro dietro il valore", "The log's events behind the value"),
    ("dashboard.no_value", "n.d.", "n/a"),
    ("dashboard.empty_cell", "Nessun indicatore", "No indicator"),
    ("dashboard.table", "Valori per periodo", "Values by period"),
    ("area.reach", "Numero di utenti raggiunti", "Reach"),
    ("area.utilisation", "Tasso di utilizzo", "Utilisation"),
    ("area.change", "Cambiamento", "Change"),
    ("area.economic_proxy", "Proxy economica", "Economic proxy"),
    // Units of the ready-made definitions.
    ("unit.EUR", "euro", "euro"),
    ("unit.accesses", "accessi", "accesses"),
    ("unit.assessments", "valutazioni", "assessments"),
    ("unit.deliverables", "prodotti", "deliverables"),
    ("unit.households", "nuclei familiari", "households"),
    ("unit.milestones", "obiettivi", "milestones"),
    ("unit.orders", "ordini", "orders"),
    ("unit.people", "persone", "people"),
    ("unit.placements", "inserimenti", "placements"),
    ("unit.products", "prodotti", "products"),
    ("unit.providers", "fornitori", "providers"),
    ("unit.referrals", "segnalazioni", "referrals"),
    ("unit.service families", "famiglie di servizi", "service families"),
    ("unit.share", "quota", "share"),
    ("unit.tokens", "token", "tokens"),
    // The chart.
    ("chart.title", "Andamento per periodo", "By period"),
    ("chart.axis_periods", "Periodo", "Period"),
    ("chart.axis_value", "Valore", "Value"),
    ("chart.target", "Valore obiettivo", "Target"),
    // The explanation.
    ("explain.title", "Gli eventi dietro il valore", "The events behind the value"),
    ("explain.intro", "Ogni riga è una voce del registro che concorre al valore, con la sua posizione e la prova che la voce è inclusa nel registro.", "Each row is an entry of the log that makes the value, with its position and the proof that the entry is included in the log."),
    ("explain.position", "Posizione", "Position"),
    ("explain.event", "Evento", "Event"),
    ("explain.part", "Parte del calcolo", "Part of the computation"),
    ("explain.date", "Data", "Date"),
    ("explain.key", "Riferimento", "Reference"),
    ("explain.amount", "Importo", "Amount"),
    ("explain.proof", "Prova di inclusione", "Inclusion proof"),
    ("explain.proof_link", "prova", "proof"),
    ("explain.none", "Nessun evento concorre a questo valore.", "No event makes this value."),
    ("explain.more", "Eventi successivi", "Later events"),
    ("explain.back", "Torna al contratto", "Back to the contract"),
    // What part of a computation a fact is.
    ("part.main", "Conteggio", "Count"),
    ("part.numerator", "Numeratore", "Numerator"),
    ("part.denominator", "Denominatore", "Denominator"),
    ("part.available", "Alloggio reso disponibile", "Unit made available"),
    ("part.withdrawn", "Alloggio ritirato", "Unit withdrawn"),
    ("part.occupied", "Locazione avviata", "Tenancy started"),
    ("part.vacated", "Locazione conclusa", "Tenancy ended"),
    ("part.entered", "Ingresso nella coorte", "Entered the cohort"),
    ("part.reached", "Esito atteso raggiunto", "Outcome reached"),
    ("part.start", "Inizio del calcolo del costo", "Start of the cost"),
    ("part.outcome", "Esito", "Outcome"),
    // Settlements: the list.
    ("settlements.title", "Liquidazioni", "Settlements"),
    ("settlements.intro", "Ogni periodo della durata del contratto, con lo stato della sua liquidazione.", "Every period of the contract's term, with the state of its settlement."),
    ("settlements.period", "Periodo", "Period"),
    ("settlements.status", "Stato", "Status"),
    ("settlements.total", "Totale (IVA inclusa)", "Total (VAT included)"),
    ("settlements.validated", "Validata", "Validated"),
    ("settlements.approved", "Approvata", "Approved"),
    ("settlements.paid", "Pagata", "Paid"),
    ("settlements.not_settled", "Da liquidare", "Not settled"),
    ("settlements.open", "Apri", "Open"),
    ("settlements.by_on", "da {who} il {when}", "by {who} on {when}"),
    ("settlements.actions", "Azioni", "Actions"),
    ("settlements.calculate", "Calcola la liquidazione", "Calculate the settlement"),
    // Settlement statuses, by the status the API gives (`status.{status}`).
    ("status.calculated", "BOZZA", "DRAFT"),
    ("status.validated", "VALIDATA · BOZZA", "VALIDATED · DRAFT"),
    ("status.certified", "ATTESTATA · BOZZA", "CERTIFIED · DRAFT"),
    ("status.approved", "APPROVATA", "APPROVED"),
    ("status.paid", "PAGATA", "PAID"),
    ("status.withdrawn", "RITIRATA", "WITHDRAWN"),
    // What each event of a settlement records, once taken.
    ("event.calculated", "Liquidazione calcolata", "Settlement calculated"),
    ("event.validated", "Validata dal soggetto valutatore", "Validated by the evaluator"),
    ("event.certified", "Regolare esecuzione attestata", "Due performance certified"),
    ("event.approved", "Approvata dall'amministrazione committente", "Approved by the outcome payer"),
    ("event.paid", "Pagamento registrato", "Payment recorded"),
    ("event.withdrawn", "Ritirata dall'amministrazione committente", "Withdrawn by the outcome payer"),
    // Settlement steps, by the step's path segment (`step.{step}`).
    ("step.validate", "Valida", "Validate"),
    ("step.certify", "Attesta la regolare esecuzione", "Certify due performance"),
    ("step.approve", "Approva", "Approve"),
    ("step.pay", "Registra il pagamento", "Record the payment"),
    ("step.withdraw", "Ritira", "Withdraw"),
    ("field.paid_on", "Data del pagamento", "Payment date"),
    ("field.reference", "Riferimento del mandato di pagamento", "Payment warrant reference"),
    ("field.certified_on", "Data dell'attestazione di regolare esecuzione", "Date of the certificate of due performance"),
    ("field.determina_number", "Numero della determina di liquidazione (se il contratto ha un CIG)", "Number of the payment decision (where the contract has a CIG)"),
    ("field.determina_date", "Data della determina di liquidazione", "Date of the payment decision"),
    ("field.mandato_number", "Numero del mandato di pagamento (se il contratto ha un CIG)", "Number of the payment warrant (where the contract has a CIG)"),
    ("field.mandato_date", "Data del mandato di pagamento", "Date of the payment warrant"),
    ("settlements.certified", "Attestata", "Certified"),
    ("field.reason", "Motivo", "Reason"),
    ("field.note", "Nota", "Note"),
    ("field.period", "Periodo", "Period"),
    // The settlement document.
    ("document.heading", "Documento di liquidazione", "Settlement document"),
    ("document.subject", "Oggetto", "Subject"),
    ("document.subject_text", "liquidazione del premio di risultato per il periodo", "settlement of the result premium for the period"),
    ("document.contract", "Contratto", "Contract"),
    ("document.period", "Periodo", "Period"),
    ("document.from", "dal", "from"),
    ("document.to", "al", "to"),
    ("document.final", "Liquidazione finale", "Final settlement"),
    ("document.lines", "Voci della liquidazione", "Lines of the settlement"),
    ("document.line", "Voce", "Line"),
    ("document.indicator", "Indicatore", "Indicator"),
    ("document.arithmetic", "Calcolo", "Arithmetic"),
    ("document.amount", "Importo", "Amount"),
    ("document.restatements", "Conguagli dei periodi precedenti", "Restatements of earlier periods"),
    ("document.totals", "Totali", "Totals"),
    ("document.subtotal", "Somma delle voci", "Sum of the lines"),
    ("document.period_cap", "Massimale di periodo", "Period cap"),
    ("document.contract_cap", "Massimale contrattuale", "Contract cap"),
    ("document.total", "Imponibile", "Taxable amount"),
    ("document.vat", "IVA", "VAT"),
    ("document.vat_split", "IVA versata dall'amministrazione direttamente all'Erario (scissione dei pagamenti, art. 17-ter DPR 633/72)", "VAT paid by the administration straight to the Treasury (split payment, art. 17-ter DPR 633/72)"),
    ("document.total_with_vat", "Totale a carico del bilancio", "Total charged to the budget"),
    ("document.payers", "Quote delle amministrazioni", "Payers' shares"),
    ("document.payer", "Amministrazione", "Payer"),
    ("document.share", "Quota", "Share"),
    ("document.uncovered", "Non coperto", "Uncovered"),
    ("document.waterfall", "Cascata dei pagamenti", "Payment waterfall"),
    ("document.to_funder", "Al soggetto finanziatore", "To the funder"),
    ("document.to_operator", "Al soggetto gestore", "To the operator"),
    ("document.integrity", "Integrità dei dati", "Integrity of the data"),
    ("document.as_of", "Posizione del registro", "Log position"),
    ("document.root_hash", "Radice dell'albero", "Tree head"),
    ("document.checkpoint", "Checkpoint firmato", "Signed checkpoint"),
    ("document.key_id", "Identificativo della chiave", "Key id"),
    ("document.no_checkpoint", "nessun checkpoint firmato", "no signed checkpoint"),
    ("document.verify", "Per verificare: esportare il registro del contratto ed eseguire «esito verify» con questo checkpoint come checkpoint di riferimento; la radice dell'albero alla posizione indicata deve coincidere.", "To verify: export the contract's log and run `esito verify` with this checkpoint as the trusted checkpoint; the tree head at the position shown must match."),
    ("document.signatures", "Firme", "Signatures"),
    ("document.sign_evaluator", "Per il soggetto valutatore", "For the evaluator"),
    ("document.sign_payer", "Per l'amministrazione committente", "For the outcome payer"),
    ("document.sign_name", "Nome e cognome", "Name"),
    ("document.sign_date", "Data", "Date"),
    ("document.sign_signature", "Firma", "Signature"),
    ("document.pdf", "Scarica il PDF", "Download the PDF"),
    ("document.withdrawn_reason", "Motivo del ritiro", "Reason for withdrawal"),
    ("document.draft_note", "Bozza: le cifre non sono definitive finché la liquidazione non è approvata.", "Draft: the figures are not final until the settlement is approved."),
    ("document.history", "Passaggi registrati", "Steps recorded"),
    ("document.step_event", "Passaggio", "Step"),
    ("document.step_by", "Registrato da", "Recorded by"),
    ("document.step_at", "Data", "Date"),
    ("document.back", "Torna alle liquidazioni", "Back to the settlements"),
    ("document.page", "Pagina", "Page"),
    ("document.of", "di", "of"),
    ("document.yes", "sì", "yes"),
    // What each kind of line computes, in words.
    ("line.rate_card", "Tariffa unitaria: il valore dell'indicatore moltiplicato per l'importo unitario", "Rate card: the indicator's value times the rate per unit"),
    ("line.target", "Valore obiettivo: l'importo in proporzione al valore raggiunto rispetto al valore obiettivo, nulla sotto la soglia minima", "Target: the amount in proportion to the value reached against the target, nothing below the threshold"),
    ("line.savings_share", "Premio di risultato: la quota stabilita dei risparmi", "Result premium: the agreed share of the savings"),
    ("line.milestone", "Pagamento alla consegna del prodotto della fase", "Milestone: payment on the phase's deliverable"),
    ("line.period_cap", "Massimale di periodo: le voci ridotte al massimale", "Period cap: the lines reduced to the cap"),
    ("line.restatement", "Conguaglio: la differenza che un evento tardivo porta a un periodo precedente", "Restatement: the change a late event makes to an earlier period"),
    ("line.contract_cap", "Massimale contrattuale: ridotto a quanto resta dell'impegno di spesa", "Contract cap: reduced to what is left of the commitment"),
    // The funder's page.
    ("funder.title", "Il soggetto finanziatore", "The funder"),
    ("funder.intro", "Le cifre del soggetto finanziatore, tratte dalle liquidazioni calcolate, per", "The funder's figures, taken from the settlements calculated, for"),
    ("funder.no_funder", "Questo contratto non ha un soggetto finanziatore.", "This contract has no funder."),
    ("funder.no_settlement", "Nessuna liquidazione è ancora stata calcolata: le cifre del finanziatore compaiono con la prima.", "No settlement has been calculated yet: the funder's figures appear with the first one."),
    ("funder.over_term", "Nel corso del contratto", "Over the term"),
    ("funder.chart_hint", "una barra per periodo liquidato", "one bar per settled period"),
    ("funder.table", "Estratto conto per periodo", "Statement by period"),
    ("funder.principal_disbursed", "Capitale erogato", "Capital disbursed"),
    ("funder.principal_repaid", "Capitale rimborsato", "Principal repaid"),
    ("funder.principal_outstanding", "Capitale residuo", "Principal outstanding"),
    ("funder.accrued_in_period", "Rendimento maturato nel periodo", "Return accrued in the period"),
    ("funder.return_accrued", "Rendimento maturato", "Return accrued"),
    ("funder.return_paid", "Rendimento pagato", "Return paid"),
    ("funder.return_unpaid", "Rendimento non pagato", "Return unpaid"),
    ("funder.index", "Indice di conseguimento", "Achievement index"),
    ("funder.annual_rate", "Tasso annuo", "Annual rate"),
    ("funder.waterfalls", "Cascata dei pagamenti per periodo", "Waterfall by period"),
    ("funder.waterfall_intro", "Il pagamento di ogni periodo va prima al rendimento dovuto, poi al capitale, entro la quota massima del finanziatore; il resto al soggetto gestore.", "Each period's payment goes first to the return due, then to principal, within the funder's maximum share; the rest to the operator."),
    ("funder.payment", "Pagamento del periodo", "The period's payment"),
    ("funder.limit", "Quota massima del finanziatore", "The funder's limit"),
    ("funder.return_due", "Rendimento dovuto", "Return due"),
    ("funder.to_return", "al rendimento", "to return"),
    ("funder.to_principal", "al capitale", "to principal"),
    ("funder.to_operator", "al soggetto gestore", "to the operator"),
    ("funder.guarantee", "Garanzia alla liquidazione finale", "Guarantee at the final settlement"),
    ("funder.guarantee_share", "Quota garantita", "Share guaranteed"),
    ("funder.covered", "Capitale coperto dalla garanzia", "Principal covered"),
    ("funder.not_recovered", "Capitale non recuperato", "Principal not recovered"),
    ("funder.guarantee_later", "La garanzia si calcola alla liquidazione finale, non ancora calcolata.", "The guarantee is worked out at the final settlement, not calculated yet."),
    // The evaluator's page.
    ("audit.title", "Verifica del registro", "Checking the log"),
    ("audit.intro", "Tutto ciò che serve per verificare il registro senza fidarsi del servizio: l'ultimo checkpoint firmato, le chiavi che firmano, l'esportazione e i comandi che la verificano e ricalcolano indicatori e liquidazioni.", "All it takes to check the log without trusting the service: the latest signed checkpoint, the keys that sign, the export and the commands that verify it and compute the indicators and settlements again."),
    ("audit.checkpoint", "Ultimo checkpoint firmato", "Latest signed checkpoint"),
    ("audit.no_checkpoint", "Nessun checkpoint è ancora stato firmato per questo contratto.", "No checkpoint has been signed for this contract yet."),
    ("audit.size", "Voci coperte (posizione)", "Entries covered (position)"),
    ("audit.root_hash", "Radice dell'albero", "Tree head"),
    ("audit.timestamp", "Firmato il", "Signed at"),
    ("audit.key_id", "Identificativo della chiave", "Key id"),
    ("audit.signature", "Firma", "Signature"),
    ("audit.keys", "Chiavi di firma dei checkpoint", "Checkpoint signing keys"),
    ("audit.no_keys", "Il servizio non firma checkpoint.", "The service signs no checkpoints."),
    ("audit.public_key", "Chiave pubblica", "Public key"),
    ("audit.key_created", "Registrata il", "Recorded at"),
    ("audit.key_retired", "Ritirata il", "Retired at"),
    ("audit.key_current", "in uso", "in use"),
    ("audit.export", "Esportazione del registro", "The log's export"),
    ("audit.export_intro", "Il registro completo del contratto, voce per voce, con i checkpoint firmati: lo stesso file di esito export.", "The contract's whole log, entry by entry, with its signed checkpoints: the same file as esito export."),
    ("audit.download", "Scarica", "Download"),
    ("audit.commands", "Verifica e ricalcolo fuori linea", "Verifying and computing again offline"),
    ("audit.commands_intro", "Con il file scaricato e il programma esito, senza rete e senza accesso al servizio:", "With the file downloaded and the esito program, with no network and no access to the service:"),
    ("audit.verify", "Verifica ogni voce, le radici dell'albero e la firma di ogni checkpoint con le chiavi pubbliche qui sopra.", "Verifies every entry, the tree heads and each checkpoint's signature with the public keys above."),
    ("audit.indicators", "Ricalcola gli indicatori del periodo dal solo file.", "Computes the period's indicators again from the file alone."),
    ("audit.settle", "Ricalcola la liquidazione del periodo dal solo file: deve coincidere con quella del servizio.", "Computes the period's settlement again from the file alone: it must match the service's."),
    // The operator's page.
    ("record.title", "Registrazione degli eventi", "Recording events"),
    ("record.intro", "I moduli degli eventi registrati più spesso. Ogni modulo è controllato come dall'API; un modulo inviato due volte registra un solo evento.", "The forms of the events recorded most often. Each form is checked as the API checks it; a form sent twice records one event."),
    ("record.forms", "Moduli", "Forms"),
    ("record.access", "Accesso al Centro Servizi", "An access to the services centre"),
    ("record.rent", "Pagamento del canone", "A rent payment"),
    ("record.milestone", "Obiettivo del patto raggiunto", "A tenant's milestone"),
    ("record.delivery", "Consegna di un servizio acquistato con token", "A delivery"),
    ("record.occurred_at", "Data e ora dell'evento", "Date and time of the event"),
    ("record.access_id", "Identificativo dell'accesso", "Access id"),
    ("record.beneficiary_id", "Pseudonimo del destinatario", "Beneficiary's pseudonym"),
    ("record.channel", "Canale", "Channel"),
    ("record.need", "Bisogno", "Need"),
    ("record.outcome", "Esito dell'accesso", "Outcome of the access"),
    ("record.service", "Servizio a cui è inviato", "Service referred to"),
    ("record.tenancy_id", "Identificativo della locazione", "Tenancy id"),
    ("record.month", "Mese del canone", "Month of the rent"),
    ("record.amount", "Importo pagato", "Amount paid"),
    ("record.milestone_kind", "Obiettivo del patto", "Milestone"),
    ("record.order_id", "Identificativo dell'ordine", "Order id"),
    ("record.provider_id", "Identificativo del fornitore", "Provider id"),
    ("record.optional", "(facoltativo)", "(optional)"),
    ("record.hint_time", "Ora di Roma, per esempio 05/03/2024 10:30.", "Rome time, for example 05/03/2024 10:30."),
    ("record.hint_month", "Anno e mese, per esempio 2024-03.", "Year and month, for example 2024-03."),
    ("record.hint_amount", "In euro, con il punto e non oltre due decimali: 190.00.", "In euro, with a point and at most two decimals: 190.00."),
    ("record.hint_beneficiary", "Solo lo pseudonimo (per esempio ben-12), mai il nome.", "Only the pseudonym (for example ben-12), never the name."),
    ("record.hint_service", "Solo se l'esito è un invio a un servizio del territorio.", "Only when the outcome is a referral to a local service."),
    ("record.submit", "Registra", "Record"),
    ("record.required", "Campo obbligatorio.", "This field is required."),
    ("record.bad_time", "Data e ora non leggibili: usa il formato 2024-03-05T10:30.", "Date and time do not read: use the form 2024-03-05T10:30."),
    ("record.skipped_time", "Quest'ora non esiste a Roma (cambio dell'ora legale).", "This time does not exist in Rome (the clocks went forward)."),
    ("record.recorded", "Evento registrato alla posizione", "Event recorded at position"),
    ("record.replayed", "Il modulo era già stato registrato: nessun nuovo evento. Posizione", "The form had already been recorded: no new event. Position"),
    ("choice.in_person", "di persona", "in person"),
    ("choice.phone", "telefono", "phone"),
    ("choice.email", "e-mail", "e-mail"),
    ("choice.home_management", "gestione della casa", "home management"),
    ("choice.elderly_care", "cura di anziani", "care of the elderly"),
    ("choice.frail_person_support", "sostegno a persone fragili", "support of frail people"),
    ("choice.childcare", "cura dei figli", "childcare"),
    ("choice.housing", "abitare", "housing"),
    ("choice.work_life_balance", "conciliazione vita-lavoro", "work-life balance"),
    ("choice.other", "altro", "other"),
    ("choice.service_activated", "servizio attivato", "service activated"),
    ("choice.referred", "invio a un servizio del territorio", "referred to a local service"),
    ("choice.information_only", "solo informazioni", "information only"),
    ("choice.financial_education_module_completed", "modulo di educazione finanziaria completato", "financial education module completed"),
    ("choice.job_found", "lavoro trovato", "job found"),
    ("choice.savings_target_reached", "obiettivo di risparmio raggiunto", "savings target reached"),
    ("choice.private_market_home_found", "casa trovata sul mercato privato", "home found on the private market"),
];

fn table() -> &'static HashMap<&'static str, (&'static str, &'static str)> {
    static TABLE: OnceLock<HashMap<&'static str, (&'static str, &'static str)>> = OnceLock::new();
    TABLE.get_or_init(|| {
        LABELS
            .iter()
            .map(|(key, it, en)| (*key, (*it, *en)))
            .collect()
    })
}

/// Whether the table has `key`.
pub fn has(key: &str) -> bool {
    table().contains_key(key)
}

/// The text of `key` in `lang`. A key the table lacks shows as itself (and the tests fail).
pub fn text(lang: Lang, key: &str) -> &'static str {
    match table().get(key) {
        Some(&(it, en)) => lang.pick(it, en),
        None => {
            debug_assert!(false, "label `{key}` is not in the table");
            "?"
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;
    use std::path::Path;

    use super::*;

    #[test]
    fn every_label_has_both_languages_and_one_row() {
        let mut seen = HashSet::new();
        for (key, it, en) in LABELS {
            assert!(seen.insert(*key), "label `{key}` is written twice");
            assert!(!it.trim().is_empty(), "label `{key}` has no Italian");
            assert!(!en.trim().is_empty(), "label `{key}` has no English");
        }
    }

    /// Every `.t("key")` in `text`.
    fn keys_used(text: &str) -> Vec<String> {
        text.match_indices(".t(\"")
            .filter_map(|(at, found)| {
                let rest = &text[at + found.len()..];
                rest.find('"').map(|end| rest[..end].to_owned())
            })
            .collect()
    }

    fn sources(dir: &Path, found: &mut Vec<(String, String)>) {
        for entry in std::fs::read_dir(dir).expect("the sources are readable") {
            let path = entry.expect("an entry").path();
            if path.is_dir() {
                sources(&path, found);
            } else if path.extension().is_some_and(|ext| ext == "rs")
                && path.file_name().is_some_and(|name| name != "labels.rs")
            {
                let text = std::fs::read_to_string(&path).expect("a source reads");
                found.push((path.display().to_string(), text));
            }
        }
    }

    #[test]
    fn every_key_a_page_uses_is_in_the_table() {
        let mut files = Vec::new();
        sources(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
            &mut files,
        );
        let mut used = 0;
        for (path, text) in &files {
            for key in keys_used(text) {
                used += 1;
                assert!(
                    has(&key),
                    "{path} uses label `{key}`, which is not in the table"
                );
            }
        }
        assert!(used > 50, "the pages' labels were not found ({used})");
    }

    #[test]
    fn the_scan_finds_a_missing_key() {
        let source = r#"html! { h1 { (lang.t("contracts.title")) (lang.t("no.such.key")) } }"#;
        let missing: Vec<String> = keys_used(source).into_iter().filter(|k| !has(k)).collect();
        assert_eq!(missing, vec!["no.such.key".to_owned()]);
    }
}
