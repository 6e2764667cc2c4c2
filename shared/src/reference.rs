//! The float reference of every int8 op: dequantize, compute in f64, quantize the result.
//!
//! It shares no arithmetic with [`crate::kernels`] (no Q31 multipliers, no folded bias: the
//! real bias is reconstructed as `(bias + zp_in * sum(w)) * s_in * s_w`), so agreement between
//! the two is evidence both are right.
//!
//! **Stated tolerance**: for dense, conv and depthwise layers the int8 kernel is within
//! **1 LSB** of this reference (the Q31 multiplier and gemmlowp's double rounding each round
//! once); max pooling and average pooling are **exact**.

use crate::layer::{Activation, Conv2d, Dense, DepthwiseConv2d, Params, Pool2dRect, Shape};

fn round_half_away(x: f64) -> f64 {
    libm::round(x)
}

/// Quantizes a real layer output for channel `c`, applying the fused clamp.
fn output(y: f64, p: &Params<'_>) -> i8 {
    let q = round_half_away(y / f64::from(p.output.scale)) + f64::from(p.output.zero_point);
    q.clamp(f64::from(p.act_min), f64::from(p.act_max)) as i8
}

/// `(real weight scale, real bias)` of channel `c` whose weights are `w`.
fn channel(p: &Params<'_>, c: usize, w: &[i8], in_act: Activation) -> (f64, f64) {
    let s_w = f64::from(p.weight_scale_at(c));
    let sum_w: i64 = w.iter().map(|&v| i64::from(v)).sum();
    let raw_bias = i64::from(p.bias_at(c)) + i64::from(in_act.zero_point) * sum_w;
    (s_w, raw_bias as f64 * f64::from(in_act.scale) * s_w)
}

fn real(x: i8, a: Activation) -> f64 {
    (f64::from(x) - f64::from(a.zero_point)) * f64::from(a.scale)
}

/// The input pixel (an index over `height x width`) that kernel tap `(ky, kx)` of output pixel
/// `(oy, ox)` reads at this stride and zero padding, or `None` when the tap lands in the padding.
fn tapped_pixel(
    in_shape: Shape,
    stride: usize,
    padding: usize,
    (oy, ox): (usize, usize),
    (ky, kx): (usize, usize),
) -> Option<usize> {
    let (ih, iw, _) = in_shape.dims();
    let iy = (oy * stride + ky).checked_sub(padding)?;
    let ix = (ox * stride + kx).checked_sub(padding)?;
    (iy < ih && ix < iw).then_some(iy * iw + ix)
}

/// Reference fully connected layer.
pub fn dense(layer: &Dense<'_>, in_act: Activation, input: &[i8], out: &mut [i8]) {
    let p = &layer.params;
    let n = input.len().max(1);
    for (c, (o, w)) in out
        .iter_mut()
        .zip(p.weights_i8().chunks_exact(n))
        .enumerate()
    {
        let (s_w, bias) = channel(p, c, w, in_act);
        let y: f64 = input
            .iter()
            .zip(w)
            .map(|(&x, &wv)| real(x, in_act) * f64::from(wv) * s_w)
            .sum();
        *o = output(y + bias, p);
    }
}

/// Reference convolution (zero padding in real terms).
pub fn conv2d(
    layer: &Conv2d<'_>,
    in_shape: Shape,
    in_act: Activation,
    input: &[i8],
    out_shape: Shape,
    out: &mut [i8],
) {
    let p = &layer.params;
    let ic = usize::from(in_shape.channels);
    let (oh, ow, oc) = out_shape.dims();
    let (kh, kw) = (usize::from(layer.kernel_h), usize::from(layer.kernel_w));
    let (s, pad) = (usize::from(layer.stride), usize::from(layer.padding));
    let flen = kh * kw * ic;
    let weights = p.weights_i8();
    for oy in 0..oh {
        for ox in 0..ow {
            for c in 0..oc {
                let w = weights.get(c * flen..(c + 1) * flen).unwrap_or(&[]);
                let (s_w, bias) = channel(p, c, w, in_act);
                let mut y = bias;
                for ky in 0..kh {
                    for kx in 0..kw {
                        let Some(px) = tapped_pixel(in_shape, s, pad, (oy, ox), (ky, kx)) else {
                            continue;
                        };
                        for ci in 0..ic {
                            let x = input.get(px * ic + ci).copied().unwrap_or(0);
                            let wv = w.get((ky * kw + kx) * ic + ci).copied().unwrap_or(0);
                            y += real(x, in_act) * f64::from(wv) * s_w;
                        }
                    }
                }
                if let Some(o) = out.get_mut((oy * ow + ox) * oc + c) {
                    *o = output(y, p);
                }
            }
        }
    }
}

/// Reference depthwise convolution.
pub fn depthwise_conv2d(
    layer: &DepthwiseConv2d<'_>,
    in_shape: Shape,
    in_act: Activation,
    input: &[i8],
    out_shape: Shape,
    out: &mut [i8],
) {
    let p = &layer.params;
    let ch = usize::from(in_shape.channels);
    let (oh, ow, _) = out_shape.dims();
    let (kh, kw) = (usize::from(layer.kernel_h), usize::from(layer.kernel_w));
    let (s, pad) = (usize::from(layer.stride), usize::from(layer.padding));
    let weights = p.weights_i8();
    let mut w = [0_i8; 225]; // MAX_KERNEL^2
    for c in 0..ch {
        for (k, wk) in w.iter_mut().enumerate().take(kh * kw) {
            *wk = weights.get(k * ch + c).copied().unwrap_or(0);
        }
        let (s_w, bias) = channel(p, c, w.get(..kh * kw).unwrap_or(&[]), in_act);
        for oy in 0..oh {
            for ox in 0..ow {
                let mut y = bias;
                for ky in 0..kh {
                    for kx in 0..kw {
                        let Some(px) = tapped_pixel(in_shape, s, pad, (oy, ox), (ky, kx)) else {
                            continue;
                        };
                        let x = input.get(px * ch + c).copied().unwrap_or(0);
                        y += real(x, in_act) * f64::from(w[(ky * kw + kx).min(224)]) * s_w;
                    }
                }
                if let Some(o) = out.get_mut((oy * ow + ox) * ch + c) {
                    *o = output(y, p);
                }
            }
        }
    }
}

fn pool_ref(
    p: &Pool2dRect,
    in_shape: Shape,
    input: &[i8],
    out_shape: Shape,
    out: &mut [i8],
    f: impl Fn(&[f64]) -> f64,
) {
    let (_, iw, ch) = in_shape.dims();
    let (oh, ow, _) = out_shape.dims();
    let (kh, kw) = (usize::from(p.kernel_h), usize::from(p.kernel_w));
    let (sh, sw) = (usize::from(p.stride_h), usize::from(p.stride_w));
    let mut window = [0.0_f64; 225];
    for oy in 0..oh {
        for ox in 0..ow {
            for c in 0..ch {
                for ky in 0..kh {
                    for kx in 0..kw {
                        let x = input
                            .get(((oy * sh + ky) * iw + ox * sw + kx) * ch + c)
                            .copied()
                            .unwrap_or(0);
                        if let Some(slot) = window.get_mut(ky * kw + kx) {
                            *slot = f64::from(x);
                        }
                    }
                }
                if let Some(o) = out.get_mut((oy * ow + ox) * ch + c) {
                    *o = f(window.get(..kh * kw).unwrap_or(&[])).clamp(-128.0, 127.0) as i8;
                }
            }
        }
    }
}

/// Reference max pooling.
pub fn max_pool2d(p: &Pool2dRect, in_shape: Shape, input: &[i8], out_shape: Shape, out: &mut [i8]) {
    pool_ref(p, in_shape, input, out_shape, out, |w| {
        w.iter().copied().fold(f64::NEG_INFINITY, f64::max)
    });
}

/// Reference average pooling (mean rounded half away from zero).
pub fn avg_pool2d(p: &Pool2dRect, in_shape: Shape, input: &[i8], out_shape: Shape, out: &mut [i8]) {
    pool_ref(p, in_shape, input, out_shape, out, |w| {
        round_half_away(w.iter().sum::<f64>() / w.len() as f64)
    });
}
