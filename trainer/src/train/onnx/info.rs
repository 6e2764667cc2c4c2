//! `minnow teacher-info FILE.onnx`: what an ONNX file declares (inputs and outputs with their
//! shapes, op counts, parameters) and, given data, how the teacher does on its test split with
//! the `--teacher-*` settings, and how fast tract runs it.

use std::fmt::Write as _;
use std::path::Path;
use std::time::Instant;

use super::file::OnnxFile;
use super::settings::OnnxSettings;
use super::teacher::{BatchAxis, OnnxTeacher, sample_text};
use crate::data::DataConfig;
use crate::error::Result;
use crate::files;
use crate::fingerprint::sha256_hex;
use crate::percent::pct;

/// The report on the ONNX file at `path`; with `data`, its accuracy and speed on the test
/// split of `data` (split as `minnow distill` splits it with the same settings).
pub fn teacher_info(
    path: &Path,
    settings: OnnxSettings,
    data: Option<&DataConfig>,
) -> Result<String> {
    let bytes = files::read(path)?;
    let file = OnnxFile::decode(path, &bytes)?;
    let mut out = describe_file(path, &file, &sha256_hex(&bytes));
    if let Some((op, node)) = file.unsupported_op() {
        let _ = writeln!(
            out,
            "not supported by tract: {op} (the node {node}): minnow cannot run this teacher"
        );
        return Ok(out);
    }
    if let Some(data) = data {
        let test = data.prepare()?.test;
        let teacher = OnnxTeacher::load(path, settings, test.shape, test.classes)?;
        let _ = writeln!(
            out,
            "with {}: input from {} samples ({}), batch {}, output {} classes",
            settings.describe(),
            sample_text(test.shape),
            teacher
                .placement
                .layout
                .map_or("flat".to_owned(), |l| crate::config::Choice::name(l)
                    .to_owned()),
            match teacher.batch {
                BatchAxis::Free => format!("free (run {} samples at a time)", teacher.block),
                BatchAxis::Fixed(b) => format!("fixed at {b}"),
            },
            teacher.classes
        );
        let started = Instant::now();
        let logits = teacher.logits(&test.features)?;
        let seconds = started.elapsed().as_secs_f64();
        match &test.labels {
            Some(labels) => {
                let correct = labels
                    .iter()
                    .enumerate()
                    .filter(|&(i, &l)| {
                        let row = &logits[i * teacher.classes..(i + 1) * teacher.classes];
                        minnow_core::softmax::argmax_f32(row) == Some(usize::from(l))
                    })
                    .count();
                let _ = writeln!(
                    out,
                    "test accuracy {} ({} samples)",
                    pct(correct as f64 / test.len().max(1) as f64),
                    test.len()
                );
            }
            None => {
                let _ = writeln!(out, "test split has no labels: no accuracy");
            }
        }
        let threads = std::thread::available_parallelism().map_or(1, usize::from);
        let _ = writeln!(
            out,
            "throughput {:.0} images/s ({} samples in {:.3} s, tract on {threads} threads)",
            test.len() as f64 / seconds.max(1e-9),
            test.len(),
            seconds
        );
    }
    Ok(out)
}

/// The file's declarations, one fact per line.
fn describe_file(path: &Path, file: &OnnxFile, sha256: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}", path.display());
    let _ = writeln!(
        out,
        "  producer {}, opset {}, IR version {}, SHA-256 {sha256}",
        if file.producer.is_empty() {
            "unknown"
        } else {
            &file.producer
        },
        file.opset,
        file.proto.ir_version
    );
    for (title, ports) in [("inputs", &file.inputs), ("outputs", &file.outputs)] {
        let _ = writeln!(out, "{title}:");
        for p in ports {
            let _ = writeln!(out, "  {} {} {}", p.name, p.type_name(), p.shape_text());
        }
    }
    let nodes: usize = file.op_counts.values().sum();
    let ops: Vec<String> = file
        .op_counts
        .iter()
        .map(|(op, n)| format!("{op} {n}"))
        .collect();
    let _ = writeln!(out, "ops ({nodes} nodes): {}", ops.join(", "));
    let _ = writeln!(out, "parameters {}", file.parameters);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::DataSpec;

    #[test]
    fn info_lists_the_file_and_scores_the_teacher() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/onnx/mlp.onnx");
        let plain = teacher_info(&path, OnnxSettings::default(), None).expect("info");
        for part in [
            "input float32 (batch, 64)",
            "logits float32 (batch, 10)",
            "ops (3 nodes): Gemm 2, Relu 1",
            "parameters 2410",
            "producer minnow-fixtures",
        ] {
            assert!(plain.contains(part), "{part} missing:\n{plain}");
        }
        assert!(!plain.contains("test accuracy"), "{plain}");
        let settings = OnnxSettings {
            teacher_scale: 1.0 / 16.0,
            teacher_offset: -0.5,
            ..OnnxSettings::default()
        };
        let data = DataConfig {
            source: DataSpec::Digits,
            ..DataConfig::default()
        };
        let scored = teacher_info(&path, settings, Some(&data)).expect("scored");
        let line = scored
            .lines()
            .find(|l| l.starts_with("test accuracy "))
            .expect("accuracy line");
        // The fixture was trained on every digit (98.8% on all 1797).
        let acc: f64 = line["test accuracy ".len()..line.find('%').expect("%")]
            .parse()
            .expect("number");
        assert!(acc > 95.0, "{scored}");
        assert!(line.ends_with("(359 samples)"), "{line}");
        assert!(scored.contains("images/s"), "{scored}");
        // Without the scale the teacher sees values 16 times too large: it does worse.
        let unscaled = teacher_info(&path, OnnxSettings::default(), Some(&data)).expect("raw");
        assert_ne!(unscaled, scored);
    }
}
