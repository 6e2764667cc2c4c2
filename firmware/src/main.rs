//! minnow firmware: runs the int8 student on a Cortex-M and reports what it computed.
//!
//! For now it prints a banner, checks the instruction counter (SysTick under QEMU
//! `-icount shift=0`) against a loop of known instruction count, and exits.
//!
//! Build and run: `scripts/firmware.sh <board> [--release]` (see firmware/README.md, which also
//! records what was measured on each QEMU board).
//!
//! Output (feature `qemu`): plain text lines over ARM semihosting on the host's stdout, one
//! `key=value` record per line where the host needs to parse it, e.g.
//! `calib iters_a=.. ticks_a=.. iters_b=.. ticks_b=.. instr_per_tick_x1000=..`.
//! A panic or a fault prints `PANIC: ..` / `HARDFAULT ..` on stderr and exits QEMU with
//! status 1; success exits with status 0.
//!
//! Output (feature `hardware`): the same lines as defmt over RTT; panics go to panic-probe.

#![no_std]
#![no_main]

#[cfg(all(feature = "qemu", feature = "hardware"))]
compile_error!("features `qemu` and `hardware` are exclusive: enable exactly one");
#[cfg(not(any(feature = "qemu", feature = "hardware")))]
compile_error!("enable exactly one of the features `qemu` or `hardware`");

#[cfg(feature = "hardware")]
use defmt_rtt as _;
#[cfg(feature = "hardware")]
use panic_probe as _;

// minnow-core (feature `model`) will decode and run the embedded student.
#[cfg(feature = "model")]
use minnow_core as _;

use cortex_m::peripheral::syst::SystClkSource;
use cortex_m_rt::entry;

/// Print one line to the host: semihosting text (qemu) or defmt (hardware).
/// Use only `{}` placeholders with integers and `&str`, so both back ends accept the format.
macro_rules! say {
    ($($arg:tt)*) => {{
        #[cfg(feature = "qemu")]
        cortex_m_semihosting::hprintln!($($arg)*);
        #[cfg(feature = "hardware")]
        defmt::println!($($arg)*);
    }};
}

/// Board name (MINNOW_BOARD at build time) and the core it should have.
const BOARD: &str = env!("MINNOW_BOARD");
const EXPECTED_CORE: &str = env!("MINNOW_CORE");

/// The student model and golden vectors, embedded at build time (feature `model`).
#[cfg(feature = "model")]
#[allow(dead_code)]
mod model {
    #[repr(C, align(4))]
    pub struct Aligned<T: ?Sized>(pub T);
    pub static STUDENT: &Aligned<[u8]> = &Aligned(*include_bytes!(env!("MINNOW_STUDENT_PATH")));
    pub static GOLDEN: &Aligned<[u8]> = &Aligned(*include_bytes!(env!("MINNOW_GOLDEN_PATH")));
}

/// Name of the core from the CPUID part number.
fn core_name(cpuid: u32) -> &'static str {
    let implementer = cpuid >> 24;
    let partno = (cpuid >> 4) & 0xfff;
    if implementer != 0x41 {
        return "unknown (not Arm)";
    }
    match partno {
        0xc20 => "Cortex-M0",
        0xc60 => "Cortex-M0+",
        0xc21 => "Cortex-M1",
        0xc23 => "Cortex-M3",
        0xc24 => "Cortex-M4",
        0xc27 => "Cortex-M7",
        0xd20 => "Cortex-M23",
        0xd21 => "Cortex-M33",
        0xd22 => "Cortex-M55",
        0xd23 => "Cortex-M85",
        _ => "unknown Arm core",
    }
}

/// Runs exactly `2 * iters` instructions (`subs` + `bne` per iteration), `iters >= 1`.
#[inline(always)]
fn known_loop(iters: u32) {
    // SAFETY: only touches the register it is given; no memory, no stack.
    unsafe {
        core::arch::asm!(
            "2:",
            "subs {n}, #1",
            "bne 2b",
            n = inout(reg) iters => _,
            options(nomem, nostack),
        );
    }
}

/// SysTick reload: the full 24 bits.
const SYST_RELOAD: u32 = 0x00ff_ffff;

/// SysTick ticks elapsed while running `known_loop(iters)` (the counter counts down; the span
/// must stay below 2^24 ticks).
fn ticks_for(iters: u32) -> u32 {
    cortex_m::asm::dsb();
    let start = cortex_m::peripheral::SYST::get_current();
    known_loop(iters);
    let end = cortex_m::peripheral::SYST::get_current();
    start.wrapping_sub(end) & SYST_RELOAD
}

#[entry]
fn main() -> ! {
    let mut cp = cortex_m::Peripherals::take().unwrap_or_else(|| panic!("peripherals taken twice"));
    let cpuid = cp.CPUID.base.read();

    say!(
        "minnow-firmware {} board={} expected_core={}",
        env!("CARGO_PKG_VERSION"),
        BOARD,
        EXPECTED_CORE
    );
    say!("cpuid=0x{:x} core={}", cpuid, core_name(cpuid));

    #[cfg(feature = "model")]
    say!(
        "model student_bytes={} golden_bytes={}",
        model::STUDENT.0.len(),
        model::GOLDEN.0.len()
    );

    // Test hooks: check that failures end QEMU with a non-zero status instead of hanging.
    if cfg!(feature = "deliberate-panic") {
        panic!("deliberate panic (feature deliberate-panic)");
    }
    if cfg!(feature = "deliberate-fault") {
        cortex_m::asm::udf(); // permanently undefined instruction → HardFault
    }

    // SysTick from the core clock, free running over the full 24 bits, no interrupt.
    let syst = &mut cp.SYST;
    syst.disable_counter();
    syst.disable_interrupt();
    syst.set_clock_source(SystClkSource::Core);
    syst.set_reload(SYST_RELOAD);
    syst.clear_current();
    syst.enable_counter();
    let calib = cortex_m::peripheral::SYST::get_ticks_per_10ms();
    say!(
        "systick calib_tenms={} has_ref_clock={}",
        calib,
        cortex_m::peripheral::SYST::has_reference_clock() as u32
    );

    // Two loop lengths: the difference cancels the fixed cost of reading the counter.
    const ITERS_A: u32 = 10_000;
    const ITERS_B: u32 = 110_000;
    // Warm-up (QEMU translates the code on first execution; that costs no guest instructions,
    // but keep the measured runs identical anyway).
    let _ = ticks_for(100);
    let ticks_a = ticks_for(ITERS_A);
    let ticks_b = ticks_for(ITERS_B);
    let instr = 2 * (ITERS_B - ITERS_A);
    let dticks = ticks_b.wrapping_sub(ticks_a);
    say!(
        "calib iters_a={} ticks_a={} iters_b={} ticks_b={} instr_delta={} tick_delta={}",
        ITERS_A,
        ticks_a,
        ITERS_B,
        ticks_b,
        instr,
        dticks
    );
    if dticks == 0 {
        say!("calib instr_per_tick_x1000=none (SysTick did not advance with the core clock)");
    } else {
        let x1000 = (instr as u64 * 1000 + dticks as u64 / 2) / dticks as u64;
        say!("calib instr_per_tick_x1000={}", x1000 as u32);
    }

    say!("done");
    exit_success()
}

#[cfg(feature = "qemu")]
fn exit_success() -> ! {
    cortex_m_semihosting::debug::exit(cortex_m_semihosting::debug::EXIT_SUCCESS);
    loop {
        cortex_m::asm::udf();
    }
}

#[cfg(feature = "hardware")]
fn exit_success() -> ! {
    // probe-rs stops at a breakpoint; without a debugger this locks up (HardFault), which is fine.
    loop {
        cortex_m::asm::bkpt();
    }
}

#[cfg(feature = "qemu")]
#[panic_handler]
fn panic(info: &core::panic::PanicInfo) -> ! {
    cortex_m::interrupt::disable();
    cortex_m_semihosting::heprintln!("PANIC: {}", info);
    exit_failure()
}

#[cfg(feature = "qemu")]
fn exit_failure() -> ! {
    loop {
        cortex_m_semihosting::debug::exit(cortex_m_semihosting::debug::EXIT_FAILURE);
    }
}

#[cfg(feature = "qemu")]
#[cortex_m_rt::exception]
unsafe fn HardFault(ef: &cortex_m_rt::ExceptionFrame) -> ! {
    cortex_m_semihosting::heprintln!(
        "HARDFAULT pc=0x{:08x} lr=0x{:08x} xpsr=0x{:08x}",
        ef.pc(),
        ef.lr(),
        ef.xpsr()
    );
    exit_failure()
}

#[cfg(feature = "qemu")]
#[cortex_m_rt::exception]
unsafe fn DefaultHandler(irqn: i16) {
    cortex_m_semihosting::heprintln!("UNEXPECTED EXCEPTION irqn={}", irqn);
    exit_failure()
}
