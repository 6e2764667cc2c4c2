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
/// on cores without SMLAD. With SMLAD three rows at a time share every input load
/// ([`triples`]); the rows left over go one at a time.
#[inline(never)]
pub(super) fn rows(p: &Params<'_>, input: &[i8], w: &[i8], output: &mut [i8]) {
    let n = input.len();
    if n == 0 {
        return;
    }
    let ch = Channels::of(p);
    let done = triples(&ch, input, w, output);
    let rows = w.get(done * n..).unwrap_or(&[]).chunks_exact(n);
    for ((c, o), row) in output.iter_mut().enumerate().skip(done).zip(rows) {
        ch.store(c, ch.bias(c).wrapping_add(dot_i8(input, row)), o);
    }
}

/// With SMLAD, three rows at a time (`dot3_i8` in dot/simd.rs loads and widens each input word
/// once for the three) when rows are whole words, as `dot3_i8` takes them (the MLP's 784 and
/// 64, the CNNs' 576 and 588; other widths go one row at a time). Returns how many leading
/// rows it computed.
#[cfg(all(
    target_arch = "arm",
    target_feature = "dsp",
    not(feature = "portable-dot")
))]
#[inline(always)]
fn triples(ch: &Channels<'_>, input: &[i8], w: &[i8], output: &mut [i8]) -> usize {
    let n = input.len();
    let mut done = 0;
    if n % 4 != 0 {
        return 0;
    }
    for (w3, o3) in w.chunks_exact(3 * n).zip(output.chunks_exact_mut(3)) {
        let (w0, rest) = w3.split_at(n);
        let (w1, w2) = rest.split_at(n);
        let bias = [ch.bias(done), ch.bias(done + 1), ch.bias(done + 2)];
        let acc = crate::dot::dot3_i8(input, [w0, w1, w2], bias);
        for (i, (o, a)) in o3.iter_mut().zip(acc).enumerate() {
            ch.store(done + i, a, o);
        }
        done += 3;
    }
    done
}

/// Without SMLAD there is nothing to share: every row goes through [`dot_i8`].
#[cfg(not(all(
    target_arch = "arm",
    target_feature = "dsp",
    not(feature = "portable-dot")
)))]
#[inline(always)]
fn triples(_: &Channels<'_>, _: &[i8], _: &[i8], _: &mut [i8]) -> usize {
    0
}
