//! The Rust example: the README's `classifier.rs` (examples/classify/classifier.rs) on every
//! golden vector of a student that `minnow emit rust examples/classify/student RUN` wrote,
//! each compared bit for bit with the host's logits, timed with SysTick. Prints
//! `result vectors=N mismatches=M ticks=T` over semihosting and exits with success only if every
//! vector matched. `examples/run.sh BOARD RUN` builds and runs it in QEMU (`--features qemu`; not
//! declared in Cargo.toml, as the sources `minnow verify` carries have no examples/).
#![no_std]
#![no_main]

use core::ptr::addr_of_mut;

use cortex_m::peripheral::syst::SystClkSource;
use cortex_m_rt::entry;
use cortex_m_semihosting::hprintln;
use minnow_core::GoldenVectors;

#[path = "classify/classifier.rs"]
mod classifier;
#[path = "../src/bin/common/exit.rs"]
mod exit;
// Written by `minnow emit rust` (examples/run.sh), so not in git: rustfmt must not look for it.
#[rustfmt::skip]
#[path = "classify/student/mod.rs"]
mod student;

use student::{CLASSES, INPUT_LEN, SCRATCH_LEN};

static mut SCRATCH: [i8; SCRATCH_LEN] = [0; SCRATCH_LEN];
const SYST_RELOAD: u32 = 0x00ff_ffff;

#[entry]
fn main() -> ! {
    let Some(mut cp) = cortex_m::Peripherals::take() else {
        exit::exit(false)
    };
    cp.SYST.set_clock_source(SystClkSource::Core);
    cp.SYST.set_reload(SYST_RELOAD);
    cp.SYST.clear_current();
    cp.SYST.enable_counter();
    // SAFETY: the only reference to SCRATCH, taken once in `main`, which never returns.
    let scratch = unsafe { &mut *addr_of_mut!(SCRATCH) };
    let model = match classifier::load() {
        Ok(m) => m,
        Err(e) => {
            hprintln!("error stage=student msg={}", e);
            exit::exit(false)
        }
    };
    let golden = match GoldenVectors::decode(student::GOLDEN) {
        Ok(g) => g,
        Err(e) => {
            hprintln!("error stage=golden msg={}", e);
            exit::exit(false)
        }
    };
    let (mut mismatches, mut ticks) = (0_u32, 0_u32);
    for i in 0..golden.len() {
        let (Ok(input), Ok(expected)) = (golden.input(i), golden.expected(i)) else {
            exit::exit(false)
        };
        let Ok(input) = <&[i8; INPUT_LEN]>::try_from(input) else {
            hprintln!("error stage=golden msg=input of {} values", input.len());
            exit::exit(false)
        };
        let mut logits = [0_i8; CLASSES];
        let start = cortex_m::peripheral::SYST::get_current();
        let class = classifier::classify(&model, input, scratch, &mut logits);
        let end = cortex_m::peripheral::SYST::get_current();
        ticks = ticks.wrapping_add(start.wrapping_sub(end) & SYST_RELOAD);
        if class.is_err() || logits[..] != expected[..] {
            mismatches += 1;
            hprintln!("mismatch index={} class={:?}", i, class);
        }
    }
    hprintln!(
        "result vectors={} mismatches={} ticks={}",
        golden.len(),
        mismatches,
        ticks
    );
    exit::exit(mismatches == 0 && !golden.is_empty())
}
