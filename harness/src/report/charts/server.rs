//! The "Server" charts: one chart per declared server series, a line per
//! label set (e.g. one per station), its limit dashed in the same colour, on
//! the run's time axis with the same stage lines and fault shading as the
//! latency charts. Several runs (a comparison) are overlaid, the first solid
//! and the others dashed.

use super::{color, Chart, Line, TimeChart};
use crate::scrape::{SeriesKind, ServerMetrics, ServerSeries};

/// One side of the chart: a run's label (empty for a single run) and its scrape.
pub(crate) struct Side<'a> {
    pub(crate) label: &'a str,
    pub(crate) metrics: &'a ServerMetrics,
}

/// Frames the lines of a chart on a run's (or the runs') time axis.
pub(crate) type Frame<'a> = &'a dyn Fn(&str, &str, Vec<Line>) -> TimeChart;

/// A chart per series name, in the order the scenario declares them; one
/// that fails to draw is left out and named in the notes.
pub(crate) fn server_charts(sides: &[Side<'_>], frame: Frame<'_>) -> (Vec<Chart>, Vec<String>) {
    let mut names: Vec<(&str, SeriesKind)> = Vec::new();
    for side in sides {
        for s in &side.metrics.series {
            if !names.iter().any(|(n, _)| *n == s.name) {
                names.push((&s.name, s.kind));
            }
        }
    }
    let mut charts = Vec::new();
    let mut notes = Vec::new();
    for (name, kind) in names {
        let lines = lines_of(sides, name);
        let (y_label, how) = match kind {
            SeriesKind::Gauge => ("value", "as scraped"),
            SeriesKind::Rate => ("per second", "a counter's increase per second"),
            SeriesKind::Mean => ("mean", "the mean observation between two scrapes"),
        };
        let title = format!("Server: {name}");
        match frame(&title, y_label, lines).render() {
            Ok(svg) => charts.push(Chart {
                id: format!("server-{name}"),
                title,
                caption: format!(
                    "`{name}`, {how}, one line per label set; a dashed line of the same colour is its limit. \
                     A gap is a scrape that failed or did not have the series."
                ),
                svg,
            }),
            Err(e) => notes.push(format!("the chart `{title}` could not be drawn: {e:#}")),
        }
    }
    (charts, notes)
}

fn lines_of(sides: &[Side<'_>], name: &str) -> Vec<Line> {
    let mut label_sets: Vec<String> = Vec::new();
    let mut lines = Vec::new();
    for (side_i, side) in sides.iter().enumerate() {
        let interval = side.metrics.interval_s.max(0.001);
        for s in side.metrics.series.iter().filter(|s| s.name == name) {
            let key = legend(s);
            let i = label_sets
                .iter()
                .position(|k| *k == key)
                .unwrap_or_else(|| {
                    label_sets.push(key.clone());
                    label_sets.len() - 1
                });
            let suffix = if side.label.is_empty() {
                String::new()
            } else {
                format!(" ({})", side.label)
            };
            lines.push(Line {
                name: format!("{key}{suffix}"),
                color: color(i),
                points: with_gaps(&s.points, interval),
                dashed: side_i > 0,
            });
            if let (0, Some(limit)) = (side_i, s.bound()) {
                let (first, last) = match (s.points.first(), s.points.last()) {
                    (Some(a), Some(b)) => (a[0], b[0]),
                    _ => continue,
                };
                lines.push(Line {
                    name: format!("{key} limit"),
                    color: color(i),
                    points: vec![(first, Some(limit)), (last, Some(limit))],
                    dashed: true,
                });
            }
        }
    }
    lines
}

/// The label set as the legend names it: `grill`, `station=grill,zone=b`, or
/// the series' name when it has no labels.
fn legend(s: &ServerSeries) -> String {
    match s.labels.len() {
        0 => s.name.clone(),
        1 => s.labels.values().next().cloned().unwrap_or_default(),
        _ => s
            .labels
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join(","),
    }
}

/// The points with a break wherever two scrapes are more than one and a half
/// intervals apart, so a failed scrape shows as a gap, not a straight line.
pub(crate) fn with_gaps(points: &[[f64; 2]], interval_s: f64) -> Vec<(f64, Option<f64>)> {
    let mut out = Vec::with_capacity(points.len());
    let mut previous: Option<f64> = None;
    for [t, v] in points {
        if previous.is_some_and(|p| t - p > interval_s * 1.5) {
            out.push((previous.unwrap_or(*t) + interval_s, None));
        }
        out.push((*t, Some(*v)));
        previous = Some(*t);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_scrape_breaks_the_line() {
        let p = with_gaps(&[[0.0, 1.0], [1.0, 2.0], [4.0, 3.0], [5.0, 3.0]], 1.0);
        assert_eq!(
            p,
            vec![
                (0.0, Some(1.0)),
                (1.0, Some(2.0)),
                (2.0, None),
                (4.0, Some(3.0)),
                (5.0, Some(3.0))
            ]
        );
    }
}
