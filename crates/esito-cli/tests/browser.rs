//! The screens in a real headless Chromium (Debian's `chromium`, driven over the DevTools
//! protocol): every page checked for console errors, failed requests, broken links and images,
//! its full-page screenshot saved under `target/screenshots/`, its figures compared with the
//! API's. Skipped with a loud message only when Chromium is missing outside `.ci/run`.

mod browser_harness;

use browser_harness::{chromium_or_skip, Driver, Service, CONTRACT};
use serde_json::json;

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
        &json!({"period": "2023-Q3", "event_id": "0b6f2c1e-9a57-4d0e-8f4f-3c2b1a0d9e01"}),
    );
    assert_eq!(status, 201, "the calculation: {body}");
    let settlement = driver.api(
        &payer,
        &format!("/v1/contracts/{CONTRACT}/settlements/2023-Q3"),
    );
    let total = settlement["document"]["total"]
        .as_str()
        .expect("a total")
        .to_owned();

    driver.use_bearer_key(&payer);
    driver.open(&format!(
        "/v1/contracts/{CONTRACT}/settlements/2023-Q3/html"
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
