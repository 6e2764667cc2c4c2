//! `minnow distill`: a student trained on a teacher's (or an ensemble's) soft targets at
//! temperature T, with an optional hard-label term (Hinton, Vinyals & Dean 2015), or on hard
//! labels alone (a baseline: `soft_weight = 0`). Writes the student for the quantizer
//! (`student.float.json`) beside the usual run files.

use std::path::{Path, PathBuf};

use burn::tensor::Device;

use crate::config::{Choice, Settings};
use crate::data::{Dataset, Splits, Standardizer};
use crate::error::{Error, Result};
use crate::files;
use crate::fingerprint::sha256_hex;
use crate::net::float::FloatStudent;
use crate::net::model::Model;
use crate::net::spec::{Arch, NetSpec};
use crate::net::{backend, memory};
use crate::percent::pct_or;
use crate::train::batch::check_jitter;
use crate::train::checkpoint::RunProvenance;
use crate::train::class_bias::{BiasShift, ShiftReport, choose_on_validation};
use crate::train::config::DistillConfig;
use crate::train::metrics::SplitMetrics;
use crate::train::normalize::fit_normalization;
use crate::train::progress;
use crate::train::run_loop::{Finished, Job, Objective, Qat, run_loop};
use crate::train::saved::{
    ModelFile, Role, Summary, Trained, TrainedFiles, load_model, pretty_json, save_trained,
    write_run_files,
};
use crate::train::targets::targets;
use crate::train::teachers::{
    EVAL_BATCH, Teacher, TeacherData, ensemble_logits, load_teachers, teacher_logits,
    teachers_fingerprint, teaching_role,
};
use crate::train::transfer::{Transfer, transfer_from};

/// The result of [`distill`].
#[derive(Debug, Clone)]
pub struct StudentArtifacts {
    pub dir: PathBuf,
    /// The trained student in minnow's layouts (also saved as `student.float.json`).
    pub student: FloatStudent,
    pub trained: Trained,
    /// Test metrics before the missing-class bias correction, when it was applied.
    pub test_before_bias: Option<SplitMetrics>,
    /// The bias shift of the classes the transfer set lacked, and its test errors.
    pub bias_shift: Option<ShiftReport>,
    /// The teacher (ensemble) on the same test samples, when a teacher was given.
    pub teacher_test: Option<SplitMetrics>,
}

/// Distils a student from teachers (or trains it on hard labels when `soft_weight = 0`).
pub fn distill(cfg: &DistillConfig) -> Result<StudentArtifacts> {
    distill_run(cfg, false)
}

/// [`distill`], continuing from the run folder's checkpoint when `resume`.
pub(crate) fn distill_run(cfg: &DistillConfig, resume: bool) -> Result<StudentArtifacts> {
    let cfg = cfg.absolute()?;
    cfg.check()?;
    cfg.check_teacher()?;
    // One writer per run folder, for the whole run.
    let _lock = files::lock(&cfg.out)?;
    let p = cfg.data.prepare()?;
    let transfer = transfer_from(&p.train, &cfg)?;
    let spec = NetSpec::build(&cfg.net, transfer.data.shape, transfer.data.classes)?;
    check_jitter(
        cfg.train.jitter_for(transfer.data.shape),
        transfer.data.shape,
    )?;
    memory::check_fits(&spec, cfg.train.batch_size)?;
    let base = backend::device(cfg.train.device)?;
    // A trained start: its weights, and the input normalisation they were trained with.
    let (norm, init) = match &cfg.init_from {
        Some(dir) => {
            let (norm, weights) = trained_start(dir, &spec, &base)?;
            (norm, Some(weights))
        }
        None => (
            fit_normalization(&transfer.data, cfg.data.normalization, cfg.train.quiet)?,
            None,
        ),
    };
    let teachers = if cfg.teacher.is_empty() {
        Vec::new()
    } else {
        load_teachers(
            &cfg.teacher,
            &cfg.onnx,
            TeacherData::of(&transfer.data),
            &base,
        )?
    };
    check_teachers(&cfg, &teachers, &spec)?;
    let provenance = provenance(&cfg, &transfer.data)?;
    // The teachers run (or their cache is read) before anything is written: a teacher that
    // fails on a sample, or a stale cache, leaves no run folder behind.
    let targets = targets(&cfg, &transfer.data, spec.classes, &teachers, &base)?;
    let has_teachers = !teachers.is_empty();
    let val_teacher = has_teachers
        .then(|| teacher_logits(&teachers, &p.val.features, &base))
        .transpose()?;
    let test_teacher = if has_teachers {
        let logits = teacher_logits(&teachers, &p.test.features, &base)?;
        Some(ensemble_logits(&logits, spec.classes)?)
    } else {
        None
    };
    // Written once every input is known good, so a refused run leaves nothing behind.
    write_run_files(&cfg.out, Role::Student, &cfg)?;
    let done = run_loop(Job {
        role: Role::Student,
        title: title(&cfg),
        dir: &cfg.out,
        spec: spec.clone(),
        lc: cfg.train.clone(),
        train: &transfer.data,
        val: &p.val,
        norm: norm.clone(),
        targets,
        val_teacher,
        objective: Objective {
            temperature: cfg.temperature,
            soft_weight: cfg.soft_weight,
            hard_weight: cfg.hard_weight,
            mode: cfg.mode,
        },
        resume,
        init,
        qat: cfg.qat.then(|| Qat {
            calibration: &p.train,
            options: cfg.qat_options(),
        }),
        provenance,
    })?;
    let eval = Evaluated::new(
        &cfg,
        done,
        &p,
        &transfer,
        norm.clone(),
        test_teacher.as_deref(),
        &base,
    )?;
    save_student(&cfg, &p.train, &spec, norm, eval)
}

/// The weights and input normalisation of the run folder `dir` to start from, which must hold
/// the network `spec` describes.
fn trained_start(dir: &Path, spec: &NetSpec, device: &Device) -> Result<(Standardizer, Vec<u8>)> {
    let role = teaching_role(dir).ok_or_else(|| {
        Error::artifact(
            dir,
            "init_from: not a run folder with a trained model (student.toml + student.bpk, or teacher.toml)",
        )
    })?;
    let (model, file) = load_model(dir, role, device)?;
    if &file.spec != spec {
        return Err(Error::artifact(
            dir,
            format!(
                "init_from: its network {} differs from the one this run's architecture settings describe ({}); give the same --arch, --hidden, --channels, --dropout and --relu6",
                describe(&file.spec),
                describe(spec)
            ),
        ));
    }
    Ok((file.normalization, model.record_bytes()?))
}

/// Refuses teachers whose inputs or classes differ from the data's, and warns when one was
/// trained on another split (its training data may then overlap this test set).
fn check_teachers(cfg: &DistillConfig, teachers: &[Teacher], spec: &NetSpec) -> Result<()> {
    let dc = &cfg.data;
    // An ONNX teacher was checked against the data as it loaded.
    for f in teachers.iter().filter_map(|t| match t {
        Teacher::Run { file, .. } => Some(file),
        Teacher::Onnx(_) => None,
    }) {
        if f.spec.classes != spec.classes || f.spec.input_shape != spec.input_shape {
            return Err(Error::Config(format!(
                "teacher expects {:?} inputs and {} classes; the data has {:?} and {}",
                f.spec.input_shape, f.spec.classes, spec.input_shape, spec.classes
            )));
        }
        if (f.val_fraction, f.test_fraction, f.split_seed)
            != (dc.val_fraction, dc.test_fraction, dc.split_seed)
        {
            progress::log(
                cfg.train.quiet,
                &format!(
                    "warning: the teacher was trained on another split (val/test/seed {}/{}/{}); its training data may overlap this test set",
                    f.val_fraction, f.test_fraction, f.split_seed
                ),
            );
        }
    }
    Ok(())
}

/// What the distillation trains on: the transfer set, the teachers (or the logit cache that
/// stands in for them), the settings.
fn provenance(cfg: &DistillConfig, transfer: &Dataset) -> Result<RunProvenance> {
    let teachers = if !cfg.teacher.is_empty() {
        Some(teachers_fingerprint(&cfg.teacher, &cfg.onnx)?)
    } else if let Some(cache) = cfg.teacher_logits.as_deref().filter(|p| p.is_file()) {
        Some(format!("logits:{}", sha256_hex(&files::read(cache)?)))
    } else {
        None
    };
    Ok(RunProvenance {
        data: transfer.fingerprint(),
        teachers,
        settings: RunProvenance::settings_of(cfg)?,
    })
}

/// The run's name in log lines and on its curves.
fn title(cfg: &DistillConfig) -> String {
    let title = if cfg.uses_teacher() {
        format!("student (T={})", cfg.temperature)
    } else {
        "student (hard labels)".to_owned()
    };
    if cfg.qat {
        format!("{title}, quantization-aware")
    } else {
        title
    }
}

/// A trained student on the test split, after the missing-class bias correction.
struct Evaluated {
    done: Finished,
    test: SplitMetrics,
    test_before_bias: Option<SplitMetrics>,
    bias_shift: Option<ShiftReport>,
    teacher_test: Option<SplitMetrics>,
}

impl Evaluated {
    fn new(
        cfg: &DistillConfig,
        mut done: Finished,
        p: &Splits,
        transfer: &Transfer,
        norm: Standardizer,
        test_teacher: Option<&[f32]>,
        device: &Device,
    ) -> Result<Evaluated> {
        let classes = done.model.spec.classes;
        let test_logits =
            done.model
                .predict(&norm.apply_all(&p.test.features), device, EVAL_BATCH)?;
        let mut test = SplitMetrics::of(&test_logits, classes, &p.test, test_teacher);
        let mut test_before_bias = None;
        let bias_shift = match bias_shift(cfg, &done.model, p, transfer, &norm, device)? {
            Some((shift, missing)) => {
                done.model.raise_output_bias(&shift.classes, shift.amount)?;
                let after = shift.apply(&test_logits, classes);
                test_before_bias = Some(test);
                test = SplitMetrics::of(&after, classes, &p.test, test_teacher);
                let report = p.test.labels.as_deref().map(|labels| {
                    ShiftReport::on_test(shift.clone(), &missing, &test_logits, labels, classes)
                });
                match &report {
                    Some(r) => progress::log(cfg.train.quiet, &r.line()),
                    None => progress::log(
                        cfg.train.quiet,
                        &format!(
                            "moved the output bias of classes {:?} by {}",
                            shift.classes, shift.amount
                        ),
                    ),
                }
                report
            }
            None => None,
        };
        Ok(Evaluated {
            done,
            test,
            test_before_bias,
            bias_shift,
            teacher_test: test_teacher.map(|t| SplitMetrics::of(t, classes, &p.test, None)),
        })
    }
}

/// The bias shift for the classes the transfer set lacked, and those classes: the given
/// `missing_class_bias`, else the shift with the fewest validation errors. `None` when every
/// class was in the transfer set, the given shift is 0, or there are no validation labels to
/// choose with.
fn bias_shift(
    cfg: &DistillConfig,
    model: &Model,
    p: &Splits,
    transfer: &Transfer,
    norm: &Standardizer,
    device: &Device,
) -> Result<Option<(BiasShift, Vec<usize>)>> {
    let classes = model.spec.classes;
    if cfg.missing_class_bias.is_none()
        && cfg.missing_classes.is_empty()
        && transfer.absent.is_empty()
    {
        return Ok(None);
    }
    let missing = missing_classes(cfg, &p.train, transfer)?;
    if missing.is_empty() {
        if cfg.missing_class_bias.is_some() {
            progress::log(
                cfg.train.quiet,
                "missing_class_bias: every class occurs in the transfer set; nothing to raise",
            );
        }
        return Ok(None);
    }
    Ok(match (cfg.missing_class_bias, p.val.labels.as_deref()) {
        (Some(0.0), _) => None,
        (Some(amount), _) => Some(BiasShift::for_missing(&missing, classes, amount)),
        (None, Some(labels)) if !labels.is_empty() => {
            let logits = model.predict(&norm.apply_all(&p.val.features), device, EVAL_BATCH)?;
            Some(choose_on_validation(&logits, labels, classes, &missing))
        }
        (None, _) => {
            progress::log(
                cfg.train.quiet,
                "the transfer set lacks classes but the validation split has no labels to choose their bias shift with; give --missing-class-bias",
            );
            None
        }
    }
    .map(|shift| (shift, missing)))
}

/// The classes whose output bias `missing_class_bias` raises: `missing_classes`, else those
/// absent from the transfer set.
fn missing_classes(
    cfg: &DistillConfig,
    train: &Dataset,
    transfer: &Transfer,
) -> Result<Vec<usize>> {
    if !cfg.missing_classes.is_empty() {
        Ok(cfg
            .missing_classes
            .iter()
            .map(|&c| usize::from(c))
            .collect())
    } else if train.labels.is_some() {
        Ok(transfer.absent.clone())
    } else {
        Err(Error::Config(
            "missing_class_bias needs missing_classes when the transfer set has no labels".into(),
        ))
    }
}

/// Writes the student's files (`student.float.json`, `student.bpk`, `student.toml`,
/// `summary.json`).
fn save_student(
    cfg: &DistillConfig,
    train: &Dataset,
    spec: &NetSpec,
    norm: Standardizer,
    eval: Evaluated,
) -> Result<StudentArtifacts> {
    let temperature = if cfg.uses_teacher() {
        cfg.temperature
    } else {
        1.0
    };
    let name = blob_name(train, cfg.net.arch);
    let Evaluated {
        done,
        test,
        test_before_bias,
        bias_shift,
        teacher_test,
    } = eval;
    let mut student = done.model.to_float_student(&name, &norm, temperature)?;
    student.class_names = train.class_names.clone();
    let dir = cfg.out.clone();
    let file = ModelFile::new(
        Role::Student,
        spec.clone(),
        norm.clone(),
        temperature,
        &cfg.data,
    );
    let summary = Summary {
        test_before_bias: test_before_bias.as_ref(),
        teacher_test: teacher_test.as_ref(),
        bias_shift: bias_shift.as_ref(),
        ..Summary::new(
            Role::Student,
            &test,
            &done.history,
            done.seconds_per_epoch,
            spec.parameter_count(),
        )
    };
    save_trained(
        &dir,
        &TrainedFiles {
            model: &done.model,
            file: &file,
            summary: &summary,
            history: &done.history,
            title: &title(cfg),
            extra: &[("student.float.json", pretty_json(&student)?)],
            quiet: cfg.train.quiet,
        },
    )?;
    progress::log(
        cfg.train.quiet,
        &format!(
            "student saved to {}: test accuracy {} (teacher {}), agreement with teacher {}",
            dir.join("student.float.json").display(),
            pct_or(test.accuracy, "-"),
            pct_or(teacher_test.as_ref().and_then(|t| t.accuracy), "-"),
            pct_or(test.agreement, "-")
        ),
    );
    Ok(StudentArtifacts {
        dir: dir.clone(),
        student,
        trained: Trained {
            dir,
            model: done.model,
            normalization: norm,
            history: done.history,
            test,
            seconds_per_epoch: done.seconds_per_epoch,
        },
        test_before_bias,
        bias_shift,
        teacher_test,
    })
}

/// A network in a line, for error messages: its parameters and layers.
fn describe(spec: &NetSpec) -> String {
    format!(
        "of {} parameters, {:?} -> {:?}",
        spec.parameter_count(),
        spec.input_shape,
        spec.layers
    )
}

/// The name of the blob of a student of `arch` trained on `train` (its length counts in the
/// blob's bytes, so the cost model names its candidates the same way).
pub(crate) fn blob_name(train: &Dataset, arch: Arch) -> String {
    blob_name_for(&train.name, arch)
}

/// [`blob_name`] of data named `data_name`.
pub(crate) fn blob_name_for(data_name: &str, arch: Arch) -> String {
    student_name(&format!("{data_name}-{}", arch.name()))
}

/// The name stored in the student blob, which allows printable ASCII only and at most
/// `MAX_NAME_LEN` bytes (it ends up in device logs): lowercased, other characters become `_`
/// (a dataset file called `données.csv` must not make the export fail), then truncated.
pub(crate) fn student_name(raw: &str) -> String {
    raw.to_lowercase()
        .chars()
        .map(|c| match u8::try_from(c) {
            Ok(b) if minnow_core::limits::is_name_byte(b) => c,
            _ => '_',
        })
        .take(minnow_core::limits::MAX_NAME_LEN)
        .collect()
}
