//! A trained student's float weights in minnow's layouts, independent of burn.
//!
//! This is the hand-over point between training (burn, NCHW) and quantization/export
//! (minnow-core, NHWC): the training code converts its modules into a [`FloatStudent`], and
//! everything downstream (calibration, quantization, per-layer error tables) works from it.
//! [`FloatStudent::forward`] is a plain f32 implementation of the same network, so a test can
//! check that the conversion (weight permutations included) preserved the function.

use serde::{Deserialize, Serialize};

use crate::data::Standardizer;
use crate::net::window::Hw;

/// Fused activation after a layer with weights.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Act {
    #[default]
    None,
    Relu,
    Relu6,
}

impl Act {
    pub fn apply(self, x: f32) -> f32 {
        match self {
            Act::None => x,
            Act::Relu => x.max(0.0),
            Act::Relu6 => x.clamp(0.0, 6.0),
        }
    }
}

/// One layer. Activations are NHWC (height, width, channel) without the batch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum FloatLayer {
    /// `weight` is `[out][in]`, where `in` indexes the input flattened in NHWC order.
    Dense {
        in_features: usize,
        out_features: usize,
        weight: Vec<f32>,
        bias: Vec<f32>,
        act: Act,
    },
    /// `weight` is `[out][kh][kw][in]` (OHWI); symmetric zero padding.
    Conv2d {
        in_channels: usize,
        out_channels: usize,
        kernel: [usize; 2],
        stride: usize,
        padding: usize,
        weight: Vec<f32>,
        bias: Vec<f32>,
        act: Act,
    },
    /// Channel multiplier 1; `weight` is `[kh][kw][c]`.
    DepthwiseConv2d {
        channels: usize,
        kernel: [usize; 2],
        stride: usize,
        padding: usize,
        weight: Vec<f32>,
        bias: Vec<f32>,
        act: Act,
    },
    /// A window and stride per axis (one number each in the file when square).
    MaxPool2d {
        kernel: Hw,
        stride: Hw,
    },
    AvgPool2d {
        kernel: Hw,
        stride: Hw,
    },
    Flatten,
}

/// A float student ready to be quantized.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FloatStudent {
    pub name: String,
    /// `[height, width, channels]` of one (normalised) input.
    pub input_shape: [usize; 3],
    pub classes: usize,
    /// Input normalisation `x' = (x - mean) / std` computed on the training data: one pair,
    /// one per channel or one per input value ([`FloatStudent::normalization`]). (Files
    /// before per-feature normalisation hold one number each.)
    #[serde(deserialize_with = "crate::data::norm::one_or_many")]
    pub norm_mean: Vec<f32>,
    #[serde(deserialize_with = "crate::data::norm::one_or_many")]
    pub norm_std: Vec<f32>,
    /// Distillation temperature used in training (1 for hard-label training).
    pub temperature: f32,
    pub layers: Vec<FloatLayer>,
    /// The name of each class, when the training data named them (string labels of a CSV):
    /// output `i` is `class_names[i]`. Kept here so that an export on other data can check
    /// that its labels mean the same classes.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub class_names: Vec<String>,
}

/// minnow-core's output size of a window, 0 where the window does not fit (a student the
/// quantizer's check refuses before it runs one).
fn window_out(input: usize, kernel: usize, stride: usize, padding: usize) -> usize {
    minnow_core::layer::window_out(input, kernel, stride, padding).unwrap_or(0)
}

/// An NHWC output of `shape`, each value `value(y, x, channel)`, computed in memory order.
fn each_output(shape: [usize; 3], mut value: impl FnMut(usize, usize, usize) -> f32) -> Vec<f32> {
    let [h, w, c] = shape;
    let mut out = Vec::with_capacity(h * w * c);
    for y in 0..h {
        for x in 0..w {
            for ch in 0..c {
                out.push(value(y, x, ch));
            }
        }
    }
    out
}

/// A convolution window sliding over an `[h, w]` input with zero padding.
struct Window {
    kernel: [usize; 2],
    stride: usize,
    padding: usize,
    input: [usize; 2],
}

impl Window {
    fn new(kernel: [usize; 2], stride: usize, padding: usize, input: [usize; 2]) -> Self {
        Window {
            kernel,
            stride,
            padding,
            input,
        }
    }

    /// The taps of output pixel `(oy, ox)` that fall inside the input, row by row: the tap's
    /// index `ky * kw + kx` and the input pixel `iy * w + ix` it reads (padding reads zeros, so
    /// its taps are left out).
    fn taps(&self, oy: usize, ox: usize) -> impl Iterator<Item = (usize, usize)> + '_ {
        let ([kh, kw], [h, w]) = (self.kernel, self.input);
        (0..kh).flat_map(move |ky| {
            (0..kw).filter_map(move |kx| {
                let iy = (oy * self.stride + ky).checked_sub(self.padding)?;
                let ix = (ox * self.stride + kx).checked_sub(self.padding)?;
                (iy < h && ix < w).then_some((ky * kw + kx, iy * w + ix))
            })
        })
    }
}

impl FloatLayer {
    /// Output shape for an input shape `[h, w, c]`.
    pub fn output_shape(&self, [h, w, c]: [usize; 3]) -> [usize; 3] {
        match self {
            FloatLayer::Dense { out_features, .. } => [1, 1, *out_features],
            FloatLayer::Conv2d {
                out_channels,
                kernel,
                stride,
                padding,
                ..
            } => [
                window_out(h, kernel[0], *stride, *padding),
                window_out(w, kernel[1], *stride, *padding),
                *out_channels,
            ],
            FloatLayer::DepthwiseConv2d {
                kernel,
                stride,
                padding,
                ..
            } => [
                window_out(h, kernel[0], *stride, *padding),
                window_out(w, kernel[1], *stride, *padding),
                c,
            ],
            FloatLayer::MaxPool2d { kernel, stride } | FloatLayer::AvgPool2d { kernel, stride } => {
                [
                    window_out(h, kernel.h, stride.h, 0),
                    window_out(w, kernel.w, stride.w, 0),
                    c,
                ]
            }
            FloatLayer::Flatten => [1, 1, h * w * c],
        }
    }

    /// Runs the layer on one NHWC input of shape `shape`. Assumes consistent shapes (the training
    /// code builds them); out-of-range reads count as zero rather than panicking.
    pub fn forward(&self, shape: [usize; 3], x: &[f32]) -> Vec<f32> {
        let [ih, iw, ic] = shape;
        let [oh, ow, oc] = self.output_shape(shape);
        let at = |v: &[f32], i: usize| v.get(i).copied().unwrap_or(0.0);
        match self {
            FloatLayer::Dense {
                in_features,
                out_features,
                weight,
                bias,
                act,
            } => (0..*out_features)
                .map(|o| {
                    let row = weight
                        .get(o * in_features..(o + 1) * in_features)
                        .unwrap_or(&[]);
                    act.apply(at(bias, o) + row.iter().zip(x).map(|(w, v)| w * v).sum::<f32>())
                })
                .collect(),
            FloatLayer::Conv2d {
                kernel: [kh, kw],
                stride,
                padding,
                weight,
                bias,
                act,
                ..
            } => {
                let window = Window::new([*kh, *kw], *stride, *padding, [ih, iw]);
                each_output([oh, ow, oc], |oy, ox, c| {
                    let mut acc = at(bias, c);
                    for (tap, pixel) in window.taps(oy, ox) {
                        for ci in 0..ic {
                            acc +=
                                at(x, pixel * ic + ci) * at(weight, (c * kh * kw + tap) * ic + ci);
                        }
                    }
                    act.apply(acc)
                })
            }
            FloatLayer::DepthwiseConv2d {
                kernel: [kh, kw],
                stride,
                padding,
                weight,
                bias,
                act,
                ..
            } => {
                let window = Window::new([*kh, *kw], *stride, *padding, [ih, iw]);
                each_output([oh, ow, oc], |oy, ox, c| {
                    let mut acc = at(bias, c);
                    for (tap, pixel) in window.taps(oy, ox) {
                        acc += at(x, pixel * ic + c) * at(weight, tap * oc + c);
                    }
                    act.apply(acc)
                })
            }
            FloatLayer::MaxPool2d { kernel, stride } | FloatLayer::AvgPool2d { kernel, stride } => {
                let is_max = matches!(self, FloatLayer::MaxPool2d { .. });
                each_output([oh, ow, oc], |oy, ox, c| {
                    let (k, s) = (*kernel, *stride);
                    let vals = (0..k.h)
                        .flat_map(|ky| (0..k.w).map(move |kx| (ky, kx)))
                        .map(|(ky, kx)| at(x, ((oy * s.h + ky) * iw + ox * s.w + kx) * ic + c));
                    if is_max {
                        vals.fold(f32::NEG_INFINITY, f32::max)
                    } else {
                        vals.sum::<f32>() / k.area() as f32
                    }
                })
            }
            FloatLayer::Flatten => x.to_vec(),
        }
    }
}

impl FloatStudent {
    /// The input normalisation, as the trainer applies it.
    pub fn normalization(&self) -> Standardizer {
        Standardizer {
            mean: self.norm_mean.clone(),
            std: self.norm_std.clone(),
            channels: self.input_shape[2],
        }
    }

    /// Logits for one normalised NHWC input.
    pub fn forward(&self, x: &[f32]) -> Vec<f32> {
        self.forward_trace(x).pop().unwrap_or_default()
    }

    /// The output of every layer for one normalised NHWC input.
    pub fn forward_trace(&self, x: &[f32]) -> Vec<Vec<f32>> {
        let mut shape = self.input_shape;
        let mut cur = x.to_vec();
        let mut trace = Vec::with_capacity(self.layers.len());
        for layer in &self.layers {
            cur = layer.forward(shape, &cur);
            shape = layer.output_shape(shape);
            trace.push(cur.clone());
        }
        trace
    }

    /// Shape of each layer's output.
    pub fn shapes(&self) -> Vec<[usize; 3]> {
        let mut shape = self.input_shape;
        self.layers
            .iter()
            .map(|l| {
                shape = l.output_shape(shape);
                shape
            })
            .collect()
    }

    /// Number of parameters.
    pub fn parameters(&self) -> usize {
        self.layers
            .iter()
            .map(|l| match l {
                FloatLayer::Dense { weight, bias, .. }
                | FloatLayer::Conv2d { weight, bias, .. }
                | FloatLayer::DepthwiseConv2d { weight, bias, .. } => weight.len() + bias.len(),
                _ => 0,
            })
            .sum()
    }
}
