//! Stations: which order kinds each one prepares, its workers, and its own bounded backlog.
//!
//! A station's backlog counts every order admitted to it and not yet ready (unpaid ones included),
//! so admission is one compare-and-swap on one station: a full grill sheds dine-in orders while the
//! counter keeps taking takeout. Orders waiting for a worker sit in the station's `Queue`; admission
//! never lets more in than the backlog, so the queue is bounded by it. The naive profile gives every
//! station the same unbounded queue and no backlog limit.

use std::{
    collections::VecDeque,
    sync::{
        atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed},
        Arc, Mutex,
    },
    time::Duration,
};

use tokio::sync::Notify;

use crate::layout::{Kind, StationSpec};

/// An order waiting for a worker, with the attempt it will be.
#[derive(Debug, Clone)]
pub struct Ticket {
    pub order_id: Arc<str>,
    pub station: usize,
    pub attempt: u32,
}

/// A FIFO of tickets that workers wait on. Bounded by admission, not by itself.
#[derive(Default)]
pub struct Queue {
    items: Mutex<VecDeque<Ticket>>,
    ready: Notify,
}

impl Queue {
    pub fn push_back(&self, ticket: Ticket) {
        self.items.lock().expect("queue lock").push_back(ticket);
        self.ready.notify_one();
    }

    /// Re-queued work goes first: it has waited longest.
    pub fn push_front(&self, ticket: Ticket) {
        self.items.lock().expect("queue lock").push_front(ticket);
        self.ready.notify_one();
    }

    pub fn len(&self) -> usize {
        self.items.lock().expect("queue lock").len()
    }

    /// Waits for the next ticket. Cancel-safe: a ticket leaves the queue only in the poll that
    /// returns it.
    pub async fn pop(&self) -> Ticket {
        loop {
            let notified = self.ready.notified();
            let next = {
                let mut items = self.items.lock().expect("queue lock");
                let next = items.pop_front();
                if next.is_some() && !items.is_empty() {
                    // Pass the wake-up on: another worker may be idle while work is waiting.
                    self.ready.notify_one();
                }
                next
            };
            if let Some(ticket) = next {
                return ticket;
            }
            notified.await;
        }
    }
}

/// A station at run time.
pub struct Station {
    pub name: String,
    pub kinds: Vec<Kind>,
    pub workers: usize,
    /// `None` in the naive profile: no admission control.
    pub capacity: Option<usize>,
    backlog: AtomicUsize,
    pub queue: Arc<Queue>,
    pub shed_total: AtomicU64,
    pub requeued_total: AtomicU64,
    pub retries_total: AtomicU64,
    pub dead_letters_total: AtomicU64,
    pub ready_total: AtomicU64,
}

impl Station {
    pub fn new(spec: &StationSpec, naive: bool, queue: Arc<Queue>) -> Station {
        Station {
            name: spec.name.clone(),
            kinds: spec.kinds.clone(),
            workers: spec.workers,
            capacity: (!naive).then_some(spec.backlog),
            backlog: AtomicUsize::new(0),
            queue,
            shed_total: AtomicU64::default(),
            requeued_total: AtomicU64::default(),
            retries_total: AtomicU64::default(),
            dead_letters_total: AtomicU64::default(),
            ready_total: AtomicU64::default(),
        }
    }

    pub fn backlog(&self) -> usize {
        self.backlog.load(Relaxed)
    }

    /// Takes a slot: `Ok(position)` (1 = next to be prepared) or `Err(backlog)` when full.
    pub fn try_take(&self) -> Result<usize, usize> {
        match self.capacity {
            None => Ok(self.backlog.fetch_add(1, Relaxed) + 1),
            Some(capacity) => self
                .backlog
                .fetch_update(Relaxed, Relaxed, |n| (n < capacity).then_some(n + 1))
                .map(|before| before + 1),
        }
    }

    /// Takes `n` slots whatever the capacity (work promised before a restart).
    pub fn take_unchecked(&self, n: usize) {
        self.backlog.fetch_add(n, Relaxed);
    }

    pub fn release(&self) {
        self.backlog.fetch_sub(1, Relaxed);
    }

    /// When an order at `position` should be ready: each worker prepares one order per prep time.
    pub fn wait_for(&self, position: usize, prep_time: Duration) -> Duration {
        prep_time * position.div_ceil(self.workers.max(1)) as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_station_refuses_a_slot_and_reports_its_backlog() {
        let spec = &StationSpec::default_layout(2, 2)[0];
        let station = Station::new(spec, false, Arc::default());
        assert_eq!(station.try_take(), Ok(1));
        assert_eq!(station.try_take(), Ok(2));
        assert_eq!(station.try_take(), Err(2));
        assert_eq!(
            station.wait_for(3, Duration::from_millis(100)),
            Duration::from_millis(200)
        );
    }
}
