//! Toxiproxy's HTTP API on axum: the same routes, methods, status codes and
//! bodies (201 on create and populate, 204 on delete and reset, 200 otherwise),
//! an `X-Toxiproxy-Request-Id` on every answer of a route, and `/metrics`.

use super::error::ApiError;
use super::registry::{ProxyInput, ProxyPatch, Registry};
use axum::body::Bytes;
use axum::extract::{Path, Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use std::sync::Arc;

type Shared = State<Arc<Registry>>;

/// The version `/version` reports: Toxiproxy's API level, then this crate.
pub const VERSION: &str = concat!("2.12.0+fault-proxy.", env!("CARGO_PKG_VERSION"));

pub(crate) fn router(registry: Arc<Registry>) -> Router {
    Router::new()
        .route("/reset", post(reset))
        .route("/proxies", get(list).post(create))
        .route("/populate", post(populate))
        .route(
            "/proxies/{proxy}",
            get(show).post(update).patch(update).delete(delete),
        )
        .route("/proxies/{proxy}/toxics", get(toxics).post(add_toxic))
        .route(
            "/proxies/{proxy}/toxics/{toxic}",
            get(show_toxic)
                .post(update_toxic)
                .patch(update_toxic)
                .delete(remove_toxic),
        )
        .route(
            "/proxies/{proxy}/toxics/{toxic}/requests",
            get(http_requests),
        )
        .route("/version", get(version))
        .route("/metrics", get(metrics))
        // Toxiproxy's router adds the id only on a route it matched.
        .route_layer(middleware::from_fn(request_id))
        .fallback(not_found)
        .layer(middleware::from_fn(stop_browsers))
        .with_state(registry)
}

/// Toxiproxy tags every answer with a fresh request id (an `xid`: 20 base32hex
/// characters, time first), as its logs do.
async fn request_id(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    if let Ok(value) = header::HeaderValue::from_str(&super::request_id::next()) {
        response
            .headers_mut()
            .insert("x-toxiproxy-request-id", value);
    }
    response
}

/// Toxiproxy refuses browsers so a web page cannot drive it (CSRF).
async fn stop_browsers(request: Request, next: Next) -> Response {
    let agent = request
        .headers()
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if agent.starts_with("Mozilla/") {
        return (StatusCode::FORBIDDEN, "User agent not allowed\n").into_response();
    }
    next.run(request).await
}

async fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        "404 page not found\n",
    )
        .into_response()
}

async fn version() -> Response {
    let body = format!("{{\"version\": \"{VERSION}\"}}\n");
    (
        [(header::CONTENT_TYPE, "application/json;charset=utf-8")],
        body,
    )
        .into_response()
}

async fn metrics(State(registry): Shared) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        registry.metrics.render(),
    )
        .into_response()
}

async fn http_requests(
    State(registry): Shared,
    Path((proxy, toxic)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    Ok(Json(registry.http_requests(&proxy, &toxic).await?).into_response())
}

async fn reset(State(registry): Shared) -> Result<StatusCode, ApiError> {
    registry.reset().await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn list(State(registry): Shared) -> Response {
    Json(registry.list().await).into_response()
}

async fn create(State(registry): Shared, body: Bytes) -> Result<Response, ApiError> {
    let input: ProxyInput = serde_json::from_slice(&body).map_err(ApiError::bad_body)?;
    let proxy = registry.create(input).await?;
    Ok((StatusCode::CREATED, Json(proxy)).into_response())
}

async fn populate(State(registry): Shared, body: Bytes) -> Response {
    let result = match serde_json::from_slice::<Vec<ProxyInput>>(&body) {
        Ok(inputs) => registry.populate(inputs).await,
        Err(e) => Err(ApiError::bad_body(e)),
    };
    match result {
        Ok(proxies) => (
            StatusCode::CREATED,
            Json(serde_json::json!({ "proxies": proxies })),
        )
            .into_response(),
        // Toxiproxy answers a failed populate with the error and `"proxies": null`.
        Err(e) => {
            let body = serde_json::json!({ "error": e.message, "status": e.status.as_u16(), "proxies": null });
            (e.status, Json(body)).into_response()
        }
    }
}

async fn show(State(registry): Shared, Path(proxy): Path<String>) -> Result<Response, ApiError> {
    Ok(Json(registry.get(&proxy).await?).into_response())
}

async fn update(
    State(registry): Shared,
    Path(proxy): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    // The proxy must exist before its body is looked at, as in Toxiproxy.
    registry.get(&proxy).await?;
    let patch: ProxyPatch = serde_json::from_slice(&body).map_err(ApiError::bad_body)?;
    Ok(Json(registry.update(&proxy, patch).await?).into_response())
}

async fn delete(
    State(registry): Shared,
    Path(proxy): Path<String>,
) -> Result<StatusCode, ApiError> {
    registry.delete(&proxy).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn toxics(State(registry): Shared, Path(proxy): Path<String>) -> Result<Response, ApiError> {
    Ok(Json(registry.toxics(&proxy).await?).into_response())
}

async fn add_toxic(
    State(registry): Shared,
    Path(proxy): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    Ok(Json(registry.add_toxic(&proxy, &body).await?).into_response())
}

async fn show_toxic(
    State(registry): Shared,
    Path((proxy, toxic)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    Ok(Json(registry.toxic(&proxy, &toxic).await?).into_response())
}

async fn update_toxic(
    State(registry): Shared,
    Path((proxy, toxic)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response, ApiError> {
    Ok(Json(registry.update_toxic(&proxy, &toxic, &body).await?).into_response())
}

async fn remove_toxic(
    State(registry): Shared,
    Path((proxy, toxic)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    registry.remove_toxic(&proxy, &toxic).await?;
    Ok(StatusCode::NO_CONTENT)
}
