//! The training stage's settings: the loop both kinds of run share ([`LoopConfig`]), and the
//! two kinds of run, [`TeacherConfig`] (`minnow train-teacher`) and [`DistillConfig`]
//! (`minnow distill`). Each is the data, network and loop settings plus its own; their TOML is
//! flat (every key a flag), so the shared parts are flattened into it.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::config::{Choice, Invalid, Settings, choice_serde, in_range};
use crate::data::DataConfig;
use crate::error::{Error, Result};
use crate::files;
use crate::int8::calibrate::{Calibration, QuantizeOptions, percentile_is_valid};
use crate::net::backend::DeviceChoice;
use crate::net::spec::{Arch, NetConfig};
use crate::train::loss::DistillMode;
use crate::train::onnx::settings::OnnxSettings;
use crate::train::optimizer::OptimizerConfig;

/// How the learning rate moves over a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LrSchedule {
    #[default]
    Constant,
    Cosine,
    Exponential,
}

impl Choice for LrSchedule {
    const ALL: &'static [(Self, &'static str, &'static str)] = &[
        (
            LrSchedule::Constant,
            "constant",
            "the same rate for every step",
        ),
        (
            LrSchedule::Cosine,
            "cosine",
            "half a cosine from the rate down to 0 over all the run's steps",
        ),
        (
            LrSchedule::Exponential,
            "exponential",
            "the rate times lr_decay per epoch, smoothly over its steps (Hinton et al. 2012: 0.998)",
        ),
    ];
}
choice_serde!(LrSchedule);

/// Where a step lies in a run: its index (0-based, counted over the whole run), the steps of
/// one epoch and of the whole run.
#[derive(Debug, Clone, Copy)]
pub struct StepOfRun {
    pub step: usize,
    pub per_epoch: usize,
    pub total: usize,
}

impl LrSchedule {
    /// The rate at `at`, from the rate `base` and the per-epoch factor `decay` (exponential
    /// only). A pure function of the step, so a resumed run continues on the same curve.
    pub fn rate(self, base: f64, decay: f64, at: StepOfRun) -> f64 {
        match self {
            LrSchedule::Constant => base,
            LrSchedule::Cosine => {
                let t = at.step as f64 / at.total.max(1) as f64;
                base * 0.5 * (1.0 + (std::f64::consts::PI * t).cos())
            }
            LrSchedule::Exponential => {
                base * decay.powf(at.step as f64 / at.per_epoch.max(1) as f64)
            }
        }
    }
}

/// Epochs of a run whose settings leave them unset, on data of [`MIN_STEPS`] batches or
/// more (the built-in digits: 20 batches of 64 for the teacher).
pub const DEFAULT_EPOCHS: usize = 60;

/// Optimizer steps that a run with unset epochs makes at least: small tables get more epochs.
pub const MIN_STEPS: usize = 1000;

/// Settings of the training loop, shared by teachers and students.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LoopConfig {
    /// Passes over the training data; unset: [`LoopConfig::epochs_for`] picks them by the
    /// data's size.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub epochs: Option<usize>,
    pub batch_size: usize,
    /// The optimizer's learning rate.
    pub learning_rate: f64,
    pub lr_schedule: LrSchedule,
    /// The exponential schedule's factor per epoch.
    #[serde(
        default = "default_lr_decay",
        skip_serializing_if = "is_default_lr_decay"
    )]
    pub lr_decay: f64,
    /// L2 weight decay.
    pub weight_decay: f32,
    /// Adam or SGD with momentum, and the max-norm constraint.
    #[serde(flatten)]
    pub optim: OptimizerConfig,
    /// Random input shifts of up to this many pixels (0 = off); `None`: by the kind of data
    /// ([`LoopConfig::jitter_for`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jitter: Option<usize>,
    /// Gaussian input noise of this standard deviation in standardised units (0 = off): each
    /// value moves by `noise` times its feature's standard deviation, before the teacher and the
    /// student see it. For tabular rows and sequences, where a pixel shift makes no sense.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub noise: f32,
    /// Seeds weight init, shuffling, dropout, jitter and noise.
    pub seed: u64,
    pub device: DeviceChoice,
    /// No progress bar or per-epoch log lines.
    pub quiet: bool,
}

impl LoopConfig {
    /// Refuses settings the loop cannot run with.
    pub fn check(&self) -> Result<(), Invalid> {
        if let Some(epochs) = self.epochs {
            in_range("epochs", epochs, 1, 1_000_000)?;
        }
        in_range("batch_size", self.batch_size, 1, 1 << 20)?;
        if !(self.learning_rate > 0.0 && self.learning_rate <= 100.0) {
            return Err(Invalid::new(
                "learning_rate",
                self.learning_rate,
                "must be positive and at most 100",
            ));
        }
        in_range("weight_decay", self.weight_decay, 0.0, 10.0)?;
        if !(self.lr_decay > 0.0 && self.lr_decay <= 1.0) {
            return Err(Invalid::new("lr_decay", self.lr_decay, "must be in (0, 1]"));
        }
        if self.lr_decay != DEFAULT_LR_DECAY && self.lr_schedule != LrSchedule::Exponential {
            return Err(Invalid::new(
                "lr_decay",
                self.lr_decay,
                "is the exponential schedule's (give lr_schedule = \"exponential\")",
            ));
        }
        self.optim.check()?;
        in_range("noise", self.noise, 0.0, 100.0)?;
        // Checked against the samples' size once the data is loaded (train::batch).
        match self.jitter {
            Some(jitter) => in_range("jitter", jitter, 0, 1 << 16),
            None => Ok(()),
        }
    }

    /// The epochs of a run on `train_len` samples: as set, or by default
    /// [`DEFAULT_EPOCHS`], raised on small data until the run makes [`MIN_STEPS`] optimizer
    /// steps (iris's 105 training rows are 2 batches of 64: 60 epochs would be 120 steps, and
    /// its student stopped 2 test rows short of its teacher).
    pub fn epochs_for(&self, train_len: usize) -> usize {
        self.epochs.unwrap_or_else(|| {
            let steps = train_len.div_ceil(self.batch_size.max(1)).max(1);
            DEFAULT_EPOCHS.max(MIN_STEPS.div_ceil(steps))
        })
    }

    /// The jitter for samples of `shape`: as set, or by default 1 pixel for images (height and
    /// width over 1) and none for tabular rows and sequences, where a shift would move each
    /// feature into its neighbour's place.
    pub fn jitter_for(&self, [h, w, _]: [usize; 3]) -> usize {
        self.jitter.unwrap_or(usize::from(h > 1 && w > 1))
    }

    /// Whether the inputs change from epoch to epoch (jitter or noise), so that a teacher's
    /// logits cannot be computed once.
    pub fn augments(&self, shape: [usize; 3]) -> bool {
        self.jitter_for(shape) > 0 || self.noise > 0.0
    }
}

/// The exponential schedule's factor per epoch unless told otherwise (Hinton et al. 2012).
pub const DEFAULT_LR_DECAY: f64 = 0.998;

fn default_lr_decay() -> f64 {
    DEFAULT_LR_DECAY
}

fn is_default_lr_decay(d: &f64) -> bool {
    crate::config::omit_default(*d == DEFAULT_LR_DECAY)
}

/// Keeps `noise = 0` out of saved configs, so runs without it write the bytes they always did.
fn is_zero(x: &f32) -> bool {
    crate::config::omit_default(*x == 0.0)
}

/// `minnow train-teacher`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TeacherConfig {
    /// Run folder.
    pub out: PathBuf,
    #[serde(flatten)]
    pub data: DataConfig,
    #[serde(flatten)]
    pub net: NetConfig,
    #[serde(flatten)]
    pub train: LoopConfig,
    /// Train this many teachers (seeds `seed`, `seed+1`, ...) into `out/member-<i>` as an ensemble.
    pub members: usize,
}

impl Default for TeacherConfig {
    fn default() -> Self {
        TeacherConfig {
            out: PathBuf::from("runs/teacher"),
            data: DataConfig::default(),
            net: NetConfig {
                arch: Arch::Mlp,
                hidden: vec![256, 256],
                channels: vec![16, 32],
                dropout: 0.2,
                input_dropout: 0.0,
                relu6: false,
                stride: 1,
            },
            train: LoopConfig {
                epochs: None,
                batch_size: 64,
                learning_rate: 3e-3,
                lr_schedule: LrSchedule::Constant,
                lr_decay: DEFAULT_LR_DECAY,
                weight_decay: 1e-4,
                jitter: None,
                optim: OptimizerConfig::default(),
                noise: 0.0,
                seed: 0,
                device: DeviceChoice::Ndarray,
                quiet: false,
            },
            members: 1,
        }
    }
}

impl Settings for TeacherConfig {
    fn check(&self) -> Result<(), Invalid> {
        check_out(&self.out)?;
        self.data.check()?;
        self.net.check()?;
        self.train.check()?;
        in_range("members", self.members, 1, 1000)
    }
}

impl TeacherConfig {
    /// The same settings with every path absolute, so that the saved config works from any
    /// folder.
    pub fn absolute(&self) -> Result<TeacherConfig> {
        Ok(TeacherConfig {
            data: self.data.absolute()?,
            ..self.clone()
        })
    }
}

/// `minnow distill` (also hard-label baselines: `soft_weight = 0`, `hard_weight = 1`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DistillConfig {
    pub out: PathBuf,
    #[serde(flatten)]
    pub data: DataConfig,
    #[serde(flatten)]
    pub net: NetConfig,
    #[serde(flatten)]
    pub train: LoopConfig,
    /// Teacher run folders (a folder with `member-*` sub-folders is an ensemble; a student run
    /// folder teaches too, e.g. an ensemble of students or a born-again student) or ONNX files.
    /// Several teachers form an ensemble whose soft targets are the average of their
    /// probabilities.
    pub teacher: Vec<PathBuf>,
    /// How ONNX teachers see the samples (`teacher_scale`, `teacher_offset`, `teacher_layout`,
    /// `teacher_output`).
    #[serde(flatten)]
    pub onnx: OnnxSettings,
    /// Cached teacher logits for the transfer set (see `train::cache`); read when the file
    /// exists, else written.
    #[serde(default)]
    pub teacher_logits: Option<PathBuf>,
    pub temperature: f32,
    pub soft_weight: f32,
    pub hard_weight: f32,
    pub mode: DistillMode,
    /// Train on the transfer set without its labels (then `hard_weight` must be 0).
    pub unlabeled: bool,
    /// Remove these classes from the transfer set (Hinton et al.'s omitted-digit experiment).
    pub omit_classes: Vec<u8>,
    /// Raise the output bias of classes absent from the transfer set by this much.
    #[serde(default)]
    pub missing_class_bias: Option<f32>,
    /// The classes `missing_class_bias` applies to (default: those absent from the labels).
    pub missing_classes: Vec<u8>,
    /// Start from the trained weights of this run folder (a student's `student.bpk`, or a
    /// teacher's) and its input normalisation instead of a fresh init; the architecture
    /// settings must describe the same network. With `qat`: fine-tune a trained student for
    /// int8.
    #[serde(default)]
    pub init_from: Option<PathBuf>,
    /// Quantization-aware training ([`crate::train::qat`]): the forward pass rounds weights and
    /// activations to the exporter's int8 grids, gradients pass straight through.
    pub qat: bool,
    /// QAT's activation calibration: a two-sided percentile (as `minnow export --percentile`);
    /// min/max when unset. Export calibrates a QAT run the same way.
    #[serde(default)]
    pub qat_percentile: Option<f64>,
    /// QAT's activation calibration: at most this many training samples (as `minnow export
    /// --calibration-samples`).
    pub qat_calibration_samples: usize,
}

impl Default for DistillConfig {
    fn default() -> Self {
        DistillConfig {
            out: PathBuf::from("runs/student"),
            data: DataConfig::default(),
            net: NetConfig {
                arch: Arch::Mlp,
                hidden: vec![32],
                channels: vec![8, 16],
                dropout: 0.0,
                input_dropout: 0.0,
                relu6: false,
                stride: 1,
            },
            train: LoopConfig {
                epochs: None,
                batch_size: 32,
                learning_rate: 3e-3,
                lr_schedule: LrSchedule::Constant,
                lr_decay: DEFAULT_LR_DECAY,
                weight_decay: 0.0,
                jitter: Some(0),
                optim: OptimizerConfig::default(),
                noise: 0.0,
                seed: 0,
                device: DeviceChoice::Ndarray,
                quiet: false,
            },
            teacher: Vec::new(),
            onnx: OnnxSettings::default(),
            teacher_logits: None,
            // Hinton et al.: T of 2.5-4 for very small students, a small hard-label term.
            temperature: 4.0,
            soft_weight: 1.0,
            hard_weight: 0.1,
            mode: DistillMode::Soft,
            unlabeled: false,
            omit_classes: Vec::new(),
            missing_class_bias: None,
            missing_classes: Vec::new(),
            init_from: None,
            qat: false,
            qat_percentile: None,
            qat_calibration_samples: 1000,
        }
    }
}

impl DistillConfig {
    /// Whether the student learns from a teacher (a soft term), not from labels alone.
    pub fn uses_teacher(&self) -> bool {
        self.soft_weight != 0.0
    }

    /// QAT's calibration, as the exporter's options.
    pub fn qat_options(&self) -> QuantizeOptions {
        QuantizeOptions {
            calibration: self
                .qat_percentile
                .map_or(Calibration::MinMax, Calibration::Percentile),
            max_calibration_samples: self.qat_calibration_samples,
        }
    }

    /// Refuses a distillation whose teacher is not there: a soft term needs a teacher folder
    /// or an existing logit cache.
    pub fn check_teacher(&self) -> Result<()> {
        if self.uses_teacher()
            && self.teacher.is_empty()
            && self.teacher_logits.as_ref().is_none_or(|p| !p.is_file())
        {
            return Err(Error::Config(
                "soft_weight > 0 needs a teacher (--teacher DIR or FILE.onnx) or an existing --teacher-logits file"
                    .into(),
            ));
        }
        Ok(())
    }

    /// The same settings with every path absolute, so that the saved config works from any
    /// folder.
    pub fn absolute(&self) -> Result<DistillConfig> {
        let optional = |p: &Option<PathBuf>| p.as_deref().map(files::absolute).transpose();
        Ok(DistillConfig {
            data: self.data.absolute()?,
            teacher: self
                .teacher
                .iter()
                .map(|p| files::absolute(p))
                .collect::<Result<_, _>>()?,
            teacher_logits: optional(&self.teacher_logits)?,
            init_from: optional(&self.init_from)?,
            ..self.clone()
        })
    }
}

impl Settings for DistillConfig {
    fn check(&self) -> Result<(), Invalid> {
        check_out(&self.out)?;
        self.data.check()?;
        self.net.check()?;
        self.train.check()?;
        self.onnx.check()?;
        in_range("temperature", self.temperature, 0.01, 1000.0)?;
        in_range("soft_weight", self.soft_weight, 0.0, 1e6)?;
        in_range("hard_weight", self.hard_weight, 0.0, 1e6)?;
        if self.soft_weight == 0.0 && self.hard_weight == 0.0 {
            return Err(Invalid::new(
                "soft_weight",
                0,
                "and hard_weight are both 0: nothing to train on",
            ));
        }
        if self.unlabeled && self.hard_weight != 0.0 {
            return Err(Invalid::new(
                "hard_weight",
                self.hard_weight,
                "the transfer set is unlabeled (--unlabeled): the hard term needs labels; pass --hard-weight 0",
            ));
        }
        if let Some(b) = self.missing_class_bias {
            in_range("missing_class_bias", b, -1e6, 1e6)?;
        }
        if self.qat {
            if let Some(p) = self.qat_percentile
                && !percentile_is_valid(p)
            {
                return Err(Invalid::new("qat_percentile", p, "must be in (50, 100]"));
            }
            in_range(
                "qat_calibration_samples",
                self.qat_calibration_samples,
                1,
                usize::MAX,
            )?;
        }
        Ok(())
    }
}

fn check_out(out: &std::path::Path) -> Result<(), Invalid> {
    if out.as_os_str().is_empty() {
        return Err(Invalid::new("out", "\"\"", "the run folder must be given"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cosine_schedule_runs_from_the_rate_to_zero() {
        let c = |base, step| {
            LrSchedule::Cosine.rate(
                base,
                DEFAULT_LR_DECAY,
                StepOfRun {
                    step,
                    per_epoch: 10,
                    total: 100,
                },
            )
        };
        assert_eq!(c(1e-3, 0), 1e-3);
        assert!((c(1e-3, 50) - 5e-4).abs() < 1e-12);
        assert!(c(1e-3, 99) < 1e-6);
        assert!((1..100).all(|k| c(1.0, k) < c(1.0, k - 1)));
        let constant = LrSchedule::Constant.rate(
            2e-3,
            DEFAULT_LR_DECAY,
            StepOfRun {
                step: 77,
                per_epoch: 10,
                total: 100,
            },
        );
        assert_eq!(constant, 2e-3);
    }

    #[test]
    fn choices_name_themselves_both_ways() {
        crate::config::check_choice::<LrSchedule>();
        crate::config::check_choice::<DistillMode>();
        crate::config::check_choice::<Arch>();
        crate::config::check_choice::<DeviceChoice>();
        crate::config::check_choice::<crate::train::optimizer::OptimizerKind>();
    }

    /// A saved config.toml is flat (its keys are the flags) and reads back equal.
    #[test]
    fn configs_round_trip_through_flat_toml() {
        let c = DistillConfig {
            missing_class_bias: Some(3.5),
            teacher: vec!["t".into()],
            ..DistillConfig::default()
        };
        let text = crate::config::to_toml(&c).expect("toml");
        let table: toml::Table = toml::from_str(&text).expect("parse");
        for key in ["temperature", "hidden", "split_seed", "missing_class_bias"] {
            assert!(table.contains_key(key), "{key} missing from\n{text}");
        }
        let back: DistillConfig = crate::config::over_defaults(&table).expect("read back");
        assert_eq!(back, c);
        let t = TeacherConfig::default();
        let text = crate::config::to_toml(&t).expect("toml");
        let back: TeacherConfig =
            crate::config::over_defaults(&toml::from_str(&text).expect("parse")).expect("back");
        assert_eq!(back, t);
    }

    /// Unset epochs follow the data's size: 60 on the digits, enough for 1,000 steps on a
    /// small table; set ones are kept, and a saved config without them reads back unset.
    #[test]
    fn unset_epochs_make_at_least_min_steps() {
        let lc = TeacherConfig::default().train;
        assert_eq!(lc.epochs, None);
        assert_eq!(lc.batch_size, 64);
        assert_eq!(lc.epochs_for(1_257), DEFAULT_EPOCHS, "digits: 20 batches");
        assert_eq!(lc.epochs_for(60_000), DEFAULT_EPOCHS, "MNIST");
        assert_eq!(lc.epochs_for(105), 500, "iris: 2 batches");
        assert_eq!(lc.epochs_for(10), MIN_STEPS, "one batch");
        assert_eq!(lc.epochs_for(0), MIN_STEPS);
        let set = LoopConfig {
            epochs: Some(3),
            ..lc.clone()
        };
        assert_eq!(set.epochs_for(105), 3);
        let text = crate::config::to_toml(&TeacherConfig::default()).expect("toml");
        assert!(!text.contains("epochs"), "{text}");
    }

    /// The exponential schedule multiplies the rate by `lr_decay` per epoch, smoothly over
    /// its steps; the recipe's keys stay out of a saved config at their defaults and read
    /// back when set; a decay without its schedule is refused.
    #[test]
    fn exponential_schedule_and_the_recipe_keys() {
        let at = |step| StepOfRun {
            step,
            per_epoch: 10,
            total: 1000,
        };
        let rate = |step| LrSchedule::Exponential.rate(0.5, 0.9, at(step));
        assert!((rate(0) - 0.5).abs() < 1e-12);
        assert!((rate(10) - 0.45).abs() < 1e-12);
        assert!((rate(30) - 0.5 * 0.9f64.powi(3)).abs() < 1e-12);
        assert!(rate(5) < rate(4) && rate(5) > rate(10));
        let plain = crate::config::to_toml(&TeacherConfig::default()).expect("toml");
        for key in [
            "optimizer",
            "momentum",
            "max_norm",
            "lr_decay",
            "input_dropout",
        ] {
            assert!(!plain.contains(key), "{key} in\n{plain}");
        }
        let text = "optimizer = \"sgd\"\nmomentum = 0.99\nmomentum_start = 0.5\nmomentum_epochs = 500\nmax_norm = 3.5\nlr_schedule = \"exponential\"\nlr_decay = 0.998\ninput_dropout = 0.2\n";
        let saved: TeacherConfig =
            crate::config::over_defaults(&toml::from_str(text).expect("parse")).expect("settings");
        assert_eq!(
            saved.train.optim.optimizer,
            crate::train::optimizer::OptimizerKind::Sgd
        );
        assert_eq!(saved.train.optim.momentum_start, Some(0.5));
        assert_eq!(saved.train.optim.max_norm, 3.5);
        assert_eq!(saved.net.input_dropout, 0.2);
        saved.check().expect("valid");
        let back: TeacherConfig = crate::config::over_defaults(
            &toml::from_str(&crate::config::to_toml(&saved).expect("toml")).expect("parse"),
        )
        .expect("back");
        assert_eq!(back, saved);
        let bad = with_train(|t| t.lr_decay = 0.9);
        let e = bad
            .check()
            .expect_err("decay without its schedule")
            .to_string();
        assert!(e.contains("lr_decay"), "{e}");
    }

    /// A key given at its default value is known (it stays out of saved configs only), and a
    /// misspelt one is still refused.
    #[test]
    fn keys_given_at_their_defaults_are_known() {
        let text = "noise = 0.0\nstride = 1\ninput_dropout = 0.0\noptimizer = \"adam\"\nmomentum = 0.9\nmomentum_epochs = 0\nmax_norm = 0.0\nlr_decay = 0.998\n";
        let given: toml::Table = toml::from_str(text).expect("parse");
        let c: TeacherConfig = crate::config::over_defaults(&given).expect("all known");
        assert_eq!(c, TeacherConfig::default());
        let saved = crate::config::to_toml(&c).expect("toml");
        assert!(
            !saved.contains("noise") && !saved.contains("momentum"),
            "{saved}"
        );
        let typo: toml::Table = toml::from_str("max_nrom = 3.0\n").expect("parse");
        let e = crate::config::over_defaults::<TeacherConfig>(&typo)
            .expect_err("unknown")
            .to_string();
        assert!(e.contains("max_nrom") && e.contains("max_norm"), "{e}");
    }

    fn with_train(f: impl FnOnce(&mut LoopConfig)) -> TeacherConfig {
        let mut c = TeacherConfig::default();
        f(&mut c.train);
        c
    }

    /// Pixel jitter by default only for images: a shift moves a table's features into their
    /// neighbours' places. A setting (a flag, a saved config's `jitter = 1`) is kept as given.
    #[test]
    fn jitter_follows_the_kind_of_data() {
        let teacher = TeacherConfig::default().train;
        assert_eq!(teacher.jitter, None);
        assert_eq!(teacher.jitter_for([8, 8, 1]), 1);
        assert_eq!(teacher.jitter_for([28, 28, 3]), 1);
        assert_eq!(teacher.jitter_for([1, 13, 1]), 0);
        assert_eq!(teacher.jitter_for([128, 1, 3]), 0);
        let set = LoopConfig {
            jitter: Some(2),
            ..teacher.clone()
        };
        assert_eq!(set.jitter_for([1, 13, 1]), 2);
        let text = "jitter = 1\n";
        let saved: TeacherConfig =
            crate::config::over_defaults(&toml::from_str(text).expect("parse")).expect("settings");
        assert_eq!(saved.train.jitter, Some(1));
    }
}
