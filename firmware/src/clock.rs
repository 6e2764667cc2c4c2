//! The cycle/instruction counter: SysTick (24-bit, counts down) or DWT CYCCNT (32-bit, up).
//! Shared by the firmware (src/main.rs) and the kernel benchmark (src/bin/minnow-kernel-bench.rs),
//! which both have a `consts` module with build.rs's `UNITS_PER_TICK_X1000`.

/// SysTick reload: the full 24 bits.
pub const SYST_RELOAD: u32 = 0x00ff_ffff;

/// Starts the counter: SysTick from the core clock, free running over the full 24 bits, no
/// interrupt; and the DWT cycle counter where the board has one (`minnow_dwt`).
pub fn start(cp: &mut cortex_m::Peripherals) {
    use cortex_m::peripheral::syst::SystClkSource;
    let syst = &mut cp.SYST;
    syst.disable_counter();
    syst.disable_interrupt();
    syst.set_clock_source(SystClkSource::Core);
    syst.set_reload(SYST_RELOAD);
    syst.clear_current();
    syst.enable_counter();
    #[cfg(minnow_dwt)]
    {
        cp.DCB.enable_trace();
        cp.DWT.enable_cycle_counter();
    }
}

#[inline(always)]
pub fn now() -> u32 {
    #[cfg(minnow_dwt)]
    {
        cortex_m::peripheral::DWT::cycle_count()
    }
    #[cfg(not(minnow_dwt))]
    {
        cortex_m::peripheral::SYST::get_current()
    }
}

/// Ticks from `start` to `end` (each span must stay below the counter's wrap).
#[inline(always)]
pub fn elapsed(start: u32, end: u32) -> u32 {
    #[cfg(minnow_dwt)]
    {
        end.wrapping_sub(start)
    }
    #[cfg(not(minnow_dwt))]
    {
        start.wrapping_sub(end) & SYST_RELOAD
    }
}

/// Ticks to instructions (QEMU) or cycles (hardware).
pub fn units(ticks: u64) -> u64 {
    #[cfg(minnow_dwt)]
    {
        ticks
    }
    #[cfg(not(minnow_dwt))]
    {
        ticks * u64::from(crate::consts::UNITS_PER_TICK_X1000) / 1000
    }
}

pub const UNIT: &str = if cfg!(feature = "qemu") {
    "instructions"
} else {
    "cycles"
};
pub const SOURCE: &str = if cfg!(minnow_dwt) { "dwt" } else { "systick" };
