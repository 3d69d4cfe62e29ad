//! Recorded runs as series of figures, and their change points: per group
//! of runs of one scenario against one target, per request (and for all
//! requests together), per metric. Figures are read from each run's
//! summary.json text by name, so a run recorded by an older or newer harness
//! still gives the figures it has.

use super::changepoint::{self, Settings};
use super::store::StoredRun;
use serde::Serialize;
use serde_json::Value;

/// A figure followed across runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub(crate) enum Metric {
    P50,
    P95,
    P99,
    Throughput,
    ShedRate,
    ErrorRate,
}

impl Metric {
    pub(crate) const ALL: [Metric; 6] = [
        Metric::P50,
        Metric::P95,
        Metric::P99,
        Metric::Throughput,
        Metric::ShedRate,
        Metric::ErrorRate,
    ];

    /// The name used in history.json and the reports.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Metric::P50 => "p50",
            Metric::P95 => "p95",
            Metric::P99 => "p99",
            Metric::Throughput => "throughput",
            Metric::ShedRate => "shed_rate",
            Metric::ErrorRate => "error_rate",
        }
    }

    /// The name readers see: "503 rate" rather than "shed_rate".
    pub(crate) fn label(self) -> &'static str {
        match self {
            Metric::ShedRate => "503 rate",
            Metric::ErrorRate => "error rate",
            m => m.name(),
        }
    }

    /// Whether a rise is an improvement.
    pub(crate) fn higher_is_better(self) -> bool {
        matches!(self, Metric::Throughput)
    }

    /// Its value in a summary's figures of one request (or of all).
    fn read(self, figures: &Value) -> Option<f64> {
        let pointer = match self {
            Metric::P50 => "/latency_ms/p50",
            Metric::P95 => "/latency_ms/p95",
            Metric::P99 => "/latency_ms/p99",
            Metric::Throughput => "/throughput_rps",
            Metric::ShedRate => "/shed_rate",
            Metric::ErrorRate => "/error_rate",
        };
        figures.pointer(pointer).and_then(Value::as_f64)
    }
}

/// A recorded run with its summary parsed.
#[derive(Clone, Debug)]
pub(crate) struct Run {
    pub(crate) stored: StoredRun,
    pub(crate) summary: Value,
}

impl Run {
    pub(crate) fn new(stored: StoredRun) -> Run {
        let summary = serde_json::from_str(&stored.summary_json).unwrap_or(Value::Null);
        Run { stored, summary }
    }

    /// The request names of the run, in its order.
    pub(crate) fn request_names(&self) -> Vec<String> {
        self.summary
            .get("requests")
            .and_then(Value::as_array)
            .map(|rs| {
                rs.iter()
                    .filter_map(|r| r.get("name").and_then(Value::as_str).map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// One figure of a request (`None`: all requests together).
    pub(crate) fn value(&self, metric: Metric, request: Option<&str>) -> Option<f64> {
        let figures = match request {
            None => self.summary.get("overall")?,
            Some(name) => self
                .summary
                .get("requests")?
                .as_array()?
                .iter()
                .find(|r| r.get("name").and_then(Value::as_str) == Some(name))?,
        };
        metric.read(figures).filter(|v| v.is_finite())
    }

    /// The group of runs whose figures are comparable: scenario and target.
    pub(crate) fn group(&self) -> (String, String) {
        let id = &self.stored.identity;
        (id.scenario.clone(), id.target.clone())
    }

    /// Whether its figures are a measure of the target (not invalid, not interrupted).
    pub(crate) fn valid(&self) -> bool {
        let verdict = self.summary.get("verdict").and_then(Value::as_str);
        let interrupted = self
            .summary
            .pointer("/run/interrupted")
            .and_then(Value::as_bool)
            .unwrap_or(false);
        verdict != Some("invalid") && !interrupted
    }
}

/// A change point found in one series of the history.
#[derive(Clone, Debug, Serialize)]
pub(crate) struct Found {
    pub(crate) metric: Metric,
    /// `None`: all requests together.
    pub(crate) request: Option<String>,
    /// Index of the first run after the change, in the analysed runs.
    pub(crate) run_index: usize,
    pub(crate) run_id: String,
    /// Mean of the figure over the segment before and the segment after.
    pub(crate) before: f64,
    pub(crate) after: f64,
    /// 1 − the permutation test's p-value.
    pub(crate) confidence: f64,
}

/// Every change point of `runs` (oldest first): each group (scenario,
/// target) apart, each metric apart, of all requests together and (with
/// `per_request`) of each request; runs that are not a measure of the
/// target are left out of the series.
pub(crate) fn change_points(runs: &[Run], per_request: bool, settings: &Settings) -> Vec<Found> {
    let mut found = Vec::new();
    let mut groups: Vec<(String, String)> = Vec::new();
    for run in runs {
        if !groups.contains(&run.group()) {
            groups.push(run.group());
        }
    }
    for group in &groups {
        let members: Vec<usize> = (0..runs.len())
            .filter(|&i| &runs[i].group() == group && runs[i].valid())
            .collect();
        let mut requests: Vec<Option<String>> = vec![None];
        for &i in members.iter().filter(|_| per_request) {
            for name in runs[i].request_names() {
                if !requests.contains(&Some(name.clone())) {
                    requests.push(Some(name));
                }
            }
        }
        for request in &requests {
            for metric in Metric::ALL {
                found.extend(series_change_points(
                    runs,
                    &members,
                    metric,
                    request.as_deref(),
                    settings,
                ));
            }
        }
    }
    found.sort_by_key(|f| f.run_index);
    found
}

fn series_change_points(
    runs: &[Run],
    members: &[usize],
    metric: Metric,
    request: Option<&str>,
    settings: &Settings,
) -> Vec<Found> {
    let (at, values): (Vec<usize>, Vec<f64>) = members
        .iter()
        .filter_map(|&i| runs[i].value(metric, request).map(|v| (i, v)))
        .unzip();
    changepoint::detect(&values, settings)
        .into_iter()
        .map(|cp| Found {
            metric,
            request: request.map(str::to_string),
            run_index: at[cp.index],
            run_id: runs[at[cp.index]].stored.run_id.clone(),
            before: cp.mean_before,
            after: cp.mean_after,
            confidence: 1.0 - cp.pvalue,
        })
        .collect()
}

/// Where the last stable stretch of the runs of `group` starts before run
/// `end` (exclusive): the last change point of the whole run's figures
/// before `end`, or the group's first run.
pub(crate) fn stable_from(found: &[Found], end: usize) -> usize {
    found
        .iter()
        .filter(|f| f.request.is_none() && f.run_index < end)
        .map(|f| f.run_index)
        .max()
        .unwrap_or(0)
}
