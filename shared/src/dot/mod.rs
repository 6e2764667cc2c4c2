//! The int8 dot product, the one hot loop of dense and convolution layers, in two versions that
//! give the same integers: [`dot_i8_portable`], the definition, for every target (`portable.rs`),
//! and hand-written SMLAD assembly for cores with the DSP extension (`simd.rs`). [`dot_i8`]
//! picks one at compile time.
//!
//! Cortex-M cores without the DSP extension get hand-written scalar loops (`scalar.rs`): the
//! portable loop compiled poorly there (31 instructions per 4 MACs on the Cortex-M0).
//!
//! Separate files so that the assembly loops can end with the portable scalar tail while
//! nothing imports back: `simd` and `scalar` use `portable`, this module uses all three, the
//! kernels use this module.

mod portable;
#[cfg(all(target_arch = "arm", not(target_feature = "dsp")))]
mod scalar;
#[cfg(all(target_arch = "arm", target_feature = "dsp"))]
mod simd;

pub use portable::dot_i8_portable;

/// Sum of `a[i] * b[i]` over the shorter of the two slices: the SIMD version on cores with the
/// DSP extension (unless the `portable-dot` feature asks for the portable one, for
/// measurements), a hand-written scalar loop on the other Cortex-M cores (`scalar.rs`), the
/// portable one everywhere else.
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
    #[cfg(all(target_arch = "arm", not(target_feature = "dsp")))]
    {
        scalar::dot_i8(a, b)
    }
    #[cfg(not(any(
        all(
            target_arch = "arm",
            target_feature = "dsp",
            not(feature = "portable-dot")
        ),
        all(target_arch = "arm", not(target_feature = "dsp"))
    )))]
    {
        portable::dot_i8_outlined(a, b)
    }
}

/// The loops and SIMD operations the kernels use where SMLAD makes them pay (see `simd.rs`):
/// a dense layer's rows, three sharing one input ([`dense_rows`]), two widened receptive fields
/// sharing one convolution row ([`dot2_widened`], [`widen_in_place`]), a 3x3 depthwise window
/// ([`dw3x3_i8x4`]), the lanewise operations of pooling and depthwise convolution, and the
/// requantization loops.
#[cfg(all(
    target_arch = "arm",
    target_feature = "dsp",
    not(feature = "portable-dot")
))]
pub(crate) use simd::{
    OutputRange, RunParams, STRIP, add_i16x2, conv3_row, dense_rows, dot2_widened, dw3x3_i8x4,
    max_i8x4, mla_i8x4, requantize_run, widen_i8x4, widen_in_place,
};

/// `dst = src` for slices of one length (nothing otherwise): a word loop on cores with the DSP
/// extension (`simd.rs`: `copy_from_slice` linked `memcpy` into every CNN's runtime),
/// `copy_from_slice` elsewhere.
#[inline(always)]
pub fn copy_i8(dst: &mut [i8], src: &[i8]) {
    #[cfg(all(
        target_arch = "arm",
        target_feature = "dsp",
        not(feature = "portable-dot")
    ))]
    simd::copy_i8(dst, src);
    #[cfg(not(all(
        target_arch = "arm",
        target_feature = "dsp",
        not(feature = "portable-dot")
    )))]
    if dst.len() == src.len() {
        // The callers' slices are of one length: this check folds away where it is inlined.
        dst.copy_from_slice(src);
    }
}
