//! The export step of a run folder: `minnow export RUN` and step 3 of `minnow run` are this one
//! function, so a run exported either way gives the same bytes. It reads the float student and
//! the run's data settings, recomputes the splits it trained on (the training split calibrates,
//! the test split is evaluated), and hands them to [`crate::int8::export`].

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::config::{ConfigError, Settings, SettingsError};
use crate::data::{DataConfig, Dataset};
use crate::error::{Error, Result};
use crate::files;
use crate::int8::calibrate::Calibration;
use crate::int8::export::{
    Artifacts, ExportConfig, ExportInputs, ExportPaths, PREDICTIONS_FILE, export,
};
use crate::net::backend::DeviceChoice;
use crate::net::float::FloatStudent;
use crate::percent::pct;
use crate::run::history::run_history;
use crate::train::onnx::settings::OnnxSettings;
use crate::train::teachers::teacher_predictions;

/// The splits of a run folder's data, as it was trained on.
#[derive(Debug)]
pub struct RunData {
    /// The training split: activation ranges are calibrated on it.
    pub train: Dataset,
    /// Empty when the run has no validation split.
    pub val: Dataset,
    pub test: Dataset,
    /// The activation calibration a quantization-aware run trained under (`qat = true`: its
    /// `qat_percentile`, min/max when unset); `None` for other runs.
    pub trained_calibration: Option<Calibration>,
    /// The run's `teacher_*` settings (defaults for a run without them): how its ONNX teachers
    /// saw the samples.
    pub onnx: toml::Table,
}

/// The keys of a run's `config.toml` that say how a quantization-aware run was calibrated.
#[derive(Debug, Default, Deserialize)]
struct TrainedCalibration {
    #[serde(default)]
    qat: bool,
    #[serde(default)]
    qat_percentile: Option<f64>,
}

/// The data of a run folder, from the data and split settings of its `config.toml` (a
/// teacher's or a student's; other keys are not read).
pub fn run_data(config_toml: &Path) -> Result<RunData> {
    let text = files::read_to_string(config_toml)?;
    let parse_err = |e| ConfigError::File {
        path: config_toml.to_owned(),
        source: SettingsError::Parse(e),
    };
    let data: DataConfig = toml::from_str(&text).map_err(parse_err)?;
    let qat: TrainedCalibration = toml::from_str(&text).map_err(parse_err)?;
    let all: toml::Table = toml::from_str(&text).map_err(parse_err)?;
    let keys = toml::Table::try_from(OnnxSettings::default()).map_err(SettingsError::from)?;
    let onnx = all
        .into_iter()
        .filter(|(k, _)| keys.contains_key(k))
        .collect();
    // The same loading and split as training (MNIST: the test split is the official t10k set).
    let s = data.prepare()?;
    Ok(RunData {
        train: s.train,
        val: s.val,
        test: s.test,
        trained_calibration: qat.qat.then(|| {
            qat.qat_percentile
                .map_or(Calibration::MinMax, Calibration::Percentile)
        }),
        onnx,
    })
}

/// Where the teacher's predicted class of each test sample comes from.
#[derive(Debug, Clone)]
pub enum TeacherPredictions {
    /// No teacher: the report's teacher columns stay empty.
    None,
    /// A JSON array of classes, one per test sample.
    File(PathBuf),
    /// Teachers (run folders, ensembles, ONNX files: an ensemble when several), run on the
    /// test split. ONNX teachers run with the run's `teacher_*` settings, `onnx` over them.
    Teachers {
        paths: Vec<PathBuf>,
        onnx: toml::Table,
        device: DeviceChoice,
    },
}

/// What to export.
#[derive(Debug, Clone)]
pub struct ExportRun<'a> {
    /// The run folder of a distilled student (`config.toml`, `student.float.json`).
    pub run_dir: &'a Path,
    /// The float student, if not `run_dir/student.float.json`.
    pub student: Option<&'a Path>,
    /// Where the files go (the run folder unless given).
    pub out: &'a Path,
    pub teacher: TeacherPredictions,
    pub config: &'a ExportConfig,
    /// Also write the teacher's predictions (`teacher_predictions.json`) with the set.
    pub write_predictions: bool,
}

/// What [`export_run`] wrote.
#[derive(Debug, Clone)]
pub struct Exported {
    pub artifacts: Artifacts,
    pub paths: ExportPaths,
    /// The teacher's predicted class of every test sample, when a teacher was given.
    pub teacher_predictions: Option<Vec<u8>>,
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path, what: &'static str) -> Result<T> {
    serde_json::from_slice(&files::read(path)?).map_err(|e| Error::unreadable(path, what, e))
}

/// Quantizes, evaluates and exports a run folder's student (nothing is written on error).
pub fn export_run(req: &ExportRun<'_>) -> Result<Exported> {
    req.config.check()?;
    let student_path = req
        .student
        .map_or_else(|| req.run_dir.join("student.float.json"), Path::to_owned);
    let student: FloatStudent = read_json(&student_path, "not a float student")?;
    let data = run_data(&req.run_dir.join("config.toml"))?;
    let teacher_predictions = match &req.teacher {
        TeacherPredictions::None => None,
        TeacherPredictions::File(path) => {
            Some(read_json(path, "expected a JSON array of classes")?)
        }
        TeacherPredictions::Teachers {
            paths,
            onnx,
            device,
        } => {
            // The run's own settings are checked on their own, so a bad one is blamed on its
            // file and a bad flag on the flags.
            crate::config::over_defaults::<OnnxSettings>(&data.onnx).map_err(|source| {
                ConfigError::File {
                    path: req.run_dir.join("config.toml"),
                    source,
                }
            })?;
            let mut given = data.onnx.clone();
            given.extend(onnx.clone());
            let settings: OnnxSettings = crate::config::over_defaults(&given)?;
            Some(teacher_predictions(paths, &settings, &data.test, *device)?)
        }
    };
    // The curves of the first teacher that is a run folder (an ONNX file has none).
    let teacher_dir = match &req.teacher {
        TeacherPredictions::Teachers { paths, .. } => {
            paths.iter().find(|p| p.is_dir()).map(PathBuf::as_path)
        }
        _ => None,
    };
    let history = run_history(req.run_dir, teacher_dir, req.config)?;
    let inputs = ExportInputs {
        student: &student,
        calibration: &data.train,
        test: &data.test,
        validation: Some(&data.val),
        teacher_predictions: teacher_predictions.as_deref(),
        history: Some(&history),
    };
    // A quantization-aware run trained on its grids: calibrated the same way unless told.
    let opts = req.config.options(data.trained_calibration);
    let predictions = match (&teacher_predictions, req.write_predictions) {
        (Some(p), true) => Some(serde_json::to_vec(p)?),
        _ => None,
    };
    let extra: Vec<(&str, &[u8])> = predictions
        .as_deref()
        .map(|p| (PREDICTIONS_FILE, p))
        .into_iter()
        .collect();
    let (artifacts, paths) =
        export(req.out, &inputs, &opts, &extra).map_err(|source| Error::Export {
            run: req.run_dir.to_owned(),
            source,
        })?;
    Ok(Exported {
        artifacts,
        paths,
        teacher_predictions,
    })
}

/// What `minnow export` prints when it is done.
pub fn summary(exported: &Exported, out: &Path) -> String {
    let r = &exported.artifacts.report;
    let mut lines = vec![format!(
        "export: float {}, int8 {} on {} test samples (int8/float agreement {}, logits cosine {:.6})",
        pct(r.student_float.accuracy),
        pct(r.student_int8.accuracy),
        r.data.test_samples,
        pct(r.student_int8.float_agreement),
        r.student_int8.cosine
    )];
    if let Some(v) = &r.validation {
        lines.push(format!(
            "export: validation split: float {}, int8 {} on {} samples",
            pct(v.float_accuracy),
            pct(v.int8_accuracy),
            v.samples
        ));
    }
    lines.push(format!(
        "export: blob {} B (params {} B), RAM {} B, {} MACs; {} golden vectors ({} B) -> {}",
        r.footprint.blob_bytes,
        r.footprint.weight_bytes,
        r.footprint.ram_bytes,
        r.footprint.macs,
        r.footprint.golden_vectors,
        r.footprint.golden_bytes,
        out.display()
    ));
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::{NormScope, Standardizer};
    use crate::int8::budget;
    use crate::int8::export::tests::train_digits_mlp;

    /// The files a user sees in `dir` (not the hidden lock and file-set generations).
    fn files_in(dir: &Path) -> Vec<String> {
        let names = crate::files::names(dir).expect("list");
        names.into_iter().filter(|n| !n.starts_with('.')).collect()
    }

    #[test]
    fn export_run_folder_with_budgets() {
        let dir = tempfile::tempdir().expect("run dir");
        let config = "val_fraction = 0.1\ntest_fraction = 0.2\nsplit_seed = 7\nepochs = 3\n\n[data]\nkind = \"digits\"\n";
        std::fs::write(dir.path().join("config.toml"), config).expect("config");
        let RunData {
            train, val, test, ..
        } = run_data(&dir.path().join("config.toml")).expect("data");
        assert_eq!((train.len(), val.len(), test.len()), (1258, 180, 359));
        let (norm, _) = Standardizer::fit(&train, NormScope::Global).expect("norm");
        let student = train_digits_mlp(&train, norm, 3);
        let json = serde_json::to_vec(&student).expect("json");
        std::fs::write(dir.path().join("student.float.json"), json).expect("student");
        std::fs::write(
            dir.path().join("teacher.json"),
            serde_json::to_vec(&vec![0_u8; 359]).expect("t"),
        )
        .expect("teacher");
        let mut cfg = ExportConfig {
            golden: 50,
            max_flash: Some(budget::parse_size("1k").expect("size")),
            max_ram: None,
            percentile: Some(99.99),
            calibration_samples: 500,
        };
        let run = |cfg: &ExportConfig| {
            export_run(&ExportRun {
                run_dir: dir.path(),
                student: None,
                out: dir.path(),
                teacher: TeacherPredictions::File(dir.path().join("teacher.json")),
                config: cfg,
                write_predictions: false,
            })
            .map(|e| e.artifacts)
        };
        let e = run(&cfg).expect_err("1k flash is too small");
        assert!(e.to_string().contains("over the budget of 1024"), "{e}");
        assert_eq!(
            files_in(dir.path()),
            ["config.toml", "student.float.json", "teacher.json"]
        );
        cfg.max_flash = Some(budget::parse_size("32k").expect("size"));
        cfg.max_ram = Some(budget::parse_size("16K").expect("size"));
        let art = run(&cfg).expect("export");
        // The run's three files, and the export's five.
        assert_eq!(files_in(dir.path()).len(), 8);
        assert_eq!(art.report.data.calibration_samples, 500);
        assert_eq!(art.report.data.percentile, Some(99.99));
        assert_eq!(art.report.footprint.golden_vectors, 50);
        assert!(art.report.teacher.accuracy.is_some());
        assert_eq!(art.report.validation.as_ref().map(|v| v.samples), Some(180));

        // A quantization-aware run is calibrated as it trained unless --percentile says
        // otherwise; a plain run (above) has no trained calibration.
        let config_of = |extra: &str| {
            std::fs::write(dir.path().join("config.toml"), format!("{extra}{config}"))
                .expect("config")
        };
        assert_eq!(
            run_data(&dir.path().join("config.toml"))
                .expect("data")
                .trained_calibration,
            None
        );
        config_of("qat = true\nqat_percentile = 99.9\n");
        cfg.percentile = None;
        let art = run(&cfg).expect("export as trained");
        assert_eq!(art.report.data.percentile, Some(99.9));
        cfg.percentile = Some(99.99);
        let art = run(&cfg).expect("export as told");
        assert_eq!(art.report.data.percentile, Some(99.99));
        config_of("qat = true\n");
        cfg.percentile = None;
        let art = run(&cfg).expect("export min/max");
        assert_eq!(art.report.data.calibration, "min_max");
        config_of("qat = true\nqat_percentile = \"high\"\n");
        let e = run(&cfg).expect_err("not a number");
        assert!(e.to_string().contains("qat_percentile"), "{e}");
    }
}
