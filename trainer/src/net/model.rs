//! A network's burn parameters ([`Net`]) with the spec that says what they mean ([`Model`]):
//! initialisation, inference in batches, and the burnpack record that teacher.bpk,
//! student.bpk and checkpoints hold.
//!
//! Parameters are NCHW/OIHW inside burn; [`crate::net::convert`] turns them into minnow's
//! layouts.

use burn::module::Module;
use burn::tensor::{Device, Tensor, TensorData};

use crate::error::{Error, Result};
use crate::net::fake_quant::FakeQuant;
use crate::net::float::Act;
use crate::net::forward::forward_net;
use crate::net::params::{LayerParams, Net, param, uniform_vec};
use crate::net::spec::{LayerShape, LayerSpec, NetSpec};
use crate::rng::Rng;

/// A spec and its parameters.
#[derive(Debug, Clone)]
pub struct Model {
    pub spec: NetSpec,
    pub net: Net,
}

impl Model {
    /// Fresh parameters from `seed` (He-uniform weights for ReLU layers, LeCun-uniform for the
    /// output layer, zero biases), on `device`.
    pub fn init(spec: NetSpec, seed: u64, device: &Device) -> Result<Model> {
        let shapes = spec.shapes()?;
        let mut rng = Rng::stream(seed, 0x1417);
        let mut prev = LayerShape::Spatial(spec.input_shape);
        let mut layers = Vec::with_capacity(spec.layers.len());
        for (i, (l, s)) in spec.layers.iter().zip(&shapes).enumerate() {
            // Ids 2i+1 (weights) and 2i+2 (bias) of layer i.
            let (wid, bid) = (2 * i as u64 + 1, 2 * i as u64 + 2);
            let gain = |act: Act| if act == Act::None { 3.0f32 } else { 6.0 };
            let lp = match (*l, prev) {
                (LayerSpec::Dense { out, act }, LayerShape::Flat(inp)) => {
                    let bound = (gain(act) / inp as f32).sqrt();
                    LayerParams {
                        w2: Some(param(
                            wid,
                            uniform_vec(&mut rng, inp * out, bound),
                            [inp, out],
                            device,
                        )),
                        w4: None,
                        bias: Some(param(bid, vec![0.0; out], [out], device)),
                    }
                }
                (
                    LayerSpec::Conv {
                        out, kernel, act, ..
                    },
                    LayerShape::Spatial([_, _, c]),
                ) => {
                    let fan_in = c * kernel.area();
                    let bound = (gain(act) / fan_in as f32).sqrt();
                    LayerParams {
                        w2: None,
                        w4: Some(param(
                            wid,
                            uniform_vec(&mut rng, out * fan_in, bound),
                            [out, c, kernel.h, kernel.w],
                            device,
                        )),
                        bias: Some(param(bid, vec![0.0; out], [out], device)),
                    }
                }
                (LayerSpec::Depthwise { kernel, act, .. }, LayerShape::Spatial([_, _, c])) => {
                    let bound = (gain(act) / (kernel * kernel) as f32).sqrt();
                    LayerParams {
                        w2: None,
                        w4: Some(param(
                            wid,
                            uniform_vec(&mut rng, c * kernel * kernel, bound),
                            [c, 1, kernel, kernel],
                            device,
                        )),
                        bias: Some(param(bid, vec![0.0; c], [c], device)),
                    }
                }
                _ => LayerParams {
                    w2: None,
                    w4: None,
                    bias: None,
                },
            };
            layers.push(lp);
            prev = *s;
        }
        Ok(Model {
            spec,
            net: Net { layers },
        })
    }

    /// Logits `[batch, classes]` for a batch of normalised NHWC inputs `[batch, h, w, c]`.
    /// `dropout`: the RNG for dropout masks while training; `None` at inference.
    pub fn forward(&self, x: Tensor<4>, dropout: Option<&mut Rng>) -> Tensor<2> {
        forward_net(&self.spec, &self.net, x, dropout, None)
    }

    /// Logits for raw rows of normalised NHWC features (`n * h * w * c` values), in batches.
    pub fn predict(&self, features: &[f32], device: &Device, batch: usize) -> Result<Vec<f32>> {
        self.predict_on_grid(features, device, batch, None)
    }

    /// [`Model::predict`], computed on the int8 grids of `quant` when given (what the exported
    /// student would compute, up to rounding ties and the int32 bias).
    pub fn predict_on_grid(
        &self,
        features: &[f32],
        device: &Device,
        batch: usize,
        quant: Option<&FakeQuant>,
    ) -> Result<Vec<f32>> {
        let net = self.net.valid();
        let device = device.clone().without_autodiff();
        let device = &device;
        let dim: usize = self.spec.input_shape.iter().product();
        let [h, w, c] = self.spec.input_shape;
        let n = features.len() / dim;
        let mut out = Vec::with_capacity(n * self.spec.classes);
        for start in (0..n).step_by(batch.max(1)) {
            let end = (start + batch.max(1)).min(n);
            let x = Tensor::<4>::from_data(
                TensorData::new(
                    features[start * dim..end * dim].to_vec(),
                    [end - start, h, w, c],
                ),
                device,
            );
            let y = forward_net(&self.spec, &net, x, None, quant);
            out.extend(y.into_data().try_into_vec::<f32>()?);
        }
        Ok(out)
    }

    /// The parameters as burnpack bytes (a burn [`burn::store::ModuleRecord`]).
    pub fn record_bytes(&self) -> Result<Vec<u8>> {
        let bytes = self.net.clone().into_record().into_bytes()?;
        Ok(bytes.to_vec())
    }

    /// A model of `spec` with the parameters of [`Model::record_bytes`].
    pub fn from_record_bytes(spec: NetSpec, bytes: &[u8], device: &Device) -> Result<Model> {
        let fresh = Model::init(spec, 0, device)?;
        let record = burn::store::ModuleRecord::from_bytes(burn::tensor::Bytes::from_bytes_vec(
            bytes.to_vec(),
        ))?;
        let net = fresh.net.try_load_record(record)?;
        Ok(Model {
            spec: fresh.spec,
            net,
        })
    }

    /// Adds `amount` to the output-layer bias of each class in `classes` (Hinton et al.'s
    /// correction for classes missing from the transfer set).
    pub fn raise_output_bias(&mut self, classes: &[usize], amount: f32) -> Result<()> {
        let last = self
            .net
            .layers
            .iter_mut()
            .rev()
            .find(|l| l.w2.is_some() || l.w4.is_some())
            .ok_or(Error::Internal("the network has no layer with weights"))?;
        let b = last
            .bias
            .take()
            .ok_or(Error::Internal("the output layer has no bias"))?;
        let mut v = b.val().into_data().try_into_vec::<f32>()?;
        for &c in classes {
            if let Some(x) = v.get_mut(c) {
                *x += amount;
            } else {
                return Err(Error::Config(format!(
                    "missing class {c} is not < {} classes",
                    v.len()
                )));
            }
        }
        let n = v.len();
        last.bias = Some(b.map(|t| {
            let grad = t.is_require_grad();
            let t = Tensor::from_data(TensorData::new(v, [n]), &t.device());
            if grad { t.require_grad() } else { t }
        }));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::backend;
    use crate::net::spec::{Arch, NetConfig};

    /// Input dropout is the spec's first layer, and its gradient with respect to the input is
    /// the inverted-dropout mask: each value's is 0 (dropped) or the weight times
    /// `1 / (1 - p)` (kept), with about `p` of them dropped. At inference it is the identity.
    #[test]
    fn input_dropout_masks_the_inputs_and_their_gradient() {
        let dev = backend::test_autodiff_device();
        let p = 0.2f32;
        let cfg = NetConfig {
            input_dropout: p,
            ..NetConfig::plain(Arch::Mlp, &[], &[], false)
        };
        let spec = NetSpec::build(&cfg, [8, 8, 1], 1).expect("spec");
        assert_eq!(spec.layers[0], LayerSpec::Dropout { p });
        assert!(
            !NetSpec::build(&NetConfig::plain(Arch::Mlp, &[], &[], false), [8, 8, 1], 1)
                .expect("spec")
                .layers
                .iter()
                .any(|l| matches!(l, LayerSpec::Dropout { .. })),
            "no input dropout unless asked"
        );
        let m = Model::init(spec, 3, &dev).expect("init");
        let n = 16 * 64;
        let x = Tensor::<4>::from_data(TensorData::new(vec![1.0f32; n], [16, 8, 8, 1]), &dev)
            .require_grad();
        let mut rng = Rng::stream(1, 2);
        let y = m.forward(x.clone(), Some(&mut rng));
        let grad = x.grad(&y.sum().backward()).expect("gradient");
        let grad = grad.into_data().try_to_vec::<f32>().expect("f32");
        let w = m.net.layers[2].w2.as_ref().expect("dense").val();
        let w = w.into_data().try_to_vec::<f32>().expect("f32");
        let mut dropped = 0;
        for (i, g) in grad.iter().enumerate() {
            let kept = w[i % 64] / (1.0 - p);
            if *g == 0.0 {
                dropped += 1;
            } else {
                assert!((g - kept).abs() < 1e-5, "value {i}: {g} against {kept}");
            }
        }
        let share = dropped as f32 / n as f32;
        assert!((share - p).abs() < 0.04, "{share} of the inputs dropped");
        let clean = Tensor::<4>::from_data(TensorData::new(vec![1.0f32; 64], [1, 8, 8, 1]), &dev);
        let plain = clean
            .clone()
            .flatten::<2>(1, 3)
            .matmul(m.net.layers[2].w2.as_ref().expect("dense").val());
        let at_inference =
            m.forward(clean, None) - m.net.layers[2].bias.as_ref().expect("b").val().unsqueeze();
        let diff = (at_inference - plain).abs().max().into_scalar::<f32>();
        assert!(diff < 1e-5, "inference differs by {diff}");
    }

    #[test]
    fn record_round_trip_and_bias_raise() {
        let dev = backend::device(Default::default()).expect("cpu device");
        let spec = NetSpec::build(
            &NetConfig::plain(Arch::Cnn, &[8], &[4], false),
            [8, 8, 1],
            10,
        )
        .expect("spec");
        let mut m = Model::init(spec.clone(), 9, &dev).expect("init");
        let bytes = m.record_bytes().expect("bytes");
        let back = Model::from_record_bytes(spec.clone(), &bytes, &dev).expect("load");
        let x: Vec<f32> = (0..64 * 2).map(|i| (i % 7) as f32 * 0.3).collect();
        assert_eq!(
            m.predict(&x, &dev, 2).expect("predict"),
            back.predict(&x, &dev, 2).expect("predict")
        );
        let before = m.predict(&x, &dev, 2).expect("predict");
        m.raise_output_bias(&[3], 2.5).expect("raise");
        let after = m.predict(&x, &dev, 2).expect("predict");
        for (i, (a, b)) in before.iter().zip(&after).enumerate() {
            let want = if i % 10 == 3 { b - 2.5 } else { *b };
            assert!((a - want).abs() < 1e-5);
        }
        // A record of another architecture is refused.
        let other = NetSpec::build(
            &NetConfig::plain(Arch::Mlp, &[8], &[], false),
            [8, 8, 1],
            10,
        )
        .expect("spec");
        assert!(Model::from_record_bytes(other, &bytes, &dev).is_err());
        // Bad specs are refused with a message.
        let bad = NetSpec {
            input_shape: [8, 8, 1],
            classes: 10,
            layers: vec![LayerSpec::Dense {
                out: 10,
                act: Act::None,
            }],
        };
        assert!(Model::init(bad, 0, &dev).is_err());
    }
}
