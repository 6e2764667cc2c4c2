//! Executable checks of claims docs/format.md makes (the worked example's bytes, varint
//! leniency, the order and variants of errors). Run: cargo test --manifest-path fuzz/Cargo.toml

use minnow_core::header::HEADER_LEN;
use minnow_core::{Error, GoldenVectors, Student};
use minnow_fuzz::{golden_for, seal, tiny_student};

const TINY: &str = "4d4e535402000000480000003d3a2a44
    0474696e79010102020000003f00 08 0000000000 00803f 00008040 01 00 02 0402fefe02
    080000003f0000003f 0802000000feffffff 080000004000000040 020101 0000803e ff 80 7f";
const TINY_GOLDEN: &str =
    "4d4e47560200000013000000087ac93d 020202 04cef3d9fe 04b747b747 02ff01 020101";
/// The same student as format version 1 wrote it (the normalisation pair without a length):
/// version 2 builds read it as before.
const TINY_V1: &str = "4d4e5354010000004700000023 71daa1
    0474696e79010102020000003f00000000000000803f00008040010002 0402fefe02
    080000003f0000003f 0802000000feffffff 080000004000000040 020101 0000803e ff 80 7f";

fn hex(s: &str) -> Vec<u8> {
    let s: String = s.chars().filter(|c| !c.is_whitespace()).collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn body() -> Vec<u8> {
    tiny_student().encode().expect("encodes")[HEADER_LEN..].to_vec()
}

/// Replaces `body[at..at + len]` with `with` and seals the result.
fn patched(at: usize, len: usize, with: &[u8]) -> Vec<u8> {
    let mut b = body();
    b.splice(at..at + len, with.iter().copied());
    seal(b"MNST", &b)
}

fn decode(blob: &[u8]) -> Result<(), Error> {
    Student::decode(blob).map(|_| ())
}

#[test]
fn worked_example_bytes() {
    assert_eq!(tiny_student().encode().expect("encodes"), hex(TINY));
    assert_eq!(golden_for(&tiny_student(), 2), hex(TINY_GOLDEN));
    let blob = hex(TINY);
    let s = Student::decode(&blob).unwrap();
    let mut scratch = vec![0; s.scratch_len()];
    let mut logits = [0; 2];
    for (x, want) in [
        ([4, 2], [5, -7]),
        ([-3, 5], [-15, 13]),
        ([127, -128], [127, -128]),
    ] {
        s.run(&x, &mut scratch, &mut logits).unwrap();
        assert_eq!(logits, want);
    }
    GoldenVectors::decode(&hex(TINY_GOLDEN)).unwrap();
    // Version 1: the same student, the same outputs; version 1 golden vectors too.
    let v1 = hex(TINY_V1);
    let old = Student::decode(&v1).unwrap();
    assert_eq!(old.meta(), s.meta());
    let mut golden_v1 = hex(TINY_GOLDEN);
    golden_v1[4] = 1;
    GoldenVectors::decode(&golden_v1).unwrap();
}

#[test]
fn header_rules_in_order() {
    let blob = hex(TINY);
    assert_eq!(
        decode(&blob[..15]),
        Err(Error::Truncated {
            needed: 16,
            available: 15
        })
    );
    let mut b = blob.clone();
    b[0] = b'X';
    b[4] = 2;
    assert_eq!(decode(&b), Err(Error::BadMagic));
    assert_eq!(
        GoldenVectors::decode(&blob).map(|_| ()),
        Err(Error::BadMagic)
    );
    let mut b = blob.clone();
    b[4] = 3;
    b[6] = 1;
    assert_eq!(
        decode(&b),
        Err(Error::UnsupportedVersion {
            found: 3,
            supported: 2
        })
    );
    let mut b = blob.clone();
    b[6] = 1;
    b[12] ^= 1;
    assert_eq!(decode(&b), Err(Error::UnknownFlags { flags: 1 }));
    let mut b = blob.clone();
    b[8..12].copy_from_slice(&u32::MAX.to_le_bytes());
    assert_eq!(
        decode(&b),
        Err(Error::Truncated {
            needed: u32::MAX,
            available: 88
        })
    );
    let mut b = blob.clone();
    b.push(0);
    b[12] ^= 1;
    assert_eq!(decode(&b), Err(Error::TrailingBytes { extra: 1 }));
    let mut b = blob.clone();
    b[12] ^= 1;
    assert!(matches!(decode(&b), Err(Error::CrcMismatch { .. })));
}

#[test]
fn varints_must_be_canonical() {
    // name length 4 as `84 00` (2 bytes), `84 80 80 80 00` (5) and 6 bytes: every over-long
    // form is refused, so a 64-bit host and a 32-bit device accept exactly the same blobs.
    assert_eq!(decode(&patched(0, 1, &[0x84, 0x00])), Err(Error::Malformed));
    assert_eq!(
        decode(&patched(0, 1, &[0x84, 0x80, 0x80, 0x80, 0x00])),
        Err(Error::Malformed)
    );
    assert_eq!(
        decode(&patched(0, 1, &[0x84, 0x80, 0x80, 0x80, 0x80, 0x00])),
        Err(Error::Malformed)
    );
    // classes (u16, offset 8) as `82 80 00` or `82 80 04`.
    assert_eq!(
        decode(&patched(8, 1, &[0x82, 0x80, 0x00])),
        Err(Error::Malformed)
    );
    assert_eq!(
        decode(&patched(8, 1, &[0x82, 0x80, 0x04])),
        Err(Error::Malformed)
    );
    // layer count (u32, offset 27) as 5 bytes.
    assert_eq!(
        decode(&patched(27, 1, &[0x81, 0x80, 0x80, 0x80, 0x00])),
        Err(Error::Malformed)
    );
    // invalid UTF-8 in the name, valid UTF-8 that is not printable ASCII, a control character
    assert_eq!(decode(&patched(1, 1, &[0xFF])), Err(Error::Malformed));
    assert_eq!(
        decode(&patched(0, 3, &[0x04, 0xC3, 0xA9, b'n'])),
        Err(Error::Malformed)
    );
    assert_eq!(decode(&patched(1, 1, &[b'\n'])), Err(Error::Malformed));
    assert_eq!(decode(&patched(1, 1, &[b'~'])).map(|_| ()), Ok(()));
}

#[test]
fn meta_rules() {
    // name of 65 bytes
    let mut long = vec![65_u8];
    long.extend(std::iter::repeat_n(b'a', 65));
    assert_eq!(
        decode(&patched(0, 5, &long)),
        Err(Error::NameTooLong { len: 65 })
    );
    assert_eq!(decode(&patched(27, 1, &[0])), Err(Error::NoLayers));
    assert_eq!(
        decode(&patched(27, 1, &[65])),
        Err(Error::TooManyLayers { count: 65 })
    );
    assert_eq!(decode(&patched(5, 1, &[0])), Err(Error::InvalidInputShape));
    // input.scale = -0.5
    assert_eq!(
        decode(&patched(9, 4, &(-0.5_f32).to_le_bytes())),
        Err(Error::InvalidInputScale)
    );
    // std = -1 (finite): NonFinite
    assert_eq!(
        decode(&patched(19, 4, &(-1.0_f32).to_le_bytes())),
        Err(Error::NonFinite)
    );
    // two pairs for a 1x1x2 input are one per channel: fine; three are none of the counts
    let pair = [0, 0, 0, 0, 0, 0, 0x80, 0x3f];
    let two: Vec<u8> = [&[16][..], &pair, &pair].concat();
    assert_eq!(decode(&patched(14, 9, &two)), Ok(()));
    let three: Vec<u8> = [&[24][..], &pair, &pair, &pair].concat();
    assert_eq!(
        decode(&patched(14, 9, &three)),
        Err(Error::InvalidNormalization)
    );
    assert_eq!(
        decode(&patched(14, 9, &[7, 0, 0, 0, 0, 0, 0, 0x80])),
        Err(Error::InvalidNormalization)
    );
    assert_eq!(
        decode(&patched(23, 4, &0.0_f32.to_le_bytes())),
        Err(Error::InvalidTemperature)
    );
    // classes 0 and 3
    assert_eq!(
        decode(&patched(8, 1, &[0])),
        Err(Error::ClassCountMismatch {
            produced: 2,
            classes: 0
        })
    );
    // variant index 8 (6 and 7 are format 2's rectangular pools)
    assert_eq!(decode(&patched(28, 1, &[8])), Err(Error::Malformed));
    // trailing bytes after the last layer
    let mut b = body();
    b.push(0);
    assert_eq!(
        decode(&seal(b"MNST", &b)),
        Err(Error::TrailingBytes { extra: 1 })
    );
}

#[test]
fn param_rules() {
    // weights: a -128
    assert_eq!(
        decode(&patched(31, 1, &[0x80])),
        Err(Error::InvalidQuantization { layer: 0 })
    );
    // negative multiplier (last byte of channel 1's multiplier at 0x45 - 0x10 + 8)
    assert_eq!(
        decode(&patched(0x3d, 1, &[0x80])),
        Err(Error::InvalidQuantization { layer: 0 })
    );
    // shift 31
    assert_eq!(
        decode(&patched(0x3f, 1, &[31])),
        Err(Error::InvalidQuantization { layer: 0 })
    );
    assert_eq!(decode(&patched(0x3f, 1, &[0xE1])), Ok(())); // -31
    // act_min 127 > act_max 127? equal is fine; act_min 127, act_max 0 is not
    assert_eq!(
        decode(&patched(0x46, 2, &[0x7f, 0x00])),
        Err(Error::InvalidActivationRange { layer: 0 })
    );
    // a multiplier below 2^30 (1) is accepted
    assert_eq!(decode(&patched(0x36, 4, &1_i32.to_le_bytes())), Ok(()));
}

#[test]
fn golden_rules() {
    let golden = |b: &[u8]| GoldenVectors::decode(&seal(b"MNGV", b)).map(|_| ());
    let ok = hex(TINY_GOLDEN)[HEADER_LEN..].to_vec();
    assert_eq!(golden(&ok), Ok(()));
    assert_eq!(golden(&[0, 1, 1, 0, 0, 0, 0]), Ok(())); // count 0
    assert_eq!(
        golden(&[0, 0, 1, 0, 0, 0, 0]),
        Err(Error::InvalidGoldenSize)
    );
    assert_eq!(
        golden(&[1, 1, 1, 1, 0, 1, 0, 1, 0, 0]),
        Err(Error::GoldenLengthMismatch)
    );
    assert_eq!(
        golden(&[0x81, 0x80, 0x40, 1, 1, 0, 0, 0, 0]),
        Err(Error::InvalidGoldenSize)
    );
    let mut t = ok.clone();
    t.push(0);
    assert_eq!(golden(&t), Err(Error::TrailingBytes { extra: 1 }));
    // labels are not range-checked
    let mut l = ok.clone();
    l[14] = 200;
    assert_eq!(golden(&l), Ok(()));
}

#[test]
fn macs_beyond_u32_are_overflow() {
    use minnow_core::layer::{Activation, Shape};
    use minnow_fuzz::{OwnedLayer, OwnedParams};
    let (c, k) = (1024_usize, 9 * 1024_usize);
    let p = OwnedParams {
        weights: vec![1; c * k],
        weight_scales: minnow_core::pack_f32(&vec![0.01; c]),
        bias: vec![0; 4 * c],
        multiplier: minnow_core::pack_i32(&vec![1 << 30; c]),
        shift: vec![0; c],
        output: Activation {
            scale: 0.1,
            zero_point: 0,
        },
        act_min: -128,
        act_max: 127,
    };
    let mut s = tiny_student();
    s.input_shape = Shape::new(32, 32, 1024);
    s.classes = 10;
    s.layers = vec![OwnedLayer::Conv2d {
        out_channels: 1024,
        kernel_h: 3,
        kernel_w: 3,
        stride: 1,
        padding: 1,
        params: p,
    }];
    // S13 (class count) is checked before S14: make the class count right with a valid tail.
    assert!(matches!(
        decode(&s.encode().expect("encodes")),
        Err(Error::ClassCountMismatch { .. })
    ));
    s.layers.push(OwnedLayer::MaxPool2d(minnow_core::Pool2d {
        kernel: 15,
        stride: 8,
    }));
    // 32x32 -> pool 15/8 -> 3x3x1024 = 9216 elements; classes must match
    s.classes = 9216;
    assert_eq!(decode(&s.encode().expect("encodes")), Err(Error::Overflow));
}

#[test]
fn something_must_compute_and_be_included() {
    // S13a: the tiny student's one layer (offset 28 on) replaced by a flatten: 1x1x2 -> 2 values
    // = classes, but nothing computes them.
    let b = body();
    let flatten_only = patched(28, b.len() - 28, &[0x05]);
    assert_eq!(decode(&flatten_only), Err(Error::NoLayers));
    // S10a: code built for convolutions only does not take a dense layer.
    let blob = tiny_student().encode().expect("encodes");
    assert_eq!(
        Student::decode_ops::<{ minnow_core::layer::ops::CONV2D }>(&blob).map(|_| ()),
        Err(Error::UnsupportedOp { layer: 0 })
    );
    assert!(Student::decode_ops::<{ minnow_core::layer::ops::DENSE }>(&blob).is_ok());
}

#[test]
fn scratch_sizing_example() {
    let blob = minnow_fuzz::conv_student().encode().expect("encodes");
    assert_eq!(
        Student::decode(&blob).unwrap().scratch_len(),
        144 + 36 + 4 * (18 + 2)
    );
    let blob = minnow_fuzz::mlp_student().encode().expect("encodes");
    assert_eq!(
        Student::decode(&blob).unwrap().scratch_len(),
        8 + 8 + 4 * (3 + 2)
    );
    let blob = tiny_student().encode().expect("encodes");
    // its only layer writes straight into the logits
    assert_eq!(Student::decode(&blob).unwrap().scratch_len(), 0);
}
