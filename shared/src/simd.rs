#![cfg_attr(feature = "portable-dot", allow(dead_code))]
//! The DSP-extension (ARMv7E-M / ARMv8-M Main with DSP) dot product: SXTB16 unpacks two int8
//! lanes to int16, SMLAD multiplies two int16 pairs and accumulates, so 4 MACs take two SMLADs.
//! SMLAD's accumulate wraps like `wrapping_add` (it only sets the Q flag), so the result is
//! bit-identical to [`crate::kernels::dot_i8_portable`].
//!
//! The main loop is hand-written: 16 bytes per iteration, each word loaded once with a
//! post-incremented (possibly unaligned) LDR, two SXTB16 per operand word (even lanes, then odd
//! lanes via `ror #8`), two SMLAD: 8 instructions per 4 MACs plus 2 per 16 MACs of loop control,
//! i.e. 2.125 instructions per MAC (measured in QEMU: firmware/README.md). Fewer needs the input's
//! widened lanes shared between several rows, which this one-row API cannot do.
//!
//! Unaligned LDR is architectural on ARMv7-M/ARMv8-M Main (unless CCR.UNALIGN_TRP is set, which
//! nothing in minnow does), so weights and inputs need no alignment.
#![allow(unsafe_code)] // inline assembly; lib.rs denies unsafe everywhere else

use core::arch::asm;

#[inline(always)]
fn sxtb16(x: u32) -> u32 {
    let r: u32;
    // SAFETY: pure register arithmetic, no memory or stack access.
    unsafe {
        asm!("sxtb16 {r}, {x}", r = lateout(reg) r, x = in(reg) x, options(pure, nomem, nostack, preserves_flags))
    };
    r
}

#[inline(always)]
fn sxtb16_ror8(x: u32) -> u32 {
    let r: u32;
    // SAFETY: pure register arithmetic, no memory or stack access.
    unsafe {
        asm!("sxtb16 {r}, {x}, ror #8", r = lateout(reg) r, x = in(reg) x, options(pure, nomem, nostack, preserves_flags))
    };
    r
}

#[inline(always)]
fn smlad(a: u32, b: u32, acc: i32) -> i32 {
    let r: i32;
    // SAFETY: pure register arithmetic; SMLAD writes only the Q flag, which nothing here reads.
    unsafe {
        asm!("smlad {r}, {a}, {b}, {acc}", r = lateout(reg) r, a = in(reg) a, b = in(reg) b, acc = in(reg) acc, options(pure, nomem, nostack))
    };
    r
}

/// Sum of `a[i] * b[i]` for `i < 16 * blocks`, 16 bytes per loop iteration.
///
/// # Safety
/// `a` and `b` must be valid for reads of `16 * blocks` bytes, `blocks >= 1`.
#[inline(always)]
unsafe fn dot_blocks16(a: *const i8, b: *const i8, blocks: usize) -> i32 {
    let mut acc = 0_i32;
    // SAFETY (caller): both pointers stay within their slices; the loop reads exactly
    // 16 * blocks bytes from each and ends when `pa` reaches `end`.
    unsafe {
        let end = a.add(16 * blocks);
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
            "ldr {x}, [{pa}], #4",
            "ldr {w}, [{pb}], #4",
            "sxtb16 {t}, {x}",
            "sxtb16 {u}, {w}",
            "smlad {acc}, {t}, {u}, {acc}",
            "sxtb16 {x}, {x}, ror #8",
            "sxtb16 {w}, {w}, ror #8",
            "smlad {acc}, {x}, {w}, {acc}",
            "ldr {x}, [{pa}], #4",
            "ldr {w}, [{pb}], #4",
            "sxtb16 {t}, {x}",
            "sxtb16 {u}, {w}",
            "smlad {acc}, {t}, {u}, {acc}",
            "sxtb16 {x}, {x}, ror #8",
            "sxtb16 {w}, {w}, ror #8",
            "smlad {acc}, {x}, {w}, {acc}",
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
            pa = inout(reg) a => _,
            pb = inout(reg) b => _,
            end = in(reg) end,
            acc = inout(reg) acc,
            x = out(reg) _,
            w = out(reg) _,
            t = out(reg) _,
            u = out(reg) _,
            options(pure, readonly, nostack),
        );
    }
    acc
}

/// Sum of `a[i] * b[i]` over the shorter slice: 16 lanes per loop iteration, then 4, then 1.
#[inline(always)]
pub fn dot_i8(a: &[i8], b: &[i8]) -> i32 {
    let n = a.len().min(b.len());
    let blocks = n / 16;
    let mut acc = 0_i32;
    if blocks > 0 {
        // SAFETY: both slices hold at least n >= 16 * blocks bytes.
        acc = unsafe { dot_blocks16(a.as_ptr(), b.as_ptr(), blocks) };
    }
    let (a, b) = (&a[16 * blocks..n], &b[16 * blocks..n]);
    let a4 = a.chunks_exact(4);
    let b4 = b.chunks_exact(4);
    let (ta, tb) = (a4.remainder(), b4.remainder());
    for (x, w) in a4.zip(b4) {
        let x = u32::from_le_bytes([x[0] as u8, x[1] as u8, x[2] as u8, x[3] as u8]);
        let w = u32::from_le_bytes([w[0] as u8, w[1] as u8, w[2] as u8, w[3] as u8]);
        acc = smlad(sxtb16(x), sxtb16(w), acc);
        acc = smlad(sxtb16_ror8(x), sxtb16_ror8(w), acc);
    }
    crate::kernels::dot_i8_portable(ta, tb).wrapping_add(acc)
}

/// Two dot products sharing one input: `(sum x[i] * w0[i], sum x[i] * w1[i])` over the shortest
/// slice. Each input word is loaded and widened once for both rows: 13 instructions per 8 MACs
/// in the loop (1.75 per MAC with loop control) against 2.125 for two [`dot_i8`] calls. Not yet
/// called by `kernels::dense` (that needs a change there); bit-identical to two `dot_i8` calls.
/// Measured with that change (QEMU, M4): 1.96 instructions/MAC on a 784x64 layer, 0 mismatches.
#[allow(dead_code)]
#[inline(always)]
pub fn dot2_i8(x: &[i8], w0: &[i8], w1: &[i8]) -> (i32, i32) {
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
    let (x, w0, w1) = (&x[tail..n], &w0[tail..n], &w1[tail..n]);
    (
        dot_i8(x, w0).wrapping_add(a0),
        dot_i8(x, w1).wrapping_add(a1),
    )
}
