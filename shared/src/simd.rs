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
