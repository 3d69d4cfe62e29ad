//! Kitchen: admission control (503 + Retry-After), cooking to ready, expiry of unpaid orders.
//! Stations, workers, dead letters and live events have their own modules.

use std::time::{Duration, Instant};

use serde_json::{json, Value};
use wiremock::{
    matchers::{method, path},
    Mock, ResponseTemplate,
};

use crate::helpers::{order_body, spawn_app_with, uuid_key, TestApp};

pub async fn mount_approving_gateway(app: &TestApp, expected_calls: u64) {
    Mock::given(method("POST"))
        .and(path("/charges"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"status":"approved","charge_id":"ch_1"})),
        )
        .expect(expected_calls)
        .mount(&app.gateway)
        .await;
}

/// How long a wait for a state the server reaches by itself may last: far more than it needs,
/// so a loaded machine only makes a passing test slower.
pub const PATIENCE: Duration = Duration::from_secs(60);

pub async fn wait_for_status(app: &TestApp, id: &str, wanted: &str) -> Value {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let (_, order) = app.get_json(&format!("/orders/{id}")).await;
        if order["status"] == wanted {
            return order;
        }
        assert!(
            Instant::now() < deadline,
            "order never became {wanted}: {order}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Waits until the `/metrics` series reads `want`. The kitchen counts what a commit did once the
/// commit is confirmed, a moment after the order's new status can be read: a loaded machine can
/// stretch that moment past the test's next request.
pub async fn wait_for_metric(app: &TestApp, series: &str, want: f64) {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let got = app.metric(series).await;
        if got == want {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{series} stayed {got}, never {want}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn stock(app: &TestApp, store: &str, sku: &str) -> (i64, i64) {
    let item = app.stock_item(store, sku).await;
    (
        item["on_hand"].as_i64().unwrap(),
        item["reserved"].as_i64().unwrap(),
    )
}

#[tokio::test]
async fn a_full_kitchen_sheds_new_orders_with_503_and_retry_after_at_once() {
    let app = spawn_app_with(|c| c.kitchen_backlog = 3).await;
    for _ in 0..3 {
        app.create_order().await;
    }
    let mut latencies = Vec::new();
    for _ in 0..21 {
        let started = Instant::now();
        let response = app
            .post_order(&order_body("store-1", "latte", 1), Some(&uuid_key()))
            .await;
        latencies.push(started.elapsed());
        assert_eq!(response.status(), 503);
        let retry_after: u64 = response.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((1..=60).contains(&retry_after));
        let error: Value = response.json().await.unwrap();
        assert_eq!(error["error"]["code"], "kitchen_full");
    }
    latencies.sort();
    // "At once": not after waiting for a slot, which these unpaid orders hold until they expire
    // (120 s) or the request times out (20 s). The spec's 10 ms is a figure, measured by
    // bench/server.sh ("p99 of 503s"); here the bounds only tell shedding from waiting, with room
    // for a loaded machine (the median, since it may stall any one request).
    assert!(
        latencies[10] < Duration::from_millis(250),
        "median shed latency {:?}",
        latencies[10]
    );
    assert!(
        latencies[20] < Duration::from_secs(5),
        "slowest shed {:?}",
        latencies[20]
    );
    assert_eq!(app.metric("kitchen_shed_total").await, 21.0);
    assert_eq!(app.metric("kitchen_backlog").await, 3.0);
    assert_eq!(
        app.metric("http_requests_total{method=\"POST\",route=\"/orders\",status=\"503\"}")
            .await,
        21.0
    );
}

#[tokio::test]
async fn a_paid_order_is_cooked_to_ready_and_its_history_says_who_did_what() {
    let app = spawn_app_with(|_| {}).await;
    mount_approving_gateway(&app, 1).await;
    let order = app.create_order().await;
    let id = order["id"].as_str().unwrap();
    assert_eq!(stock(&app, "store-1", "latte").await, (999_998, 2));
    assert_eq!(app.pay(id, "tok_visa").await.status(), 200);
    wait_for_status(&app, id, "ready").await;
    let (_, history) = app.get_json(&format!("/orders/{id}/history")).await;
    let events: Vec<(String, String)> = history["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["status"].as_str().unwrap().to_owned(),
                e["by"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let statuses: Vec<&str> = events.iter().map(|(s, _)| s.as_str()).collect();
    assert_eq!(statuses, ["received", "paid", "preparing", "ready"]);
    assert_eq!(
        (events[0].1.as_str(), events[1].1.as_str()),
        ("api", "payments")
    );
    let worker = &events[2].1;
    assert!(
        worker.starts_with("counter-"),
        "a takeout order is made at the counter: {worker}"
    );
    assert_eq!(
        &events[3].1, worker,
        "the worker who started it finished it"
    );
    assert_eq!(history["events"][2]["attempt"], 1);
    assert!(history["events"][0]["at"].as_str().unwrap().ends_with('Z'));
    assert_eq!(
        stock(&app, "store-1", "latte").await,
        (999_998, 0),
        "the stock was consumed"
    );
    wait_for_metric(&app, "kitchen_backlog", 0.0).await;
}

#[tokio::test]
async fn an_unpaid_order_expires_and_gives_back_its_slot_and_stock() {
    let app = spawn_app_with(|c| {
        c.kitchen_backlog = 1;
        // Long enough that the order is surely still unpaid (and holding the only slot) when the
        // next one comes, however slow the machine; short enough to wait for.
        c.unpaid_expiry_ms = 2_000;
    })
    .await;
    let order = app.create_order().await;
    assert_eq!(
        app.post_order(&order_body("store-1", "latte", 1), Some(&uuid_key()))
            .await
            .status(),
        503
    );
    wait_for_status(&app, order["id"].as_str().unwrap(), "expired").await;
    assert_eq!(stock(&app, "store-1", "latte").await, (1_000_000, 0));
    let deadline = Instant::now() + PATIENCE;
    while app.metric("kitchen_backlog").await != 0.0 {
        assert!(Instant::now() < deadline, "the slot was never given back");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        app.post_order(&order_body("store-1", "latte", 1), Some(&uuid_key()))
            .await
            .status(),
        201
    );
    let response = app.pay(order["id"].as_str().unwrap(), "tok_visa").await;
    assert_eq!(response.status(), 409, "an expired order cannot be paid");
}

#[tokio::test]
async fn with_pay_at_pickup_an_order_is_cooked_without_waiting_for_payment() {
    let app = spawn_app_with(|c| c.cook_on = reference_server::CookOn::Received).await;
    let order = app.create_order().await;
    wait_for_status(&app, order["id"].as_str().unwrap(), "ready").await;
    wait_for_metric(&app, "kitchen_ready_total", 1.0).await;
}
