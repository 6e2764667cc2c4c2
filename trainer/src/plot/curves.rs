//! Training curves: loss on the left (train and validation), accuracy on the right (train,
//! validation, and agreement with the teacher on validation; y from 0 to 1), against epoch.
//! The same drawing as PNG and SVG files, or as an SVG string for report.html.

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;
use serde::{Deserialize, Serialize};

use super::{DrawError, FONT, Figure, boxed, ensure_font, legend, svg_string, write_png_and_svg};

/// One epoch's figures, as the curves (and report.json's `training` section) hold them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CurvePoint {
    /// 1-based.
    pub epoch: usize,
    pub train_loss: f64,
    pub train_accuracy: Option<f64>,
    pub val_loss: Option<f64>,
    pub val_accuracy: Option<f64>,
    /// Top-1 agreement with the teacher on the validation split.
    pub val_agreement: Option<f64>,
}

/// The size of a curves figure, in pixels.
pub const CURVES_SIZE: (u32, u32) = (1000, 400);

type Series<'a> = (&'a str, RGBColor, Vec<(f64, f64)>);

fn series(points: &[CurvePoint], f: impl Fn(&CurvePoint) -> Option<f64>) -> Vec<(f64, f64)> {
    points
        .iter()
        .filter_map(|m| f(m).filter(|v| v.is_finite()).map(|v| (m.epoch as f64, v)))
        .collect()
}

/// The y range of `lines`: from 0 (or below) to a little above the largest value.
fn y_range(lines: &[Series<'_>]) -> (f64, f64, f64) {
    let pts = lines.iter().flat_map(|(_, _, p)| p.iter().copied());
    let (mut x1, mut y0, mut y1) = (1.0f64, f64::INFINITY, f64::NEG_INFINITY);
    for (x, y) in pts {
        x1 = x1.max(x);
        y0 = y0.min(y);
        y1 = y1.max(y);
    }
    if !y0.is_finite() {
        return (x1, 0.0, 1.0);
    }
    (x1, y0.min(0.0), if y1 > y0 { y1 * 1.05 } else { y0 + 1.0 })
}

fn panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    title: &str,
    y_label: &str,
    lines: &[Series<'_>],
    fixed_y: Option<(f64, f64)>,
    legend_at: SeriesLabelPosition,
) -> Result<(), DrawError>
where
    DB::ErrorType: 'static,
{
    let (x1, auto_y0, auto_y1) = y_range(lines);
    let (y0, y1) = fixed_y.unwrap_or((auto_y0, auto_y1));
    let mut chart = ChartBuilder::on(area)
        .margin(10)
        .caption(title, (FONT, 18))
        .x_label_area_size(35)
        .y_label_area_size(50)
        .build_cartesian_2d(1.0f64..x1.max(2.0), y0..y1)
        .map_err(boxed)?;
    chart
        .configure_mesh()
        .x_desc("epoch")
        .y_desc(y_label)
        .label_style((FONT, 12))
        .draw()
        .map_err(boxed)?;
    for (name, color, p) in lines {
        if p.is_empty() {
            continue;
        }
        let c = *color;
        chart
            .draw_series(LineSeries::new(p.iter().copied(), c.stroke_width(2)))
            .map_err(boxed)?
            .label(*name)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], c.stroke_width(2)));
    }
    legend(&mut chart, legend_at, 0.8)
}

/// Draws the two panels of `points` on `root`.
pub fn draw<DB: DrawingBackend>(
    root: DrawingArea<DB, Shift>,
    points: &[CurvePoint],
    title: &str,
) -> Result<(), DrawError>
where
    DB::ErrorType: 'static,
{
    ensure_font();
    root.fill(&WHITE).map_err(boxed)?;
    let (left, right) = root.split_horizontally(root.dim_in_pixel().0 / 2);
    let loss = [
        ("train loss", BLUE, series(points, |m| Some(m.train_loss))),
        ("val cross-entropy", RED, series(points, |m| m.val_loss)),
    ];
    // Losses fall and accuracies rise: their legends go where the curves end up not being.
    let at = SeriesLabelPosition::UpperRight;
    panel(&left, &format!("{title}: loss"), "loss", &loss, None, at)?;
    let acc = [
        ("train accuracy", BLUE, series(points, |m| m.train_accuracy)),
        ("val accuracy", RED, series(points, |m| m.val_accuracy)),
        (
            "val teacher agreement",
            GREEN,
            series(points, |m| m.val_agreement),
        ),
    ];
    let title = format!("{title}: accuracy");
    let at = SeriesLabelPosition::LowerRight;
    panel(&right, &title, "fraction", &acc, Some((0.0, 1.0)), at)?;
    root.present().map_err(boxed)
}

/// `curves.png` and `curves.svg` of `points` in `dir`.
pub fn write_curves(
    dir: &Path,
    points: &[CurvePoint],
    title: &str,
) -> Result<(), (std::path::PathBuf, DrawError)> {
    write_png_and_svg(dir, "curves", CURVES_SIZE, &Curves { points, title })
}

/// The figure [`draw`] draws.
struct Curves<'a> {
    points: &'a [CurvePoint],
    title: &'a str,
}

impl Figure for Curves<'_> {
    fn draw<DB: DrawingBackend>(&self, root: DrawingArea<DB, Shift>) -> Result<(), DrawError>
    where
        DB::ErrorType: 'static,
    {
        draw(root, self.points, self.title)
    }
}

/// The curves of `points` as an SVG string.
pub fn curves_svg(points: &[CurvePoint], title: &str) -> Result<String, DrawError> {
    svg_string(CURVES_SIZE, |root| draw(root, points, title))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn points(n: usize) -> Vec<CurvePoint> {
        (1..=n)
            .map(|e| CurvePoint {
                epoch: e,
                train_loss: 1.0 / e as f64,
                train_accuracy: Some(0.5 + 0.08 * e as f64),
                val_loss: Some(1.2 / e as f64),
                val_accuracy: Some(0.5 + 0.07 * e as f64),
                val_agreement: Some(0.9),
            })
            .collect()
    }

    /// Whether the PNG has dark (text) pixels in the band where the panels' titles are.
    fn title_band_has_text(png: &[u8]) -> bool {
        let img = image::load_from_memory(png).expect("decodes").to_rgb8();
        assert_eq!(img.dimensions(), CURVES_SIZE);
        (10..28).any(|y| (0..img.width()).any(|x| img.get_pixel(x, y).0.iter().all(|&c| c < 100)))
    }

    #[test]
    fn draws_png_with_text_and_svg() {
        let dir = tempfile::tempdir().expect("tmp");
        write_curves(dir.path(), &points(5), "test").expect("draws");
        let png = std::fs::read(dir.path().join("curves.png")).expect("png");
        assert_eq!(&png[1..4], b"PNG");
        assert!(title_band_has_text(&png), "the PNG has no title text");
        let svg = std::fs::read_to_string(dir.path().join("curves.svg")).expect("svg");
        assert!(svg.contains("<svg") && svg.contains("polyline") && svg.contains("test: loss"));
        // One epoch only must not fail either.
        write_curves(dir.path(), &points(1), "one").expect("draws one epoch");
        let inline = curves_svg(&points(3), "inline").expect("svg string");
        assert!(
            inline.starts_with("<svg"),
            "{}",
            &inline[..40.min(inline.len())]
        );
    }
}
