//! A trained [`Model`] in minnow's float format ([`FloatStudent`]): NHWC activations, OHWI
//! conv weights, dense inputs in NHWC flatten order (burn works in NCHW). The hand-over from
//! training to quantization.

use burn::module::Param;
use burn::tensor::Tensor;

use crate::data::Standardizer;
use crate::error::{Error, Result};
use crate::net::float::{FloatLayer, FloatStudent};
use crate::net::model::Model;
use crate::net::spec::{LayerShape, LayerSpec};

/// A parameter's values (none for a layer without it).
fn values<const D: usize>(p: &Option<Param<Tensor<D>>>) -> Result<Vec<f32>> {
    match p {
        Some(p) => Ok(p.val().into_data().try_into_vec::<f32>()?),
        None => Ok(Vec::new()),
    }
}

impl Model {
    /// NHWC flatten order); dropout layers are left out.
    pub fn to_float_student(
        &self,
        name: &str,
        normalization: &Standardizer,
        temperature: f32,
    ) -> Result<FloatStudent> {
        let shapes = self.spec.shapes()?;
        let mut layers = Vec::new();
        let mut prev = LayerShape::Spatial(self.spec.input_shape);
        // The NHWC shape that the most recent flatten flattened (for permuting dense columns).
        let mut flattened: Option<[usize; 3]> = None;
        for ((l, s), p) in self.spec.layers.iter().zip(&shapes).zip(&self.net.layers) {
            match (*l, prev) {
                (LayerSpec::Dense { out, act }, LayerShape::Flat(inp)) => {
                    let w = values(&p.w2)?; // [inp][out], inp in burn's (CHW) order
                    let mut weight = vec![0.0f32; inp * out];
                    for o in 0..out {
                        for j in 0..inp {
                            // j indexes minnow's input (HWC order); find burn's index.
                            let src = match flattened {
                                Some([h, w_, c]) => (j % c) * (h * w_) + j / c,
                                None => j,
                            };
                            weight[o * inp + j] = w[src * out + o];
                        }
                    }
                    layers.push(FloatLayer::Dense {
                        in_features: inp,
                        out_features: out,
                        weight,
                        bias: values(&p.bias)?,
                        act,
                    });
                    flattened = None;
                }
                (
                    LayerSpec::Conv {
                        out,
                        kernel,
                        stride,
                        padding,
                        act,
                    },
                    LayerShape::Spatial([_, _, c]),
                ) => {
                    let w = values(&p.w4)?; // [out][c][kh][kw]
                    let (kh, kw) = (kernel.h, kernel.w);
                    let mut weight = vec![0.0f32; w.len()];
                    for o in 0..out {
                        for ci in 0..c {
                            for ky in 0..kh {
                                for kx in 0..kw {
                                    weight[((o * kh + ky) * kw + kx) * c + ci] =
                                        w[((o * c + ci) * kh + ky) * kw + kx];
                                }
                            }
                        }
                    }
                    layers.push(FloatLayer::Conv2d {
                        in_channels: c,
                        out_channels: out,
                        kernel: [kh, kw],
                        stride,
                        padding,
                        weight,
                        bias: values(&p.bias)?,
                        act,
                    });
                }
                (
                    LayerSpec::Depthwise {
                        kernel,
                        stride,
                        padding,
                        act,
                    },
                    LayerShape::Spatial([_, _, c]),
                ) => {
                    let w = values(&p.w4)?; // [c][1][kh][kw]
                    let mut weight = vec![0.0f32; w.len()];
                    for ci in 0..c {
                        for k in 0..kernel * kernel {
                            weight[k * c + ci] = w[ci * kernel * kernel + k];
                        }
                    }
                    layers.push(FloatLayer::DepthwiseConv2d {
                        channels: c,
                        kernel: [kernel, kernel],
                        stride,
                        padding,
                        weight,
                        bias: values(&p.bias)?,
                        act,
                    });
                }
                (LayerSpec::MaxPool { kernel, stride }, _) => {
                    layers.push(FloatLayer::MaxPool2d { kernel, stride })
                }
                (LayerSpec::AvgPool { kernel, stride }, _) => {
                    layers.push(FloatLayer::AvgPool2d { kernel, stride })
                }
                (LayerSpec::Flatten, LayerShape::Spatial(shape)) => {
                    layers.push(FloatLayer::Flatten);
                    if shape[0] * shape[1] > 1 && shape[2] > 1 {
                        flattened = Some(shape);
                    }
                }
                (LayerSpec::Flatten, LayerShape::Flat(_)) | (LayerSpec::Dropout { .. }, _) => {}
                _ => {
                    return Err(Error::Internal(
                        "a layer of the spec that its shapes rule out",
                    ));
                }
            }
            prev = *s;
        }
        Ok(FloatStudent {
            name: name.to_owned(),
            input_shape: self.spec.input_shape,
            classes: self.spec.classes,
            norm_mean: normalization.mean.clone(),
            norm_std: normalization.std.clone(),
            temperature,
            class_names: Vec::new(),
            layers,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::backend;
    use crate::net::float::Act;
    use crate::net::spec::{Arch, Hw, NetConfig, NetSpec};
    use crate::rng::Rng;
    use burn::tensor::TensorData;

    /// `FloatStudent::forward` of the converted model equals burn's forward within 1e-4 on random
    /// inputs: checks every weight permutation (OIHW→OHWI, depthwise, CHW→HWC dense columns).
    fn check_conversion(spec: NetSpec, seed: u64) {
        let dev = backend::device(Default::default()).expect("cpu device");
        let mut model = Model::init(spec.clone(), seed, &dev).expect("init");
        // Non-zero biases so that their layout is checked too.
        for (i, l) in model.net.layers.iter_mut().enumerate() {
            if let Some(b) = l.bias.take() {
                let n = b.val().dims()[0];
                let v: Vec<f32> = (0..n)
                    .map(|j| ((i * 31 + j * 7) % 11) as f32 * 0.05 - 0.2)
                    .collect();
                l.bias = Some(b.map(|t| Tensor::from_data(TensorData::new(v, [n]), &t.device())));
            }
        }
        let fs = model
            .to_float_student("t", &Standardizer::global(0.0, 1.0), 1.0)
            .expect("convert");
        let [h, w, c] = spec.input_shape;
        let dim = h * w * c;
        let mut rng = Rng::new(seed + 1);
        let n = 5;
        let x: Vec<f32> = (0..n * dim).map(|_| rng.uniform() * 4.0 - 2.0).collect();
        let burn_out = model.predict(&x, &dev, 3).expect("predict");
        for s in 0..n {
            let f = fs.forward(&x[s * dim..(s + 1) * dim]);
            assert_eq!(f.len(), spec.classes);
            for k in 0..spec.classes {
                let b = burn_out[s * spec.classes + k];
                assert!(
                    (f[k] - b).abs() < 1e-4,
                    "sample {s} class {k}: float {} vs burn {b}",
                    f[k]
                );
            }
        }
        assert_eq!(fs.parameters(), spec.parameter_count());
    }

    #[test]
    fn float_student_matches_burn_mlp() {
        let spec = NetSpec::build(
            &NetConfig::plain(Arch::Mlp, &[16, 12], &[], false),
            [8, 8, 1],
            10,
        )
        .expect("spec");
        check_conversion(spec, 1);
        // Multi-channel input through a flatten: CHW vs HWC matters.
        let spec = NetSpec::build(&NetConfig::plain(Arch::Mlp, &[9], &[], true), [3, 4, 2], 5)
            .expect("spec");
        check_conversion(spec, 2);
    }

    #[test]
    fn float_student_matches_burn_cnn() {
        let spec = NetSpec::build(
            &NetConfig::plain(Arch::Cnn, &[12], &[4, 6], false),
            [8, 8, 1],
            10,
        )
        .expect("spec");
        check_conversion(spec, 3);
        let spec = NetSpec::build(
            &NetConfig::plain(Arch::Dwcnn, &[], &[4, 8, 8], false),
            [8, 8, 2],
            10,
        )
        .expect("spec");
        check_conversion(spec, 4);
        // A 1-D CNN: 5x1 kernels and 2x1 pooling over 24 steps of 3 channels.
        let spec = NetSpec::build(
            &NetConfig::plain(Arch::Cnn1d, &[6], &[4, 5], false),
            [24, 1, 3],
            6,
        )
        .expect("spec");
        assert!(spec.layers.contains(&LayerSpec::MaxPool {
            kernel: Hw { h: 2, w: 1 },
            stride: Hw { h: 2, w: 1 },
        }));
        check_conversion(spec, 6);
        // Strided conv with padding, max pool with stride != kernel, then dense on a 2x2x3 map.
        let spec = NetSpec {
            input_shape: [9, 9, 2],
            classes: 4,
            layers: vec![
                LayerSpec::Conv {
                    out: 3,
                    kernel: Hw::square(3),
                    stride: 2,
                    padding: 1,
                    act: Act::Relu,
                },
                LayerSpec::Depthwise {
                    kernel: 3,
                    stride: 1,
                    padding: 1,
                    act: Act::Relu6,
                },
                LayerSpec::MaxPool {
                    kernel: Hw::square(3),
                    stride: Hw::square(2),
                },
                LayerSpec::Flatten,
                LayerSpec::Dense {
                    out: 4,
                    act: Act::None,
                },
            ],
        };
        check_conversion(spec, 5);
    }
}
