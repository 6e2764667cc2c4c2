//! Instructions per inference of a student on each emulated core, known before it is trained:
//! a linear model per core and layer kind over what the kernel loops do, calibrated on the
//! firmware's own per-layer counts under QEMU (`-icount shift=0`, SysTick; the release firmware,
//! built for size, as `minnow verify` builds it).
//!
//! A layer's instructions are `w . features`, the features being what its kernel's loops count:
//! multiply-accumulates, outputs (each requantized), the values a convolution gathers (a
//! pixel's receptive field is copied before its dot products), output pixels, the values a
//! 4-wide loop leaves to its scalar tail, MACs of dense rows done one at a time, rows, and 1
//! ([`work_of`] says which kernel counts which); an inference adds a constant and a per-layer term (the firmware's layer loop). The weights come from
//! `scripts/calibrate-instructions.sh`, which trains students of a dozen architectures, runs
//! them on the five cores and fits them ([`super::calibrate`]); it writes `instructions.json`
//! beside this file and docs/instructions.md, the model's error against every measured run and
//! left out of its own fit.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use minnow_core::{Layer, Student};
use serde::{Deserialize, Serialize};

/// The relative error the journeys hold the model to on students it was not fitted on (the
/// default digits MLP, the iris MLP, the sensor 1-D CNN; measured within 4.1 %).
/// docs/instructions.md has the error of each calibration student left out of the fit: 3.0 %
/// on average on the M4, 18 % at most (a depthwise CNN on 8x8 digits, nearly every pixel of
/// which is on the border, which the model does not count apart).
pub const TOLERANCE: f64 = 0.10;

/// Features of a layer, in this order: MACs, outputs, gathered values, output pixels, tail
/// values, single-row MACs, rows, 1 (see [`work_of`]).
pub const FEATURES: usize = 8;

/// The emulated cores, in the order of [`Instructions`].
pub const CORES: [&str; 5] = ["m0", "m3", "m4", "m7", "m33"];

/// What one layer's kernel does, as the model sees it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LayerWork {
    /// [`minnow_core::Layer::kind`]: `dense`, `conv2d`, `max_pool2d`, ...
    pub kind: &'static str,
    pub features: [f64; FEATURES],
}

/// One core's model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CoreModel {
    /// Weights of [`LayerWork::features`] per layer kind.
    pub kinds: BTreeMap<String, [f64; FEATURES]>,
    /// Per inference: a constant and a weight per layer.
    pub overhead: [f64; 2],
}

/// The model of every core, as `instructions.json` stores it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Model {
    /// How the weights were measured (firmware profile, the architectures).
    pub calibrated_on: String,
    /// By core name (`m4`).
    pub cores: BTreeMap<String, CoreModel>,
}

/// Instructions per inference predicted on each of [`CORES`]; `None` where the model has no
/// weights for the core or for one of the student's layer kinds there.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Instructions(pub [Option<u64>; CORES.len()]);

impl Instructions {
    /// The prediction for `core` (`m4`, `cortex-m4`, `mps2-an386`: as `--core` takes it).
    pub fn on(&self, core: &str) -> Option<u64> {
        let board = crate::device::boards::qemu_board(core)?;
        CORES
            .iter()
            .position(|&c| c == board.core)
            .and_then(|i| self.0[i])
    }
}

/// The calibrated model this binary carries.
pub fn model() -> &'static Model {
    static MODEL: OnceLock<Model> = OnceLock::new();
    MODEL.get_or_init(|| {
        serde_json::from_str(include_str!("instructions.json"))
            .expect("fit/instructions.json is written by scripts/calibrate-instructions.sh")
    })
}

/// The work of every layer of `student`, in order.
///
/// Each kernel gets the features its loops count, and none that another feature of the same
/// kind already determines (a 3x3 depthwise layer's MACs are 9 times its outputs: both would
/// leave the fit undetermined). A 3x3, stride-1 convolution of one input channel is a kind of
/// its own, `conv2d_rows`: on cores with SMLAD it runs a row kernel, not the pixel pairs; so is
/// max pooling over windows other than 2x2, `max_pool2d_loop`.
pub fn layer_work(student: &Student<'_>) -> Result<Vec<LayerWork>, String> {
    let mut out = Vec::new();
    for (i, layer) in student.layers().enumerate() {
        let layer = layer.map_err(|e| format!("layer {i}: {e}"))?;
        let shapes = student
            .layer_shapes(i)
            .ok_or_else(|| format!("layer {i}: no shapes"))?;
        out.push(work_of(&layer, shapes.input, shapes.output));
    }
    Ok(out)
}

/// Indices of [`LayerWork::features`].
const MACS: usize = 0;
const OUTPUTS: usize = 1;
const GATHERED: usize = 2;
const PIXELS: usize = 3;
/// Values a 4-wide loop leaves to its scalar tail.
const TAIL: usize = 4;
/// A dense layer's MACs done one row at a time: with SMLAD rows go three at a time when the
/// input is whole words, and the rest (all of them otherwise) one by one.
const SINGLE_ROW_MACS: usize = 5;
/// Output rows times the channels (or channel groups) a row loop runs for.
const ROWS: usize = 6;
const ONE: usize = 7;

fn work_of(
    layer: &Layer<'_>,
    input: minnow_core::layer::Shape,
    output: minnow_core::layer::Shape,
) -> LayerWork {
    let n = |v: u16| f64::from(v);
    let outputs = output.len() as f64;
    let pixels = n(output.height) * n(output.width);
    let channels = n(output.channels);
    let mut f = [0.0; FEATURES];
    f[ONE] = 1.0;
    let mut kind = layer.kind();
    match layer {
        Layer::Dense(_) => {
            let inputs = input.len() as f64;
            f[MACS] = inputs * outputs;
            f[OUTPUTS] = outputs;
            f[TAIL] = outputs * (inputs % 4.0);
            let single_rows = if inputs % 4.0 == 0.0 {
                outputs % 3.0
            } else {
                outputs
            };
            f[SINGLE_ROW_MACS] = single_rows * inputs;
        }
        Layer::Conv2d(c) if (input.channels, c.kernel_h, c.kernel_w, c.stride) == (1, 3, 3, 1) => {
            kind = "conv2d_rows";
            f[OUTPUTS] = outputs;
            f[PIXELS] = pixels;
            f[ROWS] = n(output.height) * channels;
        }
        Layer::Conv2d(c) => {
            let field = f64::from(c.kernel_h) * f64::from(c.kernel_w) * n(input.channels);
            f[MACS] = outputs * field;
            f[OUTPUTS] = outputs;
            f[GATHERED] = pixels * field;
            f[PIXELS] = pixels;
            f[TAIL] = outputs * (field % 4.0);
        }
        Layer::DepthwiseConv2d(_) => {
            f[OUTPUTS] = outputs;
            f[PIXELS] = pixels;
            f[TAIL] = pixels * (channels % 4.0);
            f[ROWS] = n(output.height) * (channels / 4.0).ceil();
        }
        Layer::Flatten => {}
        _ => {
            // Pools: the values read (window per output) rather than the outputs, which the
            // 2x2 windows would make a multiple of them.
            if let Some((p, max)) = layer.pool() {
                // Max pooling unrolls 2x2 windows; other windows (the 1-D CNNs' 2x1) loop.
                if max && (p.kernel_h, p.kernel_w) != (2, 2) {
                    kind = "max_pool2d_loop";
                }
                f[MACS] = outputs * f64::from(p.kernel_h) * f64::from(p.kernel_w);
                f[PIXELS] = pixels;
                f[TAIL] = pixels * (channels % 4.0);
            }
        }
    }
    LayerWork { kind, features: f }
}

/// Instructions per inference of `layers` on one core; `None` when the core's model has no
/// weights for one of their kinds.
pub fn predict_core(model: &CoreModel, layers: &[LayerWork]) -> Option<f64> {
    let mut total = model.overhead[0] + model.overhead[1] * layers.len() as f64;
    for l in layers {
        let w = model.kinds.get(l.kind)?;
        total += dot(w, &l.features);
    }
    Some(total.max(0.0))
}

/// Instructions per inference of the student `blob` on every core.
pub fn predict(blob: &[u8]) -> Result<Instructions, String> {
    let student = Student::decode(blob).map_err(|e| e.to_string())?;
    let layers = layer_work(&student)?;
    let model = model();
    let mut out = Instructions::default();
    for (slot, core) in out.0.iter_mut().zip(CORES) {
        if let Some(m) = model.cores.get(core) {
            *slot = predict_core(m, &layers).map(|v| v.round() as u64);
        }
    }
    Ok(out)
}

pub fn dot(w: &[f64; FEATURES], x: &[f64; FEATURES]) -> f64 {
    w.iter().zip(x).map(|(a, b)| a * b).sum()
}
