//! Operations: `/health` (process up), `/ready` (store writable), `/metrics`, `/openapi.json`.

use std::time::Duration;

use axum::{
    extract::State,
    http::{header, StatusCode},
    response::IntoResponse,
    routing::get,
    Json, Router,
};
use serde_json::json;

use crate::startup::AppState;

const OPENAPI: &str = include_str!("../openapi.json");

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/health", get(|| async { Json(json!({"status": "ok"})) }))
        .route("/ready", get(ready))
        .route("/metrics", get(metrics))
        .route(
            "/openapi.json",
            get(|| async { ([(header::CONTENT_TYPE, "application/json")], OPENAPI) }),
        )
}

/// Ready when the writer commits a (no-op) command within a second and the server is not stopping.
async fn ready(State(app): State<AppState>) -> impl IntoResponse {
    let writable = !app.stopping.is_cancelled()
        && matches!(
            tokio::time::timeout(Duration::from_secs(1), app.store.write(|_| Ok(()))).await,
            Ok(Ok(()))
        );
    if writable {
        (StatusCode::OK, Json(json!({"status": "ready"})))
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({"status": "not_ready"})),
        )
    }
}

async fn metrics(State(app): State<AppState>) -> impl IntoResponse {
    let mut text = app.metrics.render();
    app.kitchen.render_metrics(&mut text);
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text)
}
