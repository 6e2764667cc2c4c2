//! `report.md`: the report as Markdown tables, for a terminal or a code review.

use std::fmt::Write as _;

use super::content::{Report, opt_pct};
use crate::percent::pct;

impl Report {
    /// The human-readable report.
    pub fn to_markdown(&self) -> String {
        let mut s = String::new();
        let _ = self.write_markdown(&mut s);
        s
    }

    fn write_markdown(&self, s: &mut String) -> std::fmt::Result {
        let st = &self.student;
        let i8r = &self.student_int8;
        let fp = &self.footprint;
        writeln!(s, "# minnow report: {}\n", st.name)?;
        writeln!(
            s,
            "Input {:?} (h, w, c), {} classes, {} layers, {} parameters, temperature {}.",
            st.input_shape, st.classes, st.layers, st.parameters, st.temperature
        )?;
        let cal = match self.data.percentile {
            Some(p) => format!("{} {p}", self.data.calibration),
            None => self.data.calibration.clone(),
        };
        writeln!(
            s,
            "Data `{}`: {} test samples; activations calibrated ({cal}) on {} samples.\n",
            self.data.name, self.data.test_samples, self.data.calibration_samples
        )?;
        writeln!(s, "## Accuracy\n")?;
        writeln!(s, "| model | test accuracy | agreement with teacher |")?;
        writeln!(s, "|---|---:|---:|")?;
        writeln!(s, "| teacher | {} | |", opt_pct(self.teacher.accuracy))?;
        writeln!(
            s,
            "| student (float) | {} | {} |",
            pct(self.student_float.accuracy),
            opt_pct(self.student_float.teacher_agreement)
        )?;
        writeln!(
            s,
            "| student (int8, minnow-core) | {} | {} |",
            pct(i8r.accuracy),
            opt_pct(i8r.teacher_agreement)
        )?;
        if let Some(d) = &self.device {
            writeln!(
                s,
                "| student (int8, device {}) | {} | {} |",
                d.core,
                pct(d.accuracy),
                opt_pct(d.teacher_agreement)
            )?;
        }
        if let Some(v) = &self.validation {
            writeln!(
                s,
                "\nValidation split ({} samples, where export settings are chosen): float {}, int8 {}.",
                v.samples,
                pct(v.float_accuracy),
                pct(v.int8_accuracy)
            )?;
        }
        writeln!(
            s,
            "\nInt8 vs float: top-1 agreement {}, logits RMSE {:.5}, MAE {:.5}, relative L2 {:.5}, cosine {:.6}.\n",
            pct(i8r.float_agreement),
            i8r.rmse,
            i8r.mae,
            i8r.relative_l2,
            i8r.cosine
        )?;
        writeln!(s, "## Per-layer quantization error\n")?;
        writeln!(
            s,
            "| # | layer | output | scale | zero point | RMSE | MAE | rel. L2 | cosine |"
        )?;
        writeln!(s, "|---:|---|---|---:|---:|---:|---:|---:|---:|")?;
        for l in &i8r.layers {
            writeln!(
                s,
                "| {} | {} | {}x{}x{} | {:.6} | {} | {:.5} | {:.5} | {:.5} | {:.6} |",
                l.index,
                l.kind,
                l.output_shape[0],
                l.output_shape[1],
                l.output_shape[2],
                l.scale,
                l.zero_point,
                l.metrics.rmse,
                l.metrics.mae,
                l.metrics.relative_l2,
                l.metrics.cosine
            )?;
        }
        writeln!(
            s,
            "\n## Confusion matrix (int8; rows: label, columns: predicted)\n"
        )?;
        write!(s, "| |")?;
        for c in 0..i8r.confusion.len() {
            write!(s, " {} |", self.student.class_name(c))?;
        }
        write!(s, "\n|---|")?;
        for _ in 0..i8r.confusion.len() {
            write!(s, "---:|")?;
        }
        writeln!(s)?;
        for (label, row) in i8r.confusion.iter().enumerate() {
            write!(s, "| **{}** |", self.student.class_name(label))?;
            for v in row {
                write!(s, " {v} |")?;
            }
            writeln!(s)?;
        }
        writeln!(s, "\n## Footprint\n")?;
        writeln!(s, "| | bytes |")?;
        writeln!(s, "|---|---:|")?;
        writeln!(s, "| student blob (flash) | {} |", fp.blob_bytes)?;
        if let Some(b) = fp.max_flash {
            writeln!(s, "| flash budget (--max-flash) | {b} |")?;
        }
        writeln!(s, "| parameters | {} |", fp.weight_bytes)?;
        writeln!(
            s,
            "| RAM: scratch + input + logits | {} + {} + {} = {} |",
            fp.scratch_bytes, fp.input_bytes, fp.logits_bytes, fp.ram_bytes
        )?;
        if let Some(b) = fp.max_ram {
            writeln!(s, "| RAM budget (--max-ram) | {b} |")?;
        }
        writeln!(
            s,
            "| golden vectors ({}) | {} |",
            fp.golden_vectors, fp.golden_bytes
        )?;
        writeln!(s, "\nMACs per inference: {}.", fp.macs)?;
        if let Some(d) = &self.device {
            writeln!(s, "\n## Device ({})\n", d.core)?;
            writeln!(
                s,
                "{} golden vectors, {} mismatches; flash {} bytes, RAM {} bytes.",
                d.vectors, d.mismatches, d.flash_bytes, d.ram_bytes
            )?;
            if let Some(n) = d.instructions_per_inference {
                write!(s, "Instructions per inference: {n}")?;
                if let Some(m) = d.instructions_per_mac {
                    write!(s, " ({m:.2} per MAC)")?;
                }
                writeln!(s, ".")?;
            }
        }
        Ok(())
    }
}
