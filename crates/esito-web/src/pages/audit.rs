//! The evaluator's page (`GET /contracts/{id}/audit`): the latest signed checkpoint, every key
//! that has signed checkpoints, a download of the export (`GET /contracts/{id}/audit/export`,
//! the API's own stream) and the commands that verify it and compute the indicators and the
//! settlements again offline.
//!
//! Invariant: the page and its download check `Action::ExportLog`, as
//! `GET /v1/contracts/{id}/export` does; the commands shown are `esito`'s own, with the flags
//! its `--help` gives.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::header::CONTENT_DISPOSITION;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use axum::Extension;
use esito_api::auth::Action;
use esito_api::screens;
use maud::{html, Markup};

use crate::contracts::term;
use crate::format;
use crate::lang::Lang;
use crate::page::{self, layout, respond, Frame, PageError};
use crate::Web;

/// The file name the export is saved under.
pub fn export_file(contract: &str) -> String {
    format!("{contract}-export.jsonl")
}

/// The commands an evaluator runs on the downloaded export, one a line: verify it with every
/// key given, then compute a period's indicators and settlement from it alone.
pub fn commands(contract: &str, public_keys: &[String], period: &str) -> Vec<String> {
    let file = export_file(contract);
    let mut verify = format!("esito verify {file}");
    for key in public_keys {
        verify.push_str(&format!(" --public-key {key}"));
    }
    vec![
        verify,
        format!("esito indicators --offline {file} --period {period}"),
        format!("esito settle --offline {file} --period {period}"),
    ]
}

/// `GET /contracts/{id}/audit`.
pub async fn page(
    State(web): State<Arc<Web>>,
    Extension(lang): Extension<Lang>,
    Path(contract_text): Path<String>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let (viewer, id) =
        page::viewer_of(&web, &headers, lang, &contract_text, Action::ExportLog).await?;
    let api_error = |error| PageError::from_api(lang, &error);
    let contract = screens::contract(&web.api, &id).await.map_err(api_error)?;
    let (checkpoints, keys) = screens::checkpoints(&web.api, &id)
        .await
        .map_err(api_error)?;
    let latest = checkpoints
        .iter()
        .max_by(|a, b| (a.size, &a.timestamp).cmp(&(b.size, &b.timestamp)));
    let public_keys: Vec<String> = keys.iter().map(|key| key.public_key.clone()).collect();
    // The commands' example period: the latest settlement standing, else the term's first.
    let settled = screens::settlements(&web.api, &id)
        .await
        .map_err(api_error)?;
    let period = settled
        .iter()
        .rev()
        .find(|view| view["status"] != "withdrawn")
        .and_then(|view| view["period"].as_str().map(str::to_owned))
        .or_else(|| {
            contract
                .registered
                .term_periods()
                .first()
                .map(ToString::to_string)
        })
        .unwrap_or_default();
    let title = lang.t("audit.title");
    let path = format!("/contracts/{id}/audit");
    let frame = Frame {
        lang,
        title,
        path: &path,
        contract: Some((id.as_str(), &contract.registered.title)),
        viewer: Some(&viewer),
    };
    let body = html! {
        h1 { (title) }
        p { (lang.t("audit.intro")) }
        p { (term(&contract, lang)) }
        section {
            h2 { (lang.t("audit.checkpoint")) }
            @match latest {
                Some(checkpoint) => {
                    dl.parties.checkpoint {
                        dt { (lang.t("audit.size")) } dd data-figure="size" { (checkpoint.size) }
                        dt { (lang.t("audit.root_hash")) } dd { code { (checkpoint.root_hash) } }
                        dt { (lang.t("audit.timestamp")) } dd { (format::instant(&checkpoint.timestamp, lang)) }
                        dt { (lang.t("audit.key_id")) } dd { code { (checkpoint.key_id) } }
                        dt { (lang.t("audit.signature")) } dd { code.wrap { (checkpoint.signature) } }
                    }
                }
                None => { p.notice { (lang.t("audit.no_checkpoint")) } }
            }
        }
        section {
            h2 { (lang.t("audit.keys")) }
            @if keys.is_empty() {
                p.notice { (lang.t("audit.no_keys")) }
            } @else {
                table.values {
                    thead { tr {
                        th scope="col" { (lang.t("audit.key_id")) }
                        th scope="col" { (lang.t("audit.public_key")) }
                        th scope="col" { (lang.t("audit.key_created")) }
                        th scope="col" { (lang.t("audit.key_retired")) }
                    } }
                    tbody {
                        @for key in &keys {
                            tr {
                                td { code { (key.key_id) } }
                                td { code.wrap { (key.public_key) } }
                                td { (format::instant(&key.created_at, lang)) }
                                td { @match &key.retired_at {
                                    Some(at) => { (format::instant(at, lang)) }
                                    None => { (lang.t("audit.key_current")) }
                                } }
                            }
                        }
                    }
                }
            }
        }
        section {
            h2 { (lang.t("audit.export")) }
            p { (lang.t("audit.export_intro")) }
            p { a.button href={ "/contracts/" (id) "/audit/export" } download=(export_file(id.as_str())) {
                (lang.t("audit.download")) " " code { (export_file(id.as_str())) }
            } }
        }
        section {
            h2 { (lang.t("audit.commands")) }
            p { (lang.t("audit.commands_intro")) }
            (command_list(&commands(id.as_str(), &public_keys, &period), lang))
        }
    };
    Ok(respond(StatusCode::OK, layout(&frame, body)))
}

fn command_list(commands: &[String], lang: Lang) -> Markup {
    let explanations = [
        lang.t("audit.verify"),
        lang.t("audit.indicators"),
        lang.t("audit.settle"),
    ];
    html! {
        ol.commands {
            @for (command, explanation) in commands.iter().zip(explanations) {
                li { p { (explanation) } pre { code { (command) } } }
            }
        }
    }
}

/// `GET /contracts/{id}/audit/export`: the API's export stream, saved as a file.
pub async fn export(
    State(web): State<Arc<Web>>,
    Extension(lang): Extension<Lang>,
    Path(contract_text): Path<String>,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let viewer = page::viewer(&web, &headers, lang).await?;
    let mut response = screens::export(Arc::clone(&web.api), &viewer.principal, &contract_text)
        .await
        .map_err(|error| PageError::from_api(lang, &error))?;
    let disposition = format!("attachment; filename=\"{}\"", export_file(&contract_text));
    if let Ok(value) = HeaderValue::from_str(&disposition) {
        response.headers_mut().insert(CONTENT_DISPOSITION, value);
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_commands_name_the_downloaded_file_every_key_and_the_period() {
        assert_eq!(
            commands("cuneo", &["AAA=".to_owned(), "BBB=".to_owned()], "2024-Q1"),
            vec![
                "esito verify cuneo-export.jsonl --public-key AAA= --public-key BBB=",
                "esito indicators --offline cuneo-export.jsonl --period 2024-Q1",
                "esito settle --offline cuneo-export.jsonl --period 2024-Q1",
            ]
        );
    }
}
