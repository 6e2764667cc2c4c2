//! Decoding: a valid student round-trips and runs; every malformed blob gets its own error
#![allow(clippy::unwrap_used)] // test helpers outside #[test] functions
//! variant; no mutation of a valid blob makes decoding or inference panic.

mod common;

use common::{OwnedParams, WeightLayout, act, meta, quantized, reseal, tiny_student_blob, weights};
use minnow_core::golden::UNKNOWN_CLASS;
use minnow_core::{
    Conv2d, Dense, Error, GoldenVectors, Layer, Normalization, Pool2d, Pool2dRect, Shape, Student,
    encode_student_to_vec, kernels,
};

fn dense_params(n: usize, m: usize, relu: bool) -> OwnedParams {
    quantized(
        &weights(n * m, 7),
        WeightLayout::ChannelMajor,
        act(0.05, -3),
        &vec![0.01; m],
        &vec![3; m],
        act(0.1, 2),
        relu,
    )
}

/// A one-layer 4 -> 3 dense student built from `p`, with `edit` applied to the metadata.
fn dense_blob<'m>(
    p: &OwnedParams,
    out: u16,
    edit: impl FnOnce(&mut minnow_core::Meta<'m>),
) -> Vec<u8> {
    let mut m: minnow_core::Meta<'m> = meta("d", Shape::flat(4), 3);
    edit(&mut m);
    encode_student_to_vec(
        &m,
        &[Layer::Dense(Dense {
            out_features: out,
            params: p.borrow(),
        })],
    )
    .unwrap()
}

#[test]
fn tiny_student_decodes_and_runs_like_chained_kernels() {
    let blob = tiny_student_blob();
    let s = Student::decode(&blob).unwrap();
    assert_eq!(s.meta().name, "tiny");
    assert_eq!(s.layer_count(), 4);
    assert_eq!((s.input_len(), s.classes()), (16, 3));
    // conv writes 32 to half A, pool 8 to half B, flatten moves nothing, dense 3 to half A;
    // the conv's patch holds two 3x3x1 receptive fields as int16, word aligned: 4 * (9 + 2).
    assert_eq!(s.scratch_len(), 32 + 8 + 44);
    let fp = s.footprint();
    assert_eq!(fp.macs, 4 * 4 * 2 * 9 + 8 * 3);
    assert_eq!(fp.weight_bytes, (18 + 2 * 13) + (24 + 3 * 13));

    let input: Vec<i8> = weights(16, 3);
    let mut scratch = vec![0i8; s.scratch_len()];
    let mut logits = [0i8; 3];
    s.run(&input, &mut scratch, &mut logits).unwrap();

    // The same network by hand through the public kernels.
    let layers: Vec<Layer<'_>> = s.layers().map(Result::unwrap).collect();
    let (Layer::Conv2d(conv), Layer::MaxPool2d(pool), Layer::Dense(dense)) =
        (&layers[0], &layers[1], &layers[3])
    else {
        panic!("unexpected layers");
    };
    let mut a = vec![0i8; 32];
    kernels::conv2d(
        conv,
        Shape::new(4, 4, 1),
        -3,
        &input,
        Shape::new(4, 4, 2),
        &mut [0i8; 44],
        &mut a,
    );
    let mut b = vec![0i8; 8];
    kernels::max_pool2d(
        &pool.rect(),
        Shape::new(4, 4, 2),
        &a,
        Shape::new(2, 2, 2),
        &mut b,
    );
    let mut want = [0i8; 3];
    kernels::dense(dense, &b, &mut want);
    assert_eq!(logits, want);

    // observer sees every layer with its output length
    let mut seen = Vec::new();
    s.run_observed(&input, &mut scratch, &mut logits, |i, l, out| {
        seen.push((i, l.kind(), out.len()))
    })
    .unwrap();
    assert_eq!(
        seen,
        [
            (0, "conv2d", 32),
            (1, "max_pool2d", 8),
            (2, "flatten", 8),
            (3, "dense", 3)
        ]
    );
    assert_eq!(
        s.predict(&input, &mut scratch, &mut logits).unwrap(),
        minnow_core::softmax::argmax_i8(&want).unwrap()
    );

    // A plan runs the same layers to the same logits, from its decoded steps.
    let plan = s.plan::<6>().unwrap();
    let steps: Vec<_> = plan
        .steps()
        .iter()
        .map(|st| (st.layer.kind(), st.input, st.output, st.input_zero_point))
        .collect();
    let shapes: Vec<_> = (0..4).map(|i| s.layer_shapes(i).unwrap()).collect();
    assert_eq!(steps.len(), 4);
    for (i, (kind, input, output, _)) in steps.iter().enumerate() {
        assert_eq!(*kind, layers[i].kind());
        assert_eq!((*input, *output), (shapes[i].input, shapes[i].output));
    }
    assert_eq!(steps[0].3, -3, "the conv reads the input's zero point");
    let mut planned = [0i8; 3];
    plan.run(&input, &mut vec![0i8; s.scratch_len()], &mut planned)
        .unwrap();
    assert_eq!(planned, want);
    assert_eq!(
        s.plan::<3>().map(|_| ()),
        Err(Error::TooManyLayers { count: 4 }),
        "a plan holds at least the layer count"
    );
}

#[test]
fn buffers_must_be_big_enough() {
    let blob = tiny_student_blob();
    let s = Student::decode(&blob).unwrap();
    let input = vec![0i8; 16];
    let mut logits = [0i8; 3];
    let mut small = vec![0i8; s.scratch_len() - 1];
    assert_eq!(
        s.run(&input, &mut small, &mut logits),
        Err(Error::BufferSize {
            needed: 84,
            got: 83
        })
    );
    let mut scratch = vec![0i8; s.scratch_len()];
    assert!(matches!(
        s.run(&input[..15], &mut scratch, &mut logits),
        Err(Error::BufferSize { .. })
    ));
    assert!(matches!(
        s.run(&input, &mut scratch, &mut logits[..2]),
        Err(Error::BufferSize { .. })
    ));
    // A plan checks the same.
    let plan = s.plan::<4>().unwrap();
    let mut small = vec![0i8; s.scratch_len() - 1];
    assert!(matches!(
        plan.run(&input, &mut small, &mut logits),
        Err(Error::BufferSize { .. })
    ));
    assert!(matches!(
        plan.run(&input, &mut scratch, &mut logits[..2]),
        Err(Error::BufferSize { .. })
    ));
}

#[test]
fn quantize_input_applies_normalization() {
    let blob = tiny_student_blob();
    let s = Student::decode(&blob).unwrap();
    // mean 0.5, std 2, scale 0.05, zp -3: x = 1.5 -> 0.5 -> 10 -> 7
    let mut q = vec![0i8; 16];
    let mut raw = vec![1.5f32; 16];
    s.quantize_input(&raw, &mut q).unwrap();
    assert!(q.iter().all(|&v| v == 7));
    raw[3] = f32::NAN;
    assert_eq!(s.quantize_input(&raw, &mut q), Err(Error::NonFinite));
}

#[test]
fn encoding_is_deterministic() {
    assert_eq!(tiny_student_blob(), tiny_student_blob());
}

/// One malformed blob per error variant.
#[test]
fn malformed_student_matrix() {
    let good = tiny_student_blob();
    let cases: Vec<(&str, Vec<u8>, Error)> = {
        let mut v = Vec::new();
        v.push((
            "empty",
            vec![],
            Error::Truncated {
                needed: 16,
                available: 0,
            },
        ));
        v.push((
            "short header",
            good[..10].to_vec(),
            Error::Truncated {
                needed: 16,
                available: 10,
            },
        ));
        let mut b = good.clone();
        b[0] = b'X';
        v.push(("bad magic", b, Error::BadMagic));
        for version in [0, 3] {
            let mut b = good.clone();
            b[4] = version;
            v.push((
                "version 0 or 3",
                b,
                Error::UnsupportedVersion {
                    found: u16::from(version),
                    supported: 2,
                },
            ));
        }
        let mut b = good.clone();
        b[6] = 1;
        v.push(("flags", b, Error::UnknownFlags { flags: 1 }));
        let cut = good[..good.len() - 5].to_vec();
        let (len, avail) = (good.len() as u32, cut.len() as u32);
        v.push((
            "truncated body",
            cut,
            Error::Truncated {
                needed: len,
                available: avail,
            },
        ));
        let mut b = good.clone();
        b.extend_from_slice(&[0, 0]);
        v.push(("trailing", b, Error::TrailingBytes { extra: 2 }));
        let mut b = good.clone();
        let last = b.len() - 1;
        b[last] ^= 0x40;
        let stored = u32::from_le_bytes([b[12], b[13], b[14], b[15]]);
        let computed = crc::Crc::<u32>::new(&crc::CRC_32_ISO_HDLC).checksum(&b[16..]);
        v.push((
            "flipped body byte",
            b,
            Error::CrcMismatch { stored, computed },
        ));
        // the name length 4 written as the over-long varint `84 00`: refused, so that a 64-bit
        // host and a 32-bit device accept the same blobs
        let mut b = good.clone();
        assert_eq!(b[16], 4);
        b.splice(16..17, [0x84, 0x00]);
        reseal(&mut b);
        v.push(("non-canonical varint", b, Error::Malformed));
        let mut b = good[..19].to_vec();
        reseal(&mut b);
        v.push(("body not postcard", b, Error::Malformed));
        v
    };
    for (what, blob, want) in cases {
        assert_eq!(Student::decode(&blob).err(), Some(want), "{what}");
    }
}

#[test]
fn malformed_layers_matrix() {
    let p = dense_params(4, 3, false);
    let long = "x".repeat(65);
    assert_eq!(
        Student::decode(&dense_blob(&p, 3, |m| m.name = &long)).err(),
        Some(Error::NameTooLong { len: 65 })
    );
    assert_eq!(
        Student::decode(&dense_blob(&p, 3, |m| m.classes = 4)).err(),
        Some(Error::ClassCountMismatch {
            produced: 3,
            classes: 4
        })
    );
    assert_eq!(
        Student::decode(&dense_blob(&p, 3, |m| m.normalization =
            Normalization::new(&[0, 0, 0xc0, 0x7f, 0, 0, 0x80, 0x3f])))
        .err(),
        Some(Error::NonFinite)
    );
    assert_eq!(
        Student::decode(&dense_blob(&p, 3, |m| m.normalization = Normalization::new(&[0; 8])))
            .err(),
        Some(Error::NonFinite)
    );
    assert_eq!(
        Student::decode(&dense_blob(&p, 3, |m| m.temperature = 0.0)).err(),
        Some(Error::InvalidTemperature)
    );
    assert_eq!(
        Student::decode(&dense_blob(&p, 3, |m| m.input.scale = -1.0)).err(),
        Some(Error::InvalidInputScale)
    );
    assert_eq!(
        Student::decode(&dense_blob(&p, 3, |m| m.input_shape = Shape::new(0, 1, 4))).err(),
        Some(Error::InvalidInputShape)
    );
    assert_eq!(
        Student::decode(&dense_blob(&p, 3, |m| m.input_shape = Shape::new(2048, 2048, 1))).err(),
        Some(Error::InvalidInputShape)
    );
    // wrong out_features for the arrays
    assert_eq!(
        Student::decode(&dense_blob(&p, 2, |m| m.classes = 2)).err(),
        Some(Error::LengthMismatch { layer: 0 })
    );
    assert_eq!(
        Student::decode(&dense_blob(&p, 0, |_| {})).err(),
        Some(Error::DimensionOutOfRange { layer: 0 })
    );
    // weights for 5 inputs where 4 arrive
    assert_eq!(
        Student::decode(&dense_blob(&dense_params(5, 3, false), 3, |_| {})).err(),
        Some(Error::LengthMismatch { layer: 0 })
    );

    let mut q = dense_params(4, 3, false);
    q.multiplier[3] = 0x80; // channel 0 multiplier negative
    assert_eq!(
        Student::decode(&dense_blob(&q, 3, |_| {})).err(),
        Some(Error::InvalidQuantization { layer: 0 })
    );
    let mut q = dense_params(4, 3, false);
    q.shift[1] = 31;
    assert_eq!(
        Student::decode(&dense_blob(&q, 3, |_| {})).err(),
        Some(Error::InvalidQuantization { layer: 0 })
    );
    let mut q = dense_params(4, 3, false);
    q.weights[0] = 0x80; // -128 is outside the symmetric range
    assert_eq!(
        Student::decode(&dense_blob(&q, 3, |_| {})).err(),
        Some(Error::InvalidQuantization { layer: 0 })
    );
    let mut q = dense_params(4, 3, false);
    q.weight_scales[0..4].copy_from_slice(&f32::NAN.to_le_bytes());
    assert_eq!(
        Student::decode(&dense_blob(&q, 3, |_| {})).err(),
        Some(Error::InvalidQuantization { layer: 0 })
    );
    let mut q = dense_params(4, 3, false);
    q.output.scale = 0.0;
    assert_eq!(
        Student::decode(&dense_blob(&q, 3, |_| {})).err(),
        Some(Error::InvalidQuantization { layer: 0 })
    );
    let mut q = dense_params(4, 3, false);
    (q.act_min, q.act_max) = (5, 4);
    assert_eq!(
        Student::decode(&dense_blob(&q, 3, |_| {})).err(),
        Some(Error::InvalidActivationRange { layer: 0 })
    );

    // no layers, too many layers, trailing layer bytes
    let m = meta("d", Shape::flat(4), 4);
    assert_eq!(
        Student::decode(&encode_student_to_vec(&m, &[]).unwrap()).err(),
        Some(Error::NoLayers)
    );
    let many = vec![Layer::Flatten; 65];
    assert_eq!(
        Student::decode(&encode_student_to_vec(&m, &many).unwrap()).err(),
        Some(Error::TooManyLayers { count: 65 })
    );
    let mut two = encode_student_to_vec(&m, &[Layer::Flatten, Layer::Flatten]).unwrap();
    // Rewrite the layer count (the byte after Meta) from 2 to 1, leaving one layer's bytes over.
    let count_at = two.len() - 3;
    assert_eq!(two[count_at], 2);
    two[count_at] = 1;
    reseal(&mut two);
    assert_eq!(
        Student::decode(&two).err(),
        Some(Error::TrailingBytes { extra: 1 })
    );

    // a conv window that does not fit, and padding not smaller than the kernel
    let c = quantized(
        &weights(9, 1),
        WeightLayout::ChannelMajor,
        act(0.05, -3),
        &[0.01],
        &[0],
        act(0.1, 0),
        false,
    );
    let conv = |k: u8, pad: u8| {
        Layer::Conv2d(Conv2d {
            out_channels: 1,
            kernel_h: k,
            kernel_w: k,
            stride: 1,
            padding: pad,
            params: c.borrow(),
        })
    };
    let m = meta("c", Shape::new(2, 2, 1), 4);
    assert_eq!(
        Student::decode(&encode_student_to_vec(&m, &[conv(3, 0)]).unwrap()).err(),
        Some(Error::ShapeMismatch { layer: 0 })
    );
    assert_eq!(
        Student::decode(&encode_student_to_vec(&m, &[conv(3, 3)]).unwrap()).err(),
        Some(Error::DimensionOutOfRange { layer: 0 })
    );
    let pool = |k: u8, s: u8| {
        Layer::MaxPool2d(Pool2d {
            kernel: k,
            stride: s,
        })
    };
    assert_eq!(
        Student::decode(&encode_student_to_vec(&m, &[pool(2, 0)]).unwrap()).err(),
        Some(Error::DimensionOutOfRange { layer: 0 })
    );
    assert_eq!(
        Student::decode(&encode_student_to_vec(&m, &[pool(3, 1)]).unwrap()).err(),
        Some(Error::ShapeMismatch { layer: 0 })
    );

    // A window and a stride per axis: each axis checked on its own.
    let rect = |kernel_h: u8, kernel_w: u8, stride_h: u8, stride_w: u8| {
        Layer::MaxPool2dRect(Pool2dRect {
            kernel_h,
            kernel_w,
            stride_h,
            stride_w,
        })
    };
    let seq = meta("s", Shape::new(6, 1, 2), 6);
    let flat = dense_params(6, 6, false);
    let head = |l: Layer<'_>| {
        let d = Layer::Dense(Dense {
            out_features: 6,
            params: flat.borrow(),
        });
        encode_student_to_vec(&seq, &[l, Layer::Flatten, d]).unwrap()
    };
    // 2x1 with stride 2x1 halves a 6 x 1 x 2 sequence: 3 x 1 x 2, six values for the dense
    // layer; the square window of 2 does not fit the width of 1.
    let s = head(rect(2, 1, 2, 1));
    let decoded = Student::decode(&s).unwrap();
    assert_eq!(decoded.layer_shapes(0).unwrap().output, Shape::new(3, 1, 2));
    assert_eq!(
        Student::decode(&head(pool(2, 2))).err(),
        Some(Error::ShapeMismatch { layer: 0 })
    );
    for (l, e) in [
        (rect(0, 1, 1, 1), Error::DimensionOutOfRange { layer: 0 }),
        (rect(2, 16, 1, 1), Error::DimensionOutOfRange { layer: 0 }),
        (rect(2, 1, 9, 1), Error::DimensionOutOfRange { layer: 0 }),
        (rect(2, 1, 2, 0), Error::DimensionOutOfRange { layer: 0 }),
        (rect(7, 1, 1, 1), Error::ShapeMismatch { layer: 0 }),
        (rect(2, 2, 2, 1), Error::ShapeMismatch { layer: 0 }),
    ] {
        assert_eq!(Student::decode(&head(l)).err(), Some(e), "{l:?}");
    }
}

fn golden_blob() -> Vec<u8> {
    let inputs = [1u8, 2, 3, 4, 5, 6];
    let logits = [9u8, 8, 7, 6];
    let g = GoldenVectors {
        count: 2,
        input_len: 3,
        classes: 2,
        inputs: &inputs,
        logits: &logits,
        labels: &[1, UNKNOWN_CLASS],
        teacher: &[1, 0],
    };
    g.encode_to_vec().unwrap()
}

#[test]
fn golden_vectors_round_trip_and_reject_malformed() {
    let blob = golden_blob();
    let g = GoldenVectors::decode(&blob).unwrap();
    assert_eq!(g.len(), 2);
    assert_eq!(g.input(1).unwrap(), &[4, 5, 6]);
    assert_eq!(g.expected(0).unwrap(), &[9, 8]);
    assert_eq!(g.label(1).unwrap(), UNKNOWN_CLASS);
    assert_eq!(g.teacher_class(0).unwrap(), 1);
    assert_eq!(
        g.input(2).err(),
        Some(Error::IndexOutOfRange { index: 2, len: 2 })
    );

    assert_eq!(Student::decode(&blob).err(), Some(Error::BadMagic));
    assert_eq!(
        GoldenVectors::decode(&tiny_student_blob()).err(),
        Some(Error::BadMagic)
    );
    let bad = GoldenVectors {
        count: 2,
        input_len: 3,
        classes: 2,
        inputs: &[1, 2, 3],
        logits: &[0; 4],
        labels: &[0, 0],
        teacher: &[0, 0],
    };
    assert_eq!(
        GoldenVectors::decode(&bad.encode_to_vec().unwrap()).err(),
        Some(Error::GoldenLengthMismatch)
    );
    let zero = GoldenVectors {
        count: 0,
        input_len: 0,
        classes: 2,
        inputs: &[],
        logits: &[],
        labels: &[],
        teacher: &[],
    };
    assert_eq!(
        GoldenVectors::decode(&zero.encode_to_vec().unwrap()).err(),
        Some(Error::InvalidGoldenSize)
    );
    let mut cut = blob.clone();
    cut.truncate(blob.len() - 1);
    assert!(matches!(
        GoldenVectors::decode(&cut),
        Err(Error::Truncated { .. })
    ));
}

/// Every single-byte change and every truncation of a valid blob either decodes or errors, and
/// whatever decodes runs without panicking. The header is resealed so mutations reach the body.
#[test]
fn no_mutation_panics() {
    let good = tiny_student_blob();
    for cut in 0..good.len() {
        let _ = Student::decode(&good[..cut]);
    }
    for i in 16..good.len() {
        for v in [0u8, 1, 0x7f, 0x80, 0xff, good[i] ^ 1] {
            let mut b = good.clone();
            b[i] = v;
            reseal(&mut b);
            if let Ok(s) = Student::decode(&b) {
                let input = vec![1i8; s.input_len()];
                let mut scratch = vec![0i8; s.scratch_len()];
                let mut logits = vec![0i8; s.classes()];
                s.run(&input, &mut scratch, &mut logits).unwrap();
                // A plan of what decoded runs to the same logits.
                let mut planned = vec![0i8; s.classes()];
                let plan = s.plan::<8>().unwrap();
                plan.run(&input, &mut scratch, &mut planned).unwrap();
                assert_eq!(planned, logits);
            }
        }
    }
}
