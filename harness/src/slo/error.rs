//! What is wrong with a gate's text, for every part of the gate parser
//! (its rule in `parse`, its window in `window`).

/// What is wrong with a gate's text; the message says what was expected instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GateParseError {
    #[error("empty gate: expected something like `p95 < 250ms`")]
    Empty,
    #[error(
        "gate `{input}` has no comparison: expected `<metric> <op> <value>` with op one of <, <=, >, >= \
         (e.g. `p95 < 250ms`)"
    )]
    NoComparison { input: String },
    #[error(
        "gate `{input}`: unknown metric `{metric}`; expected one of p50, p90, p95, p99, p99.9, max, mean, \
         shed-rate, error-rate, throughput"
    )]
    UnknownMetric { input: String, metric: String },
    #[error(
        "gate `{input}`: `{value}` is not a number; expected a threshold such as 250ms, 2%, 800/s"
    )]
    BadNumber { input: String, value: String },
    #[error("gate `{input}`: {metric} needs {expected}, got `{unit}`")]
    WrongUnit {
        input: String,
        metric: &'static str,
        unit: String,
        expected: &'static str,
    },
    #[error("gate `{input}`: {problem}")]
    BadThreshold { input: String, problem: String },
    #[error("gate `{input}`: `{keyword}` must be followed by {expected}")]
    MissingName {
        input: String,
        keyword: &'static str,
        expected: &'static str,
    },
    #[error("gate `{input}`: {problem}")]
    BadWindow { input: String, problem: String },
}
