//! Property tests: every int8 kernel against the float reference in `minnow_core::reference`,
//! over random shapes, scales, zero points and inputs.
//!
//! Tolerance (stated in `reference`'s docs): dense, conv and depthwise within 1 LSB; pooling exact.

mod common;

use common::{OwnedParams, WeightLayout, act, quantized};
use minnow_core::layer::window_out;
use minnow_core::{
    Conv2d, Dense, DepthwiseConv2d, Pool2d, Pool2dRect, Shape, dot, kernels, reference,
};
use proptest::prelude::*;
use proptest::test_runner::{RngAlgorithm, TestRng};

fn max_abs_diff(a: &[i8], b: &[i8]) -> i32 {
    a.iter()
        .zip(b)
        .map(|(&x, &y)| (i32::from(x) - i32::from(y)).abs())
        .max()
        .unwrap_or(0)
}

/// `(s_in, zp_in, s_out, zp_out, relu)`: a weight layer's quantization.
type Quant = (f32, i8, f32, i8, bool);

prop_compose! {
    fn quant()(s_in in 1e-3f32..0.5, zp_in in any::<i8>(), s_out in 1e-2f32..2.0, zp_out in any::<i8>(), relu in any::<bool>())
        -> Quant { (s_in, zp_in, s_out, zp_out, relu) }
}

/// A padding smaller than both kernel sides (as the decoder requires) picked by `pad_seed`, and
/// the output height and width it gives; `None` when the window does not fit.
fn conv_window(
    h: usize,
    w: usize,
    kh: usize,
    kw: usize,
    stride: usize,
    pad_seed: u8,
) -> Option<(usize, usize, usize)> {
    let pad = usize::from(pad_seed) % kh.min(kw);
    Some((
        pad,
        window_out(h, kh, stride, pad)?,
        window_out(w, kw, stride, pad)?,
    ))
}

/// A weight layer's random parameters and input, drawn from `seed`: `weights` int8 weights in
/// [-127, 127] laid out as `layout`, a weight scale and a raw bias per channel, quantized as `q`
/// says, and `inputs` int8 input values.
fn random_layer(
    seed: u64,
    weights: usize,
    layout: WeightLayout,
    channels: usize,
    inputs: usize,
    q: Quant,
) -> (OwnedParams, Vec<i8>) {
    let mut rng = TestRng::from_seed(RngAlgorithm::ChaCha, &seed.to_le_bytes().repeat(4));
    let w: Vec<i8> = (0..weights).map(|_| rng.random_range(-127..=127)).collect();
    let x: Vec<i8> = (0..inputs).map(|_| rng.random()).collect();
    let s_w: Vec<f32> = (0..channels)
        .map(|_| rng.random_range(1e-3f32..0.05))
        .collect();
    let bias: Vec<i32> = (0..channels)
        .map(|_| rng.random_range(-5000..5000))
        .collect();
    let (s_in, zp_in, s_out, zp_out, relu) = q;
    let p = quantized(
        &w,
        layout,
        act(s_in, zp_in),
        &s_w,
        &bias,
        act(s_out, zp_out),
        relu,
    );
    (p, x)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn dense_matches_reference(
        (n, m) in (1usize..80, 1usize..12),
        seed in any::<u64>(),
        q in quant(),
    ) {
        let (p, x) = random_layer(seed, n * m, WeightLayout::ChannelMajor, m, n, q);
        let in_act = act(q.0, q.1);
        let layer = Dense { out_features: m as u16, params: p.borrow() };
        let mut got = vec![0i8; m];
        let mut want = vec![0i8; m];
        kernels::dense(&layer, &x, &mut got);
        reference::dense(&layer, in_act, &x, &mut want);
        prop_assert!(max_abs_diff(&got, &want) <= 1, "kernel {got:?} reference {want:?}");
    }

    #[test]
    fn conv2d_matches_reference(
        (h, w, ic, oc) in (1usize..9, 1usize..9, 1usize..4, 1usize..4),
        (kh, kw, stride) in (1usize..4, 1usize..4, 1usize..3),
        pad_seed in any::<u8>(),
        seed in any::<u64>(),
        q in quant(),
    ) {
        let Some((pad, oh, ow)) = conv_window(h, w, kh, kw, stride, pad_seed) else {
            return Ok(());
        };
        let (p, x) = random_layer(seed, oc * kh * kw * ic, WeightLayout::ChannelMajor, oc, h * w * ic, q);
        let (in_act, zp_in) = (act(q.0, q.1), q.1);
        let layer = Conv2d { out_channels: oc as u16, kernel_h: kh as u8, kernel_w: kw as u8, stride: stride as u8, padding: pad as u8, params: p.borrow() };
        let in_shape = Shape::new(h as u16, w as u16, ic as u16);
        let out_shape = Shape::new(oh as u16, ow as u16, oc as u16);
        let mut got = vec![0i8; oh * ow * oc];
        let mut want = vec![0i8; oh * ow * oc];
        let mut patch = vec![0i8; kernels::conv2d_patch_len(&layer, in_shape)];
        kernels::conv2d(&layer, in_shape, zp_in, &x, out_shape, &mut patch, &mut got);
        reference::conv2d(&layer, in_shape, in_act, &x, out_shape, &mut want);
        prop_assert!(max_abs_diff(&got, &want) <= 1, "kernel {got:?} reference {want:?}");
    }

    #[test]
    fn depthwise_matches_reference(
        (h, w, ch) in (1usize..9, 1usize..9, 1usize..6),
        (kh, kw, stride) in (1usize..4, 1usize..4, 1usize..3),
        pad_seed in any::<u8>(),
        seed in any::<u64>(),
        q in quant(),
    ) {
        let Some((pad, oh, ow)) = conv_window(h, w, kh, kw, stride, pad_seed) else {
            return Ok(());
        };
        // weights [kh][kw][c]
        let (p, x) = random_layer(seed, kh * kw * ch, WeightLayout::ChannelMinor, ch, h * w * ch, q);
        let (in_act, zp_in) = (act(q.0, q.1), q.1);
        let layer = DepthwiseConv2d { kernel_h: kh as u8, kernel_w: kw as u8, stride: stride as u8, padding: pad as u8, params: p.borrow() };
        let in_shape = Shape::new(h as u16, w as u16, ch as u16);
        let out_shape = Shape::new(oh as u16, ow as u16, ch as u16);
        let mut got = vec![0i8; oh * ow * ch];
        let mut want = vec![0i8; oh * ow * ch];
        kernels::depthwise_conv2d(&layer, in_shape, zp_in, &x, out_shape, &mut got);
        reference::depthwise_conv2d(&layer, in_shape, in_act, &x, out_shape, &mut want);
        prop_assert!(max_abs_diff(&got, &want) <= 1, "kernel {got:?} reference {want:?}");
    }

    /// Pooling windows and strides of any height and width (square ones, `k x 1` and `1 x k`
    /// for sequences among them) equal the reference exactly.
    #[test]
    fn pooling_is_exact(
        (h, w, ch) in (1usize..10, 1usize..10, 1usize..6),
        (kh, kw) in (1usize..4, 1usize..4),
        (sh, sw) in (1usize..4, 1usize..4),
        x in proptest::collection::vec(any::<i8>(), 500),
    ) {
        let (Some(oh), Some(ow)) = (window_out(h, kh, sh, 0), window_out(w, kw, sw, 0)) else {
            return Ok(());
        };
        let x = &x[..h * w * ch];
        let pool = Pool2dRect { kernel_h: kh as u8, kernel_w: kw as u8, stride_h: sh as u8, stride_w: sw as u8 };
        let (i, o) = (Shape::new(h as u16, w as u16, ch as u16), Shape::new(oh as u16, ow as u16, ch as u16));
        let n = oh * ow * ch;
        let (mut got, mut want) = (vec![0i8; n], vec![0i8; n]);
        kernels::max_pool2d(&pool, i, x, o, &mut got);
        reference::max_pool2d(&pool, i, x, o, &mut want);
        prop_assert_eq!(&got, &want);
        kernels::avg_pool2d(&pool, i, x, o, &mut got);
        reference::avg_pool2d(&pool, i, x, o, &mut want);
        prop_assert_eq!(&got, &want);
    }

    /// The square pooling of format 1 is the rectangular one with equal sides.
    #[test]
    fn square_pooling_is_the_rect_case(k in 1u8..4, stride in 1u8..4) {
        let square = Pool2d { kernel: k, stride };
        prop_assert_eq!(
            square.rect(),
            Pool2dRect { kernel_h: k, kernel_w: k, stride_h: stride, stride_w: stride }
        );
    }

    /// requantize is within 1 of the exactly rounded product for any accumulator and any
    /// representable multiplier.
    #[test]
    fn requantize_is_within_one_of_exact(acc in any::<i32>(), m in 1e-6f64..0.99) {
        let (q, s) = minnow_core::quant::quantize_multiplier(m).unwrap();
        let exact = (f64::from(acc) * minnow_core::quant::multiplier_value(q, s)).round();
        let got = f64::from(minnow_core::quant::requantize(acc, q, s));
        prop_assert!((got - exact).abs() <= 1.0, "acc {acc} m {m}: {got} vs {exact}");
    }

    /// The portable dot product equals a plain i64 sum (no overflow at the limits we allow).
    #[test]
    fn dot_matches_wide_sum(a in proptest::collection::vec(any::<i8>(), 0..300), b in proptest::collection::vec(-127i8..=127, 0..300)) {
        let wide: i64 = a.iter().zip(&b).map(|(&x, &y)| i64::from(x) * i64::from(y)).sum();
        prop_assert_eq!(i64::from(dot::dot_i8(&a, &b)), wide);
        prop_assert_eq!(dot::dot_i8(&a, &b), dot::dot_i8_portable(&a, &b));
    }
}
