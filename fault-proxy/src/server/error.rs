//! The built-in server's API errors, answered exactly as Toxiproxy answers
//! them: `{"error": "...", "status": N}` plus a newline, as `text/plain`
//! (Toxiproxy writes them with Go's `http.Error`).

use crate::ErrorBody;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ApiError {
    pub status: StatusCode,
    pub message: String,
}

impl ApiError {
    fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            message: message.into(),
        }
    }

    pub fn bad_body(detail: impl std::fmt::Display) -> ApiError {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("bad request body: {detail}"),
        )
    }

    pub fn missing_field(field: &str) -> ApiError {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("missing required field: {field}"),
        )
    }

    pub fn proxy_not_found() -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "proxy not found")
    }

    pub fn proxy_exists() -> ApiError {
        ApiError::new(StatusCode::CONFLICT, "proxy already exists")
    }

    pub fn invalid_stream() -> ApiError {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "stream was invalid, can be either upstream or downstream",
        )
    }

    pub fn invalid_toxic_type() -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, "invalid toxic type")
    }

    pub fn toxic_exists() -> ApiError {
        ApiError::new(StatusCode::CONFLICT, "toxic already exists")
    }

    pub fn toxic_not_found() -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, "toxic not found")
    }

    /// An `http_*` toxic on a proxy not declared HTTP (not a Toxiproxy error).
    pub fn needs_http(kind: &str) -> ApiError {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("toxic type {kind} needs a proxy created with \"protocol\": \"http\""),
        )
    }

    /// Request counts asked of a toxic that does not count requests.
    pub fn not_http(name: &str) -> ApiError {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("toxic {name} is not an HTTP toxic: only http_* toxics count requests"),
        )
    }

    /// An error without a Toxiproxy status of its own (a failed bind) is a 500.
    pub fn internal(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, message)
    }

    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            error: self.message.clone(),
            status: self.status.as_u16(),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut text = serde_json::to_string(&self.body()).unwrap_or_default();
        text.push('\n');
        (
            self.status,
            [
                (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
                (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            ],
            text,
        )
            .into_response()
    }
}
