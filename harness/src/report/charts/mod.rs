//! Charts drawn by plotters into SVG strings that the HTML templates inline.
//! Three shapes cover every chart: a time chart (lines over seconds of the
//! run, with fault windows shaded and named in the legend, and stage
//! boundaries marked), a distribution chart (latency against a "nines"
//! percentile axis, as HdrHistogram plots it), and a rate chart (figures
//! against the offered arrival rate, for the capacity report).

mod distribution;
mod rate;
mod run;
mod server;
mod timechart;
mod trend;

pub(crate) use distribution::{DistributionChart, DistributionLine};
pub(crate) use rate::{RateChart, RateLine};
pub(crate) use run::{run_charts, run_server_charts};
pub(crate) use server::{server_charts, Side};
pub(crate) use timechart::{Band, Line, Mark, TimeChart};
pub(crate) use trend::{TrendChart, TrendLine};

use plotters::coord::CoordTranslate;
use plotters::prelude::{ChartContext, Color, SVGBackend, SeriesLabelPosition, WHITE};
use plotters::style::RGBColor;

/// Draws a chart into an SVG string with `draw`, naming it in the error.
pub(crate) fn to_svg(
    title: &str,
    draw: impl FnOnce(&mut String) -> Result<(), Box<dyn std::error::Error>>,
) -> anyhow::Result<String> {
    let mut svg = String::new();
    draw(&mut svg).map_err(|e| anyhow::anyhow!("drawing the chart `{title}`: {e}"))?;
    Ok(svg)
}

/// The legend box of the time, trend and distribution charts, at `position`.
pub(crate) fn draw_legend<'a, 'b: 'a, CT: CoordTranslate>(
    chart: &mut ChartContext<'a, SVGBackend<'b>, CT>,
    position: SeriesLabelPosition,
) -> Result<(), Box<dyn std::error::Error>> {
    chart
        .configure_series_labels()
        .position(position)
        .background_style(WHITE.mix(0.85))
        .border_style(RGBColor(200, 200, 200))
        .label_font(("sans-serif", 12))
        .draw()?;
    Ok(())
}

/// A named chart, ready to inline.
#[derive(Clone, Debug, serde::Serialize)]
pub(crate) struct Chart {
    pub(crate) id: String,
    pub(crate) title: String,
    /// What the chart shows and how to read it, one or two sentences.
    pub(crate) caption: String,
    pub(crate) svg: String,
}

/// Size of every chart, pixels (the page scales it to its width).
pub(crate) const SIZE: (u32, u32) = (960, 340);

/// Most points a line gets; longer series are bucketed (see [`downsample`]).
pub(crate) const MAX_POINTS: usize = 720;

/// Distinct line colours (Tableau 10), reused in order.
pub(crate) const PALETTE: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    RGBColor(127, 127, 127),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

/// Fault window shades, distinct from the line colours' order.
pub(crate) const SHADES: [RGBColor; 5] = [
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(255, 127, 14),
    RGBColor(23, 190, 207),
    RGBColor(188, 189, 34),
];

pub(crate) fn color(i: usize) -> RGBColor {
    PALETTE[i % PALETTE.len()]
}

/// Buckets a per-second series into at most [`MAX_POINTS`] points: each
/// bucket's x is its middle (second t covers t..t+1) and its y is `fold` of the values in it
/// (the mean for rates; the max for latency percentiles, so a spike is never
/// averaged away). Missing values stay missing.
pub(crate) fn downsample(t: &[u32], values: &[Option<f64>], fold: Fold) -> Vec<(f64, Option<f64>)> {
    let bucket = t.len().div_ceil(MAX_POINTS).max(1);
    t.chunks(bucket)
        .zip(values.chunks(bucket))
        .map(|(ts, vs)| {
            let present: Vec<f64> = vs.iter().flatten().copied().collect();
            let y = (!present.is_empty()).then(|| match fold {
                Fold::Max => present.iter().copied().fold(f64::MIN, f64::max),
                Fold::Mean => present.iter().sum::<f64>() / present.len() as f64,
            });
            (f64::from(ts[0]) + bucket as f64 / 2.0, y)
        })
        .collect()
}

/// Per-second rates with the run's last second left out when the run covered
/// less than half of it: too short to be a rate worth drawing.
pub(crate) fn full_seconds(t: &[u32], values: &[f64], duration_s: f64) -> Vec<Option<f64>> {
    t.iter()
        .zip(values)
        .map(|(t, v)| {
            let covered = duration_s - f64::from(*t);
            (covered >= 0.5 || covered <= 0.0).then_some(*v)
        })
        .collect()
}

/// An axis label without needless decimals: 250, 2.5, 0.25.
pub(crate) fn tick(v: f64) -> String {
    let a = v.abs();
    let text = if a >= 10.0 || a == 0.0 {
        format!("{v:.0}")
    } else if a >= 1.0 {
        format!("{v:.1}")
    } else if a >= 0.1 {
        format!("{v:.2}")
    } else {
        // Small values (a commit time in seconds): enough decimals for two figures.
        let digits = ((-a.log10()).ceil() as usize + 1).min(6);
        format!("{v:.digits$}")
    };
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        text
    }
}

#[derive(Clone, Copy, Debug)]
pub(crate) enum Fold {
    Max,
    Mean,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axis_labels_keep_two_figures_of_small_values() {
        assert_eq!(tick(250.0), "250");
        assert_eq!(tick(2.5), "2.5");
        assert_eq!(tick(0.25), "0.25");
        assert_eq!(tick(0.003), "0.003");
        assert_eq!(tick(0.0004), "0.0004");
    }

    #[test]
    fn long_series_are_bucketed_keeping_spikes_and_gaps() {
        let t: Vec<u32> = (0..3600).collect();
        let mut v: Vec<Option<f64>> = vec![Some(1.0); 3600];
        v[1234] = Some(900.0);
        for x in &mut v[10..20] {
            *x = None;
        }
        let points = downsample(&t, &v, Fold::Max);
        assert!(points.len() <= MAX_POINTS);
        assert!(points.iter().any(|(_, y)| *y == Some(900.0)));
        assert!(points.iter().any(|(_, y)| y.is_none()));
        let short = downsample(&t[..60], &v[..60], Fold::Mean);
        assert_eq!(short.len(), 60);
    }
}
