//! What a student network costs on the device, known before it is trained: its flash (the
//! blob's bytes), RAM (scratch + input + logits, as minnow-core computes them) and
//! multiply-accumulates per inference.
//!
//! The cost is exact, not estimated: the network is built with fresh random weights, quantized
//! and encoded by the export's own code, and the blob measured. A blob's size depends only on
//! its layers' shapes, its name and its normalisation pairs (weights, biases and multipliers are
//! raw byte arrays of fixed length; only shapes and lengths are varints), never on the weights'
//! values, so the trained student's blob has exactly these bytes (tested against students with
//! other weights and other calibration data).

use crate::data::{Dataset, NormScope, Standardizer};
use crate::error::{Error, Result};
use crate::int8::budget::{self, Budget, BudgetError, Usage};
use crate::int8::calibrate::QuantizeOptions;
use crate::int8::quantize::quantize_student;
use crate::net::backend;
use crate::net::backend::DeviceChoice;
use crate::net::model::Model;
use crate::net::spec::NetSpec;
use crate::run::RunConfig;
use crate::train::config::DistillConfig;

use super::instructions::Instructions;
use crate::train::distill::blob_name;

/// What a network costs on the device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cost {
    pub usage: Usage,
    /// Multiply-accumulates per inference.
    pub macs: u64,
    /// Instructions per inference on each core, predicted ([`super::instructions`]).
    pub instructions: Instructions,
}

/// Everything a student must fit: the export's flash and RAM budget, and instructions per
/// inference on the core it is verified on.
#[derive(Debug, Clone, PartialEq)]
pub struct Limits {
    pub budget: Budget,
    pub max_instructions: Option<u64>,
    /// The core the instruction budget is for (`minnow run`'s `--core`).
    pub core: String,
}

impl Limits {
    /// The limits of a `minnow run` configuration.
    pub fn of(run: &RunConfig) -> Limits {
        Limits {
            budget: run.export.options(None).budget,
            max_instructions: run.device.max_instructions,
            core: run.device.core.clone(),
        }
    }

    /// Whether any limit is set.
    pub fn is_set(&self) -> bool {
        self.budget.is_set() || self.max_instructions.is_some()
    }

    /// The limits in words, for messages: `flash budget 1024 bytes, 200000 instructions on
    /// the m4`.
    pub fn describe(&self) -> String {
        let part =
            |what: &str, limit: Option<u64>| limit.map(|l| format!("{what} budget {l} bytes"));
        [
            part("flash", self.budget.max_flash),
            part("RAM", self.budget.max_ram),
            self.max_instructions
                .map(|l| format!("{l} instructions per inference on the {}", self.core)),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(", ")
    }
}

/// Samples of the random calibration set: enough for every layer to see varied values.
const CALIBRATION_SAMPLES: usize = 8;

/// The normalisation pairs a student of `shape` stores under `scope` (unset: the default for
/// the shape, as the data stage picks it).
pub fn normalization_pairs(shape: [usize; 3], scope: Option<NormScope>) -> usize {
    match scope.unwrap_or_else(|| NormScope::for_shape(shape)) {
        NormScope::Global => 1,
        NormScope::PerChannel => shape[2],
        NormScope::PerValue => shape.iter().product(),
    }
}

/// The cost of `spec` as a student named `name` with `pairs` normalisation pairs: the export's
/// quantizer and encoder run on random weights and random inputs (`seed`).
pub fn cost(spec: &NetSpec, name: &str, pairs: usize, seed: u64) -> Result<Cost> {
    let device = backend::device(DeviceChoice::Ndarray)?;
    let model = Model::init(spec.clone(), seed, &device)?;
    let norm = Standardizer {
        mean: vec![0.0; pairs],
        std: vec![1.0; pairs],
        channels: spec.input_shape[2],
    };
    let student = model.to_float_student(name, &norm, 1.0)?;
    let calibration = random_inputs(spec, seed);
    let quantized = quantize_student(&student, &calibration, &QuantizeOptions::default())
        .map_err(|e| Error::Config(format!("the network does not quantize: {e}")))?;
    let blob = quantized
        .encode()
        .map_err(|e| Error::Config(format!("the network does not encode: {e}")))?;
    let usage = budget::usage(&blob).map_err(|e| Error::Config(e.to_string()))?;
    let decoded = minnow_core::Student::decode(&blob)
        .map_err(|e| Error::Config(format!("the network's blob does not decode: {e}")))?;
    let instructions = super::instructions::predict(&blob).map_err(Error::Config)?;
    Ok(Cost {
        usage,
        macs: u64::from(decoded.footprint().macs),
        instructions,
    })
}

/// Uniform inputs in `[-2, 2)` (standardised units), labels 0.
fn random_inputs(spec: &NetSpec, seed: u64) -> Dataset {
    let mut rng = crate::rng::Rng::stream(seed, 0xc057);
    let dim: usize = spec.input_shape.iter().product();
    let features = (0..CALIBRATION_SAMPLES * dim)
        .map(|_| 4.0 * rng.uniform() - 2.0)
        .collect();
    Dataset {
        name: "random".into(),
        features,
        labels: Some(vec![0; CALIBRATION_SAMPLES]),
        shape: spec.input_shape,
        classes: spec.classes,
        class_names: Vec::new(),
    }
}

/// Refuses a student over `limits` before it is trained: over flash or RAM with the export's
/// message (what it needs, by how much it is over, its largest layer), over the instruction
/// budget with the prediction.
pub fn check(limits: &Limits, cost: &Cost) -> Result<(), BudgetError> {
    budget::check(&limits.budget, &cost.usage)?;
    let Some(limit) = limits.max_instructions else {
        return Ok(());
    };
    let need =
        cost.instructions
            .on(&limits.core)
            .ok_or_else(|| BudgetError::NoInstructionModel {
                core: limits.core.clone(),
            })?;
    if need > limit {
        return Err(BudgetError::Instructions {
            need,
            limit,
            over: need - limit,
            core: limits.core.clone(),
        });
    }
    Ok(())
}

/// The network `cfg` will train and its cost, known before it trains: the data is read and
/// split as distillation reads it, for its shape, classes and name.
pub fn student_cost(cfg: &DistillConfig) -> Result<(NetSpec, Cost)> {
    let train = cfg.data.prepare()?.train;
    let spec = NetSpec::build(&cfg.net, train.shape, train.classes)?;
    let pairs = normalization_pairs(train.shape, cfg.data.normalization);
    let cost = cost(
        &spec,
        &blob_name(&train, cfg.net.arch),
        pairs,
        cfg.train.seed,
    )?;
    Ok((spec, cost))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::int8::export::{ExportInputs, ExportOptions, build};
    use crate::int8::quantize::tests::random_data;
    use crate::net::float::FloatLayer;
    use crate::net::spec::{Arch, NetConfig};
    use crate::rng::Rng;

    /// A trained-looking student of `spec`: other weights than the cost model's (another seed,
    /// each weight scaled by a random factor of up to 8, random biases), as the export sees it.
    fn other_weights(spec: &NetSpec, name: &str, norm: &Standardizer) -> FloatStudent {
        let device = backend::device(DeviceChoice::Ndarray).expect("device");
        let model = Model::init(spec.clone(), 99, &device).expect("init");
        let mut student = model.to_float_student(name, norm, 4.0).expect("float");
        let mut rng = Rng::new(5);
        for layer in &mut student.layers {
            if let FloatLayer::Dense { weight, bias, .. }
            | FloatLayer::Conv2d { weight, bias, .. }
            | FloatLayer::DepthwiseConv2d { weight, bias, .. } = layer
            {
                for w in weight.iter_mut() {
                    *w *= 8.0 * rng.uniform();
                }
                for b in bias.iter_mut() {
                    *b = 3.0 * rng.uniform() - 1.5;
                }
            }
        }
        student
    }

    use crate::net::float::FloatStudent;

    /// Every kind of student the search space holds: its cost, from random weights, is the
    /// exported blob's bytes, RAM and MACs for other weights and other calibration data.
    #[test]
    fn the_cost_is_the_exported_blobs() {
        let strided = |net: NetConfig| NetConfig { stride: 2, ..net };
        let kinds: [(&str, NetConfig, [usize; 3], Option<NormScope>); 9] = [
            (
                "cnn-s2",
                strided(NetConfig::plain(Arch::Cnn, &[], &[4, 8], false)),
                [13, 12, 1],
                None,
            ),
            (
                "dwcnn-s2",
                strided(NetConfig::plain(Arch::Dwcnn, &[8], &[4, 8], false)),
                [16, 16, 3],
                None,
            ),
            (
                "mlp",
                NetConfig::plain(Arch::Mlp, &[24], &[], false),
                [1, 13, 1],
                None,
            ),
            (
                "mlp-2",
                NetConfig::plain(Arch::Mlp, &[40, 12], &[], true),
                [8, 8, 1],
                None,
            ),
            (
                "linear",
                NetConfig::plain(Arch::Mlp, &[], &[], false),
                [1, 5, 1],
                Some(NormScope::Global),
            ),
            (
                "cnn",
                NetConfig::plain(Arch::Cnn, &[16], &[4, 8], false),
                [12, 12, 1],
                None,
            ),
            (
                "cnn-relu6",
                NetConfig::plain(Arch::Cnn, &[], &[6], true),
                [9, 7, 3],
                Some(NormScope::PerValue),
            ),
            (
                "dwcnn",
                NetConfig::plain(Arch::Dwcnn, &[], &[4, 8], false),
                [10, 10, 2],
                None,
            ),
            (
                "cnn1d",
                NetConfig::plain(Arch::Cnn1d, &[12], &[4, 6], false),
                [32, 1, 3],
                None,
            ),
        ];
        for (what, net, shape, scope) in kinds {
            let spec = NetSpec::build(&net, shape, 5).expect(what);
            let name = format!("data-{what}");
            let pairs = normalization_pairs(shape, scope);
            let cost = cost(&spec, &name, pairs, 1).expect(what);

            let mut rng = Rng::new(3);
            let norm = Standardizer {
                mean: (0..pairs).map(|_| rng.uniform()).collect(),
                std: (0..pairs).map(|_| 0.5 + rng.uniform()).collect(),
                channels: shape[2],
            };
            let student = other_weights(&spec, &name, &norm);
            let data = random_data(40, shape, 5, 17);
            let exported = build(
                &ExportInputs::new(&student, &data, &data),
                &ExportOptions::default(),
            )
            .expect(what);
            let usage = budget::usage(&exported.blob).expect(what);
            assert_eq!(cost.usage, usage, "{what}");
            assert_eq!(cost.usage.flash, exported.blob.len() as u64, "{what}");
            let macs = minnow_core::Student::decode(&exported.blob)
                .expect(what)
                .footprint()
                .macs;
            assert_eq!(cost.macs, u64::from(macs), "{what}");
            assert!(cost.macs > 0, "{what}");
        }
    }

    /// A name byte is a byte of flash, a normalisation pair 8 (two `f32`).
    #[test]
    fn names_and_pairs_count_in_the_flash() {
        let spec = NetSpec::build(&NetConfig::plain(Arch::Mlp, &[8], &[], false), [1, 4, 1], 3)
            .expect("spec");
        let flash = |name: &str, pairs| cost(&spec, name, pairs, 0).expect("cost").usage.flash;
        assert_eq!(flash("ab", 1), flash("a", 1) + 1);
        assert_eq!(flash("a", 4), flash("a", 1) + 3 * 8);
    }

    #[test]
    fn pairs_follow_the_scope() {
        assert_eq!(normalization_pairs([1, 13, 1], None), 13);
        assert_eq!(normalization_pairs([28, 28, 1], None), 1);
        assert_eq!(normalization_pairs([32, 1, 3], None), 3);
        assert_eq!(
            normalization_pairs([8, 8, 3], Some(NormScope::PerValue)),
            192
        );
        assert_eq!(normalization_pairs([1, 13, 1], Some(NormScope::Global)), 1);
    }
}
