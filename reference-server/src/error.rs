//! `ApiError`: every way a request can fail, mapped to one status code and one JSON body
//! `{"error":{"code","message","fields"?}}`. Internal causes are logged, never sent to the client.
//! The store's own `StoreError` becomes an `ApiError` here, once.

use std::time::Duration;

use axum::{
    http::{header, HeaderValue, StatusCode},
    response::{IntoResponse, Response},
    Json,
};
use serde_json::json;

use crate::{domain::FieldError, store::StoreError};

#[derive(Debug, thiserror::Error)]
pub(crate) enum ApiError {
    #[error("validation failed")]
    Validation(Vec<FieldError>),
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("missing or wrong bearer token")]
    Unauthorized,
    #[error("payment declined")]
    PaymentDeclined,
    #[error("payment gateway error")]
    BadGateway,
    #[error("payment gateway did not answer in time")]
    GatewayTimeout,
    #[error("{message}")]
    Unavailable {
        code: &'static str,
        message: String,
        retry_after: Duration,
    },
    /// A request refused before any handler ran: bad framing, a wrong method, a body too large or
    /// too slow, a wrong `Content-Type` (400, 405, 408, 413, 414, 415, 431).
    #[error("{message}")]
    Refused {
        status: StatusCode,
        code: &'static str,
        message: String,
    },
    #[error("internal error")]
    Internal(#[from] anyhow::Error),
}

/// Marks a response whose body is already the error envelope, so that the envelope middleware
/// leaves it alone.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Enveloped;

impl ApiError {
    pub(crate) fn field(field: impl Into<String>, problem: impl Into<String>) -> Self {
        Self::Validation(vec![FieldError::new(field, problem)])
    }

    pub(crate) fn refused(
        status: StatusCode,
        code: &'static str,
        message: impl Into<String>,
    ) -> Self {
        Self::Refused {
            status,
            code,
            message: message.into(),
        }
    }

    pub(crate) fn status_code(&self) -> StatusCode {
        match self {
            Self::Validation(_) => StatusCode::UNPROCESSABLE_ENTITY,
            Self::Conflict { .. } => StatusCode::CONFLICT,
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::PaymentDeclined => StatusCode::PAYMENT_REQUIRED,
            Self::BadGateway => StatusCode::BAD_GATEWAY,
            Self::GatewayTimeout => StatusCode::GATEWAY_TIMEOUT,
            Self::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            Self::Refused { status, .. } => *status,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn code(&self) -> &'static str {
        match self {
            Self::Validation(_) => "validation_failed",
            Self::Conflict { code, .. }
            | Self::Unavailable { code, .. }
            | Self::Refused { code, .. } => code,
            Self::NotFound(_) => "not_found",
            Self::Unauthorized => "unauthorized",
            Self::PaymentDeclined => "payment_declined",
            Self::BadGateway => "gateway_error",
            Self::GatewayTimeout => "gateway_timeout",
            Self::Internal(_) => "internal",
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(what) => Self::NotFound(what),
            StoreError::Invalid { field, problem } => Self::field(field, problem),
            StoreError::Conflict { code, message } => Self::Conflict { code, message },
            StoreError::ShuttingDown => Self::Unavailable {
                code: "shutting_down",
                message: "the server is shutting down".into(),
                retry_after: Duration::from_secs(1),
            },
            StoreError::Database(e) => Self::Internal(anyhow::Error::new(e).context("database")),
            StoreError::Internal(e) => Self::Internal(e.context("store")),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let Self::Internal(cause) = &self {
            tracing::error!(error = format!("{cause:#}"), "internal error");
        }
        let status = self.status_code();
        let mut error = json!({"code": self.code(), "message": self.to_string()});
        if let Self::Validation(fields) = &self {
            error["fields"] = json!(fields);
        }
        let mut response = (status, Json(json!({ "error": error }))).into_response();
        if let Self::Unavailable { retry_after, .. } = &self {
            let secs = retry_after.as_secs_f64().ceil().max(1.0) as u64;
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response.extensions_mut().insert(Enveloped);
        response
    }
}
