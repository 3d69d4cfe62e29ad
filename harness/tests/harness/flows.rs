//! Flows and captures against a wiremock backend: exact request counts and
//! bodies, a capture used in the next step's path, idempotency keys unique
//! per iteration, polls bounded, and outcomes counted as the report needs.
//!
//! The open model makes counts exact: a 0 → 10/s ramp over 1 s holds exactly
//! 5 arrivals, each one iteration of the flow.

use crate::helpers::{report_dir, request, run_cli, summary, write_scenario};
use std::collections::BTreeSet;
use std::path::Path;
use wiremock::matchers::{method, path, path_regex};
use wiremock::{Mock, MockServer, ResponseTemplate};

fn scenario(steps: &str) -> String {
    format!(
        r#"name = "flows"
seed = 7

[load]
model = "open"
timeout = "2s"
[[load.stages]]
duration = "1s"
rate = 10

[data]
store = ["store-1", "store-2"]

[[flows]]
name = "order-and-track"
{steps}"#
    )
}

const ORDER_AND_TRACK: &str = r#"
[[flows.steps]]
method = "POST"
path = "/orders"
headers = { "Idempotency-Key" = "{{idempotency_key}}" }
body = { store_id = "{{store}}", customer = { name = "Ada" }, items = [{ sku = "{{random:latte,mocha}}", quantity = "{{int:1,3}}" }] }
expect = [201]
capture = { order_id = "/id" }

[[flows.steps]]
method = "GET"
path = "/orders/{{order_id}}"
headers = { "Idempotency-Key" = "{{idempotency_key}}" }
"#;

async fn run(dir: &Path, text: &str, backend: &MockServer) -> (u8, serde_json::Value) {
    let file = write_scenario(dir, "flows.toml", text);
    let (code, out) = run_cli(&[
        "run",
        file.to_str().unwrap(),
        "--target",
        &backend.uri(),
        "--reports-dir",
        dir.join("reports").to_str().unwrap(),
    ])
    .await;
    (code, summary(&report_dir(&out)))
}

#[tokio::test]
async fn each_iteration_posts_an_order_then_reads_it_back_by_its_captured_id() {
    let backend = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/orders"))
        .respond_with(
            ResponseTemplate::new(201)
                .set_body_json(serde_json::json!({"id": "ord-42", "status": "received"})),
        )
        .expect(5)
        .mount(&backend)
        .await;
    Mock::given(method("GET"))
        .and(path("/orders/ord-42"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(serde_json::json!({"id": "ord-42", "status": "ready"})),
        )
        .expect(5)
        .mount(&backend)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let (code, s) = run(dir.path(), &scenario(ORDER_AND_TRACK), &backend).await;
    assert!(code == 0 || code == 4, "exit code {code}");
    assert_eq!(request(&s, "POST /orders")["count"], 5);
    assert_eq!(request(&s, "GET /orders/{{order_id}}")["ok"], 5);
    backend.verify().await;

    let received = backend.received_requests().await.unwrap();
    let key = |r: &wiremock::Request| {
        r.headers
            .get("idempotency-key")
            .unwrap()
            .to_str()
            .unwrap()
            .to_string()
    };
    let posts: Vec<_> = received
        .iter()
        .filter(|r| r.method.as_str() == "POST")
        .collect();
    let keys: BTreeSet<String> = posts.iter().map(|r| key(r)).collect();
    assert_eq!(keys.len(), 5, "one idempotency key per iteration: {keys:?}");
    let get_keys: BTreeSet<String> = received
        .iter()
        // Not the harness's own read of /metrics after the load.
        .filter(|r| r.method.as_str() == "GET" && r.url.path() != "/metrics")
        .map(key)
        .collect();
    assert_eq!(get_keys, keys, "the steps of an iteration share its key");
    for post in posts {
        let body: serde_json::Value = serde_json::from_slice(&post.body).unwrap();
        assert!(
            ["store-1", "store-2"].contains(&body["store_id"].as_str().unwrap()),
            "{body}"
        );
        assert!(
            ["latte", "mocha"].contains(&body["items"][0]["sku"].as_str().unwrap()),
            "{body}"
        );
        let qty = body["items"][0]["quantity"]
            .as_i64()
            .expect("{{int:..}} alone is sent as a number");
        assert!((1..=3).contains(&qty), "{body}");
        assert_eq!(body["customer"]["name"], "Ada");
        assert_eq!(
            post.headers.get("content-type").unwrap(),
            "application/json"
        );
    }
}

/// A backend that creates five orders, all "ord-1", then answers the looks at
/// it in turn with `looks` (the last one for every look after them).
async fn tracked_order(looks: Vec<ResponseTemplate>) -> MockServer {
    let backend = MockServer::start().await;
    Mock::given(method("POST"))
        .and(path("/orders"))
        .respond_with(ResponseTemplate::new(201).set_body_json(serde_json::json!({"id": "ord-1"})))
        .expect(5)
        .mount(&backend)
        .await;
    let last = looks.len().saturating_sub(1);
    for (i, answer) in looks.into_iter().enumerate() {
        let mock = Mock::given(method("GET"))
            .and(path("/orders/ord-1"))
            .respond_with(answer);
        let mock = if i < last {
            mock.up_to_n_times(1)
        } else {
            mock
        };
        mock.mount(&backend).await;
    }
    backend
}

/// The order as the board shows it.
fn board(status: &str) -> ResponseTemplate {
    ResponseTemplate::new(200).set_body_json(serde_json::json!({ "status": status }))
}

/// The order flow, looking at the order at most three times until it is ready.
fn poll_steps() -> String {
    ORDER_AND_TRACK.to_string()
        + "until = { pointer = \"/status\", equals = \"ready\", every = \"10ms\", max = 3 }\n"
}

#[tokio::test]
async fn a_poll_repeats_until_its_bound_and_a_state_that_never_comes_is_an_error() {
    let backend = tracked_order(vec![board("preparing")]).await;
    let dir = tempfile::tempdir().unwrap();
    let (_, s) = run(dir.path(), &scenario(&poll_steps()), &backend).await;
    let track = request(&s, "GET /orders/{{order_id}}");
    assert_eq!(track["count"], 15, "five flows, three looks each");
    assert_eq!(track["http_errors"], 5, "each flow's last look is an error");
    assert_eq!(track["gave_up"], 5, "and is counted as a poll that gave up");
    backend.verify().await;
}

#[tokio::test]
async fn a_status_that_ends_the_flow_on_a_polls_last_look_is_no_error() {
    // The order is looked at until ready; a 410 (gone: refunded) ends the
    // flow, on the first look or the last alike.
    let backend = tracked_order(vec![ResponseTemplate::new(410)]).await;
    let steps = ORDER_AND_TRACK.to_string()
        + "until = { pointer = \"/status\", equals = \"ready\", every = \"10ms\", max = 1 }\n"
        + "expect = [200, 410]\nend_flow_on = [410]\n";
    let dir = tempfile::tempdir().unwrap();
    let (_, s) = run(dir.path(), &scenario(&steps), &backend).await;
    let track = request(&s, "GET /orders/{{order_id}}");
    assert_eq!(track["count"], 5);
    assert_eq!(track["http_errors"], 0, "{track}");
    assert_eq!(track["gave_up"], 0, "{track}");
    backend.verify().await;
}

#[tokio::test]
async fn a_poll_that_sees_its_state_stops_looking_and_is_no_error() {
    // The first look sees "preparing", the next ones "ready".
    let backend = tracked_order(vec![board("preparing"), board("ready")]).await;
    let dir = tempfile::tempdir().unwrap();
    let (_, s) = run(dir.path(), &scenario(&poll_steps()), &backend).await;
    let track = request(&s, "GET /orders/{{order_id}}");
    assert_eq!(track["count"], 6, "one flow looked twice, the others once");
    assert_eq!(track["http_errors"], 0);
    backend.verify().await;
}

#[tokio::test]
async fn an_unexpected_status_ends_the_iteration_and_a_503_counts_as_shed() {
    let backend = MockServer::start().await;
    // Three orders are refused with 500, then two shed with 503: no GET follows either.
    Mock::given(method("POST"))
        .and(path("/orders"))
        .respond_with(ResponseTemplate::new(500))
        .up_to_n_times(3)
        .expect(3)
        .mount(&backend)
        .await;
    Mock::given(method("POST"))
        .and(path("/orders"))
        .respond_with(ResponseTemplate::new(503).insert_header("retry-after", "1"))
        .expect(2)
        .mount(&backend)
        .await;
    Mock::given(method("GET"))
        .and(path_regex("^/orders/"))
        .respond_with(ResponseTemplate::new(200))
        .expect(0)
        .mount(&backend)
        .await;
    let dir = tempfile::tempdir().unwrap();
    let (code, s) = run(dir.path(), &scenario(ORDER_AND_TRACK), &backend).await;
    let orders = request(&s, "POST /orders");
    assert_eq!(orders["count"], 5);
    assert_eq!(orders["http_errors"], 3);
    assert_eq!(orders["shed"], 2);
    assert_eq!(orders["statuses"]["503"], 2);
    // No gate was set, so errors alone do not fail the run (4 would mean the
    // generator was late on this busy machine, which these counts do not depend on).
    assert!(code == 0 || code == 4, "exit code {code}");
    backend.verify().await;
}

#[tokio::test]
async fn the_same_seed_sends_the_same_requests() {
    let mut bodies = Vec::new();
    for _ in 0..2 {
        let backend = MockServer::start().await;
        Mock::given(method("POST"))
            .respond_with(ResponseTemplate::new(201).set_body_json(serde_json::json!({"id": "o"})))
            .mount(&backend)
            .await;
        Mock::given(method("GET"))
            .and(path_regex("^/orders/"))
            .respond_with(ResponseTemplate::new(200))
            .mount(&backend)
            .await;
        let dir = tempfile::tempdir().unwrap();
        run(dir.path(), &scenario(ORDER_AND_TRACK), &backend).await;
        let mut sent: Vec<String> = backend
            .received_requests()
            .await
            .unwrap()
            .iter()
            .filter(|r| r.method.as_str() == "POST")
            .map(|r| String::from_utf8_lossy(&r.body).into_owned())
            .collect();
        sent.sort();
        assert_eq!(sent.len(), 5);
        bodies.push(sent);
    }
    assert_eq!(bodies[0], bodies[1], "a run is repeatable from its seed");
}

#[tokio::test]
async fn a_status_that_ends_the_flow_is_no_error_and_nothing_follows_it() {
    let backend = MockServer::start().await;
    // Every card is declined: the customers leave instead of watching the board.
    Mock::given(method("POST"))
        .and(path("/orders"))
        .respond_with(ResponseTemplate::new(402))
        .expect(5)
        .mount(&backend)
        .await;
    Mock::given(method("GET"))
        .and(path_regex("^/orders/"))
        .respond_with(ResponseTemplate::new(200))
        .expect(0)
        .mount(&backend)
        .await;
    let steps =
        ORDER_AND_TRACK.replace("expect = [201]", "expect = [201, 402]\nend_flow_on = [402]");
    let dir = tempfile::tempdir().unwrap();
    let (_, s) = run(dir.path(), &scenario(&steps), &backend).await;
    let orders = request(&s, "POST /orders");
    assert_eq!(orders["count"], 5);
    assert_eq!(orders["http_errors"], 0);
    backend.verify().await;
}
