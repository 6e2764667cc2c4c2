//! Owned layers (feature `std`): the host's way to *build* a student. [`Params`] and [`Layer`]
//! borrow byte slices (on the device they point into flash); code that makes a student (the
//! trainer's exporter, test and fuzz builders) holds the arrays in an [`OwnedParams`] /
//! [`OwnedLayer`] and lends them out with `borrow()` to encode or run.

use std::vec::Vec;

use crate::Error;
use crate::layer::{Activation, Conv2d, Dense, DepthwiseConv2d, Layer, Params, Pool2d, i8_bytes};
use crate::meta::Meta;
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
}

impl<P> OwnedLayer<P> {
    /// The layer's parameters, if it has any.
    pub fn params(&self) -> Option<&P> {
        match self {
            OwnedLayer::Dense { params, .. }
            | OwnedLayer::Conv2d { params, .. }
            | OwnedLayer::DepthwiseConv2d { params, .. } => Some(params),
            OwnedLayer::MaxPool2d(_) | OwnedLayer::AvgPool2d(_) | OwnedLayer::Flatten => None,
        }
    }

    /// The layer's parameters, if it has any, to edit (fuzzers corrupt them on purpose).
    pub fn params_mut(&mut self) -> Option<&mut P> {
        match self {
            OwnedLayer::Dense { params, .. }
            | OwnedLayer::Conv2d { params, .. }
            | OwnedLayer::DepthwiseConv2d { params, .. } => Some(params),
            OwnedLayer::MaxPool2d(_) | OwnedLayer::AvgPool2d(_) | OwnedLayer::Flatten => None,
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
            OwnedLayer::Flatten => Layer::Flatten,
        }
    }
}

/// Encodes a student made of owned layers ([`encode_student_to_vec`] of their borrows).
pub fn encode_owned_student(meta: &Meta<'_>, layers: &[OwnedLayer]) -> Result<Vec<u8>, Error> {
    let layers: Vec<Layer<'_>> = layers.iter().map(OwnedLayer::borrow).collect();
    encode_student_to_vec(meta, &layers)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Student;
    use crate::meta::Normalization;

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
            normalization: Normalization {
                mean: 0.0,
                std: 1.0,
            },
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
