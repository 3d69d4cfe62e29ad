//! `StoreError`: how a storage operation fails, in the store's own terms. The routes map it to an
//! HTTP answer once, in `error.rs` (`From<StoreError> for StoreError`).

/// A failed read or write command.
#[derive(Debug, thiserror::Error)]
pub(crate) enum StoreError {
    /// The thing named (`order`, `store`, `menu item`) does not exist.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The command refers to something the store does not know or refuses, at `field`
    /// (an unknown sku in `items[2].sku`, a reused idempotency key).
    #[error("{field}: {problem}")]
    Invalid { field: String, problem: String },
    /// The command is valid but the current state refuses it (`out_of_stock`, `already_paid`).
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    /// The writer has stopped: the server is shutting down.
    #[error("the store is shutting down")]
    ShuttingDown,
    #[error("database error")]
    Database(#[from] rusqlite::Error),
    /// Anything else (a failed commit, a stored answer that no longer parses).
    #[error("{0:#}")]
    Internal(anyhow::Error),
}

impl StoreError {
    pub(crate) fn invalid(field: impl Into<String>, problem: impl Into<String>) -> Self {
        Self::Invalid {
            field: field.into(),
            problem: problem.into(),
        }
    }

    pub(crate) fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::Conflict {
            code,
            message: message.into(),
        }
    }
}
