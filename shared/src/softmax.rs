//! Softmax with temperature, log-softmax and argmax.
//!
//! `softmax(z / T)_i = exp((z_i - max z) / T) / sum_j exp((z_j - max z) / T)`. Subtracting the
//! maximum first makes every exponent `<= 0`, so nothing overflows and the sum is at least 1:
//! for any finite logits and any finite `T > 0` the result is finite, in `[0, 1]`, and sums to 1.
//! The arithmetic runs in f64 (exact enough to serve as the reference the trainer's autodiff is
//! checked against) and is rounded to f32 once at the end.

use crate::Error;
use crate::error::len32;

pub(crate) fn check_logits(z: &[f32], out_len: usize, t: f32) -> Result<(), Error> {
    if !(t.is_finite() && t > 0.0) {
        return Err(Error::InvalidTemperature);
    }
    if z.is_empty() {
        return Err(Error::BufferSize { needed: 1, got: 0 });
    }
    if z.len() != out_len {
        return Err(Error::LengthsDiffer {
            left: len32(z.len()),
            right: len32(out_len),
        });
    }
    if z.iter().any(|v| !v.is_finite()) {
        return Err(Error::NonFinite);
    }
    Ok(())
}

/// Largest logit (inputs already checked finite and non-empty).
fn max_of(z: &[f32]) -> f64 {
    z.iter()
        .fold(f64::NEG_INFINITY, |m, &v| m.max(f64::from(v)))
}

/// `(max, log sum_j exp((z_j - max) / T))` in f64.
pub(crate) fn log_partition(z: &[f32], t: f32) -> (f64, f64) {
    let m = max_of(z);
    let t = f64::from(t);
    let sum: f64 = z.iter().map(|&v| libm::exp((f64::from(v) - m) / t)).sum();
    (m, libm::log(sum))
}

/// Writes `softmax(z / T)` into `out` (same length as `z`).
pub fn softmax(z: &[f32], t: f32, out: &mut [f32]) -> Result<(), Error> {
    check_logits(z, out.len(), t)?;
    let (m, log_sum) = log_partition(z, t);
    let t = f64::from(t);
    for (o, &v) in out.iter_mut().zip(z) {
        *o = libm::exp((f64::from(v) - m) / t - log_sum) as f32;
    }
    Ok(())
}

/// Writes `log softmax(z / T)` into `out`. Computed as `(z_i - max)/T - log sum exp(...)` so it
/// is accurate where `softmax` underflows to 0 (low T, far-apart logits); values below f32's
/// range saturate at `f32::MIN` instead of becoming `-inf`.
pub fn log_softmax(z: &[f32], t: f32, out: &mut [f32]) -> Result<(), Error> {
    check_logits(z, out.len(), t)?;
    let (m, log_sum) = log_partition(z, t);
    let t = f64::from(t);
    for (o, &v) in out.iter_mut().zip(z) {
        let x = (f64::from(v) - m) / t - log_sum;
        *o = x.max(f64::from(f32::MIN)) as f32;
    }
    Ok(())
}

/// Index of the largest int8 logit (the first one on ties); `None` for an empty slice.
/// Needs no floating point, so FPU-less cores classify with integers only.
pub fn argmax_i8(z: &[i8]) -> Option<usize> {
    let mut best: Option<(usize, i8)> = None;
    for (i, &v) in z.iter().enumerate() {
        if best.is_none_or(|(_, b)| v > b) {
            best = Some((i, v));
        }
    }
    best.map(|(i, _)| i)
}

/// Index of the largest f32 value (the first one on ties; NaN never wins); `None` if empty or all NaN.
pub fn argmax_f32(z: &[f32]) -> Option<usize> {
    let mut best: Option<(usize, f32)> = None;
    for (i, &v) in z.iter().enumerate() {
        if v.is_nan() {
            continue;
        }
        if best.is_none_or(|(_, b)| v > b) {
            best = Some((i, v));
        }
    }
    best.map(|(i, _)| i)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn softmax_matches_hand_values() {
        let mut p = [0.0; 3];
        softmax(&[0.0, 0.0, 0.0], 1.0, &mut p).unwrap();
        assert!(p.iter().all(|&v| (v - 1.0 / 3.0).abs() < 1e-7));
        // [ln 1, ln 2, ln 3] / 1 -> [1, 2, 3] / 6
        softmax(&[0.0, core::f32::consts::LN_2, 1.098_612_3], 1.0, &mut p).unwrap();
        for (got, want) in p.iter().zip([1.0 / 6.0, 2.0 / 6.0, 3.0 / 6.0]) {
            assert!((got - want).abs() < 1e-6, "{got} vs {want}");
        }
        // T = 2 halves the logits: [0, 2 ln 2] at T=2 equals [0, ln 2] at T=1 -> [1/3, 2/3]
        let mut q = [0.0; 2];
        softmax(&[0.0, 2.0 * core::f32::consts::LN_2], 2.0, &mut q).unwrap();
        assert!((q[0] - 1.0 / 3.0).abs() < 1e-6 && (q[1] - 2.0 / 3.0).abs() < 1e-6);
    }

    #[test]
    fn softmax_is_stable_at_extremes() {
        let z = [f32::MAX, f32::MIN, 0.0, 1e30];
        for t in [1e-30_f32, 1e-3, 1.0, 20.0, 1e30, f32::MAX] {
            let mut p = [0.0; 4];
            softmax(&z, t, &mut p).unwrap();
            assert!(
                p.iter().all(|v| v.is_finite() && *v >= 0.0 && *v <= 1.0),
                "T={t}: {p:?}"
            );
            let s: f32 = p.iter().sum();
            assert!((s - 1.0).abs() < 1e-5, "T={t}: sum {s}");
            let mut l = [0.0; 4];
            log_softmax(&z, t, &mut l).unwrap();
            assert!(l.iter().all(|v| v.is_finite() && *v <= 0.0), "T={t}: {l:?}");
        }
    }

    #[test]
    fn log_softmax_is_accurate_where_softmax_underflows() {
        let mut l = [0.0; 2];
        log_softmax(&[0.0, -200.0], 1.0, &mut l).unwrap();
        assert!((l[1] + 200.0).abs() < 1e-4, "{l:?}");
    }

    #[test]
    fn rejects_bad_arguments() {
        let mut p = [0.0; 2];
        assert_eq!(
            softmax(&[0.0, 1.0], 0.0, &mut p),
            Err(Error::InvalidTemperature)
        );
        assert_eq!(
            softmax(&[0.0, 1.0], -1.0, &mut p),
            Err(Error::InvalidTemperature)
        );
        assert_eq!(
            softmax(&[0.0, 1.0], f32::NAN, &mut p),
            Err(Error::InvalidTemperature)
        );
        assert_eq!(
            softmax(&[0.0, f32::NAN], 1.0, &mut p),
            Err(Error::NonFinite)
        );
        assert_eq!(
            softmax(&[0.0, f32::INFINITY], 1.0, &mut p),
            Err(Error::NonFinite)
        );
        assert!(matches!(
            softmax(&[0.0], 1.0, &mut p),
            Err(Error::LengthsDiffer { .. })
        ));
        assert!(softmax(&[], 1.0, &mut []).is_err());
    }

    #[test]
    fn argmax_rules() {
        assert_eq!(argmax_i8(&[]), None);
        assert_eq!(argmax_i8(&[-128, 5, 5, 3]), Some(1));
        assert_eq!(argmax_i8(&[-128, -128]), Some(0));
        assert_eq!(argmax_f32(&[f32::NAN, 1.0, 2.0, 2.0]), Some(2));
        assert_eq!(argmax_f32(&[f32::NAN]), None);
    }
}
