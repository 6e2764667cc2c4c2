//! The int8 dot product, the one hot loop of dense and convolution layers, in two versions that
//! give the same integers: [`dot_i8_portable`], the definition, for every target (`portable.rs`),
//! and hand-written SMLAD assembly for cores with the DSP extension (`simd.rs`). [`dot_i8`]
//! picks one at compile time.
//!
//! Three files so that the SIMD loops can end with the portable scalar tail while nothing
//! imports back: `simd` uses `portable`, this module uses both, the kernels use this module.

mod portable;
#[cfg(all(target_arch = "arm", target_feature = "dsp"))]
mod simd;

pub use portable::dot_i8_portable;

/// Sum of `a[i] * b[i]` over the shorter of the two slices: the SIMD version on cores with the
/// DSP extension (unless the `portable-dot` feature asks for the portable one, for
/// measurements), the portable one everywhere else.
#[inline(always)]
pub fn dot_i8(a: &[i8], b: &[i8]) -> i32 {
    #[cfg(all(
        target_arch = "arm",
        target_feature = "dsp",
        not(feature = "portable-dot")
    ))]
    {
        simd::dot_i8(a, b)
    }
    #[cfg(not(all(
        target_arch = "arm",
        target_feature = "dsp",
        not(feature = "portable-dot")
    )))]
    {
        dot_i8_portable(a, b)
    }
}

/// Two dot products sharing one input, `(dot_i8(x, w0), dot_i8(x, w1))`, each input word loaded
/// once for both: only where SMLAD makes that pay (see `simd.rs`; the kernels pair rows only
/// there).
#[cfg(all(
    target_arch = "arm",
    target_feature = "dsp",
    not(feature = "portable-dot")
))]
pub(crate) use simd::dot2_i8;
