//! The boards minnow runs students on: the QEMU boards (by core) and the real boards the
//! firmware has a memory map for (by probe-rs chip).

/// A QEMU board and the core it emulates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Board {
    pub name: &'static str,
    pub core: &'static str,
    pub target: &'static str,
}

/// The QEMU boards scripts/firmware.sh knows, with the short core names `--core` accepts.
pub const QEMU_BOARDS: &[(&str, Board)] = &[
    (
        "m0",
        Board {
            name: "microbit",
            core: "cortex-m0",
            target: "thumbv6m-none-eabi",
        },
    ),
    (
        "m3",
        Board {
            name: "mps2-an385",
            core: "cortex-m3",
            target: "thumbv7m-none-eabi",
        },
    ),
    (
        "m4",
        Board {
            name: "mps2-an386",
            core: "cortex-m4f",
            target: "thumbv7em-none-eabihf",
        },
    ),
    (
        "m7",
        Board {
            name: "mps2-an500",
            core: "cortex-m7",
            target: "thumbv7em-none-eabihf",
        },
    ),
    (
        "m33",
        Board {
            name: "mps2-an505",
            core: "cortex-m33",
            target: "thumbv8m.main-none-eabihf",
        },
    ),
];

/// Real boards the firmware has a memory map for (firmware/memory/<board>.x), by probe-rs chip.
pub const PROBE_BOARDS: &[(&str, Board)] = &[
    (
        "STM32F411RETx",
        Board {
            name: "stm32f411re",
            core: "cortex-m4f",
            target: "thumbv7em-none-eabihf",
        },
    ),
    (
        "nRF52840_xxAA",
        Board {
            name: "nrf52840",
            core: "cortex-m4f",
            target: "thumbv7em-none-eabihf",
        },
    ),
];

/// `m4`, `M4`, `cortex-m4` or `mps2-an386` → the board.
pub fn qemu_board(core: &str) -> Option<Board> {
    let c = core.to_ascii_lowercase();
    let c = c.strip_prefix("cortex-").unwrap_or(&c);
    QEMU_BOARDS
        .iter()
        .find(|(short, b)| *short == c || b.name == c || b.core == c)
        .map(|(_, b)| *b)
}

/// The board whose memory map fits probe-rs chip `chip` (case-insensitive).
pub fn probe_board(chip: &str) -> Option<Board> {
    PROBE_BOARDS
        .iter()
        .find(|(c, _)| c.eq_ignore_ascii_case(chip))
        .map(|(_, b)| *b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cores_and_boards_resolve() {
        for (short, board) in [
            ("m0", "microbit"),
            ("M33", "mps2-an505"),
            ("cortex-m7", "mps2-an500"),
        ] {
            assert_eq!(qemu_board(short).map(|b| b.name), Some(board));
        }
        assert_eq!(qemu_board("mps2-an385").map(|b| b.core), Some("cortex-m3"));
        assert!(qemu_board("m55").is_none());
        assert_eq!(
            probe_board("stm32f411retx").map(|b| b.name),
            Some("stm32f411re")
        );
    }
}
