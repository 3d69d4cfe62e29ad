//! Why a call to a Toxiproxy API failed, with what to do about it.

use reqwest::{Method, StatusCode};
use std::time::Duration;

/// Why a call to the Toxiproxy API failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("{method} {url}: no answer within {timeout:?}; is Toxiproxy running there?")]
    Timeout {
        method: Method,
        url: String,
        timeout: Duration,
    },
    #[error("{method} {url}: could not reach the Toxiproxy API: {source}")]
    Transport {
        method: Method,
        url: String,
        #[source]
        source: reqwest::Error,
    },
    #[error("{method} {url}: Toxiproxy answered {status}: {message}")]
    Api {
        method: Method,
        url: String,
        status: StatusCode,
        message: String,
    },
    #[error("{method} {url}: unexpected answer {status}: {body}")]
    UnexpectedStatus {
        method: Method,
        url: String,
        status: StatusCode,
        body: String,
    },
    #[error("{method} {url}: could not read the answer ({problem}): {body}")]
    Decode {
        method: Method,
        url: String,
        problem: String,
        body: String,
    },
    #[error("{what}: asked for {expected} but Toxiproxy reports {actual}")]
    Mismatch {
        what: String,
        expected: String,
        actual: String,
    },
    #[error("bad Toxiproxy URL `{0}`: expected http://host:port")]
    BadUrl(String),
}

impl ClientError {
    /// The HTTP status Toxiproxy answered with, when it answered.
    pub fn status(&self) -> Option<StatusCode> {
        match self {
            ClientError::Api { status, .. } | ClientError::UnexpectedStatus { status, .. } => {
                Some(*status)
            }
            _ => None,
        }
    }

    /// Toxiproxy said the proxy or toxic does not exist.
    pub fn is_not_found(&self) -> bool {
        self.status() == Some(StatusCode::NOT_FOUND)
    }
}
