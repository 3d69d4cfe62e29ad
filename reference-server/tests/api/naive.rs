//! The naive profile: no cache, no admission control, a commit per write, no payment timeout.

use crate::helpers::{order_body, spawn_app_with, uuid_key};
use reference_server::Profile;

#[tokio::test]
async fn the_naive_profile_reads_the_store_for_every_menu_request() {
    let app = spawn_app_with(|c| c.profile = Profile::Naive).await;
    let readers = (0..50).map(|_| app.client.get(app.url("/menu")).send());
    for response in futures::future::join_all(readers).await {
        assert_eq!(response.unwrap().status(), 200);
    }
    assert_eq!(app.metric("menu_store_reads_total").await, 50.0);
}

#[tokio::test]
async fn the_naive_profile_never_sheds_and_commits_every_write_alone() {
    let app = spawn_app_with(|c| {
        c.profile = Profile::Naive;
        c.kitchen_backlog = 2;
    })
    .await;
    let commits_before = app.metric("db_commits_total").await;
    let body = order_body("store-1", "tea", 1);
    let orders = (0..30).map(|_| {
        let (app, body) = (&app, &body);
        async move { app.post_order(body, Some(&uuid_key())).await }
    });
    for response in futures::future::join_all(orders).await {
        assert_eq!(response.status(), 201, "naive admits everything");
    }
    let commits = app.metric("db_commits_total").await - commits_before;
    assert_eq!(commits, 30.0, "one commit per order");
    assert_eq!(app.metric("kitchen_backlog_capacity").await, -1.0);
}

/// Without a payment timeout, a hung gateway holds the request until the request timeout; the
/// payment still completes behind it and is settled, so the order is not left half-paid.
#[tokio::test]
async fn the_naive_profile_waits_on_a_slow_gateway_until_the_request_timeout() {
    use std::time::Duration;
    use wiremock::{matchers::method, Mock, ResponseTemplate};

    let app = spawn_app_with(|c| {
        c.profile = Profile::Naive;
        c.payment_timeout_ms = 100;
        // Long enough for the test's other requests, however slow the machine.
        c.request_timeout_ms = 2_000;
    })
    .await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(serde_json::json!({"status":"approved","charge_id":"ch_1"}))
                .set_delay(Duration::from_millis(4_000)),
        )
        .expect(1)
        .mount(&app.gateway)
        .await;
    let order = app.create_order().await;
    let id = order["id"].as_str().unwrap();
    let started = std::time::Instant::now();
    let response = app.pay(id, "tok_visa").await;
    assert_eq!(
        response.status(),
        503,
        "cut by the request timeout, not by a payment timeout"
    );
    assert!(started.elapsed() >= Duration::from_millis(1_950));
    let deadline = std::time::Instant::now() + crate::kitchen::PATIENCE;
    loop {
        let (_, order) = app.get_json(&format!("/orders/{id}")).await;
        if order["status"] != "received" {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the payment was never settled"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
