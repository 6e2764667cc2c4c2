#![cfg_attr(feature = "portable-dot", allow(dead_code))]
//! The DSP-extension (ARMv7E-M / ARMv8-M Main with DSP) dot product: SXTB16 unpacks two int8
//! lanes to int16, SMLAD multiplies two int16 pairs and accumulates, so 4 MACs take two SMLADs.
//! SMLAD's accumulate wraps like `wrapping_add` (it only sets the Q flag), so the result is
//! bit-identical to the portable one (`portable.rs`).
//!
//! Both loops are hand-written assembly. [`dot2_i8`], the bulk of every dense layer and
//! convolution, computes two output rows at once so each input word is loaded and widened once
//! for both: 13 instructions per 8 MACs plus 2 of loop control per 8 (1.875 per MAC).
//! [`dot_i8`] serves single rows and tails with a plain word loop (2.5 per MAC), kept small on
//! purpose: flash is the scarcer resource (see firmware/README.md for the measurements).
//!
//! Unaligned LDR is architectural on ARMv7-M/ARMv8-M Main (unless CCR.UNALIGN_TRP is set, which
//! nothing in minnow does), so weights and inputs need no alignment.
#![allow(unsafe_code)] // inline assembly; lib.rs denies unsafe everywhere else

use core::arch::asm;

use super::portable::dot_i8_scalar;

/// Sum of `a[i] * b[i]` over the shorter slice: one word (4 MACs) per loop iteration, each
/// operand word loaded once with a post-incremented (possibly unaligned) LDR and widened with
/// two SXTB16, two SMLAD: 10 instructions per 4 MACs with loop control. Then at most 3 scalar
/// products. Not inlined and not unrolled: one small copy serves the odd rows and the tails of
/// [`dot2_i8`], which does the bulk of every dense layer and convolution.
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

/// Two dot products sharing one input: `(sum x[i] * w0[i], sum x[i] * w1[i])` over the shortest
/// slice. Each input word is loaded and widened once for both rows: 13 instructions per 8 MACs
/// in the loop (1.875 per MAC with loop control) against 2.5 for two [`dot_i8`] calls;
/// bit-identical to them. The tails (`len % 8`) go through [`dot_i8`].
#[inline(always)]
pub fn dot2_i8<'a>(x: &'a [i8], w0: &'a [i8], w1: &'a [i8]) -> (i32, i32) {
    let n = x.len().min(w0.len()).min(w1.len());
    let blocks = n / 8;
    let (mut a0, mut a1) = (0_i32, 0_i32);
    if blocks > 0 {
        // SAFETY: all three slices hold at least n >= 8 * blocks bytes; the loop reads exactly
        // 8 * blocks bytes from each and ends when `px` reaches `end`.
        unsafe {
            let end = x.as_ptr().add(8 * blocks);
            asm!(
                "2:",
                "ldr {x}, [{px}], #4",
                "ldr {w}, [{p0}], #4",
                "ldr {v}, [{p1}], #4",
                "sxtb16 {xe}, {x}",
                "sxtb16 {x}, {x}, ror #8",
                "sxtb16 {t}, {w}",
                "smlad {a0}, {xe}, {t}, {a0}",
                "sxtb16 {w}, {w}, ror #8",
                "smlad {a0}, {x}, {w}, {a0}",
                "sxtb16 {t}, {v}",
                "smlad {a1}, {xe}, {t}, {a1}",
                "sxtb16 {v}, {v}, ror #8",
                "smlad {a1}, {x}, {v}, {a1}",
                "ldr {x}, [{px}], #4",
                "ldr {w}, [{p0}], #4",
                "ldr {v}, [{p1}], #4",
                "sxtb16 {xe}, {x}",
                "sxtb16 {x}, {x}, ror #8",
                "sxtb16 {t}, {w}",
                "smlad {a0}, {xe}, {t}, {a0}",
                "sxtb16 {w}, {w}, ror #8",
                "smlad {a0}, {x}, {w}, {a0}",
                "sxtb16 {t}, {v}",
                "smlad {a1}, {xe}, {t}, {a1}",
                "sxtb16 {v}, {v}, ror #8",
                "smlad {a1}, {x}, {v}, {a1}",
                "cmp {px}, {end}",
                "bne 2b",
                px = inout(reg) x.as_ptr() => _,
                p0 = inout(reg) w0.as_ptr() => _,
                p1 = inout(reg) w1.as_ptr() => _,
                end = in(reg) end,
                a0 = inout(reg) a0,
                a1 = inout(reg) a1,
                x = out(reg) _,
                xe = out(reg) _,
                w = out(reg) _,
                v = out(reg) _,
                t = out(reg) _,
                options(pure, readonly, nostack),
            );
        }
    }
    let tail = 8 * blocks;
    let rest = |v: &'a [i8]| v.get(tail..n).unwrap_or(&[]);
    let x = rest(x);
    (
        dot_i8(x, rest(w0)).wrapping_add(a0),
        dot_i8(x, rest(w1)).wrapping_add(a1),
    )
}
