//! The student inside someone else's firmware: `minnow export RUN --emit c|rust DIR` and
//! `minnow emit c|rust DIR` write the exported blob (and the golden vectors) as source files a C
//! or Rust application compiles in, with its sizes as constants. The blobs are decoded here with
//! minnow-core first, so a file that the device would refuse is refused now, naming the file.
//!
//! The files in DIR are one set (`files::set`, set `emit`): they appear together or not at all,
//! and the same blobs give the same bytes (no dates, no absolute paths).

mod c;
mod facts;
mod rust;

use std::path::{Path, PathBuf};

use minnow_core::{GoldenVectors, Student};

use crate::config::Choice;
use crate::deploy::facts::{Blob, Facts, KINDS};
use crate::error::{Error, Result};
use crate::files::{self, FileSet};
use crate::fingerprint::sha256_hex;

/// The language of the emitted sources.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Language {
    C,
    Rust,
}

impl Choice for Language {
    const ALL: &'static [(Self, &'static str, &'static str)] = &[
        (
            Language::C,
            "c",
            "student.h and student.c (the blob as a const array; golden.h/.c with the golden vectors)",
        ),
        (
            Language::Rust,
            "rust",
            "mod.rs (include_bytes! of student.minnow and golden.mngv, sizes as consts)",
        ),
    ];
}

/// The file set's name in the output folder.
pub const EMIT_SET: &str = "emit";

/// What to emit.
#[derive(Debug, Clone)]
pub struct EmitRequest {
    pub language: Language,
    /// The student blob (`student.minnow`).
    pub student: PathBuf,
    /// The golden vectors (`golden.mngv`), for a self-test on the device.
    pub golden: Option<PathBuf>,
    /// The folder to write into (created if missing).
    pub out: PathBuf,
}

fn read_blob(path: &Path) -> Result<Blob> {
    let bytes = files::read(path)?;
    let name = path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let sha256 = sha256_hex(&bytes);
    Ok(Blob {
        bytes,
        name,
        sha256,
    })
}

fn unreadable(path: &Path, what: &'static str, e: minnow_core::Error) -> Error {
    Error::Unreadable {
        path: path.to_owned(),
        what,
        source: Box::new(e),
    }
}

/// Decodes the blobs as the device will, and gathers what the constants say.
fn facts(req: &EmitRequest, student: &Blob, golden: Option<&Blob>) -> Result<Facts> {
    let s = Student::decode(&student.bytes)
        .map_err(|e| unreadable(&req.student, "not a student minnow can run", e))?;
    let mut bits = 0;
    for layer in s.layers() {
        bits |= layer
            .map_err(|e| unreadable(&req.student, "a layer", e))?
            .op();
    }
    let golden_count = match (golden, &req.golden) {
        (Some(g), Some(path)) => {
            let v = GoldenVectors::decode(&g.bytes)
                .map_err(|e| unreadable(path, "not golden vectors minnow can read", e))?;
            if v.input_len as usize != s.input_len() || usize::from(v.classes) != s.classes() {
                return Err(Error::Artifact {
                    path: path.clone(),
                    problem: format!(
                        "golden vectors of {} inputs and {} classes, but the student {} takes {} \
                         and has {} classes",
                        v.input_len,
                        v.classes,
                        req.student.display(),
                        s.input_len(),
                        s.classes()
                    ),
                });
            }
            Some(v.len())
        }
        _ => None,
    };
    let meta = s.meta();
    let kinds = KINDS.iter().filter(|(bit, _, _)| bits & bit != 0);
    Ok(Facts {
        name: meta.name.to_owned(),
        input_shape: [
            meta.input_shape.height,
            meta.input_shape.width,
            meta.input_shape.channels,
        ],
        input_len: s.input_len(),
        classes: s.classes(),
        scratch_len: s.scratch_len(),
        macs: s.footprint().macs,
        weight_bytes: s.footprint().weight_bytes,
        ops: bits,
        features: kinds.clone().map(|k| k.2).collect(),
        op_names: kinds.map(|k| k.1).collect(),
        norm_pairs: meta.normalization.pairs(),
        input_scale: meta.input.scale,
        input_zero_point: meta.input.zero_point,
        golden_count,
    })
}

/// Writes the sources for `req` into `req.out` as one file set; returns the files' names.
pub fn emit(req: &EmitRequest) -> Result<Vec<String>> {
    let student = read_blob(&req.student)?;
    let golden = req.golden.as_deref().map(read_blob).transpose()?;
    let facts = facts(req, &student, golden.as_ref())?;
    let sources = match req.language {
        Language::C => c::sources(&facts, &student, golden.as_ref()),
        Language::Rust => rust::sources(&facts, &student, golden.as_ref()),
    };
    let _lock = files::lock(&req.out)?;
    let set = FileSet::begin(&req.out, EMIT_SET)?;
    for (name, bytes) in &sources {
        set.write(name, bytes)?;
    }
    set.commit()?;
    Ok(sources.into_iter().map(|(name, _)| name).collect())
}

#[cfg(test)]
mod tests;
