//! What the emitted sources say about a student: the blob as read, and the facts its
//! constants carry.

use minnow_core::layer::ops;

/// A blob read and checked, with what the emitted sources say about it.
#[derive(Debug)]
pub struct Blob {
    pub bytes: Vec<u8>,
    /// The file's name (not its path: the output must not depend on where it was read).
    pub name: String,
    pub sha256: String,
}

/// The facts about a student that the emitted constants carry.
#[derive(Debug)]
pub struct Facts {
    pub name: String,
    pub input_shape: [u16; 3],
    pub input_len: usize,
    pub classes: usize,
    pub scratch_len: usize,
    pub macs: u32,
    pub weight_bytes: u32,
    /// minnow-core's op set of the student's layer kinds.
    pub ops: u8,
    /// The kinds as the C library's cargo features name them (`dense,flatten`).
    pub features: Vec<&'static str>,
    /// The kinds as `minnow_core::layer::ops` names them.
    pub op_names: Vec<&'static str>,
    /// The input normalisation's `(mean, std)` pairs (one, per channel or per value); they are
    /// in the blob, which applies them.
    pub norm_pairs: usize,
    pub input_scale: f32,
    pub input_zero_point: i8,
    pub golden_count: Option<usize>,
}

/// Each layer kind: its bit, its const in `minnow_core::layer::ops`, the C library's feature.
pub const KINDS: [(u8, &str, &str); 6] = [
    (ops::DENSE, "DENSE", "dense"),
    (ops::CONV2D, "CONV2D", "conv2d"),
    (
        ops::DEPTHWISE_CONV2D,
        "DEPTHWISE_CONV2D",
        "depthwise-conv2d",
    ),
    (ops::MAX_POOL2D, "MAX_POOL2D", "max-pool2d"),
    (ops::AVG_POOL2D, "AVG_POOL2D", "avg-pool2d"),
    (ops::FLATTEN, "FLATTEN", "flatten"),
];

/// An `f32` as a literal that parses back to the same bits (Rust's shortest round-trip form,
/// always with a decimal point or exponent).
pub fn float_literal(x: f32) -> String {
    let s = format!("{x:?}");
    if s.contains(['.', 'e', 'E']) || !x.is_finite() {
        s
    } else {
        format!("{s}.0")
    }
}
