//! Windows of the plan that did not happen in this run: a fault that was not
//! injected, a stage the run never reached. A gate judged during one of them
//! is not evaluated (with this reason) rather than failed.

use serde::{Deserialize, Serialize};

/// What kind of window a gate's `during` named.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum WindowKind {
    Fault,
    Stage,
}

/// A planned window that did not happen, and why.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MissedWindow {
    pub(crate) name: String,
    pub(crate) kind: WindowKind,
    /// One sentence, e.g. "the run ended at 12.0 s, before its planned start at 45.0 s".
    pub(crate) reason: String,
}

impl MissedWindow {
    pub fn fault(name: &str, reason: impl Into<String>) -> MissedWindow {
        MissedWindow {
            name: name.to_string(),
            kind: WindowKind::Fault,
            reason: reason.into(),
        }
    }
}
