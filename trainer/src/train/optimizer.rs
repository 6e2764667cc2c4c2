//! The optimizer of a run: Adam (minnow's default), or SGD with momentum as Hinton et al. 2012
//! and Srivastava et al. 2014 trained dropout networks (the recipe of the distillation paper's
//! MNIST teacher): momentum ramped up over the first epochs, and a max-norm constraint that
//! projects every unit's incoming weight vector back into a ball after each step.

use burn::optim::decay::WeightDecayConfig;
use burn::optim::momentum::MomentumConfig;
use burn::optim::{AdamConfig, ModuleOptimizer, SgdConfig};
use burn::tensor::Tensor;
use serde::{Deserialize, Serialize};

use crate::config::{Choice, Invalid, choice_serde, in_range, omit_default};
use crate::net::params::{LayerParams, Net};

/// Which optimizer steps the weights.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OptimizerKind {
    #[default]
    Adam,
    Sgd,
}

impl Choice for OptimizerKind {
    const ALL: &'static [(Self, &'static str, &'static str)] = &[
        (OptimizerKind::Adam, "adam", "Adam (beta 0.9, 0.999)"),
        (
            OptimizerKind::Sgd,
            "sgd",
            "SGD with momentum p: v = p v + (1 - p) g, w -= rate v (Hinton et al. 2012's form)",
        ),
    ];
}
choice_serde!(OptimizerKind);

/// The optimizer settings of a run. Every field is left out of a saved config at its default,
/// so runs that do not use them write the bytes they always did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OptimizerConfig {
    #[serde(default, skip_serializing_if = "is_adam")]
    pub optimizer: OptimizerKind,
    /// SGD's momentum (at the end of the ramp when `momentum_start` is set).
    #[serde(
        default = "default_momentum",
        skip_serializing_if = "is_default_momentum"
    )]
    pub momentum: f64,
    /// SGD's momentum in the first epoch, rising linearly to `momentum` over `momentum_epochs`
    /// epochs (Hinton et al. 2012: 0.5 to 0.99 over 500 epochs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub momentum_start: Option<f64>,
    #[serde(default, skip_serializing_if = "is_zero_usize")]
    pub momentum_epochs: usize,
    /// After each step, scale every unit's incoming weight vector (a dense column, a
    /// convolution's filter) down to this L2 norm when it is longer (0 = off).
    #[serde(default, skip_serializing_if = "is_zero_f32")]
    pub max_norm: f32,
}

/// The momentum SGD uses unless told otherwise.
pub const DEFAULT_MOMENTUM: f64 = 0.9;

fn default_momentum() -> f64 {
    DEFAULT_MOMENTUM
}

fn is_default_momentum(m: &f64) -> bool {
    omit_default(*m == DEFAULT_MOMENTUM)
}

fn is_adam(k: &OptimizerKind) -> bool {
    omit_default(*k == OptimizerKind::Adam)
}

fn is_zero_usize(x: &usize) -> bool {
    omit_default(*x == 0)
}

fn is_zero_f32(x: &f32) -> bool {
    omit_default(*x == 0.0)
}

impl Default for OptimizerConfig {
    fn default() -> Self {
        OptimizerConfig {
            optimizer: OptimizerKind::Adam,
            momentum: DEFAULT_MOMENTUM,
            momentum_start: None,
            momentum_epochs: 0,
            max_norm: 0.0,
        }
    }
}

impl OptimizerConfig {
    /// Refuses momenta outside `[0, 1)`, a ramp without its length (or the other way round),
    /// SGD settings given to Adam, and a negative or non-finite max-norm.
    pub fn check(&self) -> Result<(), Invalid> {
        let momentum = |key: &'static str, m: f64| {
            if (0.0..1.0).contains(&m) {
                Ok(())
            } else {
                Err(Invalid::new(key, m, "must be in [0, 1)"))
            }
        };
        momentum("momentum", self.momentum)?;
        if let Some(start) = self.momentum_start {
            momentum("momentum_start", start)?;
        }
        in_range("momentum_epochs", self.momentum_epochs, 0, 1_000_000)?;
        if self.momentum_start.is_some() != (self.momentum_epochs > 0) {
            return Err(Invalid::new(
                "momentum_epochs",
                self.momentum_epochs,
                "a momentum ramp needs both momentum_start and momentum_epochs > 0",
            ));
        }
        if self.optimizer == OptimizerKind::Adam
            && (self.momentum_start.is_some() || self.momentum != DEFAULT_MOMENTUM)
        {
            return Err(Invalid::new(
                "momentum",
                self.momentum,
                "is SGD's (give optimizer = \"sgd\"); Adam keeps its own moments",
            ));
        }
        if !(self.max_norm >= 0.0 && self.max_norm.is_finite()) {
            return Err(Invalid::new(
                "max_norm",
                self.max_norm,
                "must be a finite length >= 0 (0 = off)",
            ));
        }
        Ok(())
    }

    /// SGD's momentum in epoch `epoch` (0-based): a pure function of the epoch, so a resumed
    /// run continues on the same ramp.
    pub fn momentum_at(&self, epoch: usize) -> f64 {
        match self.momentum_start {
            Some(start) if epoch < self.momentum_epochs => {
                let t = epoch as f64 / self.momentum_epochs as f64;
                start + (self.momentum - start) * t
            }
            _ => self.momentum,
        }
    }

    /// Whether the optimizer changes between epochs (a momentum ramp): then the loop builds it
    /// again at each epoch's start and hands it the previous one's state.
    pub fn ramps(&self) -> bool {
        self.optimizer == OptimizerKind::Sgd && self.momentum_start.is_some()
    }

    /// The optimizer for epoch `epoch`, with L2 weight decay `weight_decay` (0 = none).
    pub fn build(&self, epoch: usize, weight_decay: f32) -> ModuleOptimizer {
        let decay = (weight_decay > 0.0).then(|| WeightDecayConfig::new(weight_decay));
        match self.optimizer {
            OptimizerKind::Adam => AdamConfig::new().with_weight_decay(decay).init(),
            OptimizerKind::Sgd => {
                let p = self.momentum_at(epoch);
                // Dampening p: the velocity averages the gradients with weights (1 - p) p^k,
                // so the step's size does not grow as the momentum rises.
                let momentum = MomentumConfig::new()
                    .with_momentum(p)
                    .with_dampening(p)
                    .with_nesterov(false);
                SgdConfig::new()
                    .with_weight_decay(decay)
                    .with_momentum(Some(momentum))
                    .init()
            }
        }
    }

    /// `net` with the max-norm constraint applied (unchanged when it is off).
    pub fn constrain(&self, net: Net) -> Net {
        if self.max_norm > 0.0 {
            max_norm(net, self.max_norm)
        } else {
            net
        }
    }
}

/// Scales each unit's incoming weight vector whose L2 norm exceeds `limit` down to `limit`:
/// the columns of a dense weight `[in, out]`, the filters of a convolution `[out, c, kh, kw]`.
/// Biases are left alone (Srivastava et al. 2014 constrain the weights).
pub fn max_norm(net: Net, limit: f32) -> Net {
    let layers = net
        .layers
        .into_iter()
        .map(|l| LayerParams {
            w2: l
                .w2
                .map(|p| p.map(|w| outside_autodiff(w, |w| clip_columns(w, limit)))),
            w4: l
                .w4
                .map(|p| p.map(|w| outside_autodiff(w, |w| clip_filters(w, limit)))),
            bias: l.bias,
        })
        .collect();
    Net { layers }
}

/// Columns of `w` (`[in, out]`) scaled by `limit / max(norm, limit)`.
fn clip_columns(w: Tensor<2>, limit: f32) -> Tensor<2> {
    clip_along(w, 0, limit)
}

/// Filters of `w` (`[out, c, kh, kw]`) scaled by `limit / max(norm, limit)`.
fn clip_filters(w: Tensor<4>, limit: f32) -> Tensor<4> {
    let [o, c, kh, kw] = w.dims();
    clip_along(w.reshape([o, c * kh * kw]), 1, limit).reshape([o, c, kh, kw])
}

/// The vectors of `w` that run along `dim` (its columns for 0, its rows for 1), each scaled
/// by `limit / max(norm, limit)`.
fn clip_along(w: Tensor<2>, dim: usize, limit: f32) -> Tensor<2> {
    let norms = w.clone().powi_scalar(2).sum_dim(dim).sqrt();
    w * norms.clamp_min(limit).recip().mul_scalar(limit)
}

/// Applies `f` to a parameter's value without recording it in the autodiff graph (the
/// projection is not part of the loss), and puts back what the parameter carried: whether it
/// wants gradients and its checkpointing strategy (as burn's optimizers do after a step).
fn outside_autodiff<const D: usize>(
    w: Tensor<D>,
    f: impl FnOnce(Tensor<D>) -> Tensor<D>,
) -> Tensor<D> {
    if !w.is_autodiff() {
        return f(w);
    }
    let require_grad = w.is_require_grad();
    let strategy = w.gradient_checkpointing_strategy();
    let mut out = Tensor::from_inner(f(w.inner()));
    if let Some(strategy) = strategy {
        out = out.with_gradient_checkpointing_strategy(strategy);
    }
    if require_grad {
        out = out.require_grad();
    }
    out
}

#[cfg(test)]
mod tests {
    use burn::optim::GradientsParams;
    use burn::tensor::{Device, TensorData};

    use super::*;
    use crate::net::backend::test_autodiff_device;
    use crate::net::params::param;
    use crate::rng::Rng;

    fn sgd_ramp() -> OptimizerConfig {
        OptimizerConfig {
            optimizer: OptimizerKind::Sgd,
            momentum: 0.9,
            momentum_start: Some(0.5),
            momentum_epochs: 4,
            max_norm: 0.0,
        }
    }

    fn dense_net(values: Vec<f32>, shape: [usize; 2], dev: &Device) -> Net {
        Net {
            layers: vec![LayerParams {
                w2: Some(param(1, values, shape, dev)),
                w4: None,
                bias: None,
            }],
        }
    }

    fn values<const D: usize>(t: Tensor<D>) -> Vec<f32> {
        t.into_data().try_to_vec::<f32>().expect("f32")
    }

    /// The ramp rises linearly from the start to the end momentum, then stays.
    #[test]
    fn momentum_ramps_linearly_then_holds() {
        let c = sgd_ramp();
        let got: Vec<f64> = (0..6).map(|e| c.momentum_at(e)).collect();
        let want = [0.5, 0.6, 0.7, 0.8, 0.9, 0.9];
        for (g, w) in got.iter().zip(want) {
            assert!((g - w).abs() < 1e-12, "{got:?}");
        }
        assert!(c.ramps());
        assert!(!OptimizerConfig::default().ramps());
    }

    /// SGD steps on the loss `sum(w^2 / 2 + c w)` (gradient `w + c`), one step per epoch with
    /// the optimizer rebuilt each epoch as the training loop does, against the update written
    /// out by hand: `v = g` at the first step, then `v = p v + (1 - p) g`; `w -= rate v`.
    #[test]
    fn sgd_steps_follow_the_momentum_formula() {
        let dev = test_autodiff_device();
        let c = sgd_ramp();
        let lr = 0.3;
        let w0 = vec![1.0f32, -2.0, 0.5, 3.0, -0.25, 0.0];
        let shift = [0.1f64, -0.2, 0.3, 0.0, 0.5, -1.0];
        let mut net = dense_net(w0.clone(), [2, 3], &dev);
        let mut optim = c.build(0, 0.0);
        let mut w: Vec<f64> = w0.iter().map(|&x| f64::from(x)).collect();
        let mut v: Option<Vec<f64>> = None;
        for epoch in 0..6 {
            optim = c.build(epoch, 0.0).load_record(optim.to_record());
            let p = net.layers[0].w2.as_ref().expect("w2").val();
            let shift_t = Tensor::<2>::from_data(
                TensorData::new(shift.iter().map(|&x| x as f32).collect(), [2, 3]),
                &dev,
            );
            let loss = (p.clone().powi_scalar(2).mul_scalar(0.5) + p * shift_t).sum();
            let grads = GradientsParams::from_grads(loss.backward(), &net);
            net = c.constrain(optim.step(lr, net, grads));

            let m = c.momentum_at(epoch);
            let g: Vec<f64> = w.iter().zip(shift).map(|(w, s)| w + s).collect();
            let vel: Vec<f64> = match &v {
                None => g,
                Some(v) => v
                    .iter()
                    .zip(&g)
                    .map(|(v, g)| m * v + (1.0 - m) * g)
                    .collect(),
            };
            for (w, v) in w.iter_mut().zip(&vel) {
                *w -= lr * v;
            }
            v = Some(vel);
            let got = values(net.layers[0].w2.as_ref().expect("w2").val());
            for (g, want) in got.iter().zip(&w) {
                assert!(
                    (f64::from(*g) - want).abs() < 1e-5,
                    "epoch {epoch}: {got:?} against {w:?}"
                );
            }
        }
    }

    /// L2 norms of the columns of `[in, out]` / the filters of `[out, ...]`.
    fn unit_norms(w: &[f32], rows: usize, cols: usize, by_column: bool) -> Vec<f32> {
        let at = |r: usize, c: usize| w[r * cols + c];
        if by_column {
            (0..cols)
                .map(|c| (0..rows).map(|r| at(r, c).powi(2)).sum::<f32>().sqrt())
                .collect()
        } else {
            (0..rows)
                .map(|r| (0..cols).map(|c| at(r, c).powi(2)).sum::<f32>().sqrt())
                .collect()
        }
    }

    /// After every one of 20 large random steps, no dense column and no convolution filter is
    /// longer than the limit; vectors inside the ball are left exactly as they were.
    #[test]
    fn max_norm_holds_after_every_step() {
        let dev = test_autodiff_device();
        let limit = 1.5f32;
        let c = OptimizerConfig {
            max_norm: limit,
            ..OptimizerConfig::default()
        };
        let mut rng = Rng::stream(7, 1);
        let mut uniform = |n: usize, scale: f32| -> Vec<f32> {
            (0..n)
                .map(|_| (rng.uniform() * 2.0 - 1.0) * scale)
                .collect()
        };
        // A dense [5, 4] whose last column is tiny, and a conv [3, 2, 3, 3].
        let mut dense = uniform(20, 0.2);
        for r in 0..5 {
            dense[r * 4 + 3] = 0.01;
        }
        let mut net = Net {
            layers: vec![
                LayerParams {
                    w2: None,
                    w4: Some(param(1, uniform(54, 0.2), [3, 2, 3, 3], &dev)),
                    bias: Some(param(2, vec![5.0; 3], [3], &dev)),
                },
                LayerParams {
                    w2: Some(param(3, dense, [5, 4], &dev)),
                    w4: None,
                    bias: None,
                },
            ],
        };
        let mut optim = OptimizerConfig {
            optimizer: OptimizerKind::Sgd,
            ..OptimizerConfig::default()
        }
        .build(0, 0.0);
        for step in 0..20 {
            let conv = net.layers[0].w4.as_ref().expect("w4").val();
            let dense = net.layers[1].w2.as_ref().expect("w2").val();
            // Gradients: random, zero on the tiny column so it must come through untouched.
            let mut gd = uniform(20, 3.0);
            for r in 0..5 {
                gd[r * 4 + 3] = 0.0;
            }
            let gc = Tensor::<4>::from_data(TensorData::new(uniform(54, 3.0), [3, 2, 3, 3]), &dev);
            let gd = Tensor::<2>::from_data(TensorData::new(gd, [5, 4]), &dev);
            let loss = (conv * gc).sum() + (dense * gd).sum();
            let grads = GradientsParams::from_grads(loss.backward(), &net);
            net = c.constrain(optim.step(1.0, net, grads));
            let conv = values(net.layers[0].w4.as_ref().expect("w4").val());
            let dense = values(net.layers[1].w2.as_ref().expect("w2").val());
            for (kind, norms) in [
                ("filter", unit_norms(&conv, 3, 18, false)),
                ("column", unit_norms(&dense, 5, 4, true)),
            ] {
                for n in norms {
                    assert!(n <= limit * (1.0 + 1e-5), "step {step}: {kind} norm {n}");
                }
            }
            assert_eq!(
                unit_norms(&dense, 5, 4, true)[3],
                unit_norms(&[0.01; 20], 5, 4, true)[3],
                "step {step}: the column inside the ball moved"
            );
            assert!(
                unit_norms(&dense, 5, 4, true)[..3]
                    .iter()
                    .any(|&n| (n - limit).abs() < 1e-4),
                "step {step}: nothing reached the limit, the test proves nothing"
            );
            let bias = values(net.layers[0].bias.as_ref().expect("bias").val());
            assert_eq!(bias, vec![5.0; 3], "biases are not constrained");
        }
    }

    /// Settings that cannot run are refused, naming the key.
    #[test]
    fn bad_settings_are_refused() {
        let refused = |c: OptimizerConfig, key: &str| {
            let e = c.check().expect_err(key).to_string();
            assert!(e.contains(key), "{e}");
        };
        let sgd = OptimizerConfig {
            optimizer: OptimizerKind::Sgd,
            ..OptimizerConfig::default()
        };
        refused(
            OptimizerConfig {
                momentum: 1.0,
                ..sgd.clone()
            },
            "momentum",
        );
        refused(
            OptimizerConfig {
                momentum_start: Some(0.5),
                ..sgd.clone()
            },
            "momentum_epochs",
        );
        refused(
            OptimizerConfig {
                momentum: 0.99,
                ..OptimizerConfig::default()
            },
            "momentum",
        );
        refused(
            OptimizerConfig {
                max_norm: f32::NAN,
                ..sgd.clone()
            },
            "max_norm",
        );
        sgd_ramp().check().expect("the ramp is fine");
    }
}
