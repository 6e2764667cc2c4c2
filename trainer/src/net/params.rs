//! A network's parameters as a burn module ([`Net`]: one [`LayerParams`] per layer of its
//! spec), created with deterministic ids and values.

use burn::module::{Module, Param, ParamId};
use burn::tensor::{Device, Tensor, TensorData};

use crate::rng::Rng;

/// The parameters of one layer (all `None` for layers without weights).
#[derive(Module, Debug)]
pub struct LayerParams {
    /// Dense weight, `[in, out]` (burn's layout: `y = x W + b`).
    pub w2: Option<Param<Tensor<2>>>,
    /// Conv weight, `[out, in / groups, kh, kw]` (OIHW).
    pub w4: Option<Param<Tensor<4>>>,
    pub bias: Option<Param<Tensor<1>>>,
}

/// The burn module: one [`LayerParams`] per layer of the spec.
#[derive(Module, Debug)]
pub struct Net {
    pub layers: Vec<LayerParams>,
}

/// A parameter with a deterministic id. burn's default ids are random, and records store them,
/// so random ids would make two runs with the same seed write different bytes.
pub(crate) fn param<const D: usize>(
    id: u64,
    values: Vec<f32>,
    shape: [usize; D],
    device: &Device,
) -> Param<Tensor<D>> {
    let mut p = Param::from_tensor(Tensor::from_data(TensorData::new(values, shape), device));
    p.id = ParamId::from(id);
    p
}

pub(crate) fn uniform_vec(rng: &mut Rng, n: usize, bound: f32) -> Vec<f32> {
    (0..n)
        .map(|_| (rng.uniform() * 2.0 - 1.0) * bound)
        .collect()
}
