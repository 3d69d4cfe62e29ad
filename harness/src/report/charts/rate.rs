//! Lines with a dot per point against a plain numeric x axis: the capacity
//! report's latency and 503 rate against the offered arrival rate.

use anyhow::Result;
use plotters::prelude::*;

/// Width of a rate chart, pixels (its height is the chart's own).
const WIDTH: u32 = 760;

/// One named, coloured series of (x, y) points.
pub(crate) struct RateLine {
    pub(crate) name: String,
    pub(crate) color: RGBColor,
    pub(crate) points: Vec<(f64, f64)>,
}

pub(crate) struct RateChart {
    pub(crate) caption: String,
    pub(crate) x_label: String,
    pub(crate) y_label: String,
    pub(crate) height: u32,
    pub(crate) lines: Vec<RateLine>,
}

impl RateChart {
    pub(crate) fn render(&self) -> Result<String> {
        super::to_svg(&self.caption, |svg| self.draw(svg))
    }

    fn draw(&self, svg: &mut String) -> Result<(), Box<dyn std::error::Error>> {
        let root = SVGBackend::with_string(svg, (WIDTH, self.height)).into_drawing_area();
        root.fill(&WHITE)?;
        let points = self
            .lines
            .iter()
            .flat_map(|l| l.points.iter())
            .filter(|p| p.1.is_finite());
        let (max_x, max_y) = points.fold((1.0f64, 1.0f64), |(x, y), p| (x.max(p.0), y.max(p.1)));
        let mut chart = ChartBuilder::on(&root)
            .caption(&self.caption, ("sans-serif", 16))
            .margin(10)
            .x_label_area_size(36)
            .y_label_area_size(56)
            .build_cartesian_2d(0.0..max_x * 1.05, 0.0..max_y * 1.1)?;
        chart
            .configure_mesh()
            .x_desc(&self.x_label)
            .y_desc(&self.y_label)
            .draw()?;
        for line in &self.lines {
            let color = line.color;
            chart
                .draw_series(LineSeries::new(
                    line.points.iter().copied(),
                    color.stroke_width(2),
                ))?
                .label(&line.name)
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 16, y)], color.stroke_width(2))
                });
            chart.draw_series(
                line.points
                    .iter()
                    .map(|p| Circle::new(*p, 3, color.filled())),
            )?;
        }
        chart
            .configure_series_labels()
            .border_style(BLACK)
            .background_style(WHITE.mix(0.8))
            .draw()?;
        root.present()?;
        Ok(())
    }
}
