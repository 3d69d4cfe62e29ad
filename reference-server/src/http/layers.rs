//! Middleware every request passes through, outermost first in `startup::router`:
//! a client's `X-Request-Id` is kept only when short and printable; the envelope layer puts every
//! error answer that no handler wrote (axum's 404/405, an extractor's 400) into the JSON error
//! envelope; the body is read whole, within a size limit (413) and a time limit (408), before any
//! handler runs; and handling has its own deadline (503 `timeout`).

use std::time::Duration;

use axum::{
    body::{Body, Bytes},
    extract::{Request, State},
    http::{header, HeaderValue, StatusCode},
    middleware::Next,
    response::{IntoResponse, Response},
};
use futures::StreamExt;

use crate::error::{ApiError, Enveloped};

/// Longest client-chosen `X-Request-Id` kept; a longer or unprintable one is replaced.
pub(crate) const MAX_REQUEST_ID: usize = 128;

/// Drops a client `X-Request-Id` that is empty, longer than `MAX_REQUEST_ID` or not visible ASCII,
/// so that the next layer draws a fresh one instead of echoing (and logging) anything sent.
pub(crate) fn bound_request_id(mut request: Request) -> Request {
    let headers = request.headers_mut();
    let acceptable = headers.get("x-request-id").is_none_or(|v| {
        let b = v.as_bytes();
        !b.is_empty() && b.len() <= MAX_REQUEST_ID && b.iter().all(|c| c.is_ascii_graphic())
    });
    if !acceptable {
        headers.remove("x-request-id");
    }
    request
}

/// Answers of unknown routes.
pub(crate) async fn no_such_route() -> ApiError {
    ApiError::NotFound("route")
}

/// Puts an error answer that is not yet in the envelope into it, keeping its status and headers
/// (`Allow` on a 405); the plain-text reason axum gave, if short, becomes the message.
pub(crate) async fn envelope(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error())
        || response.extensions().get::<Enveloped>().is_some()
    {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let plain = parts
        .headers
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"text/plain"));
    let reason = if plain {
        axum::body::to_bytes(body, 1024).await.ok()
    } else {
        None
    };
    let reason = reason
        .and_then(|b| String::from_utf8(b.to_vec()).ok())
        .filter(|s| !s.trim().is_empty());
    let (code, default) = match status {
        StatusCode::BAD_REQUEST => ("bad_request", "the request could not be read"),
        StatusCode::NOT_FOUND => ("not_found", "no such route"),
        StatusCode::METHOD_NOT_ALLOWED => (
            "method_not_allowed",
            "this route does not answer this method (see Allow)",
        ),
        StatusCode::PAYLOAD_TOO_LARGE => ("payload_too_large", "the request body is too large"),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => (
            "unsupported_media_type",
            "the body must be sent as Content-Type: application/json",
        ),
        _ => ("error", status.canonical_reason().unwrap_or("error")),
    };
    let mut enveloped =
        ApiError::refused(status, code, reason.unwrap_or_else(|| default.to_owned()))
            .into_response();
    parts.headers.remove(header::CONTENT_TYPE);
    parts.headers.remove(header::CONTENT_LENGTH);
    for (name, value) in parts.headers {
        if let Some(name) = name {
            enveloped.headers_mut().insert(name, value);
        }
    }
    enveloped
}

/// Limits on reading a request body.
#[derive(Debug, Clone, Copy)]
pub(crate) struct BodyLimits {
    pub(crate) max_bytes: usize,
    pub(crate) read_timeout: Duration,
}

/// Reads the whole body before any handler runs: 413 beyond `max_bytes` (at once when
/// `Content-Length` says so), 408 and a closed connection when it does not arrive within
/// `read_timeout`, so a stalled upload never holds a handler.
pub(crate) async fn read_body(
    State(limits): State<BodyLimits>,
    request: Request,
    next: Next,
) -> Response {
    let (parts, body) = request.into_parts();
    let declared = parts
        .headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limits.max_bytes as u64) {
        return too_large(limits.max_bytes);
    }
    let read = tokio::time::timeout(limits.read_timeout, collect(body, limits.max_bytes)).await;
    let bytes = match read {
        Ok(Ok(Some(bytes))) => bytes,
        Ok(Ok(None)) => return too_large(limits.max_bytes),
        Ok(Err(e)) => {
            return ApiError::refused(
                StatusCode::BAD_REQUEST,
                "bad_request",
                format!("the request body could not be read: {e}"),
            )
            .into_response()
        }
        Err(_) => {
            let mut response = ApiError::refused(
                StatusCode::REQUEST_TIMEOUT,
                "request_timeout",
                format!(
                    "the request body did not arrive within {} ms",
                    limits.read_timeout.as_millis()
                ),
            )
            .into_response();
            response
                .headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
            return response;
        }
    };
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

/// The body's bytes, or `None` as soon as they pass `max`.
async fn collect(body: Body, max: usize) -> Result<Option<Bytes>, axum::Error> {
    let mut stream = body.into_data_stream();
    let mut all = Vec::new();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk?;
        if all.len() + chunk.len() > max {
            return Ok(None);
        }
        all.extend_from_slice(&chunk);
    }
    Ok(Some(Bytes::from(all)))
}

fn too_large(max: usize) -> Response {
    let mut response = ApiError::refused(
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
        format!("the request body is larger than {max} bytes"),
    )
    .into_response();
    // The rest of the body is not read: the connection cannot carry another request.
    response
        .headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    response
}

/// Answers 503 `timeout` when handling takes longer than the request timeout.
pub(crate) async fn deadline(
    State(timeout): State<Duration>,
    request: Request,
    next: Next,
) -> Response {
    match tokio::time::timeout(timeout, next.run(request)).await {
        Ok(response) => response,
        Err(_) => ApiError::Unavailable {
            code: "timeout",
            message: format!(
                "the request was not handled within {} ms",
                timeout.as_millis()
            ),
            retry_after: Duration::from_secs(1),
        }
        .into_response(),
    }
}
