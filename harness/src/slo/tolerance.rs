//! Regression tolerances against a baseline, as written on the command line:
//! `--max-regression p95=10%,shed-rate=+1pt,throughput=-5%`.
//!
//! - `N%` (or `+N%`): the metric may get worse by N % of the baseline's value
//!   (for throughput worse means lower, so `throughput=-5%` and `throughput=5%`
//!   say the same thing).
//! - `+Npt`: a rate may rise by N percentage points (shed-rate, error-rate).
//! - `+Nms`, `+Ns`, `+Nus`: a latency may rise by that much.

use super::{parse_metric, Metric};
use std::fmt;
use std::str::FromStr;

/// How much worse than the baseline a metric may get.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Allowance {
    /// A share of the baseline's value (0.10 = 10 %).
    Relative(f64),
    /// Percentage points of a rate (1.0 = +1 pt, i.e. 0.01 as a fraction).
    Points(f64),
    /// Milliseconds of latency.
    Millis(f64),
}

/// One tolerance: `p95=10%`.
#[derive(Clone, Debug, PartialEq)]
pub struct Tolerance {
    pub(crate) metric: Metric,
    pub(crate) allowance: Allowance,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("--max-regression `{input}`: {problem}; expected a list such as `p95=10%,shed-rate=+1pt,throughput=-5%`")]
pub struct ToleranceParseError {
    pub(crate) input: String,
    pub(crate) problem: String,
}

impl fmt::Display for Tolerance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.metric.higher_is_better() {
            "-"
        } else {
            "+"
        };
        match self.allowance {
            Allowance::Relative(share) => {
                write!(f, "{}={sign}{}%", self.metric.label(), share * 100.0)
            }
            Allowance::Points(pt) => write!(f, "{}=+{pt}pt", self.metric.label()),
            Allowance::Millis(ms) => write!(f, "{}=+{ms}ms", self.metric.label()),
        }
    }
}

impl serde::Serialize for Tolerance {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Tolerance {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

impl FromStr for Tolerance {
    type Err = ToleranceParseError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let err = |problem: String| ToleranceParseError {
            input: text.trim().to_string(),
            problem,
        };
        let (name, value) = text
            .split_once('=')
            .ok_or_else(|| err("no `=` between the metric and its allowance".into()))?;
        let metric = parse_metric(name.trim()).ok_or_else(|| {
            err(format!(
                "unknown metric `{}` (known: p50, p90, p95, p99, p99.9, max, mean, shed-rate, error-rate, throughput)",
                name.trim()
            ))
        })?;
        let value = value.trim();
        let (negative, unsigned) = match value.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, value.strip_prefix('+').unwrap_or(value)),
        };
        let split = unsigned
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(unsigned.len());
        let (number, unit) = (&unsigned[..split], unsigned[split..].trim());
        let amount: f64 = number
            .parse()
            .ok()
            .filter(|v: &f64| v.is_finite())
            .ok_or_else(|| err(format!("`{value}` does not start with a number")))?;
        if negative && !metric.higher_is_better() {
            return Err(err(format!(
                "`{value}` allows {} to fall, which is an improvement; write how much it may rise, e.g. `{}=10%`",
                metric.label(),
                metric.label()
            )));
        }
        let allowance = match unit {
            "%" => Allowance::Relative(amount / 100.0),
            "pt" | "pts" if matches!(metric, Metric::ShedRate | Metric::ErrorRate) => {
                Allowance::Points(amount)
            }
            "ms" | "s" | "us" if metric.is_latency() => Allowance::Millis(match unit {
                "s" => amount * 1000.0,
                "us" => amount / 1000.0,
                _ => amount,
            }),
            _ => {
                let allowed = if metric.is_latency() {
                    "% or a duration (ms, s, us)"
                } else if metric.higher_is_better() {
                    "%"
                } else {
                    "% or pt (percentage points)"
                };
                return Err(err(format!(
                    "{} takes {allowed}, not `{}`",
                    metric.label(),
                    if unit.is_empty() {
                        "a bare number"
                    } else {
                        unit
                    }
                )));
            }
        };
        Ok(Tolerance { metric, allowance })
    }
}

/// Parses the comma-separated list given to `--max-regression`.
pub fn parse_tolerances(text: &str) -> Result<Vec<Tolerance>, ToleranceParseError> {
    let list: Vec<Tolerance> = text
        .split(',')
        .filter(|part| !part.trim().is_empty())
        .map(str::parse)
        .collect::<Result<_, _>>()?;
    if list.is_empty() {
        return Err(ToleranceParseError {
            input: text.to_string(),
            problem: "no tolerance given".into(),
        });
    }
    Ok(list)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::slo::Permille;

    #[test]
    fn a_tolerance_list_parses_each_kind_of_allowance() {
        let list = parse_tolerances("p95=10%, shed-rate=+1pt,throughput=-5%,p99=+20ms").unwrap();
        assert_eq!(
            list[0],
            Tolerance {
                metric: Metric::Percentile(Permille::P95),
                allowance: Allowance::Relative(0.10)
            }
        );
        assert_eq!(
            list[1],
            Tolerance {
                metric: Metric::ShedRate,
                allowance: Allowance::Points(1.0)
            }
        );
        assert_eq!(
            list[2],
            Tolerance {
                metric: Metric::Throughput,
                allowance: Allowance::Relative(0.05)
            }
        );
        assert_eq!(list[3].allowance, Allowance::Millis(20.0));
        let text: Vec<String> = list.iter().map(ToString::to_string).collect();
        assert_eq!(
            text,
            ["p95=+10%", "shed-rate=+1pt", "throughput=-5%", "p99=+20ms"]
        );
        for t in &list {
            assert_eq!(&t.to_string().parse::<Tolerance>().unwrap(), t);
        }
    }

    #[test]
    fn bad_tolerances_say_what_is_wrong() {
        let e = |text: &str| parse_tolerances(text).unwrap_err().to_string();
        assert!(e("p95").contains("no `=`"));
        assert!(e("p97=10%").contains("unknown metric `p97`"));
        assert!(e("p95=ten%").contains("does not start with a number"));
        assert!(e("p95=-10%").contains("which is an improvement"));
        assert!(e("throughput=+5pt").contains("throughput takes %"));
        assert!(e("shed-rate=1ms").contains("% or pt"));
        assert!(e("p95=10").contains("a bare number"));
        assert!(e(" , ").contains("no tolerance given"));
    }
}
