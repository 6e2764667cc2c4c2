//! The training loop both kinds of run share: epochs of shuffled mini-batches through Adam,
//! the objective of a [`Job`] (hard labels, soft targets from teachers, or both), validation
//! after every epoch, a checkpoint after every epoch, and the curves at the end.
//!
//! Determinism: data order, jitter and dropout masks come from `Rng::stream(seed, epoch + 1)`
//! (in that order within a batch), weights from the run's seed, never from burn's global RNG;
//! the same job gives the same metrics and bit-identical weights, resumed or not.

use std::path::Path;
use std::time::Instant;

use burn::module::Module;
use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::tensor::{Device, Int, Tensor, TensorData};

use crate::data::{Dataset, Standardizer};
use crate::error::{Error, Result};
use crate::int8::calibrate::QuantizeOptions;
use crate::net::backend;
use crate::net::fake_quant::FakeQuant;
use crate::net::forward::forward_net;
use crate::net::model::Model;
use crate::net::params::Net;
use crate::net::spec::{LayerSpec, NetSpec};
use crate::percent::pct_or;
use crate::rng::Rng;
use crate::train::batch::{add_noise, gather};
use crate::train::checkpoint::{self, CHECKPOINT, RunProvenance};
use crate::train::config::{LoopConfig, StepOfRun};
use crate::train::loss::{self, DistillMode};
use crate::train::metrics::{self, EpochMetrics};
use crate::train::progress::{self, StageProgress};
use crate::train::qat::calibrate_grids;
use crate::train::saved::Role;
use crate::train::teachers::{EVAL_BATCH, Teacher, ensemble_logits, teacher_logits};

/// Where a distillation batch's teacher logits come from.
#[derive(Debug)]
pub enum Targets<'a> {
    /// Hard labels only.
    None,
    /// Logits for every training sample, per ensemble member (`n * classes` each).
    Precomputed(Vec<Vec<f32>>),
    /// The teachers run on every (jittered) batch.
    Live(&'a [Teacher]),
}

/// The loss settings of a run.
#[derive(Debug, Clone, Copy)]
pub struct Objective {
    pub temperature: f32,
    pub soft_weight: f32,
    pub hard_weight: f32,
    pub mode: DistillMode,
}

impl Objective {
    /// A teacher's: cross-entropy to the labels.
    pub const HARD_LABELS: Objective = Objective {
        temperature: 1.0,
        soft_weight: 0.0,
        hard_weight: 1.0,
        mode: DistillMode::Soft,
    };
}

/// How quantization-aware training takes its activation ranges: the exporter's calibration,
/// on the data the exporter calibrates on.
#[derive(Debug)]
pub struct Qat<'a> {
    pub calibration: &'a Dataset,
    pub options: QuantizeOptions,
}

/// One training run of one model.
#[derive(Debug)]
pub struct Job<'a> {
    pub role: Role,
    /// Names the run in log lines and on the curves.
    pub title: String,
    pub dir: &'a Path,
    pub spec: NetSpec,
    pub lc: LoopConfig,
    pub train: &'a Dataset,
    pub val: &'a Dataset,
    pub norm: Standardizer,
    pub targets: Targets<'a>,
    /// Teacher logits on the validation split, per member.
    pub val_teacher: Option<Vec<Vec<f32>>>,
    pub objective: Objective,
    /// Continue from the folder's checkpoint when there is one.
    pub resume: bool,
    /// Start from these weights (a [`Model::record_bytes`] of `spec`) instead of a fresh init.
    pub init: Option<Vec<u8>>,
    /// Quantization-aware training ([`crate::train::qat`]).
    pub qat: Option<Qat<'a>>,
    /// What the run trains on: sealed into every checkpoint, checked on resume.
    pub provenance: RunProvenance,
}

impl Job<'_> {
    /// The run's epochs, as set or by the training set's size.
    fn epochs(&self) -> usize {
        self.lc.epochs_for(self.train.len())
    }
}

/// What a finished loop hands back.
#[derive(Debug)]
pub struct Finished {
    /// The trained model, without autodiff.
    pub model: Model,
    /// Every epoch's metrics, resumed ones included.
    pub history: Vec<EpochMetrics>,
    /// Mean wall-clock seconds per epoch of the epochs run in this process.
    pub seconds_per_epoch: f64,
}

/// The devices of a run: inference on `base`, training on its autodiff twin.
struct Devices {
    base: Device,
    autodiff: Device,
}

/// What every batch of an epoch shares.
struct Epoch<'q> {
    /// 0-based.
    index: usize,
    /// Draws the order, then per batch the jitter and the dropout masks.
    rng: Rng,
    has_dropout: bool,
    /// The epoch's int8 grids under quantization-aware training.
    quant: Option<&'q FakeQuant>,
    dev: &'q Devices,
}

/// Which epoch [`train_epoch`] runs, and with what.
#[derive(Clone, Copy)]
struct EpochRun<'a> {
    /// 0-based.
    index: usize,
    /// The epoch's int8 grids under quantization-aware training.
    quant: Option<&'a FakeQuant>,
    dev: &'a Devices,
    progress: &'a StageProgress,
}

/// Sums over an epoch's batches, weighted by batch size.
#[derive(Debug, Default)]
struct EpochSums {
    loss: f64,
    soft: f64,
    hard: f64,
    correct: usize,
    agree: usize,
    seen: usize,
}

/// Runs (or resumes) the training loop of `job`.
pub fn run_loop(job: Job<'_>) -> Result<Finished> {
    let lc = &job.lc;
    lc.check()?;
    let base = backend::device(lc.device)?;
    base.seed(lc.seed);
    let dev = Devices {
        autodiff: base.clone().autodiff(),
        base,
    };
    let (mut model, mut optim, mut history) = start(&job, &dev)?;
    let ck_path = job.dir.join(CHECKPOINT);
    let val_x = job.norm.apply_all(&job.val.features);
    let val_teacher = job
        .val_teacher
        .as_ref()
        .map(|m| ensemble_logits(m, job.spec.classes))
        .transpose()?;
    let mut times = Vec::new();
    let steps = job.train.len().div_ceil(lc.batch_size);
    let epochs = job.epochs();
    let progress = StageProgress::new(lc.quiet, &job.title, epochs, steps, history.len());
    for epoch in history.len()..epochs {
        let start = Instant::now();
        if lc.optim.ramps() {
            // This epoch's momentum, with the velocities the last epoch left.
            optim = lc
                .optim
                .build(epoch, lc.weight_decay)
                .load_record(optim.to_record());
        }
        // This epoch's int8 grids, calibrated on the weights it starts from.
        let quant = match &job.qat {
            Some(q) => {
                let current = Model {
                    spec: model.spec.clone(),
                    net: model.net.clone().valid(),
                };
                Some(calibrate_grids(
                    &current,
                    &job.norm,
                    q.calibration,
                    &q.options,
                )?)
            }
            None => None,
        };
        let ep = EpochRun {
            index: epoch,
            quant: quant.as_ref(),
            dev: &dev,
            progress: &progress,
        };
        let (net, sums) = train_epoch(&job, model.net, &mut optim, &ep)?;
        model = Model {
            spec: model.spec,
            net,
        };
        // Under quantization-aware training, on the int8 grids: the validation numbers then
        // estimate the exported student's.
        let val_logits = model.predict_on_grid(&val_x, &dev.base, EVAL_BATCH, quant.as_ref())?;
        let m = epoch_metrics(
            &job,
            epoch,
            &sums,
            &val_logits,
            val_teacher.as_deref(),
            start,
        );
        times.push(m.seconds);
        progress.epoch(m.epoch, &epoch_line(&job, &m));
        history.push(m);
        checkpoint::save(&ck_path, &model, &optim, &history, &job.provenance)?;
        metrics::write_jsonl(&job.dir.join("metrics.jsonl"), &history)?;
    }
    progress.finish();
    metrics::write_jsonl(&job.dir.join("metrics.jsonl"), &history)?;
    let seconds_per_epoch = if times.is_empty() {
        0.0
    } else {
        times.iter().sum::<f64>() / times.len() as f64
    };
    Ok(Finished {
        model: Model {
            spec: model.spec,
            net: model.net.valid(),
        },
        history,
        seconds_per_epoch,
    })
}

/// The model, optimizer and history a run starts from: its checkpoint when resuming, else the
/// given or freshly initialised weights.
fn start(job: &Job<'_>, dev: &Devices) -> Result<(Model, ModuleOptimizer, Vec<EpochMetrics>)> {
    let lc = &job.lc;
    let optim = lc.optim.build(0, lc.weight_decay);
    let ck_path = job.dir.join(CHECKPOINT);
    if job.resume && ck_path.is_file() {
        let r = checkpoint::restore(&ck_path, &job.spec, &job.provenance, optim, &dev.autodiff)?;
        progress::log(
            lc.quiet,
            &format!(
                "{}: resuming after epoch {} of {}",
                job.title,
                r.history.len(),
                job.epochs()
            ),
        );
        return Ok((r.model, r.optimizer, r.history));
    }
    let model = match &job.init {
        Some(bytes) => Model::from_record_bytes(job.spec.clone(), bytes, &dev.autodiff)?,
        None => Model::init(job.spec.clone(), lc.seed, &dev.autodiff)?,
    };
    Ok((model, optim, Vec::new()))
}

/// One epoch over the shuffled training set; the updated weights and the epoch's sums.
fn train_epoch(
    job: &Job<'_>,
    mut net: Net,
    optim: &mut ModuleOptimizer,
    run: &EpochRun<'_>,
) -> Result<(Net, EpochSums)> {
    let EpochRun {
        index: epoch,
        quant,
        dev,
        progress,
    } = *run;
    let lc = &job.lc;
    let n = job.train.len();
    let steps = n.div_ceil(lc.batch_size);
    let mut ep = Epoch {
        index: epoch,
        rng: Rng::stream(lc.seed, epoch as u64 + 1),
        has_dropout: job
            .spec
            .layers
            .iter()
            .any(|l| matches!(l, LayerSpec::Dropout { p } if *p > 0.0)),
        quant,
        dev,
    };
    let mut order: Vec<usize> = (0..n).collect();
    ep.rng.shuffle(&mut order);
    let mut sums = EpochSums::default();
    for (batch, idx) in order.chunks(lc.batch_size).enumerate() {
        let lr = lc.lr_schedule.rate(
            lc.learning_rate,
            lc.lr_decay,
            StepOfRun {
                step: epoch * steps + batch,
                per_epoch: steps,
                total: job.epochs() * steps,
            },
        );
        net = step(job, &mut ep, net, optim, lr, idx, &mut sums)?;
        progress.batch(|| {
            format!(
                "epoch {}/{}: loss {:.4} acc {} agree {}",
                epoch + 1,
                job.epochs(),
                sums.loss / sums.seen as f64,
                pct_or(
                    job.train
                        .labels
                        .as_ref()
                        .map(|_| sums.correct as f64 / sums.seen as f64),
                    "-"
                ),
                pct_or(
                    (!matches!(job.targets, Targets::None))
                        .then(|| sums.agree as f64 / sums.seen as f64),
                    "-"
                )
            )
        });
    }
    Ok((net, sums))
}

/// The teacher logits of one batch, per ensemble member.
fn batch_targets(
    job: &Job<'_>,
    idx: &[usize],
    raw: &[f32],
    dev: &Devices,
) -> Result<Option<Vec<Vec<f32>>>> {
    let classes = job.spec.classes;
    Ok(match &job.targets {
        Targets::None => None,
        Targets::Precomputed(all) => Some(
            all.iter()
                .map(|m| {
                    idx.iter()
                        .flat_map(|&i| m[i * classes..(i + 1) * classes].iter().copied())
                        .collect()
                })
                .collect(),
        ),
        // A sample an ONNX teacher fails on is named by its index in the training split.
        Targets::Live(teachers) => {
            Some(
                teacher_logits(teachers, raw, &dev.base).map_err(|e| match e {
                    Error::Onnx(o) => Error::Onnx(o.for_samples(idx)),
                    e => e,
                })?,
            )
        }
    })
}

/// The soft (or logit-matching) term of a batch, against the members' logits `teacher`.
fn soft_term(
    obj: &Objective,
    logits: Tensor<2>,
    teacher: &[Vec<f32>],
    b: usize,
    classes: usize,
    dev: &Device,
) -> Result<Tensor<1>> {
    let members: Vec<Tensor<2>> = teacher
        .iter()
        .map(|v| Tensor::from_data(TensorData::new(v.clone(), [b, classes]), dev))
        .collect();
    if members.is_empty() {
        return Err(Error::Internal("soft targets without a teacher"));
    }
    Ok(match obj.mode {
        DistillMode::Soft => loss::soft_loss(
            logits,
            loss::ensemble_soft_targets(members, obj.temperature),
            obj.temperature,
        ),
        DistillMode::LogitMatching => {
            let k = members.len() as f32;
            let sum = members.into_iter().reduce(|a, b| a + b);
            match sum {
                Some(sum) => loss::logit_matching_loss(logits, sum.div_scalar(k)),
                None => return Err(Error::Internal("soft targets without a teacher")),
            }
        }
    })
}

/// One optimizer step on the batch `idx`; adds the batch's figures to `sums`.
fn step(
    job: &Job<'_>,
    ep: &mut Epoch<'_>,
    net: Net,
    optim: &mut ModuleOptimizer,
    lr: f64,
    idx: &[usize],
    sums: &mut EpochSums,
) -> Result<Net> {
    let (lc, obj, dev) = (&job.lc, job.objective, ep.dev);
    let classes = job.spec.classes;
    let [h, w, c] = job.spec.input_shape;
    let b = idx.len();
    let mut raw = gather(job.train, idx, lc.jitter_for(job.train.shape), &mut ep.rng);
    add_noise(&mut raw, lc.noise, &job.norm, &mut ep.rng);
    let x = Tensor::<4>::from_data(
        TensorData::new(job.norm.apply_all(&raw), [b, h, w, c]),
        &dev.autodiff,
    );
    let dropout = if ep.has_dropout {
        Some(&mut ep.rng)
    } else {
        None
    };
    let logits = forward_net(&job.spec, &net, x, dropout, ep.quant);
    let teacher = batch_targets(job, idx, &raw, dev)?;
    let mut total: Option<Tensor<1>> = None;
    let mut add = |t: Tensor<1>, wgt: f32| {
        let t = t.mul_scalar(wgt);
        total = Some(match total.take() {
            Some(a) => a + t,
            None => t,
        });
    };
    let mut soft_v = None;
    if let (Some(tl), true) = (&teacher, obj.soft_weight != 0.0) {
        let s = soft_term(&obj, logits.clone(), tl, b, classes, &dev.autodiff)?;
        soft_v = Some(s.clone());
        add(s, obj.soft_weight);
    }
    let mut hard_v = None;
    let labels = job.train.labels.as_deref();
    let batch_labels: Option<Vec<u8>> = labels.map(|l| idx.iter().map(|&i| l[i]).collect());
    if obj.hard_weight != 0.0 {
        let bl = batch_labels
            .as_ref()
            .ok_or_else(|| Error::Config("hard_weight > 0 needs labels".into()))?;
        let lt = Tensor::<1, Int>::from_data(
            TensorData::new(bl.iter().map(|&l| i64::from(l)).collect::<Vec<_>>(), [b]),
            &dev.autodiff,
        );
        let hl = loss::hard_loss(logits.clone(), lt);
        hard_v = Some(hl.clone());
        add(hl, obj.hard_weight);
    }
    let total = total.ok_or_else(|| {
        Error::Config("both soft_weight and hard_weight are 0: nothing to train on".into())
    })?;
    let value: f32 = total.clone().into_scalar();
    if !value.is_finite() {
        return Err(Error::Diverged(format!(
            "{}: loss {value} at epoch {} (lower the learning rate?)",
            job.title,
            ep.index + 1
        )));
    }
    let grads = GradientsParams::from_grads(total.backward(), &net);
    let net = lc.optim.constrain(optim.step(lr, net, grads));

    sums.loss += f64::from(value) * b as f64;
    if let Some(s) = soft_v {
        sums.soft += f64::from(s.into_scalar::<f32>()) * b as f64;
    }
    if let Some(hv) = hard_v {
        sums.hard += f64::from(hv.into_scalar::<f32>()) * b as f64;
    }
    let out = logits.into_data().try_into_vec::<f32>()?;
    if let Some(bl) = &batch_labels {
        sums.correct += (metrics::accuracy(&out, classes, bl) * b as f64).round() as usize;
    }
    if let Some(tl) = &teacher {
        sums.agree += (metrics::agreement(&out, &ensemble_logits(tl, classes)?, classes) * b as f64)
            .round() as usize;
    }
    sums.seen += b;
    Ok(net)
}

/// The metrics line of an epoch.
fn epoch_metrics(
    job: &Job<'_>,
    epoch: usize,
    sums: &EpochSums,
    val_logits: &[f32],
    val_teacher: Option<&[f32]>,
    start: Instant,
) -> EpochMetrics {
    let (obj, classes, n) = (job.objective, job.spec.classes, job.train.len());
    let has_teacher = !matches!(job.targets, Targets::None);
    let val_labels = job.val.labels.as_deref().filter(|l| !l.is_empty());
    EpochMetrics {
        epoch: epoch + 1,
        train_loss: sums.loss / n as f64,
        train_soft_loss: (has_teacher && obj.soft_weight != 0.0).then(|| sums.soft / n as f64),
        train_hard_loss: (obj.hard_weight != 0.0).then(|| sums.hard / n as f64),
        train_accuracy: job
            .train
            .labels
            .as_ref()
            .map(|_| sums.correct as f64 / n as f64),
        train_agreement: has_teacher.then(|| sums.agree as f64 / n as f64),
        val_loss: val_labels.map(|l| metrics::cross_entropy(val_logits, classes, l)),
        val_accuracy: val_labels.map(|l| metrics::accuracy(val_logits, classes, l)),
        val_agreement: val_teacher
            .filter(|t| !t.is_empty())
            .map(|t| metrics::agreement(val_logits, t, classes)),
        seconds: start.elapsed().as_secs_f64(),
    }
}

/// One epoch's summary line.
fn epoch_line(job: &Job<'_>, m: &EpochMetrics) -> String {
    format!(
        "{} epoch {:>3}/{}: loss {:.4}  train acc {}  val acc {}  val agreement {}  ({:.2}s)",
        job.title,
        m.epoch,
        job.epochs(),
        m.train_loss,
        pct_or(m.train_accuracy, "-"),
        pct_or(m.val_accuracy, "-"),
        pct_or(m.val_agreement, "-"),
        m.seconds
    )
}
