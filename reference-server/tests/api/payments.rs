//! Payments against a wiremock gateway: approve, decline, timeout, circuit breaker, never charging twice.

use std::time::Duration;

use serde_json::{json, Value};
use wiremock::{
    matchers::{header_exists, method, path},
    Mock, ResponseTemplate,
};

use crate::{helpers::spawn_app_with, kitchen::mount_approving_gateway};

#[tokio::test]
async fn an_approved_payment_marks_the_order_paid_and_charges_the_order_total() {
    let app = spawn_app_with(|c| c.prep_time_ms = 60_000).await;
    Mock::given(method("POST"))
        .and(path("/charges"))
        .and(header_exists("idempotency-key"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"status":"approved","charge_id":"ch_9"})),
        )
        .expect(1)
        .mount(&app.gateway)
        .await;
    let order = app.create_order().await;
    let id = order["id"].as_str().unwrap();
    let response = app.pay(id, "tok_visa").await;
    assert_eq!(response.status(), 200);
    let paid: Value = response.json().await.unwrap();
    assert_eq!(paid["status"], "paid");
    assert_eq!(paid["amount_cents"], order["total_cents"]);
    let charge: Value = app.gateway.received_requests().await.unwrap()[0]
        .body_json()
        .unwrap();
    assert_eq!(charge["amount_cents"], 900);
    assert_eq!(charge["payment_id"], paid["payment_id"]);
}

#[tokio::test]
async fn paying_twice_is_refused_and_charges_once() {
    let app = spawn_app_with(|_| {}).await;
    mount_approving_gateway(&app, 1).await;
    let order = app.create_order().await;
    let id = order["id"].as_str().unwrap();
    let (first, second) = tokio::join!(app.pay(id, "tok_visa"), app.pay(id, "tok_visa"));
    let mut statuses = [first.status().as_u16(), second.status().as_u16()];
    statuses.sort();
    assert_eq!(statuses, [200, 409]);
    assert_eq!(app.pay(id, "tok_visa").await.status(), 409);
}

#[tokio::test]
async fn a_declined_card_is_a_402_and_a_later_payment_may_succeed() {
    let app = spawn_app_with(|_| {}).await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(402)
                .set_body_json(json!({"status":"declined","reason":"card declined"})),
        )
        .up_to_n_times(1)
        .expect(1)
        .mount(&app.gateway)
        .await;
    mount_approving_gateway(&app, 1).await;
    let order = app.create_order().await;
    let id = order["id"].as_str().unwrap();
    let declined = app.pay(id, "tok_chargeDeclined").await;
    assert_eq!(declined.status(), 402);
    let error: Value = declined.json().await.unwrap();
    assert_eq!(error["error"]["code"], "payment_declined");
    assert_eq!(app.pay(id, "tok_visa").await.status(), 200);
}

#[tokio::test]
async fn a_gateway_slower_than_the_timeout_is_a_504_and_the_retry_reuses_the_payment_id() {
    // 2 s: long enough that the retry's prompt answer is never cut, however slow the machine.
    let app = spawn_app_with(|c| c.payment_timeout_ms = 2_000).await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"status":"approved","charge_id":"ch_slow"}))
                .set_delay(Duration::from_secs(20)),
        )
        .up_to_n_times(1)
        .mount(&app.gateway)
        .await;
    mount_approving_gateway(&app, 1).await;
    let order = app.create_order().await;
    let id = order["id"].as_str().unwrap();
    let started = std::time::Instant::now();
    assert_eq!(app.pay(id, "tok_visa").await.status(), 504);
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "the timeout did not cut the call: {:?}",
        started.elapsed()
    );
    assert_eq!(app.pay(id, "tok_visa").await.status(), 200);
    let requests = app.gateway.received_requests().await.unwrap();
    let ids: Vec<Value> = requests
        .iter()
        .map(|r| r.body_json::<Value>().unwrap()["payment_id"].clone())
        .collect();
    assert_eq!(ids.len(), 2);
    assert_eq!(ids[0], ids[1], "the gateway can deduplicate the retry");
}

#[tokio::test]
async fn a_failing_gateway_opens_the_circuit_and_payments_get_503_without_calling_it() {
    let app = spawn_app_with(|c| {
        c.breaker_threshold = 3;
        c.breaker_cooldown_ms = 60_000;
    })
    .await;
    Mock::given(method("POST"))
        .respond_with(ResponseTemplate::new(500))
        .expect(3)
        .mount(&app.gateway)
        .await;
    let order = app.create_order().await;
    let id = order["id"].as_str().unwrap();
    for _ in 0..3 {
        assert_eq!(app.pay(id, "tok_visa").await.status(), 502);
    }
    for _ in 0..5 {
        let response = app.pay(id, "tok_visa").await;
        assert_eq!(response.status(), 503);
        let retry_after: u64 = response.headers()["retry-after"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!((1..=60).contains(&retry_after), "{retry_after}");
    }
    assert_eq!(
        app.metric("payment_gateway_outcomes_total{outcome=\"circuit_open\"}")
            .await,
        5.0
    );
    assert_eq!(app.metric("payment_circuit_state").await, 1.0);
}

#[tokio::test]
async fn paying_an_unknown_order_is_a_404_and_a_bad_body_a_422() {
    let app = spawn_app_with(|_| {}).await;
    assert_eq!(app.pay("no-such-order", "tok_visa").await.status(), 404);
    let order = app.create_order().await;
    let url = app.url(&format!(
        "/orders/{}/payments",
        order["id"].as_str().unwrap()
    ));
    let response = app
        .client
        .post(url)
        .json(&json!({"method":"cash"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 422);
    let error: Value = response.json().await.unwrap();
    let fields: Vec<&str> = error["error"]["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["method", "card_token"]);
}
