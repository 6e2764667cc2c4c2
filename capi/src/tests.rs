//! The C ABI from Rust, as C calls it: the same logits as minnow-core, and one distinct status
//! for each way a call fails.

use std::vec::Vec;

use minnow_core::layer::{Activation, Shape};
use minnow_core::meta::{Meta, Normalization};
use minnow_core::owned::{
    OwnedLayer, OwnedParams, WeightLayout, encode_owned_student, xorshift_i8s,
};
use minnow_core::{GoldenVectors, Student};

use super::*;

const INPUT: usize = 12;
const CLASSES: usize = 4;

/// A 12-8-4 MLP with pseudo-random int8 weights.
fn mlp() -> Vec<u8> {
    let act = |scale, zero_point| Activation { scale, zero_point };
    let dense = |inputs: usize, outputs: usize, seed, input, output, relu: bool| {
        let weights = xorshift_i8s(inputs * outputs, seed, -127, 127);
        let bias: Vec<i32> = xorshift_i8s(outputs, seed + 1, -100, 100)
            .iter()
            .map(|&b| i32::from(b) * 10)
            .collect();
        OwnedLayer::Dense {
            out_features: outputs as u16,
            params: OwnedParams::quantized(
                &weights,
                WeightLayout::ChannelMajor,
                input,
                &std::vec![0.01; outputs],
                &bias,
                output,
                if relu { output.zero_point } else { i8::MIN },
                i8::MAX,
            )
            .expect("params"),
        }
    };
    let (a0, a1, a2) = (act(0.05, -3), act(0.1, -128), act(0.2, 5));
    let meta = Meta {
        name: "capi-test",
        input_shape: Shape::flat(INPUT as u16),
        classes: CLASSES as u16,
        input: a0,
        normalization: Normalization::new(&[0, 0, 0, 0x3f, 0, 0, 0, 0x40]),
        temperature: 4.0,
    };
    let layers = [
        dense(INPUT, 8, 1, a0, a1, true),
        dense(8, CLASSES, 2, a1, a2, false),
    ];
    encode_owned_student(&meta, &layers).expect("encode")
}

fn decode(blob: &[u8]) -> (MinnowStatus, minnow_student) {
    let mut s = minnow_student {
        state: 0,
        storage: [0; MINNOW_STUDENT_WORDS],
    };
    // SAFETY: a live slice and a live struct.
    let rc = unsafe { minnow_student_decode(blob.as_ptr(), blob.len(), &mut s) };
    (rc, s)
}

fn run(s: &minnow_student, input: &[i8], scratch: &mut [i8], logits: &mut [i8]) -> MinnowStatus {
    // SAFETY: live slices of the lengths passed.
    unsafe {
        minnow_student_run(
            s,
            input.as_ptr(),
            input.len(),
            scratch.as_mut_ptr(),
            scratch.len(),
            logits.as_mut_ptr(),
            logits.len(),
        )
    }
}

#[test]
fn decodes_and_runs_bit_for_bit_as_minnow_core() {
    let blob = mlp();
    let (rc, s) = decode(&blob);
    assert_eq!(rc, MINNOW_OK);
    let core = Student::decode(&blob).expect("decode");
    // SAFETY: a decoded student whose blob is alive.
    let (n, c, k) = unsafe {
        (
            minnow_student_input_len(&s),
            minnow_student_classes(&s),
            minnow_student_scratch_len(&s),
        )
    };
    assert_eq!((n, c, k), (INPUT, CLASSES, core.scratch_len()));
    assert!(k > 0);
    for seed in 0..20 {
        let input = xorshift_i8s(INPUT, 100 + seed, -128, 127);
        let (mut scratch, mut logits) = (std::vec![0; k], [0_i8; CLASSES]);
        assert_eq!(run(&s, &input, &mut scratch, &mut logits), MINNOW_OK);
        let (mut want_scratch, mut want) = (std::vec![0; k], [0_i8; CLASSES]);
        core.run(&input, &mut want_scratch, &mut want).expect("run");
        assert_eq!(logits, want, "input {seed}");
        let mut class = usize::MAX;
        // SAFETY: live buffers of the lengths passed.
        let rc = unsafe {
            minnow_student_predict(
                &s,
                input.as_ptr(),
                input.len(),
                scratch.as_mut_ptr(),
                scratch.len(),
                logits.as_mut_ptr(),
                logits.len(),
                &mut class,
            )
        };
        assert_eq!(rc, MINNOW_OK);
        assert_eq!(Some(class), argmax_i8(&want));
    }
    // quantize_input applies the stored normalisation as minnow-core does
    let raw: Vec<f32> = (0..INPUT).map(|i| i as f32 * 0.3 - 1.0).collect();
    let (mut q, mut want) = ([0_i8; INPUT], [0_i8; INPUT]);
    // SAFETY: live buffers of the lengths passed.
    let rc =
        unsafe { minnow_student_quantize_input(&s, raw.as_ptr(), INPUT, q.as_mut_ptr(), INPUT) };
    assert_eq!(rc, MINNOW_OK);
    core.quantize_input(&raw, &mut want).expect("quantize");
    assert_eq!(q, want);
}

#[test]
fn each_kind_of_bad_blob_has_its_own_status() {
    let blob = mlp();
    let mut version = blob.clone();
    version[4] = 3; // a blob of a format version this build does not read
    let mut crc = blob.clone();
    let last = crc.len() - 1;
    crc[last] ^= 0x40; // a corrupt body
    let mut magic = blob.clone();
    magic[0] = b'X';
    let mut trailing = blob.clone();
    trailing.push(0);
    let cases: [(&str, &[u8], MinnowStatus); 6] = [
        ("another version", &version, MINNOW_ERR_UNSUPPORTED_VERSION),
        ("corrupt body", &crc, MINNOW_ERR_CRC_MISMATCH),
        ("bad magic", &magic, MINNOW_ERR_BAD_MAGIC),
        ("cut short", &blob[..blob.len() - 3], MINNOW_ERR_TRUNCATED),
        ("trailing byte", &trailing, MINNOW_ERR_TRAILING_BYTES),
        ("empty", &[], MINNOW_ERR_TRUNCATED),
    ];
    for (what, bytes, want) in cases {
        let (rc, s) = decode(bytes);
        assert_eq!(rc, want, "{what}");
        // a failed decode leaves a student the other calls refuse
        let (mut scratch, mut logits) = ([0_i8; 64], [0_i8; CLASSES]);
        assert_eq!(
            run(&s, &[0; INPUT], &mut scratch, &mut logits),
            MINNOW_ERR_NOT_DECODED
        );
        // SAFETY: a live struct.
        assert_eq!(unsafe { minnow_student_classes(&s) }, 0);
    }
    // a NULL blob, or a NULL student
    let mut s = decode(&blob).1;
    // SAFETY: NULL with length 0 and 5; a live struct.
    unsafe {
        assert_eq!(
            minnow_student_decode(ptr::null(), 5, &mut s),
            MINNOW_ERR_NULL_POINTER
        );
        assert_eq!(
            minnow_student_decode(ptr::null(), 0, &mut s),
            MINNOW_ERR_TRUNCATED
        );
        assert_eq!(
            minnow_student_decode(blob.as_ptr(), blob.len(), ptr::null_mut()),
            MINNOW_ERR_NULL_POINTER
        );
        assert_eq!(minnow_student_input_len(ptr::null()), 0);
    }
}

#[test]
fn buffers_too_small_or_missing_are_refused() {
    let blob = mlp();
    let (rc, s) = decode(&blob);
    assert_eq!(rc, MINNOW_OK);
    // SAFETY: a decoded student.
    let k = unsafe { minnow_student_scratch_len(&s) };
    let (mut scratch, mut logits) = (std::vec![0_i8; k], [0_i8; CLASSES]);
    let input = [1_i8; INPUT];
    assert_eq!(
        run(&s, &input[1..], &mut scratch, &mut logits),
        MINNOW_ERR_BUFFER_SIZE
    );
    assert_eq!(
        run(&s, &input, &mut scratch[1..], &mut logits),
        MINNOW_ERR_BUFFER_SIZE
    );
    assert_eq!(
        run(&s, &input, &mut scratch, &mut logits[1..]),
        MINNOW_ERR_BUFFER_SIZE
    );
    // SAFETY: NULL pointers with nonzero lengths are refused before any access.
    unsafe {
        let rc = minnow_student_run(
            &s,
            ptr::null(),
            INPUT,
            scratch.as_mut_ptr(),
            k,
            logits.as_mut_ptr(),
            CLASSES,
        );
        assert_eq!(rc, MINNOW_ERR_NULL_POINTER);
        let rc = minnow_student_run(
            ptr::null(),
            input.as_ptr(),
            INPUT,
            scratch.as_mut_ptr(),
            k,
            logits.as_mut_ptr(),
            CLASSES,
        );
        assert_eq!(rc, MINNOW_ERR_NULL_POINTER);
    }
    // a misaligned float pointer
    let raw = [0.0_f32; INPUT + 1];
    let mut q = [0_i8; INPUT];
    let odd = raw.as_ptr().cast::<u8>().wrapping_add(1).cast::<f32>();
    // SAFETY: refused before the pointer is read.
    let rc = unsafe { minnow_student_quantize_input(&s, odd, INPUT, q.as_mut_ptr(), INPUT) };
    assert_eq!(rc, MINNOW_ERR_MISALIGNED);
    // a NaN sample
    let nan = [f32::NAN; INPUT];
    // SAFETY: live buffers.
    let rc =
        unsafe { minnow_student_quantize_input(&s, nan.as_ptr(), INPUT, q.as_mut_ptr(), INPUT) };
    assert_eq!(rc, MINNOW_ERR_NON_FINITE);
}

#[test]
fn an_op_left_out_of_the_build_is_its_own_status() {
    // This build has every op (default features); minnow-core reports UnsupportedOp for one
    // left out, and the C ABI keeps it distinct.
    assert_eq!(
        MinnowStatus::from(minnow_core::Error::UnsupportedOp { layer: 0 }),
        MINNOW_ERR_UNSUPPORTED_OP
    );
}

#[test]
fn golden_vectors_read_back() {
    let (inputs, logits): (Vec<u8>, Vec<u8>) = (
        (0..2 * INPUT as u8).collect(),
        (0..2 * CLASSES as u8).collect(),
    );
    let g = GoldenVectors {
        count: 2,
        input_len: INPUT as u32,
        classes: CLASSES as u16,
        inputs: &inputs,
        logits: &logits,
        labels: &[0, 1],
        teacher: &[1, 255],
    };
    let blob = g.encode_to_vec().expect("encode");
    let mut out = minnow_golden {
        state: 0,
        storage: [0; MINNOW_GOLDEN_WORDS],
    };
    // SAFETY: live values.
    unsafe {
        assert_eq!(
            minnow_golden_decode(blob.as_ptr(), blob.len(), &mut out),
            MINNOW_OK
        );
        assert_eq!(minnow_golden_count(&out), 2);
        let (mut x, mut n, mut y, mut c) = (ptr::null(), 0, ptr::null(), 0);
        assert_eq!(
            minnow_golden_vector(&out, 1, &mut x, &mut n, &mut y, &mut c),
            MINNOW_OK
        );
        assert_eq!((n, c), (INPUT, CLASSES));
        assert_eq!(*x, INPUT as i8);
        assert_eq!(*y, CLASSES as i8);
        assert_eq!(
            minnow_golden_vector(&out, 2, &mut x, &mut n, &mut y, &mut c),
            MINNOW_ERR_INDEX_OUT_OF_RANGE
        );
        // a student blob is not golden vectors
        let student = mlp();
        assert_eq!(
            minnow_golden_decode(student.as_ptr(), student.len(), &mut out),
            MINNOW_ERR_BAD_MAGIC
        );
        assert_eq!(minnow_golden_count(&out), 0);
    }
}

#[test]
fn status_codes_are_distinct_and_named() {
    let all = [
        MINNOW_OK,
        MINNOW_ERR_NULL_POINTER,
        MINNOW_ERR_NOT_DECODED,
        MINNOW_ERR_MISALIGNED,
        MINNOW_ERR_TRUNCATED,
        MINNOW_ERR_BAD_MAGIC,
        MINNOW_ERR_UNSUPPORTED_VERSION,
        MINNOW_ERR_UNKNOWN_FLAGS,
        MINNOW_ERR_CRC_MISMATCH,
        MINNOW_ERR_TRAILING_BYTES,
        MINNOW_ERR_MALFORMED,
        MINNOW_ERR_NAME_TOO_LONG,
        MINNOW_ERR_NO_LAYERS,
        MINNOW_ERR_TOO_MANY_LAYERS,
        MINNOW_ERR_DIMENSION_OUT_OF_RANGE,
        MINNOW_ERR_SHAPE_MISMATCH,
        MINNOW_ERR_LENGTH_MISMATCH,
        MINNOW_ERR_INVALID_QUANTIZATION,
        MINNOW_ERR_INVALID_ACTIVATION_RANGE,
        MINNOW_ERR_CLASS_COUNT_MISMATCH,
        MINNOW_ERR_OVERFLOW,
        MINNOW_ERR_BUFFER_SIZE,
        MINNOW_ERR_NON_FINITE,
        MINNOW_ERR_LENGTHS_DIFFER,
        MINNOW_ERR_INDEX_OUT_OF_RANGE,
        MINNOW_ERR_UNSUPPORTED_OP,
        MINNOW_ERR_INVALID_INPUT_SHAPE,
        MINNOW_ERR_INVALID_INPUT_SCALE,
        MINNOW_ERR_INVALID_GOLDEN_SIZE,
        MINNOW_ERR_GOLDEN_LENGTH_MISMATCH,
        MINNOW_ERR_OTHER,
    ];
    let mut codes: Vec<i32> = all.iter().map(|&s| s as i32).collect();
    codes.sort_unstable();
    codes.dedup();
    assert_eq!(codes.len(), all.len());
    for s in all {
        // SAFETY: minnow_status_name returns a static NUL-terminated string.
        let name = unsafe { core::ffi::CStr::from_ptr(minnow_status_name(s as i32)) };
        assert_eq!(name.to_str().expect("ascii"), std::format!("{s:?}"));
    }
    // SAFETY: as above.
    let other = unsafe { core::ffi::CStr::from_ptr(minnow_status_name(12345)) };
    assert_eq!(other.to_bytes(), b"MINNOW_ERR_OTHER");
}

/// include/minnow.h is what cbindgen makes of this crate today; `MINNOW_BLESS=1` rewrites it.
#[test]
fn header_is_fresh() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let config = cbindgen::Config::from_file(dir.join("cbindgen.toml")).expect("cbindgen.toml");
    let mut made = Vec::new();
    cbindgen::Builder::new()
        .with_crate(dir)
        .with_config(config)
        .generate()
        .expect("cbindgen")
        .write(&mut made);
    let path = dir.join("include/minnow.h");
    if std::env::var_os("MINNOW_BLESS").is_some() {
        std::fs::write(&path, &made).expect("write minnow.h");
    }
    let kept = std::fs::read(&path).unwrap_or_default();
    assert!(
        kept == made,
        "capi/include/minnow.h is out of date with capi/src/lib.rs: regenerate it with \
         MINNOW_BLESS=1 cargo test -p minnow-capi header_is_fresh"
    );
}
