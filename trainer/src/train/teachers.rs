//! Teachers: finding the models a `--teacher` path names (a teacher run, a student run, or a
//! folder of `member-*` runs forming an ensemble), fingerprinting them (the key of cached
//! logits), loading them, and combining an ensemble's predictions.

use std::path::{Path, PathBuf};

use burn::tensor::Device;

use crate::data::Dataset;
use crate::error::{Error, Result};
use crate::files;
use crate::fingerprint::sha256_parts_hex;
use crate::net::backend::{self, DeviceChoice};
use crate::net::model::Model;
use crate::train::saved::{ModelFile, Role, load_model};

/// Batch size for inference (teacher logits, evaluation).
pub const EVAL_BATCH: usize = 256;

/// One model that teaches: a folder and the role its files are named after (`teacher.*`
/// from `minnow train-teacher`, or `student.*` from `minnow distill`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TeacherMember {
    pub dir: PathBuf,
    pub role: Role,
}

/// The role of a model folder that can teach: `teacher` when it holds `teacher.toml`, else
/// `student` when it holds a trained student (`student.toml` and `student.bpk`: a distilled
/// or hard-label student teaching another student, as in born-again networks or an ensemble of
/// students).
pub fn teaching_role(dir: &Path) -> Option<Role> {
    if Role::Teacher.model_file(dir).is_file() {
        Some(Role::Teacher)
    } else if Role::Student.model_file(dir).is_file() && Role::Student.record_file(dir).is_file() {
        Some(Role::Student)
    } else {
        None
    }
}

/// The members of a teacher path: the folder itself when it holds a model (a teacher run, or a
/// student run, which teaches just as well), else its `member-*` sub-folders (an ensemble), in
/// numeric order. A path to one of a model's own files (`teacher.toml`, `student.bpk`, ...)
/// means its folder; any other file is refused, naming that file.
pub fn teacher_members(path: &Path) -> Result<Vec<TeacherMember>> {
    let dir = if path.is_file() {
        model_folder_of_file(path)?
    } else {
        path.to_owned()
    };
    if let Some(role) = teaching_role(&dir) {
        return Ok(vec![TeacherMember { dir, role }]);
    }
    if !dir.is_dir() {
        return Err(Error::artifact(
            &dir,
            "teacher folder does not exist (train one with `minnow train-teacher --out DIR`)",
        ));
    }
    let entries = std::fs::read_dir(&dir).map_err(|e| files::IoError::new(&dir, e))?;
    let mut members: Vec<(usize, TeacherMember)> = entries
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let i = name.strip_prefix("member-")?.parse().ok()?;
            let role = teaching_role(&e.path())?;
            Some((
                i,
                TeacherMember {
                    dir: e.path(),
                    role,
                },
            ))
        })
        .collect();
    members.sort_by_key(|(i, _)| *i);
    if members.is_empty() {
        return Err(Error::artifact(
            &dir,
            "not a teacher: no teacher.toml (or trained student) here or in member-* folders (train one with `minnow train-teacher`)",
        ));
    }
    Ok(members.into_iter().map(|(_, m)| m).collect())
}

/// The folder of `file` when `file` is one of the files of the model saved there.
fn model_folder_of_file(file: &Path) -> Result<PathBuf> {
    let dir = match file.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_owned(),
        _ => PathBuf::from("."),
    };
    let own_file = teaching_role(&dir).is_some_and(|role| {
        file.file_name() == role.model_file(&dir).file_name()
            || file.file_name() == role.record_file(&dir).file_name()
    });
    if own_file {
        Ok(dir)
    } else {
        Err(Error::artifact(
            file,
            "is a file, not a teacher: --teacher takes the folder a `minnow train-teacher --out DIR` \
             (or `minnow distill`) run wrote, or a folder of member-* runs",
        ))
    }
}

/// The fingerprint of an ensemble: the hash of its members' fingerprints in order.
fn ensemble_fingerprint(members: &[String]) -> String {
    let parts: Vec<&[u8]> = std::iter::once(&b"minnow-ensemble-v1"[..])
        .chain(members.iter().map(|s| s.as_bytes()))
        .collect();
    sha256_parts_hex(&parts)
}

/// Hex SHA-256 identifying a teacher: its record bytes (`teacher.bpk`) and its `teacher.toml`
/// (`student.*` for a student run). For an ensemble folder, the hash of its members'
/// fingerprints in order. Used to key cached teacher logits.
pub fn teacher_fingerprint(path: &Path) -> Result<String> {
    let members = teacher_members(path)?;
    let mut fps = Vec::new();
    for m in &members {
        let record = files::read(&m.role.record_file(&m.dir))?;
        let cfg = files::read(&m.role.model_file(&m.dir))?;
        fps.push(sha256_parts_hex(&[b"minnow-teacher-v1", &record, &cfg]));
    }
    if fps.len() == 1 {
        return Ok(fps.remove(0));
    }
    Ok(ensemble_fingerprint(&fps))
}

/// Fingerprint of several teacher paths (an ensemble given as `--teacher A --teacher B`).
pub fn teachers_fingerprint(paths: &[PathBuf]) -> Result<String> {
    if paths.len() == 1 {
        return teacher_fingerprint(&paths[0]);
    }
    let fps = paths
        .iter()
        .map(|p| teacher_fingerprint(p))
        .collect::<Result<Vec<_>>>()?;
    Ok(ensemble_fingerprint(&fps))
}

/// Loads every member of the teachers at `paths`.
pub fn load_teachers(paths: &[PathBuf], device: &Device) -> Result<Vec<(Model, ModelFile)>> {
    let mut out = Vec::new();
    for p in paths {
        for m in teacher_members(p)? {
            out.push(load_model(&m.dir, m.role, device)?);
        }
    }
    Ok(out)
}

/// Each teacher's logits for the raw samples `data` (normalised with each one's own
/// normalisation).
pub fn teacher_logits(
    teachers: &[(Model, ModelFile)],
    raw: &[f32],
    device: &Device,
) -> Result<Vec<Vec<f32>>> {
    teachers
        .iter()
        .map(|(t, f)| t.predict(&f.normalization.apply_all(raw), device, EVAL_BATCH))
        .collect()
}

/// The ensemble's logits: the log of the members' average probability (at T = 1) per row,
/// whose softmax is that average, so losses and argmax both see the ensemble's prediction.
/// The average is minnow-core's [`minnow_core::distill::ensemble_soft_targets`], the same
/// code the device-side reference uses. One member's logits are returned as they are.
pub fn ensemble_logits(members: &[Vec<f32>], classes: usize) -> Result<Vec<f32>> {
    if members.len() == 1 {
        return Ok(members[0].clone());
    }
    let n = members[0].len();
    let mut out = vec![0.0f32; n];
    for (r, dst) in out.chunks_mut(classes).enumerate() {
        let rows: Vec<&[f32]> = members
            .iter()
            .map(|m| m.get(r * classes..(r + 1) * classes).unwrap_or(&[]))
            .collect();
        minnow_core::distill::ensemble_soft_targets(&rows, 1.0, dst)
            .map_err(|source| Error::TeacherLogits { sample: r, source })?;
        // A probability that underflowed to 0 gets the smallest normal float's log (-87.3),
        // not -inf.
        for p in dst.iter_mut() {
            *p = p.max(f32::MIN_POSITIVE).ln();
        }
    }
    Ok(out)
}

/// The teacher's (or ensemble's) predicted class of every sample of `data`: the argmax of the
/// members' probabilities averaged at T = 1.
pub fn teacher_predictions(
    teacher: &Path,
    data: &Dataset,
    device: DeviceChoice,
) -> Result<Vec<u8>> {
    let device = backend::device(device)?;
    let members = load_teachers(&[teacher.to_owned()], &device)?;
    let classes = data.classes.max(1);
    let logits = teacher_logits(&members, &data.features, &device)?;
    let mut probs = vec![0.0_f32; classes];
    (0..data.len())
        .map(|i| {
            let rows: Vec<&[f32]> = logits
                .iter()
                .map(|l| l.get(i * classes..(i + 1) * classes).unwrap_or(&[]))
                .collect();
            let bad = |source| Error::TeacherLogits { sample: i, source };
            minnow_core::distill::ensemble_soft_targets(&rows, 1.0, &mut probs).map_err(bad)?;
            minnow_core::softmax::argmax_f32(&probs)
                .and_then(|c| u8::try_from(c).ok())
                .ok_or_else(|| bad(minnow_core::Error::Overflow))
        })
        .collect()
}
