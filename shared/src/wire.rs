//! Reading the postcard bodies of minnow blobs, by hand and canonical-only: the cursor and the
//! primitive values. Each type of the format reads itself with these next to its definition
//! (`Layer::read` and its fields' in layer.rs, `Meta::read`, `GoldenVectors::read`), so the
//! cursor depends on none of them.
//!
//! The blobs are postcard (written with serde on the host: `encode_student`); the readers read
//! exactly that layout without serde. Two reasons, both measured on a Cortex-M4:
//!
//! * size: serde's generic decoder for `Layer` and `Meta` plus the re-encode that proved an
//!   encoding canonical took about 8 KB of flash; these few functions take a few hundred bytes,
//!   which is most of what keeps the whole runtime of an MLP student near 4 KB;
//! * one accepted encoding: postcard reads lengths as pointer-width varints, so an over-long
//!   varint such as `84 80 80 80 80 00` decodes on a 64-bit host and not on a 32-bit device. Here
//!   every varint must be the shortest encoding of its value and fit a `u32`, so the host and the
//!   device accept exactly the bytes our encoder writes, and nothing else.
//!
//! The tests check, on random and mutated bytes, that the readers accept exactly what postcard
//! accepts in its canonical form, with the same values (`postcard_conformance.rs`).
//!
//! Layout reminders (postcard 1.x): `u8`/`i8` one byte; `u16`/`u32` LEB128 varints; `f32` four
//! bytes little endian; `&[u8]`/`&str` a varint length then the bytes (the one `&str`, the model
//! name, must be printable ASCII: a rule of minnow's format on top of postcard's UTF-8);
//! an enum a varint variant index then the variant's fields; a struct its fields in order.

use crate::Error;
use crate::limits::is_name_byte;

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

    /// Marks the read failed (the rest of the input is dropped) and returns `placeholder`: for
    /// the readers of enums, on a variant index this version does not know.
    pub(crate) fn fail<T>(&mut self, placeholder: T) -> T {
        self.failed = true;
        self.rest = &[];
        placeholder
    }

    /// `n` bytes as they are (no length prefix).
    pub(crate) fn raw(&mut self, n: usize) -> &'a [u8] {
        self.take(n)
    }

    fn take(&mut self, n: usize) -> &'a [u8] {
        if n > self.rest.len() {
            return self.fail(&[]);
        }
        let (head, tail) = self.rest.split_at(n);
        self.rest = tail;
        head
    }

    /// Not inlined: one copy serves every byte field (flash; the layer readers have many).
    #[inline(never)]
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
        // Most fields are one byte (variant indices, lengths below 128): that case first.
        if let Some((&b, tail)) = self.rest.split_first()
            && b < 0x80
        {
            self.rest = tail;
            return u32::from(b);
        }
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
        if bytes.iter().all(|&b| is_name_byte(b)) {
            #[allow(unsafe_code)]
            // SAFETY: every byte is ASCII, and ASCII is valid UTF-8.
            unsafe {
                core::str::from_utf8_unchecked(bytes)
            }
        } else {
            self.fail("")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
