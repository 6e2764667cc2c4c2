//! Per-epoch metrics (written as JSON lines to `metrics.jsonl`) and the helpers that compute
//! them from logits.

use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::data::Dataset;
use crate::error::{Error, Result};
use crate::files;
use crate::plot::curves::CurvePoint;

/// One line of `metrics.jsonl`. Accuracies and agreements are fractions in `[0, 1]`; absent
/// when there is nothing to compare with (no labels / no teacher).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochMetrics {
    /// 1-based.
    pub epoch: usize,
    /// Mean training objective over the epoch's batches.
    pub train_loss: f64,
    /// Mean soft (or logit-matching) term, unweighted, when it is used.
    pub train_soft_loss: Option<f64>,
    /// Mean hard-label cross-entropy, unweighted, when labels are used.
    pub train_hard_loss: Option<f64>,
    pub train_accuracy: Option<f64>,
    /// Fraction of training samples where the student's argmax equals the teacher's.
    pub train_agreement: Option<f64>,
    /// Hard-label cross-entropy on the validation split.
    pub val_loss: Option<f64>,
    pub val_accuracy: Option<f64>,
    pub val_agreement: Option<f64>,
    /// Wall-clock seconds of the epoch (the one field that differs between identical runs).
    pub seconds: f64,
}

impl EpochMetrics {
    /// What the curves (and the report) show of the epoch.
    pub fn curve_point(&self) -> CurvePoint {
        CurvePoint {
            epoch: self.epoch,
            train_loss: self.train_loss,
            train_accuracy: self.train_accuracy,
            val_loss: self.val_loss,
            val_accuracy: self.val_accuracy,
            val_agreement: self.val_agreement,
        }
    }

    /// The same metrics without the timing, for comparing runs.
    pub fn without_time(&self) -> EpochMetrics {
        EpochMetrics {
            seconds: 0.0,
            ..self.clone()
        }
    }
}

/// How a trained model does on one split (the test split, in `summary.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct SplitMetrics {
    pub samples: usize,
    pub accuracy: Option<f64>,
    /// Agreement with the teacher (or ensemble) on the same samples.
    pub agreement: Option<f64>,
    pub loss: Option<f64>,
}

impl SplitMetrics {
    /// The metrics of `logits` on `data`, and the agreement with `teacher`'s logits if given.
    pub fn of(logits: &[f32], classes: usize, data: &Dataset, teacher: Option<&[f32]>) -> Self {
        let labels = data.labels.as_deref();
        SplitMetrics {
            samples: data.len(),
            accuracy: labels.map(|l| accuracy(logits, classes, l)),
            agreement: teacher.map(|t| agreement(logits, t, classes)),
            loss: labels.map(|l| cross_entropy(logits, classes, l)),
        }
    }
}

/// Index of the largest value of each row of `logits` (`rows * classes` values).
pub fn argmax_rows(logits: &[f32], classes: usize) -> Vec<usize> {
    logits
        .chunks(classes.max(1))
        .map(|r| {
            r.iter()
                .enumerate()
                .fold((0, f32::NEG_INFINITY), |(bi, bv), (i, &v)| {
                    if v > bv { (i, v) } else { (bi, bv) }
                })
                .0
        })
        .collect()
}

/// Fraction of rows whose argmax equals the label.
pub fn accuracy(logits: &[f32], classes: usize, labels: &[u8]) -> f64 {
    let pred = argmax_rows(logits, classes);
    if pred.is_empty() {
        return 0.0;
    }
    pred.iter()
        .zip(labels)
        .filter(|(p, l)| **p == usize::from(**l))
        .count() as f64
        / pred.len() as f64
}

/// Fraction of rows where two sets of logits (or probabilities) have the same argmax.
pub fn agreement(a: &[f32], b: &[f32], classes: usize) -> f64 {
    let (pa, pb) = (argmax_rows(a, classes), argmax_rows(b, classes));
    if pa.is_empty() {
        return 0.0;
    }
    pa.iter().zip(&pb).filter(|(x, y)| x == y).count() as f64 / pa.len() as f64
}

/// Mean hard-label cross-entropy of rows of logits (f64, log-sum-exp stabilised).
pub fn cross_entropy(logits: &[f32], classes: usize, labels: &[u8]) -> f64 {
    let n = labels.len().max(1);
    logits
        .chunks(classes.max(1))
        .zip(labels)
        .map(|(r, &l)| {
            let m = r
                .iter()
                .fold(f64::NEG_INFINITY, |m, &v| m.max(f64::from(v)));
            let lse = m + r
                .iter()
                .map(|&v| (f64::from(v) - m).exp())
                .sum::<f64>()
                .ln();
            lse - f64::from(r[usize::from(l)])
        })
        .sum::<f64>()
        / n as f64
}

/// Writes all `history` as JSON lines to `path` (atomically).
pub fn write_jsonl(path: &Path, history: &[EpochMetrics]) -> Result<()> {
    let mut text = String::new();
    for m in history {
        text.push_str(&serde_json::to_string(m)?);
        text.push('\n');
    }
    Ok(files::write_atomic(path, text.as_bytes())?)
}

/// Reads `metrics.jsonl`.
pub fn read_jsonl(path: &Path) -> Result<Vec<EpochMetrics>> {
    let text = files::read_to_string(path)?;
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str(l).map_err(|e| Error::JsonLine {
                path: path.to_owned(),
                line: i + 1,
                source: e,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accuracy_agreement_and_cross_entropy() {
        let logits = [0.1f32, 2.0, -1.0, 3.0, 0.0, 0.0];
        assert_eq!(argmax_rows(&logits, 3), vec![1, 0]);
        assert_eq!(accuracy(&logits, 3, &[1, 2]), 0.5);
        assert_eq!(agreement(&logits, &[0.0, 1.0, 0.0, 0.0, 0.0, 1.0], 3), 0.5);
        let ce = cross_entropy(&[0.0, 0.0], 2, &[1]);
        assert!((ce - std::f64::consts::LN_2).abs() < 1e-12);
    }

    #[test]
    fn jsonl_round_trip() -> Result<()> {
        let dir = tempfile::tempdir().expect("tmp");
        let p = dir.path().join("metrics.jsonl");
        let m = EpochMetrics {
            epoch: 1,
            train_loss: 0.5,
            train_soft_loss: Some(0.4),
            train_hard_loss: None,
            train_accuracy: Some(0.9),
            train_agreement: None,
            val_loss: Some(0.6),
            val_accuracy: Some(0.8),
            val_agreement: None,
            seconds: 0.1,
        };
        write_jsonl(&p, &[m.clone(), m.clone()])?;
        assert_eq!(read_jsonl(&p)?, vec![m.clone(), m]);
        Ok(())
    }
}
