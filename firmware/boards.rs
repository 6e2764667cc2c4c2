// The boards minnow builds the firmware for: the one table, read with `include!` by the
// firmware's build script (firmware/build.rs: memory map, target check, SysTick factor) and by
// the trainer (trainer/src/device/boards.rs: `minnow verify`'s cores, QEMU and probe-rs
// commands). Plain items only (no `use`, no paths into a crate), so that both can include it.
//
// Adding a board: a row here and `memory/<name>.x`; QEMU boards also need the instructions per
// SysTick tick measured under `-icount shift=0` (firmware/README.md, "Measured").

/// How the firmware reaches a board.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Runner {
    /// Emulated: `qemu-system-arm -M <board name> -cpu <cpu>`. Under `-icount shift=0` one
    /// guest instruction takes 1 ns of virtual time, so a SysTick tick is a fixed number of
    /// instructions (x1000: the SysTick clock is 25 MHz on AN385/386/500, 20 MHz on AN505 and
    /// 16 MHz on the micro:bit).
    Qemu {
        cpu: &'static str,
        instructions_per_tick_x1000: u32,
    },
    /// A real board, flashed and read with `probe-rs run --chip <chip>`; timed in core cycles.
    Probe { chip: &'static str },
}

/// One board.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Board {
    /// `MINNOW_BOARD`, `memory/<name>.x`, QEMU's `-M`.
    pub name: &'static str,
    /// The short name `minnow verify --core` takes (m0, m3, m4, m7, m33).
    pub core: &'static str,
    /// The core as the firmware names it (`expected_core=` in its banner).
    pub core_name: &'static str,
    /// The Rust target the firmware is built for.
    pub target: &'static str,
    pub runner: Runner,
}

/// The QEMU boards first (one per core), then the real boards (feature `hardware`).
pub const BOARDS: &[Board] = &[
    Board {
        name: "microbit",
        core: "m0",
        core_name: "Cortex-M0",
        target: "thumbv6m-none-eabi",
        runner: Runner::Qemu {
            cpu: "cortex-m0",
            instructions_per_tick_x1000: 62_500,
        },
    },
    Board {
        name: "mps2-an385",
        core: "m3",
        core_name: "Cortex-M3",
        target: "thumbv7m-none-eabi",
        runner: Runner::Qemu {
            cpu: "cortex-m3",
            instructions_per_tick_x1000: 40_000,
        },
    },
    Board {
        name: "mps2-an386",
        core: "m4",
        core_name: "Cortex-M4F",
        target: "thumbv7em-none-eabihf",
        runner: Runner::Qemu {
            cpu: "cortex-m4",
            instructions_per_tick_x1000: 40_000,
        },
    },
    Board {
        name: "mps2-an500",
        core: "m7",
        core_name: "Cortex-M7",
        target: "thumbv7em-none-eabihf",
        runner: Runner::Qemu {
            cpu: "cortex-m7",
            instructions_per_tick_x1000: 40_000,
        },
    },
    Board {
        name: "mps2-an505",
        core: "m33",
        core_name: "Cortex-M33",
        target: "thumbv8m.main-none-eabihf",
        runner: Runner::Qemu {
            cpu: "cortex-m33",
            instructions_per_tick_x1000: 50_000,
        },
    },
    Board {
        name: "stm32f411re",
        core: "m4",
        core_name: "Cortex-M4F",
        target: "thumbv7em-none-eabihf",
        runner: Runner::Probe {
            chip: "STM32F411RETx",
        },
    },
    Board {
        name: "nrf52840",
        core: "m4",
        core_name: "Cortex-M4F",
        target: "thumbv7em-none-eabihf",
        runner: Runner::Probe {
            chip: "nRF52840_xxAA",
        },
    },
];
