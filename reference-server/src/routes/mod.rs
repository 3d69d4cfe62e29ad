//! HTTP routes, one router per resource, merged in `startup`. Handlers parse their input into domain
//! values and call the services in `AppState`; every failure is an `ApiError`.

pub(crate) mod events;
pub(crate) mod inventory;
pub(crate) mod kitchen;
pub(crate) mod menu;
pub(crate) mod ops;
pub(crate) mod orders;
pub(crate) mod payments;

use axum::{
    extract::{FromRequest, Request},
    http::{header, StatusCode},
};
use bytes::Bytes;
use serde_json::Value;

use crate::error::ApiError;

/// A JSON request body: `Content-Type: application/json` (parameters such as `charset` allowed),
/// else 415; a syntax error is a 422 on the field `body` saying where.
pub(crate) struct JsonBody(pub(crate) Value);

impl<S: Send + Sync> FromRequest<S> for JsonBody {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        let json = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|media| media.trim().eq_ignore_ascii_case("application/json"));
        if !json {
            return Err(ApiError::refused(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "the body must be sent as Content-Type: application/json",
            ));
        }
        let body = Bytes::from_request(request, state)
            .await
            .map_err(|e| ApiError::refused(e.status(), "bad_request", e.body_text()))?;
        serde_json::from_slice(&body)
            .map(JsonBody)
            .map_err(|e| ApiError::field("body", format!("is not valid JSON: {e}")))
    }
}

/// A path segment as sent; one that is not valid UTF-8 after percent-decoding names nothing this
/// server holds, so it is a 404 of `what` like any unknown id.
pub(crate) fn path_segment(
    segment: Result<axum::extract::Path<String>, axum::extract::rejection::PathRejection>,
    what: &'static str,
) -> Result<String, ApiError> {
    segment.map(|p| p.0).map_err(|_| ApiError::NotFound(what))
}
