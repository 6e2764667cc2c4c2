//! The one error type of minnow-core.
//!
//! Every way a blob can be malformed has its own variant, so a device can report exactly what is
//! wrong with the model it was flashed with, and a host tool can map each to a helpful message.

use core::fmt;

/// Everything that can go wrong when decoding a blob or running a student.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
#[non_exhaustive]
pub enum Error {
    /// The blob ends before its header, or is shorter than the body length the header declares.
    Truncated { needed: u32, available: u32 },
    /// The first four bytes are not the magic of this kind of blob.
    BadMagic,
    /// The blob was written by a format version this build does not read.
    UnsupportedVersion { found: u16, supported: u16 },
    /// Header flags this version does not know.
    UnknownFlags { flags: u16 },
    /// The CRC-32 of the body does not match the header.
    CrcMismatch { stored: u32, computed: u32 },
    /// Bytes follow the body the header declares.
    TrailingBytes { extra: u32 },
    /// The body is not valid postcard for the declared structure, or not its canonical
    /// (shortest) encoding.
    Malformed,
    /// The model name is longer than [`crate::limits::MAX_NAME_LEN`].
    NameTooLong { len: u32 },
    /// The student has no layers.
    NoLayers,
    /// More layers than [`crate::limits::MAX_LAYERS`].
    TooManyLayers { count: u32 },
    /// A dimension is zero or beyond [`crate::limits::MAX_DIM`], a tensor beyond
    /// [`crate::limits::MAX_TENSOR`] elements, a reduction beyond
    /// [`crate::limits::MAX_REDUCTION`] terms, a kernel/stride/padding outside its limits, or a
    /// golden-vector count or size out of range. `layer` is the layer index.
    DimensionOutOfRange { layer: u16 },
    /// A convolution or pooling window does not fit the (padded) input it receives.
    ShapeMismatch { layer: u16 },
    /// A layer's weight, bias or requantization arrays have the wrong length.
    LengthMismatch { layer: u16 },
    /// A requantization multiplier is negative, a shift is outside [-31, 30], a scale is not a
    /// finite positive number, or a weight is -128 (symmetric weights live in [-127, 127]).
    InvalidQuantization { layer: u16 },
    /// A fused activation range is empty (min > max).
    InvalidActivationRange { layer: u16 },
    /// The last layer does not produce `classes` values.
    ClassCountMismatch { produced: u32, classes: u16 },
    /// A size computation overflowed.
    Overflow,
    /// A caller-supplied buffer is too small (or an input has the wrong length).
    BufferSize { needed: u32, got: u32 },
    /// A float argument is NaN or infinite, or a normalisation std is not > 0.
    NonFinite,
    /// The input normalisation is not whole `(mean, std)` pairs, or not one pair, one per
    /// channel or one per input value.
    InvalidNormalization,
    /// A temperature is not a finite number > 0.
    InvalidTemperature,
    /// Two slices that must have the same length do not.
    LengthsDiffer { left: u32, right: u32 },
    /// An index is out of range (e.g. a golden vector or a label).
    IndexOutOfRange { index: u32, len: u32 },
    /// An output buffer was too small to encode into.
    EncodeBufferFull,
    /// The layer's kind is not in the op set this code was built to run (see
    /// [`crate::layer::ops`]).
    UnsupportedOp { layer: u16 },
    /// The metadata's input shape has a zero dimension, one beyond
    /// [`crate::limits::MAX_DIM`], or more than [`crate::limits::MAX_TENSOR`] elements.
    InvalidInputShape,
    /// The metadata's input quantization scale is not a finite number > 0.
    InvalidInputScale,
    /// A golden-vector file declares more than [`crate::limits::MAX_VECTORS`] vectors, an input
    /// length of 0 or beyond [`crate::limits::MAX_TENSOR`], or 0 classes.
    InvalidGoldenSize,
    /// A golden-vector array's length does not match `count` times its width.
    GoldenLengthMismatch,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Error::Truncated { needed, available } => {
                write!(f, "truncated: needs {needed} bytes, has {available}")
            }
            Error::BadMagic => f.write_str("bad magic: not a minnow blob of this kind"),
            Error::UnsupportedVersion { found, supported } => {
                write!(
                    f,
                    "unsupported format version {found} (this build reads versions 1 to {supported})"
                )
            }
            Error::UnknownFlags { flags } => write!(f, "unknown header flags {flags:#06x}"),
            Error::CrcMismatch { stored, computed } => {
                write!(
                    f,
                    "CRC mismatch: header says {stored:#010x}, body has {computed:#010x}"
                )
            }
            Error::TrailingBytes { extra } => write!(f, "{extra} trailing bytes after the body"),
            Error::Malformed => f.write_str("malformed body: not valid postcard for this format"),
            Error::NameTooLong { len } => write!(f, "model name of {len} bytes is too long"),
            Error::NoLayers => f.write_str("the student has no layers"),
            Error::TooManyLayers { count } => write!(f, "{count} layers is more than allowed"),
            Error::DimensionOutOfRange { layer } => {
                write!(f, "layer {layer}: a dimension is zero or beyond the limits")
            }
            Error::ShapeMismatch { layer } => {
                write!(
                    f,
                    "layer {layer}: input shape does not match the previous output"
                )
            }
            Error::LengthMismatch { layer } => {
                write!(
                    f,
                    "layer {layer}: weight/bias/requantization arrays have the wrong length"
                )
            }
            Error::InvalidQuantization { layer } => {
                write!(f, "layer {layer}: invalid quantization parameters")
            }
            Error::InvalidActivationRange { layer } => {
                write!(f, "layer {layer}: activation range min > max")
            }
            Error::ClassCountMismatch { produced, classes } => {
                write!(
                    f,
                    "last layer produces {produced} values but the model has {classes} classes"
                )
            }
            Error::Overflow => f.write_str("size computation overflowed"),
            Error::BufferSize { needed, got } => {
                write!(f, "buffer of {got} elements where {needed} are needed")
            }
            Error::NonFinite => f.write_str("NaN or infinite value"),
            Error::InvalidNormalization => f.write_str(
                "input normalisation: not one (mean, std) pair, one per channel or one per value",
            ),
            Error::InvalidTemperature => f.write_str("temperature must be finite and > 0"),
            Error::LengthsDiffer { left, right } => {
                write!(f, "lengths differ: {left} vs {right}")
            }
            Error::IndexOutOfRange { index, len } => {
                write!(f, "index {index} out of range for length {len}")
            }
            Error::EncodeBufferFull => f.write_str("output buffer too small to encode into"),
            Error::UnsupportedOp { layer } => {
                write!(f, "layer {layer}: an op this build leaves out")
            }
            Error::InvalidInputShape => {
                f.write_str("input shape: a dimension is zero or beyond the limits")
            }
            Error::InvalidInputScale => {
                f.write_str("input quantization scale must be finite and > 0")
            }
            Error::InvalidGoldenSize => {
                f.write_str("golden vectors: count, input length or classes out of range")
            }
            Error::GoldenLengthMismatch => {
                f.write_str("golden vectors: an array's length does not match count x width")
            }
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for Error {}

/// Converts a length to `u32` for error reports, saturating (reports never panic).
pub(crate) fn len32(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}
