//! minnow's trainer as a library. The stages, in the order data flows through them:
//!
//! * [`data`]: load a dataset (built-in digits, MNIST/IDX, CSV, NPY) and split it;
//! * [`net`]: networks — what they are ([`net::spec`]), their burn parameters and forward pass,
//!   and the float student ([`net::float`]) that training hands to quantization;
//! * [`train`]: teachers on hard labels, students by distillation, resume;
//! * [`int8`]: calibrate, quantize, evaluate through minnow-core, check budgets, export;
//! * [`device`]: run the exported student on a Cortex-M and record what it computed;
//! * [`deploy`]: the student as C or Rust sources for someone else's firmware (`--emit`);
//! * [`run`]: `minnow run`, the whole chain, and the export step of a run folder.
//!
//! [`plot`] draws the charts of training curves and reports.
//!
//! [`cli`] turns the command line into each stage's settings; [`config`] reads and writes them
//! as TOML. `docs/architecture.md` draws the picture.

// No function a reader must scroll through (the threshold is in clippy.toml).
#![warn(clippy::too_many_lines)]

pub mod cli;
pub mod config;
pub mod data;
pub mod deploy;
pub mod device;
pub mod error;
pub mod files;
pub mod fingerprint;
pub mod fit;
pub mod int8;
pub mod net;
pub mod percent;
pub mod plot;
pub mod rng;
pub mod run;
pub mod train;

pub use error::{Error, Result};
pub use train::config::{DistillConfig, TeacherConfig};
pub use train::distill::{StudentArtifacts, distill};
pub use train::resume::{Resumed, resume};
pub use train::teacher::{TeacherArtifacts, train_teacher};
pub use train::teachers::teacher_fingerprint;
