//! What a network is, without its weights: [`NetSpec`] (input shape, classes, layers), saved
//! with every model, and [`NetSpec::build`], which turns the architecture settings
//! ([`ArchParams`]) into one.

use minnow_core::layer::window_out;
use serde::{Deserialize, Serialize};

use crate::config::{self, Choice, Invalid, choice_serde, in_range};
use crate::error::{Error, Result};
use crate::net::float::Act;
pub use crate::net::window::Hw;

/// One layer of a network description.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case", deny_unknown_fields)]
pub enum LayerSpec {
    /// Fully connected; its input must be flat (after `flatten` or another dense layer).
    Dense {
        out: usize,
        act: Act,
    },
    /// Convolution (`kernel` may be `k x 1` for sequences) with symmetric zero padding and one
    /// stride along both axes (the student format's `Conv2d`).
    Conv {
        out: usize,
        kernel: Hw,
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
    /// Max pooling without padding; a window and stride per axis (`2 x 1` for sequences).
    MaxPool {
        kernel: Hw,
        stride: Hw,
    },
    AvgPool {
        kernel: Hw,
        stride: Hw,
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
pub(crate) enum LayerShape {
    Spatial([usize; 3]),
    Flat(usize),
}

/// Which architecture family [`NetSpec::build`] makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Arch {
    #[default]
    Mlp,
    Cnn,
    Dwcnn,
    Cnn1d,
}

impl Choice for Arch {
    const ALL: &'static [(Self, &'static str, &'static str)] = &[
        (
            Arch::Mlp,
            "mlp",
            "flatten, dense hidden layers (ReLU, dropout), dense output",
        ),
        (
            Arch::Cnn,
            "cnn",
            "conv 3x3 blocks (ReLU, 2x2 max pooling), optional dense hidden layers, dense output",
        ),
        (
            Arch::Dwcnn,
            "dwcnn",
            "MobileNet-style: a 3x3 conv, then depthwise 3x3 + pointwise 1x1 blocks (ReLU6), average pooling, dense output",
        ),
        (
            Arch::Cnn1d,
            "cnn1d",
            "for sequences (T x 1 x C windows): conv 5x1 blocks (ReLU, 2x1 max pooling), optional dense hidden layers, dense output",
        ),
    ];
}
choice_serde!(Arch);

/// The network stage's settings: the knobs [`NetSpec::build`] reads.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NetConfig {
    pub arch: Arch,
    /// Dense hidden layer widths.
    pub hidden: Vec<usize>,
    /// Conv block widths (cnn, dwcnn, cnn1d).
    pub channels: Vec<usize>,
    /// Dropout probability after each hidden dense layer (and after the conv stack).
    pub dropout: f32,
    /// Dropout probability on the inputs (0 = off).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub input_dropout: f32,
    /// ReLU6 instead of ReLU (cnn, mlp; dwcnn always uses ReLU6).
    pub relu6: bool,
    /// Stride of the first convolution (cnn, dwcnn): 2 halves the activations before anything
    /// else is computed, for students whose RAM is small against their input (a 28x28 image is
    /// 784 bytes; 4 channels at full size 3,136).
    #[serde(default = "stride_one", skip_serializing_if = "is_stride_one")]
    pub stride: usize,
}

fn stride_one() -> usize {
    1
}

fn is_stride_one(stride: &usize) -> bool {
    config::omit_default(*stride == 1)
}

fn is_zero(p: &f32) -> bool {
    config::omit_default(*p == 0.0)
}

impl NetConfig {
    /// Refuses layer widths the student format cannot hold (at most 65,535, a `u16`) or that
    /// are empty, and a dropout (hidden or input) outside `[0, 1)`.
    pub fn check(&self) -> Result<(), Invalid> {
        for &h in &self.hidden {
            in_range("hidden", h, 1, usize::from(u16::MAX))?;
        }
        for &c in &self.channels {
            in_range("channels", c, 1, usize::from(u16::MAX))?;
        }
        in_range("stride", self.stride, 1, 4)?;
        if self.stride != 1 && !matches!(self.arch, Arch::Cnn | Arch::Dwcnn) {
            return Err(Invalid::new(
                "stride",
                self.stride,
                "is the first convolution's, for cnn and dwcnn",
            ));
        }
        for (key, p) in [
            ("dropout", self.dropout),
            ("input_dropout", self.input_dropout),
        ] {
            if !(0.0..1.0).contains(&p) {
                return Err(Invalid::new(key, p, "must be in [0, 1)"));
            }
        }
        if self.arch == Arch::Dwcnn && self.channels.is_empty() {
            return Err(Invalid::new(
                "channels",
                "[]",
                "dwcnn needs at least one entry",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
impl NetConfig {
    /// A family without dropout (the tests' networks).
    pub(crate) fn plain(arch: Arch, hidden: &[usize], channels: &[usize], relu6: bool) -> Self {
        NetConfig {
            arch,
            hidden: hidden.to_vec(),
            channels: channels.to_vec(),
            dropout: 0.0,
            input_dropout: 0.0,
            relu6,
            stride: 1,
        }
    }
}

/// The conv blocks of `--arch cnn1d` over `t` time steps: per width, a `5 x 1` valid
/// convolution (no padding: a zero-padded width would widen the `x 1` axis) and, while at least
/// 2 steps remain, `2 x 1` max pooling. A block whose kernel no longer fits shrinks it to the
/// steps left.
fn cnn1d_blocks(channels: &[usize], mut t: usize, act: Act) -> Vec<LayerSpec> {
    let mut layers = Vec::new();
    for &c in channels {
        let k = t.clamp(1, 5);
        layers.push(LayerSpec::Conv {
            out: c,
            kernel: Hw { h: k, w: 1 },
            stride: 1,
            padding: 0,
            act,
        });
        t = t + 1 - k;
        if t >= 2 {
            layers.push(LayerSpec::MaxPool {
                kernel: Hw { h: 2, w: 1 },
                stride: Hw { h: 2, w: 1 },
            });
            t /= 2;
        }
    }
    layers
}

impl NetSpec {
    /// Builds the layers of a standard architecture for `input_shape` and `classes`.
    pub fn build(p: &NetConfig, input_shape: [usize; 3], classes: usize) -> Result<NetSpec> {
        let act = if p.relu6 { Act::Relu6 } else { Act::Relu };
        let mut layers = Vec::new();
        if p.input_dropout > 0.0 {
            layers.push(LayerSpec::Dropout { p: p.input_dropout });
        }
        let drop = |layers: &mut Vec<LayerSpec>| {
            if p.dropout > 0.0 {
                layers.push(LayerSpec::Dropout { p: p.dropout });
            }
        };
        match p.arch {
            Arch::Mlp => {}
            Arch::Cnn => {
                let [mut h, mut w, _] = input_shape;
                for (i, &c) in p.channels.iter().enumerate() {
                    let stride = if i == 0 { p.stride } else { 1 };
                    layers.push(LayerSpec::Conv {
                        out: c,
                        kernel: Hw::square(3),
                        stride,
                        padding: 1,
                        act,
                    });
                    (h, w) = (h.div_ceil(stride), w.div_ceil(stride));
                    if h >= 2 && w >= 2 {
                        layers.push(LayerSpec::MaxPool {
                            kernel: Hw::square(2),
                            stride: Hw::square(2),
                        });
                        h /= 2;
                        w /= 2;
                    }
                }
            }
            Arch::Cnn1d => {
                if input_shape[1] != 1 {
                    return Err(Error::Config(format!(
                        "--arch cnn1d reads sequences laid out as T x 1 x C; the samples are {}x{}x{} (give NPY windows of shape (N, T, C), or --shape T,1,C)",
                        input_shape[0], input_shape[1], input_shape[2]
                    )));
                }
                layers.extend(cnn1d_blocks(&p.channels, input_shape[0], act));
            }
            Arch::Dwcnn => {
                let mut it = p.channels.iter();
                let first = *it.next().ok_or_else(|| {
                    Error::Config("dwcnn needs at least one entry in channels".into())
                })?;
                layers.push(LayerSpec::Conv {
                    out: first,
                    kernel: Hw::square(3),
                    stride: p.stride,
                    padding: 1,
                    act: Act::Relu6,
                });
                let [h, w, _] = input_shape;
                let (mut h, mut w) = (h.div_ceil(p.stride), w.div_ceil(p.stride));
                for &c in it {
                    layers.push(LayerSpec::Depthwise {
                        kernel: 3,
                        stride: 1,
                        padding: 1,
                        act: Act::Relu6,
                    });
                    layers.push(LayerSpec::Conv {
                        out: c,
                        kernel: Hw::square(1),
                        stride: 1,
                        padding: 0,
                        act: Act::Relu6,
                    });
                    if h >= 2 && w >= 2 {
                        layers.push(LayerSpec::AvgPool {
                            kernel: Hw::square(2),
                            stride: Hw::square(2),
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
    pub(crate) fn shapes(&self) -> Result<Vec<LayerShape>> {
        let bad = |i: usize, why: &str| Error::Config(format!("layer {i} of the network: {why}"));
        if self.input_shape.contains(&0) || self.classes == 0 {
            return Err(Error::Config(format!(
                "input shape {:?} / classes {} must be non-zero",
                self.input_shape, self.classes
            )));
        }
        let mut cur = LayerShape::Spatial(self.input_shape);
        let mut out = Vec::with_capacity(self.layers.len());
        for (i, l) in self.layers.iter().enumerate() {
            cur = match (*l, cur) {
                (LayerSpec::Dense { out, .. }, LayerShape::Flat(_)) if out > 0 => {
                    LayerShape::Flat(out)
                }
                (LayerSpec::Dense { .. }, LayerShape::Spatial(_)) => {
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
                    LayerShape::Spatial([h, w, _]),
                ) if out > 0 => LayerShape::Spatial([
                    window_out(h, kernel.h, stride, padding)
                        .ok_or_else(|| bad(i, "kernel larger than input"))?,
                    window_out(w, kernel.w, stride, padding)
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
                    LayerShape::Spatial([h, w, c]),
                ) => LayerShape::Spatial([
                    window_out(h, kernel, stride, padding)
                        .ok_or_else(|| bad(i, "kernel larger than input"))?,
                    window_out(w, kernel, stride, padding)
                        .ok_or_else(|| bad(i, "kernel larger than input"))?,
                    c,
                ]),
                (
                    LayerSpec::MaxPool { kernel, stride } | LayerSpec::AvgPool { kernel, stride },
                    LayerShape::Spatial([h, w, c]),
                ) => LayerShape::Spatial([
                    window_out(h, kernel.h, stride.h, 0)
                        .ok_or_else(|| bad(i, "pool window larger than input"))?,
                    window_out(w, kernel.w, stride.w, 0)
                        .ok_or_else(|| bad(i, "pool window larger than input"))?,
                    c,
                ]),
                (LayerSpec::Flatten, LayerShape::Spatial([h, w, c])) => LayerShape::Flat(h * w * c),
                (LayerSpec::Flatten, s @ LayerShape::Flat(_)) => s,
                (LayerSpec::Dropout { p }, s) if (0.0..1.0).contains(&p) => s,
                (LayerSpec::Dropout { p }, _) => {
                    return Err(bad(i, &format!("dropout probability {p} is not in [0, 1)")));
                }
                (_, LayerShape::Flat(_)) => return Err(bad(i, "spatial layer after flatten")),
                _ => return Err(bad(i, "zero-sized layer")),
            };
            out.push(cur);
        }
        match cur {
            LayerShape::Flat(n) if n == self.classes => Ok(out),
            _ => Err(Error::Config(format!(
                "the network must end in a flat layer of {} outputs (one per class)",
                self.classes
            ))),
        }
    }

    /// The number of weights and biases.
    pub fn parameter_count(&self) -> usize {
        let Ok(shapes) = self.shapes() else { return 0 };
        let mut prev = LayerShape::Spatial(self.input_shape);
        let mut n = 0;
        for (l, s) in self.layers.iter().zip(shapes) {
            let in_c = match prev {
                LayerShape::Spatial([_, _, c]) => c,
                LayerShape::Flat(f) => f,
            };
            n += match *l {
                LayerSpec::Dense { out, .. } => in_c * out + out,
                LayerSpec::Conv { out, kernel, .. } => out * kernel.area() * in_c + out,
                LayerSpec::Depthwise { kernel, .. } => kernel * kernel * in_c + in_c,
                _ => 0,
            };
            prev = s;
        }
        n
    }
}
