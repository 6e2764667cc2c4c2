//! Writes the seed corpus (fuzz/seeds/<target>/) from minnow-core's own encoders, and prints the
//! worked example of docs/format.md (hex dump of the tiny student, its fields, and a run).
//!
//!     cargo run --manifest-path fuzz/Cargo.toml --example gen_seeds [-- OUT_DIR]

use std::fs;
use std::path::PathBuf;

use minnow_core::Student;
use minnow_core::header::HEADER_LEN;
use minnow_fuzz::{golden_for, seed_students, tiny_student};

fn hexdump(bytes: &[u8]) -> String {
    let mut s = String::new();
    for (i, chunk) in bytes.chunks(16).enumerate() {
        let hex: Vec<String> = chunk.iter().map(|b| format!("{b:02x}")).collect();
        s += &format!("{:08x}  {}\n", i * 16, hex.join(" "));
    }
    s
}

fn main() {
    let out = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("seeds"));
    for dir in [
        "decode_student",
        "decode_student_sealed",
        "decode_golden",
        "student_roundtrip",
    ] {
        fs::create_dir_all(out.join(dir)).expect("mkdir");
    }
    for (name, s) in seed_students() {
        let blob = s.encode().expect("encodes");
        Student::decode(&blob).expect("seed decodes");
        // decode_student: the blob, then inference input bytes.
        let mut raw = blob.clone();
        raw.extend_from_slice(&[0x10, 0xF0, 0x7F, 0x80, 0x00, 0x33]);
        fs::write(out.join("decode_student").join(format!("{name}.bin")), &raw).expect("write");
        // decode_student_sealed: body ++ input ++ [input length].
        let mut sealed = blob[HEADER_LEN..].to_vec();
        sealed.extend_from_slice(&[0x10, 0xF0, 0x7F, 0x80, 0x00, 0x33, 6]);
        fs::write(
            out.join("decode_student_sealed")
                .join(format!("{name}.bin")),
            &sealed,
        )
        .expect("write");
        fs::write(
            out.join("decode_golden").join(format!("{name}.bin")),
            golden_for(&s, 3),
        )
        .expect("write");
    }
    // student_roundtrip takes arbitrary bytes: a few fixed patterns.
    for (i, pattern) in [[0x00_u8; 64], [0xFF; 64], [0x5A; 64]].iter().enumerate() {
        fs::write(
            out.join("student_roundtrip")
                .join(format!("pattern{i}.bin")),
            pattern,
        )
        .expect("write");
    }
    let counter: Vec<u8> = (0..=255).collect();
    fs::write(out.join("student_roundtrip").join("counter.bin"), counter).expect("write");

    // The worked example of docs/format.md.
    let tiny = tiny_student();
    let blob = tiny.encode().expect("encodes");
    println!(
        "tiny student: {} bytes (body {})",
        blob.len(),
        blob.len() - HEADER_LEN
    );
    print!("{}", hexdump(&blob));
    println!("{:#?}", tiny.layers[0]);
    let s = Student::decode(&blob).expect("decode");
    println!(
        "footprint {:?}, scratch_len {}",
        s.footprint(),
        s.scratch_len()
    );
    for x in [[4_i8, 2], [-3, 5], [127, -128]] {
        let mut scratch = vec![0_i8; s.scratch_len()];
        let mut logits = [0_i8; 2];
        s.run(&x, &mut scratch, &mut logits).expect("run");
        println!("run({x:?}) = {logits:?}");
    }
    let golden = golden_for(&tiny, 2);
    println!("tiny golden vectors: {} bytes", golden.len());
    print!("{}", hexdump(&golden));
}
