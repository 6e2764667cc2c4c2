//! Size probe: the least firmware that uses the student (decode it and the golden vectors, run
//! every vector, compare bit for bit, exit with success or failure through semihosting), with no
//! text output and no `core::fmt`. Its flash minus the embedded blobs is the runtime an
//! application pays for minnow-core. Every firmware build builds it too; `scripts/qemu-matrix.sh`
//! measures it with llvm-size (column core_flash). It runs in QEMU like the main firmware (exit
//! status 0 = every vector matched). Feature `qemu` only.
#![no_std]
#![no_main]

use cortex_m_rt::entry;
use minnow_core::{GoldenVectors, Student};

mod consts {
    #![allow(dead_code)]
    include!(concat!(env!("OUT_DIR"), "/model_consts.rs"));
}

#[repr(C, align(4))]
struct Aligned<T: ?Sized>(T);
static STUDENT: &Aligned<[u8]> = &Aligned(*include_bytes!(env!("MINNOW_STUDENT_PATH")));
static GOLDEN: &Aligned<[u8]> = &Aligned(*include_bytes!(env!("MINNOW_GOLDEN_PATH")));
static mut SCRATCH: [i8; consts::SCRATCH_LEN] = [0; consts::SCRATCH_LEN];

#[entry]
fn main() -> ! {
    let ok = (|| -> Option<bool> {
        let student = Student::decode(&STUDENT.0).ok()?;
        let golden = GoldenVectors::decode(&GOLDEN.0).ok()?;
        // SAFETY: the only reference to SCRATCH, taken once in `main`, which never returns.
        let scratch: &mut [i8] = unsafe { &mut *core::ptr::addr_of_mut!(SCRATCH) };
        let mut logits = [0_i8; consts::CLASSES];
        let mut all = !golden.is_empty();
        for i in 0..golden.len() {
            student
                .run(golden.input(i).ok()?, scratch, &mut logits)
                .ok()?;
            all &= logits[..] == *golden.expected(i).ok()?;
        }
        Some(all)
    })();
    exit(ok == Some(true))
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
