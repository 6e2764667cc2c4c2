//! Charts, drawn with plotters: training curves (PNG and SVG files beside a trained model), and
//! the SVG figures of `report.html` (the accuracy ladder, the confusion matrix, per-layer
//! quantization error, the footprint against its budget), and `minnow fit`'s Pareto figure.
//!
//! Text needs a font: the binary carries one (a subset of DejaVu Sans,
//! `trainer/assets/fonts/`, made by `scripts/subset-font.sh`), registered with plotters before
//! anything is drawn, so PNGs have titles, axes and legends on any machine. SVGs name the
//! generic `sans-serif` family and the viewer draws the text.
//!
//! A leaf module: it knows nothing of the stages, which hand it plain numbers.

pub mod bars;
pub mod curves;
pub mod heatmap;
pub mod pareto;

use std::sync::Once;

use std::path::{Path, PathBuf};

use plotters::chart::{ChartContext, SeriesLabelPosition};
use plotters::coord::{CoordTranslate, Shift};
use plotters::prelude::{BitMapBackend, DrawingArea, DrawingBackend, IntoDrawingArea, SVGBackend};
use plotters::style::{BLACK, Color, FontStyle, WHITE, register_font};

/// What plotters reports when it cannot draw.
pub type DrawError = Box<dyn std::error::Error + Send + Sync>;

pub(crate) fn boxed<E: std::error::Error + Send + Sync + 'static>(e: E) -> DrawError {
    Box::new(e)
}

/// The font family every chart names.
pub const FONT: &str = "sans-serif";

/// Draws the legend of `chart`'s labelled series at `at`, as every chart's legend looks: the
/// chart's font on a white box, a little transparent (`opacity`) so lines behind it still show.
pub(crate) fn legend<'a, DB: DrawingBackend + 'a, CT: CoordTranslate>(
    chart: &mut ChartContext<'a, DB, CT>,
    at: SeriesLabelPosition,
    opacity: f64,
) -> Result<(), DrawError>
where
    DB::ErrorType: 'static,
{
    chart
        .configure_series_labels()
        .position(at)
        .label_font((FONT, 12))
        .background_style(WHITE.mix(opacity))
        .border_style(BLACK)
        .draw()
        .map_err(boxed)
}

/// DejaVu Sans, cut down to the characters minnow's charts use.
static FONT_BYTES: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans-subset.ttf");

/// Registers the embedded font with plotters (once per process); every drawing entry point
/// calls it first.
pub fn ensure_font() {
    static REGISTER: Once = Once::new();
    REGISTER.call_once(|| {
        // The bytes are ours and tested (`the_embedded_font_loads`): a failure here would be
        // a broken build, and plotters then reports a missing font as a drawing error.
        let _ = register_font(FONT, FontStyle::Normal, FONT_BYTES);
    });
}

/// A figure that draws itself on any plotters backend (PNG and SVG files, SVG strings).
pub trait Figure {
    fn draw<DB: DrawingBackend>(&self, root: DrawingArea<DB, Shift>) -> Result<(), DrawError>
    where
        DB::ErrorType: 'static;
}

/// `STEM.png` and `STEM.svg` of `figure` in `dir`, `size` pixels; an error names its file.
pub fn write_png_and_svg(
    dir: &Path,
    stem: &str,
    size: (u32, u32),
    figure: &impl Figure,
) -> Result<(), (PathBuf, DrawError)> {
    let png = dir.join(format!("{stem}.png"));
    figure
        .draw(BitMapBackend::new(&png, size).into_drawing_area())
        .map_err(|e| (png.clone(), e))?;
    let svg = dir.join(format!("{stem}.svg"));
    figure
        .draw(SVGBackend::new(&svg, size).into_drawing_area())
        .map_err(|e| (svg.clone(), e))
}

/// An SVG drawn into a string by `draw`, for inlining into HTML (no XML declaration).
pub fn svg_string(
    size: (u32, u32),
    draw: impl FnOnce(
        plotters::drawing::DrawingArea<plotters::prelude::SVGBackend<'_>, plotters::coord::Shift>,
    ) -> Result<(), DrawError>,
) -> Result<String, DrawError> {
    ensure_font();
    let mut out = String::new();
    {
        let backend = plotters::prelude::SVGBackend::with_string(&mut out, size);
        draw(backend.into_drawing_area())?;
    }
    Ok(match out.find("<svg") {
        Some(start) => out[start..].to_owned(),
        None => out,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_font_loads() {
        assert!(register_font("minnow-test", FontStyle::Normal, FONT_BYTES).is_ok());
    }
}
