//! Horizontal bar charts: one row per labelled value, an optional second series beside the
//! first (accuracy and agreement), and optional limit lines (a budget).

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{DrawError, FONT, boxed, legend, svg_string};

/// One row of bars.
#[derive(Debug, Clone)]
pub struct BarRow {
    pub label: String,
    /// One value per series (`None`: no bar for that series on this row).
    pub values: Vec<Option<f64>>,
}

/// A horizontal bar chart.
#[derive(Debug, Clone)]
pub struct BarChart {
    pub title: String,
    pub x_label: String,
    /// The series' names, for the legend (colours in order: blue, orange, ...).
    pub series: Vec<String>,
    pub rows: Vec<BarRow>,
    /// The x axis spans 0 to the largest value, a limit, or this (0..1 for fractions).
    pub x_max: Option<f64>,
    /// Vertical lines: a budget, say, with its label.
    pub limits: Vec<(String, f64)>,
    /// How a value is written at the end of its bar.
    pub value_text: fn(f64) -> String,
}

const COLORS: [RGBColor; 3] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
];

impl BarChart {
    fn extent(&self) -> f64 {
        let values = self
            .rows
            .iter()
            .flat_map(|r| r.values.iter().flatten().copied());
        let limits = self.limits.iter().map(|(_, v)| *v);
        let largest = values
            .chain(limits)
            .filter(|v| v.is_finite())
            .fold(0.0f64, f64::max);
        // Room on the right for the value written after the longest bar.
        match self.x_max {
            Some(m) => m.max(largest) * 1.15,
            None if largest > 0.0 => largest * 1.25,
            None => 1.0,
        }
    }

    /// Whether the chart has a legend (several series, or a limit line).
    fn has_legend(&self) -> bool {
        self.series.len() > 1 || !self.limits.is_empty()
    }

    /// Height in pixels: a band per row, and one for the legend.
    fn height(&self) -> u32 {
        let rows =
            u32::try_from(self.rows.len() + usize::from(self.has_legend())).unwrap_or(u32::MAX);
        let per_row = 18 + 14 * u32::try_from(self.series.len()).unwrap_or(1);
        90u32.saturating_add(rows.saturating_mul(per_row))
    }

    /// The chart as an SVG string `width` pixels wide.
    pub fn svg(&self, width: u32) -> Result<String, DrawError> {
        svg_string((width, self.height()), |root| self.draw(&root))
    }

    fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, plotters::coord::Shift>,
    ) -> Result<(), DrawError>
    where
        DB::ErrorType: 'static,
    {
        root.fill(&WHITE).map_err(boxed)?;
        let n = self.rows.len().max(1);
        let labels: Vec<&str> = self.rows.iter().map(|r| r.label.as_str()).collect();
        let longest = labels.iter().map(|l| l.len()).max().unwrap_or(4);
        let x_max = self.extent();
        // Rows top to bottom: row i is centred on y = n - 1 - i.
        let mut chart = ChartBuilder::on(root)
            .margin(10)
            .caption(&self.title, (FONT, 16))
            .x_label_area_size(35)
            .y_label_area_size(u32::try_from(longest * 7 + 12).unwrap_or(200))
            // The legend gets a band of its own below the rows, so it covers no bar.
            .build_cartesian_2d(
                0.0..x_max,
                -0.5 - f64::from(u8::from(self.has_legend()))..n as f64 - 0.5,
            )
            .map_err(boxed)?;
        let row_of = |y: &f64| {
            let i = n as f64 - 1.0 - y;
            ((i - i.round()).abs() < 1e-6 && i >= -0.5).then(|| i.round() as usize)
        };
        chart
            .configure_mesh()
            .disable_y_mesh()
            .y_labels(n + 1)
            .y_label_formatter(&|y| {
                row_of(y)
                    .and_then(|i| labels.get(i))
                    .map_or(String::new(), |l| (*l).to_owned())
            })
            .x_desc(self.x_label.as_str())
            .label_style((FONT, 12))
            .draw()
            .map_err(boxed)?;
        let band = 0.8 / self.series.len().max(1) as f64;
        for (s, name) in self.series.iter().enumerate() {
            let color = COLORS[s % COLORS.len()];
            let bars = self.rows.iter().enumerate().filter_map(|(i, row)| {
                let v = (*row.values.get(s)?)?;
                let top = (n - 1 - i) as f64 + 0.4 - band * s as f64;
                Some((v, top))
            });
            let bars: Vec<(f64, f64)> = bars.collect();
            chart
                .draw_series(bars.iter().map(|&(v, top)| {
                    Rectangle::new([(0.0, top), (v, top - band * 0.9)], color.filled())
                }))
                .map_err(boxed)?
                .label(name.as_str())
                .legend(move |(x, y)| {
                    Rectangle::new([(x, y - 5), (x + 12, y + 5)], color.filled())
                });
            let text = self.value_text;
            chart
                .draw_series(bars.iter().map(|&(v, top)| {
                    Text::new(
                        format!(" {}", text(v)),
                        (v, top - band * 0.45),
                        (FONT, 11)
                            .into_font()
                            .color(&BLACK)
                            .pos(Pos::new(HPos::Left, VPos::Center)),
                    )
                }))
                .map_err(boxed)?;
        }
        for (name, at) in &self.limits {
            chart
                .draw_series(std::iter::once(PathElement::new(
                    vec![(*at, -0.45), (*at, n as f64 - 0.5)],
                    RED.stroke_width(2),
                )))
                .map_err(boxed)?
                .label(name.as_str())
                .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 12, y)], RED.stroke_width(2)));
        }
        if self.has_legend() {
            legend(&mut chart, SeriesLabelPosition::LowerRight, 0.85)?;
        }
        root.present().map_err(boxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_labelled_and_limits_drawn() {
        let chart = BarChart {
            title: "ladder".into(),
            x_label: "fraction".into(),
            series: vec!["accuracy".into(), "agreement".into()],
            rows: vec![
                BarRow {
                    label: "teacher".into(),
                    values: vec![Some(0.98), None],
                },
                BarRow {
                    label: "int8 (host)".into(),
                    values: vec![Some(0.95), Some(0.96)],
                },
            ],
            x_max: Some(1.0),
            limits: vec![("budget".into(), 0.9)],
            value_text: |v| format!("{:.1}%", 100.0 * v),
        };
        let svg = chart.svg(600).expect("draws");
        for text in [
            "ladder",
            "teacher",
            "int8 (host)",
            "98.0%",
            "96.0%",
            "budget",
        ] {
            assert!(svg.contains(text), "no {text:?} in the chart");
        }
    }
}
