//! Fully connected layers, and the rows-against-one-input loop convolutions use on cores
//! without SMLAD.

use super::output::Channels;
use crate::layer::{Dense, Params};

/// Fully connected layer over the whole input.
pub fn dense(layer: &Dense<'_>, input: &[i8], output: &mut [i8]) {
    rows(&layer.params, input, layer.params.weights_i8(), output);
}

/// `output[c] = finish(bias[c] + dot(input, w[c]))` for every row `c` of `w` (rows of
/// `input.len()` weights): the work of a dense layer, and of a convolution at one output pixel
/// on cores without SMLAD. With SMLAD all of it is `dense_rows` (dot/simd.rs: rows three at a
/// time, requantized in blocks); without, one row at a time, each output requantized as it is
/// made.
#[inline(never)]
pub(super) fn rows(p: &Params<'_>, input: &[i8], w: &[i8], output: &mut [i8]) {
    let n = input.len();
    if n == 0 {
        return;
    }
    let ch = Channels::of(p);
    #[cfg(all(
        target_arch = "arm",
        target_feature = "dsp",
        not(feature = "portable-dot")
    ))]
    ch.dense_rows(input, w, output);
    #[cfg(not(all(
        target_arch = "arm",
        target_feature = "dsp",
        not(feature = "portable-dot")
    )))]
    for ((c, o), row) in output.iter_mut().enumerate().zip(w.chunks_exact(n)) {
        *o = ch.output(c, ch.bias(c).wrapping_add(crate::dot::dot_i8(input, row)));
    }
}
