//! Where a distillation's soft targets come from: nowhere (hard labels), teacher logits
//! computed once before training (from the live teachers or a logit cache), or the teachers
//! run live on every batch (input augmentation changes what they see, so nothing can be
//! computed ahead).

use std::path::Path;

use burn::tensor::Device;

use crate::data::Dataset;
use crate::error::{Error, Result};
use crate::train::cache::{LogitCache, LogitDtype, Provenance, write_cache};
use crate::train::config::DistillConfig;
use crate::train::progress;
use crate::train::run_loop::Targets;
use crate::train::teachers::{Teacher, teacher_logits, teachers_description, teachers_fingerprint};

/// The targets of a distillation onto `transfer` with the loaded `teachers`.
pub fn targets<'t>(
    cfg: &DistillConfig,
    transfer: &Dataset,
    classes: usize,
    teachers: &'t [Teacher],
    device: &Device,
) -> Result<Targets<'t>> {
    let quiet = cfg.train.quiet;
    if !cfg.uses_teacher() {
        return Ok(Targets::None);
    }
    let (jitter, noise) = (cfg.train.jitter_for(transfer.shape), cfg.train.noise);
    let augmentation = match (jitter > 0, noise > 0.0) {
        (true, true) => format!("input jitter ({jitter} px) and noise ({noise})"),
        (true, false) => format!("input jitter ({jitter} px)"),
        (false, true) => format!("input noise ({noise})"),
        (false, false) => String::new(),
    };
    if let Some(cache_path) = &cfg.teacher_logits {
        if cfg.train.augments(transfer.shape) {
            return Err(Error::Config(format!(
                "{}: cached teacher logits cannot be used with {augmentation}: augmentation changes the teacher's inputs, so the teacher must run live (drop --teacher-logits)",
                cache_path.display(),
            )));
        }
        return cached(cfg, cache_path, transfer, classes, teachers, device);
    }
    if cfg.train.augments(transfer.shape) {
        progress::log(
            quiet,
            &format!(
                "teacher runs live on every batch: {augmentation} changes its inputs, so its logits cannot be precomputed"
            ),
        );
        return Ok(Targets::Live(teachers));
    }
    Ok(Targets::Precomputed(teacher_logits(
        teachers,
        &transfer.features,
        device,
    )?))
}

/// Targets from the logit cache at `cache_path`: read when it exists (and matches this data
/// and teacher), else computed from the one teacher and written.
fn cached<'t>(
    cfg: &DistillConfig,
    cache_path: &Path,
    transfer: &Dataset,
    classes: usize,
    teachers: &'t [Teacher],
    device: &Device,
) -> Result<Targets<'t>> {
    let teacher_fp = if cfg.teacher.is_empty() {
        None
    } else {
        Some(teachers_fingerprint(&cfg.teacher, &cfg.onnx)?)
    };
    let data_fp = transfer.fingerprint();
    if cache_path.is_file() {
        let cache = LogitCache::open(cache_path, &data_fp, teacher_fp.as_deref())?;
        if cache.classes() != classes || cache.len() != transfer.len() {
            return Err(Error::artifact(
                cache_path,
                format!(
                    "holds {} rows of {} logits; the transfer set has {} samples of {} classes",
                    cache.len(),
                    cache.classes(),
                    transfer.len(),
                    classes
                ),
            ));
        }
        let all: Vec<usize> = (0..transfer.len()).collect();
        progress::log(
            cfg.train.quiet,
            &format!(
                "teacher logits read from the cache {}",
                cache_path.display()
            ),
        );
        return Ok(Targets::Precomputed(vec![cache.rows(&all)?]));
    }
    if teachers.len() != 1 {
        return Err(Error::Config(format!(
            "{}: a logit cache holds one teacher's logits; an ensemble of {} averages probabilities at T, so it runs without --teacher-logits",
            cache_path.display(),
            teachers.len()
        )));
    }
    let logits = teacher_logits(teachers, &transfer.features, device)?;
    let prov = Provenance {
        data_fingerprint: data_fp,
        // One teacher was loaded, so one was named.
        teacher_fingerprint: teacher_fp
            .ok_or(Error::Internal("a cached teacher without a name"))?,
        producer: format!(
            "minnow {} distill --teacher {}",
            env!("CARGO_PKG_VERSION"),
            teachers_description(&cfg.teacher, &cfg.onnx)?
        ),
    };
    write_cache(cache_path, &logits[0], classes, LogitDtype::F32, &prov)?;
    progress::log(
        cfg.train.quiet,
        &format!(
            "teacher logits computed once and cached in {}",
            cache_path.display()
        ),
    );
    Ok(Targets::Precomputed(logits))
}
