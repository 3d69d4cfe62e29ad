//! The `until_event` step against the real bundled reference server: it waits on an order's
//! Server-Sent Event stream, is timed as one request from its start to the `ready` event, and a
//! wait that runs out counts as an error, as a poll that runs out does.

use crate::helpers::{report_dir, request, run_cli, summary, write_scenario};
use std::path::Path;

/// Five arrivals, each ordering (cooked at once, pay at pickup) and waiting for `ready`.
fn scenario(prep_ms: u64, wait: &str) -> String {
    format!(
        r#"name = "sse-wait"
seed = 7

[target]
profile = "default"
server_args = ["--cook-on", "received", "--prep-time-ms", "{prep_ms}"]

[load]
model = "open"
timeout = "10s"
[[load.stages]]
duration = "1s"
rate = 10

[[flows]]
name = "order-and-wait"
[[flows.steps]]
method = "POST"
path = "/orders"
headers = {{ "Idempotency-Key" = "{{{{idempotency_key}}}}" }}
body = {{ store_id = "store-1", customer = {{ name = "Ada" }}, order_type = {{ kind = "takeout" }}, items = [{{ sku = "latte", quantity = 1 }}] }}
expect = [201]
capture = {{ order_id = "/id" }}

[[flows.steps]]
method = "GET"
path = "/orders/{{{{order_id}}}}/events"
until_event = {{ pointer = "/status", equals = "ready", timeout = "{wait}" }}
"#
    )
}

async fn run(dir: &Path, text: &str) -> serde_json::Value {
    let file = write_scenario(dir, "sse-wait.toml", text);
    let reports = dir.join("reports");
    let (_, out) = run_cli(&[
        "run",
        file.to_str().unwrap(),
        "--reports-dir",
        reports.to_str().unwrap(),
    ])
    .await;
    summary(&report_dir(&out))
}

const WAIT: &str = "GET /orders/{{order_id}}/events";

#[tokio::test]
async fn an_event_wait_is_timed_from_its_start_to_the_ready_event() {
    let dir = tempfile::tempdir().unwrap();
    let s = run(dir.path(), &scenario(400, "20s")).await;
    let wait = request(&s, WAIT);
    assert_eq!(wait["count"], 5, "{wait}");
    assert_eq!(wait["errors"], 0, "{wait}");
    let p50 = wait["latency_ms"]["p50"].as_f64().unwrap();
    let max = wait["latency_ms"]["max"].as_f64().unwrap();
    assert!(
        p50 >= 390.0,
        "the wait lasts the preparation (400 ms), got p50 {p50} ms"
    );
    // Well before the 20 s the wait would last if it missed the event.
    assert!(
        max < 10_000.0,
        "and ends at the ready event, got max {max} ms"
    );
}

#[tokio::test]
async fn an_event_wait_that_runs_out_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let s = run(dir.path(), &scenario(10_000, "300ms")).await;
    let wait = request(&s, WAIT);
    assert_eq!(wait["count"], 5, "{wait}");
    assert_eq!(wait["http_errors"], 5, "every wait ran out: {wait}");
    assert_eq!(
        wait["timeouts"], 0,
        "a wait that runs out is not a transport timeout"
    );
    let p50 = wait["latency_ms"]["p50"].as_f64().unwrap();
    // Not until the order is ready (10 s): the 300 ms wait, and room for a loaded machine.
    assert!(
        (290.0..5_000.0).contains(&p50),
        "timed until the wait gave up, got {p50} ms"
    );
}

#[test]
fn an_event_wait_on_a_post_is_refused_naming_the_field() {
    let text = scenario(100, "5s").replace(
        "method = \"GET\"\npath = \"/orders/{{order_id}}/events\"",
        "method = \"POST\"\npath = \"/orders/{{order_id}}/events\"",
    );
    let e = harness::scenario::parse(&text, Path::new("scenarios/sse.toml")).expect_err("refused");
    assert_eq!(e.field, "flows[0].steps[1].until_event", "{e}");
    let text = scenario(100, "0s");
    let e = harness::scenario::parse(&text, Path::new("scenarios/sse.toml")).expect_err("refused");
    assert_eq!(e.field, "flows[0].steps[1].until_event.timeout", "{e}");
}
