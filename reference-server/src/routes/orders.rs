//! `POST /orders`, `GET /orders/{id}`, `GET /orders/{id}/history` (live events: `routes::events`).

use axum::{
    extract::{rejection::PathRejection, Path, State},
    http::{header, HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    routing::{get, post},
    Json, Router,
};
use serde_json::Value;

use super::{path_segment, JsonBody};
use crate::{
    domain::{parse_new_order, IdempotencyKey, OrderId},
    error::ApiError,
    state::AppState,
    store,
};

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/orders", post(create))
        .route("/orders/{id}", get(read))
        .route("/orders/{id}/history", get(history))
}

/// Validates, then takes a slot on a station for the order's kind (503 at once, naming the station,
/// if its backlog is full, before any database
/// work), then creates the order in the writer and answers 201 only after its commit. A replayed
/// `Idempotency-Key` gives back its slot and answers the first answer again; because admission
/// comes first, a replay that arrives while the kitchen is full gets the 503 too (retry later).
async fn create(
    State(app): State<AppState>,
    headers: HeaderMap,
    JsonBody(body): JsonBody,
) -> Result<Response, ApiError> {
    let key = match headers.get("idempotency-key") {
        Some(v) => Some(
            v.to_str()
                .map_err(|_| "must be visible ASCII".to_owned())
                .and_then(IdempotencyKey::parse)
                .map_err(|e| ApiError::field("Idempotency-Key", e))?,
        ),
        None => None,
    };
    let order = parse_new_order(&body).map_err(ApiError::Validation)?;
    let slot = match app.kitchen.try_admit(&order.order_type) {
        Ok(slot) => slot,
        Err(shed) => return Ok(shed.into_response()),
    };
    let ready_at = slot.estimated_ready_at();
    let created = app
        .store
        .write(move |c| store::orders::create(c, &order, key.as_ref(), &ready_at))
        .await?;
    // A replay drops its slot here: nothing new to cook.
    if !created.replay {
        app.kitchen.admitted(slot, created.id.clone());
    }
    let location = HeaderValue::from_str(&format!("/orders/{}", created.id))
        .map_err(|e| ApiError::Internal(e.into()))?;
    Ok((
        StatusCode::CREATED,
        [
            (header::LOCATION, location),
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            ),
        ],
        created.body,
    )
        .into_response())
}

fn order_id(raw: Result<Path<String>, PathRejection>) -> Result<OrderId, ApiError> {
    OrderId::parse(&path_segment(raw, "order")?).map_err(|_| ApiError::NotFound("order"))
}

async fn read(
    State(app): State<AppState>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<Value>, ApiError> {
    let id = order_id(id)?;
    Ok(Json(
        app.store.read(move |c| store::orders::get(c, &id)).await?,
    ))
}

async fn history(
    State(app): State<AppState>,
    id: Result<Path<String>, PathRejection>,
) -> Result<Json<Value>, ApiError> {
    let id = order_id(id)?;
    Ok(Json(
        app.store
            .read(move |c| store::orders::history(c, &id))
            .await?,
    ))
}
