//! Gates on the target's own series: `max(backlog{station="grill"}) < 450`,
//! `mean(...)`, `min(...)`, `last(...)`, each optionally `during` a stage or
//! fault window. The series is one the scenario declares under
//! `[[server_metrics.series]]`; its label filter uses the same selector
//! language, and several label sets that match are summed scrape by scrape.

use crate::scrape::Selector;

/// What a gate takes of a series' points.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SeriesStat {
    Max,
    Min,
    Mean,
    Last,
}

impl SeriesStat {
    pub(crate) fn label(self) -> &'static str {
        match self {
            SeriesStat::Max => "max",
            SeriesStat::Min => "min",
            SeriesStat::Mean => "mean",
            SeriesStat::Last => "last",
        }
    }

    fn parse(text: &str) -> Option<SeriesStat> {
        Some(match text {
            "max" => SeriesStat::Max,
            "min" => SeriesStat::Min,
            "mean" | "avg" => SeriesStat::Mean,
            "last" => SeriesStat::Last,
            _ => return None,
        })
    }

    /// The statistic of `values` (in time order); `None` when there are none.
    pub(crate) fn of(self, values: &[f64]) -> Option<f64> {
        let last = *values.last()?;
        Some(match self {
            SeriesStat::Max => values.iter().copied().fold(f64::MIN, f64::max),
            SeriesStat::Min => values.iter().copied().fold(f64::MAX, f64::min),
            SeriesStat::Mean => values.iter().sum::<f64>() / values.len() as f64,
            SeriesStat::Last => last,
        })
    }
}

/// `stat(series{filter})` as a gate's metric, or `None` when the text is not
/// of that form (it is then read as one of the request metrics).
pub(crate) fn parse_series_metric(text: &str) -> Option<Result<(SeriesStat, Selector), String>> {
    let open = text.find('(')?;
    let stat = SeriesStat::parse(text[..open].trim())?;
    let Some(inner) = text[open + 1..].trim_end().strip_suffix(')') else {
        return Some(Err(format!("`{text}`: expected `)` after the series")));
    };
    Some(Selector::parse(inner).map(|s| (stat, s)).map_err(|e| {
        format!("{e} (a series gate reads `max(backlog{{station=\"grill\"}}) < 450`)")
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::slo::{Gate, Metric};

    #[test]
    fn a_series_gate_parses_and_writes_back() {
        let g: Gate = r#"max(backlog{station="grill"}) < 450"#.parse().unwrap();
        assert_eq!(g.metric, Metric::Series(SeriesStat::Max));
        let sel = g.series.as_ref().unwrap();
        assert_eq!(sel.metric, "backlog");
        assert!(sel.matches("backlog", &[("station".into(), "grill".into())].into()));
        assert!(!sel.matches("backlog", &[("station".into(), "bar".into())].into()));
        assert_eq!(g.threshold.canonical(), 450.0);
        assert_eq!(g.to_string(), r#"max(backlog{station="grill"}) < 450"#);
        let g: Gate = "mean(gateway_latency) <= 0.5 during peak".parse().unwrap();
        assert_eq!(g.metric, Metric::Series(SeriesStat::Mean));
        assert_eq!(g.during.as_deref(), Some("peak"));
        assert_eq!(g.to_string(), "mean(gateway_latency) <= 0.5 during peak");
        let g: Gate = "last(orders_made) >= 20/s".parse().unwrap();
        assert_eq!(g.to_string(), "last(orders_made) >= 20/s");
        assert_eq!(g.threshold.canonical(), 20.0);
    }

    #[test]
    fn bad_series_gates_say_what_is_wrong() {
        let e = "max(backlog{station=grill}) < 1"
            .parse::<Gate>()
            .unwrap_err()
            .to_string();
        assert!(e.contains("must be quoted"), "{e}");
        let e = "max(backlog < 1".parse::<Gate>().unwrap_err().to_string();
        assert!(e.contains("expected `)`"), "{e}");
        let e = "max(backlog) < 2ms"
            .parse::<Gate>()
            .unwrap_err()
            .to_string();
        assert!(e.contains("a plain number"), "{e}");
        assert_eq!(SeriesStat::Max.of(&[1.0, 3.0, 2.0]), Some(3.0));
        assert_eq!(SeriesStat::Last.of(&[1.0, 3.0, 2.0]), Some(2.0));
        assert_eq!(SeriesStat::Mean.of(&[]), None);
    }
}
