//! The flags of `minnow run`, resolved over its `--config` file and the defaults.

use std::path::{Path, PathBuf};

use clap::Args;

use crate::cli::choice::choice;
use crate::cli::data::DataArgs;
use crate::cli::export::ExportFlags;
use crate::cli::teacher::OnnxFlags;
use crate::config;
use crate::data::NormScope;
use crate::error::Result;
use crate::net::spec::Arch;
use crate::run::RunConfig;

const RUN_EXAMPLES: &str = "\
Examples:
  # the whole chain on the built-in digits set, verified on a Cortex-M4 in QEMU
  minnow run
  # your own data, a bigger student, verified on a Cortex-M0
  minnow run --mnist ../shared/data/mnist --student-hidden 64 --core m0 --golden 20 --out runs/mnist
  # a teacher trained elsewhere: a PyTorch model exported to ONNX, trained on pixels / 255
  minnow run --mnist ../shared/data/mnist --teacher teacher.onnx --teacher-scale 0.00392157
  # sensor windows (N, 128, 3) as sequences, 1-D CNN teacher and student, on a Cortex-M0
  minnow run --npy x.npy y.npy --shape 128,1,3 --arch cnn1d --student-channels 8,16 --core m0
  # settings from a file ([teacher], [student], [export], [device] tables)
  minnow run --config run.toml
  # host only (no firmware build or QEMU)
  minnow run --core none";

/// `minnow run` flags; each overrides the same setting of `--config`.
#[derive(Debug, Clone, Default, Args)]
#[command(after_help = RUN_EXAMPLES)]
pub struct RunArgs {
    #[command(flatten)]
    pub data: DataArgs,
    /// A RunConfig TOML file ([teacher], [student], [export], [device] tables).
    #[arg(long, value_name = "FILE.toml")]
    pub config: Option<PathBuf>,
    /// Run folder.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// A teacher to distil from instead of training one: an ONNX file, or a run folder
    /// (repeat for an ensemble).
    #[arg(long, value_name = "DIR|FILE.onnx")]
    pub teacher: Vec<PathBuf>,
    #[command(flatten)]
    pub onnx: OnnxFlags,
    /// Seed of every step (training, split).
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,
    /// Teacher training epochs.
    #[arg(long, value_name = "N")]
    pub teacher_epochs: Option<usize>,
    /// Student training epochs.
    #[arg(long, value_name = "N")]
    pub student_epochs: Option<usize>,
    /// Input normalisation of teacher and student: global, per-channel or per-value (default:
    /// per channel for images and sequences, per value for tables).
    #[arg(long, value_parser = choice::<NormScope>())]
    pub normalization: Option<NormScope>,
    /// The teacher's random input shifts of up to N pixels (0 = off). Default: 1 for images
    /// (height and width over 1), 0 for tabular rows and sequences.
    #[arg(long, value_name = "N")]
    pub jitter: Option<usize>,
    /// The teacher's Gaussian input noise, in standard deviations of each feature (0 = off; the
    /// default). For tabular rows and sequences.
    #[arg(long, value_name = "STD")]
    pub noise: Option<f32>,
    /// Network family of the teacher and the student (mlp, cnn, dwcnn, cnn1d).
    #[arg(long, value_parser = choice::<Arch>())]
    pub arch: Option<Arch>,
    /// The teacher's conv block widths (cnn, dwcnn, cnn1d), e.g. 16,32.
    #[arg(long, value_name = "N,...", value_delimiter = ',')]
    pub teacher_channels: Option<Vec<usize>>,
    /// Hidden dense layer sizes of the teacher, e.g. 256,256 (`--teacher-hidden` with no
    /// value: none).
    #[arg(long, value_name = "N,...", value_delimiter = ',', num_args = 0..)]
    pub teacher_hidden: Option<Vec<usize>>,
    /// The student's conv block widths (cnn, dwcnn, cnn1d), e.g. 8,16.
    #[arg(long, value_name = "N,...", value_delimiter = ',')]
    pub student_channels: Option<Vec<usize>>,
    /// Hidden dense layer sizes of the student, e.g. 32 or 64,32 (`--student-hidden` with no
    /// value: none, the conv stack feeding the output layer).
    #[arg(long, value_name = "N,...", value_delimiter = ',', num_args = 0..)]
    pub student_hidden: Option<Vec<usize>>,
    /// Distillation temperature T.
    #[arg(long, value_name = "T")]
    pub temperature: Option<f32>,
    /// Weight of the soft (teacher) term, multiplied by T^2 inside the loss.
    #[arg(long, value_name = "W")]
    pub soft_weight: Option<f32>,
    /// Weight of the hard-label term (cross-entropy at T = 1).
    #[arg(long, value_name = "W")]
    pub hard_weight: Option<f32>,
    #[command(flatten)]
    pub export: ExportFlags,
    /// Core to verify on in QEMU (m0, m3, m4, m7, m33), or `none` to stop after export.
    #[arg(long, value_name = "CORE")]
    pub core: Option<String>,
    /// Most instructions per inference on --core, predicted before training by a model
    /// calibrated in QEMU (docs/instructions.md), e.g. 200k or 1.5M; a student over it is
    /// refused (or, left to the defaults, replaced by the best that fits, as minnow fit finds
    /// it).
    #[arg(long, value_name = "N", value_parser = parse_count)]
    pub max_instructions: Option<u64>,
    /// No progress bars.
    #[arg(long, short)]
    pub quiet: bool,
}

impl RunArgs {
    /// Whether the student's network was chosen (by a flag or a `--config` file) rather than
    /// left to the defaults: over a budget, a chosen one is refused, a default one replaced by
    /// the search's pick.
    pub fn student_given(&self) -> bool {
        self.config.is_some()
            || self.arch.is_some()
            || self.student_hidden.is_some()
            || self.student_channels.is_some()
    }

    /// The resolved configuration: defaults, then `--config`, then flags.
    pub fn resolve(&self) -> Result<RunConfig> {
        let mut cfg: RunConfig = match &self.config {
            Some(path) => {
                let mut c: RunConfig = config::load_toml(path)?;
                let base = path.parent().unwrap_or(Path::new("."));
                c.teacher.data.source = c.teacher.data.source.resolve_relative_to(base);
                if c.out.is_relative() && self.out.is_none() {
                    c.out = base.join(&c.out);
                }
                for t in &mut c.teachers {
                    if t.is_relative() {
                        *t = base.join(&*t);
                    }
                }
                c
            }
            None => RunConfig::default(),
        };
        if let Some(spec) = self.data.spec()? {
            cfg.teacher.data.source = spec;
        }
        if let Some(out) = &self.out {
            cfg.out = out.clone();
        }
        if !self.teacher.is_empty() {
            cfg.teachers = self.teacher.clone();
        }
        cfg.student.onnx = self.onnx.over(&cfg.student.onnx)?;
        if let Some(seed) = self.seed {
            cfg.teacher.train.seed = seed;
            cfg.teacher.data.split_seed = seed;
            cfg.student.train.seed = seed;
        }
        if let Some(n) = self.teacher_epochs {
            cfg.teacher.train.epochs = Some(n);
        }
        if let Some(n) = self.student_epochs {
            cfg.student.train.epochs = Some(n);
        }
        if self.normalization.is_some() {
            cfg.teacher.data.normalization = self.normalization;
        }
        if let Some(noise) = self.noise {
            cfg.teacher.train.noise = noise;
        }
        if self.jitter.is_some() {
            cfg.teacher.train.jitter = self.jitter;
        }
        if let Some(arch) = self.arch {
            cfg.teacher.net.arch = arch;
            cfg.student.net.arch = arch;
        }
        if let Some(c) = &self.teacher_channels {
            cfg.teacher.net.channels = c.clone();
        }
        if let Some(h) = &self.teacher_hidden {
            cfg.teacher.net.hidden = h.clone();
        }
        if let Some(c) = &self.student_channels {
            cfg.student.net.channels = c.clone();
        }
        if let Some(h) = &self.student_hidden {
            cfg.student.net.hidden = h.clone();
        }
        if let Some(t) = self.temperature {
            cfg.student.temperature = t;
        }
        if let Some(w) = self.soft_weight {
            cfg.student.soft_weight = w;
        }
        if let Some(w) = self.hard_weight {
            cfg.student.hard_weight = w;
        }
        self.export.apply(&mut cfg.export);
        if let Some(core) = &self.core {
            cfg.device.core = core.clone();
        }
        if self.max_instructions.is_some() {
            cfg.device.max_instructions = self.max_instructions;
        }
        if self.quiet {
            cfg.teacher.train.quiet = true;
            cfg.student.train.quiet = true;
        }
        cfg.tie_steps()
    }
}

/// `200000`, `200k`, `1.5M`: a count, with k = 1,000 and M = 1,000,000.
pub fn parse_count(input: &str) -> std::result::Result<u64, String> {
    let s = input.trim();
    let (number, unit) = match s.char_indices().last() {
        Some((i, 'k' | 'K')) => (&s[..i], 1e3),
        Some((i, 'm' | 'M')) => (&s[..i], 1e6),
        _ => (s, 1.0),
    };
    let n: f64 = number
        .parse()
        .map_err(|_| format!("{input:?}: expected a count such as 200000, 200k or 1.5M"))?;
    let count = n * unit;
    if !(1.0..1e15).contains(&count) {
        return Err(format!("{input:?}: expected a count of at least 1"));
    }
    Ok(count.round() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jitter_flag_sets_the_teachers() -> Result<()> {
        let image = [8, 8, 1];
        assert_eq!(
            RunArgs::default()
                .resolve()?
                .teacher
                .train
                .jitter_for(image),
            1
        );
        let off = RunArgs {
            jitter: Some(0),
            ..Default::default()
        };
        assert_eq!(off.resolve()?.teacher.train.jitter_for(image), 0);
        Ok(())
    }

    /// `--noise` augments the teacher's training; the student distils from cached logits of
    /// clean inputs, so its own noise stays off.
    #[test]
    fn noise_flag_sets_the_teachers() -> Result<()> {
        assert_eq!(RunArgs::default().resolve()?.teacher.train.noise, 0.0);
        let noisy = RunArgs {
            noise: Some(0.1),
            ..Default::default()
        }
        .resolve()?;
        assert_eq!(noisy.teacher.train.noise, 0.1);
        assert_eq!(noisy.student.train.noise, 0.0);
        let nan = RunArgs {
            noise: Some(f32::NAN),
            ..Default::default()
        };
        assert!(nan.resolve().is_err(), "NaN noise is refused");
        Ok(())
    }

    #[test]
    fn counts_take_k_and_m() {
        assert_eq!(parse_count("200000"), Ok(200_000));
        assert_eq!(parse_count("200k"), Ok(200_000));
        assert_eq!(parse_count("1.5M"), Ok(1_500_000));
        assert!(parse_count("fast").is_err());
        assert!(parse_count("0").is_err());
        assert!(parse_count("-3k").is_err());
    }
}
