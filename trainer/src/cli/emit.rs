//! The flags of `minnow emit` and of `minnow export --emit`: the student as C or Rust sources.

use std::path::{Path, PathBuf};

use clap::Args;

use crate::cli::choice::choice;
use crate::config::Choice;
use crate::deploy::{EmitRequest, Language};
use crate::error::{Error, Result};
use crate::int8::export_set::{GOLDEN_FILE, STUDENT_FILE};

/// `minnow emit LANG DIR [RUN_DIR | --student F [--golden G]]`.
#[derive(Debug, Clone, Args)]
pub struct EmitArgs {
    /// The language of the sources.
    #[arg(value_parser = choice::<Language>())]
    pub language: Language,
    /// The folder to write them into (created if missing; for Rust, a module folder such as
    /// src/student).
    pub out: PathBuf,
    /// An exported run folder (student.minnow, and golden.mngv when it has one).
    #[arg(required_unless_present = "student", conflicts_with = "student")]
    pub run_dir: Option<PathBuf>,
    /// A student file instead of a run folder's.
    #[arg(long, value_name = "FILE")]
    pub student: Option<PathBuf>,
    /// Golden vectors to embed with --student (for a self-test on the device).
    #[arg(long, value_name = "FILE", requires = "student")]
    pub golden: Option<PathBuf>,
}

impl EmitArgs {
    /// What to emit.
    pub fn request(&self) -> Result<EmitRequest> {
        match (&self.run_dir, &self.student) {
            (Some(run), None) => Ok(run_request(self.language, run, &self.out)),
            (None, Some(student)) => Ok(EmitRequest {
                language: self.language,
                student: student.clone(),
                golden: self.golden.clone(),
                out: self.out.clone(),
            }),
            _ => Err(Error::Usage(
                "emit: give a run folder, or --student FILE [--golden FILE]".into(),
            )),
        }
    }
}

/// The sources of a run folder's export: its student, and its golden vectors when present.
pub fn run_request(language: Language, run: &Path, out: &Path) -> EmitRequest {
    let golden = run.join(GOLDEN_FILE);
    EmitRequest {
        language,
        student: run.join(STUDENT_FILE),
        golden: golden.exists().then_some(golden),
        out: out.to_owned(),
    }
}

/// `--emit LANG DIR` of `minnow export`, checked.
pub fn parse_emit(values: &[String]) -> Result<Option<(Language, PathBuf)>> {
    match values {
        [] => Ok(None),
        [lang, dir] => Language::parse(lang)
            .map(|l| Some((l, PathBuf::from(dir))))
            .map_err(|e| Error::Usage(format!("--emit {lang} {dir}: {e}"))),
        _ => Err(Error::Usage(
            "--emit takes a language and a folder: --emit c DIR".into(),
        )),
    }
}
