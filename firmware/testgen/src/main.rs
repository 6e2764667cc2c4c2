//! `minnow-fw-testgen <mlp|cnn|cnn29k|seq|kernels> <out-dir> [--vectors N] [--seed S] [--hidden H] [--side S]`
//!
//! Writes `<out-dir>/student.minnow` and `<out-dir>/golden.mngv` (the exporter's file names):
//! a deterministic random int8 student (MLP 784-H-10, default H = 64; CNN on S x S x 1,
//! default S = 28; the 29,066-parameter MNIST CNN; or a 1-D CNN on 128 x 1 x 3 sensor windows)
//! and N golden vectors (default 8) with the
//! logits minnow-core computes here. Prints one line `testgen kind=.. vectors=.. correct=..
//! labeled=.. teacher_agree=.. teacher_known=.. student_bytes=.. golden_bytes=.. macs=..
//! scratch=..`.
//!
//! `kernels` writes `<out-dir>/kernels.bin` instead: the kernel benchmark's students and golden
//! vectors back to back (`models::kernel_suite`, read by firmware/src/bin/minnow-kernel-bench.rs).

mod models;

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: minnow-fw-testgen <mlp|cnn|cnn29k|seq|kernels> <out-dir> [--vectors N] [--seed S] [--hidden H] [--side S]";
    if args.len() < 2 {
        eprintln!("{usage}");
        return ExitCode::from(2);
    }
    let kind = args[0].as_str();
    let dir = PathBuf::from(&args[1]);
    let (mut vectors, mut seed, mut hidden, mut side) = (8_usize, 1_u32, 64_u16, 28_u16);
    let mut rest = args[2..].iter();
    while let Some(flag) = rest.next() {
        let Some(value) = rest.next().and_then(|v| v.parse::<u64>().ok()) else {
            eprintln!("{flag} needs a number\n{usage}");
            return ExitCode::from(2);
        };
        match flag.as_str() {
            "--vectors" => vectors = value as usize,
            "--seed" => seed = value as u32,
            "--hidden" => hidden = value as u16,
            "--side" => side = value as u16,
            _ => {
                eprintln!("unknown flag {flag}\n{usage}");
                return ExitCode::from(2);
            }
        }
    }
    if kind == "kernels" {
        let suite = models::kernel_suite(seed);
        let path = dir.join("kernels.bin");
        if let Err(err) = std::fs::create_dir_all(&dir).and_then(|()| std::fs::write(&path, &suite))
        {
            eprintln!("cannot write {}: {err}", path.display());
            return ExitCode::FAILURE;
        }
        println!("testgen kind=kernels bytes={}", suite.len());
        return ExitCode::SUCCESS;
    }
    let student = match kind {
        "mlp" => models::mlp(784, hidden, 10, seed),
        "cnn29k" => models::cnn29k(seed),
        "seq" => models::seq(seed),
        "cnn" if side % 4 == 0 && side > 0 => models::cnn(side, 10, seed),
        _ => {
            eprintln!("{usage}");
            return ExitCode::from(2);
        }
    };
    let (golden, e) = models::golden(&student, vectors, seed);
    let s = minnow_core::Student::decode(&student).expect("decodes");
    if let Err(err) = std::fs::create_dir_all(&dir)
        .and_then(|()| std::fs::write(dir.join("student.minnow"), &student))
        .and_then(|()| std::fs::write(dir.join("golden.mngv"), &golden))
    {
        eprintln!("cannot write to {}: {err}", dir.display());
        return ExitCode::FAILURE;
    }
    println!(
        "testgen kind={kind} vectors={} correct={} labeled={} teacher_agree={} teacher_known={} student_bytes={} golden_bytes={} macs={} scratch={}",
        e.vectors,
        e.correct,
        e.labeled,
        e.teacher_agree,
        e.teacher_known,
        student.len(),
        golden.len(),
        s.footprint().macs,
        s.scratch_len()
    );
    ExitCode::SUCCESS
}
