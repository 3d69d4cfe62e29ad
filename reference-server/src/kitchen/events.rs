//! Live status events for the Server-Sent Event streams. The store hands every committed status
//! change to `publish`, in commit order.
//!
//! Memory stays bounded whatever a subscriber does: a per-order subscriber has its own small buffer
//! (`ORDER_BUFFER`); one that does not read is dropped when the buffer is full, and its stream ends
//! with a `lagged` event (the client reconnects and gets the history again). The stream of every
//! order is one broadcast ring (`ALL_BUFFER`) shared by its subscribers; one that falls behind skips
//! what it missed and is told how many it missed.

use std::{
    collections::HashMap,
    sync::{
        atomic::{AtomicU64, Ordering::Relaxed},
        Arc, Mutex,
    },
};

use tokio::sync::{broadcast, mpsc};

use crate::store::events::StatusEvent;

/// Events one order's subscriber may have unread: an order has a handful of status changes.
const ORDER_BUFFER: usize = 16;
/// Events the all-orders stream keeps for its slowest subscriber (~1 s at a busy lunch peak).
const ALL_BUFFER: usize = 1024;

/// Statuses after which an order's stream ends: nothing more will happen without an operator.
pub fn is_final(status: &str) -> bool {
    matches!(status, "ready" | "expired" | "dead_letter")
}

type Subscribers = Vec<(u64, mpsc::Sender<Arc<StatusEvent>>)>;

pub struct EventBus {
    all: broadcast::Sender<Arc<StatusEvent>>,
    orders: Mutex<HashMap<String, Subscribers>>,
    next_id: AtomicU64,
    /// Per-order subscribers dropped because they did not read.
    pub lagged_total: AtomicU64,
    pub published_total: AtomicU64,
}

impl Default for EventBus {
    fn default() -> Self {
        EventBus {
            all: broadcast::channel(ALL_BUFFER).0,
            orders: Mutex::default(),
            next_id: AtomicU64::new(1),
            lagged_total: AtomicU64::new(0),
            published_total: AtomicU64::new(0),
        }
    }
}

/// One order's live events; unsubscribes when dropped.
pub struct OrderSubscription {
    pub events: mpsc::Receiver<Arc<StatusEvent>>,
    bus: Arc<EventBus>,
    order_id: String,
    id: u64,
}

impl Drop for OrderSubscription {
    fn drop(&mut self) {
        let mut orders = self.bus.orders.lock().expect("events lock");
        if let Some(subscribers) = orders.get_mut(&self.order_id) {
            subscribers.retain(|(id, _)| *id != self.id);
            if subscribers.is_empty() {
                orders.remove(&self.order_id);
            }
        }
    }
}

impl EventBus {
    /// Never blocks (it runs on the store's writer thread).
    pub fn publish(&self, events: Vec<StatusEvent>) {
        for event in events {
            let event = Arc::new(event);
            self.published_total.fetch_add(1, Relaxed);
            if self.all.receiver_count() > 0 {
                let _ = self.all.send(event.clone());
            }
            let mut orders = self.orders.lock().expect("events lock");
            let Some(subscribers) = orders.get_mut(&event.order_id) else {
                continue;
            };
            subscribers.retain(|(_, tx)| match tx.try_send(event.clone()) {
                Ok(()) => true,
                Err(mpsc::error::TrySendError::Full(_)) => {
                    self.lagged_total.fetch_add(1, Relaxed);
                    false
                }
                Err(mpsc::error::TrySendError::Closed(_)) => false,
            });
            if subscribers.is_empty() {
                orders.remove(&event.order_id);
            }
        }
    }

    /// Subscribes to one order's events from now on (read its history after this, not before).
    pub fn subscribe_order(self: &Arc<Self>, order_id: &str) -> OrderSubscription {
        let (tx, rx) = mpsc::channel(ORDER_BUFFER);
        let id = self.next_id.fetch_add(1, Relaxed);
        self.orders
            .lock()
            .expect("events lock")
            .entry(order_id.to_owned())
            .or_default()
            .push((id, tx));
        OrderSubscription {
            events: rx,
            bus: self.clone(),
            order_id: order_id.to_owned(),
            id,
        }
    }

    pub fn subscribe_all(&self) -> broadcast::Receiver<Arc<StatusEvent>> {
        self.all.subscribe()
    }

    /// Open streams: (per-order subscribers, all-orders subscribers).
    pub fn subscribers(&self) -> (usize, usize) {
        let per_order = self
            .orders
            .lock()
            .expect("events lock")
            .values()
            .map(Vec::len)
            .sum();
        (per_order, self.all.receiver_count())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(seq: i64, order: &str) -> StatusEvent {
        StatusEvent {
            seq,
            order_id: order.into(),
            status: "preparing".into(),
            at: "2026-01-01T00:00:00Z".into(),
            by: "counter-1".into(),
            attempt: Some(1),
            detail: None,
        }
    }

    #[test]
    fn a_subscriber_that_does_not_read_is_dropped_instead_of_buffering_without_bound() {
        let bus = Arc::new(EventBus::default());
        let mut slow = bus.subscribe_order("o-1");
        let other = bus.subscribe_order("o-2");
        for seq in 0..(ORDER_BUFFER as i64 + 5) {
            bus.publish(vec![event(seq, "o-1")]);
        }
        assert_eq!(bus.lagged_total.load(Relaxed), 1);
        assert_eq!(bus.subscribers().0, 1, "only o-2's subscriber is left");
        let mut received = 0;
        while slow.events.try_recv().is_ok() {
            received += 1;
        }
        assert_eq!(received, ORDER_BUFFER);
        drop(other);
        assert_eq!(bus.subscribers().0, 0);
    }
}
