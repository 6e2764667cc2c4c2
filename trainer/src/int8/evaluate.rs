//! Host evaluation of a quantized student through minnow-core: the blob is decoded with
//! [`Student::decode`] and run with [`Student::run_observed`], the same functions the firmware
//! calls, and compared with the float student it came from.
//!
//! Reported: accuracy of the float and int8 students (and of the teacher when its predictions
//! are given), top-1 agreement of each with the teacher and of int8 with float, the
//! STM32Cube.AI "validate" metrics of the dequantized int8 logits against the float logits
//! (RMSE, MAE, relative L2 error, cosine similarity), a confusion matrix of the int8 student,
//! and the same error metrics per layer (each int8 layer output dequantized and compared with
//! [`FloatStudent::forward_trace`] of the same input), which shows where quantization loses
//! accuracy.

use minnow_core::quant::dequantize;
use minnow_core::softmax::{argmax_f32, argmax_i8};
use minnow_core::{Activation, Student};
use serde::{Deserialize, Serialize};

use crate::data::Dataset;
use crate::net::float::FloatStudent;

/// Why an evaluation could not run.
#[derive(Debug, thiserror::Error)]
pub enum EvaluateError {
    #[error("the student blob does not decode: {0}")]
    Blob(#[source] minnow_core::Error),
    #[error("inference failed on test sample {sample}: {source}")]
    Run {
        sample: usize,
        #[source]
        source: minnow_core::Error,
    },
    #[error("the test set is empty")]
    EmptyTestSet,
    #[error("the test set `{0}` has no labels: accuracy needs labels")]
    Unlabeled(String),
    #[error(
        "the blob takes inputs of shape {blob:?} with {blob_classes} classes but the data has shape {data:?} with {data_classes} classes"
    )]
    DataMismatch {
        blob: [usize; 3],
        blob_classes: usize,
        data: [usize; 3],
        data_classes: usize,
    },
    #[error(
        "the blob has {blob} layers but the float student has {float}: they are not the same network"
    )]
    LayerCountMismatch { blob: usize, float: usize },
    #[error("{got} teacher predictions for {expected} test samples")]
    TeacherLength { expected: usize, got: usize },
    #[error("teacher prediction {value} of sample {sample} is not a class (< {classes})")]
    TeacherClass {
        sample: usize,
        value: u8,
        classes: usize,
    },
}

/// Error metrics of a test tensor against a reference (STM32Cube.AI's validation metrics),
/// accumulated over every value of every sample.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ErrorMetrics {
    /// `sqrt(mean((test - ref)^2))`.
    pub rmse: f64,
    /// `mean(|test - ref|)`.
    pub mae: f64,
    /// `||test - ref||_2 / ||ref||_2` (0 when both are zero).
    pub relative_l2: f64,
    /// `<test, ref> / (||test|| ||ref||)` (1 when both are zero).
    pub cosine: f64,
}

/// Accumulates [`ErrorMetrics`] in f64.
#[derive(Debug, Clone, Copy, Default)]
pub struct MetricsAccumulator {
    n: u64,
    sq: f64,
    abs: f64,
    ref_sq: f64,
    test_sq: f64,
    dot: f64,
}

impl MetricsAccumulator {
    pub fn add(&mut self, reference: &[f32], test: &[f32]) {
        for (&r, &t) in reference.iter().zip(test) {
            let (r, t) = (f64::from(r), f64::from(t));
            let d = t - r;
            self.n += 1;
            self.sq += d * d;
            self.abs += d.abs();
            self.ref_sq += r * r;
            self.test_sq += t * t;
            self.dot += r * t;
        }
    }

    pub fn finish(&self) -> ErrorMetrics {
        let n = self.n.max(1) as f64;
        let relative_l2 = if self.ref_sq > 0.0 {
            (self.sq / self.ref_sq).sqrt()
        } else if self.sq > 0.0 {
            f64::INFINITY
        } else {
            0.0
        };
        let norms = (self.ref_sq * self.test_sq).sqrt();
        let cosine = if norms > 0.0 {
            self.dot / norms
        } else if self.ref_sq == self.test_sq {
            1.0 // both zero
        } else {
            0.0
        };
        ErrorMetrics {
            rmse: (self.sq / n).sqrt(),
            mae: self.abs / n,
            relative_l2: if relative_l2.is_finite() {
                relative_l2
            } else {
                f64::MAX
            },
            cosine,
        }
    }
}

/// The quantization error of one layer's output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LayerError {
    pub index: usize,
    pub kind: String,
    /// `[height, width, channels]` of the output.
    pub output_shape: [usize; 3],
    /// Output quantization: `real = (q - zero_point) * scale`.
    pub scale: f32,
    pub zero_point: i8,
    #[serde(flatten)]
    pub metrics: ErrorMetrics,
}

/// Everything [`evaluate`] measures.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation {
    pub samples: usize,
    pub classes: usize,
    pub teacher_accuracy: Option<f64>,
    pub float_accuracy: f64,
    pub float_teacher_agreement: Option<f64>,
    pub int8_accuracy: f64,
    pub int8_teacher_agreement: Option<f64>,
    /// Top-1 agreement of int8 with float.
    pub int8_float_agreement: f64,
    /// Dequantized int8 logits vs float logits.
    pub logits: ErrorMetrics,
    /// `confusion[label][predicted]` of the int8 student.
    pub confusion: Vec<Vec<u32>>,
    pub layers: Vec<LayerError>,
    /// Int8 logits of every test sample (`samples * classes`), as minnow-core computed them.
    pub int8_logits: Vec<i8>,
    /// Quantized inputs of every test sample (`samples * input_len`).
    pub int8_inputs: Vec<i8>,
}

/// Predicted classes from row-major `[n][classes]` teacher logits (first maximum on ties).
pub fn predictions_from_logits(logits: &[f32], classes: usize) -> Vec<u8> {
    logits
        .chunks_exact(classes.max(1))
        .map(|row| argmax_f32(row).map_or(u8::MAX, |c| c as u8))
        .collect()
}

fn shape3(s: minnow_core::Shape) -> [usize; 3] {
    [
        usize::from(s.height),
        usize::from(s.width),
        usize::from(s.channels),
    ]
}

fn fraction(hits: usize, n: usize) -> f64 {
    hits as f64 / n.max(1) as f64
}

/// Evaluates the int8 student `blob` (decoded and run by minnow-core) and the float student it
/// was quantized from on the labeled `test` set (raw features). `teacher`, when given, holds
/// the teacher's predicted class of every test sample.
pub fn evaluate(
    float: &FloatStudent,
    blob: &[u8],
    test: &Dataset,
    teacher: Option<&[u8]>,
) -> Result<Evaluation, EvaluateError> {
    let student = Student::decode(blob).map_err(EvaluateError::Blob)?;
    let labels = check_inputs(&student, float, test, teacher)?;
    let n = test.len();
    let classes = student.classes();
    let LayerOutputs {
        grids: acts,
        kinds,
        shapes,
    } = layer_outputs(&student)?;
    let out_act = student.output_activation();

    let mut layer_acc = vec![MetricsAccumulator::default(); student.layer_count()];
    let mut logit_acc = MetricsAccumulator::default();
    let mut confusion = vec![vec![0_u32; classes]; classes];
    let (mut float_hits, mut int8_hits, mut agree) = (0, 0, 0);
    let (mut teacher_hits, mut float_teacher, mut int8_teacher) = (0, 0, 0);
    let mut int8_logits = Vec::with_capacity(n * classes);
    let mut int8_inputs = Vec::with_capacity(n * student.input_len());

    let mut x = vec![0_i8; student.input_len()];
    let mut scratch = vec![0_i8; student.scratch_len()];
    let mut logits = vec![0_i8; classes];
    let mut observed: Vec<Vec<f32>> = vec![Vec::new(); student.layer_count()];
    let norm = float.normalization();
    for s in 0..n {
        let raw = test.sample(s);
        let run_err = |source| EvaluateError::Run { sample: s, source };
        student.quantize_input(raw, &mut x).map_err(run_err)?;
        student
            .run_observed(&x, &mut scratch, &mut logits, |i, _, out| {
                if let (Some(slot), Some(a)) = (observed.get_mut(i), acts.get(i)) {
                    slot.clear();
                    slot.extend(out.iter().map(|&q| dequantize(q, a.scale, a.zero_point)));
                }
            })
            .map_err(run_err)?;
        let normalised: Vec<f32> = norm.apply_all(raw);
        let trace = float.forward_trace(&normalised);
        for ((acc, want), got) in layer_acc.iter_mut().zip(&trace).zip(&observed) {
            acc.add(want, got);
        }
        let float_logits = trace.last().map_or(&[][..], Vec::as_slice);
        let deq: Vec<f32> = logits
            .iter()
            .map(|&q| dequantize(q, out_act.scale, out_act.zero_point))
            .collect();
        logit_acc.add(float_logits, &deq);

        let label = usize::from(labels[s]);
        let p_float = argmax_f32(float_logits).unwrap_or(usize::MAX);
        let p_int8 = argmax_i8(&logits).unwrap_or(usize::MAX);
        float_hits += usize::from(p_float == label);
        int8_hits += usize::from(p_int8 == label);
        agree += usize::from(p_float == p_int8);
        if let Some(row) = confusion.get_mut(label)
            && let Some(cell) = row.get_mut(p_int8)
        {
            *cell += 1;
        }
        if let Some(t) = teacher {
            let t = usize::from(t[s]);
            teacher_hits += usize::from(t == label);
            float_teacher += usize::from(t == p_float);
            int8_teacher += usize::from(t == p_int8);
        }
        int8_logits.extend_from_slice(&logits);
        int8_inputs.extend_from_slice(&x);
    }

    let layers = layer_acc
        .iter()
        .enumerate()
        .map(|(i, acc)| LayerError {
            index: i,
            kind: kinds[i].to_owned(),
            output_shape: shapes[i],
            scale: acts[i].scale,
            zero_point: acts[i].zero_point,
            metrics: acc.finish(),
        })
        .collect();
    let with_teacher = |hits| teacher.map(|_| fraction(hits, n));
    Ok(Evaluation {
        samples: n,
        classes,
        teacher_accuracy: with_teacher(teacher_hits),
        float_accuracy: fraction(float_hits, n),
        float_teacher_agreement: with_teacher(float_teacher),
        int8_accuracy: fraction(int8_hits, n),
        int8_teacher_agreement: with_teacher(int8_teacher),
        int8_float_agreement: fraction(agree, n),
        logits: logit_acc.finish(),
        confusion,
        layers,
        int8_logits,
        int8_inputs,
    })
}

/// The test set's labels, once the blob, the float student, the data and the teacher's
/// predictions are known to belong together.
fn check_inputs<'d>(
    student: &Student<'_>,
    float: &FloatStudent,
    test: &'d Dataset,
    teacher: Option<&[u8]>,
) -> Result<&'d [u8], EvaluateError> {
    let n = test.len();
    if n == 0 {
        return Err(EvaluateError::EmptyTestSet);
    }
    let labels = test
        .labels
        .as_deref()
        .ok_or_else(|| EvaluateError::Unlabeled(test.name.clone()))?;
    let classes = student.classes();
    let input_shape = shape3(student.meta().input_shape);
    if input_shape != test.shape || classes != test.classes || float.input_shape != test.shape {
        return Err(EvaluateError::DataMismatch {
            blob: input_shape,
            blob_classes: classes,
            data: test.shape,
            data_classes: test.classes,
        });
    }
    if student.layer_count() != float.layers.len() {
        return Err(EvaluateError::LayerCountMismatch {
            blob: student.layer_count(),
            float: float.layers.len(),
        });
    }
    if let Some(t) = teacher {
        if t.len() != n {
            return Err(EvaluateError::TeacherLength {
                expected: n,
                got: t.len(),
            });
        }
        if let Some((sample, &value)) = t
            .iter()
            .enumerate()
            .find(|&(_, &c)| usize::from(c) >= classes)
        {
            return Err(EvaluateError::TeacherClass {
                sample,
                value,
                classes,
            });
        }
    }
    Ok(labels)
}

/// Each layer's output quantization, kind and shape (pooling and flatten keep their input's
/// quantization).
struct LayerOutputs {
    grids: Vec<Activation>,
    kinds: Vec<&'static str>,
    shapes: Vec<[usize; 3]>,
}

fn layer_outputs(student: &Student<'_>) -> Result<LayerOutputs, EvaluateError> {
    let mut acts: Vec<Activation> = Vec::with_capacity(student.layer_count());
    let mut act = student.meta().input;
    let mut kinds = Vec::with_capacity(student.layer_count());
    for layer in student.layers() {
        let layer = layer.map_err(EvaluateError::Blob)?;
        if let Some(p) = layer.params() {
            act = p.output;
        }
        acts.push(act);
        kinds.push(layer.kind());
    }
    let shapes: Vec<[usize; 3]> = (0..student.layer_count())
        .map(|i| student.layer_shapes(i).map_or([0; 3], |s| shape3(s.output)))
        .collect();
    Ok(LayerOutputs {
        grids: acts,
        kinds,
        shapes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::int8::calibrate::QuantizeOptions;
    use crate::int8::quantize::quantize_student;
    use crate::int8::quantize::tests::{random_data, random_mlp};

    #[test]
    fn evaluate_metrics_on_known_vectors() {
        let mut acc = MetricsAccumulator::default();
        acc.add(&[1.0, 0.0, 0.0, 0.0], &[1.0, 1.0, 0.0, 0.0]);
        let m = acc.finish();
        assert!((m.rmse - 0.5).abs() < 1e-12);
        assert!((m.mae - 0.25).abs() < 1e-12);
        assert!((m.relative_l2 - 1.0).abs() < 1e-12);
        assert!((m.cosine - 1.0 / 2f64.sqrt()).abs() < 1e-12);
        let zero = MetricsAccumulator::default().finish();
        assert_eq!((zero.rmse, zero.relative_l2, zero.cosine), (0.0, 0.0, 1.0));
        assert_eq!(
            predictions_from_logits(&[0.1, 0.9, 2.0, -1.0], 2),
            vec![1, 0]
        );
    }

    #[test]
    fn evaluate_runs_through_minnow_core() {
        let student = random_mlp(&[12, 10, 3], 21);
        let data = random_data(50, [1, 1, 12], 3, 22);
        let q = quantize_student(&student, &data, &QuantizeOptions::default()).expect("quantizes");
        let blob = q.encode().expect("encodes");
        let teacher: Vec<u8> = (0..50).map(|i| (i % 3) as u8).collect();
        let e = evaluate(&student, &blob, &data, Some(&teacher)).expect("evaluates");
        assert_eq!(e.samples, 50);
        assert_eq!(e.layers.len(), 2);
        assert_eq!(e.confusion.iter().flatten().sum::<u32>(), 50);
        assert!(e.logits.cosine > 0.99, "{:?}", e.logits);
        assert!(e.int8_float_agreement > 0.8);
        // The last layer's table entry is the logits comparison.
        assert_eq!(e.layers[1].metrics, e.logits);
        let labels = data.labels.as_deref().expect("labels");
        let teacher_acc = teacher.iter().zip(labels).filter(|(a, b)| a == b).count() as f64 / 50.0;
        assert_eq!(e.teacher_accuracy, Some(teacher_acc));
        // The recorded int8 logits are what minnow-core computes.
        let s = Student::decode(&blob).expect("decodes");
        let mut x = vec![0; 12];
        let mut scratch = vec![0; s.scratch_len()];
        let mut logits = vec![0; 3];
        s.quantize_input(data.sample(7), &mut x).expect("input");
        s.run(&x, &mut scratch, &mut logits).expect("runs");
        assert_eq!(&e.int8_logits[21..24], &logits[..]);
        assert_eq!(&e.int8_inputs[84..96], &x[..]);
    }

    #[test]
    fn evaluate_rejects_mismatches() {
        let student = random_mlp(&[12, 10, 3], 21);
        let data = random_data(20, [1, 1, 12], 3, 22);
        let blob = quantize_student(&student, &data, &QuantizeOptions::default())
            .and_then(|q| q.encode())
            .expect("blob");
        let other = random_data(20, [2, 2, 3], 3, 22);
        assert!(matches!(
            evaluate(&student, &blob, &other, None),
            Err(EvaluateError::DataMismatch { .. })
        ));
        assert!(matches!(
            evaluate(&student, &blob, &data.without_labels(), None),
            Err(EvaluateError::Unlabeled(_))
        ));
        assert!(matches!(
            evaluate(&student, &blob, &data.subset(&[]), None),
            Err(EvaluateError::EmptyTestSet)
        ));
        assert!(matches!(
            evaluate(&student, &blob, &data, Some(&[0, 1])),
            Err(EvaluateError::TeacherLength { .. })
        ));
        assert!(matches!(
            evaluate(&student, &blob, &data, Some(&[7; 20])),
            Err(EvaluateError::TeacherClass { .. })
        ));
        let mut bad = blob.clone();
        bad[20] ^= 0xff;
        assert!(matches!(
            evaluate(&student, &bad, &data, None),
            Err(EvaluateError::Blob(_))
        ));
    }
}
