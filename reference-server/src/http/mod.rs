//! The HTTP layer below the routes: accepting and serving connections within their limits
//! (`serve`, `conn`), and the middleware every request passes through (`layers`), which make
//! every answer, the framework's own included, carry the JSON error envelope and `X-Request-Id`.

mod conn;
pub(crate) mod layers;
mod serve;

pub(crate) use serve::serve;

/// The body of an error answer that no handler wrote (a framing error, a refused connection).
fn envelope(code: &str, message: &str) -> String {
    serde_json::json!({"error": {"code": code, "message": message}}).to_string()
}

/// A complete HTTP/1.1 error answer, written straight to a socket, that closes the connection.
fn raw_answer(status: u16, reason: &str, code: &str, message: &str, extra: &str) -> Vec<u8> {
    let body = envelope(code, message);
    format!(
        "HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\
         x-request-id: {}\r\nconnection: close\r\n{extra}\r\n{body}",
        body.len(),
        uuid::Uuid::new_v4()
    )
    .into_bytes()
}
