//! An ONNX teacher, loaded: the file checked against the data (one float input whose
//! per-sample size is the sample's, an output of one value per class), analysed and optimised
//! by tract once, then run on batches of raw samples on every core.
//!
//! Determinism: samples go through the model in blocks whose boundaries depend only on the
//! model and the number of samples (never on the number of cores), so a sample's logits are
//! the same bits on any machine with the same tract build.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tract_onnx::prelude::{
    DatumType, InferenceFact, InferenceModelExt, IntoRunnable, TDim, Tensor, TypedModel,
    TypedRunnableModel, tvec,
};

use super::error::OnnxError;
use super::file::{Dim, FLOAT, OnnxFile};
use super::layout::{Placement, PlacementError};
use super::settings::{OnnxSettings, TeacherOutput};
use crate::files;
use crate::fingerprint::sha256_hex;

/// Samples per run of a model whose batch axis is free, at most: large enough for tract's
/// matrix kernels, small enough that a live training batch still spreads over the cores. The
/// model is optimised for exactly its block (tract plans concrete shapes better than a
/// symbolic batch), and the last run of a call is padded with zeros.
pub const BLOCK: usize = 64;

/// Samples per run at the least: below it the per-run work (input layout, thread hand-off)
/// starts to count.
const MIN_BLOCK: usize = 8;

/// What a block's largest intermediate tensor may take: blocks of a model with large
/// activations are made smaller, so that a layer's output is still in the core's cache when
/// the next layer reads it. Measured with `minnow teacher-info` over the 10,000 MNIST test
/// images (bench/onnx_teacher.sh's teachers, one core and two): the CNN (conv 32 of 28x28,
/// 100 KB per sample) ran 15-25 % faster in blocks of 8 than of 64 (4,037-4,187 against
/// 3,267-3,505 images/s on one core), the 784-1200-1200-10 MLP (4.8 KB) best in blocks of 64.
const BLOCK_BYTES: usize = 1 << 20;

/// The batch axis of the model's input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BatchAxis {
    /// Any size: runs take the teacher's `block` of samples (the last one padded with
    /// zeros).
    Free,
    /// Exactly this many samples per run: the last run is padded with zeros.
    Fixed(usize),
}

/// An ONNX model ready to teach samples of one shape.
pub struct OnnxTeacher {
    pub path: PathBuf,
    /// SHA-256 of the file (hex).
    pub sha256: String,
    pub settings: OnnxSettings,
    pub placement: Placement,
    pub batch: BatchAxis,
    pub classes: usize,
    /// Samples per run: the fixed batch, or [`block_for`]'s block when the axis is free.
    pub block: usize,
    plan: Arc<TypedRunnableModel>,
}

impl std::fmt::Debug for OnnxTeacher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OnnxTeacher")
            .field("path", &self.path)
            .field("sha256", &self.sha256)
            .field("settings", &self.settings)
            .field("placement", &self.placement)
            .field("batch", &self.batch)
            .field("classes", &self.classes)
            .field("block", &self.block)
            .finish_non_exhaustive()
    }
}

/// "28x28x1", a sample's shape as messages write it.
pub fn sample_text(sample: [usize; 3]) -> String {
    format!("{}x{}x{}", sample[0], sample[1], sample[2])
}

impl OnnxTeacher {
    /// Loads the ONNX file at `path` to teach samples of shape `sample` (height, width,
    /// channels) and `classes` classes (0: whatever the model outputs).
    pub fn load(
        path: &Path,
        settings: OnnxSettings,
        sample: [usize; 3],
        classes: usize,
    ) -> Result<OnnxTeacher, OnnxError> {
        let bytes = files::read(path)?;
        let file = OnnxFile::decode(path, &bytes)?;
        if let Some((op, node)) = file.unsupported_op() {
            return Err(OnnxError::UnsupportedOp {
                path: path.to_owned(),
                op,
                node,
            });
        }
        let (placement, batch, batch_name) = place(path, &file, settings, sample)?;
        let (plan, block) = optimise(path, &file, &placement, batch, batch_name.as_deref())?;
        let mut teacher = OnnxTeacher {
            path: path.to_owned(),
            sha256: sha256_hex(&bytes),
            settings,
            placement,
            batch,
            classes: 0,
            block,
            plan,
        };
        teacher.classes = teacher.probe_classes()?;
        if classes != 0 && teacher.classes != classes {
            return Err(OnnxError::Classes {
                path: path.to_owned(),
                teacher: teacher.classes,
                data: classes,
            });
        }
        Ok(teacher)
    }

    /// The output's values per sample, from one run on zeros.
    fn probe_classes(&self) -> Result<usize, OnnxError> {
        let rows = self.block;
        let out = self.run_block(&vec![0.0; rows * self.placement.values()], rows)?;
        Ok(out.len() / rows)
    }

    /// Runs one block of `rows` samples already laid out as the input (`rows` is the batch
    /// axis); returns the raw output values of those rows.
    fn run_block(&self, input: &[f32], rows: usize) -> Result<Vec<f32>, OnnxError> {
        let tract_err = |e: tract_onnx::prelude::TractError| OnnxError::Tract {
            path: self.path.clone(),
            stage: "run",
            message: format!("{e:#}"),
        };
        let shape: Vec<usize> = std::iter::once(rows)
            .chain(self.placement.dims.iter().copied())
            .collect();
        let x = Tensor::from_shape(&shape, input).map_err(tract_err)?;
        let outputs = self.plan.run(tvec![x.into()]).map_err(tract_err)?;
        let y = outputs.first().ok_or_else(|| OnnxError::Tract {
            path: self.path.clone(),
            stage: "run",
            message: "the model gave no output".to_owned(),
        })?;
        let y = y.cast_to::<f32>().map_err(tract_err)?;
        let values: Vec<f32> = y
            .to_plain_array_view::<f32>()
            .map_err(tract_err)?
            .iter()
            .copied()
            .collect();
        if y.shape().first() != Some(&rows) || values.is_empty() {
            return Err(OnnxError::Tract {
                path: self.path.clone(),
                stage: "run",
                message: format!(
                    "its first output has shape {:?} for {rows} samples; a teacher outputs (batch, classes)",
                    y.shape()
                ),
            });
        }
        Ok(values)
    }

    /// The teacher's logits for the raw samples `raw` (row-major, one sample after another),
    /// `classes` per sample. Runs on every core: each thread takes the next block not yet
    /// taken, so a core slowed by other work holds up no more than one block. A failing
    /// sample is reported as the first one in the data's order, whichever thread met it.
    pub fn logits(&self, raw: &[f32]) -> Result<Vec<f32>, OnnxError> {
        let dim = self.placement.values();
        let n = raw.len() / dim.max(1);
        let block = self.block;
        let starts: Vec<usize> = (0..n).step_by(block).collect();
        let threads = std::thread::available_parallelism()
            .map_or(1, usize::from)
            .min(starts.len())
            .max(1);
        let next = AtomicUsize::new(0);
        let worker = || {
            let mut done = Vec::new();
            while let Some(&start) = starts.get(next.fetch_add(1, Ordering::Relaxed)) {
                let end = (start + block).min(n);
                done.push((
                    start,
                    self.block_logits(&raw[start * dim..end * dim], start),
                ));
            }
            done
        };
        let mut blocks: Vec<(usize, Result<Vec<f32>, OnnxError>)> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..threads).map(|_| s.spawn(worker)).collect();
            handles
                .into_iter()
                .flat_map(|h| {
                    h.join().unwrap_or_else(|_| {
                        vec![(
                            0,
                            Err(OnnxError::Tract {
                                path: self.path.clone(),
                                stage: "run",
                                message: "a worker thread panicked".to_owned(),
                            }),
                        )]
                    })
                })
                .collect()
        });
        blocks.sort_by_key(|(start, _)| *start);
        let mut out = Vec::with_capacity(n * self.classes);
        for (_, logits) in blocks {
            out.extend(logits?);
        }
        Ok(out)
    }

    /// The logits of the raw samples `raw`, the first of which is sample `first` of the call.
    fn block_logits(&self, raw: &[f32], first: usize) -> Result<Vec<f32>, OnnxError> {
        let dim = self.placement.values();
        let rows = raw.len() / dim;
        let run_rows = self.block;
        let mut input = Vec::with_capacity(run_rows * dim);
        for sample in raw.chunks_exact(dim) {
            self.placement
                .push(sample, |x| self.settings.transform(x), &mut input);
        }
        input.resize(run_rows * dim, 0.0);
        let mut out = self.run_block(&input, run_rows)?;
        out.truncate(rows * self.classes);
        self.to_logits(&mut out, first)?;
        Ok(out)
    }

    /// Turns the raw outputs of samples `first..` into logits as `--teacher-output` says,
    /// refusing values that are not finite (or not probabilities).
    fn to_logits(&self, out: &mut [f32], first: usize) -> Result<(), OnnxError> {
        let classes = self.classes.max(1);
        let at = |i: usize| (first + i / classes, i % classes);
        for (i, v) in out.iter_mut().enumerate() {
            let (sample, class) = at(i);
            let kind = self.settings.teacher_output;
            // A log-probability of -inf is a probability of 0: kept as the log of the smallest
            // normal float (-87.3), as an ensemble's average is.
            let zero_prob = kind == TeacherOutput::LogProbs && *v == f32::NEG_INFINITY;
            if !v.is_finite() && !zero_prob {
                return Err(OnnxError::NonFinite {
                    path: self.path.clone(),
                    sample,
                    class,
                    value: *v,
                });
            }
            match kind {
                TeacherOutput::Logits => {}
                TeacherOutput::LogProbs => *v = v.max(f32::MIN_POSITIVE.ln()),
                TeacherOutput::Probs => {
                    if !(0.0..=1.0 + 1e-3).contains(v) {
                        return Err(OnnxError::NotProbability {
                            path: self.path.clone(),
                            sample,
                            class,
                            value: *v,
                        });
                    }
                    *v = v.max(f32::MIN_POSITIVE).ln();
                }
            }
        }
        Ok(())
    }
}

/// Where samples of shape `sample` go in the file's one input, its batch axis, and the name of
/// a named batch axis.
fn place(
    path: &Path,
    file: &OnnxFile,
    settings: OnnxSettings,
    sample: [usize; 3],
) -> Result<(Placement, BatchAxis, Option<String>), OnnxError> {
    let [input] = file.inputs.as_slice() else {
        return Err(OnnxError::Inputs {
            path: path.to_owned(),
            count: file.inputs.len(),
            names: file
                .inputs
                .iter()
                .map(|i| format!("`{}`", i.name))
                .collect::<Vec<_>>()
                .join(", "),
        });
    };
    if input.elem_type != FLOAT {
        return Err(OnnxError::InputType {
            path: path.to_owned(),
            input: input.name.clone(),
            elem_type: input.type_name(),
        });
    }
    let sample_values: usize = sample.iter().product();
    let shape_err = |model_values: String| OnnxError::InputShape {
        path: path.to_owned(),
        input: input.name.clone(),
        shapes: format!(
            "{} ({model_values}); the data's samples are {} ({sample_values} values)",
            input.shape_text(),
            sample_text(sample)
        ),
    };
    let declared = input
        .shape
        .as_deref()
        .ok_or_else(|| shape_err("no declared shape to place the samples in".to_owned()))?;
    let placement =
        Placement::new(declared, sample, settings.teacher_layout).map_err(|e| match e {
            PlacementError::Count(n) => shape_err(format!("{n} values per sample")),
            PlacementError::NotFixed => shape_err(
                "a batch axis first, then fixed sizes, is what a teacher's input needs".to_owned(),
            ),
        })?;
    let (batch, name) = match &declared[0] {
        Dim::Fixed(0) => return Err(shape_err("a batch of 0 samples".to_owned())),
        Dim::Fixed(b) => (BatchAxis::Fixed(*b), None),
        Dim::Named(n) => (BatchAxis::Free, Some(n.clone())),
        Dim::Unknown => (BatchAxis::Free, None),
    };
    Ok((placement, batch, name))
}

/// The file's model with its input declared as float32 of `placement`'s shape after the
/// batch axis, analysed, optimised and made runnable, once; and the samples per run it was
/// optimised for when its batch axis is free (else the fixed batch).
fn optimise(
    path: &Path,
    file: &OnnxFile,
    placement: &Placement,
    batch: BatchAxis,
    batch_name: Option<&str>,
) -> Result<(Arc<TypedRunnableModel>, usize), OnnxError> {
    let tract_err = |stage: &'static str| {
        move |e: tract_onnx::prelude::TractError| OnnxError::Tract {
            path: path.to_owned(),
            stage,
            message: format!("{e:#}"),
        }
    };
    let dir = path.parent().and_then(Path::to_str);
    let parsed = tract_onnx::onnx()
        .parse(&file.proto, dir)
        .map_err(tract_err("read"))?;
    let mut model = parsed.model;
    // The model's own name for a named batch axis, so that shapes declared inside it agree.
    let symbol = model.symbols.sym(batch_name.unwrap_or("N"));
    let batch_dim: TDim = match batch {
        BatchAxis::Fixed(b) => b.into(),
        BatchAxis::Free => symbol.clone().into(),
    };
    let dims: Vec<TDim> = std::iter::once(batch_dim)
        .chain(placement.dims.iter().map(|&d| d.into()))
        .collect();
    model
        .set_input_fact(0, InferenceFact::dt_shape(DatumType::F32, dims))
        .map_err(tract_err("analyse"))?;
    let mut typed = model
        .into_typed()
        .and_then(TypedModel::into_decluttered)
        .map_err(tract_err("analyse"))?;
    let block = match batch {
        BatchAxis::Fixed(b) => b,
        BatchAxis::Free => {
            // Analysed with the free axis, run with a block of samples: tract's plan for
            // concrete shapes is the faster one (measured by bench/onnx_teacher.sh).
            let one = typed
                .clone()
                .set_symbols(&HashMap::from([(symbol.clone(), TDim::from(1))]))
                .map_err(tract_err("analyse"))?;
            let block = block_for(largest_tensor_bytes(&one));
            typed = typed
                .set_symbols(&HashMap::from([(symbol, TDim::from(block))]))
                .map_err(tract_err("analyse"))?;
            block
        }
    };
    let optimised = typed.into_optimized().map_err(tract_err("optimise"))?;
    let plan = optimised.into_runnable().map_err(tract_err("prepare"))?;
    Ok((plan, block))
}

/// The bytes of the largest tensor any node of `model` computes (constants, the weights, are
/// not computed; shapes it cannot tell count 0).
fn largest_tensor_bytes(model: &TypedModel) -> usize {
    model
        .nodes()
        .iter()
        .flat_map(|node| &node.outputs)
        .filter(|out| out.fact.konst.is_none())
        .filter_map(|out| {
            let dims = out.fact.shape.as_concrete()?;
            Some(dims.iter().product::<usize>() * out.fact.datum_type.size_of())
        })
        .max()
        .unwrap_or(0)
}

/// Samples per run for a model whose largest tensor takes `per_sample` bytes for one sample:
/// as many as fit [`BLOCK_BYTES`], a power of two from [`MIN_BLOCK`] to [`BLOCK`].
fn block_for(per_sample: usize) -> usize {
    let fit = BLOCK_BYTES / per_sample.max(1);
    let pow2 = if fit == 0 { 0 } else { 1 << fit.ilog2() };
    pow2.clamp(MIN_BLOCK, BLOCK)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::train::onnx::settings::TeacherLayout;

    fn fixture(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/onnx")
            .join(name)
    }

    /// `NAME.expected.json`: the inputs, the expected outputs, the settings to run with.
    struct Expected {
        inputs: Vec<f32>,
        outputs: Vec<Vec<f64>>,
        settings: OnnxSettings,
    }

    fn expected(name: &str) -> Expected {
        let text =
            std::fs::read_to_string(fixture(&format!("{name}.expected.json"))).expect("read");
        let v: serde_json::Value = serde_json::from_str(&text).expect("json");
        let rows =
            |key: &str| -> Vec<Vec<f64>> { serde_json::from_value(v[key].clone()).expect("rows") };
        let settings: toml::Table = toml::Table::try_from(v["settings"].clone()).expect("settings");
        Expected {
            inputs: rows("inputs").concat().iter().map(|&x| x as f32).collect(),
            outputs: rows("outputs"),
            settings: crate::config::over_defaults(&settings).expect("settings"),
        }
    }

    /// tract's outputs equal the fixture's, computed with numpy by scripts/onnx_fixtures.py.
    #[test]
    fn outputs_equal_the_fixtures() {
        for name in ["mlp", "cnn", "mlp_probs"] {
            let e = expected(name);
            let t = OnnxTeacher::load(&fixture(&format!("{name}.onnx")), e.settings, [8, 8, 1], 10)
                .expect("load");
            let logits = t.logits(&e.inputs).expect("run");
            assert_eq!(logits.len(), e.outputs.len() * 10, "{name}");
            let mut worst = 0.0_f64;
            for (r, row) in e.outputs.iter().enumerate() {
                for (c, &want) in row.iter().enumerate() {
                    // minnow hands on the log of a probability: compared as probabilities.
                    let got = f64::from(logits[r * 10 + c]);
                    let got = if name == "mlp_probs" { got.exp() } else { got };
                    assert!(
                        (got - want).abs() <= 1e-4,
                        "{name} sample {r} class {c}: tract {got}, expected {want}"
                    );
                    worst = worst.max((got - want).abs());
                }
            }
            eprintln!("{name}: largest difference from the fixture {worst:.2e}");
        }
    }

    #[test]
    fn batches_fixed_and_free() {
        let e = expected("cnn");
        let t = OnnxTeacher::load(&fixture("cnn.onnx"), e.settings, [8, 8, 1], 10).expect("cnn");
        assert_eq!(t.batch, BatchAxis::Fixed(2));
        assert_eq!(t.placement.layout, Some(TeacherLayout::Nchw));
        let m = OnnxTeacher::load(&fixture("mlp.onnx"), e.settings, [8, 8, 1], 0).expect("mlp");
        assert_eq!((m.batch, m.classes), (BatchAxis::Free, 10));
        // More samples than a block, over every core: the same rows as one at a time.
        assert_eq!(m.block, BLOCK, "a small MLP runs in the largest blocks");
        let raw: Vec<f32> = (0..(BLOCK * 2 + 3) * 64).map(|i| (i % 17) as f32).collect();
        let all = m.logits(&raw).expect("all");
        let one = m.logits(&raw[64 * 130..64 * 131]).expect("one");
        assert_eq!(all.len(), (BLOCK * 2 + 3) * 10);
        for (a, b) in all[130 * 10..131 * 10].iter().zip(&one) {
            assert!((a - b).abs() < 1e-5, "{a} vs {b}");
        }
        assert_eq!(m.logits(&raw).expect("again"), all);
    }

    /// Blocks shrink with the largest activation, in powers of two from 8 to 64 samples.
    #[test]
    fn blocks_fit_the_largest_activation() {
        assert_eq!(
            block_for(1200 * 4),
            64,
            "the MLP teacher: 4.8 KB per sample"
        );
        assert_eq!(
            block_for(32 * 28 * 28 * 4),
            8,
            "the CNN teacher: 100 KB per sample"
        );
        assert_eq!(block_for(BLOCK_BYTES / 16), 16);
        assert_eq!(block_for(BLOCK_BYTES / 16 + 1), 8);
        assert_eq!(block_for(0), BLOCK, "shapes tract cannot tell");
        assert_eq!(block_for(usize::MAX), MIN_BLOCK);
    }

    #[test]
    fn errors_name_the_file_and_the_problem() {
        let s = OnnxSettings::default();
        let e = OnnxTeacher::load(&fixture("unsupported.onnx"), s, [8, 8, 1], 10).expect_err("Det");
        assert!(
            matches!(&e, OnnxError::UnsupportedOp { op, .. } if op == "Det"),
            "{e}"
        );
        assert!(
            e.to_string()
                .contains("unsupported.onnx: the node that outputs `det` uses the op Det"),
            "{e}"
        );

        let e = OnnxTeacher::load(&fixture("mlp.onnx"), s, [28, 28, 1], 10).expect_err("784");
        let msg = e.to_string();
        for part in [
            "mlp.onnx",
            "(batch, 64)",
            "64 values per sample",
            "28x28x1",
            "784 values",
        ] {
            assert!(msg.contains(part), "{part} missing: {msg}");
        }

        let e = OnnxTeacher::load(&fixture("mlp.onnx"), s, [8, 8, 1], 3).expect_err("classes");
        assert_eq!(
            e.to_string(),
            format!(
                "{}: the teacher outputs 10 classes; the data has 3",
                fixture("mlp.onnx").display()
            )
        );

        // nan.onnx takes the log of the first ten pixels: sample 2 has a 0 among them.
        let t = OnnxTeacher::load(&fixture("nan.onnx"), s, [8, 8, 1], 10).expect("nan");
        let mut raw = vec![1.0_f32; 4 * 64];
        raw[2 * 64 + 3] = 0.0;
        let e = t.logits(&raw).expect_err("-inf");
        assert!(
            matches!(
                e,
                OnnxError::NonFinite {
                    sample: 2,
                    class: 3,
                    ..
                }
            ),
            "{e}"
        );
        assert!(e.to_string().contains("of sample 2 is not finite"), "{e}");

        // Logits read as probabilities are refused, not logged into NaN.
        let probs = OnnxSettings {
            teacher_output: TeacherOutput::Probs,
            ..expected("mlp").settings
        };
        let t = OnnxTeacher::load(&fixture("mlp.onnx"), probs, [8, 8, 1], 10).expect("mlp");
        let e = t.logits(&expected("mlp").inputs).expect_err("not probs");
        assert!(e.to_string().contains("is not a probability"), "{e}");
    }

    #[test]
    fn a_file_that_is_not_onnx_is_named() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("model.onnx");
        std::fs::write(&path, "name,value\n1,2\n").expect("write");
        let e =
            OnnxTeacher::load(&path, OnnxSettings::default(), [8, 8, 1], 10).expect_err("not onnx");
        assert!(
            e.to_string()
                .starts_with(&format!("{}: not an ONNX file", path.display())),
            "{e}"
        );
    }
}
