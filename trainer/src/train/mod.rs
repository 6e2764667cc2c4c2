//! Training: teachers on hard labels ([`teacher`]), students by distillation ([`distill`],
//! Hinton, Vinyals & Dean 2015), and continuing a killed run of either ([`resume`]).
//!
//! A run folder holds:
//!
//! * `config.toml` — the resolved settings (`minnow … --config config.toml` repeats the run),
//!   `run.json` — its kind ([`saved`]);
//! * `metrics.jsonl` — one JSON object per epoch ([`metrics`]);
//! * `curves.png`, `curves.svg` — loss and accuracy against epoch ([`crate::plot::curves`]);
//! * `checkpoint.bin` — weights, Adam state and metrics after every epoch ([`checkpoint`]);
//! * teachers: `teacher.bpk` + `teacher.toml`; ensembles put each member in `member-<i>/`;
//! * students: `student.float.json` (the float student the quantizer reads), `student.bpk`,
//!   `student.toml`;
//! * `summary.json` — test-set results and timing.
//!
//! Inside: [`run_loop`] (the loop both share), [`targets`] (where soft targets come from:
//! live teachers, precomputed logits, the logit [`cache`]), [`teachers`] (loading and
//! ensembles, of minnow runs and [`onnx`] files), [`loss`] (the objective), [`qat`]
//! (quantization-aware training), [`adopt`] (teacher logits computed elsewhere).

pub mod adopt;
pub mod batch;
pub mod cache;
pub mod checkpoint;
pub mod class_bias;
pub mod config;
pub mod distill;
pub mod loss;
pub mod metrics;
pub mod normalize;
pub mod onnx;
pub mod optimizer;
pub mod progress;
pub mod qat;
pub mod resume;
pub mod run_loop;
pub mod saved;
pub mod targets;
pub mod teacher;
pub mod teachers;
pub mod transfer;

#[cfg(test)]
mod tests;
