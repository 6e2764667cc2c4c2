//! What a training run shows while it runs. On a terminal: one progress bar for the whole
//! stage, its message the running epoch's figures, left on screen when the stage ends. Off a
//! terminal (CI, a pipe, a log file): one line every few epochs (about ten per stage) and one
//! for the last. With `quiet`: nothing (`minnow run` still prints its final table).

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// About how many epoch lines a stage prints off a terminal.
const LINES_PER_STAGE: usize = 10;

/// How a stage reports its epochs.
#[derive(Debug)]
pub struct StageProgress {
    /// On a terminal: the bar, one step per batch.
    bar: Option<ProgressBar>,
    /// Off a terminal: every how many epochs a line is printed.
    every: Option<usize>,
    epochs: usize,
}

impl StageProgress {
    /// A stage of `epochs` epochs of `steps` batches each, starting after `done` epochs (a
    /// resumed run).
    pub fn new(quiet: bool, title: &str, epochs: usize, steps: usize, done: usize) -> Self {
        let terminal = std::io::stderr().is_terminal();
        let bar = (!quiet && terminal).then(|| {
            let len = (epochs * steps) as u64;
            let pb = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
            if let Ok(style) =
                ProgressStyle::with_template("{prefix} [{bar:25}] {percent:>3}% {msg}")
            {
                pb.set_style(style.progress_chars("=> "));
            }
            pb.set_prefix(title.to_owned());
            pb.set_position((done * steps) as u64);
            pb
        });
        let every = (!quiet && !terminal).then(|| epochs.div_ceil(LINES_PER_STAGE).max(1));
        StageProgress { bar, every, epochs }
    }

    /// A batch is done; `figures` says how the epoch is going (only asked for on a terminal).
    pub fn batch(&self, figures: impl FnOnce() -> String) {
        if let Some(pb) = &self.bar {
            pb.inc(1);
            pb.set_message(figures());
        }
    }

    /// Epoch `epoch` (1-based) is done, with `line` its summary.
    pub fn epoch(&self, epoch: usize, line: &str) {
        match (&self.bar, self.every) {
            (Some(pb), _) => pb.set_message(line.to_owned()),
            (None, Some(every)) if epoch.is_multiple_of(every) || epoch == self.epochs => {
                eprintln!("{line}")
            }
            _ => {}
        }
    }

    /// The stage is over: the bar stays on screen with its last message.
    pub fn finish(&self) {
        if let Some(pb) = &self.bar {
            pb.finish();
        }
    }
}

/// A log line on stderr (above the bar while one is drawn), unless quiet.
pub fn log(quiet: bool, msg: &str) {
    if !quiet {
        eprintln!("{msg}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn off_a_terminal_about_ten_lines_per_stage() {
        // Tests run with stderr captured, not a terminal.
        let p = StageProgress::new(false, "t", 120, 5, 0);
        assert!(p.bar.is_none());
        assert_eq!(p.every, Some(12));
        let printed = (1..=120).filter(|e| e % 12 == 0 || *e == 120).count();
        assert_eq!(printed, 10);
        let short = StageProgress::new(false, "t", 3, 5, 0);
        assert_eq!(short.every, Some(1));
        let quiet = StageProgress::new(true, "t", 120, 5, 0);
        assert!(quiet.bar.is_none() && quiet.every.is_none());
    }
}
