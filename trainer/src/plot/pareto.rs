//! `minnow fit`'s Pareto figure: each candidate's validation error against its flash bytes
//! (left) and its compute per inference (right: instructions on the target core as the fit's
//! model predicts them, or multiply-accumulates), the candidates on the front (none smaller and
//! at least as accurate) joined by a line; published results given as marks (`minnow fit
//! --mark`) drawn on the flash panel beside them. PNG and SVG files.

use std::path::{Path, PathBuf};

use plotters::coord::Shift;
use plotters::prelude::*;
use serde::{Deserialize, Serialize};

use super::{DrawError, FONT, Figure, boxed, ensure_font, legend, write_png_and_svg};

/// One candidate, as the figure draws it.
#[derive(Debug, Clone, PartialEq)]
pub struct ParetoPoint {
    pub flash_bytes: f64,
    /// Instructions or multiply-accumulates per inference, as the figure's `compute` label says.
    pub compute: f64,
    /// Validation error in percent.
    pub error_pct: f64,
}

/// A result from elsewhere (a paper's network), drawn on the flash panel for comparison: its
/// label, flash bytes and error in percent (as published: usually a test error).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Mark {
    pub label: String,
    pub flash_bytes: u64,
    pub error_pct: f64,
}

impl Mark {
    /// `LABEL=FLASH:ERROR`, e.g. `SpArSe=2800:1.36` (flash as `--max-flash` reads it, error
    /// in percent).
    pub fn parse(s: &str) -> Result<Mark, String> {
        let usage = || format!("{s:?}: expected LABEL=FLASH:ERROR, e.g. SpArSe=2800:1.36");
        let (label, rest) = s.rsplit_once('=').ok_or_else(usage)?;
        let (flash, error) = rest.split_once(':').ok_or_else(usage)?;
        let label = label.trim();
        if label.is_empty() {
            return Err(usage());
        }
        let flash_bytes =
            crate::int8::budget::parse_size(flash).map_err(|e| format!("{s:?}: {e}"))?;
        let error_pct: f64 = error
            .trim()
            .parse()
            .map_err(|_| format!("{s:?}: the error {error:?} is not a number (in percent)"))?;
        if !(0.0..=100.0).contains(&error_pct) {
            return Err(format!("{s:?}: the error must be a percentage, 0 to 100"));
        }
        Ok(Mark {
            label: label.to_owned(),
            flash_bytes,
            error_pct,
        })
    }
}

/// The size of the figure, in pixels.
pub const PARETO_SIZE: (u32, u32) = (1000, 420);

/// The points of `points` on the front of `x` (smaller is better) and error: sorted by `x`,
/// each more accurate than every point before it.
pub fn front(points: &[ParetoPoint], x: impl Fn(&ParetoPoint) -> f64) -> Vec<(f64, f64)> {
    let mut sorted: Vec<(f64, f64)> = points.iter().map(|p| (x(p), p.error_pct)).collect();
    sorted.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
    let mut best = f64::INFINITY;
    sorted
        .into_iter()
        .filter(|&(_, e)| {
            let on = e < best;
            best = best.min(e);
            on
        })
        .collect()
}

fn panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    title: &str,
    x_label: &str,
    points: &[(f64, f64)],
    on_front: &[(f64, f64)],
    marks: &[Mark],
) -> Result<(), DrawError>
where
    DB::ErrorType: 'static,
{
    let marked = marks.iter().map(|m| (m.flash_bytes as f64, m.error_pct));
    let all = || points.iter().copied().chain(marked.clone());
    let x1 = all().map(|p| p.0).fold(1.0, f64::max) * 1.1;
    let y1 = all().map(|p| p.1).fold(1.0, f64::max) * 1.1;
    let mut chart = ChartBuilder::on(area)
        .margin(10)
        .caption(title, (FONT, 18))
        .x_label_area_size(35)
        .y_label_area_size(55)
        .build_cartesian_2d(0.0..x1, 0.0..y1)
        .map_err(boxed)?;
    chart
        .configure_mesh()
        .x_desc(x_label)
        .y_desc("validation error (%)")
        .label_style((FONT, 12))
        .draw()
        .map_err(boxed)?;
    chart
        .draw_series(
            points
                .iter()
                .map(|&p| Circle::new(p, 4, BLUE.mix(0.6).filled())),
        )
        .map_err(boxed)?
        .label("candidate")
        .legend(|(x, y)| Circle::new((x + 9, y), 4, BLUE.mix(0.6).filled()));
    chart
        .draw_series(LineSeries::new(
            on_front.iter().copied(),
            RED.stroke_width(2),
        ))
        .map_err(boxed)?
        .label("Pareto front")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], RED.stroke_width(2)));
    if !marks.is_empty() {
        chart
            .draw_series(marks.iter().map(|m| {
                EmptyElement::at((m.flash_bytes as f64, m.error_pct))
                    + TriangleMarker::new((0, 0), 6, BLACK.filled())
                    + Text::new(m.label.clone(), (8, -14), (FONT, 12))
            }))
            .map_err(boxed)?
            .label("published (its test error)")
            .legend(|(x, y)| TriangleMarker::new((x + 9, y), 6, BLACK.filled()));
    }
    legend(&mut chart, SeriesLabelPosition::UpperRight, 0.8)
}

/// Draws both panels of `points` on `root`; `compute` names the right panel's axis.
pub fn draw<DB: DrawingBackend>(
    root: DrawingArea<DB, Shift>,
    points: &[ParetoPoint],
    marks: &[Mark],
    title: &str,
    compute: &str,
) -> Result<(), DrawError>
where
    DB::ErrorType: 'static,
{
    ensure_font();
    root.fill(&WHITE).map_err(boxed)?;
    let (left, right) = root.split_horizontally(root.dim_in_pixel().0 / 2);
    let by_flash: Vec<(f64, f64)> = points
        .iter()
        .map(|p| (p.flash_bytes, p.error_pct))
        .collect();
    panel(
        &left,
        &format!("{title}: error against flash"),
        "student blob (bytes of flash)",
        &by_flash,
        &front(points, |p| p.flash_bytes),
        marks,
    )?;
    let by_compute: Vec<(f64, f64)> = points.iter().map(|p| (p.compute, p.error_pct)).collect();
    panel(
        &right,
        &format!("{title}: error against compute"),
        compute,
        &by_compute,
        &front(points, |p| p.compute),
        &[],
    )?;
    root.present().map_err(boxed)
}

/// `pareto.png` and `pareto.svg` of `points` (and `marks`) in `dir`.
pub fn write_pareto(
    dir: &Path,
    points: &[ParetoPoint],
    marks: &[Mark],
    title: &str,
    compute: &str,
) -> Result<(), (PathBuf, DrawError)> {
    let figure = Pareto {
        points,
        marks,
        title,
        compute,
    };
    write_png_and_svg(dir, "pareto", PARETO_SIZE, &figure)
}

/// The figure [`draw`] draws.
struct Pareto<'a> {
    points: &'a [ParetoPoint],
    marks: &'a [Mark],
    title: &'a str,
    compute: &'a str,
}

impl Figure for Pareto<'_> {
    fn draw<DB: DrawingBackend>(&self, root: DrawingArea<DB, Shift>) -> Result<(), DrawError>
    where
        DB::ErrorType: 'static,
    {
        draw(root, self.points, self.marks, self.title, self.compute)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(flash: f64, compute: f64, error: f64) -> ParetoPoint {
        ParetoPoint {
            flash_bytes: flash,
            compute,
            error_pct: error,
        }
    }

    #[test]
    fn the_front_keeps_what_nothing_smaller_beats() {
        let pts = [
            p(900.0, 10.0, 5.0),
            p(500.0, 50.0, 9.0),
            p(700.0, 20.0, 9.5),
            p(1500.0, 5.0, 2.0),
        ];
        assert_eq!(
            front(&pts, |p| p.flash_bytes),
            [(500.0, 9.0), (900.0, 5.0), (1500.0, 2.0)]
        );
        assert_eq!(front(&pts, |p| p.compute), [(5.0, 2.0)]);
    }

    #[test]
    fn draws_png_with_text_and_svg() {
        let dir = tempfile::tempdir().expect("tmp");
        let pts = [
            p(900.0, 10.0, 5.0),
            p(500.0, 50.0, 9.0),
            p(1500.0, 5.0, 2.0),
        ];
        let marks = [Mark::parse("SpArSe=2800:1.36").expect("a mark")];
        write_pareto(
            dir.path(),
            &pts,
            &marks,
            "digits",
            "instructions per inference",
        )
        .expect("draws");
        let png = std::fs::read(dir.path().join("pareto.png")).expect("png");
        let img = image::load_from_memory(&png).expect("decodes").to_rgb8();
        assert_eq!(img.dimensions(), PARETO_SIZE);
        let text = (10..28)
            .any(|y| (0..img.width()).any(|x| img.get_pixel(x, y).0.iter().all(|&c| c < 100)));
        assert!(text, "the PNG has no title text");
        let svg = std::fs::read_to_string(dir.path().join("pareto.svg")).expect("svg");
        assert!(
            svg.contains("error against flash")
                && svg.contains("Pareto front")
                && svg.contains("SpArSe")
                && svg.contains("published"),
            "svg"
        );
        write_pareto(dir.path(), &[], &[], "empty", "MACs").expect("no candidates draws too");
    }

    #[test]
    fn marks_parse_or_say_what_is_wrong() {
        let m = Mark::parse("SpArSe (2019)=2800:1.36").expect("mark");
        assert_eq!(
            m,
            Mark {
                label: "SpArSe (2019)".into(),
                flash_bytes: 2800,
                error_pct: 1.36
            }
        );
        assert_eq!(Mark::parse("a=4k:3.5").expect("k").flash_bytes, 4096);
        for bad in [
            "SpArSe",
            "=2800:1",
            "x=2800",
            "x=2800:abc",
            "x=2800:120",
            "x=big:1",
        ] {
            assert!(Mark::parse(bad).is_err(), "{bad} accepted");
        }
    }
}
