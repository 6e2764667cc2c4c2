//! The flags of `minnow fit`: those of `minnow run` (data, teacher, distillation, budgets,
//! device) and the search's own.

use clap::Args;

use crate::cli::run::RunArgs;
use crate::error::Result;
use crate::fit::search::{FitConfig, FitSettings};
use crate::plot::pareto::Mark;

pub const FIT_EXAMPLES: &str = "\
Examples:
  # the best student of at most 3 KB of flash and 2 KB of RAM for the built-in digits
  minnow fit --max-flash 3k --max-ram 2k --out runs/fit
  # MNIST, from a trained teacher, CNNs only, verified on a Cortex-M0
  minnow fit --mnist ../shared/data/mnist --teacher runs/teacher --max-flash 32k --arch cnn --core m0
  # again after a kill: finished candidates are read, not retrained
  minnow fit --max-flash 3k --max-ram 2k --out runs/fit";

/// `minnow fit` flags.
#[derive(Debug, Clone, Default, Args)]
pub struct FitArgs {
    #[command(flatten)]
    pub run: RunArgs,
    /// Candidates trained at the first rung, spread over the sizes that fit (of each run of
    /// neighbours in flash, the one with the most multiply-accumulates).
    #[arg(long, value_name = "N")]
    pub candidates: Option<usize>,
    /// One in N candidates survives each rung.
    #[arg(long, value_name = "N")]
    pub keep: Option<usize>,
    /// Epochs of each rung, e.g. 5,15,45 (default: a ninth, a third and all of the student's
    /// epochs).
    #[arg(long, value_name = "N,...", value_delimiter = ',')]
    pub rungs: Option<Vec<usize>>,
    /// Wall time for the training (e.g. 2h, 90m): when it is up, no further candidate starts,
    /// and the best one trained at the highest rung reached is the winner.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub time_budget: Option<std::time::Duration>,
    /// Candidates distilled at once, each a `minnow` process of its own [default: 1, in this
    /// process].
    #[arg(long, value_name = "N")]
    pub workers: Option<usize>,
    /// A published result to draw on the Pareto figure and list under the leaderboard, for
    /// comparison: LABEL=FLASH:ERROR, the error in percent (repeat for several), e.g.
    /// --mark SpArSe=2800:1.36
    #[arg(long, value_name = "LABEL=FLASH:ERROR", value_parser = Mark::parse)]
    pub mark: Vec<Mark>,
    /// Print the commands the next rung still needs (one per line, for a cluster scheduler)
    /// instead of running them; run the same `minnow fit` again once they are done.
    #[arg(long)]
    pub print_commands: bool,
}

/// `2h`, `90m`, `1h 30m`, `600s`.
fn parse_duration(s: &str) -> std::result::Result<std::time::Duration, String> {
    let d = humantime::parse_duration(s)
        .map_err(|e| format!("{s:?}: {e} (examples: 2h, 90m, 600s)"))?;
    if d.is_zero() {
        return Err(format!("{s:?}: a time budget must be longer than 0"));
    }
    Ok(d)
}

impl FitArgs {
    /// The resolved configuration: `minnow run`'s, then the search's flags.
    pub fn resolve(&self) -> Result<FitConfig> {
        let mut run = self.run.clone();
        if run.out.is_none() && run.config.is_none() {
            run.out = Some("runs/fit".into());
        }
        let defaults = FitSettings::default();
        Ok(FitConfig {
            run: run.resolve()?,
            search: FitSettings {
                candidates: self.candidates.unwrap_or(defaults.candidates),
                keep: self.keep.unwrap_or(defaults.keep),
                rungs: self.rungs.clone().unwrap_or_default(),
                arch: self.run.arch,
                time_budget_s: self.time_budget.map(|d| d.as_secs_f64()),
                workers: self.workers.unwrap_or(defaults.workers).max(1),
                marks: self.mark.clone(),
            },
            exe: None,
            print_commands: self.print_commands,
        })
    }
}

/// `minnow calibrate-instructions DIR...` (hidden; scripts/calibrate-instructions.sh runs it):
/// fits the instruction model to run folders verified with `--core all --logs DIR/matrix`.
#[derive(Debug, Clone, Args)]
pub struct CalibrateArgs {
    /// Run folders, each with student.minnow and matrix/BOARD.log.
    #[arg(required = true)]
    pub dirs: Vec<std::path::PathBuf>,
    /// Where to write the model (JSON).
    #[arg(long, value_name = "FILE")]
    pub model: std::path::PathBuf,
    /// Where to write the error tables (Markdown).
    #[arg(long, value_name = "FILE")]
    pub errors: std::path::PathBuf,
    /// How the runs were made, stored in the model.
    #[arg(long, value_name = "TEXT", default_value = "")]
    pub calibrated_on: String,
}

impl CalibrateArgs {
    pub fn run(&self) -> Result<()> {
        use crate::fit::calibrate::{calibrate, error_table, measurements};
        let mut runs = Vec::new();
        for dir in &self.dirs {
            runs.extend(measurements(dir)?);
        }
        let model = calibrate(&runs, &self.calibrated_on);
        let mut json = serde_json::to_string_pretty(&model)?;
        json.push('\n');
        crate::files::write_atomic(&self.model, json.as_bytes())?;
        let table = error_table(&model, &runs);
        crate::files::write_atomic(&self.errors, table.as_bytes())?;
        print!("{table}");
        Ok(())
    }
}
