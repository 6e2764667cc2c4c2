//! A student's metadata: everything about it except its layers (the first field of a student
//! blob's body).

use serde::{Deserialize, Serialize};

use crate::layer::{Activation, Shape};
use crate::wire::Reader;

/// Input normalisation the device applies before quantizing: `x' = (x - mean) / std`, with one
/// `(mean, std)` pair for the whole input, one per channel, or one per input value (a table's
/// features, whose scales differ by orders of magnitude).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Normalization<'a> {
    /// The pairs, packed: `mean` then `std`, each `f32` little endian (8 bytes a pair). On the
    /// device they stay in flash.
    #[serde(borrow)]
    pub params: &'a [u8],
}

/// Bytes of one `(mean, std)` pair.
pub const NORMALIZATION_PAIR_LEN: usize = 8;

impl Normalization<'static> {
    /// Mean 0, std 1 for the whole input: raw inputs are quantized as they are.
    pub const IDENTITY: Normalization<'static> = Normalization {
        params: &[0, 0, 0, 0, 0x00, 0x00, 0x80, 0x3f],
    };
}

impl<'a> Normalization<'a> {
    /// Normalisation over packed pairs (see [`Normalization::params`]).
    pub const fn new(params: &'a [u8]) -> Self {
        Normalization { params }
    }

    /// Number of `(mean, std)` pairs.
    pub fn pairs(&self) -> usize {
        self.params.len() / NORMALIZATION_PAIR_LEN
    }

    /// Pair `k`, or `None` past the end.
    pub fn pair(&self, k: usize) -> Option<(f32, f32)> {
        let at = k.checked_mul(NORMALIZATION_PAIR_LEN)?;
        match self
            .params
            .get(at..at.checked_add(NORMALIZATION_PAIR_LEN)?)?
        {
            &[a, b, c, d, e, f, g, h] => Some((
                f32::from_le_bytes([a, b, c, d]),
                f32::from_le_bytes([e, f, g, h]),
            )),
            _ => None,
        }
    }

    /// Which pair applies to value `i` of a sample of `len` values and `channels` channels
    /// (NHWC: the channel is `i % channels`). Decode allows 1, `channels` or `len` pairs; when
    /// `channels == len` both readings agree.
    pub fn pair_index(pairs: usize, i: usize, len: usize, channels: usize) -> usize {
        if pairs == len {
            i
        } else if pairs == channels && channels > 0 {
            i % channels
        } else {
            0
        }
    }
}

/// Everything about a student except its layers.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Meta<'a> {
    /// A name for reports: printable ASCII, at most [`crate::limits::MAX_NAME_LEN`] bytes.
    #[serde(borrow)]
    pub name: &'a str,
    /// Shape of one input sample (NHWC without batch).
    pub input_shape: Shape,
    /// Number of classes; the last layer must produce exactly this many values.
    pub classes: u16,
    /// Quantization of the (normalised) input.
    pub input: Activation,
    /// Normalisation of raw inputs, computed on the training data.
    #[serde(borrow)]
    pub normalization: Normalization<'a>,
    /// The distillation temperature the student was trained at (informational: inference is
    /// temperature-free; divide the dequantized logits by it to get soft predictions).
    pub temperature: f32,
}

impl<'a> Meta<'a> {
    /// Reads the fields in declaration order, as serde writes them (see `wire.rs` for why by
    /// hand). The name's length limit is the decoder's check, not the reader's. Format version 1
    /// stored one `(mean, std)` pair without a length: it is read as a one-pair normalisation.
    pub(crate) fn read(r: &mut Reader<'a>, version: u16) -> Self {
        Meta {
            name: r.name(),
            input_shape: Shape::read(r),
            classes: r.u16(),
            input: Activation::read(r),
            normalization: Normalization {
                params: if version == 1 {
                    r.raw(NORMALIZATION_PAIR_LEN)
                } else {
                    r.bytes()
                },
            },
            temperature: r.f32(),
        }
    }
}
