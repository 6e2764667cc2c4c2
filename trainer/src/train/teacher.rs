//! `minnow train-teacher`: a teacher (or `members` teachers forming an ensemble) trained on
//! hard labels. An ensemble's members live in `out/member-<i>` and differ only in their seed.

use std::path::PathBuf;

use crate::config::Settings;
use crate::error::Result;
use crate::files;
use crate::net::spec::NetSpec;
use crate::net::{backend, memory};
use crate::percent::pct_or;
use crate::train::batch::check_jitter;
use crate::train::checkpoint::RunProvenance;
use crate::train::config::TeacherConfig;
use crate::train::metrics::SplitMetrics;
use crate::train::normalize::fit_normalization;
use crate::train::progress;
use crate::train::run_loop::{Job, Objective, Targets, run_loop};
use crate::train::saved::{
    ModelFile, Role, Summary, Trained, TrainedFiles, save_trained, write_run_files,
};
use crate::train::teachers::EVAL_BATCH;

/// The result of [`train_teacher`]: one member, or several forming an ensemble.
#[derive(Debug, Clone)]
pub struct TeacherArtifacts {
    pub dir: PathBuf,
    pub members: Vec<Trained>,
}

/// Trains a teacher (or `members` teachers forming an ensemble) on hard labels.
pub fn train_teacher(cfg: &TeacherConfig) -> Result<TeacherArtifacts> {
    train_teacher_run(cfg, false)
}

/// [`train_teacher`], continuing from the members' checkpoints when `resume`.
pub(crate) fn train_teacher_run(cfg: &TeacherConfig, resume: bool) -> Result<TeacherArtifacts> {
    let cfg = cfg.absolute()?;
    cfg.check()?;
    // One writer per run folder, for the whole run (its members' folders are inside it).
    let _lock = files::lock(&cfg.out)?;
    let p = cfg.data.prepare()?;
    let norm = fit_normalization(&p.train, cfg.data.normalization, cfg.train.quiet)?;
    let spec = NetSpec::build(&cfg.net, p.train.shape, p.train.classes)?;
    let jitter = cfg.train.jitter_for(p.train.shape);
    check_jitter(jitter, p.train.shape)?;
    memory::check_fits(&spec, cfg.train.batch_size)?;
    write_run_files(&cfg.out, Role::Teacher, &cfg)?;
    let provenance = RunProvenance {
        data: p.train.fingerprint(),
        teachers: None,
        settings: RunProvenance::settings_of(&cfg)?,
    };
    let mut members = Vec::new();
    for k in 0..cfg.members {
        let (dir, title) = if cfg.members == 1 {
            (cfg.out.clone(), "teacher".to_owned())
        } else {
            (
                cfg.out.join(format!("member-{k}")),
                format!("teacher {}/{}", k + 1, cfg.members),
            )
        };
        files::create_dir_all(&dir)?;
        let mut lc = cfg.train.clone();
        lc.seed = cfg.train.seed.wrapping_add(k as u64);
        if jitter > 0 && k == 0 {
            progress::log(
                cfg.train.quiet,
                &format!("{title}: inputs jittered by up to {jitter} pixel(s)"),
            );
        }
        if lc.noise > 0.0 && k == 0 {
            progress::log(
                cfg.train.quiet,
                &format!(
                    "{title}: Gaussian input noise of {} standard deviations per feature",
                    lc.noise
                ),
            );
        }
        let done = run_loop(Job {
            role: Role::Teacher,
            title: title.clone(),
            dir: &dir,
            spec: spec.clone(),
            lc,
            train: &p.train,
            val: &p.val,
            norm: norm.clone(),
            targets: Targets::None,
            val_teacher: None,
            objective: Objective::HARD_LABELS,
            resume,
            init: None,
            qat: None,
            provenance: provenance.clone(),
        })?;
        let base = backend::device(cfg.train.device)?;
        let test_logits =
            done.model
                .predict(&norm.apply_all(&p.test.features), &base, EVAL_BATCH)?;
        let test = SplitMetrics::of(&test_logits, spec.classes, &p.test, None);
        let file = ModelFile::new(Role::Teacher, spec.clone(), norm.clone(), 1.0, &cfg.data);
        let summary = Summary::new(
            Role::Teacher,
            &test,
            &done.history,
            done.seconds_per_epoch,
            spec.parameter_count(),
        );
        save_trained(
            &dir,
            &TrainedFiles {
                model: &done.model,
                file: &file,
                summary: &summary,
                history: &done.history,
                title: &title,
                extra: &[],
                quiet: cfg.train.quiet,
            },
        )?;
        progress::log(
            cfg.train.quiet,
            &format!(
                "teacher saved to {}: test accuracy {}",
                dir.display(),
                pct_or(test.accuracy, "-")
            ),
        );
        members.push(Trained {
            dir,
            model: done.model,
            normalization: norm.clone(),
            history: done.history,
            test,
            seconds_per_epoch: done.seconds_per_epoch,
        });
    }
    Ok(TeacherArtifacts {
        dir: cfg.out.clone(),
        members,
    })
}
