//! Server metrics on the `metrics` crate, rendered by `metrics-exporter-prometheus` at
//! `GET /metrics`. Each `Application` owns its own recorder (tests run many servers in one
//! process), so handles are registered on it directly instead of through the global macros.
//!
//! Every label set is bounded by the code, never by what a client sends: the method is one of the
//! standard nine or `other`, the route is a template of the router or `unmatched`, the status is
//! one this server can answer or `other`. So `/metrics` stays the same size under any input.

use std::{
    collections::HashMap,
    sync::{Arc, RwLock},
    time::{Duration, Instant},
};

use axum::{
    extract::{MatchedPath, Request, State},
    http::Method,
    middleware::Next,
    response::Response,
};
use metrics::{Counter, Gauge, Histogram, Key, Label, Recorder};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle, PrometheusRecorder};

/// Latency buckets in seconds: fine below 10 ms, where the shed path and cached reads live.
const BUCKETS: [f64; 16] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    5.0, 10.0,
];

/// Statuses this server answers; anything else is counted as `other`.
const STATUSES: [&str; 21] = [
    "200", "201", "304", "400", "401", "402", "404", "405", "408", "409", "413", "414", "415",
    "422", "431", "500", "502", "503", "504", "204", "429",
];

/// The counter and histogram of one (method, route, status).
struct RequestSeries {
    count: Counter,
    seconds: Histogram,
}

/// Series by route, then by (method, status): a lookup borrows the route, it does not allocate.
type SeriesTable = HashMap<String, Vec<(&'static str, &'static str, Arc<RequestSeries>)>>;

/// Every metric of one server; each field is named as rendered.
pub(crate) struct Metrics {
    recorder: PrometheusRecorder,
    handle: PrometheusHandle,
    requests: RwLock<SeriesTable>,
    pub(crate) db_commits_total: Counter,
    pub(crate) db_writes_total: Counter,
    pub(crate) db_failed_commits_total: Counter,
    pub(crate) menu_store_reads_total: Counter,
    pub(crate) menu_cache_hits_total: Counter,
    pub(crate) kitchen_backlog: Gauge,
    pub(crate) kitchen_backlog_capacity: Gauge,
    pub(crate) kitchen_queue_depth: Gauge,
    pub(crate) kitchen_shed_total: Counter,
    pub(crate) kitchen_ready_total: Counter,
    pub(crate) kitchen_expired_total: Counter,
    pub(crate) inventory_adjustments_total: Counter,
    pub(crate) gateway_approved_total: Counter,
    pub(crate) gateway_declined_total: Counter,
    pub(crate) gateway_timeout_total: Counter,
    pub(crate) gateway_error_total: Counter,
    pub(crate) gateway_circuit_open_total: Counter,
    pub(crate) gateway_circuit_state: Gauge,
    /// Time of each call to the payment gateway, whatever its outcome.
    pub(crate) gateway_seconds: Histogram,
    /// Time from `BEGIN` to `COMMIT` of each of the writer's transactions.
    pub(crate) db_commit_seconds: Histogram,
    /// Write commands waiting for the writer, sampled at each batch it takes.
    pub(crate) db_writer_queue_depth: Gauge,
    http_open_connections: Gauge,
    http_refused_connections_total: Counter,
}

/// Decrements the open-connections gauge when the connection ends.
pub(crate) struct OpenConnection(Gauge);

impl Drop for OpenConnection {
    fn drop(&mut self) {
        self.0.decrement(1.0);
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub(crate) fn new() -> Self {
        let recorder = PrometheusBuilder::new()
            .set_buckets(&BUCKETS)
            .expect("the bucket list is not empty")
            .build_recorder();
        let handle = recorder.handle();
        describe(&recorder);
        let counter =
            |name: &'static str| recorder.register_counter(&Key::from_static_name(name), meta());
        let gauge =
            |name: &'static str| recorder.register_gauge(&Key::from_static_name(name), meta());
        let outcome = |value: &'static str| {
            let label = vec![Label::from_static_parts("outcome", value)];
            let key = Key::from_parts("payment_gateway_outcomes_total", label);
            recorder.register_counter(&key, meta())
        };
        Self {
            db_commits_total: counter("db_commits_total"),
            db_writes_total: counter("db_writes_total"),
            db_failed_commits_total: counter("db_failed_commits_total"),
            menu_store_reads_total: counter("menu_store_reads_total"),
            menu_cache_hits_total: counter("menu_cache_hits_total"),
            kitchen_backlog: gauge("kitchen_backlog"),
            kitchen_backlog_capacity: gauge("kitchen_backlog_capacity"),
            kitchen_queue_depth: gauge("kitchen_queue_depth"),
            kitchen_shed_total: counter("kitchen_shed_total"),
            kitchen_ready_total: counter("kitchen_ready_total"),
            kitchen_expired_total: counter("kitchen_expired_total"),
            inventory_adjustments_total: counter("inventory_adjustments_total"),
            gateway_approved_total: outcome("approved"),
            gateway_declined_total: outcome("declined"),
            gateway_timeout_total: outcome("timeout"),
            gateway_error_total: outcome("error"),
            gateway_circuit_open_total: outcome("circuit_open"),
            gateway_circuit_state: gauge("payment_circuit_state"),
            gateway_seconds: recorder.register_histogram(
                &Key::from_static_name("payment_gateway_duration_seconds"),
                meta(),
            ),
            db_commit_seconds: recorder
                .register_histogram(&Key::from_static_name("db_commit_duration_seconds"), meta()),
            db_writer_queue_depth: gauge("db_writer_queue_depth"),
            http_open_connections: gauge("http_open_connections"),
            http_refused_connections_total: counter("http_refused_connections_total"),
            requests: RwLock::default(),
            handle,
            recorder,
        }
    }

    /// Counts one answer; the labels are bounded before they reach the recorder.
    pub(crate) fn record_request(&self, method: &Method, route: &str, status: u16, took: Duration) {
        let series = self.series(method_label(method), route, status_label(status));
        series.count.increment(1);
        series.seconds.record(took.as_secs_f64());
    }

    fn series(
        &self,
        method: &'static str,
        route: &str,
        status: &'static str,
    ) -> Arc<RequestSeries> {
        let find = |table: &SeriesTable| {
            table.get(route).and_then(|all| {
                all.iter()
                    .find(|(m, s, _)| *m == method && *s == status)
                    .map(|(_, _, series)| series.clone())
            })
        };
        if let Some(found) = find(&self.requests.read().expect("metrics lock")) {
            return found;
        }
        let mut table = self.requests.write().expect("metrics lock");
        if let Some(found) = find(&table) {
            return found;
        }
        let labels = vec![
            Label::from_static_parts("method", method),
            Label::new("route", route.to_owned()),
            Label::from_static_parts("status", status),
        ];
        let series = Arc::new(RequestSeries {
            count: self.recorder.register_counter(
                &Key::from_parts("http_requests_total", labels.clone()),
                meta(),
            ),
            seconds: self.recorder.register_histogram(
                &Key::from_parts("http_request_duration_seconds", labels),
                meta(),
            ),
        });
        table
            .entry(route.to_owned())
            .or_default()
            .push((method, status, series.clone()));
        series
    }

    pub(crate) fn connection_opened(&self) -> OpenConnection {
        self.http_open_connections.increment(1.0);
        OpenConnection(self.http_open_connections.clone())
    }

    pub(crate) fn connection_refused(&self) {
        self.http_refused_connections_total.increment(1);
    }

    /// A gauge of `name` with labels fixed by the configuration (a station, a worker).
    pub(crate) fn labelled_gauge(
        &self,
        name: &'static str,
        labels: &[(&'static str, &str)],
    ) -> Gauge {
        self.recorder
            .register_gauge(&Key::from_parts(name, owned(labels)), meta())
    }

    /// A counter of `name` with labels fixed by the configuration; its owner
    /// sets it with `absolute` from its own count.
    pub(crate) fn labelled_counter(
        &self,
        name: &'static str,
        labels: &[(&'static str, &str)],
    ) -> Counter {
        self.recorder
            .register_counter(&Key::from_parts(name, owned(labels)), meta())
    }

    /// The `# HELP` text of a series registered elsewhere (the kitchen's).
    pub(crate) fn describe(&self, name: &'static str, text: &'static str) {
        self.recorder
            .describe_counter(name.into(), None, text.into());
    }

    /// Prometheus text exposition format 0.0.4.
    pub(crate) fn render(&self) -> String {
        self.handle.render()
    }

    /// Folds recorded latencies into their buckets; run periodically so that memory stays flat
    /// between scrapes.
    pub(crate) fn upkeep(&self) {
        self.handle.run_upkeep();
    }
}

fn owned(labels: &[(&'static str, &str)]) -> Vec<Label> {
    labels
        .iter()
        .map(|(k, v)| Label::new(*k, (*v).to_owned()))
        .collect()
}

fn meta() -> &'static metrics::Metadata<'static> {
    static META: metrics::Metadata<'static> =
        metrics::Metadata::new(module_path!(), metrics::Level::INFO, None);
    &META
}

fn describe(recorder: &PrometheusRecorder) {
    let help: [(&'static str, &'static str); 21] = [
        (
            "payment_gateway_duration_seconds",
            "Time of each call to the payment gateway, whatever its outcome.",
        ),
        (
            "db_commit_duration_seconds",
            "Time from BEGIN to COMMIT of each writer transaction.",
        ),
        (
            "db_writer_queue_depth",
            "Write commands waiting for the writer, sampled at each batch.",
        ),
        (
            "http_requests_total",
            "HTTP answers by method, matched route template and status.",
        ),
        (
            "http_request_duration_seconds",
            "Time to answer, by method, route and status.",
        ),
        ("http_open_connections", "Client connections open now."),
        (
            "http_refused_connections_total",
            "Connections refused with 503 over the connection cap.",
        ),
        (
            "db_commits_total",
            "SQLite transactions committed by the writer.",
        ),
        (
            "db_writes_total",
            "Write commands applied (several per commit when batched).",
        ),
        (
            "db_failed_commits_total",
            "Transactions that failed to commit.",
        ),
        ("menu_store_reads_total", "Menu loads from the database."),
        (
            "menu_cache_hits_total",
            "Menu reads answered from the cache.",
        ),
        (
            "kitchen_backlog",
            "Orders admitted and not yet ready or expired.",
        ),
        (
            "kitchen_backlog_capacity",
            "Backlog beyond which orders are shed (-1: unbounded).",
        ),
        (
            "kitchen_queue_depth",
            "Orders waiting for a kitchen worker.",
        ),
        (
            "kitchen_shed_total",
            "Orders refused with 503 because the backlog was full.",
        ),
        ("kitchen_ready_total", "Orders cooked to ready."),
        ("kitchen_expired_total", "Unpaid orders expired."),
        ("inventory_adjustments_total", "Stock adjustments applied."),
        ("payment_circuit_state", "0 closed, 1 open, 2 half-open."),
        (
            "payment_gateway_outcomes_total",
            "Payment attempts by outcome.",
        ),
    ];
    for (name, text) in help {
        // The exporter keeps one description per name, whatever the metric's kind.
        recorder.describe_counter(name.into(), None, text.into());
    }
}

fn method_label(method: &Method) -> &'static str {
    const KNOWN: [Method; 9] = [
        Method::GET,
        Method::HEAD,
        Method::POST,
        Method::PUT,
        Method::DELETE,
        Method::PATCH,
        Method::OPTIONS,
        Method::TRACE,
        Method::CONNECT,
    ];
    const NAMES: [&str; 9] = [
        "GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "CONNECT",
    ];
    KNOWN
        .iter()
        .position(|m| m == method)
        .map_or("other", |i| NAMES[i])
}

fn status_label(status: u16) -> &'static str {
    let text = status.to_string();
    STATUSES
        .iter()
        .find(|s| **s == text)
        .copied()
        .unwrap_or("other")
}

/// Middleware counting every request under its matched route template (`unmatched` otherwise).
pub(crate) async fn track_requests(
    State(metrics): State<Arc<Metrics>>,
    request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let route = request.extensions().get::<MatchedPath>().cloned();
    let response = next.run(request).await;
    metrics.record_request(
        &method,
        route.as_ref().map_or("unmatched", MatchedPath::as_str),
        response.status().as_u16(),
        started.elapsed(),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_rendered_by_route_and_status_with_a_histogram() {
        let m = Metrics::new();
        m.record_request(&Method::POST, "/orders", 201, Duration::from_millis(2));
        m.record_request(&Method::POST, "/orders", 201, Duration::from_millis(200));
        let text = m.render();
        assert!(text
            .contains("http_requests_total{method=\"POST\",route=\"/orders\",status=\"201\"} 2"));
        assert!(text.contains(
            "http_request_duration_seconds_bucket{method=\"POST\",route=\"/orders\",status=\"201\",le=\"0.0025\"} 1"
        ));
        assert!(text.contains("le=\"+Inf\"} 2"), "{text}");
    }

    #[test]
    fn made_up_methods_and_statuses_share_one_label() {
        let m = Metrics::new();
        for i in 0..100 {
            let method = Method::from_bytes(format!("X{i}").as_bytes()).unwrap();
            m.record_request(&method, "unmatched", 405, Duration::ZERO);
            m.record_request(&Method::GET, "unmatched", 600 + i, Duration::ZERO);
        }
        let text = m.render();
        assert!(text.contains(
            "http_requests_total{method=\"other\",route=\"unmatched\",status=\"405\"} 100"
        ));
        assert!(text.contains(
            "http_requests_total{method=\"GET\",route=\"unmatched\",status=\"other\"} 100"
        ));
        assert_eq!(text.matches("http_requests_total{").count(), 2, "{text}");
    }

    #[test]
    fn the_gateway_the_writer_and_labelled_series_render_on_the_one_exporter() {
        let m = Metrics::new();
        m.gateway_seconds.record(0.2);
        m.db_commit_seconds.record(0.004);
        m.db_writer_queue_depth.set(3.0);
        let backlog = m.labelled_gauge("kitchen_station_backlog", &[("station", "grill")]);
        backlog.set(12.0);
        let shed = m.labelled_counter("kitchen_station_shed_total", &[("station", "grill")]);
        shed.absolute(7);
        let text = m.render();
        assert!(
            text.contains("payment_gateway_duration_seconds_count 1"),
            "{text}"
        );
        assert!(
            text.contains("db_commit_duration_seconds_count 1"),
            "{text}"
        );
        assert!(text.contains("db_writer_queue_depth 3"), "{text}");
        assert!(
            text.contains("kitchen_station_backlog{station=\"grill\"} 12"),
            "{text}"
        );
        assert!(
            text.contains("# TYPE kitchen_station_shed_total counter"),
            "{text}"
        );
        assert!(
            text.contains("kitchen_station_shed_total{station=\"grill\"} 7"),
            "{text}"
        );
    }
}
