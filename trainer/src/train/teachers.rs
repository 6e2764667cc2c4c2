//! Teachers: finding the models a `--teacher` path names (a teacher run, a student run, a
//! folder of `member-*` runs forming an ensemble, or an ONNX file), fingerprinting them (the key
//! of cached logits), loading them, and combining an ensemble's predictions.

use std::path::{Path, PathBuf};

use burn::tensor::Device;

use crate::data::Dataset;
use crate::error::{Error, Result};
use crate::files;
use crate::fingerprint::{sha256_hex, sha256_parts_hex};
use crate::net::backend::{self, DeviceChoice};
use crate::net::model::Model;
use crate::train::onnx::settings::OnnxSettings;
use crate::train::onnx::teacher::OnnxTeacher;
use crate::train::saved::{ModelFile, Role, load_model};

/// Batch size for inference (teacher logits, evaluation).
pub const EVAL_BATCH: usize = 256;

/// One model that teaches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TeacherMember {
    /// A minnow run folder and the role its files are named after (`teacher.*` from `minnow
    /// train-teacher`, or `student.*` from `minnow distill`).
    Run { dir: PathBuf, role: Role },
    /// A network trained elsewhere, exported to ONNX.
    Onnx { file: PathBuf },
}

/// A loaded teacher.
#[derive(Debug)]
pub enum Teacher {
    /// A model minnow trained: it normalises the raw samples with its own statistics.
    Run { model: Model, file: ModelFile },
    /// An ONNX model: it sees the raw samples through its [`OnnxSettings`].
    Onnx(OnnxTeacher),
}

impl Teacher {
    /// The teacher's logits for the raw samples `raw` (`classes` per sample).
    pub fn logits(&self, raw: &[f32], device: &Device) -> Result<Vec<f32>> {
        match self {
            Teacher::Run { model, file } => {
                model.predict(&file.normalization.apply_all(raw), device, EVAL_BATCH)
            }
            Teacher::Onnx(t) => Ok(t.logits(raw)?),
        }
    }
}

/// Whether `path` names an ONNX file (by its extension, as every exporter writes it).
pub fn is_onnx(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("onnx"))
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

/// The members of a teacher path: an ONNX file (`*.onnx`) itself; the folder itself when it
/// holds a model (a teacher run, or a student run, which teaches just as well); else its
/// `member-*` sub-folders and `member-*.onnx` files (an ensemble), in numeric order. A path to
/// one of a model's own files (`teacher.toml`, `student.bpk`, ...) means its folder; any other
/// file is refused, naming that file.
pub fn teacher_members(path: &Path) -> Result<Vec<TeacherMember>> {
    if is_onnx(path) && !path.is_dir() {
        // A missing file is reported when it is read, as the file it is.
        return Ok(vec![TeacherMember::Onnx {
            file: path.to_owned(),
        }]);
    }
    let dir = if path.is_file() {
        model_folder_of_file(path)?
    } else {
        path.to_owned()
    };
    if let Some(role) = teaching_role(&dir) {
        return Ok(vec![TeacherMember::Run { dir, role }]);
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
            let rest = name.strip_prefix("member-")?;
            if let Some(i) = rest.strip_suffix(".onnx") {
                let file = e.path();
                return Some((i.parse().ok()?, TeacherMember::Onnx { file }));
            }
            let role = teaching_role(&e.path())?;
            Some((
                rest.parse().ok()?,
                TeacherMember::Run {
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
            "not a teacher: no teacher.toml (or trained student) here or in member-* folders, and no member-*.onnx files (train one with `minnow train-teacher`, or give an ONNX file)",
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
            "is a file, not a teacher: --teacher takes an ONNX file (*.onnx), the folder a \
             `minnow train-teacher --out DIR` (or `minnow distill`) run wrote, or a folder of member-* runs",
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

/// Hex SHA-256 identifying one member: a run's record bytes (`teacher.bpk`) and its
/// `teacher.toml` (`student.*` for a student run); an ONNX file's SHA-256 and the settings it
/// runs with (another scale shows it other inputs, so its logits differ).
fn member_fingerprint(member: &TeacherMember, onnx: &OnnxSettings) -> Result<String> {
    Ok(match member {
        TeacherMember::Run { dir, role } => {
            let record = files::read(&role.record_file(dir))?;
            let cfg = files::read(&role.model_file(dir))?;
            sha256_parts_hex(&[b"minnow-teacher-v1", &record, &cfg])
        }
        TeacherMember::Onnx { file } => {
            let sha = sha256_hex(&files::read(file)?);
            sha256_parts_hex(&[
                b"minnow-onnx-teacher-v1",
                sha.as_bytes(),
                onnx.describe().as_bytes(),
            ])
        }
    })
}

/// Hex SHA-256 identifying a teacher path (see [`member_fingerprint`]); for an ensemble
/// folder, the hash of its members' fingerprints in order. Used to key cached teacher logits
/// and to notice, on resume, a teacher that changed.
pub fn teacher_fingerprint(path: &Path, onnx: &OnnxSettings) -> Result<String> {
    let mut fps = teacher_members(path)?
        .iter()
        .map(|m| member_fingerprint(m, onnx))
        .collect::<Result<Vec<_>>>()?;
    if fps.len() == 1 {
        return Ok(fps.remove(0));
    }
    Ok(ensemble_fingerprint(&fps))
}

/// Fingerprint of several teacher paths (an ensemble given as `--teacher A --teacher B`).
pub fn teachers_fingerprint(paths: &[PathBuf], onnx: &OnnxSettings) -> Result<String> {
    if paths.len() == 1 {
        return teacher_fingerprint(&paths[0], onnx);
    }
    let fps = paths
        .iter()
        .map(|p| teacher_fingerprint(p, onnx))
        .collect::<Result<Vec<_>>>()?;
    Ok(ensemble_fingerprint(&fps))
}

/// What the teachers at `paths` are, for a cache's provenance: each ONNX file with its
/// SHA-256, and the settings they run with when there is one.
pub fn teachers_description(paths: &[PathBuf], onnx: &OnnxSettings) -> Result<String> {
    let mut parts = Vec::new();
    let mut any_onnx = false;
    for p in paths {
        for m in teacher_members(p)? {
            parts.push(match m {
                TeacherMember::Run { dir, .. } => dir.display().to_string(),
                TeacherMember::Onnx { file } => {
                    any_onnx = true;
                    let sha = sha256_hex(&files::read(&file)?);
                    format!("{} (sha256 {sha})", file.display())
                }
            });
        }
    }
    if any_onnx {
        parts.push(onnx.describe());
    }
    Ok(parts.join(", "))
}

/// What the data a teacher must fit looks like: the sample shape and class count (0: any).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TeacherData {
    pub shape: [usize; 3],
    pub classes: usize,
}

impl TeacherData {
    pub fn of(data: &Dataset) -> TeacherData {
        TeacherData {
            shape: data.shape,
            classes: data.classes,
        }
    }
}

/// Loads every member of the teachers at `paths`; ONNX members are checked against `data`
/// and run with `onnx`.
pub fn load_teachers(
    paths: &[PathBuf],
    onnx: &OnnxSettings,
    data: TeacherData,
    device: &Device,
) -> Result<Vec<Teacher>> {
    let mut out = Vec::new();
    for p in paths {
        for m in teacher_members(p)? {
            out.push(match m {
                TeacherMember::Run { dir, role } => {
                    let (model, file) = load_model(&dir, role, device)?;
                    Teacher::Run { model, file }
                }
                TeacherMember::Onnx { file } => {
                    Teacher::Onnx(OnnxTeacher::load(&file, *onnx, data.shape, data.classes)?)
                }
            });
        }
    }
    Ok(out)
}

/// Each teacher's logits for the raw samples `raw`.
pub fn teacher_logits(teachers: &[Teacher], raw: &[f32], device: &Device) -> Result<Vec<Vec<f32>>> {
    teachers.iter().map(|t| t.logits(raw, device)).collect()
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
    teachers: &[PathBuf],
    onnx: &OnnxSettings,
    data: &Dataset,
    device: DeviceChoice,
) -> Result<Vec<u8>> {
    let device = backend::device(device)?;
    let members = load_teachers(teachers, onnx, TeacherData::of(data), &device)?;
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
