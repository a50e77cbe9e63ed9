//! `esito export --url`: a contract's export fetched from a running service
//! (`GET /v1/contracts/{id}/export`) and saved as it streams, with a progress bar on a terminal.
//!
//! Invariant: a file named by `--output` appears only whole: the bytes go to a file beside it,
//! renamed over it once the answer has ended; an answer cut short leaves no file and fails.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;
use http_body_util::BodyExt;
use hyper::body::Bytes;
use indicatif::{ProgressBar, ProgressStyle};

/// How long the service may take to accept the connection and answer the headers.
const ANSWER_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

/// Where and how to fetch an export from.
pub struct Remote<'a> {
    /// `http://host:port`, the service's base URL.
    pub url: &'a str,
    /// A bearer key of an evaluator, payer, funder or admin.
    pub key: &'a str,
    pub contract: &'a esito_domain::ContractId,
    /// Only the entries after this position, and the checkpoints above it.
    pub after: u64,
}

/// Fetches the export and writes it to `output` (standard output when `None`); returns the
/// number of entries received.
pub async fn export(remote: &Remote<'_>, output: Option<&Path>) -> anyhow::Result<u64> {
    let url: hyper::Uri = format!(
        "{}/v1/contracts/{}/export?after={}",
        remote.url.trim_end_matches('/'),
        remote.contract,
        remote.after
    )
    .parse()
    .with_context(|| format!("--url {}: not a URL", remote.url))?;
    anyhow::ensure!(
        url.scheme_str() == Some("http"),
        "--url {}: only http:// is spoken; reach a service behind TLS through its proxy's plain \
         port or a tunnel",
        remote.url
    );
    let host = url
        .host()
        .with_context(|| format!("--url {}: no host", remote.url))?
        .to_owned();
    let port = url.port_u16().unwrap_or(80);
    let authority = url
        .authority()
        .map(|a| a.as_str().to_owned())
        .unwrap_or_default();
    let stream = tokio::time::timeout(
        ANSWER_TIMEOUT,
        tokio::net::TcpStream::connect((host.trim_matches(['[', ']']), port)),
    )
    .await
    .with_context(|| format!("connecting to {authority}: no answer in 30 s"))?
    .with_context(|| format!("connecting to {authority}"))?;
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream)).await?;
    // The connection is driven on its own task; it ends with the answer.
    tokio::spawn(connection);
    let request = hyper::Request::get(
        url.path_and_query()
            .map_or("/", hyper::http::uri::PathAndQuery::as_str),
    )
    .header(hyper::header::HOST, &authority)
    .header(
        hyper::header::AUTHORIZATION,
        format!("Bearer {}", remote.key),
    )
    .body(http_body_util::Empty::<Bytes>::new())?;
    let answer = tokio::time::timeout(ANSWER_TIMEOUT, sender.send_request(request))
        .await
        .with_context(|| format!("{url}: no answer in 30 s"))??;
    let status = answer.status();
    if !status.is_success() {
        let body = answer.into_body().collect().await?.to_bytes();
        let problem: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
        anyhow::bail!(
            "{url}: {status}: {}",
            problem["detail"].as_str().map_or_else(
                || String::from_utf8_lossy(&body).into_owned(),
                str::to_owned
            )
        );
    }
    let expected = answer
        .headers()
        .get(esito_api::export::ENTRIES_HEADER)
        .and_then(|value| value.to_str().ok()?.parse::<u64>().ok());
    let bar = progress_bar(expected);
    let mut sink = Sink::open(output)?;
    let mut body = answer.into_body();
    let mut lines = 0u64;
    while let Some(frame) = body.frame().await {
        let frame = frame.with_context(|| {
            format!("{url}: the answer was cut short after {lines} lines; nothing was saved")
        })?;
        if let Some(data) = frame.data_ref() {
            sink.write_all(data)?;
            let count = data.iter().filter(|byte| **byte == b'\n').count() as u64;
            lines += count;
            bar.inc(count);
        }
    }
    bar.finish_and_clear();
    sink.finish()?;
    Ok(expected.unwrap_or(lines))
}

/// A bar over the entries when standard error is a terminal; hidden otherwise.
fn progress_bar(entries: Option<u64>) -> ProgressBar {
    if !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let style = ProgressStyle::with_template("exporting [{bar:32}] {pos}/{len} lines (eta {eta})")
        .map_or_else(
            |_| ProgressStyle::default_bar(),
            |style| style.progress_chars("=> "),
        );
    ProgressBar::new(entries.unwrap_or(0)).with_style(style)
}

/// Standard output, or a file written beside its final name and renamed once whole.
enum Sink {
    Stdout(std::io::BufWriter<std::io::Stdout>),
    File(PartialFile),
}

/// A file being written under a name of its own, removed unless it was finished.
struct PartialFile {
    /// `None` once finished.
    writer: Option<std::io::BufWriter<std::fs::File>>,
    partial: PathBuf,
    path: PathBuf,
}

impl Sink {
    fn open(output: Option<&Path>) -> anyhow::Result<Sink> {
        Ok(match output {
            None => Sink::Stdout(std::io::BufWriter::new(std::io::stdout())),
            Some(path) => {
                let mut partial = path.as_os_str().to_owned();
                partial.push(".partial");
                let partial = PathBuf::from(partial);
                let file = std::fs::File::create(&partial)
                    .with_context(|| format!("creating {}", partial.display()))?;
                Sink::File(PartialFile {
                    writer: Some(std::io::BufWriter::new(file)),
                    partial,
                    path: path.to_owned(),
                })
            }
        })
    }

    fn write_all(&mut self, data: &[u8]) -> anyhow::Result<()> {
        match self {
            Sink::Stdout(out) => out.write_all(data)?,
            Sink::File(file) => file
                .writer
                .as_mut()
                .expect("written only before it is finished")
                .write_all(data)
                .with_context(|| format!("writing {}", file.partial.display()))?,
        }
        Ok(())
    }

    fn finish(&mut self) -> anyhow::Result<()> {
        match self {
            Sink::Stdout(out) => out.flush()?,
            Sink::File(file) => {
                let writer = file.writer.take().expect("finished once");
                let done = writer
                    .into_inner()
                    .map_err(std::io::IntoInnerError::into_error)
                    .with_context(|| format!("writing {}", file.partial.display()))?;
                done.sync_all()?;
                std::fs::rename(&file.partial, &file.path).with_context(|| {
                    format!(
                        "renaming {} to {}",
                        file.partial.display(),
                        file.path.display()
                    )
                })?;
            }
        }
        Ok(())
    }
}

impl Drop for PartialFile {
    fn drop(&mut self) {
        // Not finished: an answer cut short leaves no file behind.
        if self.writer.is_some() {
            let _ = std::fs::remove_file(&self.partial);
        }
    }
}
