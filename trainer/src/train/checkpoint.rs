//! `checkpoint.bin`: after every epoch, the weights, Adam's state, the epoch and the metrics so
//! far, written atomically (a killed run leaves the previous checkpoint), so that `minnow
//! resume` ends with the same weights as an uninterrupted run.
//!
//! A checkpoint is sealed with the SHA-256 of its contents (a flipped byte is refused, not
//! resumed from) and carries what the run trains on: the data's fingerprint, the teachers', and
//! the settings that define the run. `minnow resume` refuses a checkpoint whose run differs from
//! the folder's now (a different teacher trained into the same folder, other data, other
//! settings) and says what changed. Raising `epochs` to train on is allowed.
//!
//! Layout: `MNCK` (4 bytes), the format version (u32 LE), the SHA-256 of the body (32 bytes),
//! the body (postcard).

use std::path::Path;

use burn::optim::{ModuleOptimizer, OptimizerRecord};
use burn::tensor::Device;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::files;
use crate::net::model::Model;
use crate::net::spec::NetSpec;
use crate::train::metrics::EpochMetrics;

/// The checkpoint's file name in a run folder.
pub const CHECKPOINT: &str = "checkpoint.bin";
const MAGIC: &[u8; 4] = b"MNCK";
const CHECKPOINT_FORMAT: u32 = 2;
const HEADER_LEN: usize = 4 + 4 + 32;

/// What a run trains on and with: a checkpoint only continues the same run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunProvenance {
    /// The training (transfer) set's fingerprint.
    pub data: String,
    /// The teachers' fingerprint (or a logit cache's); `None` for hard labels.
    pub teachers: Option<String>,
    /// The run's settings as `key = value` lines, without the ones a resume may change
    /// (`epochs`, `quiet`, `out`).
    pub settings: Vec<String>,
}

impl RunProvenance {
    /// The settings lines of `cfg` (a run's config), without the keys a resume may change.
    pub fn settings_of<T: Serialize>(cfg: &T) -> Result<Vec<String>> {
        let table = toml::Table::try_from(cfg).map_err(crate::config::SettingsError::from)?;
        Ok(table
            .iter()
            .filter(|(k, _)| !matches!(k.as_str(), "epochs" | "quiet" | "out"))
            .map(|(k, v)| format!("{k} = {v}"))
            .collect())
    }

    /// What differs between the run a checkpoint was made by (`self`) and the run now.
    fn differences(&self, now: &RunProvenance) -> Vec<String> {
        let mut out = Vec::new();
        if self.data != now.data {
            out.push(format!(
                "the training data changed (fingerprint {} then, {} now)",
                short(&self.data),
                short(&now.data)
            ));
        }
        if self.teachers != now.teachers {
            let show = |t: &Option<String>| t.as_deref().map_or("none".to_owned(), short);
            out.push(format!(
                "the teacher changed (fingerprint {} then, {} now)",
                show(&self.teachers),
                show(&now.teachers)
            ));
        }
        let then: Vec<&String> = self
            .settings
            .iter()
            .filter(|s| !now.settings.contains(s))
            .collect();
        let changed: Vec<&String> = now
            .settings
            .iter()
            .filter(|s| !self.settings.contains(s))
            .collect();
        if !then.is_empty() || !changed.is_empty() {
            let join =
                |v: Vec<&String>| v.iter().map(|s| s.as_str()).collect::<Vec<_>>().join("; ");
            out.push(format!(
                "the settings changed ({} then; {} now)",
                join(then),
                join(changed)
            ));
        }
        out
    }
}

fn short(fingerprint: &str) -> String {
    fingerprint.chars().take(12).collect()
}

#[derive(Debug, Serialize, Deserialize)]
struct Checkpoint {
    /// Epochs completed.
    epoch: usize,
    spec_json: String,
    history_json: String,
    model: Vec<u8>,
    optimizer: Vec<u8>,
    provenance: RunProvenance,
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
    provenance: &RunProvenance,
) -> Result<()> {
    let ck = Checkpoint {
        epoch: history.len(),
        spec_json: serde_json::to_string(&model.spec)?,
        history_json: serde_json::to_string(history)?,
        model: model.record_bytes()?,
        optimizer: optimizer.to_record().into_bytes()?.to_vec(),
        provenance: provenance.clone(),
    };
    let body = postcard::to_allocvec(&ck)
        .map_err(|e| Error::unreadable(path, "cannot encode the checkpoint", e))?;
    let mut bytes = Vec::with_capacity(HEADER_LEN + body.len());
    bytes.extend_from_slice(MAGIC);
    bytes.extend_from_slice(&CHECKPOINT_FORMAT.to_le_bytes());
    bytes.extend_from_slice(&Sha256::digest(&body));
    bytes.extend_from_slice(&body);
    Ok(files::write_atomic(path, &bytes)?)
}

/// The body of a sealed checkpoint file, checked.
fn unseal<'b>(path: &Path, bytes: &'b [u8]) -> Result<&'b [u8]> {
    let Some((header, body)) = bytes.split_at_checked(HEADER_LEN) else {
        return Err(Error::artifact(path, "not a minnow checkpoint (too short)"));
    };
    if &header[..4] != MAGIC {
        return Err(Error::artifact(
            path,
            "not a minnow checkpoint, or one of format 1 written before checkpoints were sealed: \
             train again",
        ));
    }
    let mut version = [0u8; 4];
    version.copy_from_slice(&header[4..8]);
    let version = u32::from_le_bytes(version);
    if version != CHECKPOINT_FORMAT {
        return Err(Error::artifact(
            path,
            format!("checkpoint format {version} is not {CHECKPOINT_FORMAT}"),
        ));
    }
    if Sha256::digest(body).as_slice() != &header[8..] {
        return Err(Error::artifact(
            path,
            "corrupt: its checksum does not match its contents (a damaged file); train again",
        ));
    }
    Ok(body)
}

/// Restores a run of network `spec` from `path` onto `device`, with `optimizer` (a fresh one of
/// the run's settings) taking the saved state; refuses a checkpoint of another run than `now`.
pub fn restore(
    path: &Path,
    spec: &NetSpec,
    now: &RunProvenance,
    optimizer: ModuleOptimizer,
    device: &Device,
) -> Result<Restored> {
    let bytes = files::read(path)?;
    let ck: Checkpoint = postcard::from_bytes(unseal(path, &bytes)?)
        .map_err(|e| Error::unreadable(path, "not a minnow checkpoint", e))?;
    let changed = ck.provenance.differences(now);
    if !changed.is_empty() {
        return Err(Error::artifact(
            path,
            format!(
                "made by another run than this folder's now: {}; train into a new folder, or put \
                 back what changed",
                changed.join("; ")
            ),
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

#[cfg(test)]
mod tests {
    use super::*;

    fn provenance(data: &str, teachers: Option<&str>, settings: &[&str]) -> RunProvenance {
        RunProvenance {
            data: data.into(),
            teachers: teachers.map(Into::into),
            settings: settings.iter().map(|s| (*s).to_owned()).collect(),
        }
    }

    #[test]
    fn differences_say_what_changed() {
        let then = provenance("aaaa", Some("t1"), &["seed = 0", "temperature = 4.0"]);
        assert!(then.differences(&then).is_empty());
        let now = provenance("aaaa", Some("t2"), &["seed = 0", "temperature = 2.0"]);
        let d = then.differences(&now).join("; ");
        assert!(d.contains("teacher changed"), "{d}");
        assert!(
            d.contains("temperature = 4.0 then") && d.contains("temperature = 2.0 now"),
            "{d}"
        );
        assert!(!d.contains("data"), "{d}");
    }

    #[test]
    fn a_flipped_byte_is_refused() {
        let body = b"some checkpoint body".to_vec();
        let mut bytes = MAGIC.to_vec();
        bytes.extend_from_slice(&CHECKPOINT_FORMAT.to_le_bytes());
        bytes.extend_from_slice(&Sha256::digest(&body));
        bytes.extend_from_slice(&body);
        let path = Path::new("checkpoint.bin");
        assert_eq!(unseal(path, &bytes).expect("sealed"), body.as_slice());
        let mid = HEADER_LEN + body.len() / 2;
        bytes[mid] ^= 0x01;
        let e = unseal(path, &bytes).expect_err("flipped").to_string();
        assert!(
            e.contains("checkpoint.bin") && e.contains("checksum"),
            "{e}"
        );
        assert!(unseal(path, b"garbage").is_err());
    }
}
