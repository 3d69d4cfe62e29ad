//! Graceful shutdown: in-flight work finishes and is durable.

use std::time::Duration;

use serde_json::json;
use wiremock::{matchers::method, Mock, ResponseTemplate};

use crate::helpers::{spawn_app_with, start, test_config};

#[tokio::test]
async fn graceful_shutdown_finishes_a_payment_in_flight_and_keeps_it() {
    let mut app = spawn_app_with(|c| c.prep_time_ms = 60_000).await;
    Mock::given(method("POST"))
        .respond_with(
            ResponseTemplate::new(200)
                .set_body_json(json!({"status":"approved","charge_id":"ch_1"}))
                .set_delay(Duration::from_millis(700)),
        )
        .expect(1)
        .mount(&app.gateway)
        .await;
    let order = app.create_order().await;
    let id = order["id"].as_str().unwrap().to_owned();
    let payment = {
        let (client, url) = (
            app.client.clone(),
            app.url(&format!("/orders/{id}/payments")),
        );
        tokio::spawn(async move {
            client
                .post(url)
                .json(&json!({"method":"card","card_token":"tok_visa"}))
                .send()
                .await
        })
    };
    // The payment is in flight once the gateway has its call (it answers 700 ms later).
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while app
        .gateway
        .received_requests()
        .await
        .unwrap_or_default()
        .is_empty()
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the gateway never got the call"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    app.trigger_stop();
    let response = payment
        .await
        .unwrap()
        .expect("the in-flight request is answered");
    assert_eq!(response.status(), 200);
    let server = app.server.take().unwrap();
    tokio::time::timeout(crate::kitchen::PATIENCE, server)
        .await
        .expect("stops within the grace period")
        .unwrap()
        .unwrap();
    assert!(
        app.client.get(app.url("/health")).send().await.is_err(),
        "no longer accepting"
    );

    let mut config = test_config(app.data_dir.path(), &app.gateway.uri());
    config.prep_time_ms = 60_000;
    let (address, _stop, _server) = start(config).await;
    let order: serde_json::Value = app
        .client
        .get(format!("{address}/orders/{id}"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        ["paid", "preparing"].contains(&order["status"].as_str().unwrap()),
        "{order}"
    );
}
