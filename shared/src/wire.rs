//! Reading the postcard bodies of minnow blobs, by hand and canonical-only.
//!
//! The blobs are postcard (written with serde on the host: [`crate::encode_student`]); this module
//! reads exactly that layout without serde. Two reasons, both measured on a Cortex-M4:
//!
//! * size: serde's generic decoder for [`Layer`] and [`Meta`] plus the re-encode that proved an
//!   encoding canonical took about 8 KB of flash; these few functions take a few hundred bytes,
//!   which is most of what keeps the whole runtime of an MLP student near 4 KB;
//! * one accepted encoding: postcard reads lengths as pointer-width varints, so an over-long
//!   varint such as `84 80 80 80 80 00` decodes on a 64-bit host and not on a 32-bit device. Here
//!   every varint must be the shortest encoding of its value and fit a `u32`, so the host and the
//!   device accept exactly the bytes our encoder writes, and nothing else.
//!
//! The tests check, on random and mutated bytes, that this reader accepts exactly what postcard
//! accepts in its canonical form, with the same values (`tests::agrees_with_postcard_*`).
//!
//! Layout reminders (postcard 1.x): `u8`/`i8` one byte; `u16`/`u32` LEB128 varints; `f32` four
//! bytes little endian; `&[u8]`/`&str` a varint length then the bytes (the one `&str`, the model
//! name, must be printable ASCII: a rule of minnow's format on top of postcard's UTF-8);
//! an enum a varint variant index then the variant's fields; a struct its fields in order.

use crate::Error;
use crate::golden::GoldenVectors;
use crate::layer::{Activation, Conv2d, Dense, DepthwiseConv2d, Layer, Params, Pool2d, Shape, ops};
use crate::student::{Meta, Normalization};

/// A cursor over a postcard body.
///
/// Reads do not return `Result`: a read past the end, an out-of-range or non-canonical varint,
/// bad UTF-8 or an unknown variant marks the reader failed and yields a placeholder (0, empty),
/// and [`Reader::check`] turns the whole value into [`Error::Malformed`]. One check per value
/// instead of one branch per field keeps the decoder small on a microcontroller.
#[derive(Debug, Clone)]
pub(crate) struct Reader<'a> {
    rest: &'a [u8],
    failed: bool,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(bytes: &'a [u8]) -> Self {
        Reader {
            rest: bytes,
            failed: false,
        }
    }

    /// The bytes not read yet.
    pub(crate) fn rest(&self) -> &'a [u8] {
        self.rest
    }

    /// `value` if every read so far succeeded, else [`Error::Malformed`].
    pub(crate) fn check<T>(&self, value: T) -> Result<T, Error> {
        if self.failed {
            Err(Error::Malformed)
        } else {
            Ok(value)
        }
    }

    fn fail<T>(&mut self, placeholder: T) -> T {
        self.failed = true;
        self.rest = &[];
        placeholder
    }

    fn take(&mut self, n: usize) -> &'a [u8] {
        if n > self.rest.len() {
            return self.fail(&[]);
        }
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        head
    }

    pub(crate) fn u8(&mut self) -> u8 {
        match self.rest.split_first() {
            Some((&b, tail)) => {
                self.rest = tail;
                b
            }
            None => self.fail(0),
        }
    }

    pub(crate) fn i8(&mut self) -> i8 {
        self.u8() as i8
    }

    /// A LEB128 varint in its shortest form whose value fits a `u32`. Not inlined: one copy
    /// serves every field (flash).
    #[inline(never)]
    pub(crate) fn u32(&mut self) -> u32 {
        let mut value = 0_u32;
        for i in 0..5 {
            let b = self.u8();
            let bits = u32::from(b & 0x7f);
            // The fifth byte carries bits 28..32: anything above its low four bits overflows.
            if i == 4 && bits > 0x0f {
                break;
            }
            value |= bits << (7 * i);
            if b & 0x80 == 0 {
                // A last byte of 0 after others means the value had a shorter encoding.
                if i > 0 && b == 0 {
                    break;
                }
                return value;
            }
        }
        self.fail(0)
    }

    pub(crate) fn u16(&mut self) -> u16 {
        let v = self.u32();
        u16::try_from(v).unwrap_or_else(|_| self.fail(0))
    }

    pub(crate) fn f32(&mut self) -> f32 {
        match *self.take(4) {
            [a, b, c, d] => f32::from_le_bytes([a, b, c, d]),
            _ => self.fail(0.0),
        }
    }

    /// A length-prefixed byte slice, borrowed.
    #[inline(never)]
    pub(crate) fn bytes(&mut self) -> &'a [u8] {
        let n = self.u32();
        self.take(n as usize)
    }

    /// A model name: length-prefixed printable ASCII (0x20..=0x7e). The format allows nothing
    /// else in names: they end up in device logs, and checking ASCII instead of UTF-8 spares
    /// the device `core::str::from_utf8` (about 700 bytes of flash with its table).
    pub(crate) fn name(&mut self) -> &'a str {
        let bytes = self.bytes();
        if bytes.iter().all(|&b| crate::limits::is_name_byte(b)) {
            #[allow(unsafe_code)]
            // SAFETY: every byte is ASCII, and ASCII is valid UTF-8.
            unsafe {
                core::str::from_utf8_unchecked(bytes)
            }
        } else {
            self.fail("")
        }
    }

    fn shape(&mut self) -> Shape {
        Shape::new(self.u16(), self.u16(), self.u16())
    }

    fn activation(&mut self) -> Activation {
        Activation {
            scale: self.f32(),
            zero_point: self.i8(),
        }
    }

    /// Inlined: a `Params` returned by value is copied into the layer with memcpy on the device
    /// (and memcpy itself costs 300 bytes); firmware that links one kind with parameters (an
    /// MLP) gets one copy of this code.
    #[inline(always)]
    fn params(&mut self) -> Params<'a> {
        Params {
            weights: self.bytes(),
            weight_scales: self.bytes(),
            bias: self.bytes(),
            multiplier: self.bytes(),
            shift: self.bytes(),
            output: self.activation(),
            act_min: self.i8(),
            act_max: self.i8(),
        }
    }

    pub(crate) fn meta(&mut self) -> Meta<'a> {
        Meta {
            name: self.name(),
            input_shape: self.shape(),
            classes: self.u16(),
            input: self.activation(),
            normalization: Normalization {
                mean: self.f32(),
                std: self.f32(),
            },
            temperature: self.f32(),
        }
    }

    /// One layer of a kind in `OPS` (a [`crate::layer::ops`] set); `None` for a kind this
    /// version knows but `OPS` leaves out (the caller reports [`Error::UnsupportedOp`]; the
    /// fields of left-out kinds are not read, so their readers are not linked). The variant
    /// indices are those of [`Layer`]'s declaration order.
    pub(crate) fn layer<const OPS: u8>(&mut self) -> Option<Layer<'a>> {
        Some(match self.u32() {
            0 if OPS & ops::DENSE != 0 => Layer::Dense(Dense {
                out_features: self.u16(),
                params: self.params(),
            }),
            1 if OPS & ops::CONV2D != 0 => Layer::Conv2d(Conv2d {
                out_channels: self.u16(),
                kernel_h: self.u8(),
                kernel_w: self.u8(),
                stride: self.u8(),
                padding: self.u8(),
                params: self.params(),
            }),
            2 if OPS & ops::DEPTHWISE_CONV2D != 0 => Layer::DepthwiseConv2d(DepthwiseConv2d {
                kernel_h: self.u8(),
                kernel_w: self.u8(),
                stride: self.u8(),
                padding: self.u8(),
                params: self.params(),
            }),
            3 if OPS & ops::MAX_POOL2D != 0 => Layer::MaxPool2d(self.pool()),
            4 if OPS & ops::AVG_POOL2D != 0 => Layer::AvgPool2d(self.pool()),
            5 if OPS & ops::FLATTEN != 0 => Layer::Flatten,
            0..=5 => return None,
            _ => self.fail(Layer::Flatten),
        })
    }

    fn pool(&mut self) -> Pool2d {
        Pool2d {
            kernel: self.u8(),
            stride: self.u8(),
        }
    }

    pub(crate) fn golden(&mut self) -> GoldenVectors<'a> {
        GoldenVectors {
            count: self.u32(),
            input_len: self.u32(),
            classes: self.u16(),
            inputs: self.bytes(),
            logits: self.bytes(),
            labels: self.bytes(),
            teacher: self.bytes(),
        }
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use std::vec::Vec;

    use proptest::prelude::*;
    use serde::{Deserialize, Serialize};

    use super::*;

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

    #[test]
    fn varints_are_canonical_u32s() {
        let read = |b: &[u8]| {
            let mut r = Reader::new(b);
            let v = r.u32();
            r.check(v).ok()
        };
        assert_eq!(read(&[0x00]), Some(0));
        assert_eq!(read(&[0x7f]), Some(127));
        assert_eq!(read(&[0x80, 0x01]), Some(128));
        assert_eq!(read(&[0xff, 0xff, 0xff, 0xff, 0x0f]), Some(u32::MAX));
        assert_eq!(read(&[0x80, 0x00]), None, "over-long zero");
        assert_eq!(
            read(&[0x84, 0x80, 0x80, 0x80, 0x80, 0x00]),
            None,
            "over-long length"
        );
        assert_eq!(read(&[0xff, 0xff, 0xff, 0xff, 0x1f]), None, "beyond u32");
        assert_eq!(read(&[0x80]), None, "truncated");
        assert_eq!(read(&[]), None);
        let read16 = |b: &[u8]| {
            let mut r = Reader::new(b);
            let v = r.u16();
            r.check(v).ok()
        };
        assert_eq!(read16(&[0xff, 0xff, 0x03]), Some(u16::MAX));
        assert_eq!(read16(&[0x80, 0x80, 0x04]), None);
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

    fn sample_meta() -> Meta<'static> {
        Meta {
            name: "m1",
            input_shape: Shape::new(28, 28, 1),
            classes: 10,
            input: Activation {
                scale: 0.5,
                zero_point: 4,
            },
            normalization: Normalization {
                mean: 0.1,
                std: 0.3,
            },
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
        let mine = ours(bytes, Reader::meta);
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
            assert_eq!(ours(&bytes, Reader::meta).is_some(), ok, "{name:?}");
            check_meta(&bytes);
        }
    }

    fn check_all(bytes: &[u8]) {
        assert_agree::<Layer<'_>>(bytes, |r| {
            r.layer::<{ ops::ALL }>().unwrap_or(Layer::Flatten)
        });
        check_meta(bytes);
        assert_agree::<GoldenVectors<'_>>(bytes, Reader::golden);
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
}
