//! Depthwise 2-D convolution, channel multiplier 1 (NHWC, `[kh][kw][c]` weights). Taps that
//! fall in the padding read the input zero point (a real 0), so they add `zp * w`; interior
//! pixels have none and skip that loop.
//!
//! Channels go four at a time with the DSP extension (one word of input and one of weights per
//! tap give four products: `mla_i8x4` in dot/simd.rs), one at a time otherwise and for the
//! last channels; per output row, a chunk of pixels' sums is computed, then each channel's run
//! of them is requantized at once (`Channels::output_run`), its parameters read once.

use super::output::Channels;
use super::window::valid_taps;
use crate::layer::{DepthwiseConv2d, Shape};

/// Pixels of a row computed before their requantization.
const CHUNK: usize = 16;

/// Channels four at a time with the DSP extension (while four are left), else one.
const LANES: usize = if cfg!(all(
    target_arch = "arm",
    target_feature = "dsp",
    not(feature = "portable-dot")
)) {
    4
} else {
    1
};

/// Depthwise convolution.
pub fn depthwise_conv2d(
    layer: &DepthwiseConv2d<'_>,
    in_shape: Shape,
    in_zp: i8,
    input: &[i8],
    out_shape: Shape,
    output: &mut [i8],
) {
    let (ih, iw, ch) = (
        usize::from(in_shape.height),
        usize::from(in_shape.width),
        usize::from(in_shape.channels),
    );
    let (oh, ow) = (usize::from(out_shape.height), usize::from(out_shape.width));
    let (kh, kw) = (usize::from(layer.kernel_h), usize::from(layer.kernel_w));
    let (stride, pad) = (usize::from(layer.stride), usize::from(layer.padding));
    let w = layer.params.weights_i8();
    let chans = Channels::of(&layer.params);
    let zp = u32::from_le_bytes([in_zp as u8; 4]);
    let mut c = 0;
    while c < ch {
        let lanes = if ch - c >= LANES { LANES } else { 1 };
        let bias: [i32; LANES] = core::array::from_fn(|i| chans.bias(c + i));
        for oy in 0..oh {
            let (ky0, ky1) = valid_taps(oy, stride, pad, kh, ih);
            for ox0 in (0..ow).step_by(CHUNK) {
                // Lane i's sums for the chunk's pixels, then requantized as one run each.
                let mut sums = [[0_i32; CHUNK]; LANES];
                for (j, ox) in (ox0..ow).take(CHUNK).enumerate() {
                    let (kx0, kx1) = valid_taps(ox, stride, pad, kw, iw);
                    let mut acc = bias;
                    // The taps inside the input, then those in the padding (border pixels).
                    for ky in ky0..ky1 {
                        let iy = oy * stride + ky - pad;
                        for kx in kx0..kx1 {
                            let ix = ox * stride + kx - pad;
                            let x = lanes_at(input, (iy * iw + ix) * ch + c, lanes);
                            acc = mac(acc, x, lanes_at(w, (ky * kw + kx) * ch + c, lanes), lanes);
                        }
                    }
                    if ky0 > 0 || ky1 < kh || kx0 > 0 || kx1 < kw {
                        for ky in 0..kh {
                            for kx in 0..kw {
                                if ky < ky0 || ky >= ky1 || kx < kx0 || kx >= kx1 {
                                    let wv = lanes_at(w, (ky * kw + kx) * ch + c, lanes);
                                    acc = mac(acc, zp, wv, lanes);
                                }
                            }
                        }
                    }
                    for (lane, a) in sums.iter_mut().zip(acc) {
                        if let Some(s) = lane.get_mut(j) {
                            *s = a;
                        }
                    }
                }
                let n = (ow - ox0).min(CHUNK);
                for (i, lane) in sums.iter().take(lanes).enumerate() {
                    let at = (oy * ow + ox0) * ch + c + i;
                    let out = output.get_mut(at..).unwrap_or_default();
                    chans.output_run(c + i, lane.get(..n).unwrap_or(&[]), out, ch);
                }
            }
        }
        c += lanes;
    }
}

/// The `lanes` (1 or 4) int8 values at `v[i..]` as the low lanes of a word (0 out of range).
#[inline(always)]
fn lanes_at(v: &[i8], i: usize, lanes: usize) -> u32 {
    if lanes == 4 {
        match v.get(i..i + 4) {
            Some(&[a, b, c, d]) => u32::from_le_bytes([a as u8, b as u8, c as u8, d as u8]),
            _ => 0,
        }
    } else {
        v.get(i).map_or(0, |&b| u32::from(b as u8))
    }
}

/// `acc[k] + x[k] * w[k]` for the first `lanes` (1 or 4) int8 lanes of `x` and `w`.
#[inline(always)]
fn mac(acc: [i32; LANES], x: u32, w: u32, lanes: usize) -> [i32; LANES] {
    #[cfg(all(
        target_arch = "arm",
        target_feature = "dsp",
        not(feature = "portable-dot")
    ))]
    if lanes == 4 {
        return crate::dot::mla_i8x4(acc, x, w);
    }
    let _ = lanes;
    let mut acc = acc;
    acc[0] = acc[0].wrapping_add(i32::from(x as u8 as i8) * i32::from(w as u8 as i8));
    acc
}
