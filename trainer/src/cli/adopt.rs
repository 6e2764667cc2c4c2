//! The flags of `minnow adopt-logits`.

use std::path::PathBuf;

use clap::Args;

use crate::cli::train::DistillArgs;

const ADOPT_EXAMPLES: &str = "\
Examples:
  # logits.npy: (n, classes) float32 logits of every row of my.csv, computed elsewhere
  minnow adopt-logits --from logits.npy --csv my.csv --teacher-logits runs/cache.npy
  # then distil from them with the same data and split flags (no --teacher needed)
  minnow distill --csv my.csv --teacher-logits runs/cache.npy --jitter 0 --out runs/student";

/// `minnow adopt-logits` flags: `--from`, plus the `distill` flags that define the transfer set
/// (data, split, `--train-limit`, `--omit-classes`, `--unlabeled`) and `--teacher-logits`, the
/// cache to write.
#[derive(Debug, Clone, Args)]
#[command(after_help = ADOPT_EXAMPLES)]
pub struct AdoptArgs {
    /// NPY file of `(n, classes)` logits (`<f4` or `<f2`), one row per sample of the data file,
    /// in the file's order.
    #[arg(long, value_name = "FILE.npy")]
    pub from: PathBuf,
    #[command(flatten)]
    pub distill: DistillArgs,
}
