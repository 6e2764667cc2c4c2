//! The layers a student is made of, as they appear in the blob.
//!
//! Parameter arrays are borrowed byte slices (`&'a [u8]`) straight out of the blob, so a decoded
//! student reads its weights from wherever the blob lives (flash, on a device). Multi-byte values
//! are little endian and read one at a time, so no alignment is required of the blob.

use serde::{Deserialize, Serialize};

use crate::wire::Reader;

/// A tensor shape in NHWC order without the batch: `height x width x channels`.
/// A flat vector of `n` features is `1 x 1 x n`... or any shape whose product is `n`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Shape {
    pub height: u16,
    pub width: u16,
    pub channels: u16,
}

impl Shape {
    pub const fn new(height: u16, width: u16, channels: u16) -> Self {
        Shape {
            height,
            width,
            channels,
        }
    }

    /// `1 x 1 x n`: the shape of a feature vector.
    pub const fn flat(n: u16) -> Self {
        Shape {
            height: 1,
            width: 1,
            channels: n,
        }
    }

    /// `(height, width, channels)` as `usize`, for indexing NHWC data.
    #[inline(always)]
    pub fn dims(&self) -> (usize, usize, usize) {
        (
            usize::from(self.height),
            usize::from(self.width),
            usize::from(self.channels),
        )
    }

    /// Number of elements (never overflows: at most 2^48).
    pub fn len(&self) -> usize {
        let (h, w, c) = self.dims();
        h * w * c
    }

    /// True when any dimension is zero.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Per-tensor affine quantization of an activation: `real = (q - zero_point) * scale`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Activation {
    pub scale: f32,
    pub zero_point: i8,
}

/// The parameters of a layer with weights, one entry per output channel except `weights`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Params<'a> {
    /// int8 weights, symmetric per output channel (zero point 0), values in [-127, 127].
    #[serde(borrow)]
    pub weights: &'a [u8],
    /// f32 LE per output channel: the weight scale (kept for dequantizing and reports).
    #[serde(borrow)]
    pub weight_scales: &'a [u8],
    /// i32 LE per output channel, in units of `input_scale * weight_scale`, with the input zero
    /// point folded in: `round(bias / (s_in * s_w)) - zp_in * sum(w)`.
    #[serde(borrow)]
    pub bias: &'a [u8],
    /// i32 LE per output channel: Q31 multiplier of `s_in * s_w / s_out` (see [`crate::quant`]).
    #[serde(borrow)]
    pub multiplier: &'a [u8],
    /// i8 per output channel: the power-of-two shift that goes with `multiplier`.
    #[serde(borrow)]
    pub shift: &'a [u8],
    /// Quantization of this layer's output.
    pub output: Activation,
    /// Fused activation as a clamp on the int8 output: ReLU is `[zp_out, 127]`, ReLU6 is
    /// `[zp_out, quantize(6)]`, none is `[-128, 127]`.
    pub act_min: i8,
    pub act_max: i8,
}

impl Params<'_> {
    /// The int8 weights.
    pub fn weights_i8(&self) -> &[i8] {
        bytemuck::cast_slice(self.weights)
    }

    /// Bias of output channel `c` (0 when out of range; decoders guarantee it is not).
    #[inline(always)]
    pub fn bias_at(&self, c: usize) -> i32 {
        read_i32(self.bias, c)
    }

    /// Q31 multiplier of output channel `c`.
    #[inline(always)]
    pub fn multiplier_at(&self, c: usize) -> i32 {
        read_i32(self.multiplier, c)
    }

    /// Shift of output channel `c`.
    #[inline(always)]
    pub fn shift_at(&self, c: usize) -> i8 {
        self.shift.get(c).map_or(0, |&s| s as i8)
    }

    /// Weight scale of output channel `c`.
    pub fn weight_scale_at(&self, c: usize) -> f32 {
        f32::from_bits(read_i32(self.weight_scales, c) as u32)
    }

    /// Total bytes of all parameter arrays.
    pub fn byte_len(&self) -> usize {
        self.weights.len()
            + self.weight_scales.len()
            + self.bias.len()
            + self.multiplier.len()
            + self.shift.len()
    }
}

/// Views int8 values as bytes (for building [`Params`] from int8 weights): the inverse of
/// [`Params::weights_i8`].
pub fn i8_bytes(v: &[i8]) -> &[u8] {
    bytemuck::cast_slice(v)
}

#[inline(always)]
pub(crate) fn read_i32(bytes: &[u8], index: usize) -> i32 {
    let start = index.saturating_mul(4);
    match bytes.get(start..start.saturating_add(4)) {
        Some(&[a, b, c, d]) => i32::from_le_bytes([a, b, c, d]),
        _ => 0,
    }
}

/// Fully connected: `out[o] = requantize(bias[o] + sum_i in[i] * w[o][i])`.
/// Weights are `[out_features][in_features]`; the input is the previous tensor flattened in
/// NHWC order (height, then width, then channel).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Dense<'a> {
    pub out_features: u16,
    #[serde(borrow)]
    pub params: Params<'a>,
}

/// 2-D convolution over an NHWC tensor with symmetric zero padding (padding reads the input zero
/// point, i.e. a real 0). Weights are `[out_channels][kernel_h][kernel_w][in_channels]` (OHWI).
/// Output size along each axis: [`window_out`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Conv2d<'a> {
    pub out_channels: u16,
    pub kernel_h: u8,
    pub kernel_w: u8,
    pub stride: u8,
    pub padding: u8,
    #[serde(borrow)]
    pub params: Params<'a>,
}

/// Depthwise 2-D convolution, channel multiplier 1. Weights are `[kernel_h][kernel_w][channels]`.
/// Output size along each axis: [`window_out`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct DepthwiseConv2d<'a> {
    pub kernel_h: u8,
    pub kernel_w: u8,
    pub stride: u8,
    pub padding: u8,
    #[serde(borrow)]
    pub params: Params<'a>,
}

/// Square pooling window without padding; output size along each axis: [`window_out`] with
/// padding 0. Pooling keeps the input's quantization.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Pool2d {
    pub kernel: u8,
    pub stride: u8,
}

impl Pool2d {
    /// The same window as a [`Pool2dRect`] (the kernels take that one form).
    pub fn rect(&self) -> Pool2dRect {
        Pool2dRect {
            kernel_h: self.kernel,
            kernel_w: self.kernel,
            stride_h: self.stride,
            stride_w: self.stride,
        }
    }
}

/// A pooling window and stride per axis, without padding: `2 x 1` with stride `2 x 1` halves a
/// sequence laid out as `T x 1 x C` (the square [`Pool2d`] cannot: its window would be 2 wide on
/// a tensor 1 wide). Output size along each axis: [`window_out`] with padding 0. New in format 2.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Pool2dRect {
    pub kernel_h: u8,
    pub kernel_w: u8,
    pub stride_h: u8,
    pub stride_w: u8,
}

/// The output length of a convolution or pooling window along one axis, the format's one rule
/// for it: `(input + 2 * padding - kernel) / stride + 1`, rounding down. `None` when `kernel` or
/// `stride` is 0 or the kernel does not fit the padded input (or `input + 2 * padding`
/// overflows). Public so that code building students sizes layers by the decoder's rule.
pub fn window_out(input: usize, kernel: usize, stride: usize, padding: usize) -> Option<usize> {
    if kernel == 0 || stride == 0 {
        return None;
    }
    let padded = padding.checked_mul(2)?.checked_add(input)?;
    Some(padded.checked_sub(kernel)? / stride + 1)
}

/// [`window_out`] in the widths of the blob's fields; `None` also when the result does not fit
/// a `u16` (the decoder reports either as a shape mismatch).
pub(crate) fn out_dim(input: u16, kernel: u8, stride: u8, padding: u8) -> Option<u16> {
    let out = window_out(
        usize::from(input),
        usize::from(kernel),
        usize::from(stride),
        usize::from(padding),
    )?;
    u16::try_from(out).ok()
}

/// One layer of a student. The order of variants is part of the format (postcard encodes the
/// variant index): append new variants at the end only.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Layer<'a> {
    #[serde(borrow)]
    Dense(Dense<'a>),
    #[serde(borrow)]
    Conv2d(Conv2d<'a>),
    #[serde(borrow)]
    DepthwiseConv2d(DepthwiseConv2d<'a>),
    MaxPool2d(Pool2d),
    AvgPool2d(Pool2d),
    /// Reinterprets the tensor as `1 x 1 x n` (NHWC order makes this free: no data moves).
    Flatten,
    /// Max pooling with a window and stride per axis (format 2).
    MaxPool2dRect(Pool2dRect),
    /// Average pooling with a window and stride per axis (format 2).
    AvgPool2dRect(Pool2dRect),
}

/// Sets of layer kinds as bit masks, for [`crate::Student::decode_ops`] and
/// [`crate::Student::run_ops`]: firmware that names, at compile time, the kinds its student uses
/// links only their kernels and checks (an MLP needs `DENSE`; firmware/build.rs derives the set
/// from the embedded student).
pub mod ops {
    pub const DENSE: u8 = 1 << 0;
    pub const CONV2D: u8 = 1 << 1;
    pub const DEPTHWISE_CONV2D: u8 = 1 << 2;
    /// Max pooling, square ([`super::Layer::MaxPool2d`]) or not ([`super::Layer::MaxPool2dRect`]):
    /// one kernel serves both.
    pub const MAX_POOL2D: u8 = 1 << 3;
    /// Average pooling, square or not.
    pub const AVG_POOL2D: u8 = 1 << 4;
    pub const FLATTEN: u8 = 1 << 5;
    /// Every kind this version knows.
    pub const ALL: u8 = DENSE | CONV2D | DEPTHWISE_CONV2D | MAX_POOL2D | AVG_POOL2D | FLATTEN;
}

impl<'a> Layer<'a> {
    /// This layer's kind as one bit of an [`ops`] set.
    pub fn op(&self) -> u8 {
        match self {
            Layer::Dense(_) => ops::DENSE,
            Layer::Conv2d(_) => ops::CONV2D,
            Layer::DepthwiseConv2d(_) => ops::DEPTHWISE_CONV2D,
            Layer::MaxPool2d(_) | Layer::MaxPool2dRect(_) => ops::MAX_POOL2D,
            Layer::AvgPool2d(_) | Layer::AvgPool2dRect(_) => ops::AVG_POOL2D,
            Layer::Flatten => ops::FLATTEN,
        }
    }

    /// The layer's parameters, if it has any.
    pub fn params(&self) -> Option<&Params<'a>> {
        match self {
            Layer::Dense(d) => Some(&d.params),
            Layer::Conv2d(c) => Some(&c.params),
            Layer::DepthwiseConv2d(c) => Some(&c.params),
            Layer::MaxPool2d(_)
            | Layer::AvgPool2d(_)
            | Layer::MaxPool2dRect(_)
            | Layer::AvgPool2dRect(_)
            | Layer::Flatten => None,
        }
    }

    /// A pooling layer's window as a [`Pool2dRect`] and whether it takes the maximum (else
    /// the mean); `None` for other kinds.
    pub fn pool(&self) -> Option<(Pool2dRect, bool)> {
        match self {
            Layer::MaxPool2d(p) => Some((p.rect(), true)),
            Layer::AvgPool2d(p) => Some((p.rect(), false)),
            Layer::MaxPool2dRect(p) => Some((*p, true)),
            Layer::AvgPool2dRect(p) => Some((*p, false)),
            _ => None,
        }
    }

    /// A short name for reports.
    pub fn kind(&self) -> &'static str {
        match self {
            Layer::Dense(_) => "dense",
            Layer::Conv2d(_) => "conv2d",
            Layer::DepthwiseConv2d(_) => "depthwise_conv2d",
            Layer::MaxPool2d(_) | Layer::MaxPool2dRect(_) => "max_pool2d",
            Layer::AvgPool2d(_) | Layer::AvgPool2dRect(_) => "avg_pool2d",
            Layer::Flatten => "flatten",
        }
    }
}

// Reading the layers out of a blob's postcard body (see `wire.rs` for why by hand): each type's
// fields in declaration order, as serde writes them.

impl Shape {
    pub(crate) fn read(r: &mut Reader<'_>) -> Self {
        Shape::new(r.u16(), r.u16(), r.u16())
    }
}

impl Activation {
    pub(crate) fn read(r: &mut Reader<'_>) -> Self {
        Activation {
            scale: r.f32(),
            zero_point: r.i8(),
        }
    }
}

impl<'a> Params<'a> {
    /// Inlined: a `Params` returned by value is copied into the layer with memcpy on the
    /// device (about 400 instructions per layer and inference on a Cortex-M4 with a shared
    /// copy of this reader, measured with the kernel benchmark; memcpy itself costs 300 bytes
    /// where nothing else links it).
    #[inline(always)]
    fn read(r: &mut Reader<'a>) -> Self {
        Params {
            weights: r.bytes(),
            weight_scales: r.bytes(),
            bias: r.bytes(),
            multiplier: r.bytes(),
            shift: r.bytes(),
            output: Activation::read(r),
            act_min: r.i8(),
            act_max: r.i8(),
        }
    }
}

impl Pool2d {
    fn read(r: &mut Reader<'_>) -> Self {
        Pool2d {
            kernel: r.u8(),
            stride: r.u8(),
        }
    }
}

impl Pool2dRect {
    fn read(r: &mut Reader<'_>) -> Self {
        Pool2dRect {
            kernel_h: r.u8(),
            kernel_w: r.u8(),
            stride_h: r.u8(),
            stride_w: r.u8(),
        }
    }
}

impl<'a> Layer<'a> {
    /// One layer of a kind in `OPS` (an [`ops`] set); `None` for a kind this version knows but
    /// `OPS` leaves out (the caller reports `Error::UnsupportedOp`; the fields of left-out
    /// kinds are not read, so their readers are not linked). The variant indices are those of
    /// [`Layer`]'s declaration order. A failed read leaves `r` failed (see [`Reader::check`]).
    pub(crate) fn read<const OPS: u8>(r: &mut Reader<'a>) -> Option<Self> {
        Some(match r.u32() {
            0 if OPS & ops::DENSE != 0 => Layer::Dense(Dense {
                out_features: r.u16(),
                params: Params::read(r),
            }),
            1 if OPS & ops::CONV2D != 0 => Layer::Conv2d(Conv2d {
                out_channels: r.u16(),
                kernel_h: r.u8(),
                kernel_w: r.u8(),
                stride: r.u8(),
                padding: r.u8(),
                params: Params::read(r),
            }),
            2 if OPS & ops::DEPTHWISE_CONV2D != 0 => Layer::DepthwiseConv2d(DepthwiseConv2d {
                kernel_h: r.u8(),
                kernel_w: r.u8(),
                stride: r.u8(),
                padding: r.u8(),
                params: Params::read(r),
            }),
            3 if OPS & ops::MAX_POOL2D != 0 => Layer::MaxPool2d(Pool2d::read(r)),
            4 if OPS & ops::AVG_POOL2D != 0 => Layer::AvgPool2d(Pool2d::read(r)),
            5 if OPS & ops::FLATTEN != 0 => Layer::Flatten,
            6 if OPS & ops::MAX_POOL2D != 0 => Layer::MaxPool2dRect(Pool2dRect::read(r)),
            7 if OPS & ops::AVG_POOL2D != 0 => Layer::AvgPool2dRect(Pool2dRect::read(r)),
            0..=7 => return None,
            _ => r.fail(Layer::Flatten),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn window_out_rules() {
        assert_eq!(window_out(28, 3, 1, 1), Some(28));
        assert_eq!(window_out(28, 3, 2, 1), Some(14));
        assert_eq!(window_out(28, 2, 2, 0), Some(14));
        assert_eq!(window_out(5, 3, 2, 0), Some(2)); // (5 - 3) / 2 + 1
        assert_eq!(window_out(6, 3, 2, 0), Some(2)); // rounds down
        assert_eq!(window_out(1, 3, 1, 1), Some(1)); // the padding makes it fit
        assert_eq!(window_out(2, 3, 1, 0), None); // does not fit
        assert_eq!(window_out(5, 3, 0, 0), None); // stride 0
        assert_eq!(window_out(5, 0, 1, 0), None); // kernel 0
        assert_eq!(window_out(usize::MAX, 1, 1, 1), None); // padded size overflows
    }

    #[test]
    fn out_dim_is_window_out_in_field_widths() {
        assert_eq!(out_dim(28, 3, 2, 1), Some(14));
        assert_eq!(out_dim(2, 3, 1, 0), None);
        assert_eq!(out_dim(5, 3, 0, 0), None);
        assert_eq!(out_dim(u16::MAX, 1, 1, 0), Some(u16::MAX));
        assert_eq!(out_dim(u16::MAX, 3, 1, 2), None); // 65537 does not fit a u16
    }
}
