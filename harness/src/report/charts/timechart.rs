//! Lines over the seconds of a run, with fault windows shaded and named in the
//! legend and stage boundaries drawn as dashed verticals.

use super::{SHADES, SIZE};
use anyhow::Result;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;

/// One line; a `None` y leaves a gap (no data in that second).
pub(crate) struct Line {
    pub(crate) name: String,
    pub(crate) color: RGBColor,
    pub(crate) points: Vec<(f64, Option<f64>)>,
    /// Drawn dashed (e.g. a second run overlaid on the first).
    pub(crate) dashed: bool,
}

/// A shaded span of time: a fault window.
pub(crate) struct Band {
    pub(crate) name: String,
    pub(crate) start: f64,
    pub(crate) end: f64,
}

/// A vertical marker: the start of a stage.
pub(crate) struct Mark {
    pub(crate) name: String,
    pub(crate) at: f64,
}

pub(crate) struct TimeChart {
    pub(crate) title: String,
    pub(crate) y_label: String,
    /// Seconds covered by the x axis.
    pub(crate) x_max: f64,
    pub(crate) lines: Vec<Line>,
    pub(crate) bands: Vec<Band>,
    pub(crate) marks: Vec<Mark>,
}

impl TimeChart {
    pub(crate) fn render(&self) -> Result<String> {
        super::to_svg(&self.title, |svg| self.draw(svg))
    }

    fn draw(&self, svg: &mut String) -> Result<(), Box<dyn std::error::Error>> {
        let root = SVGBackend::with_string(svg, SIZE).into_drawing_area();
        root.fill(&WHITE)?;
        let x_max = self.x_max.max(1.0);
        let y_max = self.y_max();
        let mut chart = ChartBuilder::on(&root)
            .caption(&self.title, ("sans-serif", 18))
            .margin(12)
            .margin_right(28)
            .x_label_area_size(36)
            .y_label_area_size(64)
            .build_cartesian_2d(0.0..x_max, 0.0..y_max)?;
        chart
            .configure_mesh()
            .x_desc("seconds since start")
            .y_desc(self.y_label.as_str())
            .x_label_formatter(&|v| super::tick(*v))
            .y_label_formatter(&|v| super::tick(*v))
            .light_line_style(RGBColor(245, 245, 245))
            .label_style(("sans-serif", 12))
            .draw()?;
        self.draw_bands(&mut chart, x_max, y_max)?;
        self.draw_marks(&mut chart, x_max, y_max)?;
        self.draw_lines(&mut chart)?;
        super::draw_legend(&mut chart, SeriesLabelPosition::UpperRight)?;
        root.present()?;
        Ok(())
    }

    /// The top of the y axis: the highest value plus headroom for the legend
    /// box (about 15 px an entry out of a 250 px plot), so the legend does
    /// not hide the data.
    fn y_max(&self) -> f64 {
        let y_top = self
            .lines
            .iter()
            .flat_map(|l| l.points.iter().filter_map(|p| p.1))
            .fold(0.0_f64, f64::max);
        let entries = self.lines.len() + self.bands.len() + usize::from(!self.marks.is_empty());
        let legend_share = ((entries * 15 + 24) as f64 / 250.0).min(0.6);
        if y_top > 0.0 {
            y_top / (1.0 - legend_share)
        } else {
            1.0
        }
    }

    /// Fault windows, shaded and named in the legend.
    fn draw_bands<'a, 'b: 'a>(&self, chart: &mut Plot<'a, 'b>, x_max: f64, y_max: f64) -> Drawn {
        for (i, band) in self.bands.iter().enumerate() {
            let shade = SHADES[i % SHADES.len()];
            let (start, end) = (band.start.clamp(0.0, x_max), band.end.clamp(0.0, x_max));
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [(start, 0.0), (end.max(start), y_max)],
                    shade.mix(0.13).filled(),
                )))?
                .label(format!("fault: {}", band.name))
                .legend(move |(x, y)| {
                    Rectangle::new([(x, y - 6), (x + 18, y + 6)], shade.mix(0.35).filled())
                });
        }
        Ok(())
    }

    /// Stage boundaries, dashed, one legend entry for all, each named at its top.
    fn draw_marks<'a, 'b: 'a>(&self, chart: &mut Plot<'a, 'b>, x_max: f64, y_max: f64) -> Drawn {
        let stage_style = RGBColor(110, 110, 110);
        for (i, mark) in self.marks.iter().enumerate() {
            let series = chart.draw_series(DashedLineSeries::new(
                [(mark.at, 0.0), (mark.at, y_max)],
                4,
                4,
                stage_style.stroke_width(1),
            ))?;
            if i == 0 {
                series.label("stage boundary").legend(move |(x, y)| {
                    // Dashed, as the boundaries themselves are.
                    EmptyElement::at((x, y))
                        + PathElement::new(vec![(0, 0), (5, 0)], stage_style)
                        + PathElement::new(vec![(9, 0), (14, 0)], stage_style)
                        + PathElement::new(vec![(18, 0), (18, 0)], stage_style)
                });
            }
            if !mark.name.is_empty() {
                chart.draw_series(std::iter::once(Text::new(
                    mark.name.clone(),
                    (mark.at + x_max * 0.004, y_max * 0.985),
                    ("sans-serif", 11).into_font().color(&stage_style),
                )))?;
            }
        }
        Ok(())
    }

    /// The lines, gaps left where a second has no value, each named once in the legend.
    fn draw_lines<'a, 'b: 'a>(&self, chart: &mut Plot<'a, 'b>) -> Drawn {
        for line in &self.lines {
            let color = line.color;
            let style = color.stroke_width(2);
            let mut labelled = false;
            for segment in segments(&line.points) {
                let drawn = if line.dashed {
                    chart.draw_series(DashedLineSeries::new(segment, 6, 4, style))?
                } else {
                    chart.draw_series(LineSeries::new(segment, style))?
                };
                if labelled {
                    continue;
                }
                labelled = true;
                let drawn = drawn.label(line.name.clone());
                if line.dashed {
                    drawn.legend(move |(x, y)| {
                        EmptyElement::at((x, y))
                            + PathElement::new(vec![(0, 0), (7, 0)], color.stroke_width(2))
                            + PathElement::new(vec![(11, 0), (18, 0)], color.stroke_width(2))
                    });
                } else {
                    drawn.legend(move |(x, y)| {
                        PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2))
                    });
                }
            }
        }
        Ok(())
    }
}

/// The chart being drawn: seconds on x, the figure on y.
type Plot<'a, 'b> = ChartContext<'a, SVGBackend<'b>, Cartesian2d<RangedCoordf64, RangedCoordf64>>;

/// What a drawing step returns (plotters' errors, boxed).
type Drawn = Result<(), Box<dyn std::error::Error>>;

/// Runs of consecutive points with a value; a lone point becomes a short tick
/// so it still shows.
fn segments(points: &[(f64, Option<f64>)]) -> Vec<Vec<(f64, f64)>> {
    let mut out = Vec::new();
    let mut current = Vec::new();
    for &(x, y) in points {
        match y {
            Some(y) => current.push((x, y)),
            None if !current.is_empty() => out.push(std::mem::take(&mut current)),
            None => {}
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    for segment in &mut out {
        if segment.len() == 1 {
            let (x, y) = segment[0];
            segment.push((x + 0.5, y));
        }
    }
    out
}
