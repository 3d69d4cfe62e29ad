//! The table of differences: per request and metric, each run's value, the
//! best one, and the change against the first run.

use super::CompareRun;
use crate::summary::RequestSummary;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RequestComparison {
    pub name: String,
    pub metrics: Vec<MetricRow>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct MetricRow {
    /// "p95", "throughput", "shed-rate", ...
    pub metric: String,
    /// "ms", "/s", "%" (rates are fractions in `values`), or "" for counts.
    pub unit: String,
    pub higher_is_better: bool,
    /// One per run, in the runs' order; `None` when the run lacks this request.
    pub values: Vec<Option<f64>>,
    /// Index of the best run; `None` when all are equal or fewer than two have a value.
    pub best: Option<usize>,
    /// Relative change against the first run (0.25 = 25 % higher), per run.
    pub change_vs_first: Vec<Option<f64>>,
}

type Getter = fn(&RequestSummary) -> f64;

/// (metric, unit, higher is better, getter)
const METRICS: [(&str, &str, bool, Getter); 11] = [
    ("count", "", true, |r| r.count as f64),
    ("throughput", "/s", true, |r| r.throughput_rps),
    ("p50", "ms", false, |r| r.latency_ms.p50),
    ("p90", "ms", false, |r| r.latency_ms.p90),
    ("p95", "ms", false, |r| r.latency_ms.p95),
    ("p99", "ms", false, |r| r.latency_ms.p99),
    ("p99.9", "ms", false, |r| r.latency_ms.p99_9),
    ("max", "ms", false, |r| r.latency_ms.max),
    ("p99 uncorrected", "ms", false, |r| r.uncorrected_p99_ms),
    ("shed-rate", "%", false, |r| r.shed_rate),
    ("error-rate", "%", false, |r| r.error_rate),
];

pub(super) fn request_comparisons(runs: &[CompareRun]) -> Vec<RequestComparison> {
    let mut names: Vec<Option<String>> = vec![None];
    for run in runs {
        for r in &run.summary.requests {
            if !names.contains(&Some(r.name.clone())) {
                names.push(Some(r.name.clone()));
            }
        }
    }
    names
        .into_iter()
        .map(|name| {
            let per_run: Vec<Option<&RequestSummary>> = runs
                .iter()
                .map(|run| run.summary.request(name.as_deref()).filter(|r| r.count > 0))
                .collect();
            RequestComparison {
                name: name.unwrap_or_else(|| "all requests".to_string()),
                metrics: METRICS
                    .iter()
                    .map(|(metric, unit, higher, get)| {
                        row(
                            metric,
                            unit,
                            *higher,
                            per_run.iter().map(|r| r.map(get)).collect(),
                        )
                    })
                    .collect(),
            }
        })
        .collect()
}

fn row(metric: &str, unit: &str, higher_is_better: bool, values: Vec<Option<f64>>) -> MetricRow {
    let present: Vec<(usize, f64)> = values
        .iter()
        .enumerate()
        .filter_map(|(i, v)| v.map(|v| (i, v)))
        .collect();
    let best = if present.len() < 2 || present.iter().all(|(_, v)| *v == present[0].1) {
        None
    } else {
        let pick = |a: &&(usize, f64), b: &&(usize, f64)| a.1.total_cmp(&b.1);
        if higher_is_better {
            present.iter().max_by(pick)
        } else {
            present.iter().min_by(pick)
        }
        .map(|(i, _)| *i)
    };
    let first = values.first().copied().flatten();
    let change_vs_first = values
        .iter()
        .map(|v| match (first, v) {
            (Some(f), Some(v)) if f != 0.0 => Some((v - f) / f),
            _ => None,
        })
        .collect();
    MetricRow {
        metric: metric.into(),
        unit: unit.into(),
        higher_is_better,
        values,
        best,
        change_vs_first,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_best_value_depends_on_the_metric_direction() {
        let r = row("p95", "ms", false, vec![Some(10.0), Some(8.0), None]);
        assert_eq!(r.best, Some(1));
        assert_eq!(r.change_vs_first[1], Some(-0.2));
        assert_eq!(r.change_vs_first[2], None);
        let r = row("throughput", "/s", true, vec![Some(10.0), Some(8.0)]);
        assert_eq!(r.best, Some(0));
        let r = row("shed-rate", "%", false, vec![Some(0.0), Some(0.0)]);
        assert_eq!(r.best, None, "a tie has no winner");
    }
}
