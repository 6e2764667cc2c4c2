//! Deterministic random int8 test students and their golden vectors, built with minnow-core's
//! own encoder. Random weights say nothing about accuracy, but everything about bit-exactness:
//! the golden logits are what minnow-core computes on the host, the device must reproduce them.
//!
//! Shared by `minnow-fw-testgen` (writes files) and `tests/tests/firmware_*.rs` (via `#[path]`).
#![allow(dead_code)]

use minnow_core::golden::UNKNOWN_CLASS;
use minnow_core::layer::window_out;
use minnow_core::owned::{
    OwnedLayer, OwnedParams, WeightLayout, encode_owned_student, xorshift_i8s,
};
use minnow_core::{
    Activation, Conv2d, Dense, DepthwiseConv2d, GoldenVectors, Layer, Meta, Normalization, Pool2d,
    Pool2dRect, Shape, Student,
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
    layer_params_in(
        WeightLayout::ChannelMajor,
        channels,
        per,
        s_in,
        seed,
        relu,
        1.0,
    )
}

/// [`layer_params`] with the bias fold summing each channel's weights as `layout` lays them out
/// (new students use the layer's real layout; the MLP and CNN above keep their bytes), and the
/// output scale divided by `gain` (a gain in the thousands makes requantization multipliers
/// above 1: positive shifts, the general case of the kernels' requantization).
fn layer_params_in(
    layout: WeightLayout,
    channels: usize,
    per: usize,
    s_in: Activation,
    seed: u32,
    relu: bool,
    gain: f32,
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
    let out_scale = (f64::from(s_in.scale) * 0.0105 * spread / 40.0) as f32 / gain;
    let output = Activation {
        scale: out_scale,
        zero_point: if relu { -128 } else { 3 },
    };
    let act_min = if relu { output.zero_point } else { -128 };
    OwnedParams::quantized(&w, layout, s_in, &s_w, &raw_bias, output, act_min, 127)
        .expect("representable multipliers")
}

/// MNIST's mean 0.1307 and std 0.3081, packed as one normalisation pair.
const MNIST_NORMALIZATION: [u8; 8] = [0x39, 0xd6, 0x05, 0x3e, 0x48, 0xbf, 0x9d, 0x3e];

fn meta(name: &str, input_shape: Shape, classes: u16) -> Meta<'_> {
    Meta {
        name,
        input_shape,
        classes,
        input: Activation {
            scale: 0.05,
            zero_point: -3,
        },
        normalization: Normalization::new(&MNIST_NORMALIZATION),
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

/// A layer the benchmark students are made of, with what it needs to get its parameters.
#[derive(Debug, Clone, Copy)]
enum Op {
    /// Output features, and the gain of [`layer_params_in`].
    Dense(u16, f32),
    /// Output channels, kernel (height, width), stride, padding.
    Conv(u16, (u8, u8), u8, u8),
    /// Kernel (height, width), stride, padding.
    Depthwise((u8, u8), u8, u8),
    /// Kernel, stride.
    MaxPool(u8, u8),
    AvgPool(u8, u8),
    /// Kernel (height, width), stride (height, width).
    MaxPoolRect((u8, u8), (u8, u8)),
    AvgPoolRect((u8, u8), (u8, u8)),
    Flatten,
}

/// Square convolution, stride 1.
const fn conv(oc: u16, k: u8, pad: u8) -> Op {
    Op::Conv(oc, (k, k), 1, pad)
}

/// Builds `ops` on `input` (random weights from `seed`, ReLU after every layer but the last
/// dense one) and encodes the student; `classes` is whatever the last layer produces.
fn chain(name: &str, input: Shape, ops: &[Op], seed: u32) -> Vec<u8> {
    let mut m = meta(name, input, 0);
    let (mut shape, mut act) = (input, m.input);
    let mut layers = Vec::new();
    for (i, &op) in ops.iter().enumerate() {
        let seed = seed + i as u32;
        let (h, w, c) = (shape.height, shape.width, shape.channels);
        let window = |k: u8, s: u8, pad: u8, len: u16| {
            window_out(len.into(), k.into(), s.into(), pad.into())
                .and_then(|n| u16::try_from(n).ok())
                .expect("a built-in window fits its input")
        };
        let pool = |kernel: u8, stride: u8| Pool2d { kernel, stride };
        let (layer, out) = match op {
            Op::Dense(n, gain) => {
                let relu = i + 1 < ops.len();
                let major = WeightLayout::ChannelMajor;
                let p = layer_params_in(major, n.into(), shape.len(), act, seed, relu, gain);
                let out = Shape::flat(n);
                let l = OwnedLayer::Dense {
                    out_features: n,
                    params: p,
                };
                (l, out)
            }
            Op::Conv(oc, (kh, kw), stride, pad) => {
                let per = usize::from(kh) * usize::from(kw) * usize::from(c);
                let p = layer_params(oc.into(), per, act, seed, true);
                let out = Shape::new(window(kh, stride, pad, h), window(kw, stride, pad, w), oc);
                let l = OwnedLayer::Conv2d {
                    out_channels: oc,
                    kernel_h: kh,
                    kernel_w: kw,
                    stride,
                    padding: pad,
                    params: p,
                };
                (l, out)
            }
            Op::Depthwise((kh, kw), stride, pad) => {
                let per = usize::from(kh) * usize::from(kw);
                let minor = WeightLayout::ChannelMinor;
                let p = layer_params_in(minor, c.into(), per, act, seed, true, 1.0);
                let out = Shape::new(window(kh, stride, pad, h), window(kw, stride, pad, w), c);
                let l = OwnedLayer::DepthwiseConv2d {
                    kernel_h: kh,
                    kernel_w: kw,
                    stride,
                    padding: pad,
                    params: p,
                };
                (l, out)
            }
            Op::MaxPool(k, s) => (
                OwnedLayer::MaxPool2d(pool(k, s)),
                Shape::new(window(k, s, 0, h), window(k, s, 0, w), c),
            ),
            Op::AvgPool(k, s) => (
                OwnedLayer::AvgPool2d(pool(k, s)),
                Shape::new(window(k, s, 0, h), window(k, s, 0, w), c),
            ),
            Op::MaxPoolRect(k, st) | Op::AvgPoolRect(k, st) => {
                let p = Pool2dRect {
                    kernel_h: k.0,
                    kernel_w: k.1,
                    stride_h: st.0,
                    stride_w: st.1,
                };
                let out = Shape::new(window(k.0, st.0, 0, h), window(k.1, st.1, 0, w), c);
                let l = if matches!(op, Op::MaxPoolRect(..)) {
                    OwnedLayer::MaxPool2dRect(p)
                } else {
                    OwnedLayer::AvgPool2dRect(p)
                };
                (l, out)
            }
            Op::Flatten => (OwnedLayer::Flatten, Shape::flat(shape.len() as u16)),
        };
        if let Some(p) = layer.params() {
            act = p.output;
        }
        layers.push(layer);
        shape = out;
    }
    m.classes = u16::try_from(shape.len()).expect("the output fits the classes field");
    encode_owned_student(&m, &layers).expect("benchmark student encodes")
}

/// The 29,066-parameter MNIST CNN as the trainer's `--arch cnn --channels 16,32,64` builds it
/// (no hidden dense layer): conv 3x3 pad 1 (16, ReLU) -> maxpool 2 -> conv 3x3 (32) -> maxpool
/// -> conv 3x3 (64) -> maxpool -> flatten -> dense 10, on 28x28x1.
pub fn cnn29k(seed: u32) -> Vec<u8> {
    let ops = [
        conv(16, 3, 1),
        Op::MaxPool(2, 2),
        conv(32, 3, 1),
        Op::MaxPool(2, 2),
        conv(64, 3, 1),
        Op::MaxPool(2, 2),
        Op::Flatten,
        Op::Dense(10, 1.0),
    ];
    chain("cnn29k", Shape::new(28, 28, 1), &ops, seed)
}

/// A 1-D CNN over a sensor window of 128 samples of 3 axes, laid out `T x 1 x C` as the
/// trainer's `--arch cnn1d` builds it: conv 5x1 (8, ReLU) -> max pool 2x1 -> conv 5x1 (16) ->
/// average pool 2x1 -> flatten -> dense 6. Its pools are the rectangular ones (format 2).
pub fn seq(seed: u32) -> Vec<u8> {
    let ops = [
        Op::Conv(8, (5, 1), 1, 0),
        Op::MaxPoolRect((2, 1), (2, 1)),
        Op::Conv(16, (5, 1), 1, 0),
        Op::AvgPoolRect((2, 1), (2, 1)),
        Op::Flatten,
        Op::Dense(6, 1.0),
    ];
    chain("testgen-seq", Shape::new(128, 1, 3), &ops, seed)
}

/// The kernel benchmark's shapes (firmware/src/bin/minnow-kernel-bench.rs): students of one
/// layer, named after the shape, then the whole 29K CNN, then small students named `check-*`
/// that the benchmark only checks bit for bit: shapes that take the kernels' other paths
/// (reduction tails, odd counts of pixels, channels or rows, strides, padding, single pixels,
/// fields too wide for the single-channel strip, positive shifts). Each is followed by one
/// golden vector (a random input and the output minnow-core computes for it here), and the file
/// is these blobs back to back (each blob's header says its length).
pub fn kernel_suite(seed: u32) -> Vec<u8> {
    let hwc = Shape::new;
    let flat = Shape::flat;
    // The MLP's two layers, the 29K CNN's convolutions and pools (the shapes), then a
    // depthwise-separable block at 14x14x32 as the trainer's `--arch dwcnn` builds it.
    let shapes: [(&str, Shape, Op); 29] = [
        ("dense784x64", flat(784), Op::Dense(64, 1.0)),
        ("dense64x10", flat(64), Op::Dense(10, 1.0)),
        ("conv28x28x1x16", hwc(28, 28, 1), conv(16, 3, 1)),
        ("conv14x14x16x32", hwc(14, 14, 16), conv(32, 3, 1)),
        ("conv7x7x32x64", hwc(7, 7, 32), conv(64, 3, 1)),
        ("maxpool28x28x16", hwc(28, 28, 16), Op::MaxPool(2, 2)),
        ("maxpool14x14x32", hwc(14, 14, 32), Op::MaxPool(2, 2)),
        ("maxpool7x7x64", hwc(7, 7, 64), Op::MaxPool(2, 2)),
        (
            "dwconv14x14x32",
            hwc(14, 14, 32),
            Op::Depthwise((3, 3), 1, 1),
        ),
        ("pwconv14x14x32x64", hwc(14, 14, 32), conv(64, 1, 0)),
        ("avgpool14x14x64", hwc(14, 14, 64), Op::AvgPool(2, 2)),
        ("dense576x10", flat(576), Op::Dense(10, 1.0)),
        // Checks only.
        (
            "check-conv9x9x3-5x5s2p2",
            hwc(9, 9, 3),
            Op::Conv(5, (5, 5), 2, 2),
        ),
        ("check-conv6x5x5-3x3", hwc(6, 5, 5), conv(7, 3, 1)),
        (
            "check-conv4x7x2-2x3",
            hwc(4, 7, 2),
            Op::Conv(3, (2, 3), 1, 0),
        ),
        ("check-conv3x3x6-1x1", hwc(3, 3, 6), conv(5, 1, 0)),
        ("check-conv7x9x1-3x3p0", hwc(7, 9, 1), conv(5, 3, 0)),
        (
            "check-conv9x9x1-3x3s2",
            hwc(9, 9, 1),
            Op::Conv(4, (3, 3), 2, 1),
        ),
        ("check-conv4x40x1-3x3", hwc(4, 40, 1), conv(3, 3, 1)),
        ("check-conv3x3x2-1pixel", hwc(3, 3, 2), conv(3, 3, 0)),
        ("check-dense13x7", flat(13), Op::Dense(7, 1.0)),
        ("check-dense24x5", flat(24), Op::Dense(5, 1.0)),
        ("check-dense20x4", flat(20), Op::Dense(4, 1.0)),
        ("check-dense16x4-leftshift", flat(16), Op::Dense(4, 2000.0)),
        (
            "check-dw9x9x6-5x5s2p2",
            hwc(9, 9, 6),
            Op::Depthwise((5, 5), 2, 2),
        ),
        (
            "check-dw5x5x7-3x3p0",
            hwc(5, 5, 7),
            Op::Depthwise((3, 3), 1, 0),
        ),
        (
            "check-dw20x3x5-3x3",
            hwc(20, 3, 5),
            Op::Depthwise((3, 3), 1, 1),
        ),
        ("check-maxpool7x7x5-3s2", hwc(7, 7, 5), Op::MaxPool(3, 2)),
        ("check-avgpool7x7x6-3s2", hwc(7, 7, 6), Op::AvgPool(3, 2)),
    ];
    let mut suite = Vec::new();
    for (i, (name, input, op)) in shapes.into_iter().enumerate() {
        let student = chain(name, input, &[op], seed + 16 * i as u32);
        suite.extend_from_slice(&student);
        suite.extend(one_golden(&student, seed + i as u32));
    }
    let cnn = cnn29k(seed);
    suite.extend_from_slice(&cnn);
    suite.extend(one_golden(&cnn, seed));
    suite
}

/// One golden vector for `student`: a random input and the output computed here, no labels.
fn one_golden(student: &[u8], seed: u32) -> Vec<u8> {
    let s = Student::decode(student).expect("benchmark student decodes");
    let input = xorshift_i8s(s.input_len(), seed ^ 0xbe7c, -128, 127);
    let mut scratch = vec![0_i8; s.scratch_len()];
    let mut out = vec![0_i8; s.classes()];
    s.run(&input, &mut scratch, &mut out).expect("runs");
    let g = GoldenVectors {
        count: 1,
        input_len: input.len() as u32,
        classes: s.classes() as u16,
        inputs: minnow_core::i8_bytes(&input),
        logits: minnow_core::i8_bytes(&out),
        labels: &[UNKNOWN_CLASS],
        teacher: &[UNKNOWN_CLASS],
    };
    g.encode_to_vec().expect("golden encodes")
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
