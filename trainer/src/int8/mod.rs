//! The int8 stage: [`calibrate`] activation ranges, [`quantize`] the float student into
//! minnow-core's layers, [`evaluate`] the blob through minnow-core (the device's code) against
//! the float student, check the [`budget`], and [`export`] the blob, golden vectors and
//! [`report`].

pub mod budget;
pub mod calibrate;
pub mod evaluate;
pub mod export;
pub mod export_set;
pub mod quantize;
pub mod report;
