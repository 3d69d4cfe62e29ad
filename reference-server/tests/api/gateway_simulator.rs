//! The bundled payment gateway simulator, driven through the server and directly.

use serde_json::{json, Value};

use reference_server::{GatewayConfig, GatewaySimulator};

use crate::helpers::{client, spawn_app_with};

async fn start_gateway(decline_rate: f64) -> String {
    let gateway = GatewaySimulator::build(GatewayConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        latency_median_ms: 2,
        latency_p99_ms: 10,
        decline_rate,
        failure_rate: 0.0,
        seed: Some(7),
    })
    .await
    .unwrap();
    let address = format!("http://{}", gateway.local_addr());
    tokio::spawn(gateway.run_until_stopped(std::future::pending()));
    address
}

#[tokio::test]
async fn the_simulator_approves_declines_and_answers_a_repeated_payment_id_the_same() {
    let gateway = start_gateway(0.0).await;
    let app = spawn_app_with(|c| c.payment_gateway_url = gateway.clone()).await;
    let first = app.create_order().await;
    assert_eq!(
        app.pay(first["id"].as_str().unwrap(), "tok_visa")
            .await
            .status(),
        200
    );
    let second = app.create_order().await;
    assert_eq!(
        app.pay(second["id"].as_str().unwrap(), "tok_chargeDeclined")
            .await
            .status(),
        402
    );

    let charge =
        json!({"payment_id":"pay_1","order_id":"o","amount_cents":100,"card_token":"tok_visa"});
    let mut answers = Vec::new();
    for _ in 0..2 {
        let response = client()
            .post(format!("{gateway}/charges"))
            .header("Idempotency-Key", "pay_1")
            .json(&charge)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        answers.push(response.json::<Value>().await.unwrap());
    }
    assert_eq!(
        answers[0]["charge_id"], answers[1]["charge_id"],
        "charged once"
    );
}

#[tokio::test]
async fn the_simulator_declines_the_configured_share() {
    let gateway = start_gateway(1.0).await;
    let response = client()
        .post(format!("{gateway}/charges"))
        .json(&json!({"payment_id":"p","order_id":"o","amount_cents":1,"card_token":"tok_visa"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 402);
}
