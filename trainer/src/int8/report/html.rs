//! `report.html`: the report a person reads first. One self-contained file (inline SVG and CSS,
//! no script, nothing fetched) that answers "how much accuracy does the board keep against the
//! teacher, and at what cost": the accuracy ladder, the training curves, the confusion matrix,
//! per-layer quantization error, the footprint against its budget, the device's run, and the
//! settings that reproduce the run.
//!
//! Every number the page states sits in an element with a `data-key` naming its report.json
//! path, written by [`figures`], the same text report.md and `minnow run`'s table print; a test
//! reads them back and compares.

use std::fmt::Write as _;

use super::content::{Report, SettingsReport};
use crate::percent::pct;
use crate::plot::DrawError;
use crate::plot::bars::{BarChart, BarRow};
use crate::plot::curves::curves_svg;
use crate::plot::heatmap::confusion_svg;

/// The page's sections, by `id`, in order.
pub const SECTIONS: [&str; 7] = [
    "ladder",
    "training",
    "confusion",
    "layers",
    "footprint",
    "device",
    "reproduce",
];

/// One number of the report: its report.json path, what it is, and how it is written.
#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    pub key: &'static str,
    pub label: &'static str,
    pub text: String,
}

fn fig(key: &'static str, label: &'static str, text: String) -> Figure {
    Figure { key, label, text }
}

/// The headline numbers, in the order the page's tables give them; absent values are left out.
pub fn figures(r: &Report) -> Vec<Figure> {
    let mut f = Vec::new();
    let mut pct_of = |key, label, v: Option<f64>| {
        if let Some(v) = v {
            f.push(fig(key, label, pct(v)));
        }
    };
    pct_of("teacher.accuracy", "teacher accuracy", r.teacher.accuracy);
    pct_of(
        "student_float.accuracy",
        "float student accuracy",
        Some(r.student_float.accuracy),
    );
    pct_of(
        "student_float.teacher_agreement",
        "float student agreement",
        r.student_float.teacher_agreement,
    );
    pct_of(
        "student_int8.accuracy",
        "int8 student accuracy (host)",
        Some(r.student_int8.accuracy),
    );
    pct_of(
        "student_int8.teacher_agreement",
        "int8 student agreement (host)",
        r.student_int8.teacher_agreement,
    );
    pct_of(
        "student_int8.float_agreement",
        "int8 agreement with the float student",
        Some(r.student_int8.float_agreement),
    );
    let d = r.device.as_ref();
    pct_of("device.accuracy", "device accuracy", d.map(|d| d.accuracy));
    pct_of(
        "device.teacher_agreement",
        "device agreement",
        d.and_then(|d| d.teacher_agreement),
    );
    let fp = &r.footprint;
    let mut int = |key, label, v: Option<u64>| {
        if let Some(v) = v {
            f.push(fig(key, label, v.to_string()));
        }
    };
    int(
        "footprint.blob_bytes",
        "student blob (flash), bytes",
        Some(fp.blob_bytes),
    );
    int("footprint.max_flash", "flash budget, bytes", fp.max_flash);
    int(
        "footprint.ram_bytes",
        "RAM per inference, bytes",
        Some(fp.ram_bytes),
    );
    int("footprint.max_ram", "RAM budget, bytes", fp.max_ram);
    int("footprint.macs", "MACs per inference", Some(fp.macs));
    int(
        "device.vectors",
        "golden vectors run on the device",
        d.map(|d| d.vectors),
    );
    int(
        "device.mismatches",
        "mismatches against the host",
        d.map(|d| d.mismatches),
    );
    int(
        "device.instructions_per_inference",
        "instructions per inference",
        d.and_then(|d| d.instructions_per_inference),
    );
    int(
        "device.flash_bytes",
        "firmware flash, bytes",
        d.map(|d| d.flash_bytes),
    );
    int(
        "device.ram_bytes",
        "firmware RAM, bytes",
        d.map(|d| d.ram_bytes),
    );
    if let Some(m) = d.and_then(|d| d.instructions_per_mac) {
        f.push(fig(
            "device.instructions_per_mac",
            "instructions per MAC",
            format!("{m:.2}"),
        ));
    }
    f
}

/// `&`, `<`, `>` and quotes as entities.
fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = "
body { font-family: system-ui, -apple-system, 'Segoe UI', sans-serif; margin: 0 auto; max-width: 1060px; padding: 1.5em; color: #1b1b1b; }
h1 { margin-bottom: 0.2em; } h2 { border-bottom: 1px solid #ddd; padding-bottom: 0.2em; margin-top: 1.8em; }
.lead { font-size: 1.15em; background: #f3f6fb; border-left: 4px solid #1f77b4; padding: 0.7em 1em; }
table { border-collapse: collapse; margin: 0.8em 0; } td, th { padding: 0.25em 0.8em; border-bottom: 1px solid #eee; text-align: left; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
.charts { display: flex; flex-wrap: wrap; gap: 1em; align-items: flex-start; } svg { max-width: 100%; height: auto; }
pre { background: #f6f6f6; padding: 0.8em; overflow-x: auto; } .pass { color: #137333; font-weight: bold; } .fail { color: #b3261e; font-weight: bold; }
";

impl Report {
    /// The report as one HTML page.
    pub fn to_html(&self) -> Result<String, DrawError> {
        let mut s = String::new();
        let title = format!("minnow report: {}", self.student.name);
        let _ = write!(
            s,
            "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<h1>{}</h1>\n",
            esc(&title),
            esc(&title)
        );
        let figures = figures(self);
        self.lead(&mut s, &figures);
        self.ladder(&mut s, &figures)?;
        self.training(&mut s)?;
        self.confusion(&mut s)?;
        self.layers(&mut s)?;
        self.footprint(&mut s, &figures)?;
        self.device_section(&mut s, &figures);
        self.reproduce(&mut s);
        s.push_str("</body>\n</html>\n");
        Ok(s)
    }

    /// The answer in one sentence.
    fn lead(&self, s: &mut String, figures: &[Figure]) {
        let text = |key: &str| {
            figures
                .iter()
                .find(|f| f.key == key)
                .map(|f| format!("<span data-key=\"{}\">{}</span>", f.key, esc(&f.text)))
        };
        let (where_, acc, agree) = if self.device.is_some() {
            (
                "the board",
                text("device.accuracy"),
                text("device.teacher_agreement"),
            )
        } else {
            (
                "the int8 student (host; not yet run on a board)",
                text("student_int8.accuracy"),
                text("student_int8.teacher_agreement"),
            )
        };
        let _ = write!(
            s,
            "<p class=\"lead\">On {} test samples of <b>{}</b>, {where_} reaches {}",
            self.data.test_samples,
            esc(&self.data.name),
            acc.unwrap_or_default()
        );
        if let Some(t) = text("teacher.accuracy") {
            let _ = write!(s, " against the teacher's {t}");
        }
        if let Some(a) = agree {
            let _ = write!(s, ", agreeing with the teacher on {a} of them");
        }
        let _ = write!(
            s,
            ", in {} bytes of flash and {} bytes of RAM",
            text("footprint.blob_bytes").unwrap_or_default(),
            text("footprint.ram_bytes").unwrap_or_default()
        );
        if let Some(i) = text("device.instructions_per_inference") {
            let _ = write!(s, ", {i} instructions per inference");
        }
        s.push_str(".</p>\n");
    }

    fn ladder(&self, s: &mut String, figures: &[Figure]) -> Result<(), DrawError> {
        let d = self.device.as_ref();
        let rows = [
            ("teacher", self.teacher.accuracy, None),
            (
                "float student",
                Some(self.student_float.accuracy),
                self.student_float.teacher_agreement,
            ),
            (
                "int8 student (host)",
                Some(self.student_int8.accuracy),
                self.student_int8.teacher_agreement,
            ),
            (
                "int8 student (device)",
                d.map(|d| d.accuracy),
                d.and_then(|d| d.teacher_agreement),
            ),
        ];
        let chart = BarChart {
            title: "test accuracy and agreement with the teacher".into(),
            x_label: "fraction of test samples".into(),
            series: vec!["accuracy".into(), "agreement with teacher".into()],
            rows: rows
                .iter()
                .filter(|(_, a, g)| a.is_some() || g.is_some())
                .map(|(label, a, g)| BarRow {
                    label: (*label).into(),
                    values: vec![*a, *g],
                })
                .collect(),
            x_max: Some(1.0),
            limits: Vec::new(),
            value_text: pct,
        };
        let _ = writeln!(
            s,
            "<section id=\"ladder\">\n<h2>Accuracy: teacher → float → int8 → device</h2>\n<div class=\"charts\">{}</div>",
            chart.svg(720)?
        );
        let keys = [
            "teacher.accuracy",
            "student_float.accuracy",
            "student_float.teacher_agreement",
            "student_int8.accuracy",
            "student_int8.teacher_agreement",
            "student_int8.float_agreement",
            "device.accuracy",
            "device.teacher_agreement",
        ];
        figure_table(s, figures, &keys);
        if let Some(v) = &self.validation {
            let _ = writeln!(
                s,
                "<p>Validation split ({} samples, where export settings are chosen): float {}, int8 {}.</p>",
                v.samples,
                pct(v.float_accuracy),
                pct(v.int8_accuracy)
            );
        }
        s.push_str("</section>\n");
        Ok(())
    }

    fn training(&self, s: &mut String) -> Result<(), DrawError> {
        s.push_str("<section id=\"training\">\n<h2>Training</h2>\n");
        match &self.training {
            Some(t) if !(t.teacher.is_empty() && t.student.is_empty()) => {
                for (who, points) in [("teacher", &t.teacher), ("student", &t.student)] {
                    if !points.is_empty() {
                        let _ = writeln!(
                            s,
                            "<div class=\"charts\">{}</div>",
                            curves_svg(points, who)?
                        );
                    }
                }
            }
            _ => s.push_str(
                "<p>No training curves: the student was exported outside its run folder.</p>\n",
            ),
        }
        s.push_str("</section>\n");
        Ok(())
    }

    fn confusion(&self, s: &mut String) -> Result<(), DrawError> {
        let counts = &self.student_int8.confusion;
        let names: Vec<String> = (0..counts.len())
            .map(|c| self.student.class_name(c))
            .collect();
        let svg = confusion_svg("int8 student on the test split", counts, &names)?;
        let _ = writeln!(
            s,
            "<section id=\"confusion\">\n<h2>Confusion matrix</h2>\n<p>Rows: true label; columns: the int8 student's prediction; shade: share of the row.</p>\n<div class=\"charts\">{svg}</div>\n</section>"
        );
        Ok(())
    }

    fn layers(&self, s: &mut String) -> Result<(), DrawError> {
        let layers = &self.student_int8.layers;
        let rows = layers
            .iter()
            .map(|l| BarRow {
                label: format!("{} {}", l.index, l.kind),
                values: vec![Some(l.metrics.relative_l2)],
            })
            .collect();
        let chart = BarChart {
            title: "relative L2 error of each layer's int8 output".into(),
            x_label: "||int8 - float|| / ||float||".into(),
            series: vec!["relative L2".into()],
            rows,
            x_max: None,
            limits: Vec::new(),
            value_text: |v| format!("{v:.4}"),
        };
        let _ = writeln!(
            s,
            "<section id=\"layers\">\n<h2>Per-layer quantization error</h2>\n<div class=\"charts\">{}</div>",
            chart.svg(720)?
        );
        s.push_str("<table><tr><th>#</th><th>layer</th><th>output</th><th>scale</th><th>zero point</th><th>RMSE</th><th>rel. L2</th><th>cosine</th></tr>\n");
        for l in layers {
            let [h, w, c] = l.output_shape;
            let m = &l.metrics;
            let _ = writeln!(
                s,
                "<tr><td class=\"n\">{}</td><td>{}</td><td>{h}x{w}x{c}</td><td class=\"n\">{:.6}</td><td class=\"n\">{}</td><td class=\"n\">{:.5}</td><td class=\"n\">{:.5}</td><td class=\"n\">{:.6}</td></tr>",
                l.index,
                esc(&l.kind),
                l.scale,
                l.zero_point,
                m.rmse,
                m.relative_l2,
                m.cosine
            );
        }
        s.push_str("</table>\n</section>\n");
        Ok(())
    }

    fn footprint(&self, s: &mut String, figures: &[Figure]) -> Result<(), DrawError> {
        let fp = &self.footprint;
        let d = self.device.as_ref();
        let mut charts = String::new();
        let mut add = |title: &str,
                       used: Vec<(&str, u64)>,
                       budget: Option<(&str, u64)>|
         -> Result<(), DrawError> {
            let chart = BarChart {
                title: title.into(),
                x_label: "bytes".into(),
                series: vec!["used".into()],
                rows: used
                    .iter()
                    .map(|(l, v)| BarRow {
                        label: (*l).into(),
                        values: vec![Some(*v as f64)],
                    })
                    .collect(),
                x_max: None,
                limits: budget
                    .map(|(l, v)| (l.to_owned(), v as f64))
                    .into_iter()
                    .collect(),
                value_text: |v| format!("{v:.0} B"),
            };
            charts.push_str(&chart.svg(500)?);
            Ok(())
        };
        let mut flash = vec![("student blob", fp.blob_bytes)];
        flash.extend(d.map(|d| ("firmware (device)", d.flash_bytes)));
        add("flash", flash, fp.max_flash.map(|b| ("--max-flash", b)))?;
        let mut ram = vec![("scratch + input + logits", fp.ram_bytes)];
        ram.extend(d.map(|d| ("firmware (device)", d.ram_bytes)));
        add("RAM", ram, fp.max_ram.map(|b| ("--max-ram", b)))?;
        let _ = writeln!(
            s,
            "<section id=\"footprint\">\n<h2>Footprint and budget</h2>\n<div class=\"charts\">{charts}</div>"
        );
        figure_table(
            s,
            figures,
            &[
                "footprint.blob_bytes",
                "footprint.max_flash",
                "footprint.ram_bytes",
                "footprint.max_ram",
                "footprint.macs",
            ],
        );
        let _ = writeln!(
            s,
            "<p>Parameters {} B; RAM = scratch {} + input {} + logits {} B; golden vectors: {} ({} B).</p>\n</section>",
            fp.weight_bytes,
            fp.scratch_bytes,
            fp.input_bytes,
            fp.logits_bytes,
            fp.golden_vectors,
            fp.golden_bytes
        );
        Ok(())
    }

    fn device_section(&self, s: &mut String, figures: &[Figure]) {
        s.push_str("<section id=\"device\">\n<h2>Device</h2>\n");
        match &self.device {
            Some(d) => {
                let verdict = if d.mismatches == 0 {
                    "<span class=\"pass\">bit-exact</span>: every golden vector's int8 logits equal the host's"
                } else {
                    "<span class=\"fail\">NOT bit-exact</span>: some golden vectors' logits differ from the host's"
                };
                let _ = writeln!(s, "<p>{} on <b>{}</b>.</p>", verdict, esc(&d.core));
                figure_table(s, figures, &["device.vectors", "device.mismatches", "device.accuracy", "device.teacher_agreement", "device.instructions_per_inference", "device.instructions_per_mac", "device.flash_bytes", "device.ram_bytes"]);
            }
            None => s.push_str("<p>Not run on a device yet: <code>minnow verify RUN --core m4</code> fills in this section.</p>\n"),
        }
        s.push_str("</section>\n");
    }

    fn reproduce(&self, s: &mut String) {
        s.push_str("<section id=\"reproduce\">\n<h2>How this run was made</h2>\n");
        let Some(settings) = &self.settings else {
            s.push_str("<p>The settings are not known: the student was exported outside its run folder.</p>\n</section>\n");
            return;
        };
        let _ = writeln!(
            s,
            "<p>Each settings file below is complete: save it and run the command beside it.</p>\n<pre>{}</pre>",
            esc(&commands(settings))
        );
        for (name, text) in [
            ("teacher.toml", &settings.teacher),
            ("student.toml", &settings.student),
        ] {
            if let Some(text) = text {
                let _ = writeln!(
                    s,
                    "<details><summary>{name}</summary>\n<pre>{}</pre></details>",
                    esc(text)
                );
            }
        }
        s.push_str("</section>\n");
    }
}

/// The commands that reproduce the run from its settings files.
fn commands(settings: &SettingsReport) -> String {
    let student = settings
        .student
        .as_deref()
        .and_then(|t| t.parse::<toml::Table>().ok());
    let out = student
        .as_ref()
        .and_then(|t| t.get("out")?.as_str().map(str::to_owned))
        .unwrap_or_else(|| "STUDENT_RUN".to_owned());
    let teachers: Vec<String> = student
        .as_ref()
        .and_then(|t| t.get("teacher")?.as_array().cloned())
        .unwrap_or_default()
        .iter()
        .filter_map(|v| v.as_str().map(|p| format!(" --teacher {p}")))
        .collect();
    let mut c = String::new();
    if settings.teacher.is_some() {
        c.push_str("minnow train-teacher --config teacher.toml\n");
    }
    if settings.student.is_some() {
        c.push_str("minnow distill --config student.toml\n");
    }
    let _ = writeln!(
        c,
        "minnow export {out} {}{}",
        settings.export,
        teachers.concat()
    );
    let _ = writeln!(c, "minnow verify {out} --core m4");
    c
}

/// A two-column table of the figures named by `keys` (those the report has).
fn figure_table(s: &mut String, figures: &[Figure], keys: &[&str]) {
    s.push_str("<table>\n");
    for key in keys {
        if let Some(f) = figures.iter().find(|f| f.key == *key) {
            let _ = writeln!(
                s,
                "<tr><td>{}</td><td class=\"n\" data-key=\"{}\">{}</td></tr>",
                esc(f.label),
                f.key,
                esc(&f.text)
            );
        }
    }
    s.push_str("</table>\n");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::int8::report::content::samples::{sample_device, sample_report};

    /// Each figure is tagged in report.html and stated in report.md. (tests/tests/journeys.rs
    /// checks the numbers of a real run against report.json, independently of [`figures`].)
    #[test]
    fn every_figure_is_tagged_in_html_and_stated_in_markdown() {
        for device in [None, Some(sample_device())] {
            let r = Report {
                device,
                ..sample_report()
            }
            .rounded();
            let [_, (_, md), (_, html)] = r.files().expect("renders");
            let (md, html) = (
                String::from_utf8(md).expect("md"),
                String::from_utf8(html).expect("html"),
            );
            let figures = figures(&r);
            assert!(figures.len() >= 7, "{figures:?}");
            for f in &figures {
                assert!(
                    html.contains(&format!("data-key=\"{}\">{}<", f.key, f.text)),
                    "report.html lacks {f:?}"
                );
                // (The journey checks that report.md states them as whole numbers.)
                assert!(md.contains(&f.text), "report.md lacks {f:?}");
            }
            for section in SECTIONS {
                assert!(
                    html.contains(&format!("<section id=\"{section}\">")),
                    "no {section} section"
                );
            }
            assert!(html.contains("minnow distill --config student.toml"));
            let export = "minnow export runs/s --golden 10 --max-flash 1024 --calibration-samples 1000 --teacher runs/t";
            assert!(html.contains(export), "{html}");
            assert!(!html.contains("<script"));
        }
    }

    #[test]
    fn text_is_escaped() {
        assert_eq!(esc("a<b & \"c\""), "a&lt;b &amp; &quot;c&quot;");
    }
}
