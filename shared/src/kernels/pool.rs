//! Max and average pooling (a window and a stride per axis, no padding). Pooling keeps the input's quantization,
//! so it is exact: a maximum, or a sum divided with rounding.
//!
//! Per output pixel, the window's channels are contiguous in NHWC, so channels go four at a
//! time where the core has the DSP extension (a word per tap: SSUB8 and SEL give four maxima,
//! `max_i8x4`; SXTB16 and SADD16 four sums, `widen_i8x4` and `add_i16x2`, in dot/simd.rs), and
//! one at a time for the rest.

use crate::layer::{Pool2dRect, Shape};

/// A pooling's shapes, unpacked once.
#[derive(Debug, Clone, Copy)]
struct Geometry {
    iw: usize,
    ch: usize,
    oh: usize,
    ow: usize,
    kh: usize,
    kw: usize,
    sh: usize,
    sw: usize,
}

impl Geometry {
    fn new(p: &Pool2dRect, in_shape: Shape, out_shape: Shape) -> Self {
        Geometry {
            iw: usize::from(in_shape.width),
            ch: usize::from(in_shape.channels),
            oh: usize::from(out_shape.height),
            ow: usize::from(out_shape.width),
            kh: usize::from(p.kernel_h),
            kw: usize::from(p.kernel_w),
            sh: usize::from(p.stride_h),
            sw: usize::from(p.stride_w),
        }
    }

    /// The usual 2x2 window, unrolled where that pays ([`UNROLL_2X2`]).
    fn unrolled_2x2(&self) -> bool {
        UNROLL_2X2 && self.kh == 2 && self.kw == 2
    }
}

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

/// The usual 2x2 window unrolled where channels go one at a time (cores without the DSP
/// extension): there a runtime-sized double loop cost twice the instructions at opt-level 3
/// (the `speed` profile the M0 and M3 use). With four channels at a time the loop costs little
/// and the 29K CNN's flash budget has no room for the copy.
const UNROLL_2X2: bool = LANES == 1;

/// Max pooling.
pub fn max_pool2d(
    p: &Pool2dRect,
    in_shape: Shape,
    input: &[i8],
    out_shape: Shape,
    output: &mut [i8],
) {
    let g = Geometry::new(p, in_shape, out_shape);
    each_window(
        &g,
        LANES,
        output,
        |lanes| if lanes == 4 { 0x8080_8080 } else { 0x80 },
        |m, at, lanes| max_lanes(m, input, at, lanes),
        |m, out| {
            for (o, b) in out.iter_mut().zip(m.to_le_bytes()) {
                *o = b as i8;
            }
        },
    );
}

/// The walk both poolings share: per output pixel and run of `lanes` channels (up to
/// `lanes_max`, while that many are left, else one), a value that starts as `start(lanes)`
/// takes each tap of the window (`tap(value, input index, lanes)`), and `write` puts it into
/// the run's outputs. Inlined into each pooling, so each compiles to its own loop.
#[inline(always)]
fn each_window<A: Copy>(
    g: &Geometry,
    lanes_max: usize,
    output: &mut [i8],
    start: impl Fn(usize) -> A,
    tap: impl Fn(A, usize, usize) -> A,
    write: impl Fn(A, &mut [i8]),
) {
    let (row, col) = (g.iw * g.ch, g.ch);
    let mut o = 0;
    for oy in 0..g.oh {
        for ox in 0..g.ow {
            let first = (oy * g.sh * g.iw + ox * g.sw) * g.ch;
            let mut c = 0;
            while c < g.ch {
                let lanes = if g.ch - c >= lanes_max { lanes_max } else { 1 };
                let mut value = start(lanes);
                let at = first + c;
                if g.unrolled_2x2() {
                    for d in [0, col, row, row + col] {
                        value = tap(value, at + d, lanes);
                    }
                } else {
                    for ky in 0..g.kh {
                        for kx in 0..g.kw {
                            value = tap(value, at + ky * row + kx * col, lanes);
                        }
                    }
                }
                if let Some(out) = output.get_mut(o..o + lanes) {
                    write(value, out);
                }
                c += lanes;
                o += lanes;
            }
        }
    }
}

/// The lanewise maximum of `m` and the `lanes` (1 or 4) int8 values at `input[at..]`.
#[inline(always)]
fn max_lanes(m: u32, input: &[i8], at: usize, lanes: usize) -> u32 {
    #[cfg(all(
        target_arch = "arm",
        target_feature = "dsp",
        not(feature = "portable-dot")
    ))]
    if lanes == 4 {
        return crate::dot::max_i8x4(m, word(input, at));
    }
    let _ = lanes;
    let x = input.get(at).copied().unwrap_or(0);
    u32::from((m as u8 as i8).max(x) as u8)
}

/// The mean of `count` values that sum to `sum`, rounded half away from zero (TFLM's rule).
#[inline(always)]
fn mean(sum: i32, count: i32) -> i8 {
    let half = count / 2;
    let rounded = if sum >= 0 { sum + half } else { sum - half };
    // checked: a window of 0 values (decoders refuse it) gives 0, not a panic.
    rounded.checked_div(count).unwrap_or(0).clamp(-128, 127) as i8
}

/// Average pooling: the window sum divided by its size, rounded half away from zero.
pub fn avg_pool2d(
    p: &Pool2dRect,
    in_shape: Shape,
    input: &[i8],
    out_shape: Shape,
    output: &mut [i8],
) {
    let g = Geometry::new(p, in_shape, out_shape);
    let count = (g.kh * g.kw) as i32;
    // int16 lanes hold a window's sum while it has at most 256 values (|sum| <= 256 * 128);
    // decoders allow windows of 15 x 15.
    let lanes_max = if count <= 256 { LANES } else { 1 };
    // Lanes 0 and 2, then 1 and 3, as int16 sums (one lane: the low half of the first).
    each_window(
        &g,
        lanes_max,
        output,
        |_| (0, 0),
        |sums, at, lanes| add_lanes(sums, input, at, lanes),
        |sums, out| {
            for (i, o) in out.iter_mut().enumerate() {
                let pair = if i % 2 == 0 { sums.0 } else { sums.1 };
                *o = mean(i32::from((pair >> (8 * (i & 2))) as i16), count);
            }
        },
    );
}

/// The lanewise int16 sums `sums` (lanes 0 and 2, then 1 and 3) plus the `lanes` (1 or 4) int8
/// values at `input[at..]`.
#[inline(always)]
fn add_lanes(sums: (u32, u32), input: &[i8], at: usize, lanes: usize) -> (u32, u32) {
    #[cfg(all(
        target_arch = "arm",
        target_feature = "dsp",
        not(feature = "portable-dot")
    ))]
    if lanes == 4 {
        use crate::dot::{add_i16x2, widen_i8x4};
        let (e, o) = widen_i8x4(word(input, at));
        return (add_i16x2(sums.0, e), add_i16x2(sums.1, o));
    }
    let _ = lanes;
    let x = i32::from(input.get(at).copied().unwrap_or(0));
    ((sums.0 as i32).wrapping_add(x) as u32, sums.1)
}

/// The word of four int8 values at `v[i..i + 4]` (0 when out of range).
#[cfg(all(
    target_arch = "arm",
    target_feature = "dsp",
    not(feature = "portable-dot")
))]
#[inline(always)]
fn word(v: &[i8], i: usize) -> u32 {
    match v.get(i..i + 4) {
        Some(&[a, b, c, d]) => u32::from_le_bytes([a as u8, b as u8, c as u8, d as u8]),
        _ => 0,
    }
}
