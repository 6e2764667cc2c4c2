//! What the report tells of a run besides its numbers: the teacher's and the student's
//! training curves (their `metrics.jsonl`) and the settings that reproduce it (their
//! `config.toml`, and the export's flags). Read from the run folders at export time, so
//! report.json carries them and `minnow verify` can draw report.html again from it alone.

use std::path::{Path, PathBuf};

use crate::error::Result;
use crate::files;
use crate::int8::export::ExportConfig;
use crate::int8::report::{History, SettingsReport, TrainingReport};
use crate::plot::curves::CurvePoint;
use crate::train::metrics::{EpochMetrics, read_jsonl};

/// The curves in `dir/metrics.jsonl`; none when the folder has no such file.
fn curves(dir: &Path) -> Result<Vec<CurvePoint>> {
    let path = dir.join("metrics.jsonl");
    if !path.is_file() {
        return Ok(Vec::new());
    }
    Ok(read_jsonl(&path)?
        .iter()
        .map(EpochMetrics::curve_point)
        .collect())
}

/// `dir/config.toml`, when there is one.
fn settings_file(dir: &Path) -> Result<Option<String>> {
    let path = dir.join("config.toml");
    if !path.is_file() {
        return Ok(None);
    }
    Ok(Some(files::read_to_string(&path)?))
}

/// The teacher folder a student learned from: the one given to the export, else the one its
/// settings name; `None` for an ensemble or a student trained on labels alone.
fn teacher_dir(given: Option<&Path>, student_settings: Option<&str>) -> Option<PathBuf> {
    if let Some(dir) = given {
        return Some(dir.to_owned());
    }
    let table: toml::Table = student_settings?.parse().ok()?;
    match table.get("teacher")?.as_array()?.as_slice() {
        [one] => one.as_str().map(PathBuf::from),
        _ => None,
    }
}

/// The history of the student in `run_dir`, taught by `teacher` (when known), exported with
/// `export`.
pub fn run_history(
    run_dir: &Path,
    teacher: Option<&Path>,
    export: &ExportConfig,
) -> Result<History> {
    let student = settings_file(run_dir)?;
    let teacher = teacher_dir(teacher, student.as_deref());
    // A teacher folder holding an ensemble (member-*) has no curves or settings of its own.
    let (teacher_curves, teacher_settings) = match &teacher {
        Some(dir) => (curves(dir)?, settings_file(dir)?),
        None => (Vec::new(), None),
    };
    Ok(History {
        training: TrainingReport {
            teacher: teacher_curves,
            student: curves(run_dir)?,
        },
        settings: SettingsReport {
            teacher: teacher_settings,
            student,
            export: export.flags(),
        },
    })
}
