//! Teacher and student networks in burn, described by a serialisable [`NetSpec`].
//!
//! One module type, [`Net`], holds the parameters of any stack of the layers minnow-core runs
//! (dense, conv, depthwise conv, max/avg pooling, flatten, with fused ReLU/ReLU6) plus dropout
//! (training only). The [`NetSpec`] says what the parameters mean; [`Model`] pairs the two.
//!
//! Activations are NCHW inside burn (inputs arrive as NHWC batches and are permuted once);
//! [`Model::to_float_student`] converts to minnow's NHWC/OHWI layouts, permuting the columns of a
//! dense layer that follows a spatial flatten from CHW to HWC order.
//!
//! All randomness (initial weights, dropout masks) comes from [`Rng`], seeded by the caller, so
//! training is reproducible regardless of burn's global RNG or test threads running in parallel.

use burn::module::{Module, Param, ParamId};
use burn::tensor::module::{avg_pool2d, conv2d, linear, max_pool2d};
use burn::tensor::ops::{AvgPoolOptions, ConvOptions, MaxPoolOptions};
use burn::tensor::{Device, Tensor, TensorData};
use minnow_core::Activation;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::float_model::{Act, FloatLayer, FloatStudent};
use crate::qat::{FakeQuant, fake_quantize, fake_quantize_conv, fake_quantize_dense};

/// SplitMix64: small, fast, and fully determined by its seed.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    /// An independent stream for `(seed, stream)`, e.g. one per epoch.
    pub fn stream(seed: u64, stream: u64) -> Self {
        let mut r = Rng(seed ^ stream.wrapping_mul(0xD1B5_4A32_D192_ED03));
        r.next_u64();
        r
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, 1)`.
    pub fn uniform(&mut self) -> f32 {
        (self.next_u64() >> 40) as f32 / (1u64 << 24) as f32
    }

    /// Uniform integer in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
    }

    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i + 1);
            items.swap(i, j);
        }
    }
}

/// One layer of a network description.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
pub enum LayerSpec {
    /// Fully connected; its input must be flat (after `flatten` or another dense layer).
    Dense {
        out: usize,
        act: Act,
    },
    /// Square-kernel convolution with symmetric zero padding.
    Conv {
        out: usize,
        kernel: usize,
        stride: usize,
        padding: usize,
        act: Act,
    },
    /// Depthwise convolution, channel multiplier 1.
    Depthwise {
        kernel: usize,
        stride: usize,
        padding: usize,
        act: Act,
    },
    MaxPool {
        kernel: usize,
        stride: usize,
    },
    AvgPool {
        kernel: usize,
        stride: usize,
    },
    Flatten,
    /// Inverted dropout with drop probability `p`; identity at inference (and in exports).
    Dropout {
        p: f32,
    },
}

/// A network: input shape, class count and layers. Serialised with every saved model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetSpec {
    /// `[height, width, channels]` of one input.
    pub input_shape: [usize; 3],
    pub classes: usize,
    pub layers: Vec<LayerSpec>,
}

/// Shape of an activation while walking a spec: spatial NHWC, or flat.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shp {
    Spatial([usize; 3]),
    Flat(usize),
}

fn window_out(input: usize, kernel: usize, stride: usize, padding: usize) -> Option<usize> {
    let padded = input + 2 * padding;
    (kernel > 0 && stride > 0 && padded >= kernel).then(|| (padded - kernel) / stride + 1)
}

/// Which architecture family [`NetSpec::build`] makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Arch {
    /// Flatten, dense hidden layers (ReLU, dropout), dense output.
    #[default]
    Mlp,
    /// Conv 3x3 blocks (ReLU, 2x2 max pooling), optional dense hidden layers, dense output.
    Cnn,
    /// MobileNet-style: a 3x3 conv, then depthwise 3x3 + pointwise 1x1 blocks (ReLU6), average
    /// pooling, dense output.
    Dwcnn,
}

/// The knobs [`NetSpec::build`] reads.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ArchParams {
    pub arch: Arch,
    /// Dense hidden layer widths.
    pub hidden: Vec<usize>,
    /// Conv block widths (cnn, dwcnn).
    pub channels: Vec<usize>,
    /// Dropout probability after each hidden dense layer (and after the conv stack).
    pub dropout: f32,
    /// ReLU6 instead of ReLU (cnn, mlp; dwcnn always uses ReLU6).
    pub relu6: bool,
}

impl NetSpec {
    /// Builds the layers of a standard architecture for `input_shape` and `classes`.
    pub fn build(p: &ArchParams, input_shape: [usize; 3], classes: usize) -> Result<NetSpec> {
        let act = if p.relu6 { Act::Relu6 } else { Act::Relu };
        let mut layers = Vec::new();
        let drop = |layers: &mut Vec<LayerSpec>| {
            if p.dropout > 0.0 {
                layers.push(LayerSpec::Dropout { p: p.dropout });
            }
        };
        match p.arch {
            Arch::Mlp => {}
            Arch::Cnn => {
                let [mut h, mut w, _] = input_shape;
                for &c in &p.channels {
                    layers.push(LayerSpec::Conv {
                        out: c,
                        kernel: 3,
                        stride: 1,
                        padding: 1,
                        act,
                    });
                    if h >= 2 && w >= 2 {
                        layers.push(LayerSpec::MaxPool {
                            kernel: 2,
                            stride: 2,
                        });
                        h /= 2;
                        w /= 2;
                    }
                }
            }
            Arch::Dwcnn => {
                let mut it = p.channels.iter();
                let first = *it.next().ok_or_else(|| {
                    Error::Config("dwcnn needs at least one entry in channels".into())
                })?;
                layers.push(LayerSpec::Conv {
                    out: first,
                    kernel: 3,
                    stride: 1,
                    padding: 1,
                    act: Act::Relu6,
                });
                let [mut h, mut w, _] = input_shape;
                for &c in it {
                    layers.push(LayerSpec::Depthwise {
                        kernel: 3,
                        stride: 1,
                        padding: 1,
                        act: Act::Relu6,
                    });
                    layers.push(LayerSpec::Conv {
                        out: c,
                        kernel: 1,
                        stride: 1,
                        padding: 0,
                        act: Act::Relu6,
                    });
                    if h >= 2 && w >= 2 {
                        layers.push(LayerSpec::AvgPool {
                            kernel: 2,
                            stride: 2,
                        });
                        h /= 2;
                        w /= 2;
                    }
                }
            }
        }
        layers.push(LayerSpec::Flatten);
        if p.arch != Arch::Mlp {
            drop(&mut layers);
        }
        for &h in &p.hidden {
            layers.push(LayerSpec::Dense { out: h, act });
            drop(&mut layers);
        }
        layers.push(LayerSpec::Dense {
            out: classes,
            act: Act::None,
        });
        let spec = NetSpec {
            input_shape,
            classes,
            layers,
        };
        spec.shapes()?;
        Ok(spec)
    }

    /// Output shape of every layer; errors on an inconsistent spec.
    fn shapes(&self) -> Result<Vec<Shp>> {
        let bad = |i: usize, why: &str| Error::Config(format!("layer {i} of the network: {why}"));
        if self.input_shape.contains(&0) || self.classes == 0 {
            return Err(Error::Config(format!(
                "input shape {:?} / classes {} must be non-zero",
                self.input_shape, self.classes
            )));
        }
        let mut cur = Shp::Spatial(self.input_shape);
        let mut out = Vec::with_capacity(self.layers.len());
        for (i, l) in self.layers.iter().enumerate() {
            cur = match (*l, cur) {
                (LayerSpec::Dense { out, .. }, Shp::Flat(_)) if out > 0 => Shp::Flat(out),
                (LayerSpec::Dense { .. }, Shp::Spatial(_)) => {
                    return Err(bad(
                        i,
                        "dense layer needs a flat input (add a flatten layer)",
                    ));
                }
                (
                    LayerSpec::Conv {
                        out,
                        kernel,
                        stride,
                        padding,
                        ..
                    },
                    Shp::Spatial([h, w, _]),
                ) if out > 0 => Shp::Spatial([
                    window_out(h, kernel, stride, padding)
                        .ok_or_else(|| bad(i, "kernel larger than input"))?,
                    window_out(w, kernel, stride, padding)
                        .ok_or_else(|| bad(i, "kernel larger than input"))?,
                    out,
                ]),
                (
                    LayerSpec::Depthwise {
                        kernel,
                        stride,
                        padding,
                        ..
                    },
                    Shp::Spatial([h, w, c]),
                ) => Shp::Spatial([
                    window_out(h, kernel, stride, padding)
                        .ok_or_else(|| bad(i, "kernel larger than input"))?,
                    window_out(w, kernel, stride, padding)
                        .ok_or_else(|| bad(i, "kernel larger than input"))?,
                    c,
                ]),
                (
                    LayerSpec::MaxPool { kernel, stride } | LayerSpec::AvgPool { kernel, stride },
                    Shp::Spatial([h, w, c]),
                ) => Shp::Spatial([
                    window_out(h, kernel, stride, 0)
                        .ok_or_else(|| bad(i, "pool window larger than input"))?,
                    window_out(w, kernel, stride, 0)
                        .ok_or_else(|| bad(i, "pool window larger than input"))?,
                    c,
                ]),
                (LayerSpec::Flatten, Shp::Spatial([h, w, c])) => Shp::Flat(h * w * c),
                (LayerSpec::Flatten, s @ Shp::Flat(_)) => s,
                (LayerSpec::Dropout { p }, s) if (0.0..1.0).contains(&p) => s,
                (LayerSpec::Dropout { p }, _) => {
                    return Err(bad(i, &format!("dropout probability {p} is not in [0, 1)")));
                }
                (_, Shp::Flat(_)) => return Err(bad(i, "spatial layer after flatten")),
                _ => return Err(bad(i, "zero-sized layer")),
            };
            out.push(cur);
        }
        match cur {
            Shp::Flat(n) if n == self.classes => Ok(out),
            _ => Err(Error::Config(format!(
                "the network must end in a flat layer of {} outputs (one per class)",
                self.classes
            ))),
        }
    }

    /// Whether the spec only uses ops minnow-core runs on the device (dropout is dropped on export).
    pub fn parameter_count(&self) -> usize {
        let Ok(shapes) = self.shapes() else { return 0 };
        let mut prev = Shp::Spatial(self.input_shape);
        let mut n = 0;
        for (l, s) in self.layers.iter().zip(shapes) {
            let in_c = match prev {
                Shp::Spatial([_, _, c]) => c,
                Shp::Flat(f) => f,
            };
            n += match *l {
                LayerSpec::Dense { out, .. } => in_c * out + out,
                LayerSpec::Conv { out, kernel, .. } => out * kernel * kernel * in_c + out,
                LayerSpec::Depthwise { kernel, .. } => kernel * kernel * in_c + in_c,
                _ => 0,
            };
            prev = s;
        }
        n
    }
}

/// The parameters of one layer (all `None` for layers without weights).
#[derive(Module, Debug)]
pub struct LayerParams {
    /// Dense weight, `[in, out]` (burn's layout: `y = x W + b`).
    pub w2: Option<Param<Tensor<2>>>,
    /// Conv weight, `[out, in / groups, kh, kw]` (OIHW).
    pub w4: Option<Param<Tensor<4>>>,
    pub bias: Option<Param<Tensor<1>>>,
}

/// The burn module: one [`LayerParams`] per layer of the spec.
#[derive(Module, Debug)]
pub struct Net {
    pub layers: Vec<LayerParams>,
}

/// A spec and its parameters.
#[derive(Debug, Clone)]
pub struct Model {
    pub spec: NetSpec,
    pub net: Net,
}

/// A parameter with a deterministic id. burn's default ids are random, and records store them,
/// so random ids would make two runs with the same seed write different bytes.
fn param<const D: usize>(
    id: u64,
    values: Vec<f32>,
    shape: [usize; D],
    device: &Device,
) -> Param<Tensor<D>> {
    let mut p = Param::from_tensor(Tensor::from_data(TensorData::new(values, shape), device));
    p.id = ParamId::from(id);
    p
}

fn uniform_vec(rng: &mut Rng, n: usize, bound: f32) -> Vec<f32> {
    (0..n)
        .map(|_| (rng.uniform() * 2.0 - 1.0) * bound)
        .collect()
}

fn apply_act<const D: usize>(x: Tensor<D>, act: Act) -> Tensor<D> {
    match act {
        Act::None => x,
        Act::Relu => x.clamp_min(0.0),
        Act::Relu6 => x.clamp(0.0, 6.0),
    }
}

enum Activ {
    S(Tensor<4>),
    F(Tensor<2>),
}

fn dropout_mask<const D: usize>(
    shape: [usize; D],
    p: f32,
    rng: &mut Rng,
    device: &Device,
) -> Tensor<D> {
    let n: usize = shape.iter().product();
    let keep = 1.0 - p;
    let v: Vec<f32> = (0..n)
        .map(|_| {
            if rng.uniform() < keep {
                1.0 / keep
            } else {
                0.0
            }
        })
        .collect();
    Tensor::from_data(TensorData::new(v, shape), device)
}

impl Model {
    /// Fresh parameters from `seed` (He-uniform weights for ReLU layers, LeCun-uniform for the
    /// output layer, zero biases), on `device`.
    pub fn init(spec: NetSpec, seed: u64, device: &Device) -> Result<Model> {
        let shapes = spec.shapes()?;
        let mut rng = Rng::stream(seed, 0x1417);
        let mut prev = Shp::Spatial(spec.input_shape);
        let mut layers = Vec::with_capacity(spec.layers.len());
        for (i, (l, s)) in spec.layers.iter().zip(&shapes).enumerate() {
            // Ids 2i+1 (weights) and 2i+2 (bias) of layer i.
            let (wid, bid) = (2 * i as u64 + 1, 2 * i as u64 + 2);
            let gain = |act: Act| if act == Act::None { 3.0f32 } else { 6.0 };
            let lp = match (*l, prev) {
                (LayerSpec::Dense { out, act }, Shp::Flat(inp)) => {
                    let bound = (gain(act) / inp as f32).sqrt();
                    LayerParams {
                        w2: Some(param(
                            wid,
                            uniform_vec(&mut rng, inp * out, bound),
                            [inp, out],
                            device,
                        )),
                        w4: None,
                        bias: Some(param(bid, vec![0.0; out], [out], device)),
                    }
                }
                (
                    LayerSpec::Conv {
                        out, kernel, act, ..
                    },
                    Shp::Spatial([_, _, c]),
                ) => {
                    let fan_in = c * kernel * kernel;
                    let bound = (gain(act) / fan_in as f32).sqrt();
                    LayerParams {
                        w2: None,
                        w4: Some(param(
                            wid,
                            uniform_vec(&mut rng, out * fan_in, bound),
                            [out, c, kernel, kernel],
                            device,
                        )),
                        bias: Some(param(bid, vec![0.0; out], [out], device)),
                    }
                }
                (LayerSpec::Depthwise { kernel, act, .. }, Shp::Spatial([_, _, c])) => {
                    let bound = (gain(act) / (kernel * kernel) as f32).sqrt();
                    LayerParams {
                        w2: None,
                        w4: Some(param(
                            wid,
                            uniform_vec(&mut rng, c * kernel * kernel, bound),
                            [c, 1, kernel, kernel],
                            device,
                        )),
                        bias: Some(param(bid, vec![0.0; c], [c], device)),
                    }
                }
                _ => LayerParams {
                    w2: None,
                    w4: None,
                    bias: None,
                },
            };
            layers.push(lp);
            prev = *s;
        }
        Ok(Model {
            spec,
            net: Net { layers },
        })
    }

    /// Logits `[batch, classes]` for a batch of normalised NHWC inputs `[batch, h, w, c]`.
    /// `dropout`: the RNG for dropout masks while training; `None` at inference.
    pub fn forward(&self, x: Tensor<4>, dropout: Option<&mut Rng>) -> Tensor<2> {
        forward_net(&self.spec, &self.net, x, dropout, None)
    }

    /// Logits for raw rows of normalised NHWC features (`n * h * w * c` values), in batches.
    pub fn predict(&self, features: &[f32], device: &Device, batch: usize) -> Vec<f32> {
        self.predict_on_grid(features, device, batch, None)
    }

    /// [`Model::predict`], computed on the int8 grids of `quant` when given (what the exported
    /// student would compute, up to rounding ties and the int32 bias).
    pub fn predict_on_grid(
        &self,
        features: &[f32],
        device: &Device,
        batch: usize,
        quant: Option<&FakeQuant>,
    ) -> Vec<f32> {
        let net = self.net.valid();
        let device = device.clone().without_autodiff();
        let device = &device;
        let dim: usize = self.spec.input_shape.iter().product();
        let [h, w, c] = self.spec.input_shape;
        let n = features.len() / dim;
        let mut out = Vec::with_capacity(n * self.spec.classes);
        for start in (0..n).step_by(batch.max(1)) {
            let end = (start + batch.max(1)).min(n);
            let x = Tensor::<4>::from_data(
                TensorData::new(
                    features[start * dim..end * dim].to_vec(),
                    [end - start, h, w, c],
                ),
                device,
            );
            let y = forward_net(&self.spec, &net, x, None, quant);
            out.extend(y.into_data().try_into_vec::<f32>().unwrap_or_default());
        }
        out
    }

    /// Converts to minnow's float format (NHWC activations, OHWI conv weights, dense inputs in
    /// NHWC flatten order); dropout layers are left out.
    pub fn to_float_student(
        &self,
        name: &str,
        norm_mean: f32,
        norm_std: f32,
        temperature: f32,
    ) -> Result<FloatStudent> {
        let shapes = self.spec.shapes()?;
        let vals = |t: &Option<Param<Tensor<2>>>| {
            t.as_ref()
                .map(|p| {
                    p.val()
                        .into_data()
                        .try_into_vec::<f32>()
                        .unwrap_or_default()
                })
                .unwrap_or_default()
        };
        let vals4 = |t: &Option<Param<Tensor<4>>>| {
            t.as_ref()
                .map(|p| {
                    p.val()
                        .into_data()
                        .try_into_vec::<f32>()
                        .unwrap_or_default()
                })
                .unwrap_or_default()
        };
        let bias = |t: &Option<Param<Tensor<1>>>| {
            t.as_ref()
                .map(|p| {
                    p.val()
                        .into_data()
                        .try_into_vec::<f32>()
                        .unwrap_or_default()
                })
                .unwrap_or_default()
        };
        let mut layers = Vec::new();
        let mut prev = Shp::Spatial(self.spec.input_shape);
        // The NHWC shape that the most recent flatten flattened (for permuting dense columns).
        let mut flattened: Option<[usize; 3]> = None;
        for ((l, s), p) in self.spec.layers.iter().zip(&shapes).zip(&self.net.layers) {
            match (*l, prev) {
                (LayerSpec::Dense { out, act }, Shp::Flat(inp)) => {
                    let w = vals(&p.w2); // [inp][out], inp in burn's (CHW) order
                    let mut weight = vec![0.0f32; inp * out];
                    for o in 0..out {
                        for j in 0..inp {
                            // j indexes minnow's input (HWC order); find burn's index.
                            let src = match flattened {
                                Some([h, w_, c]) => (j % c) * (h * w_) + j / c,
                                None => j,
                            };
                            weight[o * inp + j] = w[src * out + o];
                        }
                    }
                    layers.push(FloatLayer::Dense {
                        in_features: inp,
                        out_features: out,
                        weight,
                        bias: bias(&p.bias),
                        act,
                    });
                    flattened = None;
                }
                (
                    LayerSpec::Conv {
                        out,
                        kernel,
                        stride,
                        padding,
                        act,
                    },
                    Shp::Spatial([_, _, c]),
                ) => {
                    let w = vals4(&p.w4); // [out][c][kh][kw]
                    let mut weight = vec![0.0f32; w.len()];
                    for o in 0..out {
                        for ci in 0..c {
                            for ky in 0..kernel {
                                for kx in 0..kernel {
                                    weight[((o * kernel + ky) * kernel + kx) * c + ci] =
                                        w[((o * c + ci) * kernel + ky) * kernel + kx];
                                }
                            }
                        }
                    }
                    layers.push(FloatLayer::Conv2d {
                        in_channels: c,
                        out_channels: out,
                        kernel: [kernel, kernel],
                        stride,
                        padding,
                        weight,
                        bias: bias(&p.bias),
                        act,
                    });
                }
                (
                    LayerSpec::Depthwise {
                        kernel,
                        stride,
                        padding,
                        act,
                    },
                    Shp::Spatial([_, _, c]),
                ) => {
                    let w = vals4(&p.w4); // [c][1][kh][kw]
                    let mut weight = vec![0.0f32; w.len()];
                    for ci in 0..c {
                        for k in 0..kernel * kernel {
                            weight[k * c + ci] = w[ci * kernel * kernel + k];
                        }
                    }
                    layers.push(FloatLayer::DepthwiseConv2d {
                        channels: c,
                        kernel: [kernel, kernel],
                        stride,
                        padding,
                        weight,
                        bias: bias(&p.bias),
                        act,
                    });
                }
                (LayerSpec::MaxPool { kernel, stride }, _) => {
                    layers.push(FloatLayer::MaxPool2d { kernel, stride })
                }
                (LayerSpec::AvgPool { kernel, stride }, _) => {
                    layers.push(FloatLayer::AvgPool2d { kernel, stride })
                }
                (LayerSpec::Flatten, Shp::Spatial(shape)) => {
                    layers.push(FloatLayer::Flatten);
                    if shape[0] * shape[1] > 1 && shape[2] > 1 {
                        flattened = Some(shape);
                    }
                }
                (LayerSpec::Flatten, Shp::Flat(_)) | (LayerSpec::Dropout { .. }, _) => {}
                _ => return Err(Error::Config(format!("layer {l:?} cannot be exported"))),
            }
            prev = *s;
        }
        Ok(FloatStudent {
            name: name.to_owned(),
            input_shape: self.spec.input_shape,
            classes: self.spec.classes,
            norm_mean,
            norm_std,
            temperature,
            layers,
        })
    }

    /// The parameters as burnpack bytes (a burn [`burn::store::ModuleRecord`]).
    pub fn record_bytes(&self) -> Result<Vec<u8>> {
        let bytes = self
            .net
            .clone()
            .into_record()
            .into_bytes()
            .map_err(|e| Error::Record(e.to_string()))?;
        Ok(bytes.to_vec())
    }

    /// A model of `spec` with the parameters of [`Model::record_bytes`].
    pub fn from_record_bytes(spec: NetSpec, bytes: &[u8], device: &Device) -> Result<Model> {
        let fresh = Model::init(spec, 0, device)?;
        let record = burn::store::ModuleRecord::from_bytes(burn::tensor::Bytes::from_bytes_vec(
            bytes.to_vec(),
        ))
        .map_err(|e| Error::Record(e.to_string()))?;
        let net = fresh
            .net
            .try_load_record(record)
            .map_err(|e| Error::Record(e.to_string()))?;
        Ok(Model {
            spec: fresh.spec,
            net,
        })
    }

    /// Adds `amount` to the output-layer bias of each class in `classes` (Hinton et al.'s
    /// correction for classes missing from the transfer set).
    pub fn raise_output_bias(&mut self, classes: &[usize], amount: f32) -> Result<()> {
        let last = self
            .net
            .layers
            .iter_mut()
            .rev()
            .find(|l| l.w2.is_some() || l.w4.is_some())
            .ok_or_else(|| Error::Config("the network has no layer with weights".into()))?;
        let b = last
            .bias
            .take()
            .ok_or_else(|| Error::Config("the output layer has no bias".into()))?;
        let mut v = b
            .val()
            .into_data()
            .try_into_vec::<f32>()
            .unwrap_or_default();
        for &c in classes {
            if let Some(x) = v.get_mut(c) {
                *x += amount;
            } else {
                return Err(Error::Config(format!(
                    "missing class {c} is not < {} classes",
                    v.len()
                )));
            }
        }
        let n = v.len();
        last.bias = Some(b.map(|t| {
            let grad = t.is_require_grad();
            let t = Tensor::from_data(TensorData::new(v, [n]), &t.device());
            if grad { t.require_grad() } else { t }
        }));
        Ok(())
    }
}

/// `y` rounded to the int8 grid `g` when quantization-aware, else `y`.
fn on_grid<const D: usize>(y: Tensor<D>, g: Option<Activation>) -> Tensor<D> {
    match g {
        Some(g) => fake_quantize(y, g),
        None => y,
    }
}

/// [`Model::forward`] on explicit parts (the optimizer steps `Net` alone). With `quant`, the
/// pass is quantization-aware: weights and activations are rounded to the int8 grids the
/// exported student computes on ([`crate::qat`]).
pub fn forward_net(
    spec: &NetSpec,
    net: &Net,
    x: Tensor<4>,
    mut dropout: Option<&mut Rng>,
    quant: Option<&FakeQuant>,
) -> Tensor<2> {
    let x = x.permute([0, 3, 1, 2]);
    let mut a = Activ::S(on_grid(x, quant.map(|q| q.input)));
    // The index of the exported layer the current spec layer becomes (dropout and a flatten
    // of a flat tensor are not exported).
    let mut exported = 0usize;
    // The grid of an exported layer's output (after its activation; a pooling layer's is its
    // input's, see `FakeQuant::outputs`).
    let output_grid = |exported: usize| quant.and_then(|q| q.outputs.get(exported).copied());
    let dense_weight = |w: Tensor<2>| match quant {
        Some(_) => fake_quantize_dense(w),
        None => w,
    };
    let conv_weight = |w: Tensor<4>| match quant {
        Some(_) => fake_quantize_conv(w),
        None => w,
    };
    for (l, p) in spec.layers.iter().zip(&net.layers) {
        a = match (*l, a) {
            (LayerSpec::Dense { act, .. }, Activ::F(x)) => {
                let w = p.w2.as_ref().map(|w| dense_weight(w.val()));
                let b = p.bias.as_ref().map(|b| b.val());
                let y = match w {
                    Some(w) => on_grid(apply_act(linear(x, w, b), act), output_grid(exported)),
                    None => x,
                };
                exported += 1;
                Activ::F(y)
            }
            (
                LayerSpec::Conv {
                    stride,
                    padding,
                    act,
                    ..
                },
                Activ::S(x),
            ) => {
                let w = p.w4.as_ref().map(|w| conv_weight(w.val()));
                let b = p.bias.as_ref().map(|b| b.val());
                let y = match w {
                    // As one matrix multiply: 3-12x faster than conv2d on burn-ndarray, same
                    // values (crate::im2col).
                    Some(w) => on_grid(
                        apply_act(crate::im2col::conv2d_im2col(x, w, b, stride, padding), act),
                        output_grid(exported),
                    ),
                    None => x,
                };
                exported += 1;
                Activ::S(y)
            }
            (
                LayerSpec::Depthwise {
                    stride,
                    padding,
                    act,
                    ..
                },
                Activ::S(x),
            ) => {
                let groups = x.dims()[1];
                let w = p.w4.as_ref().map(|w| conv_weight(w.val()));
                let b = p.bias.as_ref().map(|b| b.val());
                let y = match w {
                    Some(w) => on_grid(
                        apply_act(
                            conv2d(
                                x,
                                w,
                                b,
                                ConvOptions::new(
                                    [stride, stride],
                                    [padding, padding],
                                    [1, 1],
                                    groups,
                                ),
                            ),
                            act,
                        ),
                        output_grid(exported),
                    ),
                    None => x,
                };
                exported += 1;
                Activ::S(y)
            }
            (LayerSpec::MaxPool { kernel, stride }, Activ::S(x)) => {
                exported += 1;
                // The max of values on a grid is on the grid.
                Activ::S(max_pool2d(
                    x,
                    MaxPoolOptions::new([kernel, kernel]).with_stride([stride, stride]),
                ))
            }
            (LayerSpec::AvgPool { kernel, stride }, Activ::S(x)) => {
                let y = avg_pool2d(
                    x,
                    AvgPoolOptions::new([kernel, kernel]).with_stride([stride, stride]),
                );
                // The int8 kernel rounds the mean back to its input's grid.
                let y = on_grid(y, output_grid(exported));
                exported += 1;
                Activ::S(y)
            }
            (LayerSpec::Flatten, Activ::S(x)) => {
                exported += 1;
                let [b, c, h, w] = x.dims();
                Activ::F(x.reshape([b, c * h * w]))
            }
            (LayerSpec::Dropout { p: prob }, a) if prob > 0.0 && dropout.is_some() => {
                let rng = dropout.as_deref_mut().expect("checked");
                match a {
                    Activ::S(x) => {
                        let m = dropout_mask(x.dims(), prob, rng, &x.device());
                        Activ::S(x * m)
                    }
                    Activ::F(x) => {
                        let m = dropout_mask(x.dims(), prob, rng, &x.device());
                        Activ::F(x * m)
                    }
                }
            }
            (_, a) => a,
        };
    }
    match a {
        Activ::F(x) => x,
        Activ::S(x) => {
            let [b, c, h, w] = x.dims();
            x.reshape([b, c * h * w])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arch(arch: Arch, hidden: &[usize], channels: &[usize], relu6: bool) -> ArchParams {
        ArchParams {
            arch,
            hidden: hidden.to_vec(),
            channels: channels.to_vec(),
            dropout: 0.0,
            relu6,
        }
    }

    /// `FloatStudent::forward` of the converted model equals burn's forward within 1e-4 on random
    /// inputs: checks every weight permutation (OIHW→OHWI, depthwise, CHW→HWC dense columns).
    fn check_conversion(spec: NetSpec, seed: u64) {
        let dev = crate::train::device(Default::default()).expect("cpu device");
        let mut model = Model::init(spec.clone(), seed, &dev).expect("init");
        // Non-zero biases so that their layout is checked too.
        for (i, l) in model.net.layers.iter_mut().enumerate() {
            if let Some(b) = l.bias.take() {
                let n = b.val().dims()[0];
                let v: Vec<f32> = (0..n)
                    .map(|j| ((i * 31 + j * 7) % 11) as f32 * 0.05 - 0.2)
                    .collect();
                l.bias = Some(b.map(|t| Tensor::from_data(TensorData::new(v, [n]), &t.device())));
            }
        }
        let fs = model.to_float_student("t", 0.0, 1.0, 1.0).expect("convert");
        let [h, w, c] = spec.input_shape;
        let dim = h * w * c;
        let mut rng = Rng::new(seed + 1);
        let n = 5;
        let x: Vec<f32> = (0..n * dim).map(|_| rng.uniform() * 4.0 - 2.0).collect();
        let burn_out = model.predict(&x, &dev, 3);
        for s in 0..n {
            let f = fs.forward(&x[s * dim..(s + 1) * dim]);
            assert_eq!(f.len(), spec.classes);
            for k in 0..spec.classes {
                let b = burn_out[s * spec.classes + k];
                assert!(
                    (f[k] - b).abs() < 1e-4,
                    "sample {s} class {k}: float {} vs burn {b}",
                    f[k]
                );
            }
        }
        assert_eq!(fs.parameters(), spec.parameter_count());
    }

    #[test]
    fn float_student_matches_burn_mlp() {
        let spec =
            NetSpec::build(&arch(Arch::Mlp, &[16, 12], &[], false), [8, 8, 1], 10).expect("spec");
        check_conversion(spec, 1);
        // Multi-channel input through a flatten: CHW vs HWC matters.
        let spec = NetSpec::build(&arch(Arch::Mlp, &[9], &[], true), [3, 4, 2], 5).expect("spec");
        check_conversion(spec, 2);
    }

    #[test]
    fn float_student_matches_burn_cnn() {
        let spec =
            NetSpec::build(&arch(Arch::Cnn, &[12], &[4, 6], false), [8, 8, 1], 10).expect("spec");
        check_conversion(spec, 3);
        let spec = NetSpec::build(&arch(Arch::Dwcnn, &[], &[4, 8, 8], false), [8, 8, 2], 10)
            .expect("spec");
        check_conversion(spec, 4);
        // Strided conv with padding, max pool with stride != kernel, then dense on a 2x2x3 map.
        let spec = NetSpec {
            input_shape: [9, 9, 2],
            classes: 4,
            layers: vec![
                LayerSpec::Conv {
                    out: 3,
                    kernel: 3,
                    stride: 2,
                    padding: 1,
                    act: Act::Relu,
                },
                LayerSpec::Depthwise {
                    kernel: 3,
                    stride: 1,
                    padding: 1,
                    act: Act::Relu6,
                },
                LayerSpec::MaxPool {
                    kernel: 3,
                    stride: 2,
                },
                LayerSpec::Flatten,
                LayerSpec::Dense {
                    out: 4,
                    act: Act::None,
                },
            ],
        };
        check_conversion(spec, 5);
    }

    #[test]
    fn record_round_trip_and_bias_raise() {
        let dev = crate::train::device(Default::default()).expect("cpu device");
        let spec =
            NetSpec::build(&arch(Arch::Cnn, &[8], &[4], false), [8, 8, 1], 10).expect("spec");
        let mut m = Model::init(spec.clone(), 9, &dev).expect("init");
        let bytes = m.record_bytes().expect("bytes");
        let back = Model::from_record_bytes(spec.clone(), &bytes, &dev).expect("load");
        let x: Vec<f32> = (0..64 * 2).map(|i| (i % 7) as f32 * 0.3).collect();
        assert_eq!(m.predict(&x, &dev, 2), back.predict(&x, &dev, 2));
        let before = m.predict(&x, &dev, 2);
        m.raise_output_bias(&[3], 2.5).expect("raise");
        let after = m.predict(&x, &dev, 2);
        for (i, (a, b)) in before.iter().zip(&after).enumerate() {
            let want = if i % 10 == 3 { b - 2.5 } else { *b };
            assert!((a - want).abs() < 1e-5);
        }
        // A record of another architecture is refused.
        let other =
            NetSpec::build(&arch(Arch::Mlp, &[8], &[], false), [8, 8, 1], 10).expect("spec");
        assert!(Model::from_record_bytes(other, &bytes, &dev).is_err());
        // Bad specs are refused with a message.
        let bad = NetSpec {
            input_shape: [8, 8, 1],
            classes: 10,
            layers: vec![LayerSpec::Dense {
                out: 10,
                act: Act::None,
            }],
        };
        assert!(Model::init(bad, 0, &dev).is_err());
    }
}
