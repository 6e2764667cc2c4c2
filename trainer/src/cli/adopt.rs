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

#[cfg(test)]
mod tests {
    use crate::cli::train::distill_config;
    use crate::cli::{Cli, Command};
    use crate::error::Result;
    use crate::train::adopt::adopt_logits;
    use crate::train::cache::{LogitCache, LogitDtype, Provenance, write_cache};
    use crate::train::transfer::transfer_set;
    use clap::Parser;

    /// Logits "computed elsewhere": a fixed function of each sample, so the right row order can
    /// be checked from the transfer set alone.
    fn foreign_logits(sample: &[f32], classes: usize) -> Vec<f32> {
        (0..classes)
            .map(|k| sample.iter().sum::<f32>() * (k as f32 + 1.0) * 0.01)
            .collect()
    }

    #[test]
    fn adopted_logits_follow_the_transfer_order_and_distill_reads_them() -> Result<()> {
        let dir = tempfile::tempdir().expect("tmp");
        let csv = dir.path().join("d.csv");
        let mut text = String::new();
        let mut rows = Vec::new();
        for i in 0..120u32 {
            let label = i % 3;
            let x: Vec<f32> = (0..6)
                .map(|j| ((i * 7 + j * 13) % 17) as f32 + label as f32)
                .collect();
            text.push_str(&format!(
                "{},{label}\n",
                x.iter().map(f32::to_string).collect::<Vec<_>>().join(",")
            ));
            rows.push(x);
        }
        std::fs::write(&csv, text).expect("csv");
        let logits: Vec<f32> = rows.iter().flat_map(|x| foreign_logits(x, 3)).collect();
        let from = dir.path().join("elsewhere.npy");
        // Written by the cache writer here; adopt only reads it as a foreign NPY (no sidecar).
        write_cache(
            &from,
            &logits,
            3,
            LogitDtype::F32,
            &Provenance {
                data_fingerprint: String::new(),
                teacher_fingerprint: String::new(),
                producer: "test".into(),
            },
        )?;
        let _ = std::fs::remove_file(from.with_extension("npy.json"));
        let cache = dir.path().join("cache.npy");
        let (csv_s, from_s, cache_s) = (
            csv.to_string_lossy(),
            from.to_string_lossy(),
            cache.to_string_lossy(),
        );
        let cli = Cli::try_parse_from([
            "minnow",
            "adopt-logits",
            "--from",
            &from_s,
            "--csv",
            &csv_s,
            "--teacher-logits",
            &cache_s,
            "--omit-classes",
            "2",
        ])
        .expect("parses");
        let Command::AdoptLogits(args) = cli.command else {
            panic!("parsed as another command")
        };
        let cfg = distill_config(&args.distill)?;
        let n = adopt_logits(&args.from, &cfg)?;
        let (_, transfer) = transfer_set(&cfg)?;
        assert_eq!(n, transfer.len());
        assert!(transfer.labels.as_deref().is_some_and(|l| !l.contains(&2)));
        let opened = LogitCache::open(&cache, &transfer.fingerprint(), None)?;
        let mut row = vec![0.0; 3];
        for i in 0..transfer.len() {
            opened.row(i, &mut row)?;
            assert_eq!(row, foreign_logits(transfer.sample(i), 3), "row {i}");
        }
        // distill accepts the adopted cache without a teacher
        let out = dir.path().join("student");
        let code = crate::cli::run([
            "minnow",
            "distill",
            "--csv",
            &csv_s,
            "--teacher-logits",
            &cache_s,
            "--omit-classes",
            "2",
            "--jitter",
            "0",
            "--epochs",
            "2",
            "--hidden",
            "4",
            "--quiet",
            "--out",
            &out.to_string_lossy(),
        ]);
        assert_eq!(code, 0);
        assert!(out.join("student.float.json").is_file());
        Ok(())
    }
}
