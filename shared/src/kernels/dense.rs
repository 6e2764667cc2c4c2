//! Fully connected layers, and the rows-against-one-input loop convolutions use on cores
//! without SMLAD.

use super::output::Channels;
use crate::dot::dot_i8;
use crate::layer::{Dense, Params};

/// Fully connected layer over the whole input.
pub fn dense(layer: &Dense<'_>, input: &[i8], output: &mut [i8]) {
    rows(&layer.params, input, layer.params.weights_i8(), output);
}

/// `output[c] = finish(bias[c] + dot(input, w[c]))` for every row `c` of `w` (rows of
/// `input.len()` weights): the work of a dense layer, and of a convolution at one output pixel
/// on cores without SMLAD. With SMLAD the rows go three at a time ([`triples`]); without, one
/// at a time, each output requantized as it is made.
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
    triples(&ch, input, w, output);
    #[cfg(not(all(
        target_arch = "arm",
        target_feature = "dsp",
        not(feature = "portable-dot")
    )))]
    for ((c, o), row) in output.iter_mut().enumerate().zip(w.chunks_exact(n)) {
        *o = ch.output(c, ch.bias(c).wrapping_add(dot_i8(input, row)));
    }
}

/// With SMLAD: three rows at a time sharing every input load (`dot3_i8` in dot/simd.rs, when
/// rows are whole words, as it takes them: the MLP's 784 and 64, the CNNs' 576 and 588), the
/// rows left over one at a time; each group's outputs requantized in one pass
/// ([`Channels::output_block`]: a call per output cost about 85 instructions, dense 64->10
/// spent 870 of its 2,354 there).
#[cfg(all(
    target_arch = "arm",
    target_feature = "dsp",
    not(feature = "portable-dot")
))]
#[inline(always)]
fn triples(ch: &Channels<'_>, input: &[i8], w: &[i8], output: &mut [i8]) {
    let n = input.len();
    let count = output.len().min(w.len() / n);
    let row = |c: usize| w.get(c * n..(c + 1) * n).unwrap_or(&[]);
    let mut c = 0;
    while c < count {
        let mut acc = [0_i32; 3];
        let k = if n % 4 == 0 && count - c >= 3 {
            let bias = [ch.bias(c), ch.bias(c + 1), ch.bias(c + 2)];
            acc = crate::dot::dot3_i8(input, [row(c), row(c + 1), row(c + 2)], bias);
            3
        } else {
            acc[0] = ch.bias(c).wrapping_add(dot_i8(input, row(c)));
            1
        };
        let out = output.get_mut(c..c + k).unwrap_or_default();
        ch.output_block(c, acc.get(..k).unwrap_or(&[]), out);
        c += k;
    }
}
