//! Server metrics: the target's (and the fault proxy's) Prometheus text
//! endpoint read once a second through the run, on a thread of its own with
//! its own client and timeout, into the named series a scenario declares
//! (`[[server_metrics.series]]`). The series share the run's time axis, so the
//! summary, gates, reports, compare, capacity and merge treat them like any
//! other figure.
//!
//! The declarations and the series are plain data here; [`Scraper`] runs the
//! scrapes, `fold` turns samples into series, `selector` reads
//! `metric{label="value"}`.

mod fold;
mod selector;
mod task;

pub use fold::{downsample, show_labels, Labels, Sample, TickPoint};
pub use selector::{is_name, Selector};
pub use task::{parse_text, preflight, Endpoint, Listener, ScrapeOutcome, Scraper};

use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Runs up to this long keep a point per scrape in summary.json; longer ones
/// are averaged down to about 600 points per series (see [`downsample`]).
pub const FULL_RATE_S: f64 = 600.0;

/// How often the endpoint is read when the scenario does not say.
pub const DEFAULT_INTERVAL: Duration = Duration::from_secs(1);

/// Label sets one declaration may split into before the rest are dropped: a
/// chart per label set stays readable, and a label that carries an id (an
/// order, a user) cannot blow up the summary.
pub const DEFAULT_MAX_SERIES: usize = 20;

/// How a declared series is read from its samples.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SeriesKind {
    /// The value as scraped (a backlog, a state, a count of open streams).
    Gauge,
    /// A counter's increase per second between two scrapes.
    Rate,
    /// A histogram's or summary's mean observation between two scrapes
    /// (`_sum` increase over `_count` increase).
    Mean,
}

impl SeriesKind {
    pub fn parse(text: &str) -> Option<SeriesKind> {
        Some(match text {
            "gauge" => SeriesKind::Gauge,
            "rate" => SeriesKind::Rate,
            "mean" => SeriesKind::Mean,
            _ => return None,
        })
    }
}

/// Which endpoint a series is read from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    /// The target's metrics endpoint.
    #[default]
    Target,
    /// The fault proxy's `/metrics` (only when the run has a fault proxy).
    Proxy,
}

/// What a series is drawn against, and what capacity reports it reaching.
#[derive(Clone, Debug, PartialEq)]
pub enum Limit {
    Value(f64),
    /// A metric read with the series, split by the same `by` labels (e.g.
    /// `kitchen_station_backlog_capacity`, a negative value meaning none).
    Metric(Selector),
}

/// One `[[server_metrics.series]]`.
#[derive(Clone, Debug, PartialEq)]
pub struct SeriesDecl {
    pub name: String,
    pub selector: Selector,
    /// Labels to split on; the samples of each group are summed.
    pub by: Vec<String>,
    pub kind: SeriesKind,
    pub source: Source,
    pub limit: Option<Limit>,
    pub max_series: usize,
}

/// `[server_metrics]`: where and how often to scrape, and what to keep.
#[derive(Clone, Debug)]
pub struct ScrapePlan {
    /// `false`: no scraping at all (`enabled = false`).
    pub enabled: bool,
    /// The endpoint; `None`: `/metrics` on the target (bypassing any proxy).
    pub url: Option<String>,
    pub interval: Duration,
    /// Sent with every scrape (e.g. a bearer token from `{{env.X}}`, whose
    /// value is registered as a secret when the scenario is read).
    pub headers: Vec<(String, String)>,
    /// Refuse to start the load (exit 3) when the endpoint does not answer.
    pub required: bool,
    pub series: Vec<SeriesDecl>,
}

impl Default for ScrapePlan {
    fn default() -> Self {
        ScrapePlan {
            enabled: true,
            url: None,
            interval: DEFAULT_INTERVAL,
            headers: Vec::new(),
            required: false,
            series: Vec::new(),
        }
    }
}

impl ScrapePlan {
    /// The declarations read from `source`.
    pub fn series_from(&self, source: Source) -> Vec<SeriesDecl> {
        self.series
            .iter()
            .filter(|d| d.source == source)
            .cloned()
            .collect()
    }

    /// Whether a series of this name is declared.
    pub fn declares(&self, name: &str) -> bool {
        self.series.iter().any(|d| d.name == name)
    }
}

/// One label set of a declared series through the run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ServerSeries {
    pub name: String,
    pub labels: Labels,
    pub kind: SeriesKind,
    #[serde(default, skip_serializing_if = "is_target")]
    pub source: Source,
    /// The limit it was declared against, as last scraped (absent: none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<f64>,
    /// `[t_s, value]`: seconds from the start of the load; a failed scrape or
    /// a group missing from a scrape leaves a gap.
    pub points: Vec<[f64; 2]>,
}

fn is_target(s: &Source) -> bool {
    *s == Source::Target
}

impl ServerSeries {
    /// `backlog{station="grill"}`.
    pub fn title(&self) -> String {
        if self.labels.is_empty() {
            self.name.clone()
        } else {
            format!("{}{}", self.name, show_labels(&self.labels))
        }
    }

    /// The limit when there is one (a negative limit means unbounded).
    pub fn bound(&self) -> Option<f64> {
        self.limit.filter(|l| *l >= 0.0)
    }
}

/// `server_metrics` in summary.json: what was scraped and the series.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ServerMetrics {
    /// The endpoints read, a password or token shown as `***`.
    pub endpoints: Vec<String>,
    pub interval_s: f64,
    /// Scrapes tried and failed, over every endpoint.
    pub scrapes: u64,
    pub failed: u64,
    pub series: Vec<ServerSeries>,
}

impl ServerMetrics {
    /// The same with every series downsampled for a run of `run_s` seconds.
    pub fn for_summary(&self, run_s: f64) -> ServerMetrics {
        let mut out = self.clone();
        for s in &mut out.series {
            s.points = downsample(&s.points, run_s);
        }
        out
    }
}
