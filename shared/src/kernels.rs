//! The int8 kernels. Each takes shapes that [`crate::Student::decode`] has already validated;
//! they still never index out of bounds (slices are taken with `get`, so a shape that slipped
//! through produces wrong numbers, never a panic).
//!
//! Accumulation is int32 with wrapping adds: decoders bound every reduction to
//! [`crate::limits::MAX_REDUCTION`] terms so sums of products cannot overflow, and if a hand-made
//! bias pushes one over, host and device still wrap identically.

use crate::dot::dot_i8;
use crate::layer::{Conv2d, Dense, DepthwiseConv2d, Params, Pool2d, Shape};
use crate::quant::requantize;

/// Adds channel `c`'s bias to its dot product, requantizes, adds the output zero point and
/// applies the fused clamp. Not inlined: one copy for every kernel (flash; a call per output).
#[inline(never)]
fn finish(dot: i32, p: &Params<'_>, c: usize) -> i8 {
    let acc = p.bias_at(c).wrapping_add(dot);
    let v = requantize(acc, p.multiplier_at(c), p.shift_at(c))
        .saturating_add(i32::from(p.output.zero_point));
    // max-then-min, not `clamp`: clamp panics when min > max, and kernels never panic (decode
    // rejects such ranges; a blob that slipped through gets wrong numbers, not a panic).
    v.max(i32::from(p.act_min)).min(i32::from(p.act_max)) as i8
}

/// Fully connected layer over the whole input.
pub fn dense(layer: &Dense<'_>, input: &[i8], output: &mut [i8]) {
    dense_rows(&layer.params, input, layer.params.weights_i8(), output);
}

/// `output[c] = finish(dot(input, w[c]))` (bias added there) for every row `c` of `w` (rows of
/// `input.len()` weights): the work of a dense layer, and of a convolution at one output pixel.
#[inline(never)]
fn dense_rows(p: &Params<'_>, input: &[i8], w: &[i8], output: &mut [i8]) {
    let n = input.len();
    if n == 0 {
        return;
    }
    let c = dense_row_pairs(p, input, w, output);
    let rows = w.get(c * n..).unwrap_or(&[]).chunks_exact(n);
    for ((c, out), row) in output.iter_mut().enumerate().skip(c).zip(rows) {
        *out = finish(dot_i8(input, row), p, c);
    }
}

/// With SMLAD, two output rows at a time share every input load (see `dot2_i8` in dot/simd.rs).
/// Returns how many leading rows it computed; [`dense_rows`] does the rest one at a time.
/// `input` is not empty (checked by the caller).
#[cfg(all(
    target_arch = "arm",
    target_feature = "dsp",
    not(feature = "portable-dot")
))]
#[inline(always)]
fn dense_row_pairs(p: &Params<'_>, input: &[i8], w: &[i8], output: &mut [i8]) -> usize {
    let n = input.len();
    let mut done = 0;
    for (rows, out) in w.chunks_exact(2 * n).zip(output.chunks_exact_mut(2)) {
        let (w0, w1) = rows.split_at(n);
        let (d0, d1) = crate::dot::dot2_i8(input, w0, w1);
        for (o, d) in out.iter_mut().zip([d0, d1]) {
            *o = finish(d, p, done);
            done += 1;
        }
    }
    done
}

/// Without SMLAD there is nothing to share: every row goes through [`dot_i8`].
#[cfg(not(all(
    target_arch = "arm",
    target_feature = "dsp",
    not(feature = "portable-dot")
)))]
#[inline(always)]
fn dense_row_pairs(_: &Params<'_>, _: &[i8], _: &[i8], _: &mut [i8]) -> usize {
    0
}

/// The range of kernel taps `[k0, k1)` that land inside the input for output position `o`.
#[inline(always)]
fn valid_taps(
    o: usize,
    stride: usize,
    padding: usize,
    kernel: usize,
    input: usize,
) -> (usize, usize) {
    let start = o * stride; // position of tap 0 in padded coordinates
    let k0 = padding.saturating_sub(start).min(kernel);
    // tap k is valid while start + k < padding + input
    let k1 = (padding + input).saturating_sub(start).min(kernel);
    (k0, k1.max(k0))
}

/// Length of the patch buffer [`conv2d`] needs: one receptive field, `kh * kw * in_channels`.
pub fn conv2d_patch_len(layer: &Conv2d<'_>, in_shape: Shape) -> usize {
    usize::from(layer.kernel_h) * usize::from(layer.kernel_w) * usize::from(in_shape.channels)
}

/// 2-D convolution (NHWC, OHWI weights). For each output pixel the receptive field is gathered
/// into `patch` (padding reads as the input zero point, a real 0), which makes the pixel a dense
/// layer over `[out_channels][kh * kw * in_channels]` OHWI weights: one long dot product per
/// channel, SIMD where the core has it, instead of one short one per kernel row.
/// `patch` must hold [`conv2d_patch_len`] values (nothing is written otherwise).
pub fn conv2d(
    layer: &Conv2d<'_>,
    in_shape: Shape,
    in_zp: i8,
    input: &[i8],
    out_shape: Shape,
    patch: &mut [i8],
    output: &mut [i8],
) {
    let p = &layer.params;
    let w = p.weights_i8();
    // Shapes unpacked field by field here and in the other kernels, not with `Shape::dims`:
    // that changed the kernels' machine code on every core (testgen's CNN in QEMU: runtime +32
    // bytes on the M0, -20 on the M4, +0.26% instructions per inference on the M3).
    let (ih, iw, ic) = (
        usize::from(in_shape.height),
        usize::from(in_shape.width),
        usize::from(in_shape.channels),
    );
    let (oh, ow, oc) = (
        usize::from(out_shape.height),
        usize::from(out_shape.width),
        usize::from(out_shape.channels),
    );
    let (kh, kw) = (usize::from(layer.kernel_h), usize::from(layer.kernel_w));
    let (stride, pad) = (usize::from(layer.stride), usize::from(layer.padding));
    let Some(patch) = patch.get_mut(..conv2d_patch_len(layer, in_shape)) else {
        return;
    };
    let row_len = kw * ic;
    for oy in 0..oh {
        let (ky0, ky1) = valid_taps(oy, stride, pad, kh, ih);
        for ox in 0..ow {
            let (kx0, kx1) = valid_taps(ox, stride, pad, kw, iw);
            for (ky, row) in patch.chunks_exact_mut(row_len).enumerate() {
                if ky < ky0 || ky >= ky1 {
                    row.fill(in_zp);
                    continue;
                }
                // The valid taps of a kernel row are contiguous in NHWC input.
                let iy = (oy * stride + ky).saturating_sub(pad);
                let ix0 = (ox * stride + kx0).saturating_sub(pad);
                let src = input
                    .get((iy * iw + ix0) * ic..(iy * iw + ix0 + (kx1 - kx0)) * ic)
                    .unwrap_or(&[]);
                let (left, rest) = row.split_at_mut((kx0 * ic).min(row_len));
                left.fill(in_zp);
                let (middle, right) = rest.split_at_mut(src.len().min(rest.len()));
                middle.copy_from_slice(src.get(..middle.len()).unwrap_or(&[]));
                right.fill(in_zp);
            }
            let base = (oy * ow + ox) * oc;
            if let Some(out) = output.get_mut(base..base + oc) {
                dense_rows(p, patch, w, out);
            }
        }
    }
}

/// Depthwise 2-D convolution, channel multiplier 1 (NHWC, `[kh][kw][c]` weights).
/// Taps that fall in the padding read the input zero point (a real 0), so they add
/// `zp * w`; interior pixels have none and take the short path.
pub fn depthwise_conv2d(
    layer: &DepthwiseConv2d<'_>,
    in_shape: Shape,
    in_zp: i8,
    input: &[i8],
    out_shape: Shape,
    output: &mut [i8],
) {
    let p = &layer.params;
    let w = p.weights_i8();
    let (ih, iw, ch) = (
        usize::from(in_shape.height),
        usize::from(in_shape.width),
        usize::from(in_shape.channels),
    );
    let (oh, ow) = (usize::from(out_shape.height), usize::from(out_shape.width));
    let (kh, kw) = (usize::from(layer.kernel_h), usize::from(layer.kernel_w));
    let (stride, pad) = (usize::from(layer.stride), usize::from(layer.padding));
    let zp = i32::from(in_zp);
    for oy in 0..oh {
        let (ky0, ky1) = valid_taps(oy, stride, pad, kh, ih);
        for ox in 0..ow {
            let (kx0, kx1) = valid_taps(ox, stride, pad, kw, iw);
            let border = ky0 > 0 || ky1 < kh || kx0 > 0 || kx1 < kw;
            let base = (oy * ow + ox) * ch;
            let Some(out) = output.get_mut(base..base + ch) else {
                continue;
            };
            for (c, o) in out.iter_mut().enumerate() {
                let mut acc = 0_i32;
                for ky in ky0..ky1 {
                    let iy = (oy * stride + ky).saturating_sub(pad);
                    for kx in kx0..kx1 {
                        let ix = (ox * stride + kx).saturating_sub(pad);
                        let xv = input.get((iy * iw + ix) * ch + c).copied().unwrap_or(0);
                        let wv = w.get((ky * kw + kx) * ch + c).copied().unwrap_or(0);
                        acc = acc.wrapping_add(i32::from(xv) * i32::from(wv));
                    }
                }
                if border {
                    let mut padded = 0_i32;
                    for ky in 0..kh {
                        for kx in 0..kw {
                            if ky < ky0 || ky >= ky1 || kx < kx0 || kx >= kx1 {
                                padded +=
                                    i32::from(w.get((ky * kw + kx) * ch + c).copied().unwrap_or(0));
                            }
                        }
                    }
                    acc = acc.wrapping_add(zp.wrapping_mul(padded));
                }
                *o = finish(acc, p, c);
            }
        }
    }
}

/// Applies `reduce` to every pooling window (each window's values in row-major order).
fn pool(
    pool: &Pool2d,
    in_shape: Shape,
    input: &[i8],
    out_shape: Shape,
    output: &mut [i8],
    reduce: impl Fn(&mut dyn Iterator<Item = i8>, i32) -> i8,
) {
    let (iw, ch) = (usize::from(in_shape.width), usize::from(in_shape.channels));
    let (oh, ow) = (usize::from(out_shape.height), usize::from(out_shape.width));
    let (k, s) = (usize::from(pool.kernel), usize::from(pool.stride));
    let count = (k * k) as i32;
    for oy in 0..oh {
        for ox in 0..ow {
            for c in 0..ch {
                let mut window = (0..k)
                    .flat_map(|ky| {
                        (0..k).map(move |kx| ((oy * s + ky) * iw + ox * s + kx) * ch + c)
                    })
                    .map(|i| input.get(i).copied().unwrap_or(0));
                if let Some(o) = output.get_mut((oy * ow + ox) * ch + c) {
                    *o = reduce(&mut window, count);
                }
            }
        }
    }
}

/// Max pooling.
pub fn max_pool2d(p: &Pool2d, in_shape: Shape, input: &[i8], out_shape: Shape, output: &mut [i8]) {
    pool(p, in_shape, input, out_shape, output, |w, _| {
        w.fold(i8::MIN, i8::max)
    });
}

/// Average pooling: the window sum divided by its size, rounded half away from zero (TFLM's rule).
pub fn avg_pool2d(p: &Pool2d, in_shape: Shape, input: &[i8], out_shape: Shape, output: &mut [i8]) {
    pool(p, in_shape, input, out_shape, output, |w, count| {
        let sum: i32 = w.map(i32::from).sum();
        let avg = if sum >= 0 {
            (sum + count / 2) / count
        } else {
            (sum - count / 2) / count
        };
        avg.clamp(-128, 127) as i8
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_taps_cover_padding() {
        // input 5, kernel 3, pad 1, stride 1: output 0 has tap 0 in padding.
        assert_eq!(valid_taps(0, 1, 1, 3, 5), (1, 3));
        assert_eq!(valid_taps(2, 1, 1, 3, 5), (0, 3));
        assert_eq!(valid_taps(4, 1, 1, 3, 5), (0, 2));
        // kernel larger than input with padding on both sides
        assert_eq!(valid_taps(0, 1, 2, 5, 1), (2, 3));
    }
}
