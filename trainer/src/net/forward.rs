//! The forward pass of any [`NetSpec`] on burn tensors: what training differentiates and
//! inference runs. With [`FakeQuant`] grids it is quantization-aware (weights and activations
//! rounded as the exporter rounds them).

use burn::tensor::module::{avg_pool2d, conv2d, linear, max_pool2d};
use burn::tensor::ops::{AvgPoolOptions, ConvOptions, MaxPoolOptions};
use burn::tensor::{Device, Tensor, TensorData};
use minnow_core::Activation;

use crate::net::fake_quant::{FakeQuant, fake_quantize, fake_quantize_conv, fake_quantize_dense};
use crate::net::float::Act;
use crate::net::im2col::conv2d_im2col;
use crate::net::params::Net;
use crate::net::spec::{LayerSpec, NetSpec};
use crate::rng::Rng;

fn apply_act<const D: usize>(x: Tensor<D>, act: Act) -> Tensor<D> {
    match act {
        Act::None => x,
        Act::Relu => x.clamp_min(0.0),
        Act::Relu6 => x.clamp(0.0, 6.0),
    }
}

/// A batch of activations: NCHW while spatial, `[batch, features]` once flat.
enum Batch {
    Spatial(Tensor<4>),
    Flat(Tensor<2>),
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

/// `y` rounded to the int8 grid `g` when quantization-aware, else `y`.
fn on_grid<const D: usize>(y: Tensor<D>, g: Option<Activation>) -> Tensor<D> {
    match g {
        Some(g) => fake_quantize(y, g),
        None => y,
    }
}

/// [`crate::net::model::Model::forward`] on explicit parts (the optimizer steps `Net` alone). With `quant`, the
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
    let mut a = Batch::Spatial(on_grid(x, quant.map(|q| q.input)));
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
            (LayerSpec::Dense { act, .. }, Batch::Flat(x)) => {
                let w = p.w2.as_ref().map(|w| dense_weight(w.val()));
                let b = p.bias.as_ref().map(|b| b.val());
                let y = match w {
                    Some(w) => on_grid(apply_act(linear(x, w, b), act), output_grid(exported)),
                    None => x,
                };
                exported += 1;
                Batch::Flat(y)
            }
            (
                LayerSpec::Conv {
                    stride,
                    padding,
                    act,
                    ..
                },
                Batch::Spatial(x),
            ) => {
                let w = p.w4.as_ref().map(|w| conv_weight(w.val()));
                let b = p.bias.as_ref().map(|b| b.val());
                let y = match w {
                    // As one matrix multiply: 3-12x faster than conv2d on burn-ndarray, same
                    // values (crate::im2col).
                    Some(w) => on_grid(
                        apply_act(conv2d_im2col(x, w, b, stride, padding), act),
                        output_grid(exported),
                    ),
                    None => x,
                };
                exported += 1;
                Batch::Spatial(y)
            }
            (
                LayerSpec::Depthwise {
                    stride,
                    padding,
                    act,
                    ..
                },
                Batch::Spatial(x),
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
                Batch::Spatial(y)
            }
            (LayerSpec::MaxPool { kernel, stride }, Batch::Spatial(x)) => {
                exported += 1;
                // The max of values on a grid is on the grid.
                Batch::Spatial(max_pool2d(
                    x,
                    MaxPoolOptions::new([kernel.h, kernel.w]).with_stride([stride.h, stride.w]),
                ))
            }
            (LayerSpec::AvgPool { kernel, stride }, Batch::Spatial(x)) => {
                let y = avg_pool2d(
                    x,
                    AvgPoolOptions::new([kernel.h, kernel.w]).with_stride([stride.h, stride.w]),
                );
                // The int8 kernel rounds the mean back to its input's grid.
                let y = on_grid(y, output_grid(exported));
                exported += 1;
                Batch::Spatial(y)
            }
            (LayerSpec::Flatten, Batch::Spatial(x)) => {
                exported += 1;
                let [b, c, h, w] = x.dims();
                Batch::Flat(x.reshape([b, c * h * w]))
            }
            (LayerSpec::Dropout { p: prob }, a) if prob > 0.0 && dropout.is_some() => {
                let rng = dropout.as_deref_mut().expect("checked");
                match a {
                    Batch::Spatial(x) => {
                        let m = dropout_mask(x.dims(), prob, rng, &x.device());
                        Batch::Spatial(x * m)
                    }
                    Batch::Flat(x) => {
                        let m = dropout_mask(x.dims(), prob, rng, &x.device());
                        Batch::Flat(x * m)
                    }
                }
            }
            (_, a) => a,
        };
    }
    match a {
        Batch::Flat(x) => x,
        Batch::Spatial(x) => {
            let [b, c, h, w] = x.dims();
            x.reshape([b, c * h * w])
        }
    }
}
