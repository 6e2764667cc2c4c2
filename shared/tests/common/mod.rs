//! Builders for test students: owned parameter arrays that lend out `Params`.
#![allow(dead_code)]

use minnow_core::quant::quantize_multiplier;
use minnow_core::{Activation, Layer, Meta, Normalization, Shape};

pub use minnow_core::owned::OwnedParams;

/// Quantized parameters of one layer: `weights` is `channels x per_channel`; `raw_bias` is in
/// `s_in * s_w` units before folding the input zero point.
pub fn quantized(
    weights: &[i8],
    channels: usize,
    s_in: Activation,
    s_w: &[f32],
    raw_bias: &[i32],
    output: Activation,
    relu: bool,
) -> OwnedParams {
    let per = weights.len() / channels.max(1);
    let mut bias = Vec::new();
    let mut mult = Vec::new();
    let mut shift = Vec::new();
    for c in 0..channels {
        let sum: i32 = weights[c * per..(c + 1) * per]
            .iter()
            .map(|&w| i32::from(w))
            .sum();
        bias.push(raw_bias[c] - i32::from(s_in.zero_point) * sum);
        let m = f64::from(s_in.scale) * f64::from(s_w[c]) / f64::from(output.scale);
        let (q, s) = quantize_multiplier(m).expect("representable multiplier");
        mult.push(q);
        shift.push(s);
    }
    let act_min = if relu { output.zero_point } else { -128 };
    OwnedParams::pack(weights, s_w, &bias, &mult, &shift, output, act_min, 127)
}

pub fn act(scale: f32, zero_point: i8) -> Activation {
    Activation { scale, zero_point }
}

pub fn meta(name: &str, input_shape: Shape, classes: u16) -> Meta<'_> {
    Meta {
        name,
        input_shape,
        classes,
        input: act(0.05, -3),
        normalization: Normalization {
            mean: 0.5,
            std: 2.0,
        },
        temperature: 4.0,
    }
}

/// A deterministic pseudo-random int8 sequence (weights in [-127, 127]).
pub fn weights(n: usize, seed: u32) -> Vec<i8> {
    let mut x = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            ((x % 255) as i32 - 127) as i8
        })
        .collect()
}

/// A tiny valid student: input 4x4x1 -> conv 3x3 pad 1 (2 ch, relu) -> maxpool 2 -> flatten ->
/// dense 8 -> 3 classes. Returns the encoded blob.
pub fn tiny_student_blob() -> Vec<u8> {
    let conv = quantized(
        &weights(18, 1),
        2,
        act(0.05, -3),
        &[0.02, 0.03],
        &[10, -20],
        act(0.1, -128),
        true,
    );
    let dense = quantized(
        &weights(24, 2),
        3,
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
