//! The table of differences: per request and metric, one column per backend
//! (the median over its runs, and their range when it has several), the
//! backend that is better beyond the noise (see [`super::noise`]), and the
//! change against the first backend.

use super::noise::{better_beyond_noise, Sample};
use super::Column;
use crate::record::LoadModel;
use crate::summary::{RequestSummary, Summary};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RequestComparison {
    pub name: String,
    pub metrics: Vec<MetricRow>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct MetricRow {
    /// "p95", "throughput", "goodput", "shed-rate", ...
    pub metric: String,
    /// "ms", "/s", "%" (rates are fractions in `values`), or "" for counts.
    pub(crate) unit: String,
    pub(crate) higher_is_better: bool,
    /// One per backend (column): the median over its runs; `None` when its
    /// runs lack this request.
    pub values: Vec<Option<f64>>,
    /// One per backend: the lowest and highest value over its runs.
    #[serde(default)]
    pub(crate) ranges: Vec<Option<[f64; 2]>>,
    /// The backend better than every other beyond the noise, if any.
    pub best: Option<usize>,
    /// Why this row can have no star whatever the figures (e.g. the open
    /// model's throughput is fixed by its schedule).
    #[serde(default)]
    pub(crate) never_starred: Option<String>,
    /// Relative change against the first backend (0.25 = 25 % higher), per backend.
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

/// Why the open model's count and throughput get no star.
const FIXED_BY_SCHEDULE: &str =
    "fixed by the arrival schedule in the open model: the same on every backend that keeps up";

pub(super) fn request_comparisons(
    summaries: &[&Summary],
    columns: &[Column],
) -> Vec<RequestComparison> {
    let mut names: Vec<Option<String>> = vec![None];
    for s in summaries {
        for r in &s.requests {
            if !names.contains(&Some(r.name.clone())) {
                names.push(Some(r.name.clone()));
            }
        }
    }
    let open = summaries
        .iter()
        .any(|s| s.run.meta.model == LoadModel::Open);
    names
        .into_iter()
        .map(|name| {
            let per_column: Vec<Vec<&RequestSummary>> = columns
                .iter()
                .map(|c| {
                    c.runs
                        .iter()
                        .filter_map(|&i| summaries[i].request(name.as_deref()))
                        .filter(|r| r.count > 0)
                        .collect()
                })
                .collect();
            let mut metrics: Vec<MetricRow> = METRICS
                .iter()
                .map(|(metric, unit, higher, get)| {
                    let values: Vec<Vec<f64>> = per_column
                        .iter()
                        .map(|rs| rs.iter().map(|r| get(r)).collect())
                        .collect();
                    let fixed = open && matches!(*metric, "count" | "throughput");
                    row(
                        metric,
                        unit,
                        *higher,
                        &values,
                        fixed.then_some(FIXED_BY_SCHEDULE),
                    )
                })
                .collect();
            if name.is_none() && !open {
                // Beside throughput: shedding ends flows early and so answers
                // more requests a second; completed flows do not reward it.
                let goodput: Vec<Vec<f64>> = columns
                    .iter()
                    .map(|c| {
                        c.runs
                            .iter()
                            .map(|&i| summaries[i].flows.goodput_per_s)
                            .collect()
                    })
                    .collect();
                metrics.insert(2, row("goodput", "/s", true, &goodput, None));
            }
            RequestComparison {
                name: name.unwrap_or_else(|| "all requests".to_string()),
                metrics,
            }
        })
        .collect()
}

fn row(
    metric: &str,
    unit: &str,
    higher_is_better: bool,
    per_column: &[Vec<f64>],
    never_starred: Option<&str>,
) -> MetricRow {
    let samples: Vec<Option<Sample>> = per_column
        .iter()
        .map(|v| (!v.is_empty()).then_some(Sample { values: v }))
        .collect();
    let values: Vec<Option<f64>> = samples
        .iter()
        .map(|s| s.as_ref().map(Sample::median))
        .collect();
    let ranges = per_column
        .iter()
        .map(|v| {
            (!v.is_empty()).then(|| {
                let lo = v.iter().copied().fold(f64::INFINITY, f64::min);
                let hi = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                [lo, hi]
            })
        })
        .collect();
    let best = match never_starred {
        Some(_) => None,
        None => better_beyond_noise(&samples, higher_is_better),
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
        ranges,
        best,
        never_starred: never_starred.map(str::to_string),
        change_vs_first,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_column_is_the_median_of_its_runs_with_their_range() {
        let r = row(
            "p95",
            "ms",
            false,
            &[vec![10.0, 30.0, 20.0], vec![], vec![8.0]],
            None,
        );
        assert_eq!(r.values, vec![Some(20.0), None, Some(8.0)]);
        assert_eq!(r.ranges[0], Some([10.0, 30.0]));
        assert_eq!(r.change_vs_first[2], Some(-0.6));
        assert_eq!(r.best, None, "one run in a column: nothing is marked");
    }

    #[test]
    fn a_row_fixed_by_the_schedule_is_never_starred() {
        let runs = [vec![100.0, 100.0, 100.0], vec![50.0, 50.0, 50.0]];
        assert_eq!(row("throughput", "/s", true, &runs, None).best, Some(0));
        let fixed = row("throughput", "/s", true, &runs, Some(FIXED_BY_SCHEDULE));
        assert_eq!(fixed.best, None);
        assert!(fixed.never_starred.is_some());
    }
}
