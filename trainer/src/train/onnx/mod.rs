//! ONNX teachers: a network trained elsewhere (PyTorch, Keras, JAX) and exported to ONNX, run
//! by tract (pure Rust, on the CPU) wherever minnow runs a teacher, live under augmentation
//! included.
//!
//! * [`file`]: what the file declares (inputs, outputs, ops, parameters), before tract;
//! * [`settings`]: how the teacher sees the samples (`--teacher-scale`, `--teacher-offset`,
//!   `--teacher-layout`, `--teacher-output`);
//! * [`layout`]: where a sample's values go in the model's input;
//! * [`teacher`]: the model loaded, checked against the data, optimised once, run in batches
//!   on every core;
//! * [`info`]: `minnow teacher-info`.

pub mod error;
pub mod file;
pub mod info;
pub mod layout;
pub mod settings;
pub mod teacher;
