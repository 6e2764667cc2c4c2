//! The portable dot product, for every target: the definition the SIMD version must match.

/// Sum of `a[i] * b[i]` over the shorter of the two slices, in plain Rust. Unrolled by four in the
/// source, because the firmware is built for size (`opt-level = "s"`), which does not unroll:
/// without it the Cortex-M0 needed 22% more instructions per MAC.
#[inline(always)]
pub fn dot_i8_portable(a: &[i8], b: &[i8]) -> i32 {
    let n = a.len().min(b.len());
    let (a4, b4) = (a[..n].chunks_exact(4), b[..n].chunks_exact(4));
    let tail = dot_i8_scalar(a4.remainder(), b4.remainder());
    a4.zip(b4).fold(tail, |acc, (x, w)| {
        let p = i32::from(x[0]) * i32::from(w[0])
            + i32::from(x[1]) * i32::from(w[1])
            + i32::from(x[2]) * i32::from(w[2])
            + i32::from(x[3]) * i32::from(w[3]);
        acc.wrapping_add(p)
    })
}

/// [`dot_i8_portable`] out of line: the kernels' one copy where no hand-written loop exists
/// (the host, and cores with DSP built with `portable-dot`), so its unrolled loop does not
/// depend on the registers the callers keep live.
#[cfg_attr(target_arch = "arm", allow(dead_code))]
#[inline(never)]
pub(crate) fn dot_i8_outlined(a: &[i8], b: &[i8]) -> i32 {
    dot_i8_portable(a, b)
}

/// One product at a time: the tails of the unrolled and the SIMD dot products.
#[inline(always)]
pub(crate) fn dot_i8_scalar(a: &[i8], b: &[i8]) -> i32 {
    a.iter().zip(b).fold(0_i32, |acc, (&x, &w)| {
        acc.wrapping_add(i32::from(x) * i32::from(w))
    })
}
