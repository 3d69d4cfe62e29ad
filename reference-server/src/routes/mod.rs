//! HTTP routes, one router per resource, merged in `startup`. Handlers parse their input into domain
//! values and call the services in `AppState`; every failure is an `ApiError`.

pub mod events;
pub mod inventory;
pub mod kitchen;
pub mod menu;
pub mod ops;
pub mod orders;
pub mod payments;

use bytes::Bytes;
use serde_json::Value;

use crate::error::ApiError;

/// Parses a request body as JSON; a syntax error is a 422 on the field `body` saying where.
pub fn json_body(body: &Bytes) -> Result<Value, ApiError> {
    serde_json::from_slice(body)
        .map_err(|e| ApiError::field("body", format!("is not valid JSON: {e}")))
}
