//! What the browser tests share: Debian's Chromium found (never downloaded), `esito serve` on
//! a free port with the demo loaded and a key for each role, and a page driven over the
//! DevTools protocol that fails on any console error, failed request, broken link or broken
//! image, saves a full-page screenshot under `target/screenshots/` and reads its text.

// Each test binary includes this module and uses a different part of it.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use headless_chrome::protocol::cdp::types::Event;
use headless_chrome::protocol::cdp::Page as Cdp;
use headless_chrome::{Browser, LaunchOptions, Tab};
use serde_json::Value;

#[path = "../serve_process/mod.rs"]
mod serve_process;

/// The demo contract the pages are opened on.
pub const CONTRACT: &str = "cuneo-communal-living";

/// The environment variable `.ci/run` sets: there, a missing browser fails the test.
pub const CI_VARIABLE: &str = "ESITO_CI";

/// The screenshots' scale: readable, and small enough to copy into the user guide.
const SCREENSHOT_SCALE: f64 = 0.75;

/// How long a page may take to load or an element to appear (a debug build on a busy machine).
const PAGE_TIMEOUT: Duration = Duration::from_secs(60);

/// Debian's Chromium: `ESITO_CHROMIUM` if set, else `chromium` or `chromium-browser` on `PATH`.
pub fn chromium() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("ESITO_CHROMIUM") {
        return Some(PathBuf::from(path));
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|directory| ["chromium", "chromium-browser"].map(|name| directory.join(name)))
        .find(|candidate| candidate.is_file())
}

/// The browser to drive, or `None` with a loud message when Chromium is missing outside CI;
/// under `.ci/run` a missing Chromium fails the test.
pub fn chromium_or_skip(test: &str) -> Option<PathBuf> {
    match chromium() {
        Some(path) => Some(path),
        None if std::env::var_os(CI_VARIABLE).is_some() => panic!(
            "{test}: Chromium is missing under CI; `make test` installs Debian's `chromium` \
             (apt-get install -y chromium)"
        ),
        None => {
            eprintln!(
                "\n\n*** {test} SKIPPED: no Chromium found (install Debian's `chromium`, or set \
                 ESITO_CHROMIUM); under .ci/run this test fails instead ***\n\n"
            );
            None
        }
    }
}

/// `esito serve` over a SQLite database holding the demo, with one key per role for the demo's
/// Cuneo contract (and an admin's for every contract). Stopped when dropped.
pub struct Service {
    pub url: String,
    pub database: String,
    pub keys: BTreeMap<&'static str, String>,
    child: Child,
    directory: tempfile::TempDir,
}

impl Service {
    pub fn start() -> Service {
        let directory = tempfile::tempdir().expect("a temporary directory");
        let database = format!("sqlite://{}", directory.path().join("esito.db").display());
        let demo = esito(&["demo", "--database", &database]);
        assert!(demo.status.success(), "esito demo: {}", stderr_of(&demo));
        let mut keys = BTreeMap::new();
        for role in ["admin", "operator", "payer", "funder", "evaluator"] {
            let mut arguments = vec!["keys", "create", "--database", &database, "--role", role];
            if role != "admin" {
                arguments.extend(["--contract", CONTRACT]);
            }
            let principal = format!("browser-{role}");
            arguments.extend(["--principal", &principal]);
            let created = esito(&arguments);
            assert!(
                created.status.success(),
                "esito keys create: {}",
                stderr_of(&created)
            );
            let key = String::from_utf8(created.stdout).expect("a key is text");
            keys.insert(role, key.trim().to_owned());
        }
        let port = serve_process::free_port();
        let log = std::fs::File::create(directory.path().join("serve.log")).expect("a log file");
        let child = serve_process::spawn_serve(
            &database,
            port,
            &directory.path().join("signing.key"),
            &[],
            Stdio::from(log),
        );
        let service = Service {
            url: format!("http://127.0.0.1:{port}"),
            database,
            keys,
            child,
            directory,
        };
        service.wait_until_healthy();
        service
    }

    pub fn key(&self, role: &str) -> &str {
        self.keys
            .get(role)
            .unwrap_or_else(|| panic!("no key for the role {role}"))
    }

    /// What the service wrote to standard error so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.directory.path().join("serve.log")).unwrap_or_default()
    }

    fn wait_until_healthy(&self) {
        let deadline = Instant::now() + PAGE_TIMEOUT;
        let address = self.url.trim_start_matches("http://").to_owned();
        while Instant::now() < deadline {
            if let Ok((200, _)) = plain_get(&address, "/healthz") {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("esito serve did not answer /healthz:\n{}", self.log());
    }
}

impl Drop for Service {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn esito(arguments: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_esito"))
        .args(arguments)
        .output()
        .expect("esito runs")
}

fn stderr_of(output: &std::process::Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// A GET over a plain TCP connection, for the health check: status and body.
fn plain_get(address: &str, path: &str) -> std::io::Result<(u16, String)> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(address)?;
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n"
    )?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer)?;
    let status = answer
        .split_whitespace()
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0);
    let body = answer
        .split_once("\r\n\r\n")
        .map(|(_, body)| body.to_owned())
        .unwrap_or_default();
    Ok((status, body))
}

/// What went wrong on a page, as the browser reported it.
#[derive(Debug, Default, Clone)]
struct Faults {
    console: Vec<String>,
    requests: Vec<String>,
}

/// A headless Chromium with one tab, watching for faults.
pub struct Driver {
    // The browser must outlive its tab.
    _browser: Browser,
    tab: Arc<Tab>,
    faults: Arc<Mutex<Faults>>,
    /// Statuses a test expects (a 403 page it opens on purpose), by path.
    expected: Arc<Mutex<BTreeMap<String, u16>>>,
    pub base: String,
}

impl Driver {
    pub fn launch(chromium: &Path, base: &str) -> Driver {
        let options = LaunchOptions::default_builder()
            .path(Some(chromium.to_path_buf()))
            .headless(true)
            // Chromium refuses its sandbox as root, as CI runs.
            .sandbox(false)
            .window_size(Some((1280, 900)))
            .idle_browser_timeout(Duration::from_secs(300))
            .build()
            .expect("launch options");
        let browser = Browser::new(options).expect("Chromium starts");
        let tab = browser.new_tab().expect("a tab");
        tab.set_default_timeout(PAGE_TIMEOUT);
        // A municipal officer's browser: Italian first, as the screens are.
        tab.set_user_agent(
            "Mozilla/5.0 (X11; Linux x86_64) Chromium (esito browser tests)",
            Some("it-IT,it;q=0.9"),
            None,
        )
        .expect("the browser's languages");
        let faults = Arc::new(Mutex::new(Faults::default()));
        let expected = Arc::new(Mutex::new(BTreeMap::<String, u16>::new()));
        tab.enable_log().expect("the log domain");
        tab.enable_runtime().expect("the runtime domain");
        tab.call_method(headless_chrome::protocol::cdp::Network::Enable {
            max_total_buffer_size: None,
            max_resource_buffer_size: None,
            max_post_data_size: None,
            report_direct_socket_traffic: None,
            enable_durable_messages: None,
        })
        .expect("the network domain");
        let seen = Arc::clone(&faults);
        let allowed = Arc::clone(&expected);
        tab.add_event_listener(Arc::new(move |event: &Event| {
            let mut faults = seen.lock().expect("the faults");
            match event {
                Event::LogEntryAdded(entry) => {
                    let entry = &entry.params.entry;
                    let level = format!("{:?}", entry.level);
                    // A response the test expects (a 403 page) is logged as a failed resource.
                    let expected_url = entry.url.as_deref().is_some_and(|url| {
                        allowed
                            .lock()
                            .expect("the expected statuses")
                            .keys()
                            .any(|path| url.ends_with(path.as_str()))
                    });
                    if level == "Error" && !expected_url {
                        faults.console.push(format!(
                            "{} ({})",
                            entry.text,
                            entry.url.clone().unwrap_or_default()
                        ));
                    }
                }
                Event::RuntimeExceptionThrown(thrown) => {
                    let details = &thrown.params.exception_details;
                    let description = details
                        .exception
                        .as_ref()
                        .and_then(|exception| exception.description.clone())
                        .unwrap_or_default();
                    faults
                        .console
                        .push(format!("exception: {} {description}", details.text));
                }
                Event::RuntimeConsoleAPICalled(called)
                    if format!("{:?}", called.params.Type) == "Error" =>
                {
                    faults.console.push(format!(
                        "console.error: {}",
                        serde_json::to_string(&called.params.args).unwrap_or_default()
                    ));
                }
                Event::NetworkResponseReceived(received) => {
                    let response = &received.params.response;
                    let status = response.status as u16;
                    let path = response
                        .url
                        .split_once("://")
                        .and_then(|(_, rest)| rest.find('/').map(|slash| &rest[slash..]))
                        .unwrap_or("/")
                        .to_owned();
                    let expected = allowed
                        .lock()
                        .expect("the expected statuses")
                        .get(&path)
                        .copied();
                    if status >= 400 && expected != Some(status) {
                        faults.requests.push(format!("{status} {}", response.url));
                    }
                }
                Event::NetworkLoadingFailed(failed) => {
                    let params = &failed.params;
                    // A navigation the page replaces (a download, a redirect) is aborted, not failed.
                    if params.error_text != "net::ERR_ABORTED" {
                        faults
                            .requests
                            .push(format!("{} ({:?})", params.error_text, params.Type));
                    }
                }
                _ => {}
            }
        }))
        .expect("an event listener");
        Driver {
            _browser: browser,
            tab,
            faults,
            expected,
            base: base.to_owned(),
        }
    }

    pub fn tab(&self) -> &Tab {
        &self.tab
    }

    /// Sends `Authorization: Bearer KEY` with every request (the API's pages, before signing in
    /// by the form exists).
    pub fn use_bearer_key(&self, key: &str) {
        let value = format!("Bearer {key}");
        let headers = std::collections::HashMap::from([("Authorization", value.as_str())]);
        self.tab
            .set_extra_http_headers(headers)
            .expect("extra headers");
    }

    /// A status the test expects at `path` (a page it opens to see it refused).
    pub fn expect_status(&self, path: &str, status: u16) {
        self.expected
            .lock()
            .expect("the expected statuses")
            .insert(path.to_owned(), status);
    }

    /// Opens `path` (relative to the service) and waits for it to load.
    pub fn open(&self, path: &str) {
        let url = format!("{}{path}", self.base);
        self.tab.navigate_to(&url).expect("navigates");
        self.tab.wait_until_navigated().expect("loads");
    }

    /// Types `text` into the input `selector`, replacing what it held.
    pub fn fill(&self, selector: &str, text: &str) {
        let element = self.tab.wait_for_element(selector).expect("the input");
        element
            .call_js_fn("function() { this.value = ''; }", vec![], false)
            .expect("cleared");
        element.click().expect("focused");
        self.tab.type_str(text).expect("typed");
    }

    /// Sets a field's value (a `<select>`'s choice, a date picker's value) and fires its
    /// change event.
    pub fn set_value(&self, selector: &str, value: &str) {
        let element = self.tab.wait_for_element(selector).expect("the field");
        element
            .call_js_fn(
                "function(v) { this.value = v; this.dispatchEvent(new Event('change')); }",
                vec![Value::String(value.to_owned())],
                false,
            )
            .expect("selected");
    }

    /// Clicks the element, which must lead to a new page, and waits until that page has loaded.
    pub fn click(&self, selector: &str) {
        let element = self
            .tab
            .wait_for_element(selector)
            .expect("the element to click");
        self.tab
            .evaluate("window.esitoPageBefore = true", false)
            .expect("the page marked");
        element.click().expect("clicked");
        let deadline = Instant::now() + PAGE_TIMEOUT;
        loop {
            // While the page changes the evaluation may fail: the old page has gone.
            let loaded = self
                .tab
                .evaluate(
                    "window.esitoPageBefore === undefined && document.readyState === 'complete'",
                    false,
                )
                .ok()
                .and_then(|result| result.value)
                .and_then(|value| value.as_bool())
                .unwrap_or(false);
            if loaded {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "clicking {selector} led to no new page"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Signs in at `/` with `key` through the sign-in form; the contract list follows.
    pub fn sign_in(&self, key: &str) {
        self.open("/");
        self.fill("#key", key);
        self.click("form.signin button[type=submit]");
        assert_eq!(
            self.path(),
            "/contracts",
            "signing in leads to the contract list"
        );
    }

    /// Signs out with the header's button; the sign-in page follows.
    pub fn sign_out(&self) {
        self.click("form[action='/session/end'] button[type=submit]");
        assert!(
            self.path().starts_with("/?") || self.path() == "/",
            "signing out leads to the sign-in page, not {}",
            self.path()
        );
    }

    /// The text of every element `selector` finds, hidden ones too (a table folded in a
    /// `<details>`), with the values of the attributes `data` names.
    pub fn cells(&self, selector: &str, data: &[&str]) -> Vec<(Vec<String>, String)> {
        let attributes = serde_json::to_string(data).expect("names");
        let found = self.eval(&format!(
            "Array.from(document.querySelectorAll({selector})).map(e => \
               [{attributes}.map(a => e.getAttribute(a) || ''), e.textContent.trim()])",
            selector = Value::String(selector.to_owned()),
        ));
        found
            .as_array()
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .map(|cell| {
                let names = cell[0]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
                    .into_iter()
                    .map(|value| value.as_str().unwrap_or_default().to_owned())
                    .collect();
                (names, cell[1].as_str().unwrap_or_default().to_owned())
            })
            .collect()
    }

    /// Whether the page is in Italian (`<html lang="it">`).
    pub fn italian(&self) -> bool {
        self.eval("document.documentElement.lang") == Value::String("it".to_owned())
    }

    /// The page's visible text.
    pub fn text(&self) -> String {
        self.eval("document.body ? document.body.innerText : ''")
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// The page's HTML.
    pub fn html(&self) -> String {
        self.tab.get_content().expect("the page's HTML")
    }

    /// The current path and query.
    pub fn path(&self) -> String {
        self.eval("location.pathname + location.search")
            .as_str()
            .unwrap_or_default()
            .to_owned()
    }

    /// Evaluates `expression` (awaited when a promise) and returns its value as JSON.
    pub fn eval(&self, expression: &str) -> Value {
        let wrapped = format!("(async () => JSON.stringify(await ({expression})))()");
        let result = self
            .tab
            .evaluate(&wrapped, true)
            .unwrap_or_else(|error| panic!("evaluating {expression}: {error}"));
        let text = result
            .value
            .as_ref()
            .and_then(Value::as_str)
            .unwrap_or("null")
            .to_owned();
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }

    /// `fetch(path)` from the page (its cookies go with it): status, content type and body
    /// (as text, or its first bytes as a string for a binary body).
    pub fn fetch(&self, path: &str, headers: &[(&str, &str)]) -> (u16, String, String) {
        let headers: serde_json::Map<String, Value> = headers
            .iter()
            .map(|(name, value)| ((*name).to_owned(), Value::String((*value).to_owned())))
            .collect();
        let answer = self.eval(&format!(
            "fetch({path}, {{headers: {headers}, credentials: 'same-origin'}}).then(async r => {{ \
               const buffer = new Uint8Array(await r.arrayBuffer()); \
               let text = ''; for (const b of buffer) text += String.fromCharCode(b); \
               return [r.status, r.headers.get('content-type') || '', text]; }})",
            path = Value::String(path.to_owned()),
            headers = Value::Object(headers),
        ));
        (
            answer[0].as_u64().unwrap_or(0) as u16,
            answer[1].as_str().unwrap_or_default().to_owned(),
            answer[2].as_str().unwrap_or_default().to_owned(),
        )
    }

    /// `POST path` with a JSON body and `key` from the page: status and body.
    pub fn post_json(&self, key: &str, path: &str, body: &Value) -> (u16, String) {
        let answer = self.eval(&format!(
            "fetch({path}, {{method: 'POST', headers: {{'Authorization': {authorization}, \
               'Content-Type': 'application/json'}}, body: {body}}})\
               .then(async r => [r.status, await r.text()])",
            path = Value::String(path.to_owned()),
            authorization = Value::String(format!("Bearer {key}")),
            body = Value::String(body.to_string()),
        ));
        (
            answer[0].as_u64().unwrap_or(0) as u16,
            answer[1].as_str().unwrap_or_default().to_owned(),
        )
    }

    /// The API's JSON at `path`, read with `key`.
    pub fn api(&self, key: &str, path: &str) -> Value {
        let authorization = format!("Bearer {key}");
        let (status, _, body) = self.fetch(
            path,
            &[
                ("Authorization", &authorization),
                ("Accept", "application/json"),
            ],
        );
        assert_eq!(status, 200, "GET {path}: {body}");
        serde_json::from_str(&body).unwrap_or_else(|error| panic!("GET {path}: {error}: {body}"))
    }

    /// Fails on every link of the page (same origin) that does not answer below 400, and every
    /// image that did not load.
    pub fn check_links_and_images(&self) {
        let broken_images = self.eval(
            "Array.from(document.images).filter(i => !i.complete || i.naturalWidth === 0)\
               .map(i => i.src)",
        );
        assert_eq!(
            broken_images,
            Value::Array(vec![]),
            "broken images on {}",
            self.path()
        );
        let links = self.eval(
            "Array.from(document.querySelectorAll('a[href]'))\
               .filter(a => !a.getAttribute('href').startsWith('#')).map(a => a.href)\
               .filter(h => h.startsWith(location.origin))",
        );
        let mut broken = Vec::new();
        let mut seen = std::collections::BTreeSet::new();
        for link in links.as_array().cloned().unwrap_or_default() {
            let link = link.as_str().unwrap_or_default().to_owned();
            let path = link.trim_start_matches(&self.base).to_owned();
            let path = path.split('#').next().unwrap_or_default().to_owned();
            if !seen.insert(path.clone()) {
                continue;
            }
            let (status, _, _) = self.fetch(&path, &[]);
            if !(200..400).contains(&status) {
                broken.push(format!("{status} {path}"));
            }
        }
        // The language switch among the links remembers the other language: ask for the
        // page's own again, as the reader had it.
        let lang = self.eval("document.documentElement.lang");
        if let Some(lang) = lang.as_str() {
            self.fetch(&format!("/?lang={lang}"), &[]);
        }
        assert!(
            broken.is_empty(),
            "broken links on {}: {broken:?}",
            self.path()
        );
    }

    /// The console errors and failed requests seen since the last call, which it clears.
    pub fn take_faults(&self) -> Vec<String> {
        let faults = std::mem::take(&mut *self.faults.lock().expect("the faults"));
        faults.console.into_iter().chain(faults.requests).collect()
    }

    /// Fails on every console error and failed request seen since the last call, then clears
    /// them.
    pub fn assert_no_faults(&self) {
        // Events arrive on the browser's own thread: give the last ones a moment.
        std::thread::sleep(Duration::from_millis(200));
        let faults = self.take_faults();
        assert!(faults.is_empty(), "on {}: {faults:?}", self.path());
    }

    /// Checks the page (faults, links, images) and saves its full-page screenshot as
    /// `target/screenshots/NAME.png`; returns the file.
    pub fn check_and_capture(&self, name: &str) -> PathBuf {
        self.check_links_and_images();
        let file = self.screenshot(name);
        self.assert_no_faults();
        file
    }

    /// A full-page PNG of the page as `target/screenshots/NAME.png`.
    pub fn screenshot(&self, name: &str) -> PathBuf {
        let metrics = self
            .tab
            .call_method(Cdp::GetLayoutMetrics(None))
            .expect("the page's size");
        let size = metrics.css_content_size;
        let png = self
            .tab
            .call_method(Cdp::CaptureScreenshot {
                format: Some(Cdp::CaptureScreenshotFormatOption::Png),
                quality: None,
                clip: Some(Cdp::Viewport {
                    x: 0.0,
                    y: 0.0,
                    width: size.width.max(1.0),
                    height: size.height.max(1.0),
                    scale: SCREENSHOT_SCALE,
                }),
                from_surface: Some(true),
                capture_beyond_viewport: Some(true),
                optimize_for_speed: None,
            })
            .expect("a screenshot")
            .data;
        use base64::Engine as _;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(png)
            .expect("a PNG in base64");
        let directory = screenshots();
        std::fs::create_dir_all(&directory).expect("the screenshots' directory");
        let file = directory.join(format!("{name}.png"));
        std::fs::write(&file, bytes).expect("the screenshot written");
        file
    }
}

/// `target/screenshots/` of the workspace.
pub fn screenshots() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    target.join("screenshots")
}

/// A figure as a page writes it (`11.764,00 €`, `€11,764.00`, `83,3%`, `1.234`), read back:
/// its value and how many decimals it shows; `None` for `n.d.`/`n/a` or no number.
pub fn figure_of(text: &str, italian: bool) -> Option<(rust_decimal::Decimal, u32)> {
    let percent = text.contains('%');
    let kept: String = text
        .chars()
        .filter(|c| c.is_ascii_digit() || *c == ',' || *c == '.' || *c == '-' || *c == '\u{2212}')
        .map(|c| if c == '\u{2212}' { '-' } else { c })
        .collect();
    let plain = if italian {
        kept.replace('.', "").replace(',', ".")
    } else {
        kept.replace(',', "")
    };
    if plain.is_empty() || plain == "-" {
        return None;
    }
    let value: rust_decimal::Decimal = plain.parse().ok()?;
    let decimals = plain.split_once('.').map_or(0, |(_, d)| d.len() as u32);
    if percent {
        Some((value / rust_decimal::Decimal::ONE_HUNDRED, decimals + 2))
    } else {
        Some((value, decimals))
    }
}

/// The API's figure (a JSON number or a decimal string) rounded as a page shows it.
pub fn api_figure(value: &Value, decimals: u32) -> Option<rust_decimal::Decimal> {
    let text = match value {
        Value::Number(number) => number.to_string(),
        Value::String(text) => text.clone(),
        _ => return None,
    };
    let value: rust_decimal::Decimal = text.parse().ok()?;
    Some(value.round_dp_with_strategy(
        decimals,
        rust_decimal::RoundingStrategy::MidpointAwayFromZero,
    ))
}
