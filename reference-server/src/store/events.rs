//! Status events as they are written: every history row becomes a `StatusEvent` that is handed to
//! the event sink once its transaction has COMMITTED (never before, never for a rolled-back command),
//! in commit order. `seq` is the history row's id, so a reader can join a live stream to the history
//! it has read without a gap or a duplicate.

use std::{cell::RefCell, sync::Arc};

use serde::Serialize;

/// One status change of one order, as history shows it and as live streams send it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StatusEvent {
    pub seq: i64,
    pub order_id: String,
    pub status: String,
    pub at: String,
    pub by: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub attempt: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// Receives the events of each committed command; runs on the writer thread, so it must not block.
pub type EventSink = Arc<dyn Fn(Vec<StatusEvent>) + Send + Sync>;

thread_local! {
    /// Events written by the command running on this (the writer's) thread. A thread-local rather
    /// than a parameter: every SQL function that writes history takes only a `&Connection`.
    static PENDING: RefCell<Vec<StatusEvent>> = const { RefCell::new(Vec::new()) };
}

pub(super) fn record(event: StatusEvent) {
    PENDING.with(|p| p.borrow_mut().push(event));
}

/// The events written since the last call (by the command that just ran).
pub(super) fn take() -> Vec<StatusEvent> {
    PENDING.with(|p| std::mem::take(&mut *p.borrow_mut()))
}
