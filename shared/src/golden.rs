//! Golden vectors: inputs with the int8 logits the host computed for them, the true labels and
//! the teacher's predicted classes. The firmware runs every input and compares bit for bit.

use serde::{Deserialize, Serialize};

use crate::Error;
use crate::error::len32;
use crate::header;
use crate::limits;
use crate::wire::Reader;

/// The magic of a golden-vector blob.
pub const GOLDEN_MAGIC: [u8; 4] = *b"MNGV";

/// Label value meaning "unknown" (unlabeled transfer data, or no teacher prediction).
pub const UNKNOWN_CLASS: u8 = u8::MAX;

/// The postcard body of a golden-vector blob.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct GoldenVectors<'a> {
    /// Number of vectors.
    pub count: u32,
    /// int8 values per input.
    pub input_len: u32,
    /// int8 logits per vector.
    pub classes: u16,
    /// `count * input_len` int8 inputs, already normalised and quantized.
    #[serde(borrow)]
    pub inputs: &'a [u8],
    /// `count * classes` int8 logits minnow-core computed on the host.
    #[serde(borrow)]
    pub logits: &'a [u8],
    /// `count` true labels ([`UNKNOWN_CLASS`] if unknown).
    #[serde(borrow)]
    pub labels: &'a [u8],
    /// `count` classes the teacher predicted ([`UNKNOWN_CLASS`] if unknown).
    #[serde(borrow)]
    pub teacher: &'a [u8],
}

impl<'a> GoldenVectors<'a> {
    /// Decodes and validates a golden-vector blob, borrowing it.
    pub fn decode(blob: &'a [u8]) -> Result<Self, Error> {
        let (body, _version) = header::open(blob, &GOLDEN_MAGIC)?;
        let mut reader = Reader::new(body);
        let g = Self::read(&mut reader);
        let g = reader.check(g)?;
        if !reader.rest().is_empty() {
            return Err(Error::TrailingBytes {
                extra: len32(reader.rest().len()),
            });
        }
        if g.count > limits::MAX_VECTORS {
            return Err(Error::InvalidGoldenSize);
        }
        if g.input_len == 0 || g.classes == 0 || g.input_len as usize > limits::MAX_TENSOR {
            return Err(Error::InvalidGoldenSize);
        }
        let count = g.count as usize;
        let inputs = count
            .checked_mul(g.input_len as usize)
            .ok_or(Error::Overflow)?;
        let logits = count
            .checked_mul(usize::from(g.classes))
            .ok_or(Error::Overflow)?;
        if g.inputs.len() != inputs
            || g.logits.len() != logits
            || g.labels.len() != count
            || g.teacher.len() != count
        {
            return Err(Error::GoldenLengthMismatch);
        }
        Ok(g)
    }

    /// Reads the fields in declaration order, as serde writes them (see `wire.rs` for why by
    /// hand); [`GoldenVectors::decode`] checks them.
    pub(crate) fn read(r: &mut Reader<'a>) -> Self {
        GoldenVectors {
            count: r.u32(),
            input_len: r.u32(),
            classes: r.u16(),
            inputs: r.bytes(),
            logits: r.bytes(),
            labels: r.bytes(),
            teacher: r.bytes(),
        }
    }

    /// Number of vectors.
    pub fn len(&self) -> usize {
        self.count as usize
    }

    /// True when there are no vectors.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    fn range(&self, i: usize, width: usize) -> Result<core::ops::Range<usize>, Error> {
        if i >= self.len() {
            return Err(Error::IndexOutOfRange {
                index: len32(i),
                len: self.count,
            });
        }
        Ok(i * width..(i + 1) * width)
    }

    /// Input `i`.
    pub fn input(&self, i: usize) -> Result<&'a [i8], Error> {
        let r = self.range(i, self.input_len as usize)?;
        self.inputs
            .get(r)
            .map(bytemuck::cast_slice)
            .ok_or(Error::Overflow)
    }

    /// Expected logits of vector `i`.
    pub fn expected(&self, i: usize) -> Result<&'a [i8], Error> {
        let r = self.range(i, usize::from(self.classes))?;
        self.logits
            .get(r)
            .map(bytemuck::cast_slice)
            .ok_or(Error::Overflow)
    }

    /// True label of vector `i` ([`UNKNOWN_CLASS`] if unknown).
    pub fn label(&self, i: usize) -> Result<u8, Error> {
        self.labels.get(i).copied().ok_or(Error::IndexOutOfRange {
            index: len32(i),
            len: self.count,
        })
    }

    /// Teacher's predicted class for vector `i` ([`UNKNOWN_CLASS`] if unknown).
    pub fn teacher_class(&self, i: usize) -> Result<u8, Error> {
        self.teacher.get(i).copied().ok_or(Error::IndexOutOfRange {
            index: len32(i),
            len: self.count,
        })
    }

    /// Encodes into `out`, returning the bytes written.
    pub fn encode(&self, out: &mut [u8]) -> Result<usize, Error> {
        let mut pos = header::HEADER_LEN;
        if out.len() < pos {
            return Err(Error::EncodeBufferFull);
        }
        header::put(self, out, &mut pos)?;
        header::seal(out, &GOLDEN_MAGIC, pos - header::HEADER_LEN)
    }

    /// Encodes into a new vector (host only).
    #[cfg(feature = "std")]
    pub fn encode_to_vec(&self) -> Result<std::vec::Vec<u8>, Error> {
        let size =
            64 + self.inputs.len() + self.logits.len() + self.labels.len() + self.teacher.len();
        let mut buf = std::vec![0_u8; size];
        let n = self.encode(&mut buf)?;
        buf.truncate(n);
        Ok(buf)
    }
}
