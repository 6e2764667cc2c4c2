//! `minnow-fw-testgen <mlp|cnn> <out-dir> [--vectors N] [--seed S] [--hidden H] [--side S]`
//!
//! Writes `<out-dir>/student.minnow` and `<out-dir>/golden.mngv` (the exporter's file names):
//! a deterministic random int8 student (MLP 784-H-10, default H = 64; or CNN on S x S x 1,
//! default S = 28) and N golden vectors (default 8) with the logits minnow-core computes here.
//! Prints one line `testgen kind=.. vectors=.. correct=.. labeled=.. teacher_agree=..
//! teacher_known=.. student_bytes=.. golden_bytes=.. macs=.. scratch=..`.

mod models;

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: minnow-fw-testgen <mlp|cnn> <out-dir> [--vectors N] [--seed S] [--hidden H] [--side S]";
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
    let student = match kind {
        "mlp" => models::mlp(784, hidden, 10, seed),
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
