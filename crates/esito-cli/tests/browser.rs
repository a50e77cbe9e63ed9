//! The screens in a real headless Chromium (Debian's `chromium`, driven over the DevTools
//! protocol): every page checked for console errors, failed requests, broken links and images,
//! its full-page screenshot saved under `target/screenshots/`, its figures compared with the
//! API's. Skipped with a loud message only when Chromium is missing outside `.ci/run`.

mod browser_harness;

use std::collections::BTreeMap;

use browser_harness::{api_figure, chromium_or_skip, figure_of, Driver, Service, CONTRACT};
use serde_json::{json, Value};

#[test]
fn the_harness_reads_a_settlement_page_and_catches_a_broken_page() {
    let Some(chromium) = chromium_or_skip("browser") else {
        return;
    };
    let service = Service::start();
    let driver = Driver::launch(&chromium, &service.url);
    // The API's answers declare no icon, so the browser asks for /favicon.ico, which the API
    // does not serve; the screens do, and their test expects no 404 at all.
    driver.expect_status("/favicon.ico", 404);
    driver.open("/healthz");
    let payer = service.key("payer").to_owned();
    let (status, body) = driver.post_json(
        &payer,
        &format!("/v1/contracts/{CONTRACT}/settlements"),
        &json!({"period": "2024-Q1", "event_id": "0b6f2c1e-9a57-4d0e-8f4f-3c2b1a0d9e01"}),
    );
    assert_eq!(status, 201, "the calculation: {body}");
    let settlement = driver.api(
        &payer,
        &format!("/v1/contracts/{CONTRACT}/settlements/2024-Q1"),
    );
    let total = settlement["document"]["total"]
        .as_str()
        .expect("a total")
        .to_owned();

    driver.use_bearer_key(&payer);
    driver.open(&format!(
        "/v1/contracts/{CONTRACT}/settlements/2024-Q1/html"
    ));
    let text = driver.text();
    assert!(
        text.contains(&total),
        "the page shows the total {total}:\n{text}"
    );
    let screenshot = driver.check_and_capture("harness-settlement-api-page");
    let png = std::fs::read(&screenshot).expect("the screenshot");
    assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n", "a PNG");

    // The harness must be able to fail: a page with a missing image and a script error.
    driver.open(&format!(
        "/v1/contracts/{CONTRACT}/settlements/1999-Q1/html"
    ));
    let faults = driver.take_faults();
    assert!(
        faults.iter().any(|fault| fault.contains("404")),
        "a page answered 404 is a fault: {faults:?}"
    );
    driver
        .tab()
        .evaluate(
            "document.body.innerHTML += '<img src=\"/no-such-image.png\">'; \
         setTimeout(() => { throw new Error('on purpose'); }, 0);",
            false,
        )
        .expect("evaluated");
    std::thread::sleep(std::time::Duration::from_millis(500));
    let faults = driver.take_faults();
    assert!(
        faults.iter().any(|fault| fault.contains("on purpose")),
        "a script error is a fault: {faults:?}"
    );
    assert!(
        faults.iter().any(|fault| fault.contains("no-such-image")),
        "an image not found is a fault: {faults:?}"
    );
}

/// The payer's, the funder's, the evaluator's and the operator's screens, each page checked and
/// captured, every figure compared with the API's.
#[test]
fn each_role_opens_its_screens_and_sees_the_apis_figures() {
    let Some(chromium) = chromium_or_skip("browser") else {
        return;
    };
    let service = Service::start();
    let driver = Driver::launch(&chromium, &service.url);
    let admin = service.key("admin").to_owned();
    let payer = service.key("payer").to_owned();

    // The payer signs in, reads the dashboard and asks for the first settlement. Italian, as a
    // municipal officer reads it (the choice is remembered).
    driver.open("/?lang=it");
    driver.check_and_capture("signin");
    driver.sign_in(&payer);
    driver.check_and_capture("contracts");
    driver.open(&format!("/contracts/{CONTRACT}"));
    driver.check_and_capture("dashboard");
    dashboard_figures_are_the_apis(&driver, &admin);
    driver.open(&format!("/contracts/{CONTRACT}/settlements"));
    driver.check_and_capture("settlements");
    driver.click("form[action$='/settlements'] button[type=submit]");
    assert_eq!(
        driver.path(),
        format!("/contracts/{CONTRACT}/settlements/2024-Q1"),
        "the calculation leads to its document"
    );
    driver.check_and_capture("settlement");
    let settlement = driver.api(
        &admin,
        &format!("/v1/contracts/{CONTRACT}/settlements/2024-Q1"),
    );
    assert_eq!(settlement["status"], json!("calculated"));
    let total = settlement["document"]["total_with_vat"]
        .as_str()
        .expect("a total");
    let shown = italian_money(total);
    assert!(
        driver.text().contains(&shown),
        "the document shows the API's total {total} as {shown}"
    );
    let pdf = driver.cells("a[type='application/pdf']", &["href"]);
    assert_eq!(pdf.len(), 1, "one link to the PDF");
    let (status, content_type, bytes) = driver.fetch(&pdf[0].0[0], &[]);
    assert_eq!((status, content_type.as_str()), (200, "application/pdf"));
    assert!(
        bytes.starts_with("%PDF-"),
        "a PDF: {}",
        &bytes[..bytes.len().min(20)]
    );
    driver.sign_out();
    driver.check_and_capture("signed-out");

    // The evaluator validates the settlement with the document's button.
    driver.sign_in(service.key("evaluator"));
    driver.open(&format!("/contracts/{CONTRACT}/settlements/2024-Q1"));
    driver.click("button[data-step=validate]");
    driver.check_and_capture("settlement-validated");
    let settlement = driver.api(
        &admin,
        &format!("/v1/contracts/{CONTRACT}/settlements/2024-Q1"),
    );
    assert_eq!(
        settlement["status"],
        json!("validated"),
        "the button validated it"
    );
    driver.sign_out();

    // The funder reads its account: each figure is the settlements' documents'.
    driver.sign_in(service.key("funder"));
    driver.open(&format!("/contracts/{CONTRACT}/funder"));
    driver.check_and_capture("funder");
    funder_figures_are_the_apis(&driver, &admin);
    driver.sign_out();

    // The evaluator reads the checkpoint and downloads the export, the API's bytes.
    driver.sign_in(service.key("evaluator"));
    driver.open(&format!("/contracts/{CONTRACT}/audit"));
    driver.check_and_capture("audit");
    let text = driver.text();
    let latest = driver.api(
        &admin,
        &format!("/v1/contracts/{CONTRACT}/checkpoints/latest"),
    );
    let root = latest["root_hash"].as_str().expect("a tree head");
    assert!(
        text.contains(root),
        "the audit page shows the latest checkpoint's tree head {root}"
    );
    for command in [
        "esito verify",
        "esito indicators --offline",
        "esito settle --offline",
    ] {
        assert!(text.contains(command), "the audit page gives `{command}`");
    }
    let (status, content_type, downloaded) =
        driver.fetch(&format!("/contracts/{CONTRACT}/audit/export"), &[]);
    assert_eq!(status, 200);
    assert_eq!(content_type, "application/x-ndjson");
    let authorization = format!("Bearer {admin}");
    let (_, _, exported) = driver.fetch(
        &format!("/v1/contracts/{CONTRACT}/export"),
        &[("Authorization", &authorization)],
    );
    assert!(downloaded.lines().count() > 900, "the whole log");
    assert_eq!(downloaded, exported, "the page's export is the API's");
    driver.sign_out();

    // The operator records an access: refused without its id, the error beside the field and
    // what was typed kept; then sent twice, one event.
    driver.sign_in(service.key("operator"));
    driver.open(&format!("/contracts/{CONTRACT}/record"));
    driver.check_and_capture("record");
    let record_path = format!("/contracts/{CONTRACT}/record/access");
    driver.expect_status(&record_path, 422);
    driver.set_value("#access-occurred_at", "2024-03-05T10:30");
    driver.set_value("#access-channel", "phone");
    driver.set_value("#access-outcome-kind", "referred");
    driver.fill("#access-outcome-service", "Sportello casa");
    driver.click("#form-access button[type=submit]");
    assert!(
        driver.tab().find_element("#access-access_id-error").is_ok(),
        "the error is beside the access id: {} {}",
        driver.path(),
        driver.text()
    );
    let kept = driver.eval("document.querySelector('#access-outcome-service').value");
    assert_eq!(kept, json!("Sportello casa"), "what was typed is kept");
    driver.check_and_capture("record-refused");

    let access_id = "acc-browser-1";
    driver.fill("#access-access_id", access_id);
    // The first of two sends of the same form, as a double click would make it.
    let first = driver.eval(
        "(() => { const form = document.querySelector('#form-access form'); \
           return fetch(form.action, {method: 'POST', body: new URLSearchParams(new FormData(form)), \
             credentials: 'same-origin', redirect: 'manual'}).then(r => r.type); })()",
    );
    assert_eq!(
        first,
        json!("opaqueredirect"),
        "the first send is recorded (303)"
    );
    driver.click("#form-access button[type=submit]");
    assert!(
        driver.path().contains("replayed="),
        "the second send is answered as a replay: {}",
        driver.path()
    );
    driver.check_and_capture("record-replayed");
    let stream = driver.api(
        &admin,
        &format!("/v1/contracts/{CONTRACT}/streams/access/{access_id}"),
    );
    let entries = stream["entries"].as_array().expect("the stream's entries");
    assert_eq!(entries.len(), 1, "one event for two sends: {stream}");
    driver.sign_out();
}

/// Every value of the dashboard's tables is the API's indicator value of its period, as the
/// page rounds it.
fn dashboard_figures_are_the_apis(driver: &Driver, key: &str) {
    let cells = driver.cells(
        "td.figure[data-indicator]",
        &["data-indicator", "data-period"],
    );
    assert!(
        cells.len() > 20,
        "the dashboard shows its values: {}",
        cells.len()
    );
    let mut reports: BTreeMap<String, Value> = BTreeMap::new();
    let mut compared = 0;
    let italian = driver.italian();
    for (names, shown) in cells {
        let (indicator, period) = (&names[0], &names[1]);
        let report = reports.entry(period.clone()).or_insert_with(|| {
            driver.api(
                key,
                &format!("/v1/contracts/{CONTRACT}/indicators?period={period}"),
            )
        });
        let value = report["indicators"]
            .as_array()
            .and_then(|all| all.iter().find(|item| item["id"] == json!(indicator)))
            .map(|item| item["value"].clone())
            .unwrap_or(Value::Null);
        match figure_of(&shown, italian) {
            None => assert!(
                value.is_null(),
                "{indicator} {period}: the page shows {shown}, the API {value}"
            ),
            Some((figure, decimals)) => {
                assert_eq!(
                    Some(figure),
                    api_figure(&value, decimals),
                    "{indicator} {period}: the page shows {shown}, the API {value}"
                );
                compared += 1;
            }
        }
    }
    assert!(compared > 10, "figures compared: {compared}");
}

/// Every figure of the funder's statement is its settlement document's.
fn funder_figures_are_the_apis(driver: &Driver, key: &str) {
    let cells = driver.cells("tr[data-period] td[data-figure]", &["data-figure"]);
    let periods = driver.cells("tr[data-period]", &["data-period"]);
    assert_eq!(periods.len(), 1, "one row per settled period");
    let per_row = cells.len() / periods.len();
    let italian = driver.italian();
    for (row, (names, _)) in periods.iter().enumerate() {
        let period = &names[0];
        let settlement = driver.api(
            key,
            &format!("/v1/contracts/{CONTRACT}/settlements/{period}"),
        );
        let funder = &settlement["document"]["funder"];
        for (names, shown) in &cells[row * per_row..(row + 1) * per_row] {
            let figure = &names[0];
            let expected = match figure.as_str() {
                "accrued_in_period" => funder["accrual"]["amount"].clone(),
                "achievement_index" => funder["achievement"]["index"].clone(),
                "annual_rate" => funder["achievement"]["annual_rate"].clone(),
                other => funder["statement"][other].clone(),
            };
            let (value, decimals) = figure_of(shown, italian).expect("a figure");
            assert_eq!(
                Some(value),
                api_figure(&expected, decimals),
                "{period} {figure}: the page shows {shown}, the document {expected}"
            );
        }
    }
}

/// An amount as the Italian pages write it: `11.764,00 €`.
fn italian_money(amount: &str) -> String {
    let (whole, cents) = amount.split_once('.').unwrap_or((amount, "00"));
    let (sign, digits) = whole
        .strip_prefix('-')
        .map_or(("", whole), |rest| ("-", rest));
    let mut grouped = String::new();
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index) % 3 == 0 {
            grouped.push('.');
        }
        grouped.push(digit);
    }
    format!("{sign}{grouped},{cents} €")
}
