//! Server metrics, hand-rolled so that each `Application` owns its own registry (tests run many
//! servers in one process) and rendered as Prometheus text at `GET /metrics`. Also holds the HTTP
//! middleware that counts every request by method, matched route template and status.

use std::{
    collections::HashMap,
    fmt::Write,
    hash::{Hash, Hasher},
    sync::{
        atomic::{AtomicI64, AtomicU64, Ordering::Relaxed},
        Arc, RwLock,
    },
    time::Instant,
};

use axum::{
    extract::{MatchedPath, Request, State},
    middleware::Next,
    response::Response,
};

/// Latency buckets in seconds: fine below 10 ms, where the shed path and cached reads live.
const BUCKETS: [f64; 16] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    5.0, 10.0,
];

#[derive(Default)]
struct RouteStats {
    count: AtomicU64,
    sum_micros: AtomicU64,
    buckets: [AtomicU64; BUCKETS.len()],
}

type RouteKey = (String, String, u16);
/// Entries grouped by a hash of their key, so that the hot path looks up without allocating.
type RouteTable = HashMap<u64, Vec<(RouteKey, Arc<RouteStats>)>>;

/// Counters and gauges; each field is named as rendered.
#[derive(Default)]
pub struct Metrics {
    routes: RwLock<RouteTable>,
    pub db_commits_total: AtomicU64,
    pub db_writes_total: AtomicU64,
    pub db_failed_commits_total: AtomicU64,
    pub menu_store_reads_total: AtomicU64,
    pub menu_cache_hits_total: AtomicU64,
    pub kitchen_backlog: AtomicI64,
    pub kitchen_backlog_capacity: AtomicI64,
    pub kitchen_queue_depth: AtomicI64,
    pub kitchen_shed_total: AtomicU64,
    pub kitchen_ready_total: AtomicU64,
    pub kitchen_expired_total: AtomicU64,
    pub inventory_adjustments_total: AtomicU64,
    pub gateway_approved_total: AtomicU64,
    pub gateway_declined_total: AtomicU64,
    pub gateway_timeout_total: AtomicU64,
    pub gateway_error_total: AtomicU64,
    pub gateway_circuit_open_total: AtomicU64,
    pub gateway_circuit_state: AtomicI64,
}

impl Metrics {
    pub fn record_request(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let stats = self.route_stats(method, route, status);
        stats.count.fetch_add(1, Relaxed);
        stats.sum_micros.fetch_add((seconds * 1e6) as u64, Relaxed);
        if let Some(i) = BUCKETS.iter().position(|b| seconds <= *b) {
            stats.buckets[i].fetch_add(1, Relaxed);
        }
    }

    fn route_stats(&self, method: &str, route: &str, status: u16) -> Arc<RouteStats> {
        let mut hasher = std::hash::DefaultHasher::new();
        (method, route, status).hash(&mut hasher);
        let hash = hasher.finish();
        let matches = |k: &RouteKey| k.0 == method && k.1 == route && k.2 == status;
        let table = self.routes.read().expect("metrics lock");
        if let Some((_, s)) = table
            .get(&hash)
            .and_then(|e| e.iter().find(|(k, _)| matches(k)))
        {
            return s.clone();
        }
        drop(table);
        let mut table = self.routes.write().expect("metrics lock");
        let entries = table.entry(hash).or_default();
        if let Some((_, s)) = entries.iter().find(|(k, _)| matches(k)) {
            return s.clone();
        }
        let stats = Arc::new(RouteStats::default());
        let key = (method.to_owned(), route.to_owned(), status);
        entries.push((key, stats.clone()));
        stats
    }

    /// Prometheus text exposition format 0.0.4.
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(8192);
        out.push_str("# HELP http_requests_total HTTP requests by method, matched route template and status.\n");
        out.push_str("# TYPE http_requests_total counter\n");
        let mut routes: Vec<(RouteKey, Arc<RouteStats>)> = self
            .routes
            .read()
            .expect("metrics lock")
            .values()
            .flatten()
            .cloned()
            .collect();
        routes.sort_by(|a, b| a.0.cmp(&b.0));
        for (k, s) in &routes {
            let labels = format!("method=\"{}\",route=\"{}\",status=\"{}\"", k.0, k.1, k.2);
            let _ = writeln!(
                out,
                "http_requests_total{{{labels}}} {}",
                s.count.load(Relaxed)
            );
        }
        out.push_str(
            "# HELP http_request_duration_seconds Request latency by method, route and status.\n",
        );
        out.push_str("# TYPE http_request_duration_seconds histogram\n");
        for (k, s) in &routes {
            let labels = format!("method=\"{}\",route=\"{}\",status=\"{}\"", k.0, k.1, k.2);
            let mut cumulative = 0;
            for (i, bound) in BUCKETS.iter().enumerate() {
                cumulative += s.buckets[i].load(Relaxed);
                let _ = writeln!(
                    out,
                    "http_request_duration_seconds_bucket{{{labels},le=\"{bound}\"}} {cumulative}"
                );
            }
            let count = s.count.load(Relaxed);
            let sum = s.sum_micros.load(Relaxed) as f64 / 1e6;
            let _ = writeln!(
                out,
                "http_request_duration_seconds_bucket{{{labels},le=\"+Inf\"}} {count}"
            );
            let _ = writeln!(out, "http_request_duration_seconds_sum{{{labels}}} {sum}");
            let _ = writeln!(
                out,
                "http_request_duration_seconds_count{{{labels}}} {count}"
            );
        }
        let counters: [(&str, &AtomicU64, &str); 9] = [
            (
                "db_commits_total",
                &self.db_commits_total,
                "SQLite transactions committed by the writer.",
            ),
            (
                "db_writes_total",
                &self.db_writes_total,
                "Write commands applied (several per commit when batched).",
            ),
            (
                "db_failed_commits_total",
                &self.db_failed_commits_total,
                "Transactions that failed to commit.",
            ),
            (
                "menu_store_reads_total",
                &self.menu_store_reads_total,
                "Menu loads from the database.",
            ),
            (
                "menu_cache_hits_total",
                &self.menu_cache_hits_total,
                "Menu reads answered from the cache.",
            ),
            (
                "kitchen_shed_total",
                &self.kitchen_shed_total,
                "Orders refused with 503 because the backlog was full.",
            ),
            (
                "kitchen_ready_total",
                &self.kitchen_ready_total,
                "Orders cooked to ready.",
            ),
            (
                "kitchen_expired_total",
                &self.kitchen_expired_total,
                "Unpaid orders expired.",
            ),
            (
                "inventory_adjustments_total",
                &self.inventory_adjustments_total,
                "Stock adjustments applied.",
            ),
        ];
        for (name, value, help) in counters {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {}",
                value.load(Relaxed)
            );
        }
        let gauges: [(&str, &AtomicI64, &str); 4] = [
            (
                "kitchen_backlog",
                &self.kitchen_backlog,
                "Orders admitted and not yet ready or expired.",
            ),
            (
                "kitchen_backlog_capacity",
                &self.kitchen_backlog_capacity,
                "Backlog beyond which orders are shed (-1: unbounded).",
            ),
            (
                "kitchen_queue_depth",
                &self.kitchen_queue_depth,
                "Orders waiting for a kitchen worker.",
            ),
            (
                "payment_circuit_state",
                &self.gateway_circuit_state,
                "0 closed, 1 open, 2 half-open.",
            ),
        ];
        for (name, value, help) in gauges {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} gauge\n{name} {}",
                value.load(Relaxed)
            );
        }
        out.push_str("# HELP payment_gateway_outcomes_total Payment attempts by outcome.\n");
        out.push_str("# TYPE payment_gateway_outcomes_total counter\n");
        for (outcome, value) in [
            ("approved", &self.gateway_approved_total),
            ("declined", &self.gateway_declined_total),
            ("timeout", &self.gateway_timeout_total),
            ("error", &self.gateway_error_total),
            ("circuit_open", &self.gateway_circuit_open_total),
        ] {
            let _ = writeln!(
                out,
                "payment_gateway_outcomes_total{{outcome=\"{outcome}\"}} {}",
                value.load(Relaxed)
            );
        }
        out
    }
}

/// Middleware counting every request under its matched route template (`unmatched` otherwise).
pub async fn track_requests(
    State(metrics): State<Arc<Metrics>>,
    request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let route = request.extensions().get::<MatchedPath>().cloned();
    let response = next.run(request).await;
    metrics.record_request(
        method.as_str(),
        route.as_ref().map_or("unmatched", MatchedPath::as_str),
        response.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_rendered_by_route_and_status_with_a_histogram() {
        let m = Metrics::default();
        m.record_request("POST", "/orders", 201, 0.002);
        m.record_request("POST", "/orders", 201, 0.2);
        let text = m.render();
        assert!(text
            .contains("http_requests_total{method=\"POST\",route=\"/orders\",status=\"201\"} 2"));
        assert!(text.contains(
            "http_request_duration_seconds_bucket{method=\"POST\",route=\"/orders\",status=\"201\",le=\"0.0025\"} 1"
        ));
        assert!(text.contains("le=\"+Inf\"} 2"));
    }
}
