//! minnow's trainer as a library: train teachers, distil them into small students and hand the
//! students (as [`float_model::FloatStudent`]) to quantization.
//!
//! Entry points: [`train_teacher`], [`distill`] and [`resume`] (from [`train`]), which the
//! `minnow` binary's subcommands and the end-to-end tests call in-process; [`cli::run`] is the
//! whole command line.

pub mod adopt;
pub mod budget;
pub mod cache;
pub mod cli;
pub mod config;
pub mod data;
pub mod error;
pub mod evaluate;
pub mod export;
pub mod float_model;
pub mod im2col;
pub mod loss;
pub mod metrics;
pub mod model;
pub mod pipeline;
pub mod plot;
pub mod qat;
pub mod quantize;
pub mod report;
pub mod train;
pub mod verify;

pub use config::{DistillConfig, TeacherConfig};
pub use error::{Error, Result};
pub use train::{
    Resumed, StudentArtifacts, TeacherArtifacts, distill, resume, teacher_fingerprint,
    train_teacher,
};
