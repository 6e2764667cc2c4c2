//! Size baseline: the size probe's application without minnow-core (vector table, reset, exit
//! through semihosting, panic handler). `minnow-size-probe` minus this, minus the embedded
//! blobs, is the flash minnow-core itself adds to an application: `minnow verify` reports it
//! as `runtime`. Feature `qemu` only; it exits with success at once.
#![no_std]
#![no_main]

use cortex_m_rt::entry;

#[path = "common/exit.rs"]
mod exit;
use exit::exit;

#[entry]
fn main() -> ! {
    exit(true)
}
