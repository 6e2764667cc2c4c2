//! A student's metadata: everything about it except its layers (the first field of a student
//! blob's body).

use serde::{Deserialize, Serialize};

use crate::layer::{Activation, Shape};
use crate::wire::Reader;

/// Input normalisation the device must apply before quantizing: `x' = (x - mean) / std`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Normalization {
    pub mean: f32,
    pub std: f32,
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
    pub normalization: Normalization,
    /// The distillation temperature the student was trained at (informational: inference is
    /// temperature-free; divide the dequantized logits by it to get soft predictions).
    pub temperature: f32,
}

impl<'a> Meta<'a> {
    /// Reads the fields in declaration order, as serde writes them (see `wire.rs` for why by
    /// hand). The name's length limit is the decoder's check, not the reader's.
    pub(crate) fn read(r: &mut Reader<'a>) -> Self {
        Meta {
            name: r.name(),
            input_shape: Shape::read(r),
            classes: r.u16(),
            input: Activation::read(r),
            normalization: Normalization {
                mean: r.f32(),
                std: r.f32(),
            },
            temperature: r.f32(),
        }
    }
}
