//! What the kitchen tells operators: `GET /workers`, the stations' state, and the kitchen's series
//! in `/metrics`, on the server's one exporter (labelled by station and worker only, both fixed
//! by the configuration).

use std::sync::atomic::Ordering::Relaxed;

use serde::Serialize;

use super::{workers::Liveness, Kitchen};
use crate::metrics::Metrics;

/// One worker in `GET /workers`.
#[derive(Debug, Clone, Serialize)]
pub struct WorkerView {
    pub name: String,
    pub station: String,
    /// `online`, `stopped` (taken away, heartbeats not yet missed) or `offline`.
    pub state: &'static str,
    pub orders_processed: u64,
    /// Orders it is preparing now.
    pub holding: Vec<String>,
    /// RFC 3339; `null` in the naive profile, which has no heartbeats.
    pub last_heartbeat: Option<String>,
}

/// One station in `GET /workers`.
#[derive(Debug, Clone, Serialize)]
pub struct StationView {
    pub name: String,
    pub kinds: Vec<&'static str>,
    pub backlog: usize,
    /// `null`: unbounded (naive).
    pub capacity: Option<usize>,
    pub queued: usize,
    pub shed: u64,
    pub requeued: u64,
    pub retries: u64,
    pub dead_letters: u64,
    pub ready: u64,
}

impl Liveness {
    fn as_str(self) -> &'static str {
        match self {
            Liveness::Online => "online",
            Liveness::Stopped => "stopped",
            Liveness::Offline => "offline",
        }
    }
}

impl Kitchen {
    pub(super) fn worker_view(&self, index: usize) -> WorkerView {
        let worker = &self.workers[index];
        let last_heartbeat = (!self.naive)
            .then(|| worker.last_beat_ms())
            .flatten()
            .map(|ms| ago_rfc3339(self.now_ms().saturating_sub(ms)));
        WorkerView {
            name: worker.name.clone(),
            station: self.stations[worker.station].name.clone(),
            state: worker.liveness().as_str(),
            orders_processed: worker.processed.load(Relaxed),
            holding: worker.held_orders(),
            last_heartbeat,
        }
    }

    pub fn workers_view(&self) -> Vec<WorkerView> {
        (0..self.workers.len())
            .map(|i| self.worker_view(i))
            .collect()
    }

    pub fn stations_view(&self) -> Vec<StationView> {
        self.stations
            .iter()
            .map(|s| StationView {
                name: s.name.clone(),
                kinds: s.kinds.iter().map(|k| k.as_str()).collect(),
                backlog: s.backlog(),
                capacity: s.capacity,
                queued: s.queue.len(),
                shed: s.shed_total.load(Relaxed),
                requeued: s.requeued_total.load(Relaxed),
                retries: s.retries_total.load(Relaxed),
                dead_letters: s.dead_letters_total.load(Relaxed),
                ready: s.ready_total.load(Relaxed),
            })
            .collect()
    }

    /// Sets the kitchen's series to the stations', workers' and streams'
    /// state now, just before `/metrics` renders them.
    pub fn publish_metrics(&self) {
        self.series
            .publish(&self.stations_view(), &self.workers_view(), &self.events);
    }
}

/// The kitchen's series on the server's one Prometheus exporter, registered
/// once per station and worker (both fixed by the configuration, so the
/// label sets are bounded) and set from the kitchen's own counts at each
/// scrape. Names and labels are the ones `/metrics` has always served.
pub(super) struct KitchenSeries {
    stations: Vec<StationSeries>,
    workers: Vec<(metrics::Gauge, metrics::Counter)>,
    dead_letters: metrics::Counter,
    subscribers_order: metrics::Gauge,
    subscribers_all: metrics::Gauge,
    lagged: metrics::Counter,
}

struct StationSeries {
    backlog: metrics::Gauge,
    capacity: metrics::Gauge,
    shed: metrics::Counter,
    requeued: metrics::Counter,
    retries: metrics::Counter,
    dead_letters: metrics::Counter,
    ready: metrics::Counter,
}

const HELP: [(&str, &str); 12] = [
    (
        "kitchen_station_backlog",
        "Orders admitted to the station and not yet ready.",
    ),
    (
        "kitchen_station_backlog_capacity",
        "Backlog beyond which the station sheds (-1: unbounded).",
    ),
    (
        "kitchen_station_shed_total",
        "Orders refused with 503 because the station was full.",
    ),
    (
        "kitchen_station_requeued_total",
        "Orders put back on the queue after their worker went offline.",
    ),
    (
        "kitchen_station_retries_total",
        "Failed preparations that will be tried again.",
    ),
    (
        "kitchen_station_dead_letters_total",
        "Orders moved to the dead-letter table.",
    ),
    ("kitchen_station_ready_total", "Orders prepared to ready."),
    (
        "kitchen_dead_letters_total",
        "Orders moved to the dead-letter table.",
    ),
    (
        "kitchen_worker_online",
        "1 if the worker is online, 0 if stopped or offline.",
    ),
    (
        "kitchen_worker_orders_total",
        "Orders the worker prepared to ready.",
    ),
    ("events_subscribers", "Open Server-Sent Event streams."),
    (
        "events_lagged_total",
        "Order streams closed because their client did not read.",
    ),
];

impl KitchenSeries {
    pub(super) fn register(
        metrics: &Metrics,
        stations: &[String],
        workers: &[(String, String)],
    ) -> Self {
        for (name, text) in HELP {
            metrics.describe(name, text);
        }
        let stations = stations
            .iter()
            .map(|station| {
                let l = [("station", station.as_str())];
                StationSeries {
                    backlog: metrics.labelled_gauge("kitchen_station_backlog", &l),
                    capacity: metrics.labelled_gauge("kitchen_station_backlog_capacity", &l),
                    shed: metrics.labelled_counter("kitchen_station_shed_total", &l),
                    requeued: metrics.labelled_counter("kitchen_station_requeued_total", &l),
                    retries: metrics.labelled_counter("kitchen_station_retries_total", &l),
                    dead_letters: metrics
                        .labelled_counter("kitchen_station_dead_letters_total", &l),
                    ready: metrics.labelled_counter("kitchen_station_ready_total", &l),
                }
            })
            .collect();
        let workers = workers
            .iter()
            .map(|(worker, station)| {
                let l = [("worker", worker.as_str()), ("station", station.as_str())];
                (
                    metrics.labelled_gauge("kitchen_worker_online", &l),
                    metrics.labelled_counter("kitchen_worker_orders_total", &l),
                )
            })
            .collect();
        KitchenSeries {
            stations,
            workers,
            dead_letters: metrics.labelled_counter("kitchen_dead_letters_total", &[]),
            subscribers_order: metrics.labelled_gauge("events_subscribers", &[("stream", "order")]),
            subscribers_all: metrics.labelled_gauge("events_subscribers", &[("stream", "all")]),
            lagged: metrics.labelled_counter("events_lagged_total", &[]),
        }
    }

    fn publish(
        &self,
        stations: &[StationView],
        workers: &[WorkerView],
        events: &super::events::EventBus,
    ) {
        for (series, s) in self.stations.iter().zip(stations) {
            series.backlog.set(s.backlog as f64);
            series.capacity.set(s.capacity.map_or(-1.0, |c| c as f64));
            series.shed.absolute(s.shed);
            series.requeued.absolute(s.requeued);
            series.retries.absolute(s.retries);
            series.dead_letters.absolute(s.dead_letters);
            series.ready.absolute(s.ready);
        }
        self.dead_letters
            .absolute(stations.iter().map(|s| s.dead_letters).sum());
        for ((online, orders), w) in self.workers.iter().zip(workers) {
            online.set(f64::from(u8::from(w.state == "online")));
            orders.absolute(w.orders_processed);
        }
        let (per_order, all) = events.subscribers();
        self.subscribers_order.set(per_order as f64);
        self.subscribers_all.set(all as f64);
        self.lagged.absolute(events.lagged_total.load(Relaxed));
    }
}

/// RFC 3339 of `ago_ms` milliseconds before now.
fn ago_rfc3339(ago_ms: u64) -> String {
    (time::OffsetDateTime::now_utc() - std::time::Duration::from_millis(ago_ms))
        .format(&time::format_description::well_known::Rfc3339)
        .expect("formatting a time")
}
