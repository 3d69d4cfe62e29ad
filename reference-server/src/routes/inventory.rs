//! `GET /stores/{store}/inventory` and `POST /stores/{store}/inventory/adjustments`.

use axum::{
    extract::{rejection::PathRejection, Path, State},
    routing::{get, post},
    Json, Router,
};
use serde_json::{json, Value};

use super::{path_segment, JsonBody};
use crate::{domain::StoreId, error::ApiError, inventory::parse_adjustments, state::AppState};

pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/stores/{store}/inventory", get(read))
        .route("/stores/{store}/inventory/adjustments", post(adjust))
}

fn store_id(raw: Result<Path<String>, PathRejection>) -> Result<StoreId, ApiError> {
    StoreId::parse(&path_segment(raw, "store")?).map_err(|_| ApiError::NotFound("store"))
}

async fn read(
    State(app): State<AppState>,
    store: Result<Path<String>, PathRejection>,
) -> Result<Json<Value>, ApiError> {
    let id = store_id(store)?;
    let items = app.inventory.read(id.clone()).await?;
    Ok(Json(json!({"store_id": id.as_str(), "items": items})))
}

async fn adjust(
    State(app): State<AppState>,
    store: Result<Path<String>, PathRejection>,
    JsonBody(body): JsonBody,
) -> Result<Json<Value>, ApiError> {
    let id = store_id(store)?;
    let adjustments = parse_adjustments(&body).map_err(ApiError::Validation)?;
    let applied = adjustments.len();
    let items = app.inventory.adjust(id.clone(), adjustments).await?;
    Ok(Json(
        json!({"store_id": id.as_str(), "applied": applied, "items": items}),
    ))
}
