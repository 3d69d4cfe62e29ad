//! `GET /menu` (cached, ETag / 304) and `PUT /admin/menu/{sku}` (bearer token).

use axum::{
    extract::{rejection::PathRejection, Path, State},
    http::{header, HeaderMap, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    routing::{get, put},
    Json, Router,
};
use serde_json::Value;

use super::{path_segment, JsonBody};
use crate::{
    domain::{integer_in, kind, FieldError, Money, Sku},
    error::ApiError,
    state::AppState,
    store::menu::MenuItem,
};

pub(crate) fn router() -> Router<AppState> {
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
    sku: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    JsonBody(body): JsonBody,
) -> Result<Json<MenuItem>, ApiError> {
    let presented = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    if !same(presented.as_bytes(), app.admin_token.as_bytes()) {
        return Err(ApiError::Unauthorized);
    }
    let sku = Sku::parse(&path_segment(sku, "menu item")?)
        .map_err(|_| ApiError::NotFound("menu item"))?;
    let (price, available) = parse_update(&body).map_err(ApiError::Validation)?;
    Ok(Json(app.menu.update(sku, price, available).await?))
}

/// `{"price_cents"?: integer, "available"?: boolean}` with at least one of them and nothing else;
/// `null` is not a value of either.
fn parse_update(body: &Value) -> Result<(Option<Money>, Option<bool>), Vec<FieldError>> {
    let Some(object) = body.as_object() else {
        return Err(vec![FieldError::new("body", "must be a JSON object")]);
    };
    let mut errors: Vec<FieldError> = object
        .keys()
        .filter(|k| !["price_cents", "available"].contains(&k.as_str()))
        .map(|k| FieldError::new(k.as_str(), "is not a field of a menu update"))
        .collect();
    let price = object.get("price_cents").and_then(|v| {
        integer_in(Some(v), 0, Money::MAX_PRICE_CENTS)
            .and_then(Money::price)
            .map_err(|e| errors.push(FieldError::new("price_cents", e)))
            .ok()
    });
    let available = match object.get("available") {
        None => None,
        Some(Value::Bool(b)) => Some(*b),
        Some(other) => {
            errors.push(FieldError::new(
                "available",
                format!("must be true or false, got {}", kind(other)),
            ));
            None
        }
    };
    if errors.is_empty() && price.is_none() && available.is_none() {
        errors.push(FieldError::new(
            "body",
            "must set price_cents and/or available",
        ));
    }
    if errors.is_empty() {
        Ok((price, available))
    } else {
        Err(errors)
    }
}

/// Compares without stopping at the first difference, so timing does not reveal the token.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
