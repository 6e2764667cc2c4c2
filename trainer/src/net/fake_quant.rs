//! The tensor operations of quantization-aware training (Jacob et al. 2018): a value rounded to
//! an int8 grid, and weights rounded symmetrically per output channel as the exporter rounds
//! them, each with the straight-through gradient (1 inside the range, 0 where clamped, as
//! TensorFlow's `fake_quant_with_min_max_vars`). [`FakeQuant`] holds the grids one forward pass
//! rounds to; `crate::train::qat` calibrates them.

use burn::tensor::Tensor;
use minnow_core::Activation;

/// The int8 grids of a network's activations during quantization-aware training.
#[derive(Debug, Clone, PartialEq)]
pub struct FakeQuant {
    /// The normalised input's quantization.
    pub input: Activation,
    /// The output quantization of every layer of the exported student (the [`FloatStudent`]
    /// layers, so dropout layers have none), in order; a pooling or flatten layer's is its
    /// input's.
    ///
    /// [`FloatStudent`]: crate::net::float::FloatStudent
    pub outputs: Vec<Activation>,
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
    use crate::int8::calibrate::activation_for_range;
    use burn::tensor::TensorData;
    use minnow_core::quant::{dequantize, quantize};

    fn device() -> burn::tensor::Device {
        crate::net::backend::test_autodiff_device()
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
}
