use std::path::Path;

use minnow_core::layer::{Activation, Shape};
use minnow_core::meta::{Meta, Normalization};
use minnow_core::owned::{OwnedLayer, OwnedParams, WeightLayout, encode_owned_student};

use super::facts::float_literal;
use super::*;
use minnow_core::layer::ops;

fn student_blob() -> Vec<u8> {
    let act = |scale, zero_point| Activation { scale, zero_point };
    let dense = OwnedLayer::Dense {
        out_features: 3,
        params: OwnedParams::quantized(
            &[1, -2, 3, -4, 5, -6, 7, -8, 9, -10, 11, -12],
            WeightLayout::ChannelMajor,
            act(0.1, 0),
            &[0.01; 3],
            &[1, 2, 3],
            act(0.05, -2),
            i8::MIN,
            i8::MAX,
        )
        .expect("params"),
    };
    let meta = Meta {
        name: "emit test",
        input_shape: Shape::new(2, 2, 1),
        classes: 3,
        input: act(0.1, 0),
        normalization: Normalization::new(&[0, 0, 0, 0, 0, 0, 0x80, 0x3f]),
        temperature: 4.0,
    };
    encode_owned_student(&meta, &[OwnedLayer::Flatten, dense]).expect("encode")
}

fn golden_blob(classes: u16) -> Vec<u8> {
    let inputs = [1_u8, 2, 3, 4];
    let logits = vec![0_u8; usize::from(classes)];
    GoldenVectors {
        count: 1,
        input_len: 4,
        classes,
        inputs: &inputs,
        logits: &logits,
        labels: &[0],
        teacher: &[0],
    }
    .encode_to_vec()
    .expect("golden")
}

fn request(dir: &Path, language: Language, golden: bool) -> EmitRequest {
    std::fs::write(dir.join("student.minnow"), student_blob()).expect("write");
    std::fs::write(dir.join("golden.mngv"), golden_blob(3)).expect("write");
    EmitRequest {
        language,
        student: dir.join("student.minnow"),
        golden: golden.then(|| dir.join("golden.mngv")),
        out: dir.join("out"),
    }
}

#[test]
fn c_sources_carry_the_blob_and_its_sizes_and_are_the_same_bytes_every_time() {
    let (a, b) = (
        tempfile::tempdir().expect("tmp"),
        tempfile::tempdir().expect("tmp"),
    );
    let names = emit(&request(a.path(), Language::C, true)).expect("emit");
    assert_eq!(names, ["student.h", "student.c", "golden.h", "golden.c"]);
    emit(&request(b.path(), Language::C, true)).expect("emit");
    for n in &names {
        let read = |d: &Path| std::fs::read(d.join("out").join(n)).expect("read");
        assert_eq!(
            read(a.path()),
            read(b.path()),
            "{n} differs between two emits"
        );
    }
    let h = std::fs::read_to_string(a.path().join("out/student.h")).expect("h");
    let blob = student_blob();
    for want in [
        format!("#define MINNOW_STUDENT_BLOB_LEN {}u", blob.len()),
        "#define MINNOW_STUDENT_INPUT_LEN 4u".to_owned(),
        "#define MINNOW_STUDENT_CLASSES 3u".to_owned(),
        "#define MINNOW_STUDENT_CARGO_FEATURES \"dense,flatten\"".to_owned(),
        format!("#define MINNOW_STUDENT_OPS {}u", ops::DENSE | ops::FLATTEN),
        "#define MINNOW_STUDENT_NORM_PAIRS 1u".to_owned(),
    ] {
        assert!(h.contains(&want), "student.h lacks {want}:\n{h}");
    }
    // the array holds exactly the blob's bytes
    let c = std::fs::read_to_string(a.path().join("out/student.c")).expect("c");
    let body = c.split_once("= {").expect("array").1;
    let bytes: Vec<u8> = body
        .split(',')
        .filter_map(|t| t.trim().strip_prefix("0x"))
        .map(|t| u8::from_str_radix(t, 16).expect("hex"))
        .collect();
    assert_eq!(bytes, blob);
    let g = std::fs::read_to_string(a.path().join("out/golden.h")).expect("golden.h");
    assert!(g.contains("#define MINNOW_GOLDEN_COUNT 1u"));
}

#[test]
fn rust_module_embeds_the_blobs_beside_it() {
    let dir = tempfile::tempdir().expect("tmp");
    let names = emit(&request(dir.path(), Language::Rust, true)).expect("emit");
    assert_eq!(names, ["mod.rs", "student.minnow", "golden.mngv"]);
    let out = dir.path().join("out");
    assert_eq!(
        std::fs::read(out.join("student.minnow")).expect("blob"),
        student_blob()
    );
    let m = std::fs::read_to_string(out.join("mod.rs")).expect("mod.rs");
    for want in [
        "include_bytes!(\"student.minnow\")",
        "include_bytes!(\"golden.mngv\")",
        "pub const INPUT_LEN: usize = 4;",
        "pub const CLASSES: usize = 3;",
        "pub const OPS: u8 = minnow_core::layer::ops::DENSE | minnow_core::layer::ops::FLATTEN;",
        "pub const GOLDEN_COUNT: usize = 1;",
    ] {
        assert!(m.contains(want), "mod.rs lacks {want}:\n{m}");
    }
    // without golden vectors, no GOLDEN
    let bare = tempfile::tempdir().expect("tmp");
    emit(&request(bare.path(), Language::Rust, false)).expect("emit");
    let m = std::fs::read_to_string(bare.path().join("out/mod.rs")).expect("mod.rs");
    assert!(!m.contains("GOLDEN"));
}

#[test]
fn a_blob_the_device_would_refuse_is_refused_naming_the_file_and_nothing_is_written() {
    let dir = tempfile::tempdir().expect("tmp");
    let req = request(dir.path(), Language::C, true);
    let mut bad = student_blob();
    let last = bad.len() - 1;
    bad[last] ^= 1;
    std::fs::write(&req.student, &bad).expect("write");
    let e = emit(&req).expect_err("corrupt").to_string();
    assert!(e.contains("student.minnow") && e.contains("CRC"), "{e}");
    assert!(!req.out.join("student.h").exists());
    // golden vectors of another student
    std::fs::write(&req.student, student_blob()).expect("write");
    std::fs::write(req.golden.as_ref().expect("golden"), golden_blob(5)).expect("write");
    let e = emit(&req).expect_err("mismatch").to_string();
    assert!(e.contains("golden.mngv") && e.contains("5 classes"), "{e}");
    assert!(!req.out.join("student.h").exists());
    // a missing file
    let missing = EmitRequest {
        student: dir.path().join("nope.minnow"),
        ..req
    };
    let e = emit(&missing).expect_err("missing").to_string();
    assert!(e.contains("nope.minnow"), "{e}");
}

#[test]
fn float_literals_read_back_as_the_same_bits() {
    for x in [0.1307_f32, 0.3081, 1.0, 255.0, 1e-7, 3.4e38, -2.5] {
        let lit = float_literal(x);
        assert!(lit.contains(['.', 'e']), "{lit}");
        assert_eq!(
            lit.parse::<f32>().expect("parse").to_bits(),
            x.to_bits(),
            "{lit}"
        );
    }
}
