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

pub(crate) use fold::{downsample, show_labels, Labels, TickPoint};
pub(crate) use selector::{is_name, Selector};
pub(crate) use task::{preflight, Endpoint, Listener, ScrapeOutcome, Scraper};

use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Runs up to this long keep a point per scrape in summary.json; longer ones
/// are averaged down to about 600 points per series (see [`downsample`]).
pub(crate) const FULL_RATE_S: f64 = 600.0;

/// How often the endpoint is read when the scenario does not say.
pub(crate) const DEFAULT_INTERVAL: Duration = Duration::from_secs(1);

/// Label sets one declaration may split into before the rest are dropped: a
/// chart per label set stays readable, and a label that carries an id (an
/// order, a user) cannot blow up the summary.
pub(crate) const DEFAULT_MAX_SERIES: usize = 20;

/// How a declared series is read from its samples.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum SeriesKind {
    /// The value as scraped (a backlog, a state, a count of open streams).
    Gauge,
    /// A counter's increase per second between two scrapes.
    Rate,
    /// A histogram's or summary's mean observation between two scrapes
    /// (`_sum` increase over `_count` increase).
    Mean,
}

impl SeriesKind {
    pub(crate) fn parse(text: &str) -> Option<SeriesKind> {
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
pub(crate) enum Source {
    /// The target's metrics endpoint.
    #[default]
    Target,
    /// The fault proxy's `/metrics` (only when the run has a fault proxy).
    Proxy,
}

/// What a series is drawn against, and what capacity reports it reaching.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Limit {
    Value(f64),
    /// A metric read with the series, split by the same `by` labels (e.g.
    /// `kitchen_station_backlog_capacity`, a negative value meaning none).
    Metric(Selector),
}

/// One `[[server_metrics.series]]`.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct SeriesDecl {
    pub(crate) name: String,
    pub(crate) selector: Selector,
    /// Labels to split on; the samples of each group are summed.
    pub(crate) by: Vec<String>,
    pub(crate) kind: SeriesKind,
    pub(crate) source: Source,
    pub(crate) limit: Option<Limit>,
    pub(crate) max_series: usize,
}

/// `[server_metrics]`: where and how often to scrape, and what to keep.
#[derive(Clone, Debug)]
pub(crate) struct ScrapePlan {
    /// `false`: no scraping at all (`enabled = false`).
    pub(crate) enabled: bool,
    /// The endpoint; `None`: `/metrics` on the target (bypassing any proxy).
    pub(crate) url: Option<String>,
    pub(crate) interval: Duration,
    /// Sent with every scrape (e.g. a bearer token from `{{env.X}}`, whose
    /// value is registered as a secret when the scenario is read).
    pub(crate) headers: Vec<(String, String)>,
    /// Refuse to start the load (exit 3) when the endpoint does not answer.
    pub(crate) required: bool,
    pub(crate) series: Vec<SeriesDecl>,
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
    pub(crate) fn series_from(&self, source: Source) -> Vec<SeriesDecl> {
        self.series
            .iter()
            .filter(|d| d.source == source)
            .cloned()
            .collect()
    }

    /// Whether a series of this name is declared.
    pub(crate) fn declares(&self, name: &str) -> bool {
        self.series.iter().any(|d| d.name == name)
    }
}

/// One label set of a declared series through the run.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct ServerSeries {
    pub(crate) name: String,
    pub(crate) labels: Labels,
    pub(crate) kind: SeriesKind,
    #[serde(default, skip_serializing_if = "is_target")]
    pub(crate) source: Source,
    /// The limit it was declared against, as last scraped (absent: none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) limit: Option<f64>,
    /// `[t_s, value]`: seconds from the start of the load; a failed scrape or
    /// a group missing from a scrape leaves a gap.
    pub(crate) points: Vec<[f64; 2]>,
}

fn is_target(s: &Source) -> bool {
    *s == Source::Target
}

impl ServerSeries {
    /// `backlog{station="grill"}`.
    pub(crate) fn title(&self) -> String {
        if self.labels.is_empty() {
            self.name.clone()
        } else {
            format!("{}{}", self.name, show_labels(&self.labels))
        }
    }

    /// The limit when there is one (a negative limit means unbounded).
    pub(crate) fn bound(&self) -> Option<f64> {
        self.limit.filter(|l| *l >= 0.0)
    }
}

/// `server_metrics` in summary.json: what was scraped and the series.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub(crate) struct ServerMetrics {
    /// The endpoints read, a password or token shown as `***`.
    pub(crate) endpoints: Vec<String>,
    pub(crate) interval_s: f64,
    /// Scrapes tried and failed, over every endpoint.
    pub(crate) scrapes: u64,
    pub(crate) failed: u64,
    pub(crate) series: Vec<ServerSeries>,
}

impl ServerMetrics {
    /// The same with every series downsampled for a run of `run_s` seconds.
    pub(crate) fn for_summary(&self, run_s: f64) -> ServerMetrics {
        let mut out = self.clone();
        for s in &mut out.series {
            s.points = downsample(&s.points, run_s);
        }
        out
    }
}
