//! Builders for test students: owned parameter arrays that lend out `Params`.
#![allow(dead_code)]

use minnow_core::owned::xorshift_i8s;
use minnow_core::{Activation, Layer, Meta, Normalization, Shape};

pub use minnow_core::owned::{OwnedParams, WeightLayout};

/// [`OwnedParams::quantized`] with a fused ReLU or none: `raw_bias` is in `s_in * s_w` units
/// before the zero-point fold, one entry per channel as `s_w`.
pub fn quantized(
    weights: &[i8],
    layout: WeightLayout,
    s_in: Activation,
    s_w: &[f32],
    raw_bias: &[i32],
    output: Activation,
    relu: bool,
) -> OwnedParams {
    let act_min = if relu { output.zero_point } else { i8::MIN };
    OwnedParams::quantized(
        weights,
        layout,
        s_in,
        s_w,
        raw_bias,
        output,
        act_min,
        i8::MAX,
    )
    .expect("representable multipliers")
}

pub fn act(scale: f32, zero_point: i8) -> Activation {
    Activation { scale, zero_point }
}

/// One normalisation pair: mean 0.5, std 2.0.
pub const MEAN_HALF_STD_TWO: [u8; 8] = [0, 0, 0, 0x3f, 0, 0, 0, 0x40];

pub fn meta(name: &str, input_shape: Shape, classes: u16) -> Meta<'_> {
    Meta {
        name,
        input_shape,
        classes,
        input: act(0.05, -3),
        normalization: Normalization::new(&MEAN_HALF_STD_TWO),
        temperature: 4.0,
    }
}

/// Deterministic pseudo-random weights in the symmetric range [-127, 127].
pub fn weights(n: usize, seed: u32) -> Vec<i8> {
    xorshift_i8s(n, seed, -127, 127)
}

/// A tiny valid student: input 4x4x1 -> conv 3x3 pad 1 (2 ch, relu) -> maxpool 2 -> flatten ->
/// dense 8 -> 3 classes. Returns the encoded blob.
pub fn tiny_student_blob() -> Vec<u8> {
    let conv = quantized(
        &weights(18, 1),
        WeightLayout::ChannelMajor,
        act(0.05, -3),
        &[0.02, 0.03],
        &[10, -20],
        act(0.1, -128),
        true,
    );
    let dense = quantized(
        &weights(24, 2),
        WeightLayout::ChannelMajor,
        act(0.1, -128),
        &[0.01, 0.02, 0.015],
        &[5, 0, -5],
        act(0.2, 4),
        false,
    );
    let layers = [
        Layer::Conv2d(minnow_core::Conv2d {
            out_channels: 2,
            kernel_h: 3,
            kernel_w: 3,
            stride: 1,
            padding: 1,
            params: conv.borrow(),
        }),
        Layer::MaxPool2d(minnow_core::Pool2d {
            kernel: 2,
            stride: 2,
        }),
        Layer::Flatten,
        Layer::Dense(minnow_core::Dense {
            out_features: 3,
            params: dense.borrow(),
        }),
    ];
    minnow_core::encode_student_to_vec(&meta("tiny", Shape::new(4, 4, 1), 3), &layers)
        .expect("encodes")
}

/// Re-seals a blob after its body was edited: fixes body_len and CRC.
pub fn reseal(blob: &mut [u8]) {
    let body_len = (blob.len() - 16) as u32;
    blob[8..12].copy_from_slice(&body_len.to_le_bytes());
    let crc = crc::Crc::<u32>::new(&crc::CRC_32_ISO_HDLC).checksum(&blob[16..]);
    blob[12..16].copy_from_slice(&crc.to_le_bytes());
}
