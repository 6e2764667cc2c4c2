//! The int8 kernels. Each takes shapes that [`crate::Student::decode`] has already validated;
//! they still never index out of bounds (slices are taken with `get`, so a shape that slipped
//! through produces wrong numbers, never a panic).
//!
//! Accumulation is int32 with wrapping adds: decoders bound every reduction to
//! [`crate::limits::MAX_REDUCTION`] terms so sums of products cannot overflow, and if a hand-made
//! bias pushes one over, host and device still wrap identically (wrapping addition does not
//! depend on the order, so the kernels may start their accumulators with the bias).
//!
//! One file per kind of layer (`dense`, `conv`, `depthwise`, `pool`); `output` turns
//! accumulators into int8 outputs for all of them, `window` says which taps land in the padding.
//! Each has a portable version and, on cores with the DSP extension, SIMD loops from
//! [`crate::dot`]; both give the same integers (tested on five QEMU boards, firmware/README.md).

mod conv;
mod dense;
mod depthwise;
mod output;
mod pool;
mod window;

pub use conv::{conv2d, conv2d_patch_len};
pub use dense::dense;
pub use depthwise::depthwise_conv2d;
pub use pool::{avg_pool2d, max_pool2d};
