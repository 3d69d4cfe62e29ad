//! Operations routes: health, readiness, metrics, OpenAPI document, request ids, limits.

use serde_json::Value;

use crate::helpers::{spawn_app, spawn_app_with};

#[tokio::test]
async fn health_and_ready_answer_ok() {
    let app = spawn_app().await;
    assert_eq!(
        app.get_json("/health").await,
        (200, serde_json::json!({"status":"ok"}))
    );
    assert_eq!(app.get_json("/ready").await.0, 200);
}

#[tokio::test]
async fn metrics_count_requests_by_route_template_and_status() {
    let app = spawn_app().await;
    app.create_order().await;
    app.get_json("/orders/does-not-exist").await;
    let text = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        text.contains("http_requests_total{method=\"POST\",route=\"/orders\",status=\"201\"} 1"),
        "{text}"
    );
    assert!(text
        .contains("http_requests_total{method=\"GET\",route=\"/orders/{id}\",status=\"404\"} 1"));
    assert!(text.contains("http_request_duration_seconds_bucket{method=\"POST\",route=\"/orders\",status=\"201\",le=\"+Inf\"} 1"));
    for series in [
        "db_commits_total",
        "db_writes_total",
        "kitchen_queue_depth",
        "kitchen_shed_total",
        "menu_store_reads_total",
    ] {
        assert!(text.contains(&format!("\n{series} ")), "missing {series}");
    }
    assert!(text.contains("payment_gateway_outcomes_total{outcome=\"approved\"} 0"));
}

#[tokio::test]
async fn the_openapi_document_describes_every_route() {
    let app = spawn_app().await;
    let (status, doc) = app.get_json("/openapi.json").await;
    assert_eq!(status, 200);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc["paths"].as_object().unwrap();
    for (route, verb) in [
        ("/menu", "get"),
        ("/admin/menu/{sku}", "put"),
        ("/orders", "post"),
        ("/orders/{id}", "get"),
        ("/orders/{id}/history", "get"),
        ("/orders/{id}/payments", "post"),
        ("/stores/{store}/inventory", "get"),
        ("/stores/{store}/inventory/adjustments", "post"),
        ("/health", "get"),
        ("/ready", "get"),
        ("/metrics", "get"),
        ("/openapi.json", "get"),
        ("/orders/{id}/events", "get"),
        ("/events", "get"),
        ("/workers", "get"),
        ("/admin/workers/{name}/stop", "post"),
        ("/admin/workers/{name}/start", "post"),
        ("/admin/kitchen", "put"),
        ("/admin/dead-letters", "get"),
        ("/admin/dead-letters/{id}/retry", "post"),
    ] {
        assert!(
            paths.get(route).and_then(|p| p.get(verb)).is_some(),
            "{verb} {route} is not described"
        );
    }
}

#[tokio::test]
async fn every_response_carries_a_request_id_and_a_client_id_is_kept() {
    let app = spawn_app().await;
    let response = app.client.get(app.url("/health")).send().await.unwrap();
    assert!(!response.headers()["x-request-id"].is_empty());
    let response = app
        .client
        .get(app.url("/health"))
        .header("x-request-id", "abc-123")
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["x-request-id"], "abc-123");
}

#[tokio::test]
async fn an_oversized_body_is_refused_and_an_unknown_route_is_a_404() {
    let app = spawn_app_with(|c| c.body_limit_bytes = 1024).await;
    let big = format!("{{\"store_id\":\"{}\"}}", "x".repeat(4096));
    let response = app
        .client
        .post(app.url("/orders"))
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 413);
    let (status, _): (u16, Value) = app.get_json("/no/such/route").await;
    assert_eq!(status, 404);
}
