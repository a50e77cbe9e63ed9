//! CSV import: one row per command, from an operator's spreadsheet or CRM, checked whole before
//! anything is written (`esito import`, `POST /v1/contracts/{id}/imports`).
//!
//! A file's columns are the command's fields (nested ones by dotted names, `outcome.kind`),
//! `occurred_at`, and optionally `event_id`. The file is read as UTF-8 with or without a byte
//! order mark, separated by `;` or `,` (whichever the header holds more of). Each cell is read
//! as the command's JSON Schema types its field: dates as ISO 8601 or `dd/mm/yyyy`, instants
//! as RFC 3339 or `dd/mm/yyyy[ hh:mm[:ss]]` in Europe/Rome, decimals with `,` or `.`, lists
//! separated by `|`, an empty cell as no value. The row then becomes a command exactly as a
//! JSON body does (`crate::submission`), so it is refused by the same checks, naming its field.
//!
//! Invariant: a row's event id is its `event_id` cell or, without one, derived from the file's
//! SHA-256 and the row's number (UUID v5), so the same file imported again writes nothing.
//! Every row is decided (`Store::check`) before any is written: with a problem and without
//! `skip_invalid`, nothing is written.

use std::collections::BTreeMap;

use chrono::TimeZone;
use esito_domain::{ContractId, EventId, Submission};
use esito_store::{AppendError, Store};
use serde::Serialize;
use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

use crate::catalog::catalog;
use crate::error::ApiError;

/// The most rows one call imports (and `Store::check` decides at once).
pub const IMPORT_ROWS_MAX: usize = esito_store::CHECK_SIZE_MAX;

/// The largest CSV body `POST .../imports` accepts: 100,000 rows of up to about 600 bytes.
pub const IMPORT_BODY_BYTES_MAX: usize = 64 * 1024 * 1024;

/// The namespace of the event ids derived for rows without an `event_id`: UUID v5 of
/// `"{file SHA-256 in hex}:{row number}"`, rows numbered from 1 after the header.
pub const ROW_ID_NAMESPACE: uuid::Uuid = uuid::Uuid::from_bytes([
    0x4f, 0x2a, 0x8e, 0x31, 0x5c, 0x7d, 0x5b, 0x19, 0x9a, 0x63, 0x0e, 0x4b, 0x7c, 0x21, 0xd8, 0x56,
]);

/// The UTF-8 byte order mark.
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// One bad row: where (its line in the file, 1 the header, and its column) and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    pub line: u64,
    /// The column at fault, by its header name (a field the row lacks, by the field's name;
    /// empty when the rule names no field).
    pub column: String,
    /// A stable code: a domain rule's own, or the API's (`invalid_value`, `missing_field`...).
    pub code: String,
    pub message: String,
}

impl Problem {
    pub(crate) fn of(line: u64, error: &ApiError) -> Self {
        Problem {
            line,
            column: error.field.clone().unwrap_or_default(),
            code: error.code.to_owned(),
            message: error.detail.clone(),
        }
    }
}

/// How a file is written: its separator and whether it opens with a byte order mark.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Dialect {
    #[serde(serialize_with = "as_char")]
    pub delimiter: u8,
    pub bom: bool,
}

fn as_char<S: serde::Serializer>(byte: &u8, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&char::from(*byte).to_string())
}

impl Dialect {
    /// Reads the dialect from the file's first bytes: a BOM, then the header line, whose `;`
    /// and `,` outside quotes are counted (more `;`: semicolons; otherwise commas).
    pub fn sniff(start: &[u8]) -> Self {
        let bom = start.starts_with(BOM);
        let header = &start[if bom { BOM.len() } else { 0 }..];
        let (mut semicolons, mut commas, mut quoted) = (0, 0, false);
        for byte in header {
            match byte {
                b'\n' if !quoted => break,
                b'"' => quoted = !quoted,
                b';' if !quoted => semicolons += 1,
                b',' if !quoted => commas += 1,
                _ => {}
            }
        }
        Dialect {
            delimiter: if semicolons > commas { b';' } else { b',' },
            bom,
        }
    }

    /// A CSV reader of `input` (its BOM, if any, already skipped by the caller or by
    /// [`Dialect::strip`]).
    pub fn reader<R: std::io::Read>(&self, input: R) -> csv::Reader<R> {
        csv::ReaderBuilder::new()
            .delimiter(self.delimiter)
            .has_headers(true)
            .flexible(true)
            .from_reader(input)
    }

    /// `bytes` without their byte order mark.
    pub fn strip<'a>(&self, bytes: &'a [u8]) -> &'a [u8] {
        if self.bom {
            &bytes[BOM.len()..]
        } else {
            bytes
        }
    }
}

/// A file's SHA-256, from which row event ids are derived.
pub fn file_digest(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

/// The event id of row `row` (from 1) of the file whose SHA-256 is `digest`.
pub fn row_event_id(digest: &[u8; 32], row: u64) -> EventId {
    uuid::Uuid::new_v5(
        &ROW_ID_NAMESPACE,
        format!("{}:{row}", hex::encode(digest)).as_bytes(),
    )
}

/// How a cell is read, from the JSON Schema of its field.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Kind {
    Integer,
    Number,
    Boolean,
    /// `format: date`.
    Date,
    /// `format: date-time`.
    Instant,
    /// A string whose pattern has a decimal point: money, rates, shares.
    Decimal,
    Text,
    /// `|`-separated values of one kind.
    List(Box<Kind>),
    /// A list of objects, written in the cell as its JSON.
    Json,
}

/// A column of the file: its header and what it fills.
#[derive(Debug, Clone)]
struct Column {
    name: String,
    /// The field's path in the command's JSON (`["outcome", "kind"]`); `event_id` and
    /// `occurred_at` are fields of the envelope.
    path: Vec<String>,
    kind: Kind,
}

/// Reads rows of one command with a file's header.
pub struct RowReader {
    command: &'static str,
    columns: Vec<Column>,
    has_event_id: bool,
    digest: [u8; 32],
}

/// What a reference points to, `#/$defs/Name` in the catalogue's definitions.
fn resolve(schema: &Value) -> &Value {
    let mut schema = schema;
    for _ in 0..8 {
        let Some(reference) = schema["$ref"].as_str() else {
            break;
        };
        let name = reference.trim_start_matches("#/$defs/");
        match catalog().definitions.get(name) {
            Some(found) => schema = found,
            None => break,
        }
    }
    schema
}

/// The schemas a value may take: the alternatives of `oneOf`/`anyOf`, or itself.
fn alternatives(schema: &Value) -> Vec<&Value> {
    let schema = resolve(schema);
    for key in ["oneOf", "anyOf"] {
        if let Some(choices) = schema[key].as_array() {
            return choices.iter().flat_map(alternatives).collect();
        }
    }
    vec![schema]
}

/// The schema of the field at `path` under `schema`: the first alternative that has it.
fn field_schema<'a>(schema: &'a Value, path: &[String]) -> Option<&'a Value> {
    let Some((first, rest)) = path.split_first() else {
        return Some(schema);
    };
    alternatives(schema)
        .into_iter()
        .filter_map(|choice| choice["properties"].get(first))
        .find_map(|found| field_schema(found, rest))
}

/// How a field's cells are read.
fn kind_of(schema: &Value) -> Kind {
    let choices: Vec<&Value> = alternatives(schema)
        .into_iter()
        .filter(|choice| choice["type"] != "null")
        .collect();
    let Some(schema) = choices.first() else {
        return Kind::Text;
    };
    let types: Vec<&str> = match &schema["type"] {
        Value::String(one) => vec![one.as_str()],
        Value::Array(many) => many.iter().filter_map(Value::as_str).collect(),
        _ => vec![],
    };
    if types.contains(&"array") {
        let objects = alternatives(&schema["items"])
            .iter()
            .any(|item| item["type"] == "object");
        return if objects {
            Kind::Json
        } else {
            Kind::List(Box::new(kind_of(&schema["items"])))
        };
    }
    if types.contains(&"integer") {
        return Kind::Integer;
    }
    if types.contains(&"number") {
        return Kind::Number;
    }
    if types.contains(&"boolean") {
        return Kind::Boolean;
    }
    match (schema["format"].as_str(), schema["pattern"].as_str()) {
        (Some("date"), _) => Kind::Date,
        (Some("date-time"), _) => Kind::Instant,
        (_, Some(pattern)) if pattern.contains("\\.") => Kind::Decimal,
        _ => Kind::Text,
    }
}

impl RowReader {
    /// The reader of `command` (its path segment, `record-access`) for a file with `header`
    /// and SHA-256 `digest`; refused, naming each column, when a column is no field of the
    /// command or comes twice, or the command is unknown.
    pub fn new(
        command: &str,
        header: &csv::StringRecord,
        digest: [u8; 32],
    ) -> Result<Self, Vec<Problem>> {
        let problem = |column: &str, code: &str, message: String| Problem {
            line: 1,
            column: column.to_owned(),
            code: code.to_owned(),
            message,
        };
        let Some(name) = catalog().by_path.get(command).copied() else {
            return Err(vec![problem(
                "",
                "unknown_command",
                format!("there is no command {command}"),
            )]);
        };
        let schema = &catalog().schemas[name];
        let mut problems = Vec::new();
        let mut columns: Vec<Column> = Vec::new();
        for cell in header {
            let cell = cell.trim();
            if columns.iter().any(|c| c.name == cell) {
                problems.push(problem(
                    cell,
                    "duplicate_column",
                    format!("column `{cell}` is given twice"),
                ));
                continue;
            }
            let path: Vec<String> = cell.split('.').map(str::to_owned).collect();
            let kind = match cell {
                "event_id" => Some(Kind::Text),
                "occurred_at" => Some(Kind::Instant),
                "type" => None,
                _ => field_schema(schema, &path).map(kind_of),
            };
            match kind {
                Some(kind) => columns.push(Column {
                    name: cell.to_owned(),
                    path,
                    kind,
                }),
                None => problems.push(problem(
                    cell,
                    "unknown_field",
                    format!("column `{cell}` is no field of {name}: see docs/import/{command}.csv"),
                )),
            }
        }
        if !problems.is_empty() {
            return Err(problems);
        }
        let has_event_id = columns.iter().any(|c| c.name == "event_id");
        Ok(Self {
            command: name,
            columns,
            has_event_id,
            digest,
        })
    }

    /// The command type (`RecordAccess`).
    pub fn command(&self) -> &'static str {
        self.command
    }

    /// Row `row` (from 1) at `line` of the file as a submission, or its first problem.
    pub fn submission(
        &self,
        line: u64,
        row: u64,
        record: &csv::StringRecord,
    ) -> Result<Submission, Problem> {
        if record.len() > self.columns.len() {
            return Err(Problem {
                line,
                column: String::new(),
                code: "extra_cells".to_owned(),
                message: format!("{} cells for {} columns", record.len(), self.columns.len()),
            });
        }
        let mut fields = Map::new();
        for (column, cell) in self.columns.iter().zip(record.iter()) {
            let cell = cell.trim();
            if cell.is_empty() {
                continue;
            }
            let value = read_cell(&column.kind, cell).map_err(|message| Problem {
                line,
                column: column.name.clone(),
                code: "invalid_value".to_owned(),
                message: format!("{}: {message}", column.name),
            })?;
            insert(&mut fields, &column.path, value).map_err(|message| Problem {
                line,
                column: column.name.clone(),
                code: "invalid_value".to_owned(),
                message,
            })?;
        }
        let derived = (!self.has_event_id).then(|| row_event_id(&self.digest, row));
        crate::submission(fields, self.command, "", derived).map_err(|e| Problem::of(line, &e))
    }
}

/// Puts `value` at `path`, making the objects on the way.
fn insert(fields: &mut Map<String, Value>, path: &[String], value: Value) -> Result<(), String> {
    let (last, parents) = path.split_last().expect("a path has a name");
    let mut at = fields;
    for parent in parents {
        let next = at
            .entry(parent.clone())
            .or_insert_with(|| Value::Object(Map::new()));
        at = next
            .as_object_mut()
            .ok_or_else(|| format!("{parent}: given both as a value and with fields"))?;
    }
    at.insert(last.clone(), value);
    Ok(())
}

/// `dd/mm/yyyy` as `yyyy-mm-dd`; anything else as it is.
fn iso_date(cell: &str) -> Result<String, String> {
    let parts: Vec<&str> = cell.split('/').collect();
    match parts.as_slice() {
        [day, month, year] => {
            let date = chrono::NaiveDate::from_ymd_opt(
                year.parse()
                    .map_err(|_| format!("{cell:?} is not dd/mm/yyyy"))?,
                month
                    .parse()
                    .map_err(|_| format!("{cell:?} is not dd/mm/yyyy"))?,
                day.parse()
                    .map_err(|_| format!("{cell:?} is not dd/mm/yyyy"))?,
            )
            .ok_or_else(|| format!("{cell:?} is no date"))?;
            Ok(date.format("%Y-%m-%d").to_string())
        }
        _ => Ok(cell.to_owned()),
    }
}

fn read_cell(kind: &Kind, cell: &str) -> Result<Value, String> {
    Ok(match kind {
        Kind::Integer => json!(cell
            .parse::<i64>()
            .map_err(|_| format!("{cell:?} is not a whole number"))?),
        Kind::Number => {
            let number: f64 = cell
                .replace(',', ".")
                .parse()
                .map_err(|_| format!("{cell:?} is not a number"))?;
            json!(number)
        }
        Kind::Boolean => match cell.to_ascii_lowercase().as_str() {
            "true" | "sì" | "si" | "yes" | "1" => json!(true),
            "false" | "no" | "0" => json!(false),
            _ => return Err(format!("{cell:?} is not true or false")),
        },
        Kind::Date => json!(iso_date(cell)?),
        Kind::Instant => json!(instant(cell)?),
        Kind::Decimal => json!(decimal(cell)),
        Kind::Text => json!(cell),
        Kind::Json => serde_json::from_str(cell).map_err(|e| format!("not JSON: {e}"))?,
        Kind::List(item) => Value::Array(
            cell.split('|')
                .map(str::trim)
                .filter(|item| !item.is_empty())
                .map(|one| read_cell(item, one))
                .collect::<Result<_, _>>()?,
        ),
    })
}

/// A decimal with a comma (`18,50`) as the JSON writes it (`18.50`); a point stays.
fn decimal(cell: &str) -> String {
    if cell.matches(',').count() == 1 && !cell.contains('.') {
        cell.replace(',', ".")
    } else {
        cell.to_owned()
    }
}

/// `dd/mm/yyyy[ hh:mm[:ss]]` as RFC 3339 in Europe/Rome (the programmes' time zone); an
/// RFC 3339 instant as it is.
fn instant(cell: &str) -> Result<String, String> {
    if !cell.contains('/') {
        return Ok(cell.to_owned());
    }
    let (date, time) = cell.split_once(' ').unwrap_or((cell, "00:00"));
    let date: chrono::NaiveDate = iso_date(date)?
        .parse()
        .map_err(|_| format!("{cell:?} is not dd/mm/yyyy"))?;
    let time = chrono::NaiveTime::parse_from_str(time.trim(), "%H:%M:%S")
        .or_else(|_| chrono::NaiveTime::parse_from_str(time.trim(), "%H:%M"))
        .map_err(|_| format!("{cell:?}: the time is not hh:mm or hh:mm:ss"))?;
    let local = esito_domain::values::PROGRAMME_TIME_ZONE
        .from_local_datetime(&date.and_time(time))
        .earliest()
        .ok_or_else(|| format!("{cell:?} does not exist in Europe/Rome"))?;
    Ok(local.to_rfc3339())
}

/// What options an import runs with.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Options {
    /// Check only: write nothing.
    pub dry_run: bool,
    /// Write the good rows even when some are bad.
    pub skip_invalid: bool,
}

/// What an import did: the rows read, the problems of the bad ones, and what was written.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Report {
    pub rows: u64,
    /// Rows that passed every check.
    pub valid: u64,
    /// New events written.
    pub written: u64,
    /// Rows already in the log with the same content (an import done before): nothing written.
    pub already_in_log: u64,
    pub problems: Vec<Problem>,
}

impl Report {
    /// Adds what another part of the same file did.
    pub fn add(&mut self, other: Report) {
        self.rows += other.rows;
        self.valid += other.valid;
        self.written += other.written;
        self.already_in_log += other.already_in_log;
        self.problems.extend(other.problems);
    }
}

/// Rows read, each with its line, and the problems of those that could not be read.
#[derive(Debug, Default)]
pub struct Rows {
    pub read: Vec<(u64, Submission)>,
    pub problems: Vec<Problem>,
    pub count: u64,
}

impl Rows {
    /// Reads the next record of `records` as row `row`, keeping its submission or problem.
    pub fn push(&mut self, reader: &RowReader, line: u64, row: u64, record: &csv::StringRecord) {
        self.count += 1;
        match reader.submission(line, row, record) {
            Ok(submission) => self.read.push((line, submission)),
            Err(problem) => self.problems.push(problem),
        }
    }
}

/// Writes every row read as one batch when none is bad (`Store::append_whole`: decided and
/// written by one plan, all or nothing); otherwise decides each (`Store::check`) and, unless
/// `options` or a problem forbid it, writes the good ones in batches; calls `progress` with the
/// rows written so far.
pub async fn check_and_write(
    store: &Store,
    contract: &ContractId,
    principal: &str,
    rows: Rows,
    options: Options,
    mut progress: impl FnMut(u64),
) -> Result<Report, ApiError> {
    let Rows {
        read,
        mut problems,
        count,
    } = rows;
    let submissions: Vec<Submission> = read.iter().map(|(_, s)| s.clone()).collect();
    // Every row read and none bad yet: decided and written by one plan, all or nothing. A
    // refusal writes nothing and falls to the check below, which finds every bad row.
    if problems.is_empty() && !options.dry_run && !submissions.is_empty() {
        match store.append_whole(contract, principal, &submissions).await {
            Ok(outcomes) => {
                let written = outcomes.iter().filter(|o| !o.duplicate).count() as u64;
                progress(outcomes.len() as u64);
                return Ok(Report {
                    rows: count,
                    valid: submissions.len() as u64,
                    written,
                    already_in_log: outcomes.len() as u64 - written,
                    problems,
                });
            }
            Err(AppendError::Rejected { .. } | AppendError::EventIdReused { .. }) => {}
            Err(other) => return Err(ApiError::from(other)),
        }
    }
    let verdicts = store
        .check(contract, principal, &submissions)
        .await
        .map_err(ApiError::from)?;
    let mut good = Vec::with_capacity(submissions.len());
    for ((line, submission), verdict) in read.into_iter().zip(verdicts) {
        match verdict {
            None => good.push(submission),
            Some(error) => problems.push(Problem::of(line, &ApiError::from(error))),
        }
    }
    problems.sort_by_key(|problem| problem.line);
    let mut report = Report {
        rows: count,
        valid: good.len() as u64,
        problems,
        ..Report::default()
    };
    if options.dry_run || (!report.problems.is_empty() && !options.skip_invalid) {
        return Ok(report);
    }
    for batch in good.chunks(esito_store::BATCH_SIZE_MAX) {
        let outcomes =
            store
                .append(contract, principal, batch)
                .await
                .map_err(|error| match error {
                    // Decided acceptable a moment ago: the log moved meanwhile. What was written
                    // stays; the same file imported again writes only the rest.
                    AppendError::Rejected { .. } | AppendError::EventIdReused { .. } => {
                        ApiError::from(error)
                    }
                    other => ApiError::from(other),
                })?;
        for outcome in outcomes {
            if outcome.duplicate {
                report.already_in_log += 1;
            } else {
                report.written += 1;
            }
        }
        progress(report.written + report.already_in_log);
    }
    Ok(report)
}

/// The problems as text, one line each: `line 3, column price: code: message`.
pub fn problems_text(problems: &[Problem]) -> String {
    problems
        .iter()
        .map(|p| {
            let column = if p.column.is_empty() {
                String::new()
            } else {
                format!(", column {}", p.column)
            };
            format!("line {}{column}: {}: {}\n", p.line, p.code, p.message)
        })
        .collect()
}

/// The problems as CSV: `line,column,code,message`.
pub fn problems_csv(problems: &[Problem]) -> Vec<u8> {
    let mut writer = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    writer
        .write_record(["line", "column", "code", "message"])
        .expect("writing to memory does not fail");
    for p in problems {
        writer
            .write_record([p.line.to_string().as_str(), &p.column, &p.code, &p.message])
            .expect("writing to memory does not fail");
    }
    writer
        .into_inner()
        .expect("writing to memory does not fail")
}

/// The columns of each command's template (`docs/import/{command}.csv`): `occurred_at`, then
/// the command's fields, nested ones dotted, in the schema's order.
pub fn template_columns() -> BTreeMap<String, Vec<String>> {
    let mut templates = BTreeMap::new();
    for (path, name) in &catalog().by_path {
        let mut columns = vec!["occurred_at".to_owned()];
        collect_columns(&catalog().schemas[name], "", &mut columns);
        templates.insert(path.clone(), columns);
    }
    templates
}

fn collect_columns(schema: &Value, prefix: &str, columns: &mut Vec<String>) {
    let mut seen: Vec<String> = Vec::new();
    for choice in alternatives(schema) {
        let Some(properties) = choice["properties"].as_object() else {
            continue;
        };
        for (name, field) in properties {
            if prefix.is_empty() && name == "type" || seen.contains(name) {
                continue;
            }
            seen.push(name.clone());
            let path = format!("{prefix}{name}");
            let nested = alternatives(field)
                .iter()
                .any(|c| c["properties"].is_object() && c["type"] == "object");
            let list = alternatives(field).iter().any(|c| c["type"] == "array");
            if nested && !list {
                collect_columns(field, &format!("{path}."), columns);
            } else {
                columns.push(path);
            }
        }
    }
}
