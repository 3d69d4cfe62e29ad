//! Latency against percentile on a "nines" axis: x = -log10(1 - p), so 90 %,
//! 99 %, 99.9 % ... are evenly spaced and the tail gets the room it deserves
//! (the layout of HdrHistogram's percentile plots). Latency is on a log axis.

use super::SIZE;
use crate::summary::PercentilePoint;
use anyhow::Result;
use plotters::prelude::*;

pub(crate) struct DistributionLine {
    pub(crate) name: String,
    pub(crate) color: RGBColor,
    pub(crate) points: Vec<PercentilePoint>,
    pub(crate) dashed: bool,
}

pub(crate) struct DistributionChart {
    pub(crate) title: String,
    pub(crate) lines: Vec<DistributionLine>,
}

/// The x position of a percentile (0..100) on the nines axis.
pub(crate) fn nines(percentile: f64) -> f64 {
    let rest = (1.0 - percentile / 100.0).max(1e-9);
    -rest.log10()
}

/// The label of a position on the nines axis: 0 → "0%", 2 → "99%", 3 → "99.9%".
pub(crate) fn nines_label(x: f64) -> String {
    let p = 100.0 * (1.0 - 10f64.powf(-x));
    let decimals = (x.round() as i64 - 2).clamp(0, 6) as usize;
    format!("{p:.decimals$}%")
}

impl DistributionChart {
    pub(crate) fn render(&self) -> Result<String> {
        super::to_svg(&self.title, |svg| self.draw(svg))
    }

    fn draw(&self, svg: &mut String) -> Result<(), Box<dyn std::error::Error>> {
        let root = SVGBackend::with_string(svg, SIZE).into_drawing_area();
        root.fill(&WHITE)?;
        let all = || self.lines.iter().flat_map(|l| l.points.iter());
        let x_max = all().map(|p| nines(p.percentile)).fold(1.0_f64, f64::max);
        // Rounded first: 30 steps of 0.1 nines is 3.0000000000000004.
        let x_max = ((x_max * 1000.0).round() / 1000.0).ceil();
        let y_min = all()
            .map(|p| p.latency_ms)
            .filter(|v| *v > 0.0)
            .fold(f64::MAX, f64::min);
        let y_max = all().map(|p| p.latency_ms).fold(0.0_f64, f64::max);
        let (y_min, y_max) = if y_max > 0.0 {
            (y_min / 1.5, y_max * 1.5)
        } else {
            (0.01, 1.0)
        };

        let mut chart = ChartBuilder::on(&root)
            .caption(&self.title, ("sans-serif", 18))
            .margin(12)
            .margin_right(36)
            .x_label_area_size(36)
            .y_label_area_size(64)
            .build_cartesian_2d(0.0..x_max, (y_min..y_max).log_scale())?;
        chart
            .configure_mesh()
            .x_desc("percentile")
            .y_desc("latency (ms, log scale)")
            .x_labels(x_max as usize + 1)
            .x_label_formatter(&|x| nines_label(*x))
            .y_label_formatter(&|v| super::tick(*v))
            .light_line_style(RGBColor(245, 245, 245))
            .label_style(("sans-serif", 12))
            .draw()?;

        for line in &self.lines {
            let color = line.color;
            let style = color.stroke_width(2);
            let points: Vec<(f64, f64)> = line
                .points
                .iter()
                .filter(|p| p.latency_ms > 0.0)
                .map(|p| (nines(p.percentile), p.latency_ms))
                .collect();
            if points.is_empty() {
                continue;
            }
            let drawn = if line.dashed {
                chart.draw_series(DashedLineSeries::new(points, 6, 4, style))?
            } else {
                chart.draw_series(LineSeries::new(points, style))?
            };
            drawn.label(line.name.clone()).legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2))
            });
        }
        super::draw_legend(&mut chart, SeriesLabelPosition::UpperLeft)?;
        root.present()?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_nines_axis_spaces_90_99_and_99_9_evenly() {
        assert!((nines(90.0) - 1.0).abs() < 1e-9);
        assert!((nines(99.0) - 2.0).abs() < 1e-9);
        assert!((nines(99.9) - 3.0).abs() < 1e-9);
        assert_eq!(nines_label(0.0), "0%");
        assert_eq!(nines_label(2.0), "99%");
        assert_eq!(nines_label(3.0), "99.9%");
        assert_eq!(nines_label(5.0), "99.999%");
    }
}
