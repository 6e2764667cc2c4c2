#![cfg_attr(feature = "portable-dot", allow(dead_code))]
//! The DSP-extension (ARMv7E-M / ARMv8-M Main with DSP) dot product: SXTB16 unpacks two int8
//! lanes to int16, SMLAD multiplies two int16 pairs and accumulates, so 4 MACs take two SMLADs.
//! SMLAD's accumulate wraps like `wrapping_add` (it only sets the Q flag), so the result is
//! bit-identical to the portable one (`portable.rs`).
//!
//! The loops are hand-written assembly (instruction counts below are per MAC in the loop):
//!
//! * [`dot3_i8`], dense layers: three weight rows against one input, so each input word is
//!   loaded and widened once for three rows (18 instructions per 12 MACs, 1.58 with loop control).
//!   [`dense_rows`] drives it over a layer's rows, its bounds checked once.
//! * [`dot2_widened`], convolutions: one weight row against two receptive fields that were
//!   widened to int16 once ([`widen_in_place`]), so each weight word is loaded and widened once
//!   for two output pixels (9 instructions per 8 MACs, 1.19 with loop control).
//! * [`dot_i8`] serves single rows and tails with a plain word loop (2.5 per MAC), kept small on
//!   purpose: flash is the scarcer resource (see firmware/README.md for the measurements).
//!
//! * [`dw3x3_i8x4`], 3x3 depthwise convolutions: a whole window for four channels (74
//!   instructions per 36 MACs), its weights widened once per channel group.
//!
//! Pooling and the other depthwise convolutions use the SIMD instructions one at a time
//! ([`max_i8x4`], [`mla_i8x4`], [`widen_i8x4`]), in Rust loops the compiler schedules.
//!
//! Requantization: [`requantize_run`] for a run of one channel's outputs (convolutions,
//! depthwise), [`requantize_channels`] for consecutive channels' (dense rows).
//!
//! Unaligned LDR is architectural on ARMv7-M/ARMv8-M Main (unless CCR.UNALIGN_TRP is set, which
//! nothing in minnow does), so weights and inputs need no alignment.
#![allow(unsafe_code)] // inline assembly and `dense_rows`' unchecked indexing; denied elsewhere

use core::arch::asm;

use super::portable::dot_i8_scalar;
use crate::quant::{MAX_SHIFT, MIN_SHIFT};

/// Sum of `a[i] * b[i]` over the shorter slice: one word (4 MACs) per loop iteration, each
/// operand word loaded once with a post-incremented (possibly unaligned) LDR and widened with
/// two SXTB16, two SMLAD: 10 instructions per 4 MACs with loop control. Then at most 3 scalar
/// products. Not inlined and not unrolled: one small copy serves the rows left over by
/// [`dot3_i8`] and the tails.
#[inline(never)]
pub fn dot_i8(a: &[i8], b: &[i8]) -> i32 {
    let n = a.len().min(b.len());
    let words = n / 4;
    let mut acc = 0_i32;
    if words > 0 {
        // SAFETY: both slices hold at least n >= 4 * words bytes; the loop reads exactly
        // 4 * words bytes from each and ends when `pa` reaches `end`.
        unsafe {
            let end = a.as_ptr().add(4 * words);
            asm!(
                "2:",
                "ldr {x}, [{pa}], #4",
                "ldr {w}, [{pb}], #4",
                "sxtb16 {t}, {x}",
                "sxtb16 {u}, {w}",
                "smlad {acc}, {t}, {u}, {acc}",
                "sxtb16 {x}, {x}, ror #8",
                "sxtb16 {w}, {w}, ror #8",
                "smlad {acc}, {x}, {w}, {acc}",
                "cmp {pa}, {end}",
                "bne 2b",
                pa = inout(reg) a.as_ptr() => _,
                pb = inout(reg) b.as_ptr() => _,
                end = in(reg) end,
                acc = inout(reg) acc,
                x = out(reg) _,
                w = out(reg) _,
                t = out(reg) _,
                u = out(reg) _,
                options(pure, readonly, nostack),
            );
        }
    }
    let tail = 4 * words;
    let (ta, tb) = (a.get(tail..n).unwrap_or(&[]), b.get(tail..n).unwrap_or(&[]));
    dot_i8_scalar(ta, tb).wrapping_add(acc)
}

/// One word of [`dot3_i8`]: four inputs loaded and widened once (`{xe}` even lanes, `{x}` odd),
/// multiplied into the three rows' accumulators (the second and third row at `{n}` and `{n2}`
/// from `{p0}`, which then steps to the next word of the first row).
macro_rules! dot3_word {
    () => {
        concat!(
            "ldr {x}, [{px}], #4\n",
            "sxtb16 {xe}, {x}\n",
            "sxtb16 {x}, {x}, ror #8\n",
            "ldr {w}, [{p0}, {n}]\n",
            "sxtb16 {t}, {w}\n",
            "smlad {a1}, {xe}, {t}, {a1}\n",
            "sxtb16 {w}, {w}, ror #8\n",
            "smlad {a1}, {x}, {w}, {a1}\n",
            "ldr {w}, [{p0}, {n2}]\n",
            "sxtb16 {t}, {w}\n",
            "smlad {a2}, {xe}, {t}, {a2}\n",
            "sxtb16 {w}, {w}, ror #8\n",
            "smlad {a2}, {x}, {w}, {a2}\n",
            "ldr {w}, [{p0}], #4\n",
            "sxtb16 {t}, {w}\n",
            "smlad {a0}, {xe}, {t}, {a0}\n",
            "sxtb16 {w}, {w}, ror #8\n",
            "smlad {a0}, {x}, {w}, {a0}",
        )
    };
}

/// Three dot products sharing one input: `acc[r] + sum x[i] * w[r * n + i]` for the three rows
/// of `w` (`n = x.len()` weights each, back to back, as a dense layer stores them) over the
/// first `4 * (n / 4)` values (the caller takes the rest, if any, another way); `acc` as it is
/// when `w` is shorter than three rows. Each input word is loaded and widened once for the three
/// rows (the second and third read at offsets `n` and `2n` from the first, so one pointer walks
/// all three): 18 instructions per 12 MACs, 38 per 24 with the loop control of two words per
/// iteration (1.58 per MAC), against 2.5 for [`dot_i8`]; bit-identical to it. With an odd
/// number of words the loop starts at the second half of its body.
#[inline(always)]
pub fn dot3_i8(x: &[i8], w: &[i8], acc: [i32; 3]) -> [i32; 3] {
    let n = x.len();
    let words = n / 4;
    let [mut a0, mut a1, mut a2] = acc;
    if words > 0 && w.len() >= n.saturating_mul(3) {
        // SAFETY: `w` holds at least 3n bytes and `x` n >= 4 * words; the loop reads exactly
        // 4 * words bytes of `x` and of each row (unaligned LDR is fine, see the module docs)
        // and ends when `px` reaches `end`, entering at the second word when `words` is odd.
        unsafe {
            let end = x.as_ptr().add(4 * words);
            asm!(
                "cmp {x}, #0",
                "bne 3f",
                "2:",
                dot3_word!(),
                "3:",
                dot3_word!(),
                "cmp {px}, {end}",
                "bne 2b",
                px = inout(reg) x.as_ptr() => _,
                p0 = inout(reg) w.as_ptr() => _,
                n = in(reg) n,
                n2 = in(reg) 2 * n,
                end = in(reg) end,
                a0 = inout(reg) a0,
                a1 = inout(reg) a1,
                a2 = inout(reg) a2,
                x = inout(reg) words & 1 => _,
                xe = out(reg) _,
                w = out(reg) _,
                t = out(reg) _,
                options(pure, readonly, nostack),
            );
        }
    }
    [a0, a1, a2]
}

/// Rows requantized per pass in [`dense_rows`]: four groups of three.
const BLOCK: usize = 12;

/// A dense layer's rows on cores with SMLAD: `out[c] = requantize(bias[c] + dot(x, w[c]))` with
/// channel `c`'s multiplier and shift, the output zero point and clamp of `range`, for every
/// row `c` that `out`, `w` (rows of `x.len()` weights back to back) and the three per-channel
/// arrays all have. Three rows at a time share every input load ([`dot3_i8`], when rows are
/// whole words, as it takes them: the MLP's 784 and 64, the CNNs' 576 and 588), the rows left
/// over one at a time ([`dot_i8`]); the accumulators of up to [`BLOCK`] rows go through one
/// [`requantize_channels`] pass. The bounds are checked once, here, not per row: dense 64->10
/// spent about 300 of its 2,100 instructions on slicing rows and zeroing accumulators when the
/// loop was written with checked indexing.
#[inline(always)]
pub fn dense_rows(
    x: &[i8],
    w: &[i8],
    bias: &[[u8; 4]],
    channels: (&[[u8; 4]], &[u8]),
    range: &OutputRange,
    out: &mut [i8],
) {
    let (multiplier, shift) = channels;
    let n = x.len();
    if n == 0 {
        return;
    }
    let rows = (w.len() / n)
        .min(out.len())
        .min(bias.len())
        .min(multiplier.len())
        .min(shift.len());
    let in_triples = n % 4 == 0;
    let mut acc = core::mem::MaybeUninit::<[i32; BLOCK]>::uninit();
    let acc = acc.as_mut_ptr().cast::<i32>();
    let mut c = 0;
    while c < rows {
        let k = (rows - c).min(BLOCK);
        // SAFETY: every index below is under `rows`, which every slice covers: row `r` of `w`
        // starts at r * n with n values after it (`rows <= w.len() / n`), `bias`,
        // `multiplier`, `shift` and `out` have at least `rows` entries. `acc[..k]` is written
        // (j goes through 0..k, by 3 or by 1) before it is read as a slice.
        unsafe {
            let bias_at = |r: usize| i32::from_le_bytes(*bias.get_unchecked(r));
            let mut j = 0;
            while j < k {
                let r = c + j;
                let row = w.get_unchecked(r * n..);
                if in_triples && k - j >= 3 {
                    let sums = dot3_i8(x, row, [bias_at(r), bias_at(r + 1), bias_at(r + 2)]);
                    acc.add(j).cast::<[i32; 3]>().write_unaligned(sums);
                    j += 3;
                } else {
                    acc.add(j).write(bias_at(r).wrapping_add(dot_i8(x, row)));
                    j += 1;
                }
            }
            requantize_channels(
                core::slice::from_raw_parts(acc, k),
                multiplier.get_unchecked(c..),
                shift.get_unchecked(c..),
                range,
                out.get_unchecked_mut(c..),
            );
        }
        c += k;
    }
}

/// Two dot products sharing one weight row, over receptive fields widened to int16:
/// `(acc + sum a[i] * w[i], acc + sum b[i] * w[i])` for the first `4 * quads` weights, where
/// `a` and `b` hold two words per 4 values as [`widen_in_place`] writes them (values 0 and 2,
/// then 1 and 3, as SXTB16 pairs the lanes of a weight word). Each weight word is loaded and
/// widened once for both pixels: 9 instructions per 8 MACs, two quads per iteration plus 2 of
/// loop control (1.19 per MAC). Returns `(acc, acc)` when a slice is too short for `quads`.
#[inline(always)]
pub fn dot2_widened(a: &[u32], b: &[u32], w: &[i8], quads: usize, acc: i32) -> (i32, i32) {
    let (mut a0, mut a1) = (acc, acc);
    if quads == 0 || a.len() < 2 * quads || b.len() < 2 * quads || w.len() < 4 * quads {
        return (a0, a1);
    }
    // SAFETY: `a` and `b` hold at least 2 * quads words (u32, so word aligned as LDRD needs) and
    // `w` at least 4 * quads bytes; the loop reads exactly that much from each and ends when `pw`
    // reaches `end`. With an odd number of quads it enters at the second half of its body.
    unsafe {
        let end = w.as_ptr().add(4 * quads);
        asm!(
            "cmp {t}, #0",
            "bne 3f",
            "2:",
            "ldrd {ae}, {ao}, [{pa}], #8",
            "ldrd {be}, {bo}, [{pb}], #8",
            "ldr {w}, [{pw}], #4",
            "sxtb16 {t}, {w}",
            "smlad {a0}, {ae}, {t}, {a0}",
            "smlad {a1}, {be}, {t}, {a1}",
            "sxtb16 {w}, {w}, ror #8",
            "smlad {a0}, {ao}, {w}, {a0}",
            "smlad {a1}, {bo}, {w}, {a1}",
            "3:",
            "ldrd {ae}, {ao}, [{pa}], #8",
            "ldrd {be}, {bo}, [{pb}], #8",
            "ldr {w}, [{pw}], #4",
            "sxtb16 {t}, {w}",
            "smlad {a0}, {ae}, {t}, {a0}",
            "smlad {a1}, {be}, {t}, {a1}",
            "sxtb16 {w}, {w}, ror #8",
            "smlad {a0}, {ao}, {w}, {a0}",
            "smlad {a1}, {bo}, {w}, {a1}",
            "cmp {pw}, {end}",
            "bne 2b",
            pa = inout(reg) a.as_ptr() => _,
            pb = inout(reg) b.as_ptr() => _,
            pw = inout(reg) w.as_ptr() => _,
            end = in(reg) end,
            a0 = inout(reg) a0,
            a1 = inout(reg) a1,
            ae = out(reg) _,
            ao = out(reg) _,
            be = out(reg) _,
            bo = out(reg) _,
            w = out(reg) _,
            t = inout(reg) quads & 1 => _,
            options(pure, readonly, nostack),
        );
    }
    (a0, a1)
}

/// Widens a receptive field to int16 in place: `region`'s last `k` bytes hold it as int8
/// (written there by the gather), and its first `4 * (k / 4)` values are rewritten as two words
/// per 4 values for [`dot2_widened`]: `(v0, v2)` then `(v1, v3)`, SXTB16's lanes. Each word is
/// written after the int8 bytes it replaces were read, so the int8 values left over
/// (`k % 4`, the tail) stay where they were, at the end of `region`. Needs
/// `4 * region.len() >= 2 * k`; does nothing otherwise.
#[inline(never)]
pub fn widen_in_place(region: &mut [u32], k: usize) {
    let quads = k / 4;
    let bytes = 4 * region.len();
    if quads == 0 || bytes < 2 * k {
        return;
    }
    // SAFETY: the source, bytes [bytes - k, bytes - k + 4 * quads) of the region, and the
    // destination, words [0, 2 * quads), are inside it (2 * quads words = 8 * quads bytes
    // <= 2 * k <= bytes). Quad q is read before words 2q and 2q + 1 are written, and those end
    // at byte 8q + 8 <= bytes - k + 4q + 4 (because bytes >= 2k >= k + 4 * quads), so no byte is
    // written before it was read. STRD needs word alignment: `region` is u32.
    unsafe {
        let dst = region.as_mut_ptr();
        let src = dst.cast::<u8>().add(bytes - k);
        let end = src.add(4 * quads);
        asm!(
            "2:",
            "ldr {v}, [{src}], #4",
            "sxtb16 {e}, {v}",
            "sxtb16 {v}, {v}, ror #8",
            "strd {e}, {v}, [{dst}], #8",
            "cmp {src}, {end}",
            "bne 2b",
            src = inout(reg) src => _,
            dst = inout(reg) dst => _,
            end = in(reg) end,
            v = out(reg) _,
            e = out(reg) _,
            options(nostack),
        );
    }
}

/// `dst = src` for slices of one length (nothing otherwise): words (unaligned LDR/STR, see the
/// module docs), then the last bytes. The convolution's gather copies its rows of taps with it: the
/// `copy_from_slice` it replaces linked `memcpy`, 338 bytes of flash that nothing else in a CNN
/// student's runtime needed, for rows of a few tens of bytes (4 instructions per word here).
#[inline(never)]
pub fn copy_i8(dst: &mut [i8], src: &[i8]) {
    let n = src.len();
    if n == 0 || dst.len() != n {
        return;
    }
    // SAFETY: reads `src[..n]` and writes `dst[..n]` (both n long): words while 4 or more bytes
    // are left, then the rest byte by byte.
    unsafe {
        asm!(
            "subs {n}, {n}, #4",
            "blt 3f",
            "2:",
            "ldr {t}, [{s}], #4",
            "str {t}, [{d}], #4",
            "subs {n}, {n}, #4",
            "bge 2b",
            "3:",
            "adds {n}, {n}, #4",
            "beq 5f",
            "4:",
            "ldrb {t}, [{s}], #1",
            "strb {t}, [{d}], #1",
            "subs {n}, {n}, #1",
            "bne 4b",
            "5:",
            n = inout(reg) n => _,
            s = inout(reg) src.as_ptr() => _,
            d = inout(reg) dst.as_mut_ptr() => _,
            t = out(reg) _,
            options(nostack),
        );
    }
}

/// Bytewise signed maximum of four int8 lanes: SSUB8 sets a GE flag per lane where `a >= b`,
/// SEL picks those lanes of `a` and the others of `b`.
#[inline(always)]
pub fn max_i8x4(a: u32, b: u32) -> u32 {
    let m: u32;
    // SAFETY: register arithmetic only; the GE flags SSUB8 sets are read by SEL in the same block.
    unsafe {
        asm!(
            "ssub8 {m}, {a}, {b}",
            "sel {m}, {a}, {b}",
            a = in(reg) a,
            b = in(reg) b,
            m = out(reg) m,
            options(pure, nomem, nostack),
        );
    }
    m
}

/// The four int8 lanes of `x` as two pairs of int16: `(lanes 0 and 2, lanes 1 and 3)` (SXTB16).
#[inline(always)]
pub fn widen_i8x4(x: u32) -> (u32, u32) {
    let (e, o): (u32, u32);
    // SAFETY: register arithmetic only.
    unsafe {
        asm!(
            "sxtb16 {e}, {x}",
            "sxtb16 {o}, {x}, ror #8",
            x = in(reg) x,
            e = out(reg) e,
            o = out(reg) o,
            options(pure, nomem, nostack),
        );
    }
    (e, o)
}

/// Lanewise int16 addition of two pairs (SADD16, wrapping per lane).
#[inline(always)]
pub fn add_i16x2(a: u32, b: u32) -> u32 {
    let s: u32;
    // SAFETY: register arithmetic only.
    unsafe {
        asm!(
            "sadd16 {s}, {a}, {b}",
            a = in(reg) a,
            b = in(reg) b,
            s = out(reg) s,
            options(pure, nomem, nostack),
        );
    }
    s
}

/// Four lanewise products added to four accumulators: `acc[i] + x[i] * w[i]` for the int8
/// lanes of `x` and `w` (SXTB16 widens lanes 0 and 2, then 1 and 3; SMLABB and SMLATT multiply
/// the bottom and the top halves). Wrapping, like `wrapping_add`.
#[inline(always)]
pub fn mla_i8x4(acc: [i32; 4], x: u32, w: u32) -> [i32; 4] {
    let [mut a0, mut a1, mut a2, mut a3] = acc;
    // SAFETY: register arithmetic only.
    unsafe {
        asm!(
            "sxtb16 {xe}, {x}",
            "sxtb16 {we}, {w}",
            "smlabb {a0}, {xe}, {we}, {a0}",
            "smlatt {a2}, {xe}, {we}, {a2}",
            "sxtb16 {x}, {x}, ror #8",
            "sxtb16 {w}, {w}, ror #8",
            "smlabb {a1}, {x}, {w}, {a1}",
            "smlatt {a3}, {x}, {w}, {a3}",
            x = inout(reg) x => _,
            w = inout(reg) w => _,
            xe = out(reg) _,
            we = out(reg) _,
            a0 = inout(reg) a0,
            a1 = inout(reg) a1,
            a2 = inout(reg) a2,
            a3 = inout(reg) a3,
            options(pure, nomem, nostack),
        );
    }
    [a0, a1, a2, a3]
}

/// Values per row of the strip [`conv3_row`] reads (int16).
pub const STRIP: usize = 32;

/// One output row of a 3x3 convolution over one input channel, stride 1, for one output
/// channel: `acc[j] = bias + sum over ky, kx of strip[ky][j + kx] * w[3 * ky + kx]` for the
/// first `n` (at most `STRIP - 2`) values of `acc`. `strip` holds the three input rows under the
/// kernel, widened to int16 once for all the channels; per output each row is one unaligned word
/// (values j, j + 1) against a pair of weights (SMLAD) and one halfword against the third
/// (SMLABB, SMLABT: the third weights of rows 0 and 1 share a register): 16 instructions per
/// 9 MACs with loop control.
#[inline(never)]
pub fn conv3_row(strip: &[[i16; STRIP]; 3], w: &[i8; 9], n: usize, bias: i32, acc: &mut [i32]) {
    let n = n.min(acc.len()).min(STRIP - 2);
    if n == 0 {
        return;
    }
    let pair = |a: i8, b: i8| u32::from(a as i16 as u16) | (u32::from(b as i16 as u16) << 16);
    // SAFETY: reads halfwords j..j + 3 of each strip row for j < n <= STRIP - 2 (inside the
    // row; unaligned LDR and LDRSH are architectural on cores with the DSP extension, see the
    // module docs) and writes acc[..n].
    unsafe {
        let end = acc.as_mut_ptr().add(n);
        asm!(
            "2:",
            "ldr {t0}, [{p}]",
            "ldrsh {t1}, [{p}, #4]",
            "smlad {a}, {t0}, {w0}, {bias}",
            "smlabb {a}, {t1}, {v01}, {a}",
            "ldr {t0}, [{p}, #{row}]",
            "ldrsh {t1}, [{p}, #{row} + 4]",
            "smlad {a}, {t0}, {w1}, {a}",
            "smlabt {a}, {t1}, {v01}, {a}",
            "ldr {t0}, [{p}, #2 * {row}]",
            "ldrsh {t1}, [{p}, #2 * {row} + 4]",
            "smlad {a}, {t0}, {w2}, {a}",
            "smlabb {a}, {t1}, {v2}, {a}",
            "add {p}, {p}, #2",
            "str {a}, [{pa}], #4",
            "cmp {pa}, {end}",
            "bne 2b",
            row = const 2 * STRIP,
            p = inout(reg) strip.as_ptr() => _,
            pa = inout(reg) acc.as_mut_ptr() => _,
            end = in(reg) end,
            bias = in(reg) bias,
            w0 = in(reg) pair(w[0], w[1]),
            w1 = in(reg) pair(w[3], w[4]),
            w2 = in(reg) pair(w[6], w[7]),
            v01 = in(reg) pair(w[2], w[5]),
            v2 = in(reg) pair(w[8], 0),
            a = out(reg) _,
            t0 = out(reg) _,
            t1 = out(reg) _,
            options(nostack),
        );
    }
}

/// A layer's output zero point and clamp (`min` and `max` adjacent, for one LDRD).
#[derive(Debug, Clone, Copy)]
#[repr(C)]
pub struct OutputRange {
    pub zero_point: i32,
    pub min: i32,
    pub max: i32,
}

/// A channel's requantization as [`requantize_run`] applies it, and the layer's output range
/// (at byte 12: the loop reads `min` and `max` at 16). Made by [`RunParams::new`].
#[derive(Debug, Clone, Copy)]
#[repr(C)]
pub struct RunParams {
    multiplier: i32,
    /// The rounding mask `2^right - 1` (fast case) or the left shift (general case).
    aux: i32,
    /// The right shift in the low byte (where register-specified shifts read it); bit 31 set in
    /// the general case.
    right: u32,
    range: OutputRange,
}

impl RunParams {
    /// `quant::requantize`'s parameters (the shift clamped to `[MIN_SHIFT, MAX_SHIFT]` as there)
    /// and the output's zero point and clamp. The fast case, every decoded student's, has no
    /// left shift and a multiplier other than `i32::MIN`.
    #[inline(always)]
    pub fn new(multiplier: i32, shift: i8, range: OutputRange) -> Self {
        let shift = shift.clamp(MIN_SHIFT, MAX_SHIFT);
        let right = if shift < 0 {
            u32::from(shift.unsigned_abs())
        } else {
            0
        };
        let (aux, flag) = if shift <= 0 && multiplier != i32::MIN {
            ((1_i32 << right).wrapping_sub(1), 0)
        } else {
            (i32::from(shift.max(0)), 1 << 31)
        };
        RunParams {
            multiplier,
            aux,
            right: right | flag,
            range,
        }
    }
}

// The steps of requantization, shared by [`requantize_run`] and [`requantize_channels`], as
// assembly text over the registers they name: `{x}` the value, `{m}` the multiplier, `{t0}` and
// `{t1}` scratch.

/// `{x}` times `{m}`, doubled, rounded, high half: the 64-bit product plus 2^30, its bits 31..63
/// (`quant::saturating_rounding_doubling_high_mul` but for its one overflow: `min_to_max`).
macro_rules! high_mul {
    () => {
        concat!(
            "smull {t0}, {t1}, {x}, {m}\n",
            "adds {t0}, {t0}, #0x40000000\n",
            "adc {t1}, {t1}, #0\n",
            "lsl {t1}, {t1}, #1\n",
            "orr {x}, {t1}, {t0}, lsr #31",
        )
    };
}

/// The high multiply's one overflow (`i32::MIN` times `i32::MIN`) is the only way to
/// `i32::MIN`: it becomes `i32::MAX`.
macro_rules! min_to_max {
    () => {
        concat!(
            "cmp {x}, #0x80000000\n",
            "it eq\n",
            "mvneq {x}, #0x80000000"
        )
    };
}

/// `{x}` shifted left by `$left`, saturated (~((x >> 31) ^ MIN) is MAX for x >= 0, MIN below).
macro_rules! saturating_left {
    ($left:literal) => {
        concat!(
            "lsl {t0}, {x}, ",
            $left,
            "\n",
            "asr {t1}, {t0}, ",
            $left,
            "\n",
            "cmp {t1}, {x}\n",
            "ittt ne\n",
            "asrne {t1}, {x}, #31\n",
            "eorne {t0}, {t1}, #0x80000000\n",
            "mvnne {t0}, {t0}\n",
            "mov {x}, {t0}",
        )
    };
}

/// `$mask = 2^$right - 1`.
macro_rules! mask {
    ($mask:literal, $right:literal) => {
        concat!(
            "mov ", $mask, ", #1\n", "lsl ", $mask, ", ", $mask, ", ", $right, "\n", "sub ", $mask,
            ", ", $mask, ", #1",
        )
    };
}

/// `{x}` divided by `2^$right` rounding half away from zero (`quant::rounding_divide_by_pot`),
/// `$mask` being `2^$right - 1`: the threshold is half the mask, plus one for negative values
/// (the arithmetic shift keeps the sign, so the shifted value's sign bit is the one to add).
macro_rules! round_shift {
    ($mask:literal, $right:literal) => {
        concat!(
            "and {t0}, {x}, ",
            $mask,
            "\n",
            "asr {x}, {x}, ",
            $right,
            "\n",
            "lsr {t1}, ",
            $mask,
            ", #1\n",
            "add {t1}, {t1}, {x}, lsr #31\n",
            "cmp {t0}, {t1}\n",
            "it gt\n",
            "addgt {x}, {x}, #1",
        )
    };
}

/// `{x}` clamped to `[{t0}, {t1}]`, max then min.
macro_rules! clamp {
    () => {
        concat!(
            "cmp {x}, {t0}\n",
            "it lt\n",
            "movlt {x}, {t0}\n",
            "cmp {x}, {t1}\n",
            "it gt\n",
            "movgt {x}, {t1}",
        )
    };
}

/// `out[i * stride] = clamp(requantize(acc[i], multiplier, shift) + zero_point, min, max)`
/// (the addition saturating, the clamp max then min) for as many `acc` as `out` has room for:
/// every output of every kernel on cores with the DSP extension, a run of one channel's at a
/// time. `quant::requantize`'s steps: the saturating left shift; the 64-bit product plus 2^30,
/// its bits 31..63 (the rounding doubling high multiply), whose one overflow (`i32::MIN` times
/// `i32::MIN`) is the only way to get `i32::MIN` and becomes `i32::MAX`; then the division by
/// `2^right` rounding half away from zero (the threshold is half the mask, plus one for negative
/// values: the arithmetic shift keeps the sign, so the shifted value's sign bit is the one to
/// add). The fast case (no left shift, no `i32::MIN` multiplier) skips the left shift and the
/// fix-up and has the mask ready: 25 instructions per output, 38 in the general case (LLVM's
/// loop took about 40 for the fast case alone). Nothing is written when `out` is too short for
/// every `acc` (the kernels never pass such a pair). Inlined into its one caller,
/// `Channels::output_run`: a call of its own cost about 25 instructions per run, and the
/// convolutions' runs are of two outputs.
#[inline(always)]
pub fn requantize_run(acc: &[i32], out: &mut [i8], stride: usize, p: &RunParams) {
    let n = acc.len();
    // The last output's index, (n - 1) * stride, must be inside `out` (a multiplication, where
    // the number of outputs `out` has room for took a division).
    let fits = n
        .checked_sub(1)
        .and_then(|last| last.checked_mul(stride))
        .is_some_and(|at| at < out.len());
    if !fits {
        return;
    }
    // SAFETY: reads `acc[..n]` and writes `out[i * stride]` for i < n, at most
    // (n - 1) * stride < out.len(); reads the six words of `p`.
    unsafe {
        let end = acc.as_ptr().add(n);
        asm!(
            "tst {right}, #0x80000000",
            "bne 4f",
            // The fast case; `aux` is the mask.
            "2:",
            "ldr {x}, [{pa}], #4",
            high_mul!(),
            round_shift!("{aux}", "{right}"),
            "qadd {x}, {x}, {zp}",
            "ldrd {t0}, {t1}, [{p}, #16]",
            clamp!(),
            "strb {x}, [{po}]",
            "add {po}, {po}, {stride}",
            "cmp {pa}, {end}",
            "bne 2b",
            "b 6f",
            // The general case; `aux` is the left shift.
            "4:",
            "ldr {x}, [{pa}], #4",
            saturating_left!("{aux}"),
            high_mul!(),
            min_to_max!(),
            mask!("{t1}", "{right}"),
            round_shift!("{t1}", "{right}"),
            "qadd {x}, {x}, {zp}",
            "ldrd {t0}, {t1}, [{p}, #16]",
            clamp!(),
            "strb {x}, [{po}]",
            "add {po}, {po}, {stride}",
            "cmp {pa}, {end}",
            "bne 4b",
            "6:",
            pa = inout(reg) acc.as_ptr() => _,
            end = in(reg) end,
            po = inout(reg) out.as_mut_ptr() => _,
            stride = in(reg) stride,
            m = in(reg) p.multiplier,
            aux = in(reg) p.aux,
            right = in(reg) p.right,
            zp = in(reg) p.range.zero_point,
            p = in(reg) p,
            x = out(reg) _,
            t0 = out(reg) _,
            t1 = out(reg) _,
            options(nostack),
        );
    }
}

/// `out[i] = clamp(requantize(acc[i], multiplier[i], shift[i]) + zero_point, min, max)` for
/// every `acc` (the addition saturating, the clamp max then min): consecutive channels, each
/// output with its own multiplier and shift (dense rows). `quant::requantize`'s steps in full
/// for every output, as [`requantize_run`]'s general case, with the shift clamped and split
/// into the left and right shifts per output: 40 instructions per output when the shift is not
/// positive (every decoded student's). One loop for every case, no second path: flash counts
/// on the smallest students. Nothing is written when a slice is shorter than `acc`.
#[inline(always)]
pub fn requantize_channels(
    acc: &[i32],
    multiplier: &[[u8; 4]],
    shift: &[u8],
    range: &OutputRange,
    out: &mut [i8],
) {
    let n = acc.len();
    if n == 0 || multiplier.len() < n || shift.len() < n || out.len() < n {
        return;
    }
    // SAFETY: reads `acc[..n]`, `multiplier[..n]` (unaligned LDR, see the module docs),
    // `shift[..n]` and the three words of `range` (word aligned, as LDRD needs), and writes
    // `out[..n]`; the loop ends when `pa` reaches `end`, after n outputs.
    unsafe {
        let end = acc.as_ptr().add(n);
        asm!(
            "2:",
            "ldrsb {s}, [{ps}], #1",
            "ldr {m}, [{pm}], #4",
            "ldr {x}, [{pa}], #4",
            // The shift clamped to [MIN_SHIFT, MAX_SHIFT] = [-31, 30].
            "cmn {s}, #31",
            "it lt",
            "mvnlt {s}, #30",
            "cmp {s}, #30",
            "it gt",
            "movgt {s}, #30",
            // A positive shift: x << s, saturated, and no right shift.
            "cmp {s}, #0",
            "ble 3f",
            saturating_left!("{s}"),
            "mov {s}, #0",
            "3:",
            high_mul!(),
            min_to_max!(),
            // right = -s; the multiplier's register takes the mask.
            "rsb {s}, {s}, #0",
            mask!("{m}", "{s}"),
            round_shift!("{m}", "{s}"),
            "ldr {t0}, [{p}]",
            "qadd {x}, {x}, {t0}",
            "ldrd {t0}, {t1}, [{p}, #4]",
            clamp!(),
            "strb {x}, [{po}], #1",
            "cmp {pa}, {end}",
            "bne 2b",
            pa = inout(reg) acc.as_ptr() => _,
            pm = inout(reg) multiplier.as_ptr() => _,
            ps = inout(reg) shift.as_ptr() => _,
            po = inout(reg) out.as_mut_ptr() => _,
            end = in(reg) end,
            p = in(reg) range,
            x = out(reg) _,
            m = out(reg) _,
            s = out(reg) _,
            t0 = out(reg) _,
            t1 = out(reg) _,
            options(nostack),
        );
    }
}

/// One tap of [`dw3x3_i8x4`]: the input word `$load` reads, widened, against the tap's pair of
/// widened weights (the next in `{pw}`), into the four accumulators.
macro_rules! dw3x3_tap {
    ($load:literal) => {
        concat!(
            $load,
            "\n",
            "sxtb16 {xo}, {x}, ror #8\n",
            "sxtb16 {x}, {x}\n",
            "ldrd {we}, {wo}, [{pw}], #8\n",
            "smlabb {a0}, {x}, {we}, {a0}\n",
            "smlatt {a2}, {x}, {we}, {a2}\n",
            "smlabb {a1}, {xo}, {wo}, {a1}\n",
            "smlatt {a3}, {xo}, {wo}, {a3}",
        )
    };
}

/// The three taps of a window row of [`dw3x3_i8x4`]: input words at `{px}`, `{px} + {ch}` and
/// `{px} + 2 * {ch}`.
macro_rules! dw3x3_row {
    () => {
        concat!(
            dw3x3_tap!("ldr {x}, [{px}]"),
            "\n",
            dw3x3_tap!("ldr {x}, [{px}, {ch}]"),
            "\n",
            dw3x3_tap!("ldr {x}, [{px}, {ch}, lsl #1]"),
        )
    };
}

/// A 3x3 depthwise window for four channels: `acc[i] + sum over the 9 taps of x[tap][i] *
/// w[tap][i]`, where tap `(ky, kx)` of the input is the word at byte `ky * row + kx * ch` of `x`
/// (four channels of one input pixel, NHWC) and its weights are `w[3 * ky + kx]`, widened once
/// per channel group as [`widen_i8x4`] gives them (lanes 0 and 2, then 1 and 3). Per tap one
/// (unaligned) LDR, two SXTB16, one LDRD and four multiply-accumulates (SMLABB, SMLATT):
/// 74 instructions per 36 MACs. Wrapping, like [`mla_i8x4`]. Returns `acc` when `x` is too
/// short for the window (the caller never passes such a slice). Not inlined: one copy serves
/// the kernel's interior and border pixels (flash).
#[inline(never)]
pub fn dw3x3_i8x4(x: &[i8], row: usize, ch: usize, w: &[[u32; 2]; 9], acc: [i32; 4]) -> [i32; 4] {
    let last = row
        .checked_mul(2)
        .and_then(|r| ch.checked_mul(2).and_then(|c| r.checked_add(c)))
        .and_then(|at| at.checked_add(4));
    if last.is_none_or(|end| end > x.len()) {
        return acc;
    }
    let [mut a0, mut a1, mut a2, mut a3] = acc;
    // SAFETY: the nine words read from `x` start at byte `ky * row + kx * ch` for ky, kx < 3,
    // at most `2 * row + 2 * ch`, and end inside `x` (checked above; unaligned LDR is
    // architectural here, see the module docs); `w` is 9 pairs of words, read in order with
    // LDRD (word aligned: `u32`).
    unsafe {
        asm!(
            dw3x3_row!(),
            "add {px}, {px}, {row}",
            dw3x3_row!(),
            "add {px}, {px}, {row}",
            dw3x3_row!(),
            px = inout(reg) x.as_ptr() => _,
            pw = inout(reg) w.as_ptr() => _,
            row = in(reg) row,
            ch = in(reg) ch,
            a0 = inout(reg) a0,
            a1 = inout(reg) a1,
            a2 = inout(reg) a2,
            a3 = inout(reg) a3,
            x = out(reg) _,
            xo = out(reg) _,
            we = out(reg) _,
            wo = out(reg) _,
            options(pure, readonly, nostack),
        );
    }
    [a0, a1, a2, a3]
}
