//! The dot product on Cortex-M cores without the DSP extension, one product at a time in a
//! hand-written loop: the portable loop (`portable.rs`) compiled to 31 instructions per 4 MACs
//! on the Cortex-M0 (LLVM kept its offsets and pointers on the stack: Thumb-1's LDRSB takes
//! only a register offset, and 8 registers are all it has) and 17 on the Cortex-M3 (opt-level
//! "s"). Same integers: wrapping multiply-adds, then the portable scalar tail.
#![allow(unsafe_code)] // inline assembly; lib.rs denies unsafe everywhere else

use core::arch::asm;

use super::portable::dot_i8_scalar;

/// One product of [`dot_i8`]'s Thumb-1 loop: `r3 += a[r2] * b[r2]` over the slices' ends in
/// `r0`/`r1`, then `r2` steps up (its flags end the loop at 0).
#[cfg(not(target_feature = "thumb2"))]
macro_rules! mac_step {
    () => {
        concat!(
            "ldrsb r4, [r0, r2]\n",
            "ldrsb r5, [r1, r2]\n",
            "muls r4, r5, r4\n",
            "adds r3, r3, r4\n",
            "adds r2, r2, #1",
        )
    };
}

/// Sum of `a[i] * b[i]` over the shorter slice. Thumb-1 (ARMv6-M): one index counting up from
/// `-4k` to 0 over both slices' ends (LDRSB with a register offset), so the loop needs six low
/// registers and no compare: 21 instructions per 4 MACs.
#[cfg(not(target_feature = "thumb2"))]
#[inline(never)]
pub fn dot_i8(a: &[i8], b: &[i8]) -> i32 {
    let n = a.len().min(b.len());
    let n4 = n & !3;
    let mut acc = 0_i32;
    if n4 > 0 {
        // SAFETY: r0 and r1 point just past the first n4 <= len bytes of each slice and r2 runs
        // from -n4 to -1, so every load reads inside the slices; the loop ends when r2 reaches 0.
        unsafe {
            asm!(
                "2:",
                mac_step!(),
                mac_step!(),
                mac_step!(),
                mac_step!(),
                "bne 2b",
                in("r0") a.as_ptr().add(n4),
                in("r1") b.as_ptr().add(n4),
                inout("r2") (n4 as isize).wrapping_neg() => _,
                inout("r3") acc,
                out("r4") _,
                out("r5") _,
                options(pure, readonly, nostack),
            );
        }
    }
    let (ta, tb) = (a.get(n4..n).unwrap_or(&[]), b.get(n4..n).unwrap_or(&[]));
    dot_i8_scalar(ta, tb).wrapping_add(acc)
}

/// One product of the Thumb-2 [`dot_i8`]'s loop: `{acc} += a[i] * b[i]`, the loads
/// post-indexed through `{pa}` and `{pb}`.
#[cfg(target_feature = "thumb2")]
macro_rules! mla_step {
    () => {
        concat!(
            "ldrsb {x}, [{pa}], #1\n",
            "ldrsb {w}, [{pb}], #1\n",
            "mla {acc}, {x}, {w}, {acc}",
        )
    };
}

/// Sum of `a[i] * b[i]` over the shorter slice. Thumb-2 without DSP (ARMv7-M): post-indexed
/// LDRSB and MLA, eight products per iteration (26 instructions per 8 MACs; LLVM's loop at
/// opt-level 3 took 3.46 per MAC on the MLP), entering halfway for an odd number of fours.
#[cfg(target_feature = "thumb2")]
#[inline(never)]
pub fn dot_i8(a: &[i8], b: &[i8]) -> i32 {
    let n = a.len().min(b.len());
    let n4 = n & !3;
    let mut acc = 0_i32;
    if n4 > 0 {
        // SAFETY: both slices hold at least n4 bytes; the loop reads exactly n4 bytes from each
        // (four at a time, from the second half of the body when n4 / 4 is odd) and ends when
        // `pa` reaches `end`.
        unsafe {
            let end = a.as_ptr().add(n4);
            asm!(
                "cmp {x}, #0",
                "bne 3f",
                "2:",
                mla_step!(),
                mla_step!(),
                mla_step!(),
                mla_step!(),
                "3:",
                mla_step!(),
                mla_step!(),
                mla_step!(),
                mla_step!(),
                "cmp {pa}, {end}",
                "bne 2b",
                pa = inout(reg) a.as_ptr() => _,
                pb = inout(reg) b.as_ptr() => _,
                end = in(reg) end,
                acc = inout(reg) acc,
                x = inout(reg) (n4 / 4) & 1 => _,
                w = out(reg) _,
                options(pure, readonly, nostack),
            );
        }
    }
    let (ta, tb) = (a.get(n4..n).unwrap_or(&[]), b.get(n4..n).unwrap_or(&[]));
    dot_i8_scalar(ta, tb).wrapping_add(acc)
}
