//! The boards minnow runs students on. The table itself is firmware/boards.rs, included here and
//! by the firmware's build script, so the core names, Rust targets, QEMU machines and probe-rs
//! chips are written down once.

mod table {
    include!("../../../firmware/boards.rs");
}

pub use table::{BOARDS, Board, Runner};

impl Board {
    /// QEMU's `-cpu` for an emulated board; `None` for a real one.
    pub fn qemu_cpu(&self) -> Option<&'static str> {
        match self.runner {
            Runner::Qemu { cpu, .. } => Some(cpu),
            Runner::Probe { .. } => None,
        }
    }

    /// probe-rs's `--chip` for a real board; `None` for an emulated one.
    pub fn chip(&self) -> Option<&'static str> {
        match self.runner {
            Runner::Probe { chip } => Some(chip),
            Runner::Qemu { .. } => None,
        }
    }

    /// The core in reports: `cortex-m4f`.
    pub fn core_label(&self) -> String {
        self.core_name.to_ascii_lowercase()
    }
}

/// The emulated boards, one per core (m0, m3, m4, m7, m33).
pub fn qemu_boards() -> impl Iterator<Item = &'static Board> {
    BOARDS.iter().filter(|b| b.qemu_cpu().is_some())
}

/// `m4`, `M4`, `cortex-m4`, `cortex-m4f` or `mps2-an386` → that QEMU board.
pub fn qemu_board(core: &str) -> Option<Board> {
    let c = core.to_ascii_lowercase();
    let short = c.strip_prefix("cortex-").unwrap_or(&c);
    qemu_boards()
        .find(|b| {
            b.core == short || b.name == c || b.core_label().strip_prefix("cortex-") == Some(short)
        })
        .copied()
}

/// `all`, or a comma-separated list of cores or QEMU boards (`m0,m4`, `microbit,mps2-an505`),
/// in the order given; `Err` names the first entry that is neither.
pub fn qemu_board_list(spec: &str) -> Result<Vec<Board>, String> {
    if spec.eq_ignore_ascii_case("all") {
        return Ok(qemu_boards().copied().collect());
    }
    let mut boards: Vec<Board> = Vec::new();
    for part in spec.split(',').map(str::trim) {
        let board = qemu_board(part).ok_or_else(|| part.to_owned())?;
        if !boards.contains(&board) {
            boards.push(board);
        }
    }
    Ok(boards)
}

/// The board whose memory map fits probe-rs chip `chip` (case-insensitive).
pub fn probe_board(chip: &str) -> Option<Board> {
    BOARDS
        .iter()
        .find(|b| b.chip().is_some_and(|c| c.eq_ignore_ascii_case(chip)))
        .copied()
}

/// What `--core` accepts, for error messages: `m0, m3, m4, m7, m33 or a board (microbit, ...)`.
pub fn qemu_choices() -> String {
    let cores: Vec<&str> = qemu_boards().map(|b| b.core).collect();
    let names: Vec<&str> = qemu_boards().map(|b| b.name).collect();
    format!("{} or a board ({})", cores.join(", "), names.join(", "))
}

/// The chips `--probe` accepts.
pub fn probe_chips() -> Vec<&'static str> {
    BOARDS.iter().filter_map(Board::chip).collect()
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
            ("cortex-m4f", "mps2-an386"),
            ("mps2-an385", "mps2-an385"),
        ] {
            assert_eq!(qemu_board(short).map(|b| b.name), Some(board), "{short}");
        }
        assert_eq!(
            qemu_board("mps2-an385").map(|b| b.core_label()),
            Some("cortex-m3".to_owned())
        );
        assert!(qemu_board("m55").is_none());
        // A real board is not a QEMU board, even though its core is an M4.
        assert!(qemu_board("stm32f411re").is_none());
        assert_eq!(
            probe_board("stm32f411retx").map(|b| b.name),
            Some("stm32f411re")
        );
        assert!(probe_board("mps2-an386").is_none());
    }

    #[test]
    fn the_table_has_one_qemu_board_per_core() {
        let cores: Vec<&str> = qemu_boards().map(|b| b.core).collect();
        assert_eq!(cores, ["m0", "m3", "m4", "m7", "m33"]);
        for b in BOARDS {
            assert!(b.target.starts_with("thumbv"), "{}: {}", b.name, b.target);
            assert!(b.core_name.starts_with("Cortex-M"), "{}", b.name);
            if let Runner::Qemu {
                instructions_per_tick_x1000,
                ..
            } = b.runner
            {
                assert!(instructions_per_tick_x1000 >= 1000, "{}", b.name);
            }
        }
        // Every board has its memory map beside the table.
        let memory = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../firmware/memory");
        for b in BOARDS {
            assert!(
                memory.join(format!("{}.x", b.name)).is_file(),
                "firmware/memory/{}.x is missing",
                b.name
            );
        }
    }

    #[test]
    fn board_lists() {
        let all = qemu_board_list("all").expect("all");
        assert_eq!(all.len(), 5);
        let two = qemu_board_list("m4, microbit,mps2-an386").expect("list");
        assert_eq!(
            two.iter().map(|b| b.name).collect::<Vec<_>>(),
            ["mps2-an386", "microbit"]
        );
        assert_eq!(qemu_board_list("m4,m9"), Err("m9".to_owned()));
        assert_eq!(probe_chips(), ["STM32F411RETx", "nRF52840_xxAA"]);
        assert!(qemu_choices().starts_with("m0, m3, m4, m7, m33 or a board (microbit"));
    }
}
