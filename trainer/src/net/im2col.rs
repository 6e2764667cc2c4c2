//! 2-D convolution as one matrix multiply (im2col), for training on CPU backends.
//!
//! burn-ndarray's `conv2d` (and its backward pass) spends 25-50x more time per multiply-accumulate
//! than its matrix multiply does on a dense layer (measured on MNIST, docs/results.md), which kept
//! CNN teachers and students out of reach on a 2-core machine. Gathering the `kh * kw` shifted
//! views of the padded input into a patch matrix turns the convolution into a matrix multiply
//! per image (and its backward pass into two), made of ops whose gradients burn already has
//! (pad, strided slice, stack, reshape, matmul).
//!
//! The result equals `burn::tensor::module::conv2d` with the same weights (tested below), so
//! records, export and the device's integer kernels are unaffected. `bench/conv_im2col.sh`
//! prints both timings side by side.

use burn::tensor::{Tensor, s};
use minnow_core::layer::window_out;

/// `conv2d(x, w, b)` with groups 1, dilation 1: `x` is `[batch, in, h, w]`, `w` is
/// `[out, in, kh, kw]` (burn's layout), the result `[batch, out, oh, ow]` with
/// `oh = (h + 2 * padding - kh) / stride + 1` (the same for the width).
pub fn conv2d_im2col(
    x: Tensor<4>,
    w: Tensor<4>,
    b: Option<Tensor<1>>,
    stride: usize,
    padding: usize,
) -> Tensor<4> {
    let [n, c, h, wd] = x.dims();
    let [o, _, kh, kw] = w.dims();
    // The spec's shapes were checked (NetSpec::shapes) before any forward pass.
    let out = |n, k| window_out(n, k, stride, padding).expect("a window that fits its input");
    let (oh, ow) = (out(h, kh), out(wd, kw));
    let x = if padding > 0 {
        x.pad((padding, padding, padding, padding), 0.0)
    } else {
        x
    };
    // One strided view per kernel tap: tap (ky, kx) of output pixel (y, x) is input pixel
    // (y * stride + ky, x * stride + kx) of the padded input.
    let mut taps = Vec::with_capacity(kh * kw);
    for ky in 0..kh {
        for kx in 0..kw {
            let rows = ky..ky + stride * (oh - 1) + 1;
            let cols = kx..kx + stride * (ow - 1) + 1;
            let step = stride as isize;
            taps.push(x.clone().slice(s![.., .., rows;step, cols;step]));
        }
    }
    // [n, c, taps, oh, ow] is, per image, the patch matrix transposed: c * taps rows (the order
    // of w's flattened [in][kh][kw]) of oh * ow pixels, contiguous. One matrix multiply per
    // image, w shared: [o, c * taps] x [c * taps, oh * ow] -> [o, oh * ow], already the NCHW
    // output. (The patches as [n * oh * ow, c * taps] rows for one large multiply need a
    // permuted copy of them first, and another of the output: measured slower.)
    let patches: Tensor<5> = Tensor::stack(taps, 2);
    let patches = patches.reshape([n, c * kh * kw, oh * ow]);
    let wm = w.reshape([1, o, c * kh * kw]);
    let y = wm.matmul(patches); // [n, o, oh * ow]
    let y = match b {
        Some(b) => y + b.reshape([1, o, 1]),
        None => y,
    };
    y.reshape([n, o, oh, ow])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;
    use burn::tensor::module::conv2d;
    use burn::tensor::ops::ConvOptions;
    use burn::tensor::{Device, TensorData};

    use crate::net::backend::test_autodiff_device as device;

    fn random<const D: usize>(rng: &mut Rng, shape: [usize; D], dev: &Device) -> Tensor<D> {
        let n = shape.iter().product();
        let v: Vec<f32> = (0..n).map(|_| rng.uniform() * 2.0 - 1.0).collect();
        Tensor::from_data(TensorData::new(v, shape), dev).require_grad()
    }

    fn max_abs_diff<const D: usize>(a: Tensor<D>, b: Tensor<D>) -> f32 {
        let a: Vec<f32> = a.into_data().try_to_vec::<f32>().expect("f32");
        let b: Vec<f32> = b.into_data().try_to_vec::<f32>().expect("f32");
        assert_eq!(a.len(), b.len());
        a.iter()
            .zip(&b)
            .map(|(x, y)| (x - y).abs())
            .fold(0.0, f32::max)
    }

    /// Forward values and the gradients of x, w and b agree with burn's conv2d, over kernel
    /// sizes, strides and paddings (incl. stride > 1 with padding, a 1x1 kernel, no bias).
    #[test]
    fn matches_burn_conv2d_values_and_gradients() {
        let dev = device();
        let mut rng = Rng::new(7);
        for (c, o, h, wd, k, stride, padding, bias) in [
            (3, 4, 7, 6, 3, 1, 1, true),
            (2, 5, 8, 8, 3, 2, 1, true),
            (4, 3, 6, 5, 1, 1, 0, false),
            (1, 2, 9, 9, 5, 2, 2, true),
            (2, 2, 5, 7, 2, 3, 0, true),
        ] {
            let x = random(&mut rng, [2, c, h, wd], &dev);
            let w = random(&mut rng, [o, c, k, k], &dev);
            let b = bias.then(|| random(&mut rng, [o], &dev));
            let ours = conv2d_im2col(x.clone(), w.clone(), b.clone(), stride, padding);
            let theirs = conv2d(
                x.clone(),
                w.clone(),
                b.clone(),
                ConvOptions::new([stride, stride], [padding, padding], [1, 1], 1),
            );
            assert_eq!(ours.dims(), theirs.dims());
            let case = format!("c{c} o{o} {h}x{wd} k{k} s{stride} p{padding}");
            assert!(max_abs_diff(ours.clone(), theirs.clone()) < 1e-4, "{case}");
            // Gradients of the same scalar through each path.
            let probe = random(&mut rng, ours.dims(), &dev);
            let g1 = (ours * probe.clone()).sum().backward();
            let g2 = (theirs * probe).sum().backward();
            let dx = max_abs_diff(x.grad(&g1).expect("dx"), x.grad(&g2).expect("dx"));
            let dw = max_abs_diff(w.grad(&g1).expect("dw"), w.grad(&g2).expect("dw"));
            assert!(dx < 1e-4 && dw < 1e-4, "{case}: dx {dx} dw {dw}");
            if let Some(b) = b {
                let db = max_abs_diff(b.grad(&g1).expect("db"), b.grad(&g2).expect("db"));
                assert!(db < 1e-3, "{case}: db {db}");
            }
        }
    }
}
