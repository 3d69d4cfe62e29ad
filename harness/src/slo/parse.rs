//! Text → [`Gate`]: `<metric> <op> <value><unit> [over <duration> [at most
//! <N>% of windows]] [for <request>] [during <fault>]`.

use super::error::GateParseError;
use super::window::split_window;
use super::{Comparison, Gate, Metric, Permille, Threshold, Unit};
use std::str::FromStr;

impl FromStr for Gate {
    type Err = GateParseError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let input = text.trim();
        if input.is_empty() {
            return Err(GateParseError::Empty);
        }
        let owned = || input.to_string();
        let (text, window) = split_window(input)?;
        let input_full = input;
        let input = text.as_str();

        // Scopes come last, `during` after `for`; the request name may contain
        // spaces ("POST /orders"), a fault name may not.
        let (rest, during) = split_keyword(input, "during");
        let during = match during {
            Some(name) if name.is_empty() || name.contains(char::is_whitespace) => {
                return Err(GateParseError::MissingName {
                    input: owned(),
                    keyword: "during",
                    expected: "one fault or stage name (e.g. `during payments-latency`)",
                })
            }
            other => other.map(str::to_string),
        };
        let (rule, request) = split_keyword(rest, "for");
        let request = match request {
            Some("") => {
                return Err(GateParseError::MissingName {
                    input: owned(),
                    keyword: "for",
                    expected: "a request name (e.g. `for POST /orders`)",
                })
            }
            other => other.map(str::to_string),
        };

        let op_at = rule
            .find(['<', '>'])
            .ok_or_else(|| GateParseError::NoComparison { input: owned() })?;
        let metric_text = rule[..op_at].trim();
        let after = &rule[op_at..];
        let (comparison, value_text) = if let Some(v) = after.strip_prefix("<=") {
            (Comparison::LessOrEqual, v)
        } else if let Some(v) = after.strip_prefix(">=") {
            (Comparison::GreaterOrEqual, v)
        } else if let Some(v) = after.strip_prefix('<') {
            (Comparison::Less, v)
        } else {
            (Comparison::Greater, &after[1..])
        };
        let (metric, series) = match super::series::parse_series_metric(metric_text) {
            Some(Ok((stat, selector))) => (Metric::Series(stat), Some(selector)),
            Some(Err(problem)) => {
                return Err(GateParseError::BadThreshold {
                    input: owned(),
                    problem,
                })
            }
            None => (
                parse_metric(metric_text).ok_or_else(|| GateParseError::UnknownMetric {
                    input: owned(),
                    metric: metric_text.to_string(),
                })?,
                None,
            ),
        };
        let threshold = parse_threshold(input_full, metric, value_text.trim())?;
        if series.is_some() && window.is_some() {
            return Err(GateParseError::BadThreshold {
                input: owned(),
                problem: "a gate on a server series takes no `over <duration>`: judge it on the \
                          whole run or `during` a stage or fault"
                    .into(),
            });
        }
        Ok(Gate {
            metric,
            comparison,
            threshold,
            request,
            during,
            window,
            series,
        })
    }
}

/// Splits `text` at the last ` <keyword> ` into (before, Some(after)).
fn split_keyword<'a>(text: &'a str, keyword: &str) -> (&'a str, Option<&'a str>) {
    let needle = format!(" {keyword} ");
    if let Some(at) = text.rfind(&needle) {
        return (
            text[..at].trim_end(),
            Some(text[at + needle.len()..].trim()),
        );
    }
    // A trailing keyword with nothing after it is an error the caller reports.
    let trailing = format!(" {keyword}");
    match text.strip_suffix(trailing.as_str()) {
        Some(before) => (before.trim_end(), Some("")),
        None => (text, None),
    }
}

pub(crate) fn parse_metric(text: &str) -> Option<Metric> {
    Some(match text.to_ascii_lowercase().as_str() {
        "p50" | "median" => Metric::Percentile(Permille::P50),
        "p90" => Metric::Percentile(Permille::P90),
        "p95" => Metric::Percentile(Permille::P95),
        "p99" => Metric::Percentile(Permille::P99),
        "p99.9" | "p999" => Metric::Percentile(Permille::P999),
        "max" => Metric::Max,
        "mean" | "avg" => Metric::Mean,
        "shed-rate" | "shed_rate" => Metric::ShedRate,
        "error-rate" | "error_rate" => Metric::ErrorRate,
        "throughput" | "rps" => Metric::Throughput,
        _ => return None,
    })
}

fn parse_threshold(input: &str, metric: Metric, text: &str) -> Result<Threshold, GateParseError> {
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(text.len());
    let (number, unit_text) = (&text[..split], text[split..].trim());
    let value: f64 = number
        .parse()
        .ok()
        .filter(|v: &f64| v.is_finite())
        .ok_or_else(|| GateParseError::BadNumber {
            input: input.to_string(),
            value: text.to_string(),
        })?;
    let (expected, unit) = match metric {
        m if m.is_latency() => (
            "a duration in us, ms or s (e.g. 250ms)",
            match unit_text {
                "us" | "µs" => Some(Unit::Micros),
                "ms" => Some(Unit::Millis),
                "s" => Some(Unit::Seconds),
                _ => None,
            },
        ),
        Metric::Throughput => (
            "a rate per second (e.g. 800/s)",
            matches!(unit_text, "/s" | "rps").then_some(Unit::PerSecond),
        ),
        Metric::Series(_) => (
            "a plain number in the series' own unit (e.g. 450), or a rate such as 20/s",
            match unit_text {
                "" => Some(Unit::Plain),
                "/s" => Some(Unit::PerSecond),
                _ => None,
            },
        ),
        _ => (
            "a percentage (e.g. 2%)",
            (unit_text == "%").then_some(Unit::Percent),
        ),
    };
    let unit = unit.ok_or_else(|| GateParseError::WrongUnit {
        input: input.to_string(),
        metric: metric.label(),
        unit: if unit_text.is_empty() {
            "no unit".to_string()
        } else {
            unit_text.to_string()
        },
        expected,
    })?;
    if unit == Unit::Percent && value > 100.0 {
        return Err(GateParseError::BadThreshold {
            input: input.to_string(),
            problem: format!("{value}% is more than 100%"),
        });
    }
    Ok(Threshold { value, unit })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::slo::testing::{error, gate};

    #[test]
    fn a_latency_gate_parses_its_metric_comparison_and_unit() {
        let g = gate("p95 < 250ms");
        assert_eq!(g.metric, Metric::Percentile(Permille::P95));
        assert_eq!(g.comparison, Comparison::Less);
        assert_eq!(g.threshold.canonical(), 250.0);
        assert_eq!(g.request, None);
        assert_eq!(g.during, None);
        assert_eq!(gate("p99.9 <= 1.5s").threshold.canonical(), 1500.0);
        assert_eq!(gate("max<800us").threshold.canonical(), 0.8);
        assert_eq!(gate("mean < 20 ms").metric, Metric::Mean);
    }

    #[test]
    fn rate_and_throughput_gates_use_percent_and_per_second() {
        let shed = gate("shed-rate < 2%");
        assert_eq!(shed.metric, Metric::ShedRate);
        assert!((shed.threshold.canonical() - 0.02).abs() < 1e-12);
        assert_eq!(gate("error-rate < 1%").metric, Metric::ErrorRate);
        let tput = gate("throughput >= 800/s");
        assert_eq!(tput.metric, Metric::Throughput);
        assert_eq!(tput.comparison, Comparison::GreaterOrEqual);
        assert_eq!(tput.threshold.canonical(), 800.0);
    }

    #[test]
    fn a_gate_may_be_scoped_to_a_request_and_a_fault_window() {
        let g = gate("p99 < 1s for POST /orders");
        assert_eq!(g.request.as_deref(), Some("POST /orders"));
        let g = gate("p95 < 2s during payments-latency");
        assert_eq!(g.during.as_deref(), Some("payments-latency"));
        let g = gate("shed-rate < 5% for POST /orders/{id}/payments during payments-latency");
        assert_eq!(g.request.as_deref(), Some("POST /orders/{id}/payments"));
        assert_eq!(g.during.as_deref(), Some("payments-latency"));
    }

    #[test]
    fn display_writes_back_text_that_parses_to_the_same_gate() {
        for text in [
            "p95 < 250ms",
            "p99 < 1s for POST /orders",
            "shed-rate < 2%",
            "error-rate <= 0.5%",
            "throughput >= 800/s",
            "p99.9 > 10us during edge-latency",
            "mean < 3ms for GET /menu during payments-latency",
        ] {
            let g = gate(text);
            assert_eq!(g.to_string(), text);
            assert_eq!(gate(&g.to_string()), g);
        }
    }

    #[test]
    fn bad_gates_say_what_is_wrong_and_what_is_expected() {
        assert!(error("").contains("empty gate"));
        assert!(error("p95 = 250ms").contains("op one of <, <=, >, >="));
        let e = error("p97 < 250ms");
        assert!(
            e.contains("unknown metric `p97`") && e.contains("p99.9"),
            "{e}"
        );
        let e = error("p95 < fast");
        assert!(e.contains("`fast` is not a number"), "{e}");
        let e = error("p95 < 250");
        assert!(
            e.contains("p95 needs a duration") && e.contains("no unit"),
            "{e}"
        );
        let e = error("shed-rate < 2ms");
        assert!(e.contains("shed-rate needs a percentage"), "{e}");
        let e = error("throughput > 80%");
        assert!(e.contains("throughput needs a rate per second"), "{e}");
        assert!(error("error-rate < 120%").contains("more than 100%"));
        assert!(error("p95 < 2s for").contains("`for` must be followed by a request name"));
        let e = error("p95 < 2s during two words");
        assert!(
            e.contains("`during` must be followed by one fault or stage name"),
            "{e}"
        );
    }
}
