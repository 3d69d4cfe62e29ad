//! Figures across recorded runs (x: the run's index in the history
//! report), a dot per run, with change points drawn as dashed red verticals
//! at the first run after each change.

use super::SIZE;
use anyhow::Result;
use plotters::prelude::*;

/// One figure across runs; a `None` y leaves the run out (no such figure).
pub(crate) struct TrendLine {
    pub(crate) name: String,
    pub(crate) color: RGBColor,
    pub(crate) points: Vec<(f64, Option<f64>)>,
}

pub(crate) struct TrendChart {
    pub(crate) title: String,
    pub(crate) y_label: String,
    /// Runs on the x axis.
    pub(crate) runs: usize,
    pub(crate) lines: Vec<TrendLine>,
    /// Change points: the run index of the first run after each.
    pub(crate) changes: Vec<usize>,
}

const CHANGE: RGBColor = RGBColor(200, 30, 30);

impl TrendChart {
    pub(crate) fn render(&self) -> Result<String> {
        super::to_svg(&self.title, |svg| self.draw(svg))
    }

    fn draw(&self, svg: &mut String) -> Result<(), Box<dyn std::error::Error>> {
        let root = SVGBackend::with_string(svg, SIZE).into_drawing_area();
        root.fill(&WHITE)?;
        let x_max = (self.runs.max(2) - 1) as f64 + 0.5;
        let y_top = self
            .lines
            .iter()
            .flat_map(|l| l.points.iter().filter_map(|p| p.1))
            .fold(0.0_f64, f64::max);
        // Headroom for the legend box in the upper right.
        let y_max = if y_top > 0.0 { y_top * 1.45 } else { 1.0 };
        let mut chart = ChartBuilder::on(&root)
            .caption(&self.title, ("sans-serif", 18))
            .margin(12)
            .margin_right(28)
            .x_label_area_size(36)
            .y_label_area_size(64)
            .build_cartesian_2d(-0.5..x_max, 0.0..y_max)?;
        chart
            .configure_mesh()
            .x_desc("run (index)")
            .y_desc(self.y_label.as_str())
            .x_label_formatter(&|v| {
                if v.fract() == 0.0 {
                    format!("{v:.0}")
                } else {
                    String::new()
                }
            })
            .y_label_formatter(&|v| super::tick(*v))
            .light_line_style(RGBColor(245, 245, 245))
            .label_style(("sans-serif", 12))
            .draw()?;
        for (i, &at) in self.changes.iter().enumerate() {
            // Between the last run before the change and the first after it.
            let x = at as f64 - 0.5;
            let series = chart.draw_series(DashedLineSeries::new(
                [(x, 0.0), (x, y_max)],
                5,
                4,
                CHANGE.stroke_width(2),
            ))?;
            if i == 0 {
                series.label("change point").legend(|(x, y)| {
                    PathElement::new(vec![(x, y), (x + 16, y)], CHANGE.stroke_width(2))
                });
            }
        }
        for line in &self.lines {
            let color = line.color;
            let present: Vec<(f64, f64)> = line
                .points
                .iter()
                .filter_map(|&(x, y)| y.map(|y| (x, y)))
                .collect();
            chart
                .draw_series(LineSeries::new(present.clone(), color.stroke_width(2)))?
                .label(&line.name)
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 16, y)], color.stroke_width(2))
                });
            chart.draw_series(present.iter().map(|p| Circle::new(*p, 3, color.filled())))?;
        }
        super::draw_legend(&mut chart, SeriesLabelPosition::UpperRight)?;
        root.present()?;
        Ok(())
    }
}
