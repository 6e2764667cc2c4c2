//! `checkpoint.bin`: after every epoch, the weights, Adam's state, the epoch and the metrics so
//! far, written atomically (a killed run leaves the previous checkpoint), so that `minnow
//! resume` ends with the same weights as an uninterrupted run.

use std::path::Path;

use burn::optim::{ModuleOptimizer, OptimizerRecord};
use burn::tensor::Device;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::files;
use crate::net::model::Model;
use crate::net::spec::NetSpec;
use crate::train::metrics::EpochMetrics;

/// The checkpoint's file name in a run folder.
pub const CHECKPOINT: &str = "checkpoint.bin";
const CHECKPOINT_FORMAT: u32 = 1;

#[derive(Debug, Serialize, Deserialize)]
struct Checkpoint {
    format: u32,
    /// Epochs completed.
    epoch: usize,
    spec_json: String,
    history_json: String,
    model: Vec<u8>,
    optimizer: Vec<u8>,
}

/// A run restored from its checkpoint.
pub struct Restored {
    pub model: Model,
    pub optimizer: ModuleOptimizer,
    pub history: Vec<EpochMetrics>,
}

impl std::fmt::Debug for Restored {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // burn's optimizer has no Debug.
        f.debug_struct("Restored")
            .field("model", &self.model)
            .field("epochs", &self.history.len())
            .finish_non_exhaustive()
    }
}

/// Writes the checkpoint of a run after `history.len()` epochs.
pub fn save(
    path: &Path,
    model: &Model,
    optimizer: &ModuleOptimizer,
    history: &[EpochMetrics],
) -> Result<()> {
    let ck = Checkpoint {
        format: CHECKPOINT_FORMAT,
        epoch: history.len(),
        spec_json: serde_json::to_string(&model.spec)?,
        history_json: serde_json::to_string(history)?,
        model: model.record_bytes()?,
        optimizer: optimizer.to_record().into_bytes()?.to_vec(),
    };
    let bytes = postcard::to_allocvec(&ck)
        .map_err(|e| Error::unreadable(path, "cannot encode the checkpoint", e))?;
    Ok(files::write_atomic(path, &bytes)?)
}

/// Restores a run of network `spec` from `path` onto `device`, with `optimizer` (a fresh one of
/// the run's settings) taking the saved state.
pub fn restore(
    path: &Path,
    spec: &NetSpec,
    optimizer: ModuleOptimizer,
    device: &Device,
) -> Result<Restored> {
    let bytes = files::read(path)?;
    let ck: Checkpoint = postcard::from_bytes(&bytes)
        .map_err(|e| Error::unreadable(path, "not a minnow checkpoint", e))?;
    if ck.format != CHECKPOINT_FORMAT {
        return Err(Error::artifact(
            path,
            format!("checkpoint format {} is not {CHECKPOINT_FORMAT}", ck.format),
        ));
    }
    let saved: NetSpec = serde_json::from_str(&ck.spec_json)
        .map_err(|e| Error::unreadable(path, "the checkpoint's network", e))?;
    if &saved != spec {
        return Err(Error::artifact(
            path,
            "the checkpoint's network differs from the run's config.toml",
        ));
    }
    let model = Model::from_record_bytes(saved, &ck.model, device)
        .map_err(|e| Error::unreadable(path, "the checkpoint's weights", e))?;
    let record = OptimizerRecord::from_bytes(burn::tensor::Bytes::from_bytes_vec(ck.optimizer))
        .map_err(|e| Error::unreadable(path, "the checkpoint's optimizer state", e))?;
    let history: Vec<EpochMetrics> = serde_json::from_str(&ck.history_json)
        .map_err(|e| Error::unreadable(path, "the checkpoint's metrics", e))?;
    if history.len() != ck.epoch {
        return Err(Error::artifact(
            path,
            "checkpoint metrics do not match its epoch",
        ));
    }
    Ok(Restored {
        model,
        optimizer: optimizer.load_record(record),
        history,
    })
}
