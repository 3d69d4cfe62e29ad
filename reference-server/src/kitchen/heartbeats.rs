//! The heartbeat monitor (not in the naive profile): a worker silent for longer than
//! `--heartbeat-timeout-ms` is marked offline, and every order it held is written back as
//! `requeued` and put at the front of its station's queue, so the next free worker of that station
//! prepares it. The lease the silent worker held is gone, so it cannot finish that order any more.

use std::sync::{atomic::Ordering::Relaxed, Arc};

use super::{stations::Ticket, Kitchen};
use crate::store;

pub(super) async fn monitor(kitchen: Arc<Kitchen>) {
    let token = kitchen.runtime().token.clone();
    let mut tick = tokio::time::interval(kitchen.heartbeat);
    let timeout_ms = kitchen.heartbeat_timeout.as_millis() as u64;
    loop {
        tokio::select! {
            _ = token.cancelled() => return,
            _ = tick.tick() => {}
        }
        let now = kitchen.now_ms();
        for worker in &kitchen.workers {
            let silent = worker
                .last_beat_ms()
                .is_some_and(|at| now.saturating_sub(at) > timeout_ms);
            if !silent {
                continue;
            }
            let lost = worker.declare_offline();
            if !lost.is_empty() {
                tracing::warn!(worker = %worker.name, orders = lost.len(),
                    "worker missed its heartbeats; its orders go back on its station's queue");
            }
            for ticket in lost {
                requeue(&kitchen, &worker.name, ticket).await;
            }
        }
    }
}

/// Writes `requeued` (when the order was still being prepared) and puts the ticket back in front.
async fn requeue(kitchen: &Kitchen, worker: &str, ticket: Ticket) {
    let id = ticket.order_id.clone();
    let detail = format!("{worker} missed its heartbeats");
    let written = kitchen
        .runtime()
        .store
        .write(move |c| store::kitchen::requeue(c, &id, &["preparing"], "kitchen", &detail))
        .await;
    if let Err(e) = written {
        // The ticket goes back anyway: the start transition accepts `preparing`.
        tracing::warn!(order_id = %ticket.order_id, error = %e, "could not record a re-queue");
    }
    let station = &kitchen.stations[ticket.station];
    station.requeued_total.fetch_add(1, Relaxed);
    kitchen.metrics.kitchen_queue_depth.increment((1) as f64);
    station.queue.push_front(ticket);
}
