//! The distillation objective of Hinton, Vinyals & Dean (2015) as burn tensor ops.
//!
//! With teacher soft targets `p = softmax(v / T)` (or an ensemble's average of probabilities)
//! and student logits `z`:
//!
//! * soft term: `T^2 * mean_b [ -sum_i p_bi log softmax(z_b / T)_i ]` — summed over classes per
//!   sample, then averaged over the batch. Its gradient w.r.t. `z_b` is `T (q_b - p_b) / B`.
//! * hard term: `mean_b [ -log softmax(z_b)_{y_b} ]` (T = 1).
//! * logit matching (the high-temperature limit): `mean_b sum_i ((z_bi - mean z_b) - (v_bi -
//!   mean v_b))^2 / (2N)`, whose gradient is `(z - v) / (N B)` for zero-meaned logits.
//!
//! The reference formulas these are tested against are in `minnow_core::distill`.

use burn::tensor::activation::{log_softmax, softmax};
use burn::tensor::{Int, Tensor};

use crate::config::{Choice, choice_serde};

/// How the student learns from the teacher.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DistillMode {
    #[default]
    Soft,
    LogitMatching,
}

impl Choice for DistillMode {
    const ALL: &'static [(Self, &'static str, &'static str)] = &[
        (
            DistillMode::Soft,
            "soft",
            "cross-entropy to the teacher's softened probabilities, times T^2",
        ),
        (
            DistillMode::LogitMatching,
            "logit-matching",
            "squared error between zero-meaned student and teacher logits (the high-temperature limit)",
        ),
    ];
}
choice_serde!(DistillMode);

/// Soft targets `softmax(v / T)` for teacher logits `v` `[B, N]`.
pub fn soft_targets(teacher_logits: Tensor<2>, t: f32) -> Tensor<2> {
    softmax(teacher_logits.div_scalar(t), 1)
}

/// Ensemble soft targets: the average of the members' probabilities at `T`.
pub fn ensemble_soft_targets(members: Vec<Tensor<2>>, t: f32) -> Tensor<2> {
    let k = members.len().max(1) as f32;
    members
        .into_iter()
        .map(|v| soft_targets(v, t))
        .reduce(|a, b| a + b)
        .map(|s| s.div_scalar(k))
        .unwrap_or_else(|| panic!("an ensemble needs at least one member"))
}

/// `T^2 * mean over the batch of (-sum_i p_i log q_i)`, `q = softmax(z / T)`.
pub fn soft_loss(student_logits: Tensor<2>, targets: Tensor<2>, t: f32) -> Tensor<1> {
    let logq = log_softmax(student_logits.div_scalar(t), 1);
    (targets * logq).sum_dim(1).mean().neg().mul_scalar(t * t)
}

/// Mean over the batch of `-log softmax(z)_label`.
pub fn hard_loss(student_logits: Tensor<2>, labels: Tensor<1, Int>) -> Tensor<1> {
    let [b, _] = student_logits.dims();
    let logq = log_softmax(student_logits, 1);
    logq.gather(1, labels.reshape([b, 1])).mean().neg()
}

/// Mean over the batch of `sum_i ((z_i - mean z) - (v_i - mean v))^2 / (2N)`.
pub fn logit_matching_loss(student_logits: Tensor<2>, teacher_logits: Tensor<2>) -> Tensor<1> {
    let [_, n] = student_logits.dims();
    let zc = student_logits.clone() - student_logits.mean_dim(1);
    let vc = teacher_logits.clone() - teacher_logits.mean_dim(1);
    let d = zc - vc;
    (d.clone() * d).sum_dim(1).mean().div_scalar(2.0 * n as f32)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::params::uniform_vec;
    use crate::rng::Rng;
    use burn::tensor::{Device, TensorData};
    use minnow_core::distill;

    use crate::net::backend::test_autodiff_device as device;

    fn random_logits(rng: &mut Rng, n: usize, scale: f32) -> Vec<f32> {
        uniform_vec(rng, n, scale)
    }

    /// A gradient's values.
    fn gradient<const D: usize>(g: Option<Tensor<D>>) -> Vec<f32> {
        g.expect("gradient")
            .into_data()
            .try_into_vec::<f32>()
            .expect("f32")
    }

    fn t2(v: &[f32], b: usize, n: usize, dev: &Device) -> Tensor<2> {
        Tensor::from_data(TensorData::new(v.to_vec(), [b, n]), dev)
    }

    /// burn's autodiff gradient of the (batch-averaged, T^2-scaled) soft term w.r.t. the student
    /// logits equals T (q - p) / B from minnow_core::distill::soft_loss_gradient.
    #[test]
    fn soft_term_gradient_matches_reference() {
        let dev = device();
        let (b, n) = (4, 10);
        let mut rng = Rng::new(7);
        for t in [1.0f32, 2.0, 5.0, 20.0] {
            let z = random_logits(&mut rng, b * n, 6.0);
            let v = random_logits(&mut rng, b * n, 6.0);
            let zt = t2(&z, b, n, &dev).require_grad();
            let p = soft_targets(t2(&v, b, n, &dev), t);
            let pv = p.to_data().try_to_vec::<f32>().expect("f32");
            let loss = soft_loss(zt.clone(), p, t);
            let grads = loss.backward();
            let g = gradient(zt.grad(&grads));
            let mut max_err = 0.0f32;
            for s in 0..b {
                let mut reference = vec![0.0f32; n];
                distill::soft_loss_gradient(
                    &pv[s * n..(s + 1) * n],
                    &z[s * n..(s + 1) * n],
                    t,
                    &mut reference,
                )
                .expect("reference");
                for i in 0..n {
                    max_err = max_err.max((g[s * n + i] - reference[i] / b as f32).abs());
                }
            }
            assert!(
                max_err < 1e-5,
                "T={t}: max |autodiff - T(q-p)/B| = {max_err}"
            );
            // And the loss value itself matches the reference.
            let l = loss.into_scalar::<f32>();
            let r: f32 = (0..b)
                .map(|s| {
                    distill::soft_loss(&pv[s * n..(s + 1) * n], &z[s * n..(s + 1) * n], t)
                        .expect("ref")
                })
                .sum::<f32>()
                / b as f32;
            assert!(
                (l - r).abs() < 1e-4 * (1.0 + r.abs()),
                "T={t}: loss {l} vs {r}"
            );
        }
    }

    /// With zero-meaned logits, T^2 times the soft-term gradient tends to (z - v)/N as T grows.
    #[test]
    fn high_temperature_limit_is_logit_matching() {
        let dev = device();
        let n = 10;
        let mut rng = Rng::new(11);
        let mut z = random_logits(&mut rng, n, 3.0);
        let mut v = random_logits(&mut rng, n, 3.0);
        for x in [&mut z, &mut v] {
            let m = x.iter().sum::<f32>() / n as f32;
            x.iter_mut().for_each(|a| *a -= m);
        }
        let mut errors = Vec::new();
        for t in [1.0f32, 2.0, 5.0, 10.0, 50.0, 200.0] {
            let zt = t2(&z, 1, n, &dev).require_grad();
            let p = soft_targets(t2(&v, 1, n, &dev), t);
            // soft_loss already carries T^2, so its gradient is T^2 * dC/dz.
            let grads = soft_loss(zt.clone(), p, t).backward();
            let g = gradient(zt.grad(&grads));
            let mut lm = vec![0.0f32; n];
            distill::logit_matching_gradient(&v, &z, t, &mut lm).expect("reference");
            let err = g
                .iter()
                .zip(&lm)
                .map(|(a, b)| (a - b * t * t).abs())
                .fold(0.0f32, f32::max);
            errors.push((t, err));
        }
        for w in errors.windows(2) {
            assert!(
                w[1].1 < w[0].1,
                "error did not shrink from T={} ({}) to T={} ({})",
                w[0].0,
                w[0].1,
                w[1].0,
                w[1].1
            );
        }
        // The error is O(1/T): 0.28 at T=1, about 0.45/T at large T for these logits.
        let (_, at50) = errors[errors.len() - 2];
        let (_, last) = errors[errors.len() - 1];
        assert!(last < 5e-3, "at T=200 the error is {last}; all: {errors:?}");
        assert!(last < at50 / 3.0, "error not O(1/T): {errors:?}");
    }

    #[test]
    fn logit_matching_gradient_matches_reference() {
        let dev = device();
        let (b, n) = (3, 6);
        let mut rng = Rng::new(3);
        let z = random_logits(&mut rng, b * n, 4.0);
        let v = random_logits(&mut rng, b * n, 4.0);
        let zt = t2(&z, b, n, &dev).require_grad();
        let grads = logit_matching_loss(zt.clone(), t2(&v, b, n, &dev)).backward();
        let g = gradient(zt.grad(&grads));
        for s in 0..b {
            let mut r = vec![0.0f32; n];
            distill::logit_matching_gradient(
                &v[s * n..(s + 1) * n],
                &z[s * n..(s + 1) * n],
                1.0,
                &mut r,
            )
            .expect("reference");
            for i in 0..n {
                assert!((g[s * n + i] - r[i] / b as f32).abs() < 1e-5);
            }
        }
    }

    #[test]
    fn hard_loss_and_ensemble_targets_match_reference() {
        let dev = crate::net::backend::device(Default::default()).expect("cpu device");
        let (b, n) = (2, 4);
        let z = [1.0f32, -2.0, 0.5, 3.0, 0.0, 0.1, -0.3, 2.0];
        let labels = Tensor::<1, Int>::from_data(TensorData::new(vec![3i64, 1], [2]), &dev);
        let l = hard_loss(t2(&z, b, n, &dev), labels).into_scalar::<f32>();
        let r = (distill::hard_cross_entropy(&z[..4], 3).expect("r")
            + distill::hard_cross_entropy(&z[4..], 1).expect("r"))
            / 2.0;
        assert!((l - r).abs() < 1e-5, "{l} vs {r}");

        let a = [4.0f32, 0.0, 1.0, -1.0];
        let c = [0.0f32, 0.0, 2.0, 0.0];
        let e = ensemble_soft_targets(vec![t2(&a, 1, 4, &dev), t2(&c, 1, 4, &dev)], 2.0)
            .into_data()
            .try_into_vec::<f32>()
            .expect("f32");
        let mut r = [0.0f32; 4];
        distill::ensemble_soft_targets(&[&a, &c], 2.0, &mut r).expect("r");
        for i in 0..4 {
            assert!((e[i] - r[i]).abs() < 1e-6);
        }
    }
}
