//! Fixed-point requantization: how an int32 accumulator becomes an int8 activation.
//!
//! # The rounding choice
//! minnow uses **gemmlowp double rounding**, the default of TensorFlow Lite Micro's reference
//! kernels (`MultiplyByQuantizedMultiplier`): a real multiplier `M` is stored as a Q31 `multiplier`
//! in `[2^30, 2^31)` and a power-of-two `shift` with `M = multiplier * 2^(shift - 31)`, and
//!
//! ```text
//! requantize(acc) = rounding_divide_by_pot(
//!                       saturating_rounding_doubling_high_mul(acc << max(shift, 0), multiplier),
//!                       max(-shift, 0))
//! ```
//!
//! The high multiply rounds ties toward +infinity, the power-of-two division rounds ties away
//! from zero (that is gemmlowp's behaviour, kept bit for bit). Users who compare against TFLM get
//! the same integers; the result is within 1 of `round(acc * M)`.
//!
//! One deliberate difference from TFLM: a positive `shift` left-shifts the accumulator with
//! saturation (TFLM's C overflows, which is undefined behaviour). Exporters rarely produce positive
//! shifts (they need a combined scale above 1).

use crate::Error;

/// Smallest shift a layer may use (a right shift by 31 bits).
pub const MIN_SHIFT: i8 = -31;
/// Largest shift a layer may use.
pub const MAX_SHIFT: i8 = 30;

/// The high 32 bits of `2 * a * b`, rounded to nearest with ties toward +infinity, saturating the
/// one overflowing case (`i32::MIN * i32::MIN`). gemmlowp's `SaturatingRoundingDoublingHighMul`.
#[inline(always)]
pub fn saturating_rounding_doubling_high_mul(a: i32, b: i32) -> i32 {
    if a == i32::MIN && b == i32::MIN {
        return i32::MAX;
    }
    let ab = i64::from(a) * i64::from(b);
    // gemmlowp adds a nudge of 2^30 (1 - 2^30 when ab < 0) and divides by 2^31 truncating toward
    // zero. For ab < 0 that is ceil((ab + 1 - 2^30) / 2^31) = floor((ab + 2^30) / 2^31), the same
    // as for ab >= 0: one add and an arithmetic shift (tested against the two-case form below).
    // The result fits in i32 because |ab| < 2^62 once the (MIN, MIN) case is excluded.
    ((ab + (1 << 30)) >> 31) as i32
}

/// `x / 2^exponent` rounding half away from zero; gemmlowp's `RoundingDivideByPOT`.
/// `exponent` is clamped to `[0, 31]` so no input can cause a shift overflow.
#[inline(always)]
pub fn rounding_divide_by_pot(x: i32, exponent: u32) -> i32 {
    let exponent = if exponent > 31 { 31 } else { exponent };
    // All in 32 bits (cheap on every core): the mask is at most 2^31 - 1.
    let mask = (1_u32 << exponent).wrapping_sub(1) as i32;
    let remainder = x & mask;
    let threshold = (mask >> 1) + i32::from(x < 0);
    (x >> exponent) + i32::from(remainder > threshold)
}

/// Applies a quantized multiplier to an accumulator: see the module docs for the exact formula.
/// Shifts outside `[MIN_SHIFT, MAX_SHIFT]` are clamped (decoders reject them before this point).
#[inline(always)]
pub fn requantize(acc: i32, multiplier: i32, shift: i8) -> i32 {
    let shift = shift.clamp(MIN_SHIFT, MAX_SHIFT); // constant bounds: cannot panic
    let left = if shift > 0 { shift as u32 } else { 0 };
    let right = if shift < 0 {
        (-i32::from(shift)) as u32
    } else {
        0
    };
    // Saturating `acc << left` in 32 bits: it overflows exactly when acc is beyond MAX >> left
    // or MIN >> left (left <= 30).
    let shifted = if acc > i32::MAX >> left {
        i32::MAX
    } else if acc < i32::MIN >> left {
        i32::MIN
    } else {
        acc << left
    };
    rounding_divide_by_pot(
        saturating_rounding_doubling_high_mul(shifted, multiplier),
        right,
    )
}

/// [`requantize`] for kernels that apply one channel's multiplier and shift to many
/// accumulators, with what depends only on those worked out once. The case of every decoded
/// student, a shift in `[MIN_SHIFT, 0]` and a multiplier other than `i32::MIN` (multipliers are
/// checked non-negative; exporters rarely need positive shifts), takes about 20 instructions on
/// a Cortex-M4: no left shift, no saturation, the rounding mask precomputed. Anything else goes
/// through [`requantize`] itself. Tested equal to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Requantizer {
    multiplier: i32,
    /// `2^right - 1`: the bits the division drops (fast case).
    mask: i32,
    /// `-shift` (fast case).
    right: u32,
    shift: i8,
    /// The fast case applies.
    fast: bool,
}

impl Requantizer {
    #[inline(always)]
    pub fn new(multiplier: i32, shift: i8) -> Self {
        let fast = (MIN_SHIFT..=0).contains(&shift) && multiplier != i32::MIN;
        let right = if fast { shift.unsigned_abs() as u32 } else { 0 };
        Requantizer {
            multiplier,
            // At most 2^31 - 1, in 32 bits (cheap on every core).
            mask: (1_u32 << right).wrapping_sub(1) as i32,
            right,
            shift,
            fast,
        }
    }

    /// In the fast case, the right shift (`-shift`), else `None`.
    #[inline(always)]
    pub fn fast_right(&self) -> Option<u32> {
        self.fast.then_some(self.right)
    }

    /// `requantize(acc, multiplier, shift)`.
    #[inline(always)]
    pub fn apply(&self, acc: i32) -> i32 {
        if !self.fast {
            return requantize_outlined(acc, self.multiplier, self.shift);
        }
        // saturating_rounding_doubling_high_mul without its one saturating case (it needs a
        // multiplier of i32::MIN), then rounding_divide_by_pot with the mask worked out once.
        let x = ((i64::from(acc) * i64::from(self.multiplier) + (1 << 30)) >> 31) as i32;
        let threshold = (self.mask >> 1) + i32::from(x < 0);
        (x >> self.right) + i32::from(x & self.mask > threshold)
    }
}

/// The general case of [`Requantizer::apply`]: one copy (flash).
#[inline(never)]
fn requantize_outlined(acc: i32, multiplier: i32, shift: i8) -> i32 {
    requantize(acc, multiplier, shift)
}

/// Splits a real multiplier `m >= 0` into a Q31 multiplier in `[2^30, 2^31)` and a shift with
/// `m ≈ multiplier * 2^(shift - 31)`, as TFLite's `QuantizeMultiplier` does.
///
/// Multipliers too small to represent (below `2^-32`) become `(0, 0)`: the layer then outputs
/// its zero point, which is the correctly rounded value. Multipliers of `2^30` or more cannot be
/// expressed and return [`Error::InvalidQuantization`], as do negative and non-finite ones.
pub fn quantize_multiplier(m: f64) -> Result<(i32, i8), Error> {
    if !m.is_finite() || m < 0.0 {
        return Err(Error::InvalidQuantization { layer: u16::MAX });
    }
    if m == 0.0 {
        return Ok((0, 0));
    }
    let (fraction, exponent) = libm::frexp(m); // m = fraction * 2^exponent, fraction in [0.5, 1)
    let mut q = libm::round(fraction * (1_u64 << 31) as f64) as i64;
    let mut shift = exponent;
    if q == 1_i64 << 31 {
        q /= 2;
        shift += 1;
    }
    if shift < i32::from(MIN_SHIFT) {
        return Ok((0, 0));
    }
    if shift > i32::from(MAX_SHIFT) {
        return Err(Error::InvalidQuantization { layer: u16::MAX });
    }
    Ok((q as i32, shift as i8))
}

/// The real value a quantized multiplier stands for: `multiplier * 2^(shift - 31)`.
pub fn multiplier_value(multiplier: i32, shift: i8) -> f64 {
    f64::from(multiplier) * libm::exp2(f64::from(shift) - 31.0)
}

/// Rounds half away from zero and saturates to int8: how floats become int8 everywhere in minnow.
#[inline]
pub fn saturate_i8(x: f32) -> i8 {
    if x.is_nan() {
        return 0;
    }
    let r = libm::roundf(x);
    if r >= 127.0 {
        127
    } else if r <= -128.0 {
        -128
    } else {
        r as i8
    }
}

/// Quantizes a real value with an affine scheme: `round(x / scale) + zero_point`, saturated.
#[inline]
pub fn quantize(x: f32, scale: f32, zero_point: i8) -> i8 {
    let q = libm::roundf(x / scale) + f32::from(zero_point);
    saturate_i8(q)
}

/// The real value of an int8 under an affine scheme: `(q - zero_point) * scale`.
#[inline]
pub fn dequantize(q: i8, scale: f32, zero_point: i8) -> f32 {
    (i32::from(q) - i32::from(zero_point)) as f32 * scale
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// gemmlowp's `SaturatingRoundingDoublingHighMul` written as gemmlowp writes it.
    fn srdhm_gemmlowp(a: i32, b: i32) -> i32 {
        if a == i32::MIN && b == i32::MIN {
            return i32::MAX;
        }
        let ab = i64::from(a) * i64::from(b);
        let nudge: i64 = if ab >= 0 { 1 << 30 } else { 1 - (1 << 30) };
        ((ab + nudge) / (1_i64 << 31)) as i32
    }

    fn edgy() -> impl Strategy<Value = i32> {
        prop_oneof![
            any::<i32>(),
            Just(i32::MIN),
            Just(i32::MAX),
            Just(0),
            Just(1),
            Just(-1),
            Just(1 << 30),
            Just(-(1 << 30)),
            (-4_i32..=4).prop_map(|d| (1 << 30) + d),
            (-4_i32..=4).prop_map(|d| -(1 << 30) + d),
        ]
    }

    /// `requantize` with the left shift saturated in 64 bits (the obvious form).
    fn requantize_wide(acc: i32, multiplier: i32, shift: i8) -> i32 {
        let shift = shift.clamp(MIN_SHIFT, MAX_SHIFT);
        let shifted = if shift > 0 {
            (i64::from(acc) << shift).clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32
        } else {
            acc
        };
        let right = if shift < 0 {
            (-i32::from(shift)) as u32
        } else {
            0
        };
        rounding_divide_by_pot(srdhm_gemmlowp(shifted, multiplier), right)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(20_000))]
        /// The kernels' precomputed form gives requantize's integers for every shift a byte can
        /// hold (fast and general cases) and edge multipliers.
        #[test]
        fn requantizer_is_requantize(acc in edgy(), multiplier in edgy(), shift in any::<i8>()) {
            let rq = Requantizer::new(multiplier, shift);
            prop_assert_eq!(rq.apply(acc), requantize(acc, multiplier, shift));
        }
    }

    #[test]
    fn requantize_left_shift_saturation_boundaries() {
        for shift in 1..=MAX_SHIFT {
            let (hi, lo) = (i32::MAX >> shift, i32::MIN >> shift);
            for acc in [hi - 1, hi, hi + 1, lo - 1, lo, lo + 1] {
                for m in [1 << 30, i32::MAX, 1] {
                    assert_eq!(
                        requantize(acc, m, shift),
                        requantize_wide(acc, m, shift),
                        "acc {acc} shift {shift} m {m}"
                    );
                }
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(20_000))]
        #[test]
        fn doubling_high_mul_is_gemmlowps(a in edgy(), b in edgy()) {
            prop_assert_eq!(saturating_rounding_doubling_high_mul(a, b), srdhm_gemmlowp(a, b));
        }

        #[test]
        fn requantize_saturates_left_shifts_like_64_bit_math(
            acc in edgy(),
            multiplier in edgy(),
            shift in MIN_SHIFT..=MAX_SHIFT,
            small in -70_000_i32..70_000,
        ) {
            prop_assert_eq!(requantize(acc, multiplier, shift), requantize_wide(acc, multiplier, shift));
            prop_assert_eq!(requantize(small, multiplier, shift), requantize_wide(small, multiplier, shift));
        }
    }

    #[test]
    fn doubling_high_mul_ties() {
        // Exact ties (ab = k * 2^31 + 2^30), both signs, and their neighbours.
        for k in [-5_i64, -1, 0, 1, 5] {
            for d in [-1_i64, 0, 1] {
                let ab = k * (1 << 31) + (1 << 30) + d;
                // factor ab as a * b with b = 2
                if ab % 2 == 0 {
                    let (a, b) = ((ab / 2) as i32, 2);
                    assert_eq!(
                        saturating_rounding_doubling_high_mul(a, b),
                        srdhm_gemmlowp(a, b),
                        "ab = {ab}"
                    );
                }
            }
        }
    }

    /// Hand-computed cases. For srdhm: (a*b + 2^30) >> 31 for ab >= 0, and
    /// (a*b + 1 - 2^30) / 2^31 truncated toward zero for ab < 0.
    #[test]
    fn doubling_high_mul_table() {
        let cases: &[(i32, i32, i32)] = &[
            (0, 0, 0),
            (i32::MIN, i32::MIN, i32::MAX), // the one saturating case
            (i32::MAX, i32::MAX, 2_147_483_646), // (2^31-1)^2 / 2^31 = 2^31 - 2 + 1/2^31 -> 2147483646
            (i32::MIN, i32::MAX, -2_147_483_647), // -2^31 (2^31-1) / 2^31 = -(2^31 - 1)
            (1 << 30, 1 << 30, 1 << 29),         // 0.5 * 0.5 = 0.25 in Q31
            (1, 1 << 30, 1),                     // 0.5: tie rounds up -> 1
            (-1, 1 << 30, 0),                    // -0.5: srdhm's ties go toward +inf -> 0
            (1, (1 << 30) - 1, 0),               // just below the tie
            (3, 1 << 30, 2),                     // 1.5 -> 2
            (-3, 1 << 30, -1),                   // -1.5 -> -1 (ties toward +inf)
            (100, 1_073_741_824, 50),            // 100 * 0.5
            (1000, 1_610_612_736, 750),          // 1000 * 0.75
        ];
        for &(a, b, want) in cases {
            assert_eq!(
                saturating_rounding_doubling_high_mul(a, b),
                want,
                "srdhm({a}, {b})"
            );
        }
    }

    #[test]
    fn divide_by_pot_table() {
        let cases: &[(i32, u32, i32)] = &[
            (0, 0, 0),
            (5, 0, 5),
            (5, 1, 3),   // 2.5 -> 3 (half away from zero)
            (-5, 1, -3), // -2.5 -> -3
            (4, 1, 2),
            (7, 2, 2),   // 1.75 -> 2
            (6, 2, 2),   // 1.5 -> 2
            (-6, 2, -2), // -1.5 -> -2
            (-7, 2, -2), // -1.75 -> -2
            (5, 2, 1),   // 1.25 -> 1
            (-5, 2, -1), // -1.25 -> -1
            (i32::MAX, 31, 1),
            (i32::MIN, 31, -1),
            (i32::MIN, 1, -1_073_741_824),
            (i32::MAX, 1, 1_073_741_824), // 1073741823.5 -> 1073741824
            (1, 40, 0),                   // exponent clamped to 31
        ];
        for &(x, e, want) in cases {
            assert_eq!(rounding_divide_by_pot(x, e), want, "rdbp({x}, {e})");
        }
    }

    #[test]
    fn requantize_table() {
        // M = 0.5 as (2^30, 0); M = 0.25 as (2^30, -1); M = 2^-31 * 2^30 ... etc.
        let cases: &[(i32, i32, i8, i32)] = &[
            (100, 1 << 30, 0, 50),
            (101, 1 << 30, 0, 51),   // 50.5 -> 51
            (-101, 1 << 30, 0, -50), // -50.5 -> -50: srdhm's ties go toward +inf
            (100, 1 << 30, -1, 25),
            (102, 1 << 30, -2, 13), // 102 * 0.125 = 12.75 -> 13
            (10, 1 << 30, 2, 20),   // positive shift: 10 * 4 * 0.5
            (i32::MAX, 1 << 30, 30, i32::MAX / 2 + 1), // left shift saturates to i32::MAX, then * 0.5 rounded
            (i32::MIN, 1 << 30, 30, i32::MIN / 2),
            (i32::MIN, i32::MAX, -31, -1), // ≈ -2^31 * (1 - 2^-31) * 2^-31 = -1
            (12345, 0, 0, 0),              // zero multiplier
            (-7, 1 << 30, -31, 0),         // tiny value rounds to 0
            (1 << 30, 1 << 30, -30, 1),    // 2^30 * 0.5 * 2^-30 = 0.5 -> 1
        ];
        for &(acc, m, s, want) in cases {
            assert_eq!(requantize(acc, m, s), want, "requantize({acc}, {m}, {s})");
        }
    }

    #[test]
    fn shift_limits_are_clamped_not_panicking() {
        assert_eq!(
            requantize(1000, 1 << 30, i8::MIN),
            requantize(1000, 1 << 30, MIN_SHIFT)
        );
        assert_eq!(
            requantize(1000, 1 << 30, i8::MAX),
            requantize(1000, 1 << 30, MAX_SHIFT)
        );
    }

    #[test]
    fn quantize_multiplier_table() {
        assert_eq!(quantize_multiplier(0.5), Ok((1 << 30, 0)));
        assert_eq!(quantize_multiplier(0.25), Ok((1 << 30, -1)));
        assert_eq!(quantize_multiplier(1.0), Ok((1 << 30, 1)));
        assert_eq!(quantize_multiplier(0.0), Ok((0, 0)));
        assert_eq!(quantize_multiplier(0.75), Ok((1_610_612_736, 0)));
        // 1 - 2^-40 rounds up to 2^31 in Q31: renormalised to (2^30, shift + 1).
        assert_eq!(
            quantize_multiplier(1.0 - libm::exp2(-40.0)),
            Ok((1 << 30, 1))
        );
        assert_eq!(quantize_multiplier(1e-12), Ok((0, 0)));
        assert!(quantize_multiplier(-0.1).is_err());
        assert!(quantize_multiplier(f64::NAN).is_err());
        assert!(quantize_multiplier(f64::INFINITY).is_err());
        assert!(quantize_multiplier(1e12).is_err());
    }

    #[test]
    fn quantize_multiplier_round_trips() {
        for &m in &[0.001, 0.0123456, 0.3, 0.999, 1.5, 3.75, 1000.0] {
            let (q, s) = quantize_multiplier(m).expect("representable");
            assert!((q as i64) >= 1 << 30 && (q as i64) < 1 << 31);
            let back = multiplier_value(q, s);
            assert!(((back - m) / m).abs() < 1e-9, "{m} -> {back}");
        }
    }

    #[test]
    fn saturate_and_affine() {
        assert_eq!(saturate_i8(127.4), 127);
        assert_eq!(saturate_i8(127.5), 127);
        assert_eq!(saturate_i8(-128.6), -128);
        assert_eq!(saturate_i8(2.5), 3);
        assert_eq!(saturate_i8(-2.5), -3);
        assert_eq!(saturate_i8(f32::NAN), 0);
        assert_eq!(saturate_i8(f32::INFINITY), 127);
        assert_eq!(quantize(1.0, 0.1, -5), 5);
        assert_eq!(dequantize(5, 0.1, -5), 1.0);
    }
}
