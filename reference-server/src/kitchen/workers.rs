//! Named workers: each takes the next order from its station's queue, holds it under a lease while
//! preparing it, and beats a heartbeat the whole time (waiting or preparing).
//!
//! A worker is stopped as a crash would stop it: at its next wait (for an order or during the
//! preparation) it returns, leaving the orders it holds and no cleanup; the heartbeat monitor finds
//! them. Finishing needs the lease: once the monitor has taken an order back, the worker that held it
//! cannot finish it, so an order is never made twice.

use std::sync::{
    atomic::{AtomicU64, Ordering::Relaxed},
    Arc, Mutex,
};

use tokio::time::MissedTickBehavior;
use tokio_util::sync::CancellationToken;

use super::{retries, rfc3339_in, stations::Ticket, Kitchen};
use crate::store;

/// A worker as the kitchen tracks it.
pub struct Worker {
    pub name: String,
    pub station: usize,
    state: Mutex<State>,
    /// Milliseconds since the kitchen's epoch; 0 before the first beat.
    last_beat_ms: AtomicU64,
    pub processed: AtomicU64,
}

#[derive(Default)]
struct State {
    /// `Some` while its task runs; cancelled to stop it.
    kill: Option<CancellationToken>,
    /// Marked by the heartbeat monitor; cleared by the worker's next beat.
    offline: bool,
    held: Vec<Held>,
    next_lease: u64,
}

struct Held {
    ticket: Ticket,
    lease: u64,
}

/// What `GET /workers` says about a worker's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Liveness {
    Online,
    /// Taken away by an operator; its heartbeats have not been missed yet (or never will be: the
    /// naive profile has none).
    Stopped,
    /// Missed its heartbeats; what it held is back on its station's queue.
    Offline,
}

impl Worker {
    pub fn new(name: String, station: usize) -> Worker {
        Worker {
            name,
            station,
            state: Mutex::default(),
            last_beat_ms: AtomicU64::new(0),
            processed: AtomicU64::new(0),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().expect("worker lock")
    }

    /// A new kill switch if the worker was not running (its task is to be spawned).
    pub(super) fn revive(&self, now_ms: u64) -> Option<CancellationToken> {
        let mut state = self.state();
        if state.kill.is_some() {
            return None;
        }
        let kill = CancellationToken::new();
        state.kill = Some(kill.clone());
        drop(state);
        self.beat(now_ms);
        Some(kill)
    }

    pub(super) fn kill(&self) {
        if let Some(kill) = self.state().kill.take() {
            kill.cancel();
        }
    }

    pub(super) fn beat(&self, now_ms: u64) {
        self.last_beat_ms.store(now_ms.max(1), Relaxed);
        self.state().offline = false;
    }

    pub(super) fn last_beat_ms(&self) -> Option<u64> {
        Some(self.last_beat_ms.load(Relaxed)).filter(|ms| *ms > 0)
    }

    pub(super) fn liveness(&self) -> Liveness {
        let state = self.state();
        match (state.offline, state.kill.is_some()) {
            (true, _) => Liveness::Offline,
            (false, false) => Liveness::Stopped,
            (false, true) => Liveness::Online,
        }
    }

    pub(super) fn held_orders(&self) -> Vec<String> {
        let state = self.state();
        state
            .held
            .iter()
            .map(|h| h.ticket.order_id.to_string())
            .collect()
    }

    fn hold(&self, ticket: Ticket) -> u64 {
        let mut state = self.state();
        state.next_lease += 1;
        let lease = state.next_lease;
        state.held.push(Held { ticket, lease });
        lease
    }

    /// Gives back the ticket if the lease still holds it (the order was not taken back meanwhile).
    fn complete(&self, lease: u64) -> Option<Ticket> {
        let mut state = self.state();
        let at = state.held.iter().position(|h| h.lease == lease)?;
        Some(state.held.swap_remove(at).ticket)
    }

    /// Called by the heartbeat monitor: marks the worker offline and takes back what it holds.
    pub(super) fn declare_offline(&self) -> Vec<Ticket> {
        let mut state = self.state();
        state.offline = true;
        state.held.drain(..).map(|h| h.ticket).collect()
    }
}

/// One worker's life: beat, take an order, prepare it; until stopped or shut down.
pub(super) async fn run(kitchen: Arc<Kitchen>, index: usize, kill: CancellationToken) {
    let runtime = kitchen.runtime();
    let worker = &kitchen.workers[index];
    let station = &kitchen.stations[worker.station];
    let beats = !kitchen.naive;
    let mut beat = tokio::time::interval(kitchen.heartbeat);
    beat.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        let ticket = tokio::select! {
            biased;
            _ = kill.cancelled() => return,
            _ = runtime.token.cancelled() => return,
            _ = beat.tick(), if beats => {
                worker.beat(kitchen.now_ms());
                continue;
            }
            ticket = station.queue.pop() => ticket,
        };
        kitchen.metrics.kitchen_queue_depth.decrement((1) as f64);
        let lease = worker.hold(ticket.clone());
        if !start(&kitchen, index, &ticket).await {
            if worker.complete(lease).is_some() {
                kitchen.release(ticket.station);
            }
            continue;
        }
        // Preparing: the heartbeat goes on; a stop or a shutdown leaves the order `preparing`.
        let cooked = tokio::time::sleep(kitchen.prep_time);
        tokio::pin!(cooked);
        loop {
            tokio::select! {
                biased;
                _ = kill.cancelled() => return,
                _ = runtime.token.cancelled() => return,
                _ = beat.tick(), if beats => worker.beat(kitchen.now_ms()),
                _ = &mut cooked => break,
            }
        }
        let Some(ticket) = worker.complete(lease) else {
            tracing::info!(worker = %worker.name, order_id = %ticket.order_id,
                "the order was re-queued while this worker was silent; leaving it to its new worker");
            continue;
        };
        if kitchen.retry.fails() {
            retries::failed(&kitchen, index, ticket).await;
        } else {
            finish(&kitchen, index, ticket).await;
        }
    }
}

/// Marks the order `preparing` by this worker; false if it is not to be prepared (any more).
async fn start(kitchen: &Kitchen, index: usize, ticket: &Ticket) -> bool {
    let worker = kitchen.workers[index].name.clone();
    let (id, attempt) = (ticket.order_id.clone(), ticket.attempt);
    let eta = rfc3339_in(kitchen.prep_time);
    let started = kitchen
        .runtime()
        .store
        .write(move |c| store::kitchen::start(c, &id, &worker, attempt, &eta))
        .await;
    match started {
        Ok(started) => started,
        Err(e) => {
            tracing::warn!(order_id = %ticket.order_id, error = %e, "could not start an order");
            false
        }
    }
}

/// Queues `ready` without waiting for its commit, so a commit's latency does not stretch the
/// cycle (capacity stays workers / prep time); the slot is given back once `ready` is committed.
async fn finish(kitchen: &Arc<Kitchen>, index: usize, ticket: Ticket) {
    let worker = kitchen.workers[index].name.clone();
    let (id, attempt) = (ticket.order_id.clone(), ticket.attempt);
    let runtime = kitchen.runtime();
    let queued = runtime
        .store
        .enqueue(move |c| store::kitchen::finish(c, &id, &worker, attempt))
        .await;
    let committed = match queued {
        Ok(committed) => committed,
        Err(e) => {
            tracing::warn!(order_id = %ticket.order_id, error = %e, "could not finish an order");
            return;
        }
    };
    let kitchen = kitchen.clone();
    runtime.tracker.spawn(async move {
        match committed.await {
            Ok(made) => {
                if made {
                    kitchen.metrics.kitchen_ready_total.increment(1);
                    kitchen.stations[ticket.station]
                        .ready_total
                        .fetch_add(1, Relaxed);
                    kitchen.workers[index].processed.fetch_add(1, Relaxed);
                }
                kitchen.release(ticket.station);
            }
            Err(e) => {
                tracing::warn!(order_id = %ticket.order_id, error = %e, "could not finish an order")
            }
        }
    });
}
