//! Size probe: the least application that uses a student: decode the embedded blob, run one
//! inference, check it, exit through semihosting. No text output, no `core::fmt`, no golden-vector
//! file (its input and expected logits, golden vector 0, are plain arrays from build.rs: the
//! application's "sensor data"). Its flash, minus the student blob and those arrays, minus
//! `minnow-size-baseline` (the same application without minnow-core), is what minnow-core adds
//! to an application: the runtime. `minnow verify` measures it from the ELFs' section sizes
//! (column `runtime`) and runs it in QEMU (exit status 0 = the logits matched the host's bit for
//! bit).
//! Feature `qemu` only.
#![no_std]
#![no_main]

use cortex_m_rt::entry;

#[path = "common/exit.rs"]
mod exit;
use exit::exit;
use minnow_core::Student;

mod consts {
    #![allow(dead_code)]
    include!(concat!(env!("OUT_DIR"), "/model_consts.rs"));
}

#[repr(C, align(4))]
struct Aligned<T: ?Sized>(T);
static STUDENT: &Aligned<[u8]> = &Aligned(*include_bytes!(env!("MINNOW_STUDENT_PATH")));
/// The input, in a static (flash) as a sensor buffer would be in RAM.
static INPUT: [i8; consts::INPUT_LEN] = consts::PROBE_INPUT;
static EXPECTED: [i8; consts::CLASSES] = consts::PROBE_LOGITS;
static mut SCRATCH: [i8; consts::SCRATCH_LEN] = [0; consts::SCRATCH_LEN];

#[entry]
fn main() -> ! {
    let ok = (|| -> Option<bool> {
        let student = Student::decode_ops::<{ consts::OPS }>(&STUDENT.0).ok()?;
        // SAFETY: the only reference to SCRATCH, taken once in `main`, which never returns.
        let scratch: &mut [i8] = unsafe { &mut *core::ptr::addr_of_mut!(SCRATCH) };
        let mut logits = [0_i8; consts::CLASSES];
        student
            .run_ops::<{ consts::OPS }>(&INPUT, scratch, &mut logits)
            .ok()?;
        Some(logits == EXPECTED)
    })();
    exit(ok == Some(true))
}
