//! minnow firmware: runs the int8 student on a Cortex-M and proves it computes exactly what the
//! host computed.
//!
//! Decodes the embedded student and golden vectors in place (weights and inputs stay in flash),
//! runs every golden input into a static activation buffer sized at build time (build.rs), compares
//! the int8 logits bit for bit, and reports. Exits with success only if nothing mismatched; a
//! blob that does not decode is reported with minnow-core's error and exits with failure.
//!
//! Build and run: `minnow verify --student S --golden G --core <board>` (see firmware/README.md).
//!
//! Output: one `key=value` record per line (semihosting text with feature `qemu`, defmt over RTT
//! with `hardware`). The host parses (`DeviceRun::parse`, trainer/src/device/output.rs):
//!
//! ```text
//! minnow-firmware 0.1.0 board=mps2-an386 expected_core=Cortex-M4F
//! cpuid=0x410fc240 core=Cortex-M4
//! model student_bytes=.. golden_bytes=.. layers=.. macs=.. weight_bytes=.. scratch=.. input_len=.. classes=.. vectors=..
//! error stage=student msg=<minnow-core error>            (decode failure; then exit 1)
//! mismatch index=.. expected=a,b,.. got=a,b,..           (the first MAX_SHOWN)
//! layer index=.. kind=dense macs=.. units=.. per_mac_x1000=..
//! result vectors=.. mismatches=.. correct=.. labeled=.. teacher_agree=.. teacher_known=..
//! perf unit=instructions source=systick per_tick_x1000=.. per_inference=.. macs=.. per_mac_x1000=.. dense_macs=.. dense_units=.. dense_per_mac_x1000=..
//! mem flash_used=.. student_bytes=.. golden_bytes=.. runtime_flash=.. text=.. rodata=.. data=.. bss=.. scratch=.. static_ram=.. stack_peak=.. ram_bytes=..
//! verdict=PASS | verdict=FAIL mismatches=..
//! ```
//!
//! `unit` is `instructions` under QEMU (SysTick ticks x the board's instructions per tick under
//! `-icount shift=0`) and `cycles` on real boards (DWT CYCCNT; SysTick at core clock on ARMv6-M).

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

use cortex_m_rt::entry;
use minnow_core::golden::UNKNOWN_CLASS;
use minnow_core::{GoldenVectors, Student};

/// Print one line to the host: semihosting text (qemu) or defmt (hardware).
/// Use only `{}` placeholders with values that are both `Display` and `defmt::Format`.
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

/// Sizes derived from the embedded student by build.rs.
#[allow(dead_code)]
mod consts {
    include!(concat!(env!("OUT_DIR"), "/model_consts.rs"));
}
use consts::*;

/// The student model and golden vectors, embedded at build time, read in place.
mod model {
    #[repr(C, align(4))]
    pub struct Aligned<T: ?Sized>(pub T);
    pub static STUDENT: &Aligned<[u8]> = &Aligned(*include_bytes!(env!("MINNOW_STUDENT_PATH")));
    pub static GOLDEN: &Aligned<[u8]> = &Aligned(*include_bytes!(env!("MINNOW_GOLDEN_PATH")));
}

/// How many mismatching vectors are printed in full.
const MAX_SHOWN: usize = 4;

/// The activation buffer (ping-pong halves), exactly `Student::scratch_len` bytes.
static mut SCRATCH: [i8; SCRATCH_LEN] = [0; SCRATCH_LEN];

/// int8 values printed as `a,b,c` in both back ends.
struct Logits<'a>(&'a [i8]);

#[cfg(feature = "qemu")]
impl core::fmt::Display for Logits<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        for (i, v) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            core::fmt::Display::fmt(v, f)?;
        }
        Ok(())
    }
}

#[cfg(feature = "hardware")]
impl defmt::Format for Logits<'_> {
    fn format(&self, f: defmt::Formatter<'_>) {
        for (i, v) in self.0.iter().enumerate() {
            if i > 0 {
                defmt::write!(f, ",");
            }
            defmt::write!(f, "{}", v);
        }
    }
}

/// Name of the core from the CPUID part number.
fn core_name(cpuid: u32) -> &'static str {
    if cpuid >> 24 != 0x41 {
        return "unknown";
    }
    match (cpuid >> 4) & 0xfff {
        0xc20 => "Cortex-M0",
        0xc60 => "Cortex-M0+",
        0xc23 => "Cortex-M3",
        0xc24 => "Cortex-M4",
        0xc27 => "Cortex-M7",
        0xd21 => "Cortex-M33",
        _ => "other-arm",
    }
}

mod clock;

/// Linker symbols of cortex-m-rt's link.x, for the memory report.
mod mem {
    unsafe extern "C" {
        static __stext: u8;
        static __etext: u8;
        static __srodata: u8;
        static __erodata: u8;
        static __sdata: u8;
        static __edata: u8;
        static __sidata: u8;
        static __sbss: u8;
        static __ebss: u8;
        static __euninit: u8;
        static __sheap: u8;
        static _stack_start: u8;
    }

    macro_rules! addr {
        ($s:ident) => {
            // Only the address of a linker symbol is taken, never its contents.
            core::ptr::addr_of!($s) as u32
        };
    }

    /// Pattern painted over the free stack before the run.
    const PAINT: u32 = 0xC5AC_CE55;
    /// Painting stops this far below the stack pointer of `paint` (its own frame lives there).
    const MARGIN: u32 = 256;
    /// At most this much stack is painted (the rest of a big RAM is never reached).
    const SPAN: u32 = 64 * 1024;

    /// Paints the free stack; returns the lowest painted address.
    #[inline(never)]
    pub fn paint() -> u32 {
        let sp = cortex_m::register::msp::read();
        let heap = (addr!(__sheap) + 3) & !3;
        let bottom = heap.max(sp.saturating_sub(SPAN)) & !3;
        let mut a = bottom;
        while a + 4 <= sp - MARGIN {
            // SAFETY: [bottom, sp - MARGIN) is free RAM between the statics and the live stack.
            unsafe { core::ptr::write_volatile(a as *mut u32, PAINT) };
            a += 4;
        }
        bottom
    }

    /// Peak stack use: from the top of RAM down to the lowest word the run overwrote.
    pub fn stack_peak(bottom: u32) -> u32 {
        let top = addr!(_stack_start);
        let mut a = bottom;
        // SAFETY: reads the words `paint` wrote (or the stack overwrote), all inside RAM.
        while a < top && unsafe { core::ptr::read_volatile(a as *const u32) } == PAINT {
            a += 4;
        }
        top - a
    }

    pub struct Report {
        pub flash_used: u32,
        pub text: u32,
        pub rodata: u32,
        pub data: u32,
        pub bss: u32,
        pub static_ram: u32,
    }

    pub fn report() -> Report {
        let data = addr!(__edata) - addr!(__sdata);
        Report {
            flash_used: addr!(__sidata) - super::FLASH_ORIGIN + data,
            text: addr!(__etext) - addr!(__stext),
            rodata: addr!(__erodata) - addr!(__srodata),
            data,
            bss: addr!(__ebss) - addr!(__sbss),
            static_ram: addr!(__euninit) - super::RAM_ORIGIN,
        }
    }
}

/// `num * 1000 / den`, 0 when `den` is 0.
fn x1000(num: u64, den: u64) -> u64 {
    (num * 1000).checked_div(den).unwrap_or(0)
}

#[entry]
fn main() -> ! {
    let stack_bottom = mem::paint();
    let mut cp = cortex_m::Peripherals::take().unwrap_or_else(|| panic!("peripherals taken twice"));
    let cpuid = cp.CPUID.base.read();

    say!(
        "minnow-firmware {} board={} expected_core={}",
        env!("CARGO_PKG_VERSION"),
        BOARD,
        EXPECTED_CORE
    );
    say!("cpuid=0x{:x} core={}", cpuid, core_name(cpuid));

    // Test hooks: check that failures end QEMU with a non-zero status instead of hanging.
    if cfg!(feature = "deliberate-panic") {
        panic!("deliberate panic (feature deliberate-panic)");
    }
    if cfg!(feature = "deliberate-fault") {
        cortex_m::asm::udf(); // permanently undefined instruction → HardFault
    }

    clock::start(&mut cp);

    let student = match Student::decode_ops::<{ consts::OPS }>(&model::STUDENT.0) {
        Ok(s) => s,
        Err(e) => fail("student", e),
    };
    let golden = match GoldenVectors::decode(&model::GOLDEN.0) {
        Ok(g) => g,
        Err(e) => fail("golden", e),
    };
    say!(
        "model student_bytes={} golden_bytes={} layers={} macs={} weight_bytes={} scratch={} input_len={} classes={} vectors={}",
        model::STUDENT.0.len(),
        model::GOLDEN.0.len(),
        student.layer_count(),
        student.footprint().macs,
        student.footprint().weight_bytes,
        student.scratch_len(),
        student.input_len(),
        student.classes(),
        golden.len()
    );
    if student.scratch_len() > SCRATCH_LEN
        || student.layer_count() != LAYERS
        || student.classes() != CLASSES
    {
        fail_msg(
            "student",
            "the student differs from the one build.rs sized the buffers for",
        );
    }
    if golden.input_len as usize != student.input_len() || usize::from(golden.classes) != CLASSES {
        fail_msg(
            "golden",
            "golden vectors do not match the student's input length or classes",
        );
    }

    // SAFETY: the only reference to SCRATCH, taken once in `main`, which never returns.
    let scratch: &mut [i8] = unsafe { &mut *core::ptr::addr_of_mut!(SCRATCH) };
    let mut logits = [0_i8; CLASSES];
    let mut layer_ticks = [0_u64; LAYERS];
    let mut total_ticks: u64 = 0;
    let (mut mismatches, mut correct, mut labeled, mut agree, mut teacher_known) = (0, 0, 0, 0, 0);

    for i in 0..golden.len() {
        let (Ok(input), Ok(expected)) = (golden.input(i), golden.expected(i)) else {
            fail_msg("golden", "vector out of range");
        };
        let start = clock::now();
        let mut prev = start;
        let run = student.run_observed_ops::<{ consts::OPS }, _>(
            input,
            scratch,
            &mut logits,
            |index, _, _| {
                let t = clock::now();
                if let Some(slot) = layer_ticks.get_mut(index) {
                    *slot += u64::from(clock::elapsed(prev, t));
                }
                prev = t;
            },
        );
        total_ticks += u64::from(clock::elapsed(start, clock::now()));
        if let Err(e) = run {
            fail("run", e);
        }
        if logits[..] != expected[..] {
            if mismatches < MAX_SHOWN {
                say!(
                    "mismatch index={} expected={} got={}",
                    i,
                    Logits(expected),
                    Logits(&logits)
                );
            }
            mismatches += 1;
        }
        let pred = minnow_core::softmax::argmax_i8(&logits).unwrap_or(usize::MAX);
        let label = golden.label(i).unwrap_or(UNKNOWN_CLASS);
        if label != UNKNOWN_CLASS {
            labeled += 1;
            correct += usize::from(usize::from(label) == pred);
        }
        let teacher = golden.teacher_class(i).unwrap_or(UNKNOWN_CLASS);
        if teacher != UNKNOWN_CLASS {
            teacher_known += 1;
            agree += usize::from(usize::from(teacher) == pred);
        }
    }

    let n = golden.len().max(1) as u64;
    let (mut dense_macs, mut dense_units) = (0_u64, 0_u64);
    for (index, &ticks) in layer_ticks.iter().enumerate() {
        let units = clock::units(ticks) / n;
        let macs = u64::from(LAYER_MACS[index]);
        if LAYER_KINDS[index] == "dense" {
            dense_macs += macs;
            dense_units += units;
        }
        say!(
            "layer index={} kind={} macs={} units={} per_mac_x1000={}",
            index,
            LAYER_KINDS[index],
            macs,
            units,
            x1000(units, macs)
        );
    }
    say!(
        "result vectors={} mismatches={} correct={} labeled={} teacher_agree={} teacher_known={}",
        golden.len(),
        mismatches,
        correct,
        labeled,
        agree,
        teacher_known
    );
    let per_inference = clock::units(total_ticks) / n;
    say!(
        "perf unit={} source={} per_tick_x1000={} per_inference={} macs={} per_mac_x1000={} dense_macs={} dense_units={} dense_per_mac_x1000={}",
        clock::UNIT,
        clock::SOURCE,
        UNITS_PER_TICK_X1000,
        per_inference,
        MACS,
        x1000(per_inference, u64::from(MACS)),
        dense_macs,
        dense_units,
        x1000(dense_units, dense_macs)
    );
    let m = mem::report();
    let blobs = (model::STUDENT.0.len() + model::GOLDEN.0.len()) as u32;
    let stack_peak = mem::stack_peak(stack_bottom);
    say!(
        "mem flash_used={} student_bytes={} golden_bytes={} runtime_flash={} text={} rodata={} data={} bss={} scratch={} static_ram={} stack_peak={} ram_bytes={}",
        m.flash_used,
        model::STUDENT.0.len(),
        model::GOLDEN.0.len(),
        m.flash_used.saturating_sub(blobs),
        m.text,
        m.rodata,
        m.data,
        m.bss,
        SCRATCH_LEN,
        m.static_ram,
        stack_peak,
        m.static_ram + stack_peak
    );
    if mismatches == 0 && !golden.is_empty() {
        say!("verdict=PASS");
        exit_success()
    } else {
        say!(
            "verdict=FAIL mismatches={} vectors={}",
            mismatches,
            golden.len()
        );
        exit_failure()
    }
}

/// Reports a minnow-core error and exits with failure.
fn fail(stage: &str, e: minnow_core::Error) -> ! {
    say!("error stage={} msg={}", stage, e);
    say!("verdict=FAIL");
    exit_failure()
}

/// Reports a firmware-side inconsistency and exits with failure.
fn fail_msg(stage: &str, msg: &str) -> ! {
    say!("error stage={} msg={}", stage, msg);
    say!("verdict=FAIL");
    exit_failure()
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
    // probe-rs stops at a breakpoint (exit status 0); without a debugger this locks up.
    loop {
        cortex_m::asm::bkpt();
    }
}

#[cfg(feature = "hardware")]
fn exit_failure() -> ! {
    // panic-probe makes probe-rs exit with a failure status.
    panic!("verdict=FAIL")
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
