//! Training curves (loss and accuracy against epoch) as PNG and SVG, drawn with plotters.
//!
//! The build has no font rasteriser (plotters without `ttf`/`ab_glyph`, and the bitmap backend
//! panics on text without one), so the PNG carries the curves and grid without text — loss on the
//! left (blue train, red validation), accuracy on the right (blue train, red validation, green
//! teacher agreement, y from 0 to 1); the SVG has the same plus captions, axis labels and legend.

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;

use crate::error::{Error, Result};
use crate::train::metrics::EpochMetrics;

/// What plotters reports when it cannot draw.
type DrawError = Box<dyn std::error::Error + Send + Sync>;

fn boxed<E: std::error::Error + Send + Sync + 'static>(e: E) -> DrawError {
    Box::new(e)
}

type Series<'a> = (&'a str, RGBColor, Vec<(f64, f64)>);

fn series(history: &[EpochMetrics], f: impl Fn(&EpochMetrics) -> Option<f64>) -> Vec<(f64, f64)> {
    history
        .iter()
        .filter_map(|m| f(m).filter(|v| v.is_finite()).map(|v| (m.epoch as f64, v)))
        .collect()
}

fn panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    title: &str,
    y_label: &str,
    lines: &[Series<'_>],
    y_range: Option<(f64, f64)>,
    text: bool,
) -> std::result::Result<(), DrawError>
where
    DB::ErrorType: 'static,
{
    let pts = lines.iter().flat_map(|(_, _, p)| p.iter().copied());
    let (mut x1, mut y0, mut y1) = (1.0f64, f64::INFINITY, f64::NEG_INFINITY);
    for (x, y) in pts {
        x1 = x1.max(x);
        y0 = y0.min(y);
        y1 = y1.max(y);
    }
    let (y0, y1) = match y_range {
        Some(r) => r,
        None if y0.is_finite() => (y0.min(0.0), if y1 > y0 { y1 * 1.05 } else { y0 + 1.0 }),
        None => (0.0, 1.0),
    };
    let mut builder = ChartBuilder::on(area);
    builder.margin(10);
    if text {
        builder
            .caption(title, ("sans-serif", 18))
            .x_label_area_size(30)
            .y_label_area_size(45);
    }
    let mut chart = builder
        .build_cartesian_2d(1.0f64..x1.max(2.0), y0..y1)
        .map_err(boxed)?;
    if text {
        chart
            .configure_mesh()
            .x_desc("epoch")
            .y_desc(y_label)
            .draw()
            .map_err(boxed)?;
    } else {
        chart
            .configure_mesh()
            .x_labels(0)
            .y_labels(0)
            .draw()
            .map_err(boxed)?;
    }
    for (name, color, p) in lines {
        if p.is_empty() {
            continue;
        }
        let c = *color;
        let s = chart
            .draw_series(LineSeries::new(p.iter().copied(), c.stroke_width(2)))
            .map_err(boxed)?;
        if text {
            s.label(*name).legend(move |(x, y)| {
                PathElement::new(vec![(x, y), (x + 18, y)], c.stroke_width(2))
            });
        }
    }
    if text {
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()
            .map_err(boxed)?;
    }
    Ok(())
}

fn draw<DB: DrawingBackend>(
    root: DrawingArea<DB, Shift>,
    history: &[EpochMetrics],
    title: &str,
    text: bool,
) -> std::result::Result<(), DrawError>
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE).map_err(boxed)?;
    let (left, right) = root.split_horizontally(root.dim_in_pixel().0 / 2);
    let loss = [
        ("train loss", BLUE, series(history, |m| Some(m.train_loss))),
        ("val cross-entropy", RED, series(history, |m| m.val_loss)),
    ];
    panel(&left, &format!("{title}: loss"), "loss", &loss, None, text)?;
    let acc = [
        (
            "train accuracy",
            BLUE,
            series(history, |m| m.train_accuracy),
        ),
        ("val accuracy", RED, series(history, |m| m.val_accuracy)),
        (
            "val teacher agreement",
            GREEN,
            series(history, |m| m.val_agreement),
        ),
    ];
    panel(
        &right,
        &format!("{title}: accuracy"),
        "fraction",
        &acc,
        Some((0.0, 1.0)),
        text,
    )?;
    root.present().map_err(boxed)
}

/// Draws `curves.png` and `curves.svg` into `dir`.
pub fn draw_curves(dir: &Path, history: &[EpochMetrics], title: &str) -> Result<()> {
    let png = dir.join("curves.png");
    draw(
        BitMapBackend::new(&png, (1000, 400)).into_drawing_area(),
        history,
        title,
        false,
    )
    .map_err(|source| Error::Plot {
        path: png.clone(),
        source,
    })?;
    let svg = dir.join("curves.svg");
    draw(
        SVGBackend::new(&svg, (1000, 400)).into_drawing_area(),
        history,
        title,
        true,
    )
    .map_err(|source| Error::Plot {
        path: svg.clone(),
        source,
    })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draws_png_and_svg() -> Result<()> {
        let dir = tempfile::tempdir().expect("tmp");
        let h: Vec<EpochMetrics> = (1..=5)
            .map(|e| EpochMetrics {
                epoch: e,
                train_loss: 1.0 / e as f64,
                train_soft_loss: None,
                train_hard_loss: None,
                train_accuracy: Some(0.5 + 0.08 * e as f64),
                train_agreement: None,
                val_loss: Some(1.2 / e as f64),
                val_accuracy: Some(0.5 + 0.07 * e as f64),
                val_agreement: Some(0.9),
                seconds: 0.0,
            })
            .collect();
        draw_curves(dir.path(), &h, "test")?;
        let png = std::fs::read(dir.path().join("curves.png")).expect("png");
        assert_eq!(&png[1..4], b"PNG");
        let svg = std::fs::read_to_string(dir.path().join("curves.svg")).expect("svg");
        assert!(svg.contains("<svg") && svg.contains("polyline"));
        // One epoch only must not fail either.
        draw_curves(dir.path(), &h[..1], "one")?;
        Ok(())
    }
}
