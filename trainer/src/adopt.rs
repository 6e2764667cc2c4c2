//! `minnow adopt-logits`: take teacher logits computed elsewhere (a GPU box, another framework)
//! for every sample of a data file **in the file's own row order**, and turn them into the
//! logit cache `minnow distill --teacher-logits` reads: rows reordered to the transfer set, plus
//! a provenance sidecar tying them to this data and split.
//!
//! Rows are matched by content (the raw feature values of each sample), so the result does not
//! depend on how the split shuffles; identical samples get identical teacher logits anyway.

use std::collections::HashMap;
use std::path::PathBuf;

use clap::Args;
use sha2::{Digest, Sha256};

use crate::cache::{LogitCache, LogitDtype, Provenance, write_cache};
use crate::cli::DistillArgs;
use crate::error::{Error, Result};

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

fn row_key(sample: &[f32]) -> Vec<u32> {
    sample.iter().map(|v| v.to_bits()).collect()
}

/// Runs `minnow adopt-logits`; returns the number of transfer rows written.
pub fn run(args: &AdoptArgs) -> Result<usize> {
    let cfg = crate::cli::distill_config(&args.distill)?;
    let out = cfg
        .teacher_logits
        .clone()
        .ok_or_else(|| Error::Usage("--teacher-logits FILE names the cache to write".into()))?;
    let (data, transfer) = crate::train::transfer_set(&cfg)?;
    let foreign = LogitCache::open_foreign(&args.from, data.len())?;
    let classes = foreign.classes();
    if classes != data.classes {
        return Err(Error::artifact(
            &args.from,
            format!(
                "has {classes} logits per row; the data has {} classes",
                data.classes
            ),
        ));
    }
    let mut rows_of: HashMap<Vec<u32>, usize> = HashMap::with_capacity(data.len());
    for i in 0..data.len() {
        rows_of.entry(row_key(data.sample(i))).or_insert(i);
    }
    let order = (0..transfer.len())
        .map(|i| {
            rows_of
                .get(&row_key(transfer.sample(i)))
                .copied()
                .ok_or_else(|| {
                    Error::artifact(
                        &args.from,
                        format!("transfer sample {i} is not a row of the data file"),
                    )
                })
        })
        .collect::<Result<Vec<usize>>>()?;
    let logits = foreign.rows(&order)?;
    let npy = std::fs::read(&args.from).map_err(|e| Error::io(&args.from, e))?;
    let digest: String = Sha256::digest(&npy)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let provenance = Provenance {
        data_fingerprint: transfer.fingerprint(),
        teacher_fingerprint: format!("foreign:{digest}"),
        producer: format!(
            "minnow {} adopt-logits --from {}",
            env!("CARGO_PKG_VERSION"),
            args.from.display()
        ),
    };
    write_cache(&out, &logits, classes, LogitDtype::F32, &provenance)?;
    eprintln!(
        "adopt-logits: {} of {} rows (the transfer set, in its order) -> {}",
        transfer.len(),
        data.len(),
        out.display()
    );
    Ok(transfer.len())
}

#[cfg(test)]
mod tests {
    use super::*;
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
        let dir = tempfile::tempdir().map_err(|e| Error::io("tmp", e))?;
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
        std::fs::write(&csv, text).map_err(|e| Error::io(&csv, e))?;
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
        let cli = crate::cli::Cli::try_parse_from([
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
        .map_err(|e| Error::Usage(e.to_string()))?;
        let crate::cli::Command::AdoptLogits(args) = cli.command else {
            panic!("parsed as another command")
        };
        let n = run(&args)?;
        let cfg = crate::cli::distill_config(&args.distill)?;
        let (_, transfer) = crate::train::transfer_set(&cfg)?;
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
