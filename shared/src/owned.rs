//! Owned layers (feature `std`): the host's way to *build* a student. [`Params`] and [`Layer`]
//! borrow byte slices (on the device they point into flash); code that makes a student (the
//! trainer's exporter, test and fuzz builders) holds the arrays in an [`OwnedParams`] /
//! [`OwnedLayer`] and lends them out with `borrow()` to encode or run.
//!
//! For test students, [`OwnedParams::quantized`] derives the stored bias and requantization
//! parameters from int8 weights and scales as an exporter does, and [`xorshift_i8s`] gives the
//! same pseudo-random int8 values on every machine.

use std::string::String;
use std::vec::Vec;

use crate::Error;
use crate::layer::{
    Activation, Conv2d, Dense, DepthwiseConv2d, Layer, Params, Pool2d, Pool2dRect, Shape, i8_bytes,
};
use crate::meta::{Meta, Normalization};

use crate::quant::quantize_multiplier;
use crate::student::encode_student_to_vec;

/// Packs i32 values little endian, as [`Params`] stores biases and multipliers.
pub fn pack_i32(v: &[i32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// Packs f32 values little endian, as [`Params`] stores weight scales.
pub fn pack_f32(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// One layer's parameter arrays, packed little endian exactly as [`Params`] borrows them.
#[derive(Debug, Clone, PartialEq)]
pub struct OwnedParams {
    pub weights: Vec<u8>,
    pub weight_scales: Vec<u8>,
    pub bias: Vec<u8>,
    pub multiplier: Vec<u8>,
    pub shift: Vec<u8>,
    pub output: Activation,
    pub act_min: i8,
    pub act_max: i8,
}

impl OwnedParams {
    /// Packs typed arrays: int8 weights, f32 weight scales, i32 biases and multipliers and i8
    /// shifts (one per output channel).
    #[allow(clippy::too_many_arguments)]
    pub fn pack(
        weights: &[i8],
        weight_scales: &[f32],
        bias: &[i32],
        multiplier: &[i32],
        shift: &[i8],
        output: Activation,
        act_min: i8,
        act_max: i8,
    ) -> Self {
        OwnedParams {
            weights: i8_bytes(weights).to_vec(),
            weight_scales: pack_f32(weight_scales),
            bias: pack_i32(bias),
            multiplier: pack_i32(multiplier),
            shift: i8_bytes(shift).to_vec(),
            output,
            act_min,
            act_max,
        }
    }

    /// Quantized parameters derived the way an exporter derives them, for building test
    /// students: `weights` are int8 (laid out as `layout` says), one output channel per entry
    /// of `weight_scales`, `raw_bias` in units of `input.scale * weight_scale` before the input
    /// zero point is folded in. Stored per channel `c`:
    ///
    /// * bias `raw_bias[c] - input.zero_point * sum(weights of c)` (see [`Params::bias`]);
    /// * multiplier and shift of `input.scale * weight_scales[c] / output.scale`
    ///   ([`quantize_multiplier`]).
    ///
    /// Errors: [`Error::LengthMismatch`] (with `layer: u16::MAX`) when `raw_bias` does not have
    /// one entry per channel or `weights` is not a whole number of channels; the error of
    /// [`quantize_multiplier`] for a multiplier it cannot represent; [`Error::Overflow`] for a
    /// folded bias beyond i32. Nothing else is checked here: [`crate::Student::decode`] checks
    /// the rest, and tests corrupt fields on purpose after building.
    #[allow(clippy::too_many_arguments)]
    pub fn quantized(
        weights: &[i8],
        layout: WeightLayout,
        input: Activation,
        weight_scales: &[f32],
        raw_bias: &[i32],
        output: Activation,
        act_min: i8,
        act_max: i8,
    ) -> Result<Self, Error> {
        let channels = weight_scales.len();
        let per_channel = weights.len().checked_div(channels).unwrap_or(0);
        if raw_bias.len() != channels || per_channel * channels != weights.len() {
            return Err(Error::LengthMismatch { layer: u16::MAX });
        }
        let mut bias = Vec::with_capacity(channels);
        let mut multiplier = Vec::with_capacity(channels);
        let mut shift = Vec::with_capacity(channels);
        for (c, (&s_w, &raw)) in weight_scales.iter().zip(raw_bias).enumerate() {
            let sum_w: i64 = layout
                .channel(weights, c, channels, per_channel)
                .map(|&w| i64::from(w))
                .sum();
            let folded = i64::from(raw) - i64::from(input.zero_point) * sum_w;
            bias.push(i32::try_from(folded).map_err(|_| Error::Overflow)?);
            let (m, s) = quantize_multiplier(
                f64::from(input.scale) * f64::from(s_w) / f64::from(output.scale),
            )?;
            multiplier.push(m);
            shift.push(s);
        }
        Ok(OwnedParams::pack(
            weights,
            weight_scales,
            &bias,
            &multiplier,
            &shift,
            output,
            act_min,
            act_max,
        ))
    }

    pub fn borrow(&self) -> Params<'_> {
        Params {
            weights: &self.weights,
            weight_scales: &self.weight_scales,
            bias: &self.bias,
            multiplier: &self.multiplier,
            shift: &self.shift,
            output: self.output,
            act_min: self.act_min,
            act_max: self.act_max,
        }
    }
}

/// Which of a layer's weights belong to output channel `c`, for [`OwnedParams::quantized`]'s
/// per-channel sums.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WeightLayout {
    /// `[channels][per_channel]`: dense (`[out][in]`) and convolution (OHWI) weights.
    ChannelMajor,
    /// `[per_channel][channels]`: depthwise convolution weights (`[kh][kw][c]`).
    ChannelMinor,
}

impl WeightLayout {
    fn channel(
        self,
        weights: &[i8],
        c: usize,
        channels: usize,
        per_channel: usize,
    ) -> impl Iterator<Item = &i8> {
        let (start, step) = match self {
            WeightLayout::ChannelMajor => (c * per_channel, 1),
            WeightLayout::ChannelMinor => (c, channels),
        };
        weights.iter().skip(start).step_by(step).take(per_channel)
    }
}

/// A deterministic pseudo-random sequence of `n` int8 values in `[lo, hi]` (xorshift32 from
/// `seed`): test students and inputs that are the same on every machine and every run. The
/// firmware's QEMU golden vectors (firmware/testgen) are made of it, so it must never change.
pub fn xorshift_i8s(n: usize, seed: u32, lo: i8, hi: i8) -> Vec<i8> {
    let (lo, hi) = (lo.min(hi), lo.max(hi));
    let mut x = seed.wrapping_mul(2_654_435_761).wrapping_add(0x9e37_79b9) | 1;
    let span = (i32::from(hi) - i32::from(lo) + 1) as u32;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            (i32::from(lo) + (x % span) as i32) as i8
        })
        .collect()
}

/// A [`Layer`] that owns its parameters. `P` is how they are held: packed bytes
/// ([`OwnedParams`], the default, which [`OwnedLayer::borrow`] lends to the encoder and the
/// kernels) or any typed form a builder works in (the trainer's quantizer keeps int8/f32/i32
/// arrays and packs them with [`OwnedLayer::map_params`]).
#[derive(Debug, Clone, PartialEq)]
pub enum OwnedLayer<P = OwnedParams> {
    Dense {
        out_features: u16,
        params: P,
    },
    Conv2d {
        out_channels: u16,
        kernel_h: u8,
        kernel_w: u8,
        stride: u8,
        padding: u8,
        params: P,
    },
    DepthwiseConv2d {
        kernel_h: u8,
        kernel_w: u8,
        stride: u8,
        padding: u8,
        params: P,
    },
    MaxPool2d(Pool2d),
    AvgPool2d(Pool2d),
    Flatten,
    MaxPool2dRect(Pool2dRect),
    AvgPool2dRect(Pool2dRect),
}

impl<P> OwnedLayer<P> {
    /// The layer's parameters, if it has any.
    pub fn params(&self) -> Option<&P> {
        match self {
            OwnedLayer::Dense { params, .. }
            | OwnedLayer::Conv2d { params, .. }
            | OwnedLayer::DepthwiseConv2d { params, .. } => Some(params),
            OwnedLayer::MaxPool2d(_)
            | OwnedLayer::AvgPool2d(_)
            | OwnedLayer::MaxPool2dRect(_)
            | OwnedLayer::AvgPool2dRect(_)
            | OwnedLayer::Flatten => None,
        }
    }

    /// The layer's parameters, if it has any, to edit (fuzzers corrupt them on purpose).
    pub fn params_mut(&mut self) -> Option<&mut P> {
        match self {
            OwnedLayer::Dense { params, .. }
            | OwnedLayer::Conv2d { params, .. }
            | OwnedLayer::DepthwiseConv2d { params, .. } => Some(params),
            OwnedLayer::MaxPool2d(_)
            | OwnedLayer::AvgPool2d(_)
            | OwnedLayer::MaxPool2dRect(_)
            | OwnedLayer::AvgPool2dRect(_)
            | OwnedLayer::Flatten => None,
        }
    }

    /// The same layer with its parameters converted by `f` (e.g. typed arrays to packed bytes).
    pub fn map_params<Q>(&self, f: impl FnOnce(&P) -> Q) -> OwnedLayer<Q> {
        match *self {
            OwnedLayer::Dense {
                out_features,
                ref params,
            } => OwnedLayer::Dense {
                out_features,
                params: f(params),
            },
            OwnedLayer::Conv2d {
                out_channels,
                kernel_h,
                kernel_w,
                stride,
                padding,
                ref params,
            } => OwnedLayer::Conv2d {
                out_channels,
                kernel_h,
                kernel_w,
                stride,
                padding,
                params: f(params),
            },
            OwnedLayer::DepthwiseConv2d {
                kernel_h,
                kernel_w,
                stride,
                padding,
                ref params,
            } => OwnedLayer::DepthwiseConv2d {
                kernel_h,
                kernel_w,
                stride,
                padding,
                params: f(params),
            },
            OwnedLayer::MaxPool2d(p) => OwnedLayer::MaxPool2d(p),
            OwnedLayer::AvgPool2d(p) => OwnedLayer::AvgPool2d(p),
            OwnedLayer::MaxPool2dRect(p) => OwnedLayer::MaxPool2dRect(p),
            OwnedLayer::AvgPool2dRect(p) => OwnedLayer::AvgPool2dRect(p),
            OwnedLayer::Flatten => OwnedLayer::Flatten,
        }
    }
}

impl OwnedLayer {
    pub fn borrow(&self) -> Layer<'_> {
        match *self {
            OwnedLayer::Dense {
                out_features,
                ref params,
            } => Layer::Dense(Dense {
                out_features,
                params: params.borrow(),
            }),
            OwnedLayer::Conv2d {
                out_channels,
                kernel_h,
                kernel_w,
                stride,
                padding,
                ref params,
            } => Layer::Conv2d(Conv2d {
                out_channels,
                kernel_h,
                kernel_w,
                stride,
                padding,
                params: params.borrow(),
            }),
            OwnedLayer::DepthwiseConv2d {
                kernel_h,
                kernel_w,
                stride,
                padding,
                ref params,
            } => Layer::DepthwiseConv2d(DepthwiseConv2d {
                kernel_h,
                kernel_w,
                stride,
                padding,
                params: params.borrow(),
            }),
            OwnedLayer::MaxPool2d(p) => Layer::MaxPool2d(p),
            OwnedLayer::AvgPool2d(p) => Layer::AvgPool2d(p),
            OwnedLayer::MaxPool2dRect(p) => Layer::MaxPool2dRect(p),
            OwnedLayer::AvgPool2dRect(p) => Layer::AvgPool2dRect(p),
            OwnedLayer::Flatten => Layer::Flatten,
        }
    }
}

/// Encodes a student made of owned layers ([`encode_student_to_vec`] of their borrows).
pub fn encode_owned_student(meta: &Meta<'_>, layers: &[OwnedLayer]) -> Result<Vec<u8>, Error> {
    let layers: Vec<Layer<'_>> = layers.iter().map(OwnedLayer::borrow).collect();
    encode_student_to_vec(meta, &layers)
}

/// Everything a student blob holds, owned: its [`Meta`] fields and its layers over parameters
/// `P` (packed [`OwnedParams`], or a builder's typed arrays).
#[derive(Debug, Clone, PartialEq)]
pub struct OwnedStudent<P = OwnedParams> {
    pub name: String,
    pub input_shape: Shape,
    pub classes: u16,
    pub input: Activation,
    /// The normalisation's `(mean, std)` pairs, packed as [`Normalization::params`]
    /// ([`pack_normalization`]).
    pub normalization: Vec<u8>,
    pub temperature: f32,
    pub layers: Vec<OwnedLayer<P>>,
}

/// Packs `(mean, std)` pairs as [`Normalization::params`] holds them.
pub fn pack_normalization(pairs: &[(f32, f32)]) -> Vec<u8> {
    pairs
        .iter()
        .flat_map(|&(mean, std)| mean.to_le_bytes().into_iter().chain(std.to_le_bytes()))
        .collect()
}

impl<P> OwnedStudent<P> {
    /// Everything but the layers, borrowed.
    pub fn meta(&self) -> Meta<'_> {
        Meta {
            name: &self.name,
            input_shape: self.input_shape,
            classes: self.classes,
            input: self.input,
            normalization: Normalization::new(&self.normalization),
            temperature: self.temperature,
        }
    }

    /// The same student with every layer's parameters mapped by `f`.
    pub fn map_params<Q>(&self, f: impl Fn(&P) -> Q) -> OwnedStudent<Q> {
        OwnedStudent {
            name: self.name.clone(),
            input_shape: self.input_shape,
            classes: self.classes,
            input: self.input,
            normalization: self.normalization.clone(),
            temperature: self.temperature,
            layers: self.layers.iter().map(|l| l.map_params(&f)).collect(),
        }
    }
}

impl OwnedStudent {
    /// The student blob (not validated: a hand-built student may be one decode refuses).
    pub fn encode(&self) -> Result<Vec<u8>, Error> {
        encode_owned_student(&self.meta(), &self.layers)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Student;

    #[test]
    fn quantized_folds_the_input_zero_point_and_derives_multipliers() {
        let act = |scale, zero_point| Activation { scale, zero_point };
        // Input zero point 3, so bias = raw - 3 * sum(weights of the channel).
        let build = |w: &[i8], layout, scales: &[f32], bias: &[i32], out_scale| {
            OwnedParams::quantized(
                w,
                layout,
                act(0.5, 3),
                scales,
                bias,
                act(out_scale, -1),
                -1,
                i8::MAX,
            )
        };
        // Two channels of two weights: (2, -2) and (5, 1); multipliers 0.5 * 0.5 / 0.25 = 1
        // and 0.5 * 0.25 / 0.25 = 0.5.
        let w = [2, -2, 5, 1];
        let rows = WeightLayout::ChannelMajor;
        let p = build(&w, rows, &[0.5, 0.25], &[10, -10], 0.25).expect("representable");
        let want = OwnedParams::pack(
            &w,
            &[0.5, 0.25],
            &[10, -10 - 3 * 6],
            &[1 << 30, 1 << 30],
            &[1, 0],
            act(0.25, -1),
            -1,
            i8::MAX,
        );
        assert_eq!(p, want);
        // The same weights as [per_channel][channels]: channel 0 is (2, 5), channel 1 (-2, 1).
        let columns = WeightLayout::ChannelMinor;
        let q = build(&w, columns, &[0.5, 0.25], &[10, -10], 0.25).expect("representable");
        assert_eq!(q.bias, pack_i32(&[10 - 3 * 7, -10 + 3]));

        let length = Err(Error::LengthMismatch { layer: u16::MAX });
        assert_eq!(build(&[1, 2, 3], rows, &[0.5, 0.5], &[0, 0], 1.0), length);
        assert_eq!(build(&[1, 2], rows, &[0.5, 0.5], &[0], 1.0), length);
        assert_eq!(build(&[1], rows, &[], &[], 1.0), length);
        assert!(build(&[], rows, &[], &[], 1.0).is_ok());
        assert_eq!(
            build(&[1, 2], rows, &[0.5], &[0], 1e-12),
            Err(Error::InvalidQuantization { layer: u16::MAX })
        );
        assert_eq!(
            build(&[-127, -127], rows, &[0.5], &[i32::MAX], 1.0),
            Err(Error::Overflow)
        );
    }

    /// firmware/testgen's students and golden vectors, which the QEMU boards check bit for
    /// bit, are made of this sequence: these values must never change.
    #[test]
    fn xorshift_i8s_is_pinned() {
        assert_eq!(
            xorshift_i8s(8, 1, -127, 127),
            [124, 71, -115, 127, -42, 114, -50, 97]
        );
        assert_eq!(
            xorshift_i8s(6, 1 ^ 0x5555, -100, 100),
            [75, 12, -36, -42, 56, -8]
        );
        assert_eq!(xorshift_i8s(4, 0, -128, 127), [-103, -66, -70, 53]);
        assert_eq!(xorshift_i8s(4, 0, 127, -128), [-103, -66, -70, 53]);
        assert!(
            xorshift_i8s(1000, 9, -3, 2)
                .iter()
                .all(|v| (-3..=2).contains(v))
        );
    }

    #[test]
    fn owned_layers_encode_to_a_student_that_decodes_to_the_same_layers() {
        let act = |scale, zero_point| Activation { scale, zero_point };
        let dense = OwnedLayer::Dense {
            out_features: 2,
            params: OwnedParams::pack(
                &[1, -1, -1, 1],
                &[0.5, 0.5],
                &[2, -2],
                &[1 << 30, 1 << 30],
                &[0, 0],
                act(0.25, -1),
                i8::MIN,
                i8::MAX,
            ),
        };
        assert_eq!(dense.params().map(|p| p.bias.len()), Some(8));
        // map_params keeps the layer's shape fields and converts only the parameters
        let sizes = dense.map_params(|p| p.weights.len());
        assert_eq!(
            sizes,
            OwnedLayer::Dense {
                out_features: 2,
                params: 4
            }
        );
        assert_eq!(OwnedLayer::<OwnedParams>::Flatten.params(), None);
        let meta = Meta {
            name: "owned",
            input_shape: crate::Shape::flat(2),
            classes: 2,
            input: act(0.5, 0),
            normalization: Normalization::IDENTITY,
            temperature: 1.0,
        };
        let layers = [OwnedLayer::Flatten, dense];
        let blob = encode_owned_student(&meta, &layers).expect("encode");
        let student = Student::decode(&blob).expect("decode");
        let decoded: Vec<Layer<'_>> = student.layers().map(|l| l.expect("layer")).collect();
        let want: Vec<Layer<'_>> = layers.iter().map(OwnedLayer::borrow).collect();
        assert_eq!(decoded, want);
    }
}
