//! `POST /v1/contracts/{id}/imports`: a CSV body read with `import.rs`, every row decided
//! before any is written.

use serde_json::json;

use crate::catalog::catalog;
use crate::error::ApiError;
use crate::import::{
    check_and_write, file_digest, Dialect, Options, Problem, Report, RowReader, Rows,
    IMPORT_BODY_BYTES_MAX, IMPORT_ROWS_MAX,
};

/// `POST /v1/contracts/{id}/imports?command=C[&dry_run=true][&skip_invalid=true]`, a
/// `text/csv` body of at most [`IMPORT_ROWS_MAX`] rows: every row decided, then the good ones
/// written unless a row is bad. 200 with the report; 422 `invalid_rows` (problem+json, with
/// `problems` and `report`) when bad rows stopped it and nothing was written.
pub async fn post(
    axum::extract::State(state): axum::extract::State<crate::Shared>,
    crate::query::Segments(contract): crate::query::Segments<String>,
    params: crate::query::Params,
    headers: axum::http::HeaderMap,
    body: Result<axum::body::Bytes, axum::extract::rejection::BytesRejection>,
) -> Result<axum::response::Response, ApiError> {
    use axum::response::IntoResponse;

    use crate::auth::Action;
    use crate::error::ErrorCode;
    let params = params.only(&["command", "dry_run", "skip_invalid"])?;
    let command = params
        .required_text("command", "a command's path segment, such as record-access")?
        .to_owned();
    let options = Options {
        dry_run: params.boolean("dry_run")?.unwrap_or(false),
        skip_invalid: params.boolean("skip_invalid")?.unwrap_or(false),
    };
    let principal = state.keys.authenticate(&state.store, &headers).await?;
    let contract = crate::contract_id(&contract)?;
    let name = *catalog().by_path.get(&command).ok_or_else(|| {
        ApiError::new(
            ErrorCode::UnknownCommand,
            format!("command: there is no command {command}"),
        )
        .with_field("command")
    })?;
    principal.check(&contract, Action::SendBatch)?;
    principal.check(&contract, Action::Command(name))?;
    state.require_contract(&contract).await?;
    let csv = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|essence| essence.trim().eq_ignore_ascii_case("text/csv"));
    if !csv {
        return Err(ApiError::new(
            ErrorCode::UnsupportedMediaType,
            "an import is sent as Content-Type: text/csv",
        )
        .with_field("content-type"));
    }
    let bytes = body.map_err(|rejection| {
        if rejection.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                ErrorCode::BodyTooLarge,
                format!("an import holds at most {IMPORT_BODY_BYTES_MAX} bytes"),
            )
        } else {
            ApiError::new(ErrorCode::MalformedJson, rejection.body_text())
        }
    })?;
    let dialect = Dialect::sniff(&bytes);
    let digest = file_digest(&bytes);
    let mut records = dialect.reader(dialect.strip(&bytes));
    let header = records.headers().cloned().map_err(|error| {
        ApiError::new(ErrorCode::InvalidValue, format!("the header row: {error}"))
            .with_field("body")
    })?;
    let refused = |report: Report, detail: String| {
        let mut body = ApiError::new(ErrorCode::InvalidRows, detail).body();
        body["problems"] = json!(report.problems);
        body["report"] = json!({ "rows": report.rows, "valid": report.valid, "written": 0,
            "already_in_log": 0, "delimiter": char::from(dialect.delimiter).to_string(), "bom": dialect.bom });
        (
            axum::http::StatusCode::UNPROCESSABLE_ENTITY,
            [(axum::http::header::CONTENT_TYPE, "application/problem+json")],
            body.to_string(),
        )
            .into_response()
    };
    let reader = match RowReader::new(&command, &header, digest) {
        Ok(reader) => reader,
        Err(problems) => {
            let report = Report {
                problems,
                ..Report::default()
            };
            return Ok(refused(
                report,
                "the header names columns the command does not have".into(),
            ));
        }
    };
    let mut rows = Rows::default();
    let mut record = csv::StringRecord::new();
    let mut row = 0u64;
    loop {
        match records.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {
                row += 1;
                if row > IMPORT_ROWS_MAX as u64 {
                    return Err(ApiError::new(
                        ErrorCode::InvalidValue,
                        format!("an import holds at most {IMPORT_ROWS_MAX} rows: send the rest in another call"),
                    )
                    .with_field("body"));
                }
                let line = record.position().map_or(row + 1, csv::Position::line);
                rows.push(&reader, line, row, &record);
            }
            Err(error) => {
                row += 1;
                rows.count += 1;
                rows.problems.push(Problem {
                    line: error.position().map_or(row + 1, csv::Position::line),
                    column: String::new(),
                    code: "unreadable_row".to_owned(),
                    message: error.to_string(),
                });
                if !matches!(error.kind(), csv::ErrorKind::Utf8 { .. }) {
                    break;
                }
            }
        }
    }
    // A provider imports only about its own tokens, row by row as the endpoint checks it.
    if crate::auth::PROVIDER_COMMANDS.contains(&name) {
        let mut kept = Vec::with_capacity(rows.read.len());
        for (line, submission) in std::mem::take(&mut rows.read) {
            match crate::check_provider(&state, &principal, &contract, &submission).await {
                Ok(()) => kept.push((line, submission)),
                Err(error) => rows.problems.push(Problem::of(line, &error)),
            }
        }
        rows.read = kept;
    }
    let report = check_and_write(
        &state.store,
        &contract,
        &principal.name,
        rows,
        options,
        |_| {},
    )
    .await?;
    state.metrics.imported(
        report.written,
        report.already_in_log,
        report.problems.iter().map(|problem| problem.code.as_str()),
    );
    if !report.problems.is_empty() && !options.skip_invalid && !options.dry_run {
        let detail = format!(
            "{} of {} rows are bad: nothing was written",
            report.problems.len(),
            report.rows
        );
        return Ok(refused(report, detail));
    }
    Ok(axum::Json(json!({
        "command": name,
        "delimiter": char::from(dialect.delimiter).to_string(),
        "bom": dialect.bom,
        "dry_run": options.dry_run,
        "rows": report.rows,
        "valid": report.valid,
        "written": report.written,
        "already_in_log": report.already_in_log,
        "problems": report.problems,
    }))
    .into_response())
}
