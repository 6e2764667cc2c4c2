//! The `minnow` command: its subcommands, each with its own flags struct, and how each is run.
//! To add a subcommand, add a variant and a match arm in [`execute`].

use std::ffi::OsString;

use clap::{Parser, Subcommand};

use crate::cli::adopt::AdoptArgs;
use crate::cli::emit::{EmitArgs, parse_emit, run_request};
use crate::cli::export::ExportArgs;
use crate::cli::run::RunArgs;
use crate::cli::teacher::TeacherInfoArgs;
use crate::cli::train::{
    DistillArgs, FingerprintArgs, ResumeArgs, TrainTeacherArgs, distill_config, resume_dir,
    teacher_config,
};
use crate::cli::verify::VerifyArgs;
use crate::deploy::emit as emit_sources;
use crate::error::Result;
use crate::run::export::{ExportRun, export_run, summary};
use crate::train::adopt::adopt_logits;
use crate::train::distill::distill;
use crate::train::onnx::info::teacher_info;
use crate::train::onnx::settings::OnnxSettings;
use crate::train::resume::resume;
use crate::train::teacher::train_teacher;
use crate::train::teachers::teacher_fingerprint;

const MAIN_EXAMPLES: &str = "\
Examples:
  minnow train-teacher --out runs/teacher
  minnow distill --teacher runs/teacher --out runs/student
  minnow distill --soft-weight 0 --hard-weight 1 --out runs/baseline
  minnow train-teacher --resume runs/teacher";

const TEACHER_EXAMPLES: &str = "\
Examples:
  # MLP teacher (2x256, dropout 0.2, 1-pixel jitter) on the built-in digits
  minnow train-teacher --out runs/teacher
  # small CNN teacher on MNIST
  minnow train-teacher --mnist data/mnist --arch cnn --channels 16,32 --hidden 64 --out runs/cnn
  # an ensemble of 3 teachers (seeds 0, 1, 2) in runs/ens/member-{0,1,2}
  minnow train-teacher --members 3 --out runs/ens
  # settings from a file, one overridden
  minnow train-teacher --config teacher.toml --epochs 10
  # continue a killed run
  minnow train-teacher --resume runs/teacher";

const DISTILL_EXAMPLES: &str = "\
Examples:
  # distil at T=4 with a small hard-label term (the defaults) into an MLP with 32 hidden units
  minnow distill --teacher runs/teacher --hidden 32 --out runs/student
  # soft targets only, at T=3
  minnow distill --teacher runs/teacher --temperature 3 --hard-weight 0 --out runs/soft
  # hard-label baseline (no teacher)
  minnow distill --soft-weight 0 --hard-weight 1 --out runs/baseline
  # unlabeled transfer set, ensemble teacher, depthwise CNN student
  minnow distill --teacher runs/ens --unlabeled --hard-weight 0 --arch dwcnn --channels 8,16 --out runs/dw
  # Hinton's omitted-class experiment: no 3s in the transfer set, then raise the bias of 3
  minnow distill --teacher runs/teacher --omit-classes 3 --missing-class-bias 3.5 --out runs/no3
  # a teacher trained elsewhere, exported to ONNX (trained on pixels / 255, 1-pixel jitter)
  minnow distill --teacher teacher.onnx --teacher-scale 0.00392157 --jitter 1 --out runs/s
  # an ensemble of an ONNX teacher and a minnow teacher
  minnow distill --teacher teacher.onnx --teacher runs/teacher --out runs/mixed
  # teacher logits computed once and cached (reused when the file exists)
  minnow distill --teacher runs/teacher --teacher-logits runs/teacher/logits.npy --out runs/s
  # logit matching (the high-temperature limit)
  minnow distill --teacher runs/teacher --mode logit-matching --out runs/lm
  # quantization-aware fine-tuning of a trained student: 3 epochs through int8 rounding
  minnow distill --teacher runs/teacher --init-from runs/student --qat --epochs 3 \\
      --learning-rate 1e-4 --out runs/student-qat";

const RESUME_EXAMPLES: &str = "\
Examples:
  minnow resume runs/student
  minnow resume runs/teacher --quiet";

const EXPORT_EXAMPLES: &str = "\
Examples:
  # int8 student, golden vectors and report, with the teacher's columns filled in
  minnow export runs/student --teacher runs/teacher
  # fail unless the student fits 32 KB of flash and 8 KB of RAM
  minnow export runs/student --max-flash 32k --max-ram 8k
  # percentile calibration, 20 golden vectors (small boards)
  minnow export runs/student --percentile 99.99 --golden 20
  # and the student as C sources for your firmware (student.h, student.c, golden.h, golden.c)
  minnow export runs/student --emit c firmware/minnow";

const EMIT_EXAMPLES: &str = "\
Examples:
  # an exported run's student as a Rust module (mod.rs + the blobs) of your firmware crate
  minnow emit rust src/student runs/student
  # as C: student.h/student.c (and golden.h/golden.c), to compile with capi/include/minnow.h
  minnow emit c build/minnow runs/student
  # any student file (and golden vectors)
  minnow emit c build/minnow --student s.minnow --golden g.mngv";

const VERIFY_EXAMPLES: &str = "\
Examples:
  # Cortex-M4 in QEMU (mps2-an386)
  minnow verify runs/student
  # Cortex-M0 (micro:bit in QEMU)
  minnow verify runs/student --core m0
  # a real board: print the build and probe-rs commands
  minnow verify runs/student --probe STM32F411RETx";

const FINGERPRINT_EXAMPLES: &str = "\
Examples:
  minnow teacher-fingerprint runs/teacher
  minnow teacher-fingerprint teacher.onnx --teacher-scale 0.00392157";

const TEACHER_INFO_EXAMPLES: &str = "\
Examples:
  # inputs, outputs, ops and parameters
  minnow teacher-info teacher.onnx
  # and its accuracy on MNIST's test set, seeing pixels / 255
  minnow teacher-info teacher.onnx --mnist ../shared/data/mnist --teacher-scale 0.00392157";

/// Distil a large teacher into a tiny int8 student for Cortex-M.
#[derive(Debug, Parser)]
#[command(name = "minnow", version, about, after_help = MAIN_EXAMPLES)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Train a teacher (or an ensemble of teachers) on hard labels.
    #[command(after_help = TEACHER_EXAMPLES)]
    TrainTeacher(TrainTeacherArgs),
    /// Distil a student from a teacher or ensemble (or train a hard-label baseline).
    #[command(after_help = DISTILL_EXAMPLES)]
    Distill(DistillArgs),
    /// Continue a killed train-teacher or distill run from its folder.
    #[command(after_help = RESUME_EXAMPLES)]
    Resume(ResumeArgs),
    /// Turn teacher logits computed elsewhere (one NPY row per sample of the data file, in file
    /// order) into the cache `distill --teacher-logits` reads.
    AdoptLogits(AdoptArgs),
    /// Print a teacher's fingerprint (the key of its cached logits).
    #[command(after_help = FINGERPRINT_EXAMPLES)]
    TeacherFingerprint(FingerprintArgs),
    /// Describe an ONNX teacher (inputs, outputs, ops, parameters) and, given data, score it on
    /// the test split.
    #[command(after_help = TEACHER_INFO_EXAMPLES)]
    TeacherInfo(TeacherInfoArgs),
    /// Quantize a distilled student to int8, evaluate it through minnow-core and write
    /// student.minnow, golden.mngv, report.json and report.md into its run folder.
    #[command(after_help = EXPORT_EXAMPLES)]
    Export(ExportArgs),
    /// Write an exported student (and its golden vectors) as C or Rust sources that your
    /// firmware compiles in: the blob, its sizes as constants, and the op set it needs.
    #[command(after_help = EMIT_EXAMPLES)]
    Emit(EmitArgs),
    /// Build the firmware for a run's int8 student, run it in QEMU (or print the probe-rs
    /// commands for a board) and write the device results into report.json.
    #[command(after_help = VERIFY_EXAMPLES)]
    Verify(VerifyArgs),
    /// The whole chain: train a teacher, distil, quantize, export, verify on a Cortex-M in
    /// QEMU, and print one summary table (built-in digits data by default).
    Run(RunArgs),
    /// Find the most accurate distilled student within a flash and RAM budget.
    ///
    /// Every network of the search space is costed exactly before training; those that fit
    /// are distilled in rungs of growing epochs (successive halving, picked on validation), and
    /// the winner is exported and verified like `minnow run`'s student.
    #[command(after_help = crate::cli::fit::FIT_EXAMPLES)]
    Fit(crate::cli::fit::FitArgs),
    /// Fit the instruction model to verified runs (scripts/calibrate-instructions.sh).
    #[command(hide = true)]
    CalibrateInstructions(crate::cli::fit::CalibrateArgs),
}

/// Runs a parsed command.
pub fn execute(cli: Cli) -> Result<()> {
    match cli.command {
        Command::TrainTeacher(a) => {
            match resume_dir(&a.common) {
                Some((dir, quiet)) => resume(&dir, quiet).map(|_| ())?,
                None => train_teacher(&teacher_config(&a)?).map(|_| ())?,
            };
        }
        Command::Distill(a) => {
            match resume_dir(&a.common) {
                Some((dir, quiet)) => resume(&dir, quiet).map(|_| ())?,
                None => distill(&distill_config(&a)?).map(|_| ())?,
            };
        }
        Command::Resume(a) => {
            resume(&a.dir, a.quiet.then_some(true))?;
        }
        Command::TeacherFingerprint(a) => {
            let onnx = a.onnx.over(&OnnxSettings::default())?;
            println!("{}", teacher_fingerprint(&a.teacher, &onnx)?);
        }
        Command::TeacherInfo(a) => {
            let onnx = a.onnx.over(&OnnxSettings::default())?;
            print!("{}", teacher_info(&a.file, onnx, a.data()?.as_ref())?);
        }
        Command::Export(a) => {
            let out = a.out.clone().unwrap_or_else(|| a.run_dir.clone());
            let emit = parse_emit(&a.emit)?;
            let exported = export_run(&ExportRun {
                run_dir: &a.run_dir,
                student: a.student.as_deref(),
                out: &out,
                teacher: a.teacher()?,
                config: &a.config(),
                write_predictions: false,
            })?;
            eprintln!("{}", summary(&exported, &out));
            if let Some((language, dir)) = emit {
                let written = emit_sources(&run_request(language, &out, &dir))?;
                eprintln!("{}: {}", dir.display(), written.join(", "));
            }
        }
        Command::Emit(a) => {
            let written = emit_sources(&a.request()?)?;
            eprintln!("{}: {}", a.out.display(), written.join(", "));
        }
        Command::Verify(a) => a.run()?,
        Command::AdoptLogits(a) => {
            adopt_logits(&a.from, &distill_config(&a.distill)?)?;
        }
        Command::Run(a) => {
            crate::fit::search::run_within_budget_and_print(&a.resolve()?, a.student_given())?
        }
        Command::Fit(a) => crate::fit::search::fit_and_print(&a.resolve()?)?,
        Command::CalibrateInstructions(a) => a.run()?,
    }
    Ok(())
}

/// Parses `args` (including the program name) and runs; returns the exit status.
pub fn run<I, T>(args: I) -> i32
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(c) => c,
        Err(e) => {
            // --help and --version print to stdout and succeed; usage errors exit with 2.
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return code;
        }
    };
    match execute(cli) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("error: {e}");
            e.exit_code()
        }
    }
}

/// The binary's `main`: no Rust backtraces, `error: …` messages, exit status 0/1/2.
pub fn main() -> i32 {
    std::panic::set_hook(Box::new(|info| {
        let msg = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".to_owned());
        let at = info
            .location()
            .map(|l| format!(" (at {}:{})", l.file(), l.line()))
            .unwrap_or_default();
        eprintln!("error: internal error: {msg}{at}");
    }));
    std::panic::catch_unwind(|| run(std::env::args_os())).unwrap_or(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config;
    use crate::train::cache::{LogitCache, LogitDtype, Provenance, write_cache};
    use crate::train::config::{DistillConfig, LrSchedule};
    use crate::train::optimizer::OptimizerKind;
    use crate::train::transfer::transfer_set;

    fn parse(args: &[&str]) -> Cli {
        Cli::try_parse_from(std::iter::once("minnow").chain(args.iter().copied())).expect("parses")
    }

    /// The flags of `minnow distill ARGS`.
    fn distill_args(args: &[&str]) -> DistillArgs {
        let all: Vec<&str> = std::iter::once("distill")
            .chain(args.iter().copied())
            .collect();
        match parse(&all).command {
            Command::Distill(a) => a,
            other => panic!("parsed as {other:?}"),
        }
    }

    #[test]
    fn hidden_without_a_value_means_none_and_lr_schedule_parses() -> Result<()> {
        let a = distill_args(&[
            "--teacher",
            "t",
            "--arch",
            "cnn",
            "--hidden",
            "--lr-schedule",
            "cosine",
        ]);
        let c = distill_config(&a)?;
        assert!(c.net.hidden.is_empty());
        assert_eq!(c.train.lr_schedule, LrSchedule::Cosine);
        // and it survives the config.toml round trip (an empty list, not the default)
        let back: DistillConfig =
            config::over_defaults(&toml::from_str(&config::to_toml(&c)?).expect("toml"))?;
        assert!(back.net.hidden.is_empty());
        assert_eq!(back.train.lr_schedule, LrSchedule::Cosine);
        Ok(())
    }

    /// The recipe flags (Hinton et al. 2012's optimizer, max-norm, input dropout) reach the
    /// config and survive its round trip; `--noise 0` (a key at its default) is accepted.
    #[test]
    fn recipe_flags() -> Result<()> {
        let a = distill_args(&[
            "--teacher",
            "t",
            "--optimizer",
            "sgd",
            "--momentum",
            "0.99",
            "--momentum-start",
            "0.5",
            "--momentum-epochs",
            "10",
            "--lr-schedule",
            "exponential",
            "--lr-decay",
            "0.95",
            "--max-norm",
            "3.5",
            "--input-dropout",
            "0.2",
            "--noise",
            "0",
        ]);
        let c = distill_config(&a)?;
        assert_eq!(c.train.optim.optimizer, OptimizerKind::Sgd);
        assert_eq!(c.train.optim.momentum_at(0), 0.5);
        assert_eq!(c.train.optim.momentum_at(10), 0.99);
        assert_eq!(c.train.optim.max_norm, 3.5);
        assert_eq!(c.train.lr_decay, 0.95);
        assert_eq!(c.net.input_dropout, 0.2);
        let back: DistillConfig =
            config::over_defaults(&toml::from_str(&config::to_toml(&c)?).expect("toml"))?;
        assert_eq!(back, c);
        let bad = distill_args(&["--teacher", "t", "--momentum-start", "0.5"]);
        let e = distill_config(&bad)
            .expect_err("a ramp without sgd")
            .to_string();
        assert!(e.contains("momentum"), "{e}");
        Ok(())
    }

    /// The QAT flags reach the config and its saved `config.toml` (which resume and export
    /// read back); a config file's relative `init_from` is taken from the file's folder.
    #[test]
    fn quantization_aware_flags() -> Result<()> {
        let a = distill_args(&[
            "--init-from",
            "runs/base",
            "--qat",
            "--qat-percentile",
            "99.9",
            "--qat-calibration-samples",
            "500",
        ]);
        let c = distill_config(&a)?;
        assert_eq!(
            c.init_from.as_deref(),
            Some(std::path::Path::new("runs/base"))
        );
        assert!(c.qat);
        assert_eq!(c.qat_percentile, Some(99.9));
        assert_eq!(c.qat_calibration_samples, 500);
        let back: DistillConfig =
            config::over_defaults(&toml::from_str(&config::to_toml(&c)?).expect("toml"))?;
        assert_eq!(back, c);
        let plain = distill_config(&distill_args(&[]))?;
        assert!(!plain.qat && plain.init_from.is_none());

        let dir = tempfile::tempdir().expect("tmp");
        let file = dir.path().join("q.toml");
        std::fs::write(&file, "init_from = \"base\"\nqat = true\n").expect("write");
        let c: DistillConfig = config::resolve(Some(&file), toml::Table::new())?;
        assert_eq!(c.init_from, Some(dir.path().join("base")));
        Ok(())
    }

    #[test]
    fn flags_override_config_file() -> Result<()> {
        let dir = tempfile::tempdir().expect("tmp");
        let cfg = dir.path().join("d.toml");
        std::fs::write(&cfg, "temperature = 8.0\nhidden = [64]\nepochs = 3\nteacher = [\"t\"]\n[data]\nkind = \"csv\"\npath = \"x.csv\"\n").expect("write");
        let a = distill_args(&[
            "--config",
            cfg.to_str().unwrap_or_default(),
            "--temperature",
            "2",
            "--hard-weight",
            "0.5",
            "--quiet",
        ]);
        let c = distill_config(&a)?;
        assert_eq!(c.temperature, 2.0);
        assert_eq!(c.net.hidden, vec![64]);
        assert_eq!(c.train.epochs, Some(3));
        assert_eq!(c.hard_weight, 0.5);
        assert!(c.train.quiet);
        // Relative paths in the file are anchored at the file's folder.
        assert_eq!(c.teacher, vec![dir.path().join("t")]);
        assert!(
            matches!(&c.data.source, crate::data::DataSpec::Csv { path, .. } if path == &dir.path().join("x.csv"))
        );
        // The resolved config round-trips through TOML (as saved in config.toml).
        let text = config::to_toml(&c)?;
        let back: DistillConfig = config::over_defaults(&toml::from_str(&text).expect("toml"))?;
        assert_eq!(back, c);
        // A flag for the data source replaces the file's.
        let a = distill_args(&[
            "--config",
            cfg.to_str().unwrap_or_default(),
            "--data",
            "digits",
        ]);
        assert_eq!(
            distill_config(&a)?.data.source,
            crate::data::DataSpec::Digits
        );
        Ok(())
    }

    #[test]
    fn config_file_errors_name_the_file() {
        let dir = tempfile::tempdir().expect("tmp");
        let cfg = dir.path().join("bad.toml");
        std::fs::write(&cfg, "temprature = 3.0\n").expect("write");
        let a = distill_args(&["--config", cfg.to_str().unwrap_or_default()]);
        let e = distill_config(&a).expect_err("unknown key");
        let msg = e.to_string();
        assert!(
            msg.contains("bad.toml") && msg.contains("temprature"),
            "{msg}"
        );
    }

    #[test]
    fn exit_codes() {
        assert_eq!(run(["minnow", "--help"]), 0);
        assert_eq!(run(["minnow", "distill", "--help"]), 0);
        assert_eq!(run(["minnow", "train-teacher", "--help"]), 0);
        assert_eq!(run(["minnow", "distill", "--no-such-flag"]), 2);
        assert_eq!(
            run(["minnow", "distill", "--csv", "a", "--data", "digits"]),
            2
        );
        assert_eq!(run(["minnow", "distill", "--data", "nope", "--quiet"]), 2);
        // A missing file is a failure (1), not a usage error.
        assert_eq!(
            run([
                "minnow",
                "distill",
                "--csv",
                "/nonexistent/x.csv",
                "--soft-weight",
                "0",
                "--hard-weight",
                "1",
                "--quiet",
                "--out",
                "/tmp/minnow-cli-test-unused"
            ]),
            1
        );
        assert_eq!(
            run(["minnow", "teacher-fingerprint", "/nonexistent/teacher"]),
            1
        );
    }

    /// Logits "computed elsewhere": a fixed function of each sample, so the right row order can
    /// be checked from the transfer set alone.
    fn foreign_logits(sample: &[f32], classes: usize) -> Vec<f32> {
        (0..classes)
            .map(|k| sample.iter().sum::<f32>() * (k as f32 + 1.0) * 0.01)
            .collect()
    }

    #[test]
    fn adopted_logits_follow_the_transfer_order_and_distill_reads_them() -> Result<()> {
        let dir = tempfile::tempdir().expect("tmp");
        let csv = dir.path().join("d.csv");
        let mut text = String::new();
        let mut rows = Vec::new();
        for i in 0..120u32 {
            let label = i % 3;
            let x: Vec<f32> = (0..6)
                .map(|j| ((i * 7 + j * 13) % 17) as f32 + label as f32)
                .collect();
            text.push_str(&format!(
                "{},{label}\n",
                x.iter().map(f32::to_string).collect::<Vec<_>>().join(",")
            ));
            rows.push(x);
        }
        std::fs::write(&csv, text).expect("csv");
        let logits: Vec<f32> = rows.iter().flat_map(|x| foreign_logits(x, 3)).collect();
        let from = dir.path().join("elsewhere.npy");
        // Written by the cache writer here; adopt only reads it as a foreign NPY (no sidecar).
        write_cache(
            &from,
            &logits,
            3,
            LogitDtype::F32,
            &Provenance {
                data_fingerprint: String::new(),
                teacher_fingerprint: String::new(),
                producer: "test".into(),
            },
        )?;
        let _ = std::fs::remove_file(from.with_extension("npy.json"));
        let cache = dir.path().join("cache.npy");
        let (csv_s, from_s, cache_s) = (
            csv.to_string_lossy(),
            from.to_string_lossy(),
            cache.to_string_lossy(),
        );
        let cli = Cli::try_parse_from([
            "minnow",
            "adopt-logits",
            "--from",
            &from_s,
            "--csv",
            &csv_s,
            "--teacher-logits",
            &cache_s,
            "--omit-classes",
            "2",
        ])
        .expect("parses");
        let Command::AdoptLogits(args) = cli.command else {
            panic!("parsed as another command")
        };
        let cfg = distill_config(&args.distill)?;
        let n = adopt_logits(&args.from, &cfg)?;
        let (_, transfer) = transfer_set(&cfg)?;
        assert_eq!(n, transfer.len());
        assert!(transfer.labels.as_deref().is_some_and(|l| !l.contains(&2)));
        let opened = LogitCache::open(&cache, &transfer.fingerprint(), None)?;
        let mut row = vec![0.0; 3];
        for i in 0..transfer.len() {
            opened.row(i, &mut row)?;
            assert_eq!(row, foreign_logits(transfer.sample(i), 3), "row {i}");
        }
        // distill accepts the adopted cache without a teacher
        let out = dir.path().join("student");
        let code = run([
            "minnow",
            "distill",
            "--csv",
            &csv_s,
            "--teacher-logits",
            &cache_s,
            "--omit-classes",
            "2",
            "--jitter",
            "0",
            "--epochs",
            "2",
            "--hidden",
            "4",
            "--quiet",
            "--out",
            &out.to_string_lossy(),
        ]);
        assert_eq!(code, 0);
        assert!(out.join("student.float.json").is_file());
        Ok(())
    }
}
