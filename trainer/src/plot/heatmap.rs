//! A confusion matrix as a heat map: rows are true labels, columns predictions, each cell
//! shaded by its share of the row and written with its count.

use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{DrawError, FONT, boxed, svg_string};

/// `counts[label][predicted]` as an SVG string.
pub fn confusion_svg(
    title: &str,
    counts: &[Vec<u32>],
    names: &[String],
) -> Result<String, DrawError> {
    let n = counts.len().max(1);
    let cell = (480 / n).clamp(18, 48);
    let side = u32::try_from(cell * n + 110).unwrap_or(600);
    svg_string((side + 40, side + 30), |root| {
        draw(&root, title, counts, names)
    })
}

fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, plotters::coord::Shift>,
    title: &str,
    counts: &[Vec<u32>],
    names: &[String],
) -> Result<(), DrawError>
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE).map_err(boxed)?;
    let n = counts.len().max(1);
    let top = n as f64 - 0.5;
    let mut chart = ChartBuilder::on(root)
        .margin(10)
        .caption(title, (FONT, 16))
        .x_label_area_size(40)
        .y_label_area_size(50)
        .build_cartesian_2d(-0.5..top, -0.5..top)
        .map_err(boxed)?;
    let name = |i: f64| {
        let at = i.round();
        ((i - at).abs() < 1e-6 && at >= 0.0)
            .then(|| names.get(at as usize).cloned())
            .flatten()
            .unwrap_or_default()
    };
    // Label 0 on the top row.
    let flip = |y: f64| n as f64 - 1.0 - y;
    chart
        .configure_mesh()
        .disable_mesh()
        .x_labels(n + 1)
        .y_labels(n + 1)
        .x_label_formatter(&|x| name(*x))
        .y_label_formatter(&|y| name(flip(*y)))
        .x_desc("predicted")
        .y_desc("label")
        .label_style((FONT, 12))
        .draw()
        .map_err(boxed)?;
    let cells = counts.iter().enumerate().flat_map(|(label, row)| {
        let total = row.iter().map(|&c| f64::from(c)).sum::<f64>().max(1.0);
        row.iter()
            .enumerate()
            .map(move |(pred, &c)| (label, pred, c, f64::from(c) / total))
    });
    let cells: Vec<(usize, usize, u32, f64)> = cells.collect();
    let shade = |share: f64| {
        let light = (255.0 * (1.0 - 0.85 * share)).round() as u8;
        RGBColor(light, light, 255)
    };
    chart
        .draw_series(cells.iter().map(|&(label, pred, _, share)| {
            let (x, y) = (pred as f64, flip(label as f64));
            Rectangle::new(
                [(x - 0.5, y + 0.5), (x + 0.5, y - 0.5)],
                shade(share).filled(),
            )
        }))
        .map_err(boxed)?;
    let size = if n > 12 { 9 } else { 12 };
    chart
        .draw_series(
            cells
                .iter()
                .filter(|c| c.2 > 0)
                .map(|&(label, pred, count, share)| {
                    let color = if share > 0.6 { WHITE } else { BLACK };
                    let style = (FONT, size)
                        .into_font()
                        .color(&color)
                        .pos(Pos::new(HPos::Center, VPos::Center));
                    Text::new(count.to_string(), (pred as f64, flip(label as f64)), style)
                }),
        )
        .map_err(boxed)?;
    root.present().map_err(boxed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_count_and_class_is_written() {
        let counts = vec![vec![50, 2, 0], vec![1, 40, 9], vec![0, 3, 47]];
        let names: Vec<String> = ["cat", "dog", "eel"].map(String::from).to_vec();
        let svg = confusion_svg("confusion", &counts, &names).expect("draws");
        // plotters writes each text on a line of its own.
        for text in ["confusion", "cat", "dog", "eel", "50", "40", "47", "9"] {
            assert!(
                svg.contains(&format!("\n{text}\n")),
                "no {text:?} in the heat map"
            );
        }
        // Zero cells are left blank.
        assert!(!svg.contains("\n0\n"));
    }
}
