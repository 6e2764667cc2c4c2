//! What a report holds: plain structs (no maps), so serde_json writes keys in a fixed order
//! and the same inputs give the same bytes. [`super`] reads and writes them; [`super::markdown`]
//! and [`super::html`] render them.

use serde::{Deserialize, Serialize};

use crate::int8::evaluate::LayerError;
use crate::percent::pct_or;
use crate::plot::curves::CurvePoint;

/// Version of the report's shape; bumped on incompatible changes.
pub const REPORT_SCHEMA: u32 = 1;

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
    /// Class names, when the data named its classes (a CSV's string labels); absent otherwise.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub class_names: Vec<String>,
}

impl StudentInfo {
    /// Class `c` as people read it: its name, or its number.
    pub fn class_name(&self, c: usize) -> String {
        self.class_names
            .get(c)
            .cloned()
            .unwrap_or_else(|| c.to_string())
    }
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
    /// The flash budget the blob was checked against (`--max-flash`), if any.
    #[serde(default)]
    pub max_flash: Option<u64>,
    /// The RAM budget (`--max-ram`), if any.
    #[serde(default)]
    pub max_ram: Option<u64>,
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

/// How the student was trained: the teacher's and the student's curves, epoch by epoch
/// (empty when their `metrics.jsonl` could not be found).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrainingReport {
    pub teacher: Vec<CurvePoint>,
    pub student: Vec<CurvePoint>,
}

/// The settings that made the run: the TOML files that reproduce its training
/// (`minnow train-teacher --config`, `minnow distill --config`) and the export's flags.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SettingsReport {
    /// The teacher run's `config.toml`; `null` when the teacher is not a single minnow run.
    pub teacher: Option<String>,
    /// The student run's `config.toml`.
    pub student: Option<String>,
    /// The flags of `minnow export` that give this export (`--golden 500 ...`).
    pub export: String,
}

/// Where a student came from, for the report: what only the run folder knows.
#[derive(Debug, Clone, PartialEq)]
pub struct History {
    pub training: TrainingReport,
    pub settings: SettingsReport,
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
    /// The training curves (`null` for an export of a float student outside a run folder).
    #[serde(default)]
    pub training: Option<TrainingReport>,
    /// The settings that made the run (`null` likewise).
    #[serde(default)]
    pub settings: Option<SettingsReport>,
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

pub(crate) fn opt_pct(x: Option<f64>) -> String {
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
        if let Some(t) = &mut out.training {
            for p in t.teacher.iter_mut().chain(t.student.iter_mut()) {
                p.train_loss = r(p.train_loss);
                p.train_accuracy = ro(p.train_accuracy);
                p.val_loss = ro(p.val_loss);
                p.val_accuracy = ro(p.val_accuracy);
                p.val_agreement = ro(p.val_agreement);
            }
        }
        if let Some(d) = &mut out.device {
            d.accuracy = r(d.accuracy);
            d.teacher_agreement = ro(d.teacher_agreement);
            d.instructions_per_mac = ro(d.instructions_per_mac);
        }
        out
    }
}

/// A report with every field filled, for the tests of each renderer.
#[cfg(test)]
pub(crate) mod samples {
    use super::*;
    use crate::int8::evaluate::{ErrorMetrics, LayerError};
    use crate::plot::curves::tests::points;

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
                class_names: Vec::new(),
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
                max_flash: Some(1024),
                max_ram: None,
            },
            device: None,
            training: Some(TrainingReport {
                teacher: points(4),
                student: points(3),
            }),
            settings: Some(SettingsReport {
                teacher: Some("out = \"runs/t\"\nepochs = 4\n".into()),
                student: Some("out = \"runs/s\"\nteacher = [\"runs/t\"]\n".into()),
                export: "--golden 10 --max-flash 1024 --calibration-samples 1000".into(),
            }),
        }
    }

    /// The device section `minnow verify` fills in, for tests.
    pub(crate) fn sample_device() -> DeviceReport {
        DeviceReport {
            core: "cortex-m0".into(),
            vectors: 10,
            mismatches: 0,
            accuracy: 7.0 / 9.0,
            teacher_agreement: Some(1.0 / 3.0),
            instructions_per_inference: Some(12_345),
            instructions_per_mac: Some(96.4),
            flash_bytes: 20_000,
            ram_bytes: 3_000,
        }
    }
}
