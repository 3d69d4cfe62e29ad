//! The SLO language: gates such as `p95 < 250ms for POST /orders` or
//! `shed-rate < 2% during payments-latency`, and baseline tolerances such as
//! `p95=10%,shed-rate=+1pt`, parsed from scenario files and the command line
//! and written back as given. Data only: `gate` judges a run against gates,
//! `baseline` judges runs against tolerances.
//!
//! A gate names a metric, a comparison, a threshold with its unit, and
//! optionally the request it is scoped to (`for <request name>`) and the
//! window it is judged in (`during <fault or stage name>`). `Display` writes the same
//! text back, so a gate survives a round trip through summary.json.
//!
//! A window gate ends in `over <duration>` (optionally `at most N% of
//! windows`): it is judged every second on the sliding window of that length
//! rather than once on the whole run, so a collapse at the peak is not
//! diluted by the quiet minutes around it.

mod error;
mod parse;
mod series;
mod tolerance;
mod window;

pub(crate) use parse::parse_metric;
pub(crate) use series::SeriesStat;
pub use tolerance::parse_tolerances;
pub(crate) use tolerance::{Allowance, Tolerance};

use std::fmt;

/// What a gate measures.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Metric {
    /// A percentile of the corrected latency, in thousandths (p99.9 = 999).
    Percentile(Permille),
    /// The largest corrected latency seen.
    Max,
    /// The mean corrected latency.
    Mean,
    /// Share of requests answered 503 (load shed on purpose).
    ShedRate,
    /// Share of requests that failed otherwise (unexpected status, timeout, transport).
    ErrorRate,
    /// Completed requests per second.
    Throughput,
    /// A statistic of one of the target's series (the series is the gate's
    /// `Gate::series`).
    Series(SeriesStat),
}

/// The percentiles a gate may name: the ones every summary carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Permille {
    P50,
    P90,
    P95,
    P99,
    P999,
}

impl Permille {
    /// The quantile as a fraction, e.g. 0.999.
    pub(crate) fn quantile(self) -> f64 {
        match self {
            Permille::P50 => 0.50,
            Permille::P90 => 0.90,
            Permille::P95 => 0.95,
            Permille::P99 => 0.99,
            Permille::P999 => 0.999,
        }
    }

    /// The name as written in gates and summaries: "p99.9".
    pub(crate) fn label(self) -> &'static str {
        match self {
            Permille::P50 => "p50",
            Permille::P90 => "p90",
            Permille::P95 => "p95",
            Permille::P99 => "p99",
            Permille::P999 => "p99.9",
        }
    }
}

impl Metric {
    /// The name as written in gates: "p95", "shed-rate", "throughput".
    pub(crate) fn label(self) -> &'static str {
        match self {
            Metric::Percentile(p) => p.label(),
            Metric::Max => "max",
            Metric::Mean => "mean",
            Metric::ShedRate => "shed-rate",
            Metric::ErrorRate => "error-rate",
            Metric::Throughput => "throughput",
            Metric::Series(stat) => stat.label(),
        }
    }

    pub(crate) fn is_latency(self) -> bool {
        matches!(self, Metric::Percentile(_) | Metric::Max | Metric::Mean)
    }

    /// Whether a larger value of this metric is better (throughput) or worse (latency, rates).
    pub(crate) fn higher_is_better(self) -> bool {
        matches!(self, Metric::Throughput)
    }
}

/// How the measured value must compare to the threshold to pass.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Comparison {
    Less,
    LessOrEqual,
    Greater,
    GreaterOrEqual,
}

impl Comparison {
    pub(crate) fn symbol(self) -> &'static str {
        match self {
            Comparison::Less => "<",
            Comparison::LessOrEqual => "<=",
            Comparison::Greater => ">",
            Comparison::GreaterOrEqual => ">=",
        }
    }

    pub(crate) fn holds(self, actual: f64, threshold: f64) -> bool {
        match self {
            Comparison::Less => actual < threshold,
            Comparison::LessOrEqual => actual <= threshold,
            Comparison::Greater => actual > threshold,
            Comparison::GreaterOrEqual => actual >= threshold,
        }
    }
}

/// The unit a threshold was written in; kept so `Display` writes it back as given.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Unit {
    Micros,
    Millis,
    Seconds,
    Percent,
    PerSecond,
    /// A plain number (a server series' own unit).
    Plain,
}

impl Unit {
    pub(crate) fn suffix(self) -> &'static str {
        match self {
            Unit::Micros => "us",
            Unit::Millis => "ms",
            Unit::Seconds => "s",
            Unit::Percent => "%",
            Unit::PerSecond => "/s",
            Unit::Plain => "",
        }
    }

    /// Factor from this unit to the canonical one of its kind:
    /// milliseconds for latency, a fraction (0..1) for rates, per second for throughput.
    fn to_canonical(self) -> f64 {
        match self {
            Unit::Micros => 0.001,
            Unit::Millis => 1.0,
            Unit::Seconds => 1000.0,
            Unit::Percent => 0.01,
            Unit::PerSecond => 1.0,
            Unit::Plain => 1.0,
        }
    }
}

/// A threshold as written: the number and its unit.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Threshold {
    pub(crate) value: f64,
    pub(crate) unit: Unit,
}

impl Threshold {
    /// In the metric's canonical unit: ms for latency, fraction for rates, /s for throughput.
    pub(crate) fn canonical(self) -> f64 {
        self.value * self.unit.to_canonical()
    }
}

impl fmt::Display for Threshold {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}{}", self.value, self.unit.suffix())
    }
}

/// One SLO rule. Parse with `str::parse`, write back with `to_string`.
#[derive(Clone, Debug, PartialEq)]
pub struct Gate {
    pub(crate) metric: Metric,
    pub(crate) comparison: Comparison,
    pub(crate) threshold: Threshold,
    /// A request name ("POST /orders"); `None` judges all requests together.
    pub(crate) request: Option<String>,
    /// A fault (or, failing that, stage) name; the gate is judged on the
    /// figures measured during that fault's window or that stage.
    pub(crate) during: Option<String>,
    /// `over 10s`: judged every second on the sliding window of that many
    /// seconds instead of once on the whole run.
    pub(crate) window: Option<Window>,
    /// For [`Metric::Series`]: the declared series and its label filter.
    pub(crate) series: Option<crate::scrape::Selector>,
}

/// A window gate's window: `over <length> [at most <N>% of windows]`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct Window {
    /// Whole seconds; at least one.
    pub(crate) length_s: u32,
    /// The share of windows (in %) allowed to fail; `None`: none may.
    pub(crate) tolerated_percent: Option<f64>,
}

impl Window {
    /// The share of windows allowed to fail, as a fraction (0 without `at most`).
    pub(crate) fn tolerated_share(self) -> f64 {
        self.tolerated_percent.map_or(0.0, |p| p / 100.0)
    }
}

impl fmt::Display for Gate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.series {
            Some(series) => write!(f, "{}({series})", self.metric.label())?,
            None => write!(f, "{}", self.metric.label())?,
        }
        write!(f, " {} {}", self.comparison.symbol(), self.threshold)?;
        if let Some(w) = &self.window {
            write!(f, " over {}s", w.length_s)?;
            if let Some(p) = w.tolerated_percent {
                write!(f, " at most {p}% of windows")?;
            }
        }
        if let Some(request) = &self.request {
            write!(f, " for {request}")?;
        }
        if let Some(fault) = &self.during {
            write!(f, " during {fault}")?;
        }
        Ok(())
    }
}

impl serde::Serialize for Gate {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Gate {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// What the gate parser's tests share: a gate that must parse, a text that must not.
#[cfg(test)]
mod testing {
    use super::Gate;

    pub(super) fn gate(text: &str) -> Gate {
        text.parse()
            .unwrap_or_else(|e| panic!("`{text}` should parse: {e}"))
    }

    pub(super) fn error(text: &str) -> String {
        match text.parse::<Gate>() {
            Ok(g) => panic!("`{text}` should not parse, got {g:?}"),
            Err(e) => e.to_string(),
        }
    }
}
