//! 2-D convolution (NHWC, OHWI weights). Each output pixel's receptive field is gathered into
//! the patch (padding reads as the input zero point, a real 0), which makes the pixel a dense
//! layer over `[out_channels][kh * kw * in_channels]` weights: one long dot product per channel
//! instead of one short one per kernel row.
//!
//! With SMLAD, two pixels at a time: both receptive fields are widened to int16 once, then each
//! weight word is loaded and widened once for both (`dot2_widened` in dot/simd.rs); the patch
//! holds the two widened fields, hence [`conv2d_patch_len`]. Without it, one pixel at a time
//! through the dense rows.

use super::window::{Geometry, valid_taps};
use crate::layer::{Conv2d, Params, Shape};

/// Length of the patch buffer [`conv2d`] needs: room for two receptive fields
/// (`kh * kw * in_channels` values each) widened to int16, word aligned:
/// `4 * (kh * kw * in_channels + 2)` bytes. (Cores without SMLAD use the first
/// `kh * kw * in_channels` of them; the length is the same everywhere, so a student needs the
/// same RAM on every core.)
pub fn conv2d_patch_len(layer: &Conv2d<'_>, in_shape: Shape) -> usize {
    4 * (field_len(layer, in_shape) + 2)
}

/// Values in one receptive field: `kh * kw * in_channels`.
fn field_len(layer: &Conv2d<'_>, in_shape: Shape) -> usize {
    usize::from(layer.kernel_h) * usize::from(layer.kernel_w) * usize::from(in_shape.channels)
}

/// 2-D convolution. `patch` must hold [`conv2d_patch_len`] values (nothing is written
/// otherwise).
pub fn conv2d(
    layer: &Conv2d<'_>,
    in_shape: Shape,
    in_zp: i8,
    input: &[i8],
    out_shape: Shape,
    patch: &mut [i8],
    output: &mut [i8],
) {
    // Shapes unpacked field by field here and in the other kernels, not with `Shape::dims`:
    // that changed the kernels' machine code on every core (testgen's CNN in QEMU: runtime +32
    // bytes on the M0, -20 on the M4, +0.26% instructions per inference on the M3).
    let g = Geometry {
        ih: usize::from(in_shape.height),
        iw: usize::from(in_shape.width),
        ic: usize::from(in_shape.channels),
        oh: usize::from(out_shape.height),
        ow: usize::from(out_shape.width),
        oc: usize::from(out_shape.channels),
        kh: usize::from(layer.kernel_h),
        kw: usize::from(layer.kernel_w),
        stride: usize::from(layer.stride),
        pad: usize::from(layer.padding),
        field: field_len(layer, in_shape),
    };
    let Some(patch) = patch.get_mut(..conv2d_patch_len(layer, in_shape)) else {
        return;
    };
    #[cfg(all(
        target_arch = "arm",
        target_feature = "dsp",
        not(feature = "portable-dot")
    ))]
    pairs(&layer.params, &g, in_zp, input, patch, output);
    #[cfg(not(all(
        target_arch = "arm",
        target_feature = "dsp",
        not(feature = "portable-dot")
    )))]
    pixels(&layer.params, &g, in_zp, input, patch, output);
}

/// Writes the receptive field of output pixel `pixel` (raster order) into `field`
/// (`kh * kw * ic` values, the weights' HWI order); taps in the padding read `zp`.
#[inline(never)]
fn gather(g: &Geometry, input: &[i8], zp: i8, pixel: usize, field: &mut [i8]) {
    let (oy, ox) = (pixel / g.ow.max(1), pixel % g.ow.max(1));
    let (ky0, ky1) = valid_taps(oy, g.stride, g.pad, g.kh, g.ih);
    let (kx0, kx1) = valid_taps(ox, g.stride, g.pad, g.kw, g.iw);
    if ky0 > 0 || ky1 < g.kh || kx0 > 0 || kx1 < g.kw {
        field.fill(zp); // a border pixel: the taps in the padding keep this
    }
    // The valid taps of a kernel row are contiguous in NHWC input.
    let len = (kx1 - kx0) * g.ic;
    for ky in ky0..ky1 {
        let iy = (oy * g.stride + ky).saturating_sub(g.pad);
        let ix0 = (ox * g.stride + kx0).saturating_sub(g.pad);
        let from = (iy * g.iw + ix0) * g.ic;
        let to = (ky * g.kw + kx0) * g.ic;
        if let (Some(dst), Some(src)) = (field.get_mut(to..to + len), input.get(from..from + len)) {
            crate::dot::copy_i8(dst, src);
        }
    }
}

/// One pixel at a time: its field, then a dense layer over it (cores without SMLAD).
#[cfg_attr(
    all(
        target_arch = "arm",
        target_feature = "dsp",
        not(feature = "portable-dot")
    ),
    allow(dead_code)
)]
#[inline(never)]
fn pixels(p: &Params<'_>, g: &Geometry, zp: i8, input: &[i8], patch: &mut [i8], output: &mut [i8]) {
    let Some(field) = patch.get_mut(..g.field) else {
        return;
    };
    let w = p.weights_i8();
    for (pixel, out) in output
        .chunks_exact_mut(g.oc.max(1))
        .take(g.pixels())
        .enumerate()
    {
        gather(g, input, zp, pixel, field);
        super::dense::rows(p, field, w, out);
    }
}

/// Two pixels at a time: both fields gathered and widened in place into their halves of the
/// patch, then per channel one `dot2_widened` for the whole quads and the int8 tail
/// (`field % 4` values) by hand.
#[cfg(all(
    target_arch = "arm",
    target_feature = "dsp",
    not(feature = "portable-dot")
))]
#[inline(never)]
fn pairs(p: &Params<'_>, g: &Geometry, zp: i8, input: &[i8], patch: &mut [i8], output: &mut [i8]) {
    use super::output::Channels;
    use crate::dot::dot2_widened;

    if one_channel(p, g, zp, input, output) {
        return;
    }
    let (k, oc) = (g.field, g.oc);
    let quads = k / 4;
    // Words per field: k int16 values (the int8 gather goes to the region's last k bytes).
    let half = k.div_ceil(2);
    let (_, words, _) = bytemuck::pod_align_to_mut::<i8, u32>(patch);
    // Checked: no panic paths on the device (a field of 0 values cannot be chunked).
    let Some((ra, rb)) = words
        .get_mut(..2 * half)
        .and_then(|w| w.split_at_mut_checked(half))
    else {
        return;
    };
    if k == 0 {
        return;
    }
    let ch = Channels::of(p);
    let tail = 4 * half - k + 4 * quads; // where the int8 tail starts in a region's bytes
    let mut px = 0;
    while px < g.pixels() {
        // The last pixel of an odd number goes alone (its pair is itself, not written).
        let (px1, len) = if px + 1 < g.pixels() {
            (px + 1, 2)
        } else {
            (px, 1)
        };
        widened_field(g, input, zp, px, ra);
        widened_field(g, input, zp, px1, rb);
        let ta = bytemuck::cast_slice::<u32, i8>(ra)
            .get(tail..)
            .unwrap_or(&[]);
        let tb = bytemuck::cast_slice::<u32, i8>(rb)
            .get(tail..)
            .unwrap_or(&[]);
        let rows = output.get_mut(px * oc..).unwrap_or_default();
        for (c, row) in p.weights_i8().chunks_exact(k).take(oc).enumerate() {
            let (mut s0, mut s1) = dot2_widened(ra, rb, row, quads, ch.bias(c));
            let row_tail = row.get(4 * quads..).unwrap_or(&[]);
            for ((&xa, &xb), &wv) in ta.iter().zip(tb).zip(row_tail) {
                s0 = s0.wrapping_add(i32::from(xa) * i32::from(wv));
                s1 = s1.wrapping_add(i32::from(xb) * i32::from(wv));
            }
            // The pair's outputs are `oc` apart (adjacent pixels): one run of two.
            let out = rows.get_mut(c..).unwrap_or_default();
            ch.output_run(c, &[s0, s1][..len], out, oc);
        }
        px += 2;
    }
}

/// The receptive field of `pixel` widened in place in `region` (`gather` into its last
/// `g.field` bytes, then `widen_in_place`), for [`pairs`].
#[cfg(all(
    target_arch = "arm",
    target_feature = "dsp",
    not(feature = "portable-dot")
))]
#[inline(never)]
fn widened_field(g: &Geometry, input: &[i8], zp: i8, pixel: usize, region: &mut [u32]) {
    let bytes = bytemuck::cast_slice_mut::<u32, i8>(region);
    let at = bytes.len().saturating_sub(g.field);
    gather(g, input, zp, pixel, bytes.get_mut(at..).unwrap_or_default());
    crate::dot::widen_in_place(region, g.field);
}

/// A 3x3 convolution over one input channel, stride 1, padding 0 or 1, on rows of at most
/// `STRIP - 2` outputs (the first layer of a CNN on small grayscale images: 28x28x1 -> 16 in
/// the MNIST CNN); false, and nothing written, for other layers.
///
/// There a receptive field holds 9 values, so the pairs of fields of [`pairs`] spend their time
/// on per-field and per-channel setup rather than on MACs (21.8 instructions per MAC on a
/// Cortex-M4 before this path). Here the outputs go a row at a time: the three input rows under
/// the kernel are copied once into a strip of int16 (padding as the zero point), then each
/// channel's row is one `conv3_row` (dot/simd.rs) over the strip and one run of requantization.
#[cfg(all(
    target_arch = "arm",
    target_feature = "dsp",
    not(feature = "portable-dot")
))]
#[inline(never)]
fn one_channel(p: &Params<'_>, g: &Geometry, zp: i8, input: &[i8], output: &mut [i8]) -> bool {
    use super::output::Channels;
    use crate::dot::{STRIP, conv3_row};

    let fits = g.pad <= 1 && g.iw + 2 * g.pad <= STRIP && g.ow <= STRIP - 2;
    if (g.ic, g.kh, g.kw, g.stride) != (1, 3, 3, 1) || !fits {
        return false;
    }
    let ch = Channels::of(p);
    // The padding columns keep the zero point; rows outside the input are refilled with it.
    let zp = i16::from(zp);
    let mut strip = [[0_i16; STRIP]; 3];
    strip.as_flattened_mut().fill(zp);
    let mut acc = [0_i32; STRIP - 2];
    let weights = p.weights_i8().as_chunks::<9>().0;
    let mut at = 0; // the output row's first value
    for oy in 0..g.oh {
        for (ky, row) in strip.iter_mut().enumerate() {
            let iy = (oy + ky).wrapping_sub(g.pad); // past the top: wraps to a huge index
            match input.get(iy * g.iw..(iy + 1) * g.iw) {
                Some(src) => {
                    for (v, &x) in row.iter_mut().skip(g.pad).zip(src) {
                        *v = i16::from(x);
                    }
                }
                None => row.fill(zp),
            }
        }
        for c in 0..g.oc {
            let Some(w) = weights.get(c) else { break };
            conv3_row(&strip, w, g.ow, ch.bias(c), &mut acc);
            let out = output.get_mut(at + c..).unwrap_or_default();
            ch.output_run(c, acc.get(..g.ow).unwrap_or(&[]), out, g.oc);
        }
        at += g.ow * g.oc;
    }
    true
}
