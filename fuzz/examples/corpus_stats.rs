//! How far a corpus gets: decodes every file the way TARGET does and counts the outcomes
//! (Ok, or the error variant), plus how many decoded students were small enough to run.
//!
//!     cargo run --manifest-path fuzz/Cargo.toml --example corpus_stats -- TARGET DIR

use std::collections::BTreeMap;

use minnow_core::golden::GOLDEN_MAGIC;
use minnow_core::student::STUDENT_MAGIC;
use minnow_core::{GoldenVectors, Student};
use minnow_fuzz::{
    MAX_FUZZ_WORK, inference_work, seal, split_at_declared_len, split_body_and_input,
};

fn name<T, E: std::fmt::Debug>(r: &Result<T, E>) -> String {
    match r {
        Ok(_) => "Ok".into(),
        Err(e) => format!("{e:?}")
            .split([' ', '{'])
            .next()
            .unwrap_or("?")
            .to_string(),
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let target = args.next().expect("TARGET");
    let dir = args.next().expect("DIR");
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    let mut kinds: BTreeMap<&'static str, usize> = BTreeMap::new();
    let (mut files, mut ran) = (0, 0);
    let mut count_kinds = |s: &Student<'_>| {
        for l in s.layers().flatten() {
            *kinds.entry(l.kind()).or_default() += 1;
        }
    };
    for entry in std::fs::read_dir(&dir).expect("read dir") {
        let data = std::fs::read(entry.expect("entry").path()).expect("read");
        files += 1;
        let outcome = match target.as_str() {
            "decode_student" => {
                let (blob, _) = split_at_declared_len(&data);
                let r = Student::decode(blob);
                if let Ok(s) = &r {
                    count_kinds(s);
                    ran += usize::from(inference_work(s) <= MAX_FUZZ_WORK)
                }
                name(&r)
            }
            "decode_student_sealed" => {
                let (body, _) = split_body_and_input(&data);
                let blob = seal(&STUDENT_MAGIC, body);
                let r = Student::decode(&blob);
                if let Ok(s) = &r {
                    count_kinds(s);
                    ran += usize::from(inference_work(s) <= MAX_FUZZ_WORK)
                }
                name(&r)
            }
            "decode_golden" => {
                let raw = name(&GoldenVectors::decode(&data));
                let body = data.get(16..).unwrap_or(&[]);
                format!(
                    "raw {raw} / sealed {}",
                    name(&GoldenVectors::decode(&seal(&GOLDEN_MAGIC, body)))
                )
            }
            _ => panic!("no stats for {target}"),
        };
        *counts.entry(outcome).or_default() += 1;
    }
    println!("{target}: {files} inputs, {ran} decoded and ran");
    for (k, v) in counts {
        println!("  {v:6}  {k}");
    }
    if !kinds.is_empty() {
        println!("layers in the students that decoded:");
        for (k, v) in kinds {
            println!("  {v:6}  {k}");
        }
    }
}
