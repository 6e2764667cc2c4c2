//! `report.json` / `report.md`: what `minnow export` measured, and (later) what `minnow verify`
//! measured on the device. The shape is documented in `docs/report.md`.
//!
//! The report is plain structs (no maps), so serde_json writes keys in a fixed order and the
//! same inputs give the same bytes. `verify` reads it with [`Report::load`], fills in
//! [`Report::device`] and writes it back with [`Report::save`].

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::files::set::replace_in_set;
use crate::files::{self, IoError};
use crate::int8::evaluate::LayerError;
use crate::int8::export_set::{EXPORT_FILES, EXPORT_SET, REPORT_JSON, REPORT_MD};
use crate::percent::{pct, pct_or};

/// Version of the report's shape; bumped on incompatible changes.
pub const REPORT_SCHEMA: u32 = 1;

/// Why a report (or any export file) could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error(transparent)]
    Io(#[from] IoError),
    #[error("{}: not a minnow report: {source}", path.display())]
    Json {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("cannot write the report as JSON: {0}")]
    Serialize(#[from] serde_json::Error),
    #[error("{}: report schema {found}, this build reads {supported}", path.display())]
    Schema {
        path: PathBuf,
        found: u32,
        supported: u32,
    },
}

/// The student that was exported.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StudentInfo {
    pub name: String,
    /// `[height, width, channels]`.
    pub input_shape: [usize; 3],
    pub classes: usize,
    pub layers: usize,
    pub parameters: usize,
    pub temperature: f32,
}

/// The data and calibration the numbers come from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DataInfo {
    pub name: String,
    pub test_samples: usize,
    pub calibration_samples: usize,
    /// `"min_max"` or `"percentile"`.
    pub calibration: String,
    /// The percentile, for percentile calibration.
    pub percentile: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TeacherReport {
    /// Test accuracy of the teacher; `null` when no teacher predictions were given.
    pub accuracy: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FloatReport {
    pub accuracy: f64,
    /// Top-1 agreement with the teacher; `null` without a teacher.
    pub teacher_agreement: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Int8Report {
    pub accuracy: f64,
    pub teacher_agreement: Option<f64>,
    /// Top-1 agreement with the float student.
    pub float_agreement: f64,
    /// Dequantized int8 logits vs float logits, over all test samples.
    pub rmse: f64,
    pub mae: f64,
    pub relative_l2: f64,
    pub cosine: f64,
    /// `confusion[label][predicted]`.
    pub confusion: Vec<Vec<u32>>,
    /// Per-layer quantization error (int8 output dequantized vs float output).
    pub layers: Vec<LayerError>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FootprintReport {
    /// All parameter arrays (weights, scales, biases, multipliers, shifts).
    pub weight_bytes: u64,
    /// The two ping-pong activation buffers.
    pub scratch_bytes: u64,
    pub input_bytes: u64,
    pub logits_bytes: u64,
    /// `scratch_bytes + input_bytes + logits_bytes`: what `--max-ram` checks.
    pub ram_bytes: u64,
    pub macs: u64,
    /// `student.minnow`: what `--max-flash` checks.
    pub blob_bytes: u64,
    pub golden_vectors: u64,
    /// `golden.mngv`.
    pub golden_bytes: u64,
}

/// What `minnow verify` measured on a device (or emulator).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeviceReport {
    /// e.g. `"cortex-m4f"`, `"cortex-m0 (qemu microbit)"`.
    pub core: String,
    /// Golden vectors run.
    pub vectors: u64,
    /// Vectors whose int8 logits differ from the host's.
    pub mismatches: u64,
    /// Accuracy on the golden vectors' labels.
    pub accuracy: f64,
    pub teacher_agreement: Option<f64>,
    pub instructions_per_inference: Option<u64>,
    pub instructions_per_mac: Option<f64>,
    pub flash_bytes: u64,
    pub ram_bytes: u64,
}

/// Accuracy on the validation split (when the run has one): export settings such as the
/// calibration are chosen on these numbers, never on the test split's.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ValidationReport {
    pub samples: usize,
    pub float_accuracy: f64,
    pub int8_accuracy: f64,
}

/// The whole report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub schema: u32,
    pub student: StudentInfo,
    pub data: DataInfo,
    pub teacher: TeacherReport,
    pub student_float: FloatReport,
    pub student_int8: Int8Report,
    /// `null` when the run has no validation split (and in reports written before it existed).
    #[serde(default)]
    pub validation: Option<ValidationReport>,
    pub footprint: FootprintReport,
    /// Filled in by `minnow verify`; `null` until then.
    #[serde(default)]
    pub device: Option<DeviceReport>,
}

/// Rounds a metric to 9 decimal places. serde_json (without its `float_roundtrip` feature)
/// parses long decimals up to one ulp off; short ones exactly. Rounded values therefore survive
/// a load/save cycle bit for bit, which `verify`'s read-modify-write relies on.
pub fn round_metric(x: f64) -> f64 {
    if x.is_finite() && x.abs() < 1e6 {
        (x * 1e9).round() / 1e9
    } else {
        x
    }
}

fn opt_pct(x: Option<f64>) -> String {
    pct_or(x, "n/a")
}

impl Report {
    /// The same report with every f64 passed through [`round_metric`] (what files hold).
    pub fn rounded(&self) -> Report {
        let r = round_metric;
        let ro = |x: Option<f64>| x.map(round_metric);
        let mut out = self.clone();
        if let Some(p) = &mut out.data.percentile {
            *p = r(*p);
        }
        out.teacher.accuracy = ro(out.teacher.accuracy);
        let f = &mut out.student_float;
        f.accuracy = r(f.accuracy);
        f.teacher_agreement = ro(f.teacher_agreement);
        let q = &mut out.student_int8;
        q.accuracy = r(q.accuracy);
        q.teacher_agreement = ro(q.teacher_agreement);
        q.float_agreement = r(q.float_agreement);
        q.rmse = r(q.rmse);
        q.mae = r(q.mae);
        q.relative_l2 = r(q.relative_l2);
        q.cosine = r(q.cosine);
        for l in &mut q.layers {
            let m = &mut l.metrics;
            m.rmse = r(m.rmse);
            m.mae = r(m.mae);
            m.relative_l2 = r(m.relative_l2);
            m.cosine = r(m.cosine);
        }
        if let Some(v) = &mut out.validation {
            v.float_accuracy = r(v.float_accuracy);
            v.int8_accuracy = r(v.int8_accuracy);
        }
        if let Some(d) = &mut out.device {
            d.accuracy = r(d.accuracy);
            d.teacher_agreement = ro(d.teacher_agreement);
            d.instructions_per_mac = ro(d.instructions_per_mac);
        }
        out
    }

    /// Pretty JSON with a trailing newline; metrics rounded by [`Report::rounded`].
    pub fn to_json(&self) -> Result<Vec<u8>, serde_json::Error> {
        let mut v = serde_json::to_vec_pretty(&self.rounded())?;
        v.push(b'\n');
        Ok(v)
    }

    pub fn from_json(bytes: &[u8], path: &Path) -> Result<Report, ReportError> {
        let json = |source| ReportError::Json {
            path: path.to_owned(),
            source,
        };
        let value: serde_json::Value = serde_json::from_slice(bytes).map_err(json)?;
        let found = value.get("schema").and_then(serde_json::Value::as_u64);
        if found != Some(u64::from(REPORT_SCHEMA)) {
            return Err(ReportError::Schema {
                path: path.to_owned(),
                found: found.map_or(0, |f| u32::try_from(f).unwrap_or(u32::MAX)),
                supported: REPORT_SCHEMA,
            });
        }
        serde_json::from_value(value).map_err(json)
    }

    /// Reads `report.json`.
    pub fn load(path: &Path) -> Result<Report, ReportError> {
        let bytes = files::read(path)?;
        Report::from_json(&bytes, path)
    }

    /// Writes `report.json` and `report.md` into the export set of folder `dir` (the
    /// read-modify-write of `minnow verify`), together, keeping the set's other files.
    pub fn save(&self, dir: &Path) -> Result<(), ReportError> {
        let json = self.to_json()?;
        let md = self.to_markdown();
        replace_in_set(
            dir,
            EXPORT_SET,
            &EXPORT_FILES,
            &[(REPORT_JSON, &json), (REPORT_MD, md.as_bytes())],
        )?;
        Ok(())
    }

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
            write!(s, " {c} |")?;
        }
        write!(s, "\n|---|")?;
        for _ in 0..i8r.confusion.len() {
            write!(s, "---:|")?;
        }
        writeln!(s)?;
        for (label, row) in i8r.confusion.iter().enumerate() {
            write!(s, "| **{label}** |")?;
            for v in row {
                write!(s, " {v} |")?;
            }
            writeln!(s)?;
        }
        writeln!(s, "\n## Footprint\n")?;
        writeln!(s, "| | bytes |")?;
        writeln!(s, "|---|---:|")?;
        writeln!(s, "| student blob (flash) | {} |", fp.blob_bytes)?;
        writeln!(s, "| parameters | {} |", fp.weight_bytes)?;
        writeln!(
            s,
            "| RAM: scratch + input + logits | {} + {} + {} = {} |",
            fp.scratch_bytes, fp.input_bytes, fp.logits_bytes, fp.ram_bytes
        )?;
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

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::int8::evaluate::ErrorMetrics;

    pub(crate) fn sample_report() -> Report {
        let metrics = ErrorMetrics {
            rmse: 0.01,
            mae: 0.005,
            relative_l2: 0.02,
            cosine: 0.9998,
        };
        Report {
            schema: REPORT_SCHEMA,
            student: StudentInfo {
                name: "s".into(),
                input_shape: [8, 8, 1],
                classes: 2,
                layers: 1,
                parameters: 130,
                temperature: 4.0,
            },
            data: DataInfo {
                name: "digits".into(),
                test_samples: 10,
                calibration_samples: 100,
                calibration: "min_max".into(),
                percentile: None,
            },
            teacher: TeacherReport { accuracy: None },
            student_float: FloatReport {
                accuracy: 0.9,
                teacher_agreement: None,
            },
            student_int8: Int8Report {
                accuracy: 0.9,
                teacher_agreement: None,
                float_agreement: 1.0,
                rmse: metrics.rmse,
                mae: metrics.mae,
                relative_l2: metrics.relative_l2,
                cosine: metrics.cosine,
                confusion: vec![vec![5, 0], vec![1, 4]],
                layers: vec![LayerError {
                    index: 0,
                    kind: "dense".into(),
                    output_shape: [1, 1, 2],
                    scale: 0.05,
                    zero_point: -3,
                    metrics,
                }],
            },
            validation: Some(ValidationReport {
                samples: 500,
                float_accuracy: 0.91,
                int8_accuracy: 0.9,
            }),
            footprint: FootprintReport {
                weight_bytes: 154,
                scratch_bytes: 2,
                input_bytes: 64,
                logits_bytes: 2,
                ram_bytes: 68,
                macs: 128,
                blob_bytes: 250,
                golden_vectors: 10,
                golden_bytes: 700,
            },
            device: None,
        }
    }

    #[test]
    fn report_round_trips_and_verify_can_fill_device() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("report.json");
        let r = sample_report();
        r.save(dir.path()).expect("save");
        let text = std::fs::read_to_string(&path).expect("read");
        assert!(text.contains("\"device\": null"), "{text}");
        for key in [
            "teacher",
            "student_float",
            "student_int8",
            "footprint",
            "layers",
            "confusion",
        ] {
            assert!(text.contains(&format!("\"{key}\"")), "{key}");
        }
        let mut back = Report::load(&path).expect("load");
        assert_eq!(back, r);

        // What `minnow verify` does: read, fill in the device section, write back.
        back.device = Some(DeviceReport {
            core: "cortex-m0".into(),
            vectors: 10,
            mismatches: 0,
            accuracy: 7.0 / 9.0,
            teacher_agreement: Some(1.0 / 3.0),
            instructions_per_inference: Some(12_345),
            instructions_per_mac: Some(96.4),
            flash_bytes: 20_000,
            ram_bytes: 3_000,
        });
        back.save(dir.path()).expect("save again");
        let again = Report::load(&path).expect("load again");
        assert_eq!(again, back.rounded());
        // A load/save cycle is byte-stable.
        let bytes = std::fs::read(&path).expect("read");
        again.save(dir.path()).expect("save third");
        assert_eq!(std::fs::read(&path).expect("read"), bytes);
        let md = std::fs::read_to_string(dir.path().join("report.md")).expect("md");
        assert!(md.contains("## Device (cortex-m0)"), "{md}");
        assert!(md.contains("12345"), "{md}");
        // Only the two reports (and the set's hidden link and generation): no temporaries.
        let visible: Vec<String> = files::names(dir.path())
            .expect("ls")
            .into_iter()
            .filter(|n| !n.starts_with('.'))
            .collect();
        assert_eq!(visible, ["report.json", "report.md"]);
        assert_eq!(files::names(dir.path()).expect("ls").len(), 4);
    }

    #[test]
    fn report_rejects_foreign_json() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("report.json");
        std::fs::write(&path, b"{\"schema\": 99}").expect("write");
        assert!(matches!(
            Report::load(&path),
            Err(ReportError::Schema { found: 99, .. })
        ));
        std::fs::write(&path, b"not json").expect("write");
        assert!(matches!(Report::load(&path), Err(ReportError::Json { .. })));
        assert!(matches!(
            Report::load(&dir.path().join("missing.json")),
            Err(ReportError::Io { .. })
        ));
    }
}
