//! The distillation math of Hinton, Vinyals & Dean (2015), as plain functions.
//!
//! Notation (the paper's): the teacher has logits `v` and soft targets `p = softmax(v / T)`; the
//! student has logits `z` and probabilities `q = softmax(z / T)`.
//!
//! * Soft loss: `C = -sum_i p_i log q_i` (cross-entropy to the soft targets at the same `T`).
//! * Its gradient: `dC/dz_i = (q_i - p_i) / T` ([`soft_gradient`]).
//! * Because that gradient scales as `1/T^2` at high `T` (see below), the soft term is multiplied
//!   by `T^2` so its contribution does not vanish as `T` changes ([`soft_loss`],
//!   [`soft_loss_gradient`]).
//! * At high `T`, with zero-meaned logits, `dC/dz_i ≈ (z_i - v_i) / (N T^2)`
//!   ([`logit_matching_gradient`]): distillation becomes matching logits. The `T^2`-scaled form is
//!   `(z_i - v_i) / N`, the gradient of `sum_i (z_i - v_i)^2 / (2N)`.
//! * Hard loss: cross-entropy to the true label at `T = 1`, weighted separately.
//!
//! Everything is computed in f64 and rounded to f32 at the end; these functions are the
//! reference the trainer's autodiff is tested against.

use crate::Error;
use crate::error::len32;
use crate::softmax::{check_logits, log_partition};

fn same_len(a: usize, b: usize) -> Result<(), Error> {
    if a == b {
        Ok(())
    } else {
        Err(Error::LengthsDiffer {
            left: len32(a),
            right: len32(b),
        })
    }
}

/// Checks that `p` is a probability vector: finite, non-negative, summing to 1 within 1e-3.
fn check_probabilities(p: &[f32]) -> Result<(), Error> {
    if p.iter().any(|v| !v.is_finite() || *v < 0.0) {
        return Err(Error::NonFinite);
    }
    let s: f64 = p.iter().map(|&v| f64::from(v)).sum();
    if (s - 1.0).abs() > 1e-3 {
        Err(Error::NonFinite)
    } else {
        Ok(())
    }
}

/// Soft targets of an ensemble: the **average of the members' probabilities** at `T` (not the
/// softmax of averaged logits). `teachers` holds each member's logits.
pub fn ensemble_soft_targets(teachers: &[&[f32]], t: f32, out: &mut [f32]) -> Result<(), Error> {
    if teachers.is_empty() {
        return Err(Error::BufferSize { needed: 1, got: 0 });
    }
    for v in teachers {
        check_logits(v, out.len(), t)?;
    }
    // Members outer, classes inner: each member's log-partition is computed once (no alloc, so
    // the sums are kept in `out` itself, in f32; each term is at most 1/k, so the rounding error
    // is a few ulps for any ensemble size we train).
    let k = teachers.len() as f64;
    out.fill(0.0);
    for v in teachers {
        let (m, log_sum) = log_partition(v, t);
        for (o, &vi) in out.iter_mut().zip(v.iter()) {
            *o += (libm::exp((f64::from(vi) - m) / f64::from(t) - log_sum) / k) as f32;
        }
    }
    Ok(())
}

/// Soft cross-entropy `-sum_i p_i log q_i` between soft targets `p` (probabilities, e.g. from
/// [`crate::softmax::softmax`] of the teacher's logits at `T`, or an ensemble's) and the student's
/// logits `z` at temperature `T`. Not yet multiplied by `T^2`.
pub fn soft_cross_entropy(p: &[f32], z: &[f32], t: f32) -> Result<f32, Error> {
    check_logits(z, p.len(), t)?;
    check_probabilities(p)?;
    let (m, log_sum) = log_partition(z, t);
    let t = f64::from(t);
    let ce: f64 = p
        .iter()
        .zip(z)
        .map(|(&pi, &zi)| -f64::from(pi) * ((f64::from(zi) - m) / t - log_sum))
        .sum();
    Ok(ce as f32)
}

/// The soft term as it enters the loss: `T^2 * soft_cross_entropy(p, z, T)`.
pub fn soft_loss(p: &[f32], z: &[f32], t: f32) -> Result<f32, Error> {
    Ok((f64::from(soft_cross_entropy(p, z, t)?) * f64::from(t) * f64::from(t)) as f32)
}

/// `dC/dz_i = (q_i - p_i) / T`: the gradient of [`soft_cross_entropy`] with respect to the
/// student's logits.
pub fn soft_gradient(p: &[f32], z: &[f32], t: f32, out: &mut [f32]) -> Result<(), Error> {
    scaled_soft_gradient(p, z, t, 1.0 / f64::from(t), out)
}

/// Gradient of [`soft_loss`]: `T^2 (q_i - p_i) / T = T (q_i - p_i)`.
pub fn soft_loss_gradient(p: &[f32], z: &[f32], t: f32, out: &mut [f32]) -> Result<(), Error> {
    scaled_soft_gradient(p, z, t, f64::from(t), out)
}

fn scaled_soft_gradient(
    p: &[f32],
    z: &[f32],
    t: f32,
    factor: f64,
    out: &mut [f32],
) -> Result<(), Error> {
    check_logits(z, p.len(), t)?;
    check_probabilities(p)?;
    same_len(z.len(), out.len())?;
    let (m, log_sum) = log_partition(z, t);
    let tf = f64::from(t);
    for ((o, &pi), &zi) in out.iter_mut().zip(p).zip(z) {
        let qi = libm::exp((f64::from(zi) - m) / tf - log_sum);
        *o = (factor * (qi - f64::from(pi))) as f32;
    }
    Ok(())
}

/// Hard-label cross-entropy at `T = 1`: `-log softmax(z)_label`.
pub fn hard_cross_entropy(z: &[f32], label: usize) -> Result<f32, Error> {
    check_logits(z, z.len(), 1.0)?;
    let zl = *z.get(label).ok_or(Error::IndexOutOfRange {
        index: len32(label),
        len: len32(z.len()),
    })?;
    let (m, log_sum) = log_partition(z, 1.0);
    Ok((-(f64::from(zl) - m - log_sum)) as f32)
}

/// Gradient of [`hard_cross_entropy`]: `softmax(z)_i - [i == label]`.
pub fn hard_gradient(z: &[f32], label: usize, out: &mut [f32]) -> Result<(), Error> {
    check_logits(z, out.len(), 1.0)?;
    if label >= z.len() {
        return Err(Error::IndexOutOfRange {
            index: len32(label),
            len: len32(z.len()),
        });
    }
    let (m, log_sum) = log_partition(z, 1.0);
    for (i, (o, &zi)) in out.iter_mut().zip(z).enumerate() {
        let q = libm::exp(f64::from(zi) - m - log_sum);
        *o = (q - if i == label { 1.0 } else { 0.0 }) as f32;
    }
    Ok(())
}

/// The full per-sample objective: `soft_weight * T^2 * CE(p, q_T) + hard_weight * CE(label, q_1)`.
/// `label` must be given when `hard_weight != 0`.
pub fn distillation_loss(
    p: &[f32],
    z: &[f32],
    label: Option<usize>,
    t: f32,
    soft_weight: f32,
    hard_weight: f32,
) -> Result<f32, Error> {
    let mut loss = f64::from(soft_weight) * f64::from(soft_loss(p, z, t)?);
    if hard_weight != 0.0 {
        let label = label.ok_or(Error::IndexOutOfRange {
            index: u32::MAX,
            len: len32(z.len()),
        })?;
        loss += f64::from(hard_weight) * f64::from(hard_cross_entropy(z, label)?);
    }
    Ok(loss as f32)
}

/// The seed's high-temperature limit of [`soft_gradient`]: with both logit vectors zero-meaned,
/// `dC/dz_i ≈ (z_i - v_i) / (N T^2)`. This function zero-means `z` and `v` itself.
pub fn logit_matching_gradient(v: &[f32], z: &[f32], t: f32, out: &mut [f32]) -> Result<(), Error> {
    check_logits(z, v.len(), t)?;
    check_logits(v, out.len(), t)?;
    let n = z.len() as f64;
    let mean = |x: &[f32]| x.iter().map(|&a| f64::from(a)).sum::<f64>() / n;
    let (mz, mv) = (mean(z), mean(v));
    let t2 = f64::from(t) * f64::from(t);
    for ((o, &zi), &vi) in out.iter_mut().zip(z).zip(v) {
        *o = (((f64::from(zi) - mz) - (f64::from(vi) - mv)) / (n * t2)) as f32;
    }
    Ok(())
}

/// The logit-matching loss whose gradient is `T^2` times [`logit_matching_gradient`]:
/// `sum_i ((z_i - mean z) - (v_i - mean v))^2 / (2N)`.
pub fn logit_matching_loss(v: &[f32], z: &[f32]) -> Result<f32, Error> {
    check_logits(z, v.len(), 1.0)?;
    check_logits(v, v.len(), 1.0)?;
    let n = z.len() as f64;
    let mean = |x: &[f32]| x.iter().map(|&a| f64::from(a)).sum::<f64>() / n;
    let (mz, mv) = (mean(z), mean(v));
    let s: f64 = z
        .iter()
        .zip(v)
        .map(|(&zi, &vi)| {
            let d = (f64::from(zi) - mz) - (f64::from(vi) - mv);
            d * d
        })
        .sum();
    Ok((s / (2.0 * n)) as f32)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::softmax::softmax;

    const V: [f32; 5] = [2.0, -1.0, 0.5, 3.0, -2.5];
    const Z: [f32; 5] = [1.0, 0.0, -0.5, 2.0, -1.0];

    fn targets(t: f32) -> [f32; 5] {
        let mut p = [0.0; 5];
        softmax(&V, t, &mut p).unwrap();
        p
    }

    /// Central finite differences of the soft cross-entropy (in f64 via the f32 API at a step
    /// large enough for f32) agree with the analytic (q - p)/T.
    #[test]
    fn soft_gradient_matches_finite_differences() {
        for t in [0.5_f32, 1.0, 2.0, 4.0, 20.0] {
            let p = targets(t);
            let mut g = [0.0; 5];
            soft_gradient(&p, &Z, t, &mut g).unwrap();
            for i in 0..5 {
                let h = 1e-2_f32;
                let (mut zp, mut zm) = (Z, Z);
                zp[i] += h;
                zm[i] -= h;
                let fd = (soft_cross_entropy(&p, &zp, t).unwrap()
                    - soft_cross_entropy(&p, &zm, t).unwrap())
                    / (2.0 * h);
                assert!((fd - g[i]).abs() < 2e-4, "T={t} i={i}: fd {fd} vs {}", g[i]);
            }
            // T^2 scaling of the loss gradient
            let mut gl = [0.0; 5];
            soft_loss_gradient(&p, &Z, t, &mut gl).unwrap();
            for i in 0..5 {
                assert!((gl[i] - t * t * g[i]).abs() < 1e-5 * (1.0 + gl[i].abs()));
            }
        }
    }

    #[test]
    fn gradient_magnitude_scales_as_inverse_t_squared() {
        // (q - p)/T ≈ (z - v)/(N T^2) for large T: doubling T quarters the gradient.
        // The ratio tends to 4 as T grows, with an O(1/T) correction (3.84 at T=10 vs 20 and 3.97
        // at T=50 vs 100 for these logits).
        let norm = |t: f32| {
            let mut g = [0.0; 5];
            soft_gradient(&targets(t), &Z, t, &mut g).unwrap();
            g.iter().map(|x| x * x).sum::<f32>().sqrt()
        };
        let (r1, r2) = (norm(10.0) / norm(20.0), norm(50.0) / norm(100.0));
        assert!((r2 - 4.0).abs() < (r1 - 4.0).abs(), "ratios {r1} then {r2}");
        assert!((r2 - 4.0).abs() < 0.05, "ratio at T=50/100 is {r2}");
    }

    #[test]
    fn high_temperature_approaches_logit_matching() {
        let mut prev = f32::INFINITY;
        for t in [2.0_f32, 5.0, 10.0, 50.0, 200.0] {
            let mut g = [0.0; 5];
            let mut lm = [0.0; 5];
            soft_gradient(&targets(t), &Z, t, &mut g).unwrap();
            logit_matching_gradient(&V, &Z, t, &mut lm).unwrap();
            // relative error in the T^2-scaled gradients
            let err: f32 = g
                .iter()
                .zip(&lm)
                .map(|(a, b)| (a - b).abs())
                .fold(0.0, f32::max)
                * t
                * t;
            assert!(err < prev, "T={t}: error {err} did not shrink from {prev}");
            prev = err;
        }
        assert!(prev < 0.01, "at T=200 the scaled error is {prev}");
    }

    #[test]
    fn hard_gradient_and_loss() {
        let mut g = [0.0; 5];
        hard_gradient(&Z, 3, &mut g).unwrap();
        let s: f32 = g.iter().sum();
        assert!(s.abs() < 1e-6);
        assert!(g[3] < 0.0 && g.iter().enumerate().all(|(i, &v)| i == 3 || v > 0.0));
        let l = hard_cross_entropy(&Z, 3).unwrap();
        let mut q = [0.0; 5];
        softmax(&Z, 1.0, &mut q).unwrap();
        assert!((l + q[3].ln()).abs() < 1e-5);
        assert!(hard_cross_entropy(&Z, 5).is_err());
    }

    #[test]
    fn ensemble_averages_probabilities_not_logits() {
        let a = [4.0_f32, 0.0];
        let b = [0.0_f32, 0.0];
        let mut e = [0.0; 2];
        ensemble_soft_targets(&[&a, &b], 1.0, &mut e).unwrap();
        let mut pa = [0.0; 2];
        softmax(&a, 1.0, &mut pa).unwrap();
        assert!((e[0] - (pa[0] + 0.5) / 2.0).abs() < 1e-6);
        // the softmax of the averaged logits [2, 0] differs
        let mut avg = [0.0; 2];
        softmax(&[2.0, 0.0], 1.0, &mut avg).unwrap();
        assert!((avg[0] - e[0]).abs() > 0.01);
    }

    #[test]
    fn ensemble_of_copies_is_the_members_softmax_and_sums_to_one() {
        let t = 3.0;
        let mut one = [0.0; 5];
        softmax(&Z, t, &mut one).unwrap();
        let mut e = [0.0; 5];
        ensemble_soft_targets(&[&Z[..]; 7], t, &mut e).unwrap();
        for (a, b) in one.iter().zip(&e) {
            assert!((a - b).abs() < 1e-6, "{a} vs {b}");
        }
        let w = [1.0_f32, -2.0, 0.5, 9.0, -30.0];
        ensemble_soft_targets(&[&Z, &w, &Z], t, &mut e).unwrap();
        assert!((e.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        // a member of the wrong length is an error, not a silently shorter row
        assert!(ensemble_soft_targets(&[&Z, &w[..4]], t, &mut e).is_err());
    }

    #[test]
    fn distillation_loss_mixes_terms() {
        let t = 4.0;
        let p = targets(t);
        let soft = soft_loss(&p, &Z, t).unwrap();
        let hard = hard_cross_entropy(&Z, 0).unwrap();
        let l = distillation_loss(&p, &Z, Some(0), t, 0.7, 0.3).unwrap();
        assert!((l - (0.7 * soft + 0.3 * hard)).abs() < 1e-5);
        assert!(distillation_loss(&p, &Z, None, t, 1.0, 0.5).is_err());
        assert_eq!(distillation_loss(&p, &Z, None, t, 1.0, 0.0).unwrap(), soft);
        // soft targets that are not probabilities are refused
        assert!(soft_cross_entropy(&[0.5, 0.9, 0.0, 0.0, 0.0], &Z, t).is_err());
    }

    #[test]
    fn logit_matching_loss_gradient() {
        let l = logit_matching_loss(&V, &Z).unwrap();
        let mut g = [0.0; 5];
        logit_matching_gradient(&V, &Z, 1.0, &mut g).unwrap();
        for i in 0..5 {
            let h = 1e-2;
            let (mut zp, mut zm) = (Z, Z);
            zp[i] += h;
            zm[i] -= h;
            let fd = (logit_matching_loss(&V, &zp).unwrap()
                - logit_matching_loss(&V, &zm).unwrap())
                / (2.0 * h);
            assert!((fd - g[i]).abs() < 1e-4, "i={i}: {fd} vs {}", g[i]);
        }
        assert!(l > 0.0);
    }
}
