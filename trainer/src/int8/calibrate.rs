//! Activation calibration: run the float student on calibration samples and take the range
//! of the input and of every layer's output (min/max, or a two-sided percentile), then the
//! affine int8 grid of each range. The exporter quantizes to these grids, and
//! quantization-aware training rounds to them.

use minnow_core::Activation;

use crate::data::Dataset;
use crate::net::float::{FloatLayer, FloatStudent};

/// How activation ranges are taken from the calibration outputs.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Calibration {
    /// The smallest and largest value seen.
    MinMax,
    /// Two-sided percentile: `[p(100 - q), p(q)]` of all values of the tensor, e.g. `q = 99.99`.
    /// Clips rare outliers for a finer scale.
    Percentile(f64),
}

/// Calibration options of the exporter ([`crate::int8::quantize::quantize_student`]) and of
/// quantization-aware training.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct QuantizeOptions {
    pub calibration: Calibration,
    /// Calibrate on at most this many samples (the first ones of the calibration set).
    pub max_calibration_samples: usize,
}

/// A two-sided calibration percentile keeps more than half of the values: `(50, 100]`.
pub fn percentile_is_valid(q: f64) -> bool {
    q > 50.0 && q <= 100.0
}

impl QuantizeOptions {
    /// Refuses a percentile outside `(50, 100]`.
    pub fn check(&self) -> Result<(), CalibrationError> {
        match self.calibration {
            Calibration::Percentile(q) if !percentile_is_valid(q) => {
                Err(CalibrationError::InvalidPercentile(q))
            }
            _ => Ok(()),
        }
    }
}

impl Default for QuantizeOptions {
    fn default() -> Self {
        QuantizeOptions {
            calibration: Calibration::MinMax,
            max_calibration_samples: 1000,
        }
    }
}

/// Why activation ranges could not be calibrated.
#[derive(Debug, thiserror::Error)]
pub enum CalibrationError {
    #[error(
        "the calibration set is empty: at least one sample is needed to calibrate activation ranges"
    )]
    Empty,
    #[error("invalid calibration percentile {0}: must be in (50, 100]")]
    InvalidPercentile(f64),
    #[error("calibration sample {sample}: {what} is not finite")]
    NonFiniteActivation { sample: usize, what: String },
}

/// Running statistics of one tensor over the calibration set.
#[derive(Debug, Clone)]
struct TensorStats {
    min: f32,
    max: f32,
    /// All values, kept only for percentile calibration.
    values: Vec<f32>,
}

impl TensorStats {
    fn new() -> Self {
        TensorStats {
            min: f32::INFINITY,
            max: f32::NEG_INFINITY,
            values: Vec::new(),
        }
    }

    fn add(&mut self, v: &[f32], keep: bool) {
        for &x in v {
            self.min = self.min.min(x);
            self.max = self.max.max(x);
        }
        if keep {
            self.values.extend_from_slice(v);
        }
    }

    fn range(&mut self, calibration: Calibration) -> (f32, f32) {
        match calibration {
            Calibration::MinMax => (self.min, self.max),
            Calibration::Percentile(q) => {
                if self.values.is_empty() {
                    return (self.min, self.max);
                }
                self.values.sort_by(f32::total_cmp);
                let n = self.values.len();
                let at = |p: f64| {
                    let i = ((p / 100.0) * (n - 1) as f64).round() as usize;
                    self.values[i.min(n - 1)]
                };
                (at(100.0 - q), at(q))
            }
        }
    }
}

/// The int8 affine quantization of the range `[min, max]`, widened to include 0.
pub fn activation_for_range(min: f32, max: f32) -> Activation {
    let lo = min.min(0.0);
    let mut hi = max.max(0.0);
    if hi - lo < 1e-8 {
        // A constant-zero tensor: any positive scale represents it exactly.
        hi = lo + 1e-8 * 255.0;
    }
    let scale = (hi - lo) / 255.0;
    let zp = (-128.0 - f64::from(lo) / f64::from(scale)).round();
    Activation {
        scale,
        zero_point: zp.clamp(-128.0, 127.0) as i8,
    }
}

/// Calibrated ranges of the input and every layer output: `(min, max)` per tensor, and the
/// number of samples used.
pub fn calibrate(
    student: &FloatStudent,
    calibration: &Dataset,
    opts: &QuantizeOptions,
) -> Result<(Vec<(f32, f32)>, usize), CalibrationError> {
    let n = calibration.len().min(opts.max_calibration_samples);
    if n == 0 {
        return Err(CalibrationError::Empty);
    }
    let keep = matches!(opts.calibration, Calibration::Percentile(_));
    let mut stats = vec![TensorStats::new(); student.layers.len() + 1];
    let norm = student.normalization();
    for s in 0..n {
        let x: Vec<f32> = norm.apply_all(calibration.sample(s));
        if x.iter().any(|v| !v.is_finite()) {
            return Err(CalibrationError::NonFiniteActivation {
                sample: s,
                what: "the normalised input".to_owned(),
            });
        }
        stats[0].add(&x, keep);
        for (i, out) in student.forward_trace(&x).iter().enumerate() {
            if out.iter().any(|v| !v.is_finite()) {
                return Err(CalibrationError::NonFiniteActivation {
                    sample: s,
                    what: format!("the output of layer {i}"),
                });
            }
            stats[i + 1].add(out, keep);
        }
    }
    Ok((
        stats
            .iter_mut()
            .map(|st| st.range(opts.calibration))
            .collect(),
        n,
    ))
}

/// The int8 grid of the input (index 0) and of every layer's output (index `i + 1`) for the
/// calibrated `ranges` of [`calibrate`]: a weight layer requantizes to its own range, pooling
/// and flatten keep their input's quantization.
pub fn activation_grids(student: &FloatStudent, ranges: &[(f32, f32)]) -> Vec<Activation> {
    let mut grids: Vec<Activation> = Vec::with_capacity(ranges.len());
    for (i, &(lo, hi)) in ranges.iter().enumerate() {
        let layer = i.checked_sub(1).and_then(|l| student.layers.get(l));
        let keeps_input = matches!(
            layer,
            Some(FloatLayer::MaxPool2d { .. } | FloatLayer::AvgPool2d { .. } | FloatLayer::Flatten)
        );
        let grid = match grids.last() {
            Some(&input) if keeps_input => input,
            _ => activation_for_range(lo, hi),
        };
        grids.push(grid);
    }
    grids
}
