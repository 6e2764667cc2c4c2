//! Networks. [`spec`] says what a network is (saved with every model); [`model`] holds its burn
//! parameters, [`forward`] runs them (with [`im2col`] convolutions and, under
//! quantization-aware training, [`fake_quant`] rounding); [`convert`] turns a trained model
//! into the [`float`] student that quantization reads. [`backend`] picks the burn device,
//! [`rng`] is the one source of randomness.

pub mod backend;
pub mod convert;
pub mod fake_quant;
pub mod float;
pub mod forward;
pub mod im2col;
pub mod memory;
pub mod model;
pub mod params;
pub mod spec;
pub mod window;
