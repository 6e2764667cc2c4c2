//! Quantization-aware training (Jacob et al. 2018, "Quantization and Training of Neural
//! Networks for Efficient Integer-Arithmetic-Only Inference"): the training forward pass rounds
//! weights and activations to the int8 grids the exporter ([`crate::quantize`]) will use, so the
//! network learns weights whose *rounded* version classifies well.
//!
//! * Weights: symmetric per output channel, `scale = max|w| / 127`, values in `[-127, 127]`, as
//!   the exporter quantizes them; the scale follows the weights on every step.
//! * Activations: the network input and every weight layer's output are rounded to the affine
//!   int8 grid of their calibrated range (`quantize::activation_grids`, as the exporter);
//!   average pooling re-rounds to its input's grid (the int8 kernel keeps its input's
//!   quantization); max pooling and flatten need nothing. Ranges are taken with the exporter's own calibration
//!   ([`FakeQuant::calibrate`]) and re-taken at the start of every epoch, so they follow the
//!   weights as they move and the export at the end calibrates to (almost) the ranges the last
//!   epoch trained under.
//! * Gradients: the straight-through estimator. Rounding passes the gradient unchanged; values
//!   outside the representable range get none (the gradient of the clamp), as in TensorFlow's
//!   `fake_quant_with_min_max_vars`.
//!
//! Biases stay float: the exporter stores them as int32 at `s_in * s_w`, far finer than the
//! activations' grid.

use burn::tensor::Tensor;
use minnow_core::Activation;

use crate::data::{Dataset, Normalization};
use crate::error::{Error, Result};
use crate::model::Model;
use crate::quantize::{QuantizeOptions, activation_grids, calibrate};

/// The int8 grids of a network's activations during quantization-aware training.
#[derive(Debug, Clone, PartialEq)]
pub struct FakeQuant {
    /// The normalised input's quantization.
    pub input: Activation,
    /// The output quantization of every layer of the exported student (the [`FloatStudent`]
    /// layers, so dropout layers have none), in order; a pooling or flatten layer's is its
    /// input's.
    ///
    /// [`FloatStudent`]: crate::float_model::FloatStudent
    pub outputs: Vec<Activation>,
}

impl FakeQuant {
    /// Calibrates the grids of `model` (whose inputs are normalised with `norm`) on the raw
    /// samples `data`, exactly as [`crate::quantize::quantize_student`] does at export.
    pub fn calibrate(
        model: &Model,
        norm: &Normalization,
        data: &Dataset,
        opts: &QuantizeOptions,
    ) -> Result<FakeQuant> {
        let student = model.to_float_student("qat", norm.mean, norm.std, 1.0)?;
        let (ranges, _) = calibrate(&student, data, opts)
            .map_err(|e| Error::Config(format!("quantization-aware training: {e}")))?;
        let mut grids = activation_grids(&student, &ranges).into_iter();
        let input = grids
            .next()
            .ok_or_else(|| Error::Config("quantization-aware training: no input range".into()))?;
        Ok(FakeQuant {
            input,
            outputs: grids.collect(),
        })
    }
}

/// `x` rounded to the int8 grid `a` (clamped to its range), with the straight-through gradient:
/// 1 inside the range, 0 outside.
pub fn fake_quantize<const D: usize>(x: Tensor<D>, a: Activation) -> Tensor<D> {
    let s = a.scale;
    let zp = f32::from(a.zero_point);
    let inside = x.clamp((-128.0 - zp) * s, (127.0 - zp) * s);
    // zp is an integer, so round(x / s + zp) - zp = round(x / s).
    let rounded = inside.clone().div_scalar(s).round().mul_scalar(s);
    inside.clone() + (rounded - inside).detach()
}

/// Symmetric int8 rounding of a 2-d weight with one scale per slice across `dim` (the scale
/// of a channel is `max|w| / 127` over `dim`), straight-through gradient.
fn fake_quantize_per_channel(w: Tensor<2>, dim: usize) -> Tensor<2> {
    let scale = w
        .clone()
        .detach()
        .abs()
        .max_dim(dim)
        .div_scalar(127.0)
        // An all-zero channel: any scale keeps it at 0.
        .clamp_min(f32::MIN_POSITIVE);
    let rounded = (w.clone().detach() / scale.clone())
        .round()
        .clamp(-127.0, 127.0)
        * scale;
    w.clone() + (rounded - w).detach()
}

/// A dense weight `[in, out]` (burn's layout) rounded per output column.
pub fn fake_quantize_dense(w: Tensor<2>) -> Tensor<2> {
    fake_quantize_per_channel(w, 0)
}

/// A conv or depthwise weight `[out, in / groups, kh, kw]` rounded per output channel.
pub fn fake_quantize_conv(w: Tensor<4>) -> Tensor<4> {
    let [o, i, kh, kw] = w.dims();
    fake_quantize_per_channel(w.reshape([o, i * kh * kw]), 1).reshape([o, i, kh, kw])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::quantize::activation_for_range;
    use burn::tensor::TensorData;
    use minnow_core::quant::{dequantize, quantize};

    fn device() -> burn::tensor::Device {
        crate::train::device(Default::default())
            .expect("cpu device")
            .autodiff()
    }

    fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
        t.into_data().try_into_vec::<f32>().expect("f32")
    }

    /// The forward value is minnow-core's quantize-then-dequantize (what the device computes),
    /// and the gradient is 1 inside the range, 0 outside.
    #[test]
    fn fake_quantize_rounds_like_the_device_and_passes_gradients_inside_the_range() {
        let dev = device();
        let a = activation_for_range(-1.0, 3.0);
        let xs: Vec<f32> = (0..81).map(|i| -1.6 + i as f32 * 0.0573).collect();
        let x =
            Tensor::<1>::from_data(TensorData::new(xs.clone(), [xs.len()]), &dev).require_grad();
        let y = fake_quantize(x.clone(), a);
        let grads = (y.clone() * Tensor::ones([xs.len()], &dev))
            .sum()
            .backward();
        let g = values(x.grad(&grads).expect("gradient"));
        let (lo, hi) = (
            dequantize(-128, a.scale, a.zero_point),
            dequantize(127, a.scale, a.zero_point),
        );
        for ((&x, &y), &g) in xs.iter().zip(&values(y)).zip(&g) {
            let device = dequantize(quantize(x, a.scale, a.zero_point), a.scale, a.zero_point);
            assert!(
                (y - device).abs() < 1e-5,
                "x {x}: fake-quantized {y}, device {device}"
            );
            let want = if x > lo && x < hi { 1.0 } else { 0.0 };
            assert_eq!(g, want, "gradient at x {x} (range [{lo}, {hi}])");
        }
    }

    /// Per-channel weights: every channel keeps its largest magnitude, lands on at most 255
    /// levels of its own scale, moves by at most half a step, and passes gradients unchanged.
    #[test]
    fn fake_quantize_weights_per_output_channel() {
        let dev = device();
        let (o, i, k) = (3, 2, 3);
        let n = o * i * k * k;
        // Channel c has magnitudes up to (c + 1): a shared scale would be visibly coarser.
        let w: Vec<f32> = (0..n)
            .map(|j| {
                let c = j / (i * k * k);
                ((j * 37 % 19) as f32 / 9.0 - 1.0) * (c + 1) as f32
            })
            .collect();
        let t =
            Tensor::<4>::from_data(TensorData::new(w.clone(), [o, i, k, k]), &dev).require_grad();
        let q = fake_quantize_conv(t.clone());
        let grads = (q.clone() * 2.0).sum().backward();
        assert!(
            values(t.grad(&grads).expect("gradient"))
                .iter()
                .all(|&g| g == 2.0)
        );
        let q = values(q);
        for c in 0..o {
            let range = c * i * k * k..(c + 1) * i * k * k;
            let max = w[range.clone()].iter().fold(0.0f32, |m, v| m.max(v.abs()));
            let scale = max / 127.0;
            for j in range {
                let steps = q[j] / scale;
                assert!((steps - steps.round()).abs() < 1e-3, "w[{j}] off the grid");
                assert!(steps.abs() <= 127.001);
                assert!((q[j] - w[j]).abs() <= scale / 2.0 + 1e-6);
            }
            let qmax = q[c * i * k * k..(c + 1) * i * k * k]
                .iter()
                .fold(0.0f32, |m, v| m.max(v.abs()));
            assert!(
                (qmax - max).abs() < 1e-5,
                "channel {c}: max {max} -> {qmax}"
            );
        }
        // Dense [in, out]: one scale per output column; a zero column stays zero.
        let d = Tensor::<2>::from_data(
            TensorData::new(vec![0.5, 0.0, -0.25, 0.0, 0.126, 0.0], [3, 2]),
            &dev,
        );
        let dq = values(fake_quantize_dense(d));
        assert_eq!(dq[1], 0.0);
        assert_eq!(dq[0], 0.5);
        let s = 0.5 / 127.0;
        assert!((dq[4] - (0.126f32 / s).round() * s).abs() < 1e-6);
    }

    /// The quantization-aware forward pass computes what the exported int8 student computes:
    /// on a network with every exported layer kind (conv, depthwise, max and average pooling,
    /// flatten, dropout, dense), its logits stay within two output steps (measured: 1) of the device
    /// kernels' and are closer to them than the float network's are (measured:
    /// 0.36 of the float network's mean error).
    #[test]
    fn forward_on_grid_tracks_the_int8_student() {
        use crate::float_model::Act;
        use crate::model::{LayerSpec, NetSpec};
        use crate::quantize::tests::{random_data, run_int8};
        use crate::quantize::{Calibration, quantize_student};

        let spec = NetSpec {
            input_shape: [8, 8, 2],
            classes: 5,
            layers: vec![
                LayerSpec::Conv {
                    out: 6,
                    kernel: 3,
                    stride: 1,
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
                    kernel: 2,
                    stride: 2,
                },
                LayerSpec::AvgPool {
                    kernel: 2,
                    stride: 2,
                },
                LayerSpec::Flatten,
                LayerSpec::Dropout { p: 0.5 },
                LayerSpec::Dense {
                    out: 12,
                    act: Act::Relu,
                },
                LayerSpec::Dense {
                    out: 5,
                    act: Act::None,
                },
            ],
        };
        let cpu = crate::train::device(Default::default()).expect("cpu device");
        let model = Model::init(spec, 3, &cpu).expect("init");
        let data = random_data(64, [8, 8, 2], 5, 11);
        let norm = Normalization {
            mean: 0.25,
            std: 1.5,
        };
        let opts = QuantizeOptions {
            calibration: Calibration::Percentile(99.9),
            max_calibration_samples: 64,
        };
        let quant = FakeQuant::calibrate(&model, &norm, &data, &opts).expect("calibrates");
        // Input, conv, depthwise, max, avg, flatten, dense, dense: dropout is not exported.
        assert_eq!(quant.outputs.len(), 7);

        let student = model
            .to_float_student("qat", norm.mean, norm.std, 1.0)
            .expect("float student");
        let int8 = quantize_student(&student, &data, &opts).expect("quantizes");
        assert_eq!(int8.input, quant.input);
        let mut grid = int8.input;
        for (i, layer) in int8.layers.iter().enumerate() {
            if let Some(p) = layer.params() {
                grid = p.output;
            }
            assert_eq!(grid, quant.outputs[i], "layer {i}'s grid");
        }
        let blob = int8.encode().expect("encodes");
        let step = quant.outputs[6].scale;

        let x: Vec<f32> = data
            .features
            .iter()
            .map(|v| (v - norm.mean) / norm.std)
            .collect();
        let on_grid = model.predict_on_grid(&x, &cpu, 16, Some(&quant));
        let float = model.predict(&x, &cpu, 16);
        let (mut grid_err, mut float_err, mut worst) = (0.0f32, 0.0f32, 0.0f32);
        for s in 0..data.len() {
            let device = run_int8(&blob, data.sample(s));
            for k in 0..5 {
                let g = (on_grid[s * 5 + k] - device[k]).abs();
                grid_err += g;
                worst = worst.max(g);
                float_err += (float[s * 5 + k] - device[k]).abs();
            }
        }
        assert!(
            worst <= 2.0 * step,
            "on-grid logits differ from the device's by up to {} steps",
            worst / step
        );
        assert!(
            grid_err < 0.5 * float_err,
            "mean |on-grid - int8| {} vs |float - int8| {}",
            grid_err / 320.0,
            float_err / 320.0
        );
    }
}
