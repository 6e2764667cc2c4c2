//! The DSP-extension (ARMv7E-M / ARMv8-M Main with DSP) dot product: SXTB16 unpacks two int8
//! lanes to int16, SMLAD multiplies two int16 pairs and accumulates, so 4 MACs take two SMLADs.
//! SMLAD's accumulate wraps like `wrapping_add` (it only sets the Q flag), so the result is
//! bit-identical to [`crate::kernels::dot_i8_portable`].
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

/// Sum of `a[i] * b[i]` over the shorter slice, 4 lanes at a time.
#[inline(always)]
pub fn dot_i8(a: &[i8], b: &[i8]) -> i32 {
    let n = a.len().min(b.len());
    let (a, b) = (&a[..n], &b[..n]);
    let a4 = a.chunks_exact(4);
    let b4 = b.chunks_exact(4);
    let (ta, tb) = (a4.remainder(), b4.remainder());
    let mut acc = 0_i32;
    for (x, w) in a4.zip(b4) {
        let x = u32::from_le_bytes([x[0] as u8, x[1] as u8, x[2] as u8, x[3] as u8]);
        let w = u32::from_le_bytes([w[0] as u8, w[1] as u8, w[2] as u8, w[3] as u8]);
        acc = smlad(sxtb16(x), sxtb16(w), acc);
        acc = smlad(sxtb16_ror8(x), sxtb16_ror8(w), acc);
    }
    crate::kernels::dot_i8_portable(ta, tb).wrapping_add(acc)
}
