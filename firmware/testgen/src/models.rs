//! Deterministic random int8 test students and their golden vectors, built with minnow-core's
//! own encoder. Random weights say nothing about accuracy, but everything about bit-exactness:
//! the golden logits are what minnow-core computes on the host, the device must reproduce them.
//!
//! Shared by `minnow-fw-testgen` (writes files) and `tests/tests/firmware_*.rs` (via `#[path]`).
#![allow(dead_code)]

use minnow_core::golden::UNKNOWN_CLASS;
use minnow_core::owned::{OwnedParams, WeightLayout, xorshift_i8s};
use minnow_core::{
    Activation, Conv2d, Dense, DepthwiseConv2d, GoldenVectors, Layer, Meta, Normalization, Pool2d,
    Shape, Student,
};

/// One layer's parameters: `channels` output channels of `per` random weights each, random
/// biases, and an output scale chosen so that outputs spread over the int8 range instead of
/// saturating. The bias fold sums each channel's weights as channel-major rows, also for the
/// CNN's depthwise layer (whose weights are `[kh][kw][c]`): its biases are random either way,
/// and so its blob and golden vectors stay the bytes the QEMU boards have always checked.
fn layer_params(
    channels: usize,
    per: usize,
    s_in: Activation,
    seed: u32,
    relu: bool,
) -> OwnedParams {
    let w = xorshift_i8s(channels * per, seed, -127, 127);
    let raw_bias: Vec<i32> = xorshift_i8s(channels, seed ^ 0x5555, -100, 100)
        .iter()
        .map(|&b| i32::from(b) * 50)
        .collect();
    let s_w: Vec<f32> = (0..channels)
        .map(|c| 0.01 + 0.001 * (c % 7) as f32)
        .collect();
    // |x - zp| ~ 100, |w| ~ 73: the accumulator's spread is ~ sqrt(per) * 7300.
    let spread = (per as f64).sqrt() * 7300.0;
    let out_scale = (f64::from(s_in.scale) * 0.0105 * spread / 40.0) as f32;
    let output = Activation {
        scale: out_scale,
        zero_point: if relu { -128 } else { 3 },
    };
    let act_min = if relu { output.zero_point } else { -128 };
    let rows = WeightLayout::ChannelMajor;
    OwnedParams::quantized(&w, rows, s_in, &s_w, &raw_bias, output, act_min, 127)
        .expect("representable multipliers")
}

fn meta(name: &str, input_shape: Shape, classes: u16) -> Meta<'_> {
    Meta {
        name,
        input_shape,
        classes,
        input: Activation {
            scale: 0.05,
            zero_point: -3,
        },
        normalization: Normalization {
            mean: 0.1307,
            std: 0.3081,
        },
        temperature: 4.0,
    }
}

/// MLP `inputs -> hidden (ReLU) -> classes`, e.g. 784-64-10.
pub fn mlp(inputs: u16, hidden: u16, classes: u16, seed: u32) -> Vec<u8> {
    let m = meta("testgen-mlp", Shape::flat(inputs), classes);
    let h = layer_params(hidden.into(), inputs.into(), m.input, seed, true);
    let o = layer_params(classes.into(), hidden.into(), h.output, seed + 1, false);
    let layers = [
        Layer::Dense(Dense {
            out_features: hidden,
            params: h.borrow(),
        }),
        Layer::Dense(Dense {
            out_features: classes,
            params: o.borrow(),
        }),
    ];
    minnow_core::encode_student_to_vec(&m, &layers).expect("mlp encodes")
}

/// CNN on `side x side x 1`: conv 3x3 pad 1 (8, ReLU) -> maxpool 2 -> depthwise 3x3 pad 1
/// (ReLU) -> avgpool 2 -> conv 1x1 (12, ReLU) -> flatten -> dense `classes`.
/// `side` must be a multiple of 4.
pub fn cnn(side: u16, classes: u16, seed: u32) -> Vec<u8> {
    let m = meta("testgen-cnn", Shape::new(side, side, 1), classes);
    let c1 = layer_params(8, 9, m.input, seed, true);
    let dw = layer_params(8, 9, c1.output, seed + 1, true);
    let c2 = layer_params(12, 8, dw.output, seed + 2, true);
    let q = side / 4;
    let flat = usize::from(q) * usize::from(q) * 12;
    let d = layer_params(classes.into(), flat, c2.output, seed + 3, false);
    let layers = [
        Layer::Conv2d(Conv2d {
            out_channels: 8,
            kernel_h: 3,
            kernel_w: 3,
            stride: 1,
            padding: 1,
            params: c1.borrow(),
        }),
        Layer::MaxPool2d(Pool2d {
            kernel: 2,
            stride: 2,
        }),
        Layer::DepthwiseConv2d(DepthwiseConv2d {
            kernel_h: 3,
            kernel_w: 3,
            stride: 1,
            padding: 1,
            params: dw.borrow(),
        }),
        Layer::AvgPool2d(Pool2d {
            kernel: 2,
            stride: 2,
        }),
        Layer::Conv2d(Conv2d {
            out_channels: 12,
            kernel_h: 1,
            kernel_w: 1,
            stride: 1,
            padding: 0,
            params: c2.borrow(),
        }),
        Layer::Flatten,
        Layer::Dense(Dense {
            out_features: classes,
            params: d.borrow(),
        }),
    ];
    minnow_core::encode_student_to_vec(&m, &layers).expect("cnn encodes")
}

/// What the golden vectors claim, for tests to compare with the device's report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Expected {
    pub vectors: usize,
    /// Vectors whose host prediction equals the label.
    pub correct: usize,
    /// Vectors with a known label.
    pub labeled: usize,
    /// Vectors whose host prediction equals the teacher's class.
    pub teacher_agree: usize,
    /// Vectors with a known teacher class.
    pub teacher_known: usize,
}

/// `count` golden vectors for `student`: random inputs, the logits minnow-core computes for them
/// on this host, labels equal to the prediction except every third vector (so accuracy is known:
/// about 2/3), teacher classes equal to the prediction except every fourth, unknown every seventh.
pub fn golden(student: &[u8], count: usize, seed: u32) -> (Vec<u8>, Expected) {
    let s = Student::decode(student).expect("student decodes");
    let n = s.input_len();
    let classes = s.classes();
    let inputs = xorshift_i8s(count * n, seed ^ 0xabcd, -128, 127);
    let mut scratch = vec![0_i8; s.scratch_len()];
    let mut logits = vec![0_i8; count * classes];
    let (mut labels, mut teacher) = (Vec::new(), Vec::new());
    let mut e = Expected {
        vectors: count,
        correct: 0,
        labeled: 0,
        teacher_agree: 0,
        teacher_known: 0,
    };
    for i in 0..count {
        let out = &mut logits[i * classes..(i + 1) * classes];
        let pred = s
            .predict(&inputs[i * n..(i + 1) * n], &mut scratch, out)
            .expect("runs");
        let other = ((pred + 1) % classes) as u8;
        let label = if i % 3 == 2 { other } else { pred as u8 };
        let teach = if i % 7 == 6 {
            UNKNOWN_CLASS
        } else if i % 4 == 3 {
            other
        } else {
            pred as u8
        };
        e.labeled += 1;
        e.correct += usize::from(usize::from(label) == pred);
        if teach != UNKNOWN_CLASS {
            e.teacher_known += 1;
            e.teacher_agree += usize::from(usize::from(teach) == pred);
        }
        labels.push(label);
        teacher.push(teach);
    }
    let g = GoldenVectors {
        count: count as u32,
        input_len: n as u32,
        classes: classes as u16,
        inputs: minnow_core::i8_bytes(&inputs),
        logits: minnow_core::i8_bytes(&logits),
        labels: &labels,
        teacher: &teacher,
    };
    (g.encode_to_vec().expect("golden encodes"), e)
}
