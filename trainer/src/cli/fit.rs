//! The flags of `minnow fit`: those of `minnow run` (data, teacher, distillation, budgets,
//! device) and the search's own.

use clap::Args;

use crate::cli::run::RunArgs;
use crate::error::Result;
use crate::fit::search::{FitConfig, FitSettings};

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
    /// Candidates trained at the first rung, spread over the sizes that fit (the largest
    /// always among them).
    #[arg(long, value_name = "N")]
    pub candidates: Option<usize>,
    /// One in N candidates survives each rung.
    #[arg(long, value_name = "N")]
    pub keep: Option<usize>,
    /// Epochs of each rung, e.g. 5,15,45 (default: a ninth, a third and all of the student's
    /// epochs).
    #[arg(long, value_name = "N,...", value_delimiter = ',')]
    pub rungs: Option<Vec<usize>>,
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
            },
        })
    }
}
