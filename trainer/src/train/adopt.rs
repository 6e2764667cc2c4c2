//! `minnow adopt-logits`: take teacher logits computed elsewhere (a GPU box, another framework)
//! for every sample of a data file **in the file's own row order**, and turn them into the
//! logit cache `minnow distill --teacher-logits` reads: rows reordered to the transfer set, plus
//! a provenance sidecar tying them to this data and split.
//!
//! Rows are matched by content (the raw feature values of each sample), so the result does not
//! depend on how the split shuffles; identical samples get identical teacher logits anyway.

use std::collections::HashMap;
use std::path::Path;

use crate::error::{Error, Result};
use crate::files;
use crate::fingerprint::sha256_hex;
use crate::train::cache::{LogitCache, LogitDtype, Provenance, write_cache};
use crate::train::config::DistillConfig;
use crate::train::transfer::transfer_set;

fn row_key(sample: &[f32]) -> Vec<u32> {
    sample.iter().map(|v| v.to_bits()).collect()
}

/// Turns the foreign logits `from` (one row per sample of `cfg`'s data file, in file order)
/// into the cache `cfg.teacher_logits`; returns the number of transfer rows written.
pub fn adopt_logits(from: &Path, cfg: &DistillConfig) -> Result<usize> {
    let out = cfg
        .teacher_logits
        .clone()
        .ok_or_else(|| Error::Usage("--teacher-logits FILE names the cache to write".into()))?;
    let (data, transfer) = transfer_set(cfg)?;
    let foreign = LogitCache::open_foreign(from, data.len())?;
    let classes = foreign.classes();
    if classes != data.classes {
        return Err(Error::artifact(
            from,
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
                        from,
                        format!("transfer sample {i} is not a row of the data file"),
                    )
                })
        })
        .collect::<Result<Vec<usize>>>()?;
    let logits = foreign.rows(&order)?;
    let digest = sha256_hex(&files::read(from)?);
    let provenance = Provenance {
        data_fingerprint: transfer.fingerprint(),
        teacher_fingerprint: format!("foreign:{digest}"),
        producer: format!(
            "minnow {} adopt-logits --from {}",
            env!("CARGO_PKG_VERSION"),
            from.display()
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
