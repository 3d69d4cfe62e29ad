//! `GET /stores/{store}/inventory` and `POST /stores/{store}/inventory/adjustments`.

use axum::{
    extract::{Path, State},
    routing::{get, post},
    Json, Router,
};
use bytes::Bytes;
use serde_json::{json, Value};

use super::json_body;
use crate::{domain::StoreId, error::ApiError, inventory::parse_adjustments, startup::AppState};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/stores/{store}/inventory", get(read))
        .route("/stores/{store}/inventory/adjustments", post(adjust))
}

fn store_id(raw: &str) -> Result<StoreId, ApiError> {
    StoreId::parse(raw).map_err(|_| ApiError::NotFound("store"))
}

async fn read(
    State(app): State<AppState>,
    Path(store): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let id = store_id(&store)?;
    let items = app.inventory.read(id.clone()).await?;
    Ok(Json(json!({"store_id": id.as_str(), "items": items})))
}

async fn adjust(
    State(app): State<AppState>,
    Path(store): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let id = store_id(&store)?;
    let adjustments = parse_adjustments(&json_body(&body)?).map_err(ApiError::Validation)?;
    let applied = adjustments.len();
    let items = app.inventory.adjust(id.clone(), adjustments).await?;
    Ok(Json(
        json!({"store_id": id.as_str(), "applied": applied, "items": items}),
    ))
}
