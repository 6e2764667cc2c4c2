//! Size baseline: the size probe's application without minnow-core (vector table, reset, exit
//! through semihosting, panic handler). `minnow-size-probe` minus this, minus the embedded
//! blobs, is the flash minnow-core itself adds to an application: `scripts/qemu-matrix.sh`
//! reports it as `minnow_flash`. Feature `qemu` only; it exits with success at once.
#![no_std]
#![no_main]

use cortex_m_rt::entry;

#[entry]
fn main() -> ! {
    exit(true)
}

fn exit(success: bool) -> ! {
    loop {
        cortex_m_semihosting::debug::exit(if success {
            cortex_m_semihosting::debug::EXIT_SUCCESS
        } else {
            cortex_m_semihosting::debug::EXIT_FAILURE
        });
    }
}

#[panic_handler]
fn panic(_: &core::panic::PanicInfo) -> ! {
    exit(false)
}
