//! `POST /orders/{id}/payments`.

use axum::{
    extract::{rejection::PathRejection, Path, State},
    routing::post,
    Json, Router,
};
use serde_json::Value;

use super::{path_segment, JsonBody};
use crate::{
    domain::{FieldError, OrderId},
    error::ApiError,
    payments::Paid,
    state::AppState,
};

pub(crate) fn router() -> Router<AppState> {
    Router::new().route("/orders/{id}/payments", post(pay))
}

async fn pay(
    State(app): State<AppState>,
    id: Result<Path<String>, PathRejection>,
    JsonBody(body): JsonBody,
) -> Result<Json<Paid>, ApiError> {
    let id =
        OrderId::parse(&path_segment(id, "order")?).map_err(|_| ApiError::NotFound("order"))?;
    let mut errors = Vec::new();
    if body.get("method").and_then(Value::as_str) != Some("card") {
        errors.push(FieldError::new("method", "must be \"card\""));
    }
    let token = body
        .get("card_token")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if token.is_empty() || token.len() > 255 || !token.chars().all(|c| c.is_ascii_graphic()) {
        errors.push(FieldError::new(
            "card_token",
            "must be a token of 1 to 255 visible ASCII characters",
        ));
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    Ok(Json(app.payments.pay(id, token.to_owned()).await?))
}
