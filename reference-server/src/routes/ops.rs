//! Operations: `/health` (process up), `/ready` (store writable), `/metrics`, `/openapi.json`.

use std::time::Duration;

use axum::{
    extract::State,
    http::header,
    response::{IntoResponse, Response},
    routing::get,
    Json, Router,
};
use serde_json::json;

use crate::{error::ApiError, state::AppState};

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/health", get(|| async { Json(json!({"status": "ok"})) }))
        .route("/ready", get(ready))
        .route("/metrics", get(metrics))
        .route("/openapi.json", get(openapi))
}

/// Ready when the writer commits a (no-op) command within a second and the server is not stopping.
async fn ready(State(app): State<AppState>) -> Response {
    let writable = !app.stopping.is_cancelled()
        && matches!(
            tokio::time::timeout(Duration::from_secs(1), app.store.write(|_| Ok(()))).await,
            Ok(Ok(()))
        );
    if writable {
        Json(json!({"status": "ready"})).into_response()
    } else {
        ApiError::Unavailable {
            code: "not_ready",
            message: "the server is starting, stopping, or its store is not writable".into(),
            retry_after: Duration::from_secs(1),
        }
        .into_response()
    }
}

async fn metrics(State(app): State<AppState>) -> impl IntoResponse {
    app.kitchen.publish_metrics();
    let text = app.metrics.render();
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text)
}

async fn openapi(State(app): State<AppState>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/json")],
        app.openapi.clone(),
    )
}
