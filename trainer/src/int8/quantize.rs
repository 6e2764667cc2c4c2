//! Post-training quantization of a [`FloatStudent`] into minnow-core's int8 layers.
//!
//! * Weights: int8, symmetric per output channel, values in `[-127, 127]`,
//!   `scale = max|w| / 127`, zero point 0.
//! * Activations: int8, asymmetric per tensor, calibrated by running
//!   [`FloatStudent::forward_trace`] on normalised calibration inputs and taking each tensor's
//!   min/max (or a two-sided percentile). Every range is widened to include 0 so that a real 0
//!   (ReLU's floor, conv padding) is exactly representable.
//! * Bias: int32 in units of `s_in * s_w`, with the input zero point folded in:
//!   `round(b / (s_in * s_w)) - zp_in * sum(w)`.
//! * Requantization: Q31 multiplier and shift of `s_in * s_w / s_out` per output channel,
//!   from [`minnow_core::quant::quantize_multiplier`].
//! * Fused ReLU / ReLU6: the clamp `[zp_out, 127]` / `[zp_out, quantize(6)]`.
//! * Pooling and flatten keep their input's quantization.
//! * The input: the stored normalisation, then the calibrated input quantization.
//!
//! The result is a [`QuantizedStudent`] owning its arrays; [`QuantizedStudent::encode`] produces
//! the blob the firmware runs, and the blob is decoded (validated) by minnow-core before it is
//! handed out.

use minnow_core::layer::window_out;
use minnow_core::owned::{OwnedLayer, OwnedParams, OwnedStudent};
use minnow_core::quant::{quantize as quantize_value, quantize_multiplier};
use minnow_core::{Activation, Pool2d, Pool2dRect, Shape, Student, limits, pack_normalization};

use crate::data::Dataset;
use crate::int8::calibrate::{CalibrationError, QuantizeOptions, activation_grids, calibrate};
use crate::net::float::{Act, FloatLayer, FloatStudent};

/// Why a student could not be quantized.
#[derive(Debug, thiserror::Error)]
pub enum QuantizeError {
    #[error(transparent)]
    Calibration(#[from] CalibrationError),
    #[error(
        "student `{name}` takes inputs of shape {student:?} (h, w, c) but the data has shape {data:?}"
    )]
    InputShapeMismatch {
        name: String,
        student: [usize; 3],
        data: [usize; 3],
    },
    #[error("student `{name}` predicts {student} classes but the data has {data}")]
    ClassCountMismatch {
        name: String,
        student: usize,
        data: usize,
    },
    #[error("student `{name}` has no layers")]
    NoLayers { name: String },
    #[error("student name `{name}` is {len} bytes; the blob allows at most {max}")]
    NameTooLong {
        name: String,
        len: usize,
        max: usize,
    },
    #[error(
        "student name `{name}` has characters other than printable ASCII; the blob allows \
         only those (they end up in device logs)"
    )]
    NameNotPrintable { name: String },
    #[error("layer {layer} ({kind}): {reason}")]
    InvalidLayer {
        layer: usize,
        kind: &'static str,
        reason: String,
    },
    #[error("layer {layer} ({kind}): {what}[{index}] is not finite ({value})")]
    NonFiniteWeight {
        layer: usize,
        kind: &'static str,
        what: &'static str,
        index: usize,
        value: f32,
    },
    #[error(
        "invalid normalisation: {pairs} means and {stds} stds for inputs of shape {shape:?} (need one pair, one per channel or one per value, finite, with std > 0)"
    )]
    InvalidNormalization {
        pairs: usize,
        stds: usize,
        shape: [usize; 3],
    },
    #[error("invalid temperature {0}: must be finite and > 0")]
    InvalidTemperature(f32),
    #[error(
        "layer {layer}: requantization multiplier {value:e} (s_in * s_w / s_out) of channel {channel} cannot be represented"
    )]
    Multiplier {
        layer: usize,
        channel: usize,
        value: f64,
    },
    #[error(
        "layer {layer}: bias of channel {channel} does not fit int32 after folding the input zero point"
    )]
    BiasOverflow { layer: usize, channel: usize },
    #[error("the quantized student is not a valid minnow-core blob: {0}")]
    Core(#[from] minnow_core::Error),
}

/// A quantized layer's parameters, typed (minnow-core's [`minnow_core::Params`] borrows packed bytes).
#[derive(Debug, Clone, PartialEq)]
pub struct QuantizedParams {
    pub weights: Vec<i8>,
    pub weight_scales: Vec<f32>,
    pub bias: Vec<i32>,
    pub multiplier: Vec<i32>,
    pub shift: Vec<i8>,
    pub output: Activation,
    pub act_min: i8,
    pub act_max: i8,
}

/// One quantized layer, owned, with typed parameters: minnow-core's [`OwnedLayer`] (which
/// mirrors [`minnow_core::Layer`]) over [`QuantizedParams`].
pub type QuantizedLayer = OwnedLayer<QuantizedParams>;

/// The calibrated range of one tensor (before and after widening to include 0).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CalibratedRange {
    pub min: f32,
    pub max: f32,
    pub activation: Activation,
}

/// A quantized student and how it was calibrated.
#[derive(Debug, Clone, PartialEq)]
pub struct QuantizedStudent {
    /// Everything the blob holds, with typed parameters.
    pub student: OwnedStudent<QuantizedParams>,
    /// Calibrated range of the input (index 0) and of every layer's output (index `i + 1`).
    pub ranges: Vec<CalibratedRange>,
    /// Number of calibration samples used.
    pub calibration_samples: usize,
}

impl QuantizedParams {
    /// The arrays packed as the blob stores them.
    fn owned(&self) -> OwnedParams {
        OwnedParams::pack(
            &self.weights,
            &self.weight_scales,
            &self.bias,
            &self.multiplier,
            &self.shift,
            self.output,
            self.act_min,
            self.act_max,
        )
    }
}

impl QuantizedStudent {
    /// Encodes the student blob (`student.minnow`) and checks that minnow-core decodes it.
    pub fn encode(&self) -> Result<Vec<u8>, QuantizeError> {
        let blob = self.student.map_params(QuantizedParams::owned).encode()?;
        Student::decode(&blob)?;
        Ok(blob)
    }
}

/// A layer's name for error messages.
pub fn layer_kind(layer: &FloatLayer) -> &'static str {
    match layer {
        FloatLayer::Dense { .. } => "dense",
        FloatLayer::Conv2d { .. } => "conv2d",
        FloatLayer::DepthwiseConv2d { .. } => "depthwise_conv2d",
        FloatLayer::MaxPool2d { .. } => "max_pool2d",
        FloatLayer::AvgPool2d { .. } => "avg_pool2d",
        FloatLayer::Flatten => "flatten",
    }
}

fn finite(
    layer: usize,
    kind: &'static str,
    what: &'static str,
    v: &[f32],
) -> Result<(), QuantizeError> {
    match v.iter().position(|x| !x.is_finite()) {
        Some(index) => Err(QuantizeError::NonFiniteWeight {
            layer,
            kind,
            what,
            index,
            value: v[index],
        }),
        None => Ok(()),
    }
}

/// Checks that `student` is a consistent network for samples of `shape` with `classes` classes:
/// shapes chain, array lengths match, every weight is finite and the last layer produces
/// `classes` values.
pub fn check_student(
    student: &FloatStudent,
    shape: [usize; 3],
    classes: usize,
) -> Result<(), QuantizeError> {
    check_header(student, shape, classes)?;
    let mut cur = shape;
    for (i, layer) in student.layers.iter().enumerate() {
        check_layer(i, layer, cur)?;
        cur = layer.output_shape(cur);
    }
    let produced = cur.iter().product::<usize>();
    if produced != classes {
        return Err(QuantizeError::InvalidLayer {
            layer: student.layers.len() - 1,
            kind: layer_kind(&student.layers[student.layers.len() - 1]),
            reason: format!(
                "the last layer produces {produced} values but there are {classes} classes"
            ),
        });
    }
    Ok(())
}

/// Everything about the student but its layers: the data it expects, its name, its
/// normalisation and temperature.
fn check_header(
    student: &FloatStudent,
    shape: [usize; 3],
    classes: usize,
) -> Result<(), QuantizeError> {
    let name = student.name.clone();
    if student.input_shape != shape {
        return Err(QuantizeError::InputShapeMismatch {
            name,
            student: student.input_shape,
            data: shape,
        });
    }
    if student.classes != classes {
        return Err(QuantizeError::ClassCountMismatch {
            name,
            student: student.classes,
            data: classes,
        });
    }
    if student.layers.is_empty() {
        return Err(QuantizeError::NoLayers { name });
    }
    if student.name.len() > limits::MAX_NAME_LEN {
        return Err(QuantizeError::NameTooLong {
            len: student.name.len(),
            max: limits::MAX_NAME_LEN,
            name,
        });
    }
    if !student.name.bytes().all(limits::is_name_byte) {
        return Err(QuantizeError::NameNotPrintable { name });
    }
    let [h, w, c] = student.input_shape;
    if !student.normalization().fits(h * w * c, c) {
        return Err(QuantizeError::InvalidNormalization {
            pairs: student.norm_mean.len(),
            stds: student.norm_std.len(),
            shape: student.input_shape,
        });
    }
    if !(student.temperature.is_finite() && student.temperature > 0.0) {
        return Err(QuantizeError::InvalidTemperature(student.temperature));
    }
    Ok(())
}

/// One layer receiving inputs of shape `cur`: its arrays fit its shapes and are finite.
fn check_layer(i: usize, layer: &FloatLayer, cur: [usize; 3]) -> Result<(), QuantizeError> {
    let kind = layer_kind(layer);
    let bad = |reason: String| QuantizeError::InvalidLayer {
        layer: i,
        kind,
        reason,
    };
    let [h, w, c] = cur;
    // A window and a stride per axis (convolutions use one stride for both).
    let window = |k: [usize; 2], stride: [usize; 2], padding: usize| -> Result<(), QuantizeError> {
        if stride.contains(&0) || k.contains(&0) {
            return Err(bad(format!(
                "kernel {k:?} and stride {stride:?} must be positive"
            )));
        }
        if window_out(h, k[0], stride[0], padding).is_none()
            || window_out(w, k[1], stride[1], padding).is_none()
        {
            return Err(bad(format!(
                "kernel {k:?} with padding {padding} does not fit the {h}x{w} input"
            )));
        }
        Ok(())
    };
    // The input a layer needs, and the arrays its shape asks for, all finite.
    let input = |ok: bool, what: String| if ok { Ok(()) } else { Err(bad(what)) };
    let arrays = |weight: &[f32], bias: &[f32], want: [usize; 2], what: String| {
        if weight.len() != want[0] || bias.len() != want[1] {
            return Err(bad(format!(
                "{} weights and {} biases for {what}",
                weight.len(),
                bias.len()
            )));
        }
        finite(i, kind, "weight", weight)?;
        finite(i, kind, "bias", bias)
    };
    match layer {
        FloatLayer::Dense {
            in_features,
            out_features,
            weight,
            bias,
            ..
        } => {
            input(
                *in_features == h * w * c,
                format!(
                    "in_features = {in_features} but its input {cur:?} has {} values",
                    h * w * c
                ),
            )?;
            arrays(
                weight,
                bias,
                [in_features * out_features, *out_features],
                format!("{in_features} -> {out_features}"),
            )?;
        }
        FloatLayer::Conv2d {
            in_channels,
            out_channels,
            kernel,
            stride,
            padding,
            weight,
            bias,
            ..
        } => {
            input(
                *in_channels == c,
                format!("in_channels = {in_channels} but its input {cur:?} has {c} channels"),
            )?;
            window(*kernel, [*stride; 2], *padding)?;
            arrays(
                weight,
                bias,
                [
                    out_channels * kernel[0] * kernel[1] * in_channels,
                    *out_channels,
                ],
                format!("{out_channels} x {kernel:?} x {in_channels}"),
            )?;
        }
        FloatLayer::DepthwiseConv2d {
            channels,
            kernel,
            stride,
            padding,
            weight,
            bias,
            ..
        } => {
            input(
                *channels == c,
                format!("channels = {channels} but its input {cur:?} has {c} channels"),
            )?;
            window(*kernel, [*stride; 2], *padding)?;
            arrays(
                weight,
                bias,
                [kernel[0] * kernel[1] * channels, *channels],
                format!("{kernel:?} x {channels}"),
            )?;
        }
        FloatLayer::MaxPool2d { kernel, stride } | FloatLayer::AvgPool2d { kernel, stride } => {
            window([kernel.h, kernel.w], [stride.h, stride.w], 0)?;
        }
        FloatLayer::Flatten => {}
    }
    Ok(())
}

/// The int8 clamp of a fused activation at output quantization `out`.
fn act_clamp(act: Act, out: Activation) -> (i8, i8) {
    match act {
        Act::None => (i8::MIN, i8::MAX),
        Act::Relu => (out.zero_point, i8::MAX),
        Act::Relu6 => (
            out.zero_point,
            quantize_value(6.0, out.scale, out.zero_point),
        ),
    }
}

/// Quantizes the weights of one layer with weights. `weight_of(c)` lists the weights of output
/// channel `c` in blob order, `blob_index(c, k)` is where the `k`-th of them goes.
struct ChannelWeights<'w> {
    channels: usize,
    per_channel: usize,
    /// Index into the float weight array of output channel `c`'s `k`-th weight.
    index: &'w dyn Fn(usize, usize) -> usize,
}

fn quantize_params(
    layer: usize,
    cw: ChannelWeights<'_>,
    weight: &[f32],
    bias: &[f32],
    input: Activation,
    output: Activation,
    act: Act,
) -> Result<QuantizedParams, QuantizeError> {
    let ChannelWeights {
        channels,
        per_channel,
        index,
    } = cw;
    let s_in = f64::from(input.scale);
    let mut weights = vec![0_i8; channels * per_channel];
    let mut weight_scales = Vec::with_capacity(channels);
    let mut biases = Vec::with_capacity(channels);
    let mut multipliers = Vec::with_capacity(channels);
    let mut shifts = Vec::with_capacity(channels);
    for c in 0..channels {
        let max_abs = (0..per_channel)
            .map(|k| weight[index(c, k)].abs())
            .fold(0.0_f32, f32::max);
        let b = bias[c];
        // The weight scale; raised if needed so that the bias fits comfortably in int32
        // (|b / (s_in * s_w)| <= 2^30), and 1 for an all-zero channel.
        let mut s_w = f64::from(max_abs) / 127.0;
        let bias_floor = f64::from(b.abs()) / (s_in * f64::from(1_u32 << 30));
        if bias_floor > s_w {
            s_w = bias_floor;
        }
        if s_w == 0.0 {
            s_w = 1.0;
        }
        let s_w32 = s_w as f32;
        let s_w = f64::from(s_w32);
        let mut sum_w: i64 = 0;
        for k in 0..per_channel {
            let q = (f64::from(weight[index(c, k)]) / s_w)
                .round()
                .clamp(-127.0, 127.0) as i8;
            weights[c * per_channel + k] = q;
            sum_w += i64::from(q);
        }
        let b_q =
            (f64::from(b) / (s_in * s_w)).round() as i64 - i64::from(input.zero_point) * sum_w;
        let b_q =
            i32::try_from(b_q).map_err(|_| QuantizeError::BiasOverflow { layer, channel: c })?;
        let m = s_in * s_w / f64::from(output.scale);
        let (mult, shift) = quantize_multiplier(m).map_err(|_| QuantizeError::Multiplier {
            layer,
            channel: c,
            value: m,
        })?;
        weight_scales.push(s_w32);
        biases.push(b_q);
        multipliers.push(mult);
        shifts.push(shift);
    }
    let (act_min, act_max) = act_clamp(act, output);
    Ok(QuantizedParams {
        weights,
        weight_scales,
        bias: biases,
        multiplier: multipliers,
        shift: shifts,
        output,
        act_min,
        act_max,
    })
}

fn to_u16(layer: usize, kind: &'static str, what: &str, v: usize) -> Result<u16, QuantizeError> {
    u16::try_from(v).map_err(|_| QuantizeError::InvalidLayer {
        layer,
        kind,
        reason: format!("{what} = {v} is too large for the blob format"),
    })
}

fn to_u8(layer: usize, kind: &'static str, what: &str, v: usize) -> Result<u8, QuantizeError> {
    u8::try_from(v).map_err(|_| QuantizeError::InvalidLayer {
        layer,
        kind,
        reason: format!("{what} = {v} is too large for the blob format"),
    })
}

/// Quantizes `student` to int8, calibrating activations on (the first
/// `opts.max_calibration_samples` samples of) `calibration`, whose features are raw
/// (normalised here with the student's stored normalisation).
pub fn quantize_student(
    student: &FloatStudent,
    calibration: &Dataset,
    opts: &QuantizeOptions,
) -> Result<QuantizedStudent, QuantizeError> {
    opts.check()?;
    check_student(student, calibration.shape, calibration.classes)?;
    let (raw_ranges, samples) = calibrate(student, calibration, opts)?;
    let grids = activation_grids(student, &raw_ranges);
    let ranges = raw_ranges
        .iter()
        .zip(&grids)
        .map(|(&(min, max), &activation)| CalibratedRange {
            min,
            max,
            activation,
        })
        .collect();
    let layers = student
        .layers
        .iter()
        .enumerate()
        .map(|(i, layer)| quantize_layer(i, layer, grids[i], grids[i + 1]))
        .collect::<Result<Vec<_>, _>>()?;
    let [h, w, c] = student.input_shape;
    let kind = "input";
    Ok(QuantizedStudent {
        student: OwnedStudent {
            name: student.name.clone(),
            input_shape: Shape::new(
                to_u16(0, kind, "height", h)?,
                to_u16(0, kind, "width", w)?,
                to_u16(0, kind, "channels", c)?,
            ),
            classes: to_u16(0, kind, "classes", student.classes)?,
            input: grids[0],
            normalization: pack_normalization(&student.normalization().pair_list()),
            temperature: student.temperature,
            layers,
        },
        ranges,
        calibration_samples: samples,
    })
}

/// Layer `i`, whose input is on the grid `act_in` and whose output goes to `out_act`.
fn quantize_layer(
    i: usize,
    layer: &FloatLayer,
    act_in: Activation,
    out_act: Activation,
) -> Result<QuantizedLayer, QuantizeError> {
    let kind = layer_kind(layer);
    Ok(match layer {
        FloatLayer::Dense {
            in_features,
            out_features,
            weight,
            bias,
            act,
        } => {
            let n = *in_features;
            let params = quantize_params(
                i,
                ChannelWeights {
                    channels: *out_features,
                    per_channel: n,
                    index: &|c, k| c * n + k,
                },
                weight,
                bias,
                act_in,
                out_act,
                *act,
            )?;
            QuantizedLayer::Dense {
                out_features: to_u16(i, kind, "out_features", *out_features)?,
                params,
            }
        }
        FloatLayer::Conv2d {
            in_channels,
            out_channels,
            kernel,
            stride,
            padding,
            weight,
            bias,
            act,
        } => {
            let per = kernel[0] * kernel[1] * in_channels;
            let params = quantize_params(
                i,
                ChannelWeights {
                    channels: *out_channels,
                    per_channel: per,
                    index: &|c, k| c * per + k,
                },
                weight,
                bias,
                act_in,
                out_act,
                *act,
            )?;
            QuantizedLayer::Conv2d {
                out_channels: to_u16(i, kind, "out_channels", *out_channels)?,
                kernel_h: to_u8(i, kind, "kernel height", kernel[0])?,
                kernel_w: to_u8(i, kind, "kernel width", kernel[1])?,
                stride: to_u8(i, kind, "stride", *stride)?,
                padding: to_u8(i, kind, "padding", *padding)?,
                params,
            }
        }
        FloatLayer::DepthwiseConv2d {
            channels,
            kernel,
            stride,
            padding,
            weight,
            bias,
            act,
        } => {
            let ch = *channels;
            let quantized = quantize_params(
                i,
                ChannelWeights {
                    channels: ch,
                    per_channel: kernel[0] * kernel[1],
                    // Blob and float layouts are both [kh][kw][c]: channel c's k-th tap is
                    // at k * channels + c.
                    index: &|c, k| k * ch + c,
                },
                weight,
                bias,
                act_in,
                out_act,
                *act,
            )?;
            // Back to the [kh][kw][c] layout of the blob.
            let per = kernel[0] * kernel[1];
            let mut weights = vec![0_i8; per * ch];
            for c in 0..ch {
                for k in 0..per {
                    weights[k * ch + c] = quantized.weights[c * per + k];
                }
            }
            QuantizedLayer::DepthwiseConv2d {
                kernel_h: to_u8(i, kind, "kernel height", kernel[0])?,
                kernel_w: to_u8(i, kind, "kernel width", kernel[1])?,
                stride: to_u8(i, kind, "stride", *stride)?,
                padding: to_u8(i, kind, "padding", *padding)?,
                params: QuantizedParams {
                    weights,
                    ..quantized
                },
            }
        }
        FloatLayer::MaxPool2d { kernel, stride } | FloatLayer::AvgPool2d { kernel, stride } => {
            let is_max = matches!(layer, FloatLayer::MaxPool2d { .. });
            let rect = Pool2dRect {
                kernel_h: to_u8(i, kind, "kernel height", kernel.h)?,
                kernel_w: to_u8(i, kind, "kernel width", kernel.w)?,
                stride_h: to_u8(i, kind, "stride height", stride.h)?,
                stride_w: to_u8(i, kind, "stride width", stride.w)?,
            };
            // A square window keeps format 1's layer, so such students keep their bytes.
            let square = (rect.kernel_h == rect.kernel_w && rect.stride_h == rect.stride_w)
                .then_some(Pool2d {
                    kernel: rect.kernel_h,
                    stride: rect.stride_h,
                });
            match (is_max, square) {
                (true, Some(p)) => QuantizedLayer::MaxPool2d(p),
                (false, Some(p)) => QuantizedLayer::AvgPool2d(p),
                (true, None) => QuantizedLayer::MaxPool2dRect(rect),
                (false, None) => QuantizedLayer::AvgPool2dRect(rect),
            }
        }
        FloatLayer::Flatten => QuantizedLayer::Flatten,
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::data::Dataset;
    use crate::int8::calibrate::{Calibration, activation_for_range};
    use crate::net::params::uniform_vec;
    use crate::net::window::Hw;
    use crate::rng::Rng;
    use minnow_core::quant::dequantize;

    /// Deterministic test weights: the trainer's own generator, uniform in `[-scale, scale)`.
    pub(crate) fn random_vec(rng: &mut Rng, n: usize, scale: f32) -> Vec<f32> {
        uniform_vec(rng, n, scale)
    }

    /// A random dense-only student `sizes[0] -> sizes[1] -> ...` with ReLU between layers.
    pub(crate) fn random_mlp(sizes: &[usize], seed: u64) -> FloatStudent {
        let mut rng = Rng::new(seed);
        let mut layers = Vec::new();
        for (i, pair) in sizes.windows(2).enumerate() {
            let (n, m) = (pair[0], pair[1]);
            let act = if i + 2 < sizes.len() {
                Act::Relu
            } else {
                Act::None
            };
            layers.push(FloatLayer::Dense {
                in_features: n,
                out_features: m,
                weight: random_vec(&mut rng, n * m, 1.0 / (n as f32).sqrt()),
                bias: random_vec(&mut rng, m, 0.1),
                act,
            });
        }
        FloatStudent {
            name: "random-mlp".into(),
            input_shape: [1, 1, sizes[0]],
            classes: sizes[sizes.len() - 1],
            norm_mean: vec![0.0],
            norm_std: vec![1.0],
            temperature: 1.0,
            class_names: Vec::new(),
            layers,
        }
    }

    /// A random dataset of `n` samples of `shape`, features in `[-2, 2)`.
    pub(crate) fn random_data(n: usize, shape: [usize; 3], classes: usize, seed: u64) -> Dataset {
        let mut rng = Rng::new(seed);
        let dim: usize = shape.iter().product();
        let labels = (0..n)
            .map(|_| (rng.next_u64() % classes as u64) as u8)
            .collect();
        match Dataset::new(
            "random",
            random_vec(&mut rng, n * dim, 2.0),
            Some(labels),
            shape,
            classes,
        ) {
            Ok(d) => d,
            Err(e) => panic!("test data: {e}"),
        }
    }

    fn small_cnn() -> FloatStudent {
        let mut rng = Rng::new(7);
        FloatStudent {
            name: "cnn".into(),
            input_shape: [6, 6, 2],
            classes: 3,
            norm_mean: vec![0.5],
            norm_std: vec![2.0],
            temperature: 4.0,
            class_names: Vec::new(),
            layers: vec![
                FloatLayer::Conv2d {
                    in_channels: 2,
                    out_channels: 4,
                    kernel: [3, 3],
                    stride: 1,
                    padding: 1,
                    weight: random_vec(&mut rng, 4 * 9 * 2, 0.4),
                    bias: random_vec(&mut rng, 4, 0.1),
                    act: Act::Relu,
                },
                FloatLayer::DepthwiseConv2d {
                    channels: 4,
                    kernel: [3, 3],
                    stride: 1,
                    padding: 1,
                    weight: random_vec(&mut rng, 9 * 4, 0.4),
                    bias: random_vec(&mut rng, 4, 0.1),
                    act: Act::Relu6,
                },
                FloatLayer::MaxPool2d {
                    kernel: Hw::square(2),
                    stride: Hw::square(2),
                },
                FloatLayer::AvgPool2d {
                    kernel: Hw::square(3),
                    stride: Hw::square(3),
                },
                FloatLayer::Flatten,
                FloatLayer::Dense {
                    in_features: 4,
                    out_features: 3,
                    weight: random_vec(&mut rng, 12, 0.5),
                    bias: random_vec(&mut rng, 3, 0.1),
                    act: Act::None,
                },
            ],
        }
    }

    pub(crate) fn run_int8(blob: &[u8], raw: &[f32]) -> Vec<f32> {
        let s = Student::decode(blob).expect("decodes");
        let mut x = vec![0_i8; s.input_len()];
        s.quantize_input(raw, &mut x).expect("input");
        let mut scratch = vec![0_i8; s.scratch_len()];
        let mut logits = vec![0_i8; s.classes()];
        s.run(&x, &mut scratch, &mut logits).expect("runs");
        let out = s.output_activation();
        logits
            .iter()
            .map(|&q| dequantize(q, out.scale, out.zero_point))
            .collect()
    }

    #[test]
    fn quantize_activation_ranges_include_zero() {
        let a = activation_for_range(0.5, 2.0);
        assert_eq!(a.zero_point, -128);
        assert_eq!(quantize_value(0.0, a.scale, a.zero_point), -128);
        let a = activation_for_range(-3.0, -1.0);
        assert_eq!(a.zero_point, 127);
        let a = activation_for_range(-1.0, 1.0);
        assert!((a.scale - 2.0 / 255.0).abs() < 1e-7);
        assert_eq!(dequantize(a.zero_point, a.scale, a.zero_point), 0.0);
        let a = activation_for_range(0.0, 0.0);
        assert!(a.scale > 0.0 && a.scale.is_finite());
    }

    #[test]
    fn quantize_weights_are_symmetric_per_channel() {
        let student = random_mlp(&[16, 8, 4], 1);
        let data = random_data(32, [1, 1, 16], 4, 2);
        let q = quantize_student(&student, &data, &QuantizeOptions::default()).expect("quantizes");
        let FloatLayer::Dense { weight, .. } = &student.layers[0] else {
            panic!("dense")
        };
        let p = q.student.layers[0].params().expect("params");
        for c in 0..8 {
            let row = &weight[c * 16..(c + 1) * 16];
            let max = row.iter().fold(0.0_f32, |m, w| m.max(w.abs()));
            assert!((p.weight_scales[c] - max / 127.0).abs() <= 1e-6 * max);
            let qrow = &p.weights[c * 16..(c + 1) * 16];
            assert_eq!(qrow.iter().map(|v| v.abs()).max(), Some(127));
            for (w, &qw) in row.iter().zip(qrow) {
                assert!(
                    (w - f32::from(qw) * p.weight_scales[c]).abs()
                        <= p.weight_scales[c] / 2.0 + 1e-7
                );
            }
        }
        // ReLU hidden layer: clamp starts at the zero point, which is -128 (range [0, max]).
        assert_eq!((p.act_min, p.act_max), (p.output.zero_point, 127));
        assert_eq!(p.output.zero_point, -128);
        let last = q.student.layers[1].params().expect("params");
        assert_eq!((last.act_min, last.act_max), (-128, 127));
        q.encode().expect("valid blob");
    }

    #[test]
    fn quantize_cnn_matches_float_closely() {
        let student = small_cnn();
        let data = random_data(64, [6, 6, 2], 3, 3);
        let q = quantize_student(&student, &data, &QuantizeOptions::default()).expect("quantizes");
        // Pooling and flatten keep their input's quantization.
        assert_eq!(q.ranges[3].activation, q.ranges[2].activation);
        assert_eq!(q.ranges[5].activation, q.ranges[2].activation);
        let blob = q.encode().expect("encodes");
        let out_scale = q.ranges[6].activation.scale;
        for s in 0..data.len() {
            let raw = data.sample(s);
            let x: Vec<f32> = raw.iter().map(|v| (v - 0.5) / 2.0).collect();
            let want = student.forward(&x);
            let got = run_int8(&blob, raw);
            for (a, b) in want.iter().zip(&got) {
                assert!(
                    (a - b).abs() < 6.0 * out_scale,
                    "sample {s}: {want:?} vs {got:?}"
                );
            }
        }
    }

    #[test]
    fn quantize_relu6_clamps_at_six() {
        let mut student = random_mlp(&[4, 3], 5);
        if let FloatLayer::Dense {
            weight, bias, act, ..
        } = &mut student.layers[0]
        {
            *weight = vec![10.0; 12];
            *bias = vec![0.0; 3];
            *act = Act::Relu6;
        }
        student.layers.push(FloatLayer::Dense {
            in_features: 3,
            out_features: 3,
            weight: vec![1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0],
            bias: vec![0.0; 3],
            act: Act::None,
        });
        let data = random_data(16, [1, 1, 4], 3, 9);
        let q = quantize_student(&student, &data, &QuantizeOptions::default()).expect("quantizes");
        let p = q.student.layers[0].params().expect("params");
        assert_eq!(p.act_min, p.output.zero_point);
        assert_eq!(
            p.act_max,
            quantize_value(6.0, p.output.scale, p.output.zero_point)
        );
        assert!(q.ranges[1].max <= 6.0);
    }

    #[test]
    fn quantize_percentile_narrows_outlier_ranges() {
        let student = random_mlp(&[8, 4], 11);
        let mut data = random_data(500, [1, 1, 8], 4, 12);
        data.features[3] = 1000.0; // one outlier
        let mm = quantize_student(&student, &data, &QuantizeOptions::default()).expect("minmax");
        let pc = quantize_student(
            &student,
            &data,
            &QuantizeOptions {
                calibration: Calibration::Percentile(99.9),
                ..QuantizeOptions::default()
            },
        )
        .expect("percentile");
        assert_eq!(mm.ranges[0].max, 1000.0);
        assert!(pc.ranges[0].max < 3.0, "{:?}", pc.ranges[0]);
        assert!(pc.student.input.scale < mm.student.input.scale / 100.0);
        for bad in [50.0, 0.0, 100.5, f64::NAN] {
            let opts = QuantizeOptions {
                calibration: Calibration::Percentile(bad),
                ..QuantizeOptions::default()
            };
            assert!(matches!(
                quantize_student(&student, &data, &opts),
                Err(QuantizeError::Calibration(
                    CalibrationError::InvalidPercentile(_)
                ))
            ));
        }
    }

    #[test]
    fn quantize_rejects_bad_inputs() {
        let student = random_mlp(&[16, 8, 4], 1);
        let data = random_data(8, [1, 1, 16], 4, 2);
        let opts = QuantizeOptions::default();

        let empty = data.subset(&[]);
        let e = quantize_student(&student, &empty, &opts).expect_err("empty");
        assert!(
            matches!(e, QuantizeError::Calibration(CalibrationError::Empty)),
            "{e}"
        );
        assert!(e.to_string().contains("empty"));

        let wrong_shape = random_data(8, [4, 4, 2], 4, 2);
        let e = quantize_student(&student, &wrong_shape, &opts).expect_err("shape");
        assert!(matches!(e, QuantizeError::InputShapeMismatch { .. }), "{e}");
        assert!(e.to_string().contains("[4, 4, 2]"), "{e}");

        let wrong_classes = random_data(8, [1, 1, 16], 5, 2);
        let e = quantize_student(&student, &wrong_classes, &opts).expect_err("classes");
        assert!(matches!(e, QuantizeError::ClassCountMismatch { .. }), "{e}");

        let mut nan = student.clone();
        if let FloatLayer::Dense { weight, .. } = &mut nan.layers[1] {
            weight[5] = f32::NAN;
        }
        let e = quantize_student(&nan, &data, &opts).expect_err("nan");
        assert!(
            matches!(
                e,
                QuantizeError::NonFiniteWeight {
                    layer: 1,
                    index: 5,
                    ..
                }
            ),
            "{e}"
        );

        let mut broken = student.clone();
        if let FloatLayer::Dense { in_features, .. } = &mut broken.layers[1] {
            *in_features = 7;
        }
        let e = quantize_student(&broken, &data, &opts).expect_err("chain");
        assert!(
            matches!(e, QuantizeError::InvalidLayer { layer: 1, .. }),
            "{e}"
        );

        let mut bad_norm = student.clone();
        bad_norm.norm_std = vec![0.0];
        let e = quantize_student(&bad_norm, &data, &opts).expect_err("norm");
        assert!(
            matches!(e, QuantizeError::InvalidNormalization { .. }),
            "{e}"
        );

        let mut accented = student.clone();
        accented.name = "modèle".into();
        let e = quantize_student(&accented, &data, &opts).expect_err("name");
        assert!(matches!(e, QuantizeError::NameNotPrintable { .. }), "{e}");
        assert!(e.to_string().contains("modèle"), "{e}");

        let mut no_layers = student;
        no_layers.layers.clear();
        assert!(quantize_student(&no_layers, &data, &opts).is_err());
    }

    #[test]
    fn quantize_zero_channel_and_large_bias_are_representable() {
        let mut student = random_mlp(&[4, 3], 5);
        if let FloatLayer::Dense { weight, bias, .. } = &mut student.layers[0] {
            weight[..4].fill(0.0); // channel 0: all-zero weights
            weight[4..8].fill(1e-12); // channel 1: tiny weights, large bias
            bias[1] = 1.0;
        }
        let data = random_data(16, [1, 1, 4], 3, 9);
        let q = quantize_student(&student, &data, &QuantizeOptions::default()).expect("quantizes");
        let blob = q.encode().expect("valid");
        let x: Vec<f32> = data.sample(0).to_vec();
        let want = student.forward(&x);
        let got = run_int8(&blob, &x);
        let out_scale = q.ranges[1].activation.scale;
        for (a, b) in want.iter().zip(&got) {
            assert!((a - b).abs() <= 2.0 * out_scale, "{want:?} vs {got:?}");
        }
    }

    mod property {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(64))]
            /// A quantized dense layer matches the float layer within the quantization error:
            /// input rounding (s_in/2 per input, times sum|w|), weight rounding (s_w/2 per weight,
            /// times sum|x|), output rounding (s_out/2) and requantization (≈ one output step).
            #[test]
            fn quantize_dense_matches_float_within_error(
                n in 1_usize..40,
                m in 1_usize..12,
                seed in any::<u64>(),
                relu in any::<bool>(),
                wscale in 0.01_f32..4.0,
            ) {
                let mut rng = crate::rng::Rng::new(seed);
                let weight = random_vec(&mut rng, n * m, wscale);
                let bias = random_vec(&mut rng, m, wscale);
                let act = if relu { Act::Relu } else { Act::None };
                let student = FloatStudent {
                    name: "prop".into(),
                    input_shape: [1, 1, n],
                    classes: m,
                    norm_mean: vec![0.0],
                    norm_std: vec![1.0],
                    temperature: 1.0,
                    class_names: Vec::new(),
                    layers: vec![FloatLayer::Dense { in_features: n, out_features: m, weight: weight.clone(), bias, act }],
                };
                let data = random_data(20, [1, 1, n], m, seed ^ 0x55);
                let q = quantize_student(&student, &data, &QuantizeOptions::default()).expect("quantizes");
                let blob = q.encode().expect("encodes");
                let s_in = q.student.input.scale;
                let p = q.student.layers[0].params().expect("params");
                let s_out = p.output.scale;
                for s in 0..data.len() {
                    let x = data.sample(s);
                    let want = student.forward(x);
                    let got = run_int8(&blob, x);
                    for o in 0..m {
                        let row = &weight[o * n..(o + 1) * n];
                        let sum_w: f32 = row.iter().map(|w| w.abs()).sum();
                        let sum_x: f32 = x.iter().map(|v| v.abs() + s_in).sum();
                        let bound = s_in / 2.0 * sum_w + p.weight_scales[o] / 2.0 * sum_x
                            + 1.5 * s_out + 1e-5;
                        prop_assert!((want[o] - got[o]).abs() <= bound,
                            "sample {} out {}: float {} int8 {} bound {}", s, o, want[o], got[o], bound);
                    }
                }
            }
        }
    }
}
