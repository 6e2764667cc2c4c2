//! The transfer set of a distillation: the training split, less the omitted classes (Hinton
//! et al.'s omitted-digit experiment), without its labels when it is unlabeled. Its row order is
//! the order of cached teacher logits.

use crate::data::{self, Dataset};
use crate::error::{Error, Result};
use crate::train::config::DistillConfig;

/// A transfer set, and the classes absent from it (counted before labels are dropped).
#[derive(Debug)]
pub struct Transfer {
    pub data: Dataset,
    pub absent: Vec<usize>,
}

/// The transfer set cut from the training split `train`.
pub fn transfer_from(train: &Dataset, cfg: &DistillConfig) -> Result<Transfer> {
    for (key, classes) in [
        ("omit_classes", &cfg.omit_classes),
        ("missing_classes", &cfg.missing_classes),
    ] {
        if let Some(&c) = classes.iter().find(|&&c| usize::from(c) >= train.classes) {
            return Err(Error::Config(format!(
                "{key}: class {c} is not a class of {} (0 to {})",
                train.name,
                train.classes.saturating_sub(1)
            )));
        }
    }
    let mut transfer = train.clone();
    if !cfg.omit_classes.is_empty() {
        let labels = transfer.labels.as_deref().unwrap_or(&[]);
        let keep: Vec<usize> = (0..transfer.len())
            .filter(|&i| !cfg.omit_classes.contains(&labels[i]))
            .collect();
        if keep.is_empty() {
            return Err(Error::Config(
                "omit_classes removes every sample of the transfer set".into(),
            ));
        }
        transfer = transfer.subset(&keep);
    }
    let absent: Vec<usize> = {
        let counts = transfer.class_counts().unwrap_or_default();
        (0..transfer.classes)
            .filter(|&k| counts.get(k).copied().unwrap_or(0) == 0)
            .collect()
    };
    if cfg.unlabeled {
        transfer = transfer.without_labels();
    }
    Ok(Transfer {
        data: transfer,
        absent,
    })
}

/// The full data set a distillation loads and its transfer set, in the transfer set's row order
/// (the order of cached teacher logits).
pub fn transfer_set(cfg: &DistillConfig) -> Result<(Dataset, Dataset)> {
    let data = data::load(&cfg.data.source)?;
    let splits = cfg.data.prepare_loaded(&data)?;
    Ok((data, transfer_from(&splits.train, cfg)?.data))
}
