//! What the kitchen tells operators: `GET /workers`, the stations' state, and the kitchen's series
//! in `/metrics` (labelled by station and worker only, both fixed by the configuration).

use std::{fmt::Write, sync::atomic::Ordering::Relaxed};

use serde::Serialize;

use super::{workers::Liveness, Kitchen};

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

    /// Appends the kitchen's series to a Prometheus text exposition.
    pub fn render_metrics(&self, out: &mut String) {
        let stations = self.stations_view();
        type Column = fn(&super::StationView) -> f64;
        let series: [(&str, &str, &str, Column); 7] = [
            (
                "kitchen_station_backlog",
                "gauge",
                "Orders admitted to the station and not yet ready.",
                |s| s.backlog as f64,
            ),
            (
                "kitchen_station_backlog_capacity",
                "gauge",
                "Backlog beyond which the station sheds (-1: unbounded).",
                |s| s.capacity.map_or(-1.0, |c| c as f64),
            ),
            (
                "kitchen_station_shed_total",
                "counter",
                "Orders refused with 503 because the station was full.",
                |s| s.shed as f64,
            ),
            (
                "kitchen_station_requeued_total",
                "counter",
                "Orders put back on the queue after their worker went offline.",
                |s| s.requeued as f64,
            ),
            (
                "kitchen_station_retries_total",
                "counter",
                "Failed preparations that will be tried again.",
                |s| s.retries as f64,
            ),
            (
                "kitchen_station_dead_letters_total",
                "counter",
                "Orders moved to the dead-letter table.",
                |s| s.dead_letters as f64,
            ),
            (
                "kitchen_station_ready_total",
                "counter",
                "Orders prepared to ready.",
                |s| s.ready as f64,
            ),
        ];
        for (name, kind, help, value) in series {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
            for s in &stations {
                let _ = writeln!(out, "{name}{{station=\"{}\"}} {}", s.name, value(s));
            }
        }
        let _ = writeln!(
            out,
            "# HELP kitchen_dead_letters_total Orders moved to the dead-letter table.\n# TYPE kitchen_dead_letters_total counter\nkitchen_dead_letters_total {}",
            stations.iter().map(|s| s.dead_letters).sum::<u64>()
        );
        let _ = writeln!(out, "# HELP kitchen_worker_online 1 if the worker is online, 0 if stopped or offline.\n# TYPE kitchen_worker_online gauge");
        let workers = self.workers_view();
        for w in &workers {
            let online = u8::from(w.state == "online");
            let _ = writeln!(
                out,
                "kitchen_worker_online{{worker=\"{}\",station=\"{}\"}} {online}",
                w.name, w.station
            );
        }
        let _ = writeln!(out, "# HELP kitchen_worker_orders_total Orders the worker prepared to ready.\n# TYPE kitchen_worker_orders_total counter");
        for w in &workers {
            let _ = writeln!(
                out,
                "kitchen_worker_orders_total{{worker=\"{}\",station=\"{}\"}} {}",
                w.name, w.station, w.orders_processed
            );
        }
        let (per_order, all) = self.events.subscribers();
        let _ = writeln!(
            out,
            "# HELP events_subscribers Open Server-Sent Event streams.\n# TYPE events_subscribers gauge\nevents_subscribers{{stream=\"order\"}} {per_order}\nevents_subscribers{{stream=\"all\"}} {all}"
        );
        let _ = writeln!(
            out,
            "# HELP events_lagged_total Order streams closed because their client did not read.\n# TYPE events_lagged_total counter\nevents_lagged_total {}",
            self.events.lagged_total.load(Relaxed)
        );
    }
}

/// RFC 3339 of `ago_ms` milliseconds before now.
fn ago_rfc3339(ago_ms: u64) -> String {
    (time::OffsetDateTime::now_utc() - std::time::Duration::from_millis(ago_ms))
        .format(&time::format_description::well_known::Rfc3339)
        .expect("formatting a time")
}
