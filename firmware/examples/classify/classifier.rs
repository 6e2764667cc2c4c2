// src/classifier.rs (`minnow export RUN --emit rust src/student` wrote src/student/)
use minnow_core::{Error, Student, softmax::argmax_i8};

use crate::student::{BLOB, CLASSES, INPUT_LEN, OPS, SCRATCH_LEN};

/// Once, at start-up: checks the blob's version, CRC and every layer; weights stay in flash.
pub fn load() -> Result<Student<'static>, Error> {
    Student::decode_ops::<{ OPS }>(BLOB)
}

/// One inference on a quantized input (`Student::quantize_input` makes one from raw floats):
/// the class, with the int8 logits in `logits`. Nothing allocates or panics.
pub fn classify(
    model: &Student<'_>,
    input: &[i8; INPUT_LEN],
    scratch: &mut [i8; SCRATCH_LEN],
    logits: &mut [i8; CLASSES],
) -> Result<usize, Error> {
    model.run_ops::<{ OPS }>(input, scratch, logits)?;
    argmax_i8(logits).ok_or(Error::Overflow)
}
