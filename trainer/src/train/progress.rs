//! What a training run shows while it runs: a progress bar on a terminal, one log line per
//! epoch (both off with `quiet`).

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A bar of `len` steps, drawn on stderr only when it is a terminal and the run is not quiet.
pub fn bar(quiet: bool, len: u64, prefix: String) -> ProgressBar {
    let target = if quiet || !std::io::stderr().is_terminal() {
        ProgressDrawTarget::hidden()
    } else {
        ProgressDrawTarget::stderr()
    };
    let pb = ProgressBar::with_draw_target(Some(len), target);
    if let Ok(style) = ProgressStyle::with_template("{prefix} [{bar:25}] {pos}/{len} {msg}") {
        pb.set_style(style.progress_chars("=> "));
    }
    pb.set_prefix(prefix);
    pb
}

/// A log line on stderr (above the bar while one is drawn), unless quiet.
pub fn log(quiet: bool, msg: &str) {
    if !quiet {
        eprintln!("{msg}");
    }
}
