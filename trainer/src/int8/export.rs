//! `minnow export`: quantize a float student, evaluate it through minnow-core, check the
//! budgets, and write the run's device artefacts:
//!
//! * `student.minnow`: the student blob the firmware embeds;
//! * `golden.mngv`: test inputs (quantized), the int8 logits minnow-core computed for them,
//!   labels and teacher predictions, at most `golden_count` of them (they live in flash);
//! * `report.json` and `report.md`: see [`crate::report`] and `docs/report.md`.
//!
//! Everything is computed before anything is written: an error (bad student, empty calibration
//! set, budget exceeded) writes nothing. The files are staged as temporary files in the output
//! directory and renamed into place only once all of them are written. The output depends only
//! on the inputs: no timestamps, no map ordering.

use std::path::{Path, PathBuf};

use minnow_core::golden::UNKNOWN_CLASS;
use minnow_core::{GoldenVectors, Student};

use serde::{Deserialize, Serialize};

use crate::config::{Invalid, Settings, in_range};
use crate::data::Dataset;
use crate::files::{self, FileSet};
use crate::int8::budget::{self, Budget, BudgetError};
use crate::int8::calibrate::{Calibration, QuantizeOptions, percentile_is_valid};
use crate::int8::evaluate::{EvaluateError, Evaluation, evaluate};
use crate::int8::quantize::{QuantizeError, quantize_student};
use crate::int8::report::{
    self, DataInfo, FloatReport, FootprintReport, History, Int8Report, Report, ReportError,
    StudentInfo, TeacherReport, ValidationReport,
};
use crate::net::float::FloatStudent;

pub use crate::int8::export_set::{
    EXPORT_FILES, EXPORT_SET, GOLDEN_FILE, PREDICTIONS_FILE, REPORT_HTML, REPORT_JSON, REPORT_MD,
    STUDENT_FILE,
};

/// Why an export failed. Nothing has been written when it does.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("quantization failed: {0}")]
    Quantize(#[from] QuantizeError),
    #[error("evaluation failed: {0}")]
    Evaluate(#[from] EvaluateError),
    #[error("over budget: {0}")]
    Budget(#[from] BudgetError),
    #[error("golden vectors: {0}")]
    Golden(minnow_core::Error),
    #[error("calibration set: {0}")]
    Calibration(String),
    #[error("class names: {0}")]
    ClassNames(String),
    #[error("writing the export: {0}")]
    Write(#[from] ReportError),
    #[error("writing the export: {0}")]
    Io(#[from] files::IoError),
    #[error(transparent)]
    Lock(#[from] files::LockError),
}

/// The export stage's settings, as `minnow export` flags and the `[export]` table of a
/// `minnow run` file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExportConfig {
    /// Most golden vectors embedded in the firmware (the first test samples). Each costs the
    /// input, the classes and 2 bytes of flash; the default covers the whole digits test split
    /// (359), so the device's accuracy is measured on the same samples as the host's.
    pub golden: usize,
    /// Flash budget for the student blob in bytes.
    #[serde(default)]
    pub max_flash: Option<u64>,
    /// RAM budget (scratch + input + logits) in bytes.
    #[serde(default)]
    pub max_ram: Option<u64>,
    /// Percentile calibration (e.g. 99.99) instead of min/max; unset, a quantization-aware
    /// run is calibrated as it trained.
    #[serde(default)]
    pub percentile: Option<f64>,
    /// Calibrate on at most this many training samples.
    pub calibration_samples: usize,
}

impl Default for ExportConfig {
    fn default() -> Self {
        ExportConfig {
            golden: 500,
            max_flash: None,
            max_ram: None,
            percentile: None,
            calibration_samples: 1000,
        }
    }
}

impl ExportConfig {
    /// The `minnow export` flags that give these settings.
    pub fn flags(&self) -> String {
        let mut f = format!("--golden {}", self.golden);
        if let Some(b) = self.max_flash {
            f += &format!(" --max-flash {b}");
        }
        if let Some(b) = self.max_ram {
            f += &format!(" --max-ram {b}");
        }
        if let Some(p) = self.percentile {
            f += &format!(" --percentile {p}");
        }
        f + &format!(" --calibration-samples {}", self.calibration_samples)
    }
}

impl Settings for ExportConfig {
    fn check(&self) -> Result<(), Invalid> {
        in_range("golden", self.golden, 1, 1_000_000)?;
        in_range(
            "calibration_samples",
            self.calibration_samples,
            1,
            usize::MAX,
        )?;
        if let Some(p) = self.percentile
            && !percentile_is_valid(p)
        {
            return Err(Invalid::new("percentile", p, "must be in (50, 100]"));
        }
        for (key, budget) in [("max_flash", self.max_flash), ("max_ram", self.max_ram)] {
            if let Some(b) = budget {
                in_range(key, b, 1, u64::MAX)?;
            }
        }
        Ok(())
    }
}

impl ExportConfig {
    /// The options of [`export`]. `trained` is the calibration a quantization-aware run trained
    /// under: used unless a percentile is given.
    pub fn options(&self, trained: Option<Calibration>) -> ExportOptions {
        ExportOptions {
            quantize: QuantizeOptions {
                calibration: self
                    .percentile
                    .map(Calibration::Percentile)
                    .or(trained)
                    .unwrap_or(Calibration::MinMax),
                max_calibration_samples: self.calibration_samples,
            },
            golden_count: self.golden,
            budget: Budget {
                max_flash: self.max_flash,
                max_ram: self.max_ram,
            },
        }
    }
}

/// Options of [`export`], from [`ExportConfig::options`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ExportOptions {
    pub quantize: QuantizeOptions,
    /// Most golden vectors to write (the first test samples).
    pub golden_count: usize,
    pub budget: Budget,
}

impl Default for ExportOptions {
    fn default() -> Self {
        ExportConfig::default().options(None)
    }
}

/// What to export.
#[derive(Debug, Clone, Copy)]
pub struct ExportInputs<'a> {
    pub student: &'a FloatStudent,
    /// Raw samples to calibrate activation ranges on (the training split, typically).
    pub calibration: &'a Dataset,
    /// Labeled raw test samples.
    pub test: &'a Dataset,
    /// Labeled raw validation samples, if the run has a validation split: the report gives
    /// float and int8 accuracy on them, for choosing export settings without the test split.
    pub validation: Option<&'a Dataset>,
    /// The teacher's predicted class of every test sample, if known.
    pub teacher_predictions: Option<&'a [u8]>,
    /// The training curves and settings of the run, for the report (when exported from a
    /// run folder).
    pub history: Option<&'a History>,
}

impl<'a> ExportInputs<'a> {
    /// `student` calibrated on `calibration` and scored on `test`, with no validation split,
    /// teacher or history (a user's test set, or the tests' one data set).
    pub fn new(student: &'a FloatStudent, calibration: &'a Dataset, test: &'a Dataset) -> Self {
        ExportInputs {
            student,
            calibration,
            test,
            validation: None,
            teacher_predictions: None,
            history: None,
        }
    }
}

/// The bytes of every file, before they are written.
#[derive(Debug, Clone, PartialEq)]
pub struct Artifacts {
    pub blob: Vec<u8>,
    pub golden: Vec<u8>,
    pub report: Report,
}

/// Where [`export`] wrote the files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportPaths {
    pub student: PathBuf,
    pub golden: PathBuf,
    pub report_json: PathBuf,
    pub report_md: PathBuf,
}

impl ExportPaths {
    pub fn in_dir(dir: &Path) -> Self {
        ExportPaths {
            student: dir.join(STUDENT_FILE),
            golden: dir.join(GOLDEN_FILE),
            report_json: dir.join(REPORT_JSON),
            report_md: dir.join(REPORT_MD),
        }
    }
}

/// The golden-vector file of the first `count` test samples of an evaluation.
pub fn golden_vectors(
    eval: &Evaluation,
    input_len: usize,
    labels: &[u8],
    teacher: Option<&[u8]>,
    count: usize,
) -> Result<Vec<u8>, minnow_core::Error> {
    let n = count.min(eval.samples);
    let teacher: Vec<u8> = match teacher {
        Some(t) => t.iter().take(n).copied().collect(),
        None => vec![UNKNOWN_CLASS; n],
    };
    let inputs = &eval.int8_inputs[..n * input_len];
    let logits = &eval.int8_logits[..n * eval.classes];
    let g = GoldenVectors {
        count: u32::try_from(n).map_err(|_| minnow_core::Error::Overflow)?,
        input_len: u32::try_from(input_len).map_err(|_| minnow_core::Error::Overflow)?,
        classes: u16::try_from(eval.classes).map_err(|_| minnow_core::Error::Overflow)?,
        inputs: minnow_core::i8_bytes(inputs),
        logits: minnow_core::i8_bytes(logits),
        labels: &labels[..n],
        teacher: &teacher,
    };
    let bytes = g.encode_to_vec()?;
    GoldenVectors::decode(&bytes)?;
    Ok(bytes)
}

/// The names of the student's classes: those it was trained with, else the test data's. A
/// test set whose labels name other classes (or the same in another order) is refused: its
/// label `i` would be scored against another class's output.
fn class_names(student: &FloatStudent, test: &Dataset) -> Result<Vec<String>, ExportError> {
    let trained = &student.class_names;
    if !trained.is_empty() && trained.len() != student.classes {
        return Err(ExportError::ClassNames(format!(
            "the student names {} classes but has {} outputs",
            trained.len(),
            student.classes
        )));
    }
    if trained.is_empty() || test.class_names.is_empty() {
        return Ok(if trained.is_empty() {
            test.class_names.clone()
        } else {
            trained.clone()
        });
    }
    if *trained != test.class_names {
        return Err(ExportError::ClassNames(format!(
            "the labels of {} name the classes {:?} but the student was trained on {:?}: its label indices would mean other classes",
            test.name, test.class_names, trained
        )));
    }
    Ok(trained.clone())
}

/// Quantizes, checks budgets, evaluates and builds every file's contents. Writes nothing.
pub fn build(inputs: &ExportInputs<'_>, opts: &ExportOptions) -> Result<Artifacts, ExportError> {
    let ExportInputs {
        student,
        calibration,
        test,
        validation,
        teacher_predictions,
        history,
    } = *inputs;
    if calibration.shape != test.shape || calibration.classes != test.classes {
        return Err(ExportError::Calibration(format!(
            "calibration data has shape {:?} with {} classes but the test data has shape {:?} with {} classes",
            calibration.shape, calibration.classes, test.shape, test.classes
        )));
    }
    let quantized = quantize_student(student, calibration, &opts.quantize)?;
    let blob = quantized.encode()?;
    let usage = budget::usage(&blob)?;
    budget::check(&opts.budget, &usage)?;

    let eval = evaluate(student, &blob, test, teacher_predictions)?;
    let validation = match validation {
        Some(val) if !val.is_empty() => {
            let v = evaluate(student, &blob, val, None)?;
            Some(ValidationReport {
                samples: v.samples,
                float_accuracy: v.float_accuracy,
                int8_accuracy: v.int8_accuracy,
            })
        }
        _ => None,
    };
    let decoded = Student::decode(&blob).map_err(EvaluateError::Blob)?;
    let fp = decoded.footprint();
    let labels = test
        .labels
        .as_deref()
        .ok_or_else(|| EvaluateError::Unlabeled(test.name.clone()))?;
    let golden = golden_vectors(
        &eval,
        decoded.input_len(),
        labels,
        teacher_predictions,
        opts.golden_count,
    )
    .map_err(ExportError::Golden)?;

    let (calibration_name, percentile) = match opts.quantize.calibration {
        Calibration::MinMax => ("min_max", None),
        Calibration::Percentile(p) => ("percentile", Some(p)),
    };
    let report = Report {
        schema: report::REPORT_SCHEMA,
        student: StudentInfo {
            name: student.name.clone(),
            input_shape: student.input_shape,
            classes: student.classes,
            layers: student.layers.len(),
            parameters: student.parameters(),
            temperature: student.temperature,
            class_names: class_names(student, test)?,
        },
        data: DataInfo {
            name: test.name.clone(),
            test_samples: eval.samples,
            calibration_samples: quantized.calibration_samples,
            calibration: calibration_name.to_owned(),
            percentile,
        },
        teacher: TeacherReport {
            accuracy: eval.teacher_accuracy,
        },
        student_float: FloatReport {
            accuracy: eval.float_accuracy,
            teacher_agreement: eval.float_teacher_agreement,
        },
        student_int8: Int8Report {
            accuracy: eval.int8_accuracy,
            teacher_agreement: eval.int8_teacher_agreement,
            float_agreement: eval.int8_float_agreement,
            rmse: eval.logits.rmse,
            mae: eval.logits.mae,
            relative_l2: eval.logits.relative_l2,
            cosine: eval.logits.cosine,
            confusion: eval.confusion.clone(),
            layers: eval.layers.clone(),
        },
        validation,
        footprint: FootprintReport {
            weight_bytes: u64::from(fp.weight_bytes),
            scratch_bytes: u64::from(fp.scratch_bytes),
            input_bytes: usage.input,
            logits_bytes: usage.logits,
            ram_bytes: usage.ram,
            macs: u64::from(fp.macs),
            blob_bytes: usage.flash,
            golden_vectors: eval.samples.min(opts.golden_count) as u64,
            golden_bytes: golden.len() as u64,
            max_flash: opts.budget.max_flash,
            max_ram: opts.budget.max_ram,
        },
        device: None,
        training: history.map(|h| h.training.clone()),
        settings: history.map(|h| h.settings.clone()),
    };
    Ok(Artifacts {
        blob,
        golden,
        report: report.rounded(),
    })
}

/// Builds everything ([`build`]) and writes it into `dir` (created if missing) as one set of
/// files with `extra` ones (see [`crate::files::set`]): the old export's files or the new
/// one's, never some of each. On error, nothing is written (no file, no directory).
pub fn export(
    dir: &Path,
    inputs: &ExportInputs<'_>,
    opts: &ExportOptions,
    extra: &[(&str, &[u8])],
) -> Result<(Artifacts, ExportPaths), ExportError> {
    let artifacts = build(inputs, opts)?;
    let reports = artifacts.report.files()?;
    // Taken only now, so that an export that fails writes nothing, not even the lock.
    let _lock = files::lock(dir)?;
    let set = FileSet::begin(dir, EXPORT_SET)?;
    set.write(STUDENT_FILE, &artifacts.blob)?;
    set.write(GOLDEN_FILE, &artifacts.golden)?;
    for (file, bytes) in &reports {
        set.write(file, bytes)?;
    }
    for (file, bytes) in extra {
        set.write(file, bytes)?;
    }
    set.commit()?;
    Ok((artifacts, ExportPaths::in_dir(dir)))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::data::{NormScope, Standardizer, builtin_digits, split};
    use crate::int8::calibrate::CalibrationError;
    use crate::int8::quantize::tests::{random_data, random_mlp};
    use crate::net::float::{Act, FloatLayer};

    /// The files a user sees in `dir` (not the hidden lock and file-set generations).
    fn files_in(dir: &Path) -> Vec<String> {
        let names = crate::files::names(dir).expect("list");
        names.into_iter().filter(|n| !n.starts_with('.')).collect()
    }

    /// A 64-32-10 ReLU MLP trained on digits with plain full-batch-ish minibatch SGD and
    /// softmax cross-entropy, in f32: a reasonable float student in about a second.
    pub(crate) fn train_digits_mlp(
        train: &Dataset,
        norm: Standardizer,
        epochs: usize,
    ) -> FloatStudent {
        use crate::int8::quantize::tests::random_vec;
        use crate::rng::Rng;
        let (d, h, k) = (64, 32, 10);
        let mut rng = Rng::new(42);
        let mut w1 = random_vec(&mut rng, h * d, (6.0 / (d + h) as f32).sqrt());
        let mut b1 = vec![0.0_f32; h];
        let mut w2 = random_vec(&mut rng, k * h, (6.0 / (h + k) as f32).sqrt());
        let mut b2 = vec![0.0_f32; k];
        let x: Vec<f32> = norm.apply_all(&train.features);
        let labels = train.labels.as_deref().expect("labeled");
        let n = train.len();
        let mut order: Vec<usize> = (0..n).collect();
        let lr = 0.05_f32;
        let batch = 16;
        for _ in 0..epochs {
            // Deterministic shuffle.
            for i in (1..n).rev() {
                let j = (rng.next_u64() % (i as u64 + 1)) as usize;
                order.swap(i, j);
            }
            for chunk in order.chunks(batch) {
                let mut gw1 = vec![0.0_f32; h * d];
                let mut gb1 = vec![0.0_f32; h];
                let mut gw2 = vec![0.0_f32; k * h];
                let mut gb2 = vec![0.0_f32; k];
                for &s in chunk {
                    let xs = &x[s * d..(s + 1) * d];
                    let hid: Vec<f32> = (0..h)
                        .map(|j| {
                            (b1[j] + (0..d).map(|i| w1[j * d + i] * xs[i]).sum::<f32>()).max(0.0)
                        })
                        .collect();
                    let z: Vec<f32> = (0..k)
                        .map(|c| b2[c] + (0..h).map(|j| w2[c * h + j] * hid[j]).sum::<f32>())
                        .collect();
                    let m = z.iter().fold(f32::NEG_INFINITY, |a, &b| a.max(b));
                    let e: Vec<f32> = z.iter().map(|v| (v - m).exp()).collect();
                    let sum: f32 = e.iter().sum();
                    let mut dz: Vec<f32> = e.iter().map(|v| v / sum).collect();
                    dz[usize::from(labels[s])] -= 1.0;
                    let mut dh = vec![0.0_f32; h];
                    for c in 0..k {
                        gb2[c] += dz[c];
                        for j in 0..h {
                            gw2[c * h + j] += dz[c] * hid[j];
                            dh[j] += dz[c] * w2[c * h + j];
                        }
                    }
                    for j in 0..h {
                        if hid[j] <= 0.0 {
                            continue;
                        }
                        gb1[j] += dh[j];
                        for i in 0..d {
                            gw1[j * d + i] += dh[j] * xs[i];
                        }
                    }
                }
                let scale = lr / chunk.len() as f32;
                for (w, g) in w1.iter_mut().zip(&gw1) {
                    *w -= scale * g;
                }
                for (w, g) in b1.iter_mut().zip(&gb1) {
                    *w -= scale * g;
                }
                for (w, g) in w2.iter_mut().zip(&gw2) {
                    *w -= scale * g;
                }
                for (w, g) in b2.iter_mut().zip(&gb2) {
                    *w -= scale * g;
                }
            }
        }
        FloatStudent {
            name: "digits-mlp-64-32-10".into(),
            input_shape: [8, 8, 1],
            classes: 10,
            norm_mean: norm.mean.clone(),
            norm_std: norm.std.clone(),
            temperature: 1.0,
            class_names: Vec::new(),
            layers: vec![
                FloatLayer::Flatten,
                FloatLayer::Dense {
                    in_features: d,
                    out_features: h,
                    weight: w1,
                    bias: b1,
                    act: Act::Relu,
                },
                FloatLayer::Dense {
                    in_features: h,
                    out_features: k,
                    weight: w2,
                    bias: b2,
                    act: Act::None,
                },
            ],
        }
    }

    /// Trains on digits, quantizes, exports, then decodes the *written* files and re-runs the
    /// blob: the int8 accuracy in the report is what minnow-core computes from `student.minnow`,
    /// and the int8 student loses at most 0.3 points of test accuracy.
    #[test]
    fn export_digits_mlp_int8_accuracy_within_0_3_points() {
        let digits = builtin_digits().expect("digits");
        let splits = split(&digits, 0.1, 0.2, 7).expect("split");
        let (norm, _) = Standardizer::fit(&splits.train, NormScope::Global).expect("norm");
        let student = train_digits_mlp(&splits.train, norm.clone(), 30);
        // A fake teacher: the float student's own predictions, for the agreement columns.
        let teacher: Vec<u8> = (0..splits.test.len())
            .map(|i| {
                let x: Vec<f32> = norm.apply_all(splits.test.sample(i));
                minnow_core::softmax::argmax_f32(&student.forward(&x)).map_or(0, |c| c as u8)
            })
            .collect();
        let inputs = ExportInputs {
            student: &student,
            calibration: &splits.train,
            test: &splits.test,
            validation: Some(&splits.val),
            teacher_predictions: Some(&teacher),
            history: None,
        };
        let dir = tempfile::tempdir().expect("tempdir");
        let (art, paths) =
            export(dir.path(), &inputs, &ExportOptions::default(), &[]).expect("export");
        assert_eq!(
            files_in(dir.path()),
            [
                "golden.mngv",
                "report.html",
                "report.json",
                "report.md",
                "student.minnow"
            ]
        );

        // Re-run the written blob on the written golden vectors and on the whole test set.
        let blob = std::fs::read(&paths.student).expect("blob");
        let s = Student::decode(&blob).expect("decodes");
        let golden_bytes = std::fs::read(&paths.golden).expect("golden");
        let g = GoldenVectors::decode(&golden_bytes).expect("golden decodes");
        assert_eq!(
            g.len(),
            ExportConfig::default().golden.min(splits.test.len())
        );
        let mut scratch = vec![0_i8; s.scratch_len()];
        let mut logits = vec![0_i8; 10];
        for (i, &t) in teacher.iter().enumerate().take(g.len()) {
            s.run(g.input(i).expect("input"), &mut scratch, &mut logits)
                .expect("runs");
            assert_eq!(&logits[..], g.expected(i).expect("expected"), "vector {i}");
            assert_eq!(g.teacher_class(i).expect("teacher"), t);
        }
        // int8 accuracy of the written blob over a split, recomputed here sample by sample.
        let mut int8_accuracy = |data: &Dataset| {
            let labels = data.labels.as_deref().expect("labels");
            let mut x = vec![0_i8; 64];
            let mut hits = 0;
            for (i, &label) in labels.iter().enumerate() {
                s.quantize_input(data.sample(i), &mut x).expect("quantize");
                hits += usize::from(
                    s.predict(&x, &mut scratch, &mut logits).expect("run") == usize::from(label),
                );
            }
            hits as f64 / labels.len() as f64
        };
        let int8_acc = int8_accuracy(&splits.test);
        let report = Report::load(&paths.report_json).expect("report");
        assert_eq!(report, art.report);
        assert_eq!(report.student_int8.accuracy, report::round_metric(int8_acc));
        // The validation section is the same int8 computation on the validation split.
        let val = report.validation.as_ref().expect("validation section");
        assert_eq!(val.samples, splits.val.len());
        assert_eq!(
            val.int8_accuracy,
            report::round_metric(int8_accuracy(&splits.val))
        );
        let float_acc = report.student_float.accuracy;
        eprintln!(
            "digits 64-32-10 MLP: float {:.2}% int8 {:.2}% ({} test samples), agreement {:.2}%, cosine {:.6}; blob {} B, weights {} B, RAM {} B, {} MACs",
            100.0 * float_acc,
            100.0 * int8_acc,
            splits.test.len(),
            100.0 * report.student_int8.float_agreement,
            report.student_int8.cosine,
            report.footprint.blob_bytes,
            report.footprint.weight_bytes,
            report.footprint.ram_bytes,
            report.footprint.macs
        );
        assert!(
            float_acc > 0.9,
            "the float student should be reasonable: {float_acc}"
        );
        assert!(
            float_acc - int8_acc <= 0.003 + 1e-12,
            "int8 loses {:.2} points: float {float_acc} int8 {int8_acc}",
            100.0 * (float_acc - int8_acc)
        );
        assert_eq!(report.teacher.accuracy, Some(float_acc));
        assert_eq!(report.student_float.teacher_agreement, Some(1.0));
        assert_eq!(report.student_int8.layers.len(), 3);
        assert_eq!(report.footprint.macs, 64 * 32 + 32 * 10);
        assert_eq!(report.footprint.blob_bytes, blob.len() as u64);
        assert_eq!(
            report.footprint.ram_bytes,
            report.footprint.scratch_bytes + 74
        );
        assert!(report.device.is_none());
    }

    #[test]
    fn export_is_byte_identical_across_runs() {
        let student = random_mlp(&[12, 10, 3], 5);
        let data = random_data(60, [1, 1, 12], 3, 6);
        let inputs = ExportInputs::new(&student, &data, &data);
        let opts = ExportOptions {
            golden_count: 25,
            ..ExportOptions::default()
        };
        let (a, b) = (
            tempfile::tempdir().expect("a"),
            tempfile::tempdir().expect("b"),
        );
        export(a.path(), &inputs, &opts, &[]).expect("first");
        export(b.path(), &inputs, &opts, &[]).expect("second");
        // And a third time over the first: overwriting gives the same bytes too.
        export(a.path(), &inputs, &opts, &[]).expect("again");
        for f in [
            STUDENT_FILE,
            GOLDEN_FILE,
            REPORT_JSON,
            REPORT_MD,
            REPORT_HTML,
        ] {
            let x = std::fs::read(a.path().join(f)).expect("read a");
            let y = std::fs::read(b.path().join(f)).expect("read b");
            assert!(!x.is_empty());
            assert_eq!(x, y, "{f} differs between runs");
        }
        let g = std::fs::read(a.path().join(GOLDEN_FILE)).expect("golden");
        let g = GoldenVectors::decode(&g).expect("decodes");
        assert_eq!(g.len(), 25);
        assert_eq!(g.teacher_class(0), Ok(UNKNOWN_CLASS));
        assert_eq!(files_in(a.path()).len(), 5);
    }

    #[test]
    fn class_names_come_from_the_student_and_must_match_the_test_labels() {
        let mut student = random_mlp(&[12, 10, 3], 5);
        let mut data = random_data(30, [1, 1, 12], 3, 6);
        let names = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let root = tempfile::tempdir().expect("root");
        let opts = ExportOptions::default();
        let build_with = |student: &FloatStudent, data: &Dataset| {
            build(&ExportInputs::new(student, data, data), &opts)
        };

        // Trained on named classes, exported on unnamed data (an NPY test set): the
        // student's names reach the report.
        student.class_names = names(&["low", "mid", "high"]);
        let a = build_with(&student, &data).expect("unnamed test data");
        assert_eq!(a.report.student.class_names, ["low", "mid", "high"]);

        data.class_names = names(&["low", "mid", "high"]);
        build_with(&student, &data).expect("the same names");

        // The same names in another order: label 0 would be scored against "mid".
        data.class_names = names(&["mid", "low", "high"]);
        let out = root.path().join("swapped");
        let e = export(&out, &ExportInputs::new(&student, &data, &data), &opts, &[])
            .expect_err("other class order");
        assert!(matches!(e, ExportError::ClassNames(_)), "{e}");
        assert!(e.to_string().contains(r#"["mid", "low", "high"]"#), "{e}");
        assert!(!out.exists(), "nothing written");

        student.class_names = names(&["low", "high"]);
        let e = build_with(&student, &data).expect_err("2 names, 3 outputs");
        assert!(
            e.to_string().contains("names 2 classes but has 3 outputs"),
            "{e}"
        );
    }

    #[test]
    fn export_errors_write_nothing() {
        let student = random_mlp(&[12, 10, 3], 5);
        let data = random_data(30, [1, 1, 12], 3, 6);
        let root = tempfile::tempdir().expect("root");
        let out = root.path().join("run");
        let opts = ExportOptions::default();
        let inputs = |calibration, test| ExportInputs::new(&student, calibration, test);

        let empty = data.subset(&[]);
        let e = export(&out, &inputs(&empty, &data), &opts, &[]).expect_err("empty calibration");
        assert!(
            matches!(
                e,
                ExportError::Quantize(QuantizeError::Calibration(CalibrationError::Empty))
            ),
            "{e}"
        );
        assert!(e.to_string().contains("calibration set is empty"), "{e}");

        let other = random_data(30, [2, 3, 2], 3, 6);
        let e = export(&out, &inputs(&other, &other), &opts, &[]).expect_err("shape");
        assert!(e.to_string().contains("[2, 3, 2]"), "{e}");

        let e = export(&out, &inputs(&data, &other), &opts, &[]).expect_err("test shape");
        assert!(matches!(e, ExportError::Calibration(_)), "{e}");

        let impossible = ExportOptions {
            budget: Budget {
                max_flash: Some(100),
                max_ram: None,
            },
            ..opts
        };
        let e = export(&out, &inputs(&data, &data), &impossible, &[]).expect_err("flash");
        assert!(
            matches!(e, ExportError::Budget(BudgetError::Flash { .. })),
            "{e}"
        );
        assert!(
            e.to_string().contains("bytes over the budget of 100"),
            "{e}"
        );
        let e = export(
            &out,
            &inputs(&data, &data),
            &ExportOptions {
                budget: Budget {
                    max_flash: None,
                    max_ram: Some(16),
                },
                ..opts
            },
            &[],
        )
        .expect_err("ram");
        assert!(
            matches!(e, ExportError::Budget(BudgetError::Ram { .. })),
            "{e}"
        );

        assert!(!out.exists(), "a failed export created {}", out.display());

        // Into an existing directory: a failure leaves what was there untouched.
        let (first, _) = export(&out, &inputs(&data, &data), &opts, &[]).expect("export");
        let before = files_in(&out);
        let mut nan = student.clone();
        if let FloatLayer::Dense { bias, .. } = &mut nan.layers[0] {
            bias[0] = f32::INFINITY;
        }
        let bad = ExportInputs::new(&nan, &data, &data);
        let e = export(&out, &bad, &opts, &[]).expect_err("non-finite");
        assert!(e.to_string().contains("not finite"), "{e}");
        assert_eq!(files_in(&out), before);
        assert_eq!(
            std::fs::read(out.join(STUDENT_FILE)).expect("blob"),
            first.blob
        );
    }
}
