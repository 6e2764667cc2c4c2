//! The device stage: run an exported student on a Cortex-M (QEMU, or a real board through
//! probe-rs) and record what it computed.
//!
//! * [`boards`]: the board table (firmware/boards.rs, shared with the firmware's build script);
//! * [`toolchain`]: how to build for a thumb target on this machine;
//! * [`sources`]: the firmware sources the binary carries, written out into a cache;
//! * [`firmware`]: building the firmware for a board with a student embedded;
//! * [`qemu`]: running it in QEMU;
//! * [`elf`]: the flash an ELF occupies;
//! * [`output`]: the firmware's `key=value` lines, parsed;
//! * [`matrix`]: one student on several boards, checks and the table;
//! * [`host_check`]: the student and golden vectors checked on the host first;
//! * [`verify`]: `minnow verify`.

pub mod boards;
pub mod elf;
pub mod firmware;
pub mod host_check;
pub mod matrix;
pub mod output;
pub mod qemu;
pub mod sources;
pub mod toolchain;
pub mod verify;
