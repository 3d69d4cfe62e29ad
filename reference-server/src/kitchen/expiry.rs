//! Unpaid orders: an admitted order holds its station slot while it waits for payment; one never
//! paid expires after `--unpaid-expiry-ms` and gives back its slot and its stock.

use std::{
    collections::{HashMap, VecDeque},
    sync::Arc,
    time::{Duration, Instant},
};

use tokio_util::sync::CancellationToken;

use super::Kitchen;
use crate::store::{self, kitchen::Expiry, Store};

/// Expiry checks written per round by the sweeper.
const EXPIRY_CHUNK: usize = 1024;

/// Unpaid orders by id (removed when paid) and their expiry deadlines in arrival order.
#[derive(Default)]
pub(super) struct Unpaid {
    /// Ids are shared between both collections: one allocation per waiting order. The value
    /// holds the deadline and the station whose slot the order holds.
    waiting: HashMap<Arc<str>, (Instant, usize)>,
    deadlines: VecDeque<(Instant, Arc<str>)>,
}

impl Kitchen {
    pub(super) fn await_payment(&self, id: Arc<str>, station: usize) {
        let deadline = Instant::now() + self.expiry;
        let mut unpaid = self.unpaid.lock().expect("unpaid lock");
        unpaid.waiting.insert(id.clone(), (deadline, station));
        unpaid.deadlines.push_back((deadline, id));
    }

    /// Removes the order from the watch; its station if it was waiting.
    pub(super) fn stop_watching(&self, order_id: &str) -> Option<usize> {
        self.unpaid
            .lock()
            .expect("unpaid lock")
            .waiting
            .remove(order_id)
            .map(|(_, station)| station)
    }

    pub(super) async fn sweep(self: Arc<Self>, store: Store, token: CancellationToken) {
        let period = (self.expiry / 10).clamp(Duration::from_millis(10), Duration::from_secs(1));
        let mut tick = tokio::time::interval(period);
        while !token.is_cancelled() {
            tokio::select! {
                _ = token.cancelled() => return,
                _ = tick.tick() => {}
            }
            // In chunks, so that a wave of expiries never holds more than a chunk of writes in memory.
            loop {
                let due = self.take_due(EXPIRY_CHUNK);
                if due.is_empty() || token.is_cancelled() {
                    break;
                }
                self.expire(&store, due).await;
            }
        }
    }

    async fn expire(&self, store: &Store, due: Vec<String>) {
        let checks = due.into_iter().map(|id| {
            let store = store.clone();
            async move {
                let id2 = id.clone();
                let outcome = store.write(move |c| store::kitchen::expire(c, &id2)).await;
                (id, outcome)
            }
        });
        for (id, outcome) in futures::future::join_all(checks).await {
            match outcome {
                Ok(Expiry::Expired) => {
                    if let Some(station) = self.stop_watching(&id) {
                        self.metrics.kitchen_expired_total.increment(1);
                        self.release(station);
                    }
                }
                Ok(Expiry::NotYet) | Err(_) => self.retry_later(id),
                Ok(Expiry::Settled) => {}
            }
        }
    }

    /// Unpaid orders whose deadline has passed and that were not paid meanwhile.
    fn take_due(&self, limit: usize) -> Vec<String> {
        let now = Instant::now();
        let mut unpaid = self.unpaid.lock().expect("unpaid lock");
        let Unpaid { waiting, deadlines } = &mut *unpaid;
        let mut due = Vec::new();
        while due.len() < limit && deadlines.front().is_some_and(|(at, _)| *at <= now) {
            let (_, id) = deadlines.pop_front().expect("front exists");
            if waiting.contains_key(&id) {
                due.push(id.to_string());
            }
        }
        due
    }

    fn retry_later(&self, id: String) {
        let deadline = Instant::now() + Duration::from_secs(1);
        self.unpaid
            .lock()
            .expect("unpaid lock")
            .deadlines
            .push_back((deadline, id.into()));
    }
}
