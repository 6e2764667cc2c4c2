//! `minnow resume DIR`: continues a killed `train-teacher` or `distill` run from its folder's
//! `config.toml` and `checkpoint.bin`, ending with the weights an uninterrupted run would have.

use std::path::Path;

use crate::config;
use crate::error::Result;
use crate::train::config::{DistillConfig, TeacherConfig};
use crate::train::distill::{StudentArtifacts, distill_run};
use crate::train::saved::{Role, read_run_kind};
use crate::train::teacher::{TeacherArtifacts, train_teacher_run};

/// What [`resume`] continued.
#[derive(Debug, Clone)]
pub enum Resumed {
    Teacher(TeacherArtifacts),
    Student(Box<StudentArtifacts>),
}

/// Continues the run in `dir`. `quiet` overrides the saved setting.
pub fn resume(dir: &Path, quiet: Option<bool>) -> Result<Resumed> {
    let cfg_path = dir.join("config.toml");
    match read_run_kind(dir)? {
        Role::Teacher => {
            let mut cfg: TeacherConfig = config::load_toml(&cfg_path)?;
            cfg.out = dir.to_owned();
            if let Some(q) = quiet {
                cfg.train.quiet = q;
            }
            train_teacher_run(&cfg, true).map(Resumed::Teacher)
        }
        Role::Student => {
            let mut cfg: DistillConfig = config::load_toml(&cfg_path)?;
            cfg.out = dir.to_owned();
            if let Some(q) = quiet {
                cfg.train.quiet = q;
            }
            distill_run(&cfg, true).map(|s| Resumed::Student(Box::new(s)))
        }
    }
}
