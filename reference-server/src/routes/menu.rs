//! `GET /menu` (cached, ETag / 304) and `PUT /admin/menu/{sku}` (bearer token).

use axum::{
    extract::{Path, State},
    http::{header, HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    routing::{get, put},
    Json, Router,
};
use bytes::Bytes;
use serde_json::Value;

use super::json_body;
use crate::{
    domain::{FieldError, Money, Sku},
    error::ApiError,
    startup::AppState,
    store::menu::MenuItem,
};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/menu", get(menu))
        .route("/admin/menu/{sku}", put(update))
}

async fn menu(State(app): State<AppState>, headers: HeaderMap) -> Result<Response, ApiError> {
    let snapshot = app.menu.get().await?;
    let etag = HeaderValue::from_str(&snapshot.etag).map_err(|e| ApiError::Internal(e.into()))?;
    let matches = headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|tag| {
            let tag = tag.trim();
            tag == "*" || tag.trim_start_matches("W/") == snapshot.etag
        });
    if matches {
        return Ok((StatusCode::NOT_MODIFIED, [(header::ETAG, etag)]).into_response());
    }
    Ok((
        [
            (header::ETAG, etag),
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            ),
        ],
        snapshot.body.clone(),
    )
        .into_response())
}

async fn update(
    State(app): State<AppState>,
    Path(sku): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<MenuItem>, ApiError> {
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    if !same(presented.as_bytes(), app.config.admin_token.as_bytes()) {
        return Err(ApiError::Unauthorized);
    }
    let sku = Sku::parse(&sku).map_err(|_| ApiError::NotFound("menu item"))?;
    let body = json_body(&body)?;
    let mut errors = Vec::new();
    let price = match body.get("price_cents") {
        None | Some(Value::Null) => None,
        Some(v) => match v
            .as_i64()
            .ok_or_else(|| "must be an integer".to_owned())
            .and_then(Money::price)
        {
            Ok(m) => Some(m),
            Err(e) => {
                errors.push(FieldError::new("price_cents", e));
                None
            }
        },
    };
    let available = match body.get("available") {
        None | Some(Value::Null) => None,
        Some(Value::Bool(b)) => Some(*b),
        Some(_) => {
            errors.push(FieldError::new("available", "must be true or false"));
            None
        }
    };
    if errors.is_empty() && price.is_none() && available.is_none() {
        errors.push(FieldError::new(
            "body",
            "must set price_cents and/or available",
        ));
    }
    if !errors.is_empty() {
        return Err(ApiError::Validation(errors));
    }
    Ok(Json(app.menu.update(sku, price, available).await?))
}

/// Compares without stopping at the first difference, so timing does not reveal the token.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
