//! minnow-core: the one int8 student implementation, shared bit for bit by the minnow trainer
//! (host) and the minnow firmware (Cortex-M).
//!
//! `#![no_std]`, no `alloc`, no panics on any input. Features: `std` (host conveniences:
//! `std::error::Error`, encoding to `Vec`), `defmt` (`defmt::Format` on public types).
//!
//! * [`Student`]: decode a blob in place (weights stay in flash), ask [`Student::scratch_len`],
//!   [`Student::run`] into caller-supplied buffers. On a device, [`Student::decode_ops`] and
//!   [`Student::run_ops`] with a [`layer::ops`] set link only the kernels the student uses
//!   (an MLP's whole runtime is 3.9 KB of flash on a Cortex-M4).
//! * [`quant`]: the requantization arithmetic (gemmlowp double rounding, documented there).
//! * [`kernels`]: the int8 ops, on [`dot`]'s dot product (SIMD where the core has it);
//!   [`reference`](mod@reference): their float reference.
//! * [`softmax`], [`distill`]: softmax with temperature and Hinton's distillation formulas.
//! * [`GoldenVectors`]: the host's expected outputs for the device to check against.
//! * `owned` (feature `std`): layers owning their arrays, for host code that builds students.
//!
//! The byte formats are specified in `docs/format.md`.
#![no_std]
#![deny(unsafe_code)]

#[cfg(feature = "std")]
extern crate std;

pub mod distill;
pub mod dot;
mod error;
pub mod golden;
pub mod header;
pub mod kernels;
pub mod layer;
pub mod limits;
pub mod meta;
#[cfg(feature = "std")]
pub mod owned;
#[cfg(test)]
mod postcard_conformance;
pub mod quant;
pub mod reference;
pub mod softmax;
pub mod student;
mod wire;

pub use error::Error;
pub use golden::GoldenVectors;
pub use layer::{
    Activation, Conv2d, Dense, DepthwiseConv2d, Layer, Params, Pool2d, Pool2dRect, Shape, i8_bytes,
};
pub use meta::{Meta, Normalization};
#[cfg(feature = "std")]
pub use owned::{pack_f32, pack_i32, pack_normalization};
#[cfg(feature = "std")]
pub use student::encode_student_to_vec;
pub use student::{Footprint, Plan, Step, Student, encode_student};
