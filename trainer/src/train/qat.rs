//! Quantization-aware training (Jacob et al. 2018, "Quantization and Training of Neural
//! Networks for Efficient Integer-Arithmetic-Only Inference"): the training forward pass rounds
//! weights and activations to the int8 grids the exporter ([`crate::int8`]) will use, so the
//! network learns weights whose *rounded* version classifies well.
//!
//! * Weights: symmetric per output channel, `scale = max|w| / 127`, values in `[-127, 127]`, as
//!   the exporter quantizes them; the scale follows the weights on every step.
//! * Activations: the network input and every weight layer's output are rounded to the affine
//!   int8 grid of their calibrated range (`int8::calibrate::activation_grids`, as the exporter);
//!   average pooling re-rounds to its input's grid (the int8 kernel keeps its input's
//!   quantization); max pooling and flatten need nothing. Ranges are taken with the exporter's own calibration
//!   ([`calibrate_grids`]) and re-taken at the start of every epoch, so they follow the
//!   weights as they move and the export at the end calibrates to (almost) the ranges the last
//!   epoch trained under.
//! * Gradients: the straight-through estimator. Rounding passes the gradient unchanged; values
//!   outside the representable range get none (the gradient of the clamp), as in TensorFlow's
//!   `fake_quant_with_min_max_vars`.
//!
//! Biases stay float: the exporter stores them as int32 at `s_in * s_w`, far finer than the
//! activations' grid.

use crate::data::{Dataset, Standardizer};
use crate::error::{Error, Result};
use crate::int8::calibrate::{QuantizeOptions, activation_grids, calibrate};
use crate::net::fake_quant::FakeQuant;
use crate::net::model::Model;

/// Calibrates the grids of `model` (whose inputs are normalised with `norm`) on the raw
/// samples `data`, exactly as [`crate::int8::quantize::quantize_student`] does at export.
pub fn calibrate_grids(
    model: &Model,
    norm: &Standardizer,
    data: &Dataset,
    opts: &QuantizeOptions,
) -> Result<FakeQuant> {
    let student = model.to_float_student("qat", norm, 1.0)?;
    let (ranges, _) = calibrate(&student, data, opts)?;
    let mut grids = activation_grids(&student, &ranges).into_iter();
    let input = grids.next().ok_or(Error::Internal(
        "quantization-aware training: no input range",
    ))?;
    Ok(FakeQuant {
        input,
        outputs: grids.collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The quantization-aware forward pass computes what the exported int8 student computes:
    /// on a network with every exported layer kind (conv, depthwise, max and average pooling,
    /// flatten, dropout, dense), its logits stay within two output steps (measured: 1) of the device
    /// kernels' and are closer to them than the float network's are (measured:
    /// 0.36 of the float network's mean error).
    #[test]
    fn forward_on_grid_tracks_the_int8_student() {
        use crate::int8::calibrate::Calibration;
        use crate::int8::quantize::quantize_student;
        use crate::int8::quantize::tests::{random_data, run_int8};
        use crate::net::float::Act;
        use crate::net::spec::{Hw, LayerSpec, NetSpec};

        let spec = NetSpec {
            input_shape: [8, 8, 2],
            classes: 5,
            layers: vec![
                LayerSpec::Conv {
                    out: 6,
                    kernel: Hw::square(3),
                    stride: 1,
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
                    kernel: Hw::square(2),
                    stride: Hw::square(2),
                },
                // A rectangular window (the 1-D CNNs' kind): 4x4 -> 2x4.
                LayerSpec::AvgPool {
                    kernel: Hw { h: 2, w: 1 },
                    stride: Hw { h: 2, w: 1 },
                },
                LayerSpec::Flatten,
                LayerSpec::Dropout { p: 0.5 },
                LayerSpec::Dense {
                    out: 12,
                    act: Act::Relu,
                },
                LayerSpec::Dense {
                    out: 5,
                    act: Act::None,
                },
            ],
        };
        let cpu = crate::net::backend::device(Default::default()).expect("cpu device");
        let model = Model::init(spec, 3, &cpu).expect("init");
        let data = random_data(64, [8, 8, 2], 5, 11);
        let norm = Standardizer::global(0.25, 1.5);
        let opts = QuantizeOptions {
            calibration: Calibration::Percentile(99.9),
            max_calibration_samples: 64,
        };
        let quant = calibrate_grids(&model, &norm, &data, &opts).expect("calibrates");
        // Input, conv, depthwise, max, avg, flatten, dense, dense: dropout is not exported.
        assert_eq!(quant.outputs.len(), 7);

        let student = model
            .to_float_student("qat", &norm, 1.0)
            .expect("float student");
        let int8 = quantize_student(&student, &data, &opts).expect("quantizes");
        assert_eq!(int8.student.input, quant.input);
        let mut grid = int8.student.input;
        for (i, layer) in int8.student.layers.iter().enumerate() {
            if let Some(p) = layer.params() {
                grid = p.output;
            }
            assert_eq!(grid, quant.outputs[i], "layer {i}'s grid");
        }
        let blob = int8.encode().expect("encodes");
        let step = quant.outputs[6].scale;

        let x: Vec<f32> = norm.apply_all(&data.features);
        let on_grid = model
            .predict_on_grid(&x, &cpu, 16, Some(&quant))
            .expect("predict");
        let float = model.predict(&x, &cpu, 16).expect("predict");
        let (mut grid_err, mut float_err, mut worst) = (0.0f32, 0.0f32, 0.0f32);
        for s in 0..data.len() {
            let device = run_int8(&blob, data.sample(s));
            for k in 0..5 {
                let g = (on_grid[s * 5 + k] - device[k]).abs();
                grid_err += g;
                worst = worst.max(g);
                float_err += (float[s * 5 + k] - device[k]).abs();
            }
        }
        // Two steps, measured in f32 (a difference of exactly two steps reads 2.0000005).
        assert!(
            worst <= 2.0 * step * (1.0 + 1e-5),
            "on-grid logits differ from the device's by up to {} steps",
            worst / step
        );
        assert!(
            grid_err < 0.5 * float_err,
            "mean |on-grid - int8| {} vs |float - int8| {}",
            grid_err / 320.0,
            float_err / 320.0
        );
    }
}
