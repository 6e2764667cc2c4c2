//! The hand-written readers (`wire::Reader` and each type's `read`) accept exactly what postcard
//! accepts in its canonical form, with the same values: checked on real encodings of every type,
//! every one-byte mutation of them, random bytes and spliced encodings, each fed to every reader.
//! A module of its own because it reads every type: it sits above the readers in the module
//! graph, and none of them imports it.

extern crate std;
use std::vec::Vec;

use proptest::prelude::*;
use serde::{Deserialize, Serialize};

use crate::golden::GoldenVectors;
use crate::header::FORMAT_VERSION;
use crate::layer::{
    Activation, Conv2d, Dense, DepthwiseConv2d, Layer, Params, Pool2d, Pool2dRect, Shape, ops,
};
use crate::meta::{Meta, Normalization};
use crate::wire::Reader;

/// What the reader must match: postcard's decode, accepted only when re-encoding the value
/// gives the same number of bytes (the canonical form).
fn postcard_canonical<'a, T>(bytes: &'a [u8]) -> Option<(T, usize)>
where
    T: Deserialize<'a> + Serialize,
{
    let (value, rest) = postcard::take_from_bytes::<T>(bytes).ok()?;
    let used = bytes.len() - rest.len();
    let size =
        postcard::serialize_with_flavor(&value, postcard::ser_flavors::Size::default()).ok()?;
    (size == used).then_some((value, used))
}

fn ours<'a, T>(bytes: &'a [u8], read: impl FnOnce(&mut Reader<'a>) -> T) -> Option<(T, usize)> {
    let mut r = Reader::new(bytes);
    let value = read(&mut r);
    let value = r.check(value).ok()?;
    Some((value, bytes.len() - r.rest().len()))
}

/// Same acceptance, same value (compared through postcard bytes, so NaN scales compare
/// equal), same number of bytes consumed.
fn assert_agree<'a, T>(bytes: &'a [u8], read: impl FnOnce(&mut Reader<'a>) -> T)
where
    T: Deserialize<'a> + Serialize + core::fmt::Debug,
{
    let theirs = postcard_canonical::<T>(bytes);
    let mine = ours(bytes, read);
    match (&theirs, &mine) {
        (None, None) => {}
        (Some((a, na)), Some((b, nb))) => {
            assert_eq!(na, nb, "bytes consumed differ on {bytes:02x?}");
            assert_eq!(
                postcard::to_stdvec(a).unwrap(),
                postcard::to_stdvec(b).unwrap(),
                "values differ on {bytes:02x?}"
            );
        }
        _ => panic!("acceptance differs on {bytes:02x?}: postcard {theirs:?}, wire {mine:?}"),
    }
}

/// A few real encodings to mutate: every layer kind, a meta, golden vectors.
fn samples() -> Vec<Vec<u8>> {
    let p = Params {
        weights: &[1, 2, 0xff],
        weight_scales: &[0, 0, 0x80, 0x3f],
        bias: &[5, 0, 0, 0],
        multiplier: &[0, 0, 0, 0x40],
        shift: &[0xfe],
        output: Activation {
            scale: 0.25,
            zero_point: -3,
        },
        act_min: -3,
        act_max: 127,
    };
    let layers = [
        Layer::Dense(Dense {
            out_features: 300,
            params: p,
        }),
        Layer::Conv2d(Conv2d {
            out_channels: 1,
            kernel_h: 3,
            kernel_w: 3,
            stride: 1,
            padding: 1,
            params: p,
        }),
        Layer::DepthwiseConv2d(DepthwiseConv2d {
            kernel_h: 3,
            kernel_w: 1,
            stride: 2,
            padding: 0,
            params: p,
        }),
        Layer::MaxPool2d(Pool2d {
            kernel: 2,
            stride: 2,
        }),
        Layer::AvgPool2d(Pool2d {
            kernel: 3,
            stride: 1,
        }),
        Layer::Flatten,
        Layer::MaxPool2dRect(Pool2dRect {
            kernel_h: 2,
            kernel_w: 1,
            stride_h: 2,
            stride_w: 1,
        }),
        Layer::AvgPool2dRect(Pool2dRect {
            kernel_h: 1,
            kernel_w: 3,
            stride_h: 1,
            stride_w: 2,
        }),
    ];
    let mut out: Vec<Vec<u8>> = layers
        .iter()
        .map(|l| postcard::to_stdvec(l).unwrap())
        .collect();
    out.push(postcard::to_stdvec(&sample_meta()).unwrap());
    let mut non_ascii = sample_meta();
    non_ascii.name = "né";
    out.push(postcard::to_stdvec(&non_ascii).unwrap());
    let g = GoldenVectors {
        count: 1,
        input_len: 2,
        classes: 2,
        inputs: &[1, 2],
        logits: &[3, 4],
        labels: &[1],
        teacher: &[255],
    };
    out.push(postcard::to_stdvec(&g).unwrap());
    out
}

/// Two pairs: (0.1, 0.3) and (-2.0, 4.0).
const NORM_PAIRS: [u8; 16] = [
    0xcd, 0xcc, 0xcc, 0x3d, 0x9a, 0x99, 0x99, 0x3e, 0, 0, 0, 0xc0, 0, 0, 0x80, 0x40,
];

fn sample_meta() -> Meta<'static> {
    Meta {
        name: "m1",
        input_shape: Shape::new(28, 28, 1),
        classes: 10,
        input: Activation {
            scale: 0.5,
            zero_point: 4,
        },
        normalization: Normalization::new(&NORM_PAIRS),
        temperature: 20.0,
    }
}

/// `Meta` as minnow's format defines it: postcard's, with a printable-ASCII name.
#[derive(Debug, Serialize, Deserialize)]
struct AsciiMeta<'a>(#[serde(borrow)] Meta<'a>);

impl AsciiMeta<'_> {
    fn printable(&self) -> bool {
        self.0.name.bytes().all(|b| (0x20..=0x7e).contains(&b))
    }
}

fn check_meta(bytes: &[u8]) {
    let theirs = postcard_canonical::<AsciiMeta<'_>>(bytes).filter(|(m, _)| m.printable());
    let mine = ours(bytes, |r| Meta::read(r, FORMAT_VERSION));
    assert_eq!(
        theirs.map(|(m, n)| (postcard::to_stdvec(&m).unwrap(), n)),
        mine.map(|(m, n)| (postcard::to_stdvec(&m).unwrap(), n)),
        "meta differs on {bytes:02x?}"
    );
}

#[test]
fn names_must_be_printable_ascii() {
    for (name, ok) in [
        ("tiny", true),
        ("a b~", true),
        ("", true),
        ("né", false),
        ("a\n", false),
    ] {
        let mut meta = sample_meta();
        meta.name = name;
        let bytes = postcard::to_stdvec(&meta).unwrap();
        assert_eq!(
            ours(&bytes, |r| Meta::read(r, FORMAT_VERSION)).is_some(),
            ok,
            "{name:?}"
        );
        check_meta(&bytes);
    }
}

fn check_all(bytes: &[u8]) {
    assert_agree::<Layer<'_>>(bytes, |r| {
        Layer::read::<{ ops::ALL }>(r).unwrap_or(Layer::Flatten)
    });
    check_meta(bytes);
    assert_agree::<GoldenVectors<'_>>(bytes, GoldenVectors::read);
    assert_agree::<u32>(bytes, Reader::u32);
    assert_agree::<u16>(bytes, Reader::u16);
}

#[test]
fn agrees_with_postcard_on_real_encodings_and_every_byte_mutation() {
    for s in samples() {
        check_all(&s);
        for i in 0..s.len() {
            for v in [0x00, 0x01, 0x05, 0x7f, 0x80, 0xc3, 0xff] {
                let mut m = s.clone();
                m[i] = v;
                check_all(&m);
            }
            check_all(&s[..i]);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4000))]

    #[test]
    fn agrees_with_postcard_on_random_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..48)) {
        check_all(&bytes);
    }

    #[test]
    fn agrees_with_postcard_on_spliced_encodings(
        which in 0_usize..9,
        at in any::<proptest::sample::Index>(),
        insert in proptest::collection::vec(any::<u8>(), 0..6),
        cut in 0_usize..6,
    ) {
        let samples = samples();
        let s = &samples[which % samples.len()];
        let i = at.index(s.len() + 1);
        let mut m = s[..i].to_vec();
        m.extend_from_slice(&insert);
        m.extend_from_slice(s.get(i + cut..).unwrap_or(&[]));
        check_all(&m);
    }
}
