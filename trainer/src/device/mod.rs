//! The device stage: run an exported student on a Cortex-M (QEMU, or a real board through
//! probe-rs) and record what it computed.

pub mod boards;
pub mod output;
pub mod verify;
