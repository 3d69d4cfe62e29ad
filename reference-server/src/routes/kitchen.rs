//! The kitchen's operator routes: `GET /workers` (open), and with the admin bearer token
//! `POST /admin/workers/{name}/stop|start`, `PUT /admin/kitchen` (share of failing preparations),
//! `GET /admin/dead-letters` and `POST /admin/dead-letters/{id}/retry`.

use axum::{
    extract::{Path, Query, State},
    http::{header, HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::{get, post, put},
    Json, Router,
};
use serde::Deserialize;
use serde_json::{json, Value};

use super::JsonBody;
use crate::{error::ApiError, state::AppState, store};

/// Most dead letters one `GET /admin/dead-letters` lists.
const MAX_LISTED: usize = 500;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/workers", get(workers))
        .route("/admin/workers/{name}/stop", post(stop))
        .route("/admin/workers/{name}/start", post(start))
        .route("/admin/kitchen", put(settings))
        .route("/admin/dead-letters", get(dead_letters))
        .route("/admin/dead-letters/{id}/retry", post(retry))
}

/// Checks the bearer token without stopping at the first differing byte (timing reveals nothing).
fn require_admin(app: &AppState, headers: &HeaderMap) -> Result<(), ApiError> {
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default()
        .as_bytes();
    let expected = app.admin_token.as_bytes();
    let same = presented.len() == expected.len()
        && presented
            .iter()
            .zip(expected)
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0;
    same.then_some(()).ok_or(ApiError::Unauthorized)
}

async fn workers(State(app): State<AppState>) -> Json<Value> {
    Json(json!({
        "workers": app.kitchen.workers_view(),
        "stations": app.kitchen.stations_view(),
    }))
}

async fn stop(
    State(app): State<AppState>,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    require_admin(&app, &headers)?;
    let worker = app.kitchen.stop_worker(&name)?;
    tracing::info!(worker = %name, "worker stopped by an operator");
    Ok(Json(worker).into_response())
}

async fn start(
    State(app): State<AppState>,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    require_admin(&app, &headers)?;
    let worker = app.kitchen.start_worker_named(&name)?;
    tracing::info!(worker = %name, "worker started by an operator");
    Ok(Json(worker).into_response())
}

/// `{"failure_rate": 0.2}`: the share of preparations that fail from now on.
async fn settings(
    State(app): State<AppState>,
    headers: HeaderMap,
    JsonBody(body): JsonBody,
) -> Result<Json<Value>, ApiError> {
    require_admin(&app, &headers)?;
    if !body.is_object() {
        return Err(ApiError::field("body", "must be a JSON object"));
    }
    let policy = app.kitchen.retry_policy();
    match body.get("failure_rate") {
        None => {}
        Some(v) => {
            let rate = v
                .as_f64()
                .ok_or_else(|| ApiError::field("failure_rate", "must be a number"))?;
            policy
                .set_failure_rate(rate)
                .map_err(|e| ApiError::field("failure_rate", e))?;
        }
    }
    Ok(Json(json!({
        "failure_rate": policy.failure_rate(),
        "max_attempts": policy.max_attempts(),
    })))
}

#[derive(Deserialize)]
struct ListQuery {
    limit: Option<usize>,
}

async fn dead_letters(
    State(app): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<ListQuery>,
) -> Result<Json<Value>, ApiError> {
    require_admin(&app, &headers)?;
    let limit = match query.limit {
        None => 100,
        Some(n) if (1..=MAX_LISTED).contains(&n) => n,
        Some(_) => {
            return Err(ApiError::field(
                "limit",
                format!("must be 1 to {MAX_LISTED}"),
            ))
        }
    };
    let (letters, total) = app
        .store
        .read(move |c| store::dead_letters::list(c, limit))
        .await?;
    Ok(Json(json!({"dead_letters": letters, "total": total})))
}

async fn retry(
    State(app): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, Response> {
    require_admin(&app, &headers).map_err(IntoResponse::into_response)?;
    let id: i64 = match id.parse() {
        Ok(id) => id,
        Err(_) => return Err(ApiError::NotFound("dead letter").into_response()),
    };
    let letter = app.kitchen.retry_dead_letter(id).await?;
    Ok((StatusCode::ACCEPTED, Json(letter)).into_response())
}
