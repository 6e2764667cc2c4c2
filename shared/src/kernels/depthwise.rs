//! Depthwise 2-D convolution, channel multiplier 1 (NHWC, `[kh][kw][c]` weights). Taps that
//! fall in the padding read the input zero point (a real 0), so they add `zp * w`; interior
//! pixels have none and skip that loop.
//!
//! Channels go four at a time with the DSP extension (one word of input and one of weights per
//! tap give four products: `mla_i8x4` in dot/simd.rs; a 3x3 kernel's whole window in one
//! `dw3x3_i8x4`, border pixels through a copy of the window with the padding filled in), one
//! at a time otherwise and for the last channels; per output row, a chunk of pixels' sums is
//! computed, then each channel's run of them is requantized at once (`Channels::output_run`),
//! its parameters read once.

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
    // The output columns whose windows have no tap in the padding: from the first whose
    // window starts inside the input to the last whose window ends inside it.
    #[cfg(all(
        target_arch = "arm",
        target_feature = "dsp",
        not(feature = "portable-dot")
    ))]
    let columns = pad.div_ceil(stride.max(1))
        ..((iw + pad)
            .checked_sub(kw)
            .map_or(0, |last| last / stride.max(1) + 1))
        .min(ow);
    let mut c = 0;
    while c < ch {
        let lanes = if ch - c >= LANES { LANES } else { 1 };
        let bias: [i32; LANES] = core::array::from_fn(|i| chans.bias(c + i));
        #[cfg(all(
            target_arch = "arm",
            target_feature = "dsp",
            not(feature = "portable-dot")
        ))]
        let wide = (lanes == 4 && kh == 3 && kw == 3).then(|| widened3x3(w, ch, c));
        for oy in 0..oh {
            let (ky0, ky1) = valid_taps(oy, stride, pad, kh, ih);
            #[cfg(all(
                target_arch = "arm",
                target_feature = "dsp",
                not(feature = "portable-dot")
            ))]
            let full_rows = ky0 == 0 && ky1 == kh;
            for ox0 in (0..ow).step_by(CHUNK) {
                // Lane i's sums for the chunk's pixels, then requantized as one run each.
                let mut sums = [[0_i32; CHUNK]; LANES];
                for (j, ox) in (ox0..ow).take(CHUNK).enumerate() {
                    // A 3x3 kernel, four channels, with the DSP extension: the window in one
                    // `dw3x3_i8x4` (the loops below take about 21 instructions per MAC), read
                    // in place for an interior pixel, else copied with the padding's taps as
                    // the zero point.
                    #[cfg(all(
                        target_arch = "arm",
                        target_feature = "dsp",
                        not(feature = "portable-dot")
                    ))]
                    if let Some(wide) = &wide {
                        let acc = if full_rows && columns.contains(&ox) {
                            // The window starts inside the input (ky0 = kx0 = 0).
                            let at = ((oy * stride - pad) * iw + ox * stride - pad) * ch + c;
                            let x = input.get(at..).unwrap_or(&[]);
                            crate::dot::dw3x3_i8x4(x, iw * ch, ch, wide, bias)
                        } else {
                            let taps = (ky0..ky1, valid_taps(ox, stride, pad, kw, iw));
                            let window =
                                padded3x3(input, zp, (oy, ox), taps, (iw, ch, c), (stride, pad));
                            let x = bytemuck::cast_slice::<u32, i8>(&window);
                            crate::dot::dw3x3_i8x4(x, 12, 4, wide, bias)
                        };
                        for (lane, a) in sums.iter_mut().zip(acc) {
                            if let Some(s) = lane.get_mut(j) {
                                *s = a;
                            }
                        }
                        continue;
                    }
                    let (kx0, kx1) = valid_taps(ox, stride, pad, kw, iw);
                    let interior = ky0 == 0 && ky1 == kh && kx0 == 0 && kx1 == kw;
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
                    if !interior {
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

/// The 3x3 weights of channels `c..c + 4` widened as `dw3x3_i8x4` takes them, tap by tap.
#[cfg(all(
    target_arch = "arm",
    target_feature = "dsp",
    not(feature = "portable-dot")
))]
fn widened3x3(w: &[i8], ch: usize, c: usize) -> [[u32; 2]; 9] {
    core::array::from_fn(|tap| {
        let (e, o) = crate::dot::widen_i8x4(lanes_at(w, tap * ch + c, 4));
        [e, o]
    })
}

/// A border pixel's 3x3 window of channels `c..c + 4` (a word per tap, row by row): the valid
/// taps (`rows` and the columns `kx0..kx1`) from the input, those in the padding `zp` (the
/// zero point in every lane), for `dw3x3_i8x4`.
#[cfg(all(
    target_arch = "arm",
    target_feature = "dsp",
    not(feature = "portable-dot")
))]
#[inline(always)]
fn padded3x3(
    input: &[i8],
    zp: u32,
    (oy, ox): (usize, usize),
    (rows, (kx0, kx1)): (core::ops::Range<usize>, (usize, usize)),
    (iw, ch, c): (usize, usize, usize),
    (stride, pad): (usize, usize),
) -> [u32; 9] {
    let mut window = [zp; 9];
    for ky in rows {
        let iy = oy * stride + ky - pad;
        for kx in kx0..kx1 {
            let ix = ox * stride + kx - pad;
            if let Some(v) = window.get_mut(3 * ky + kx) {
                *v = lanes_at(input, (iy * iw + ix) * ch + c, 4);
            }
        }
    }
    window
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
