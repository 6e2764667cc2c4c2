//! Structure-aware generation: mostly valid students (so fuzzing reaches inference with real
//! shapes), with occasional deliberate corruption (so validation is exercised too).

use arbitrary::{Result, Unstructured};
use minnow_core::Student;
use minnow_core::layer::{Activation, Layer, Pool2d, Pool2dRect, Shape, window_out};
use minnow_core::reference;

use crate::{OwnedLayer, OwnedParams, OwnedStudent, WeightLayout, quantized_params};

/// A generated student, and whether the generator kept to every rule of the format (then
/// decode must accept it).
#[derive(Debug)]
pub struct Generated {
    pub student: OwnedStudent,
    pub valid: bool,
}

fn scale(u: &mut Unstructured<'_>) -> Result<f32> {
    // 2^-10 .. 2^0 in 1/8 octaves: realistic scales, multipliers far from the representable edge.
    let e: u8 = u.int_in_range(0..=80)?;
    Ok(libm_exp2(-(f32::from(e)) / 8.0))
}

fn libm_exp2(x: f32) -> f32 {
    (x * core::f32::consts::LN_2).exp()
}

fn activation(u: &mut Unstructured<'_>) -> Result<Activation> {
    Ok(Activation {
        scale: scale(u)?,
        zero_point: u.arbitrary()?,
    })
}

fn weights(u: &mut Unstructured<'_>, n: usize) -> Result<Vec<i8>> {
    let mut w = Vec::with_capacity(n);
    for _ in 0..n {
        let v: i8 = u.arbitrary()?;
        w.push(v.max(-127));
    }
    Ok(w)
}

fn params(
    u: &mut Unstructured<'_>,
    w: &[i8],
    channels: usize,
    layout: WeightLayout,
    in_act: Activation,
) -> Result<OwnedParams> {
    let mut scales = Vec::with_capacity(channels);
    let mut bias = Vec::with_capacity(channels);
    for _ in 0..channels {
        scales.push(scale(u)?);
        let b: i8 = u.arbitrary()?;
        bias.push(f32::from(b) / 32.0);
    }
    let out = activation(u)?;
    let relu = u.arbitrary()?;
    Ok(quantized_params(
        w, layout, in_act, &scales, &bias, out, relu,
    ))
}

/// [`window_out`] on a shape's dimensions (they stay small here: the result fits a `u16`).
fn out_dim(input: u16, kernel: u8, stride: u8, padding: u8) -> Option<u16> {
    window_out(input.into(), kernel.into(), stride.into(), padding.into()).map(|n| n as u16)
}

fn window(u: &mut Unstructured<'_>, s: Shape) -> Result<Option<(u8, u8, u8, u8, Shape)>> {
    let kh: u8 = u.int_in_range(1..=5)?;
    let kw: u8 = u.int_in_range(1..=5)?;
    let stride: u8 = u.int_in_range(1..=3)?;
    let padding: u8 = u.int_in_range(0..=kh.min(kw) - 1)?;
    match (
        out_dim(s.height, kh, stride, padding),
        out_dim(s.width, kw, stride, padding),
    ) {
        (Some(h), Some(w)) => Ok(Some((
            kh,
            kw,
            stride,
            padding,
            Shape::new(h, w, s.channels),
        ))),
        _ => Ok(None),
    }
}

/// Generates a student from fuzz bytes.
pub fn student(u: &mut Unstructured<'_>) -> Result<Generated> {
    let input_shape = Shape::new(
        u.int_in_range(1..=8)?,
        u.int_in_range(1..=8)?,
        u.int_in_range(1..=6)?,
    );
    let input = activation(u)?;
    let mut shape = input_shape;
    let mut act = input;
    let mut layers = Vec::new();
    let n: u8 = u.int_in_range(0..=5)?;
    for _ in 0..n {
        let kind: u8 = u.int_in_range(0..=5)?;
        match kind {
            0 => {
                let Some((kh, kw, stride, padding, out)) = window(u, shape)? else {
                    continue;
                };
                let oc: u16 = u.int_in_range(1..=6)?;
                let per = usize::from(kh) * usize::from(kw) * usize::from(shape.channels);
                let w = weights(u, usize::from(oc) * per)?;
                let p = params(u, &w, usize::from(oc), WeightLayout::ChannelMajor, act)?;
                act = p.output;
                shape = Shape::new(out.height, out.width, oc);
                layers.push(OwnedLayer::Conv2d {
                    out_channels: oc,
                    kernel_h: kh,
                    kernel_w: kw,
                    stride,
                    padding,
                    params: p,
                });
            }
            1 => {
                let Some((kh, kw, stride, padding, out)) = window(u, shape)? else {
                    continue;
                };
                let ch = usize::from(shape.channels);
                let per = usize::from(kh) * usize::from(kw);
                let w = weights(u, ch * per)?;
                let p = params(u, &w, ch, WeightLayout::ChannelMinor, act)?;
                act = p.output;
                shape = out;
                layers.push(OwnedLayer::DepthwiseConv2d {
                    kernel_h: kh,
                    kernel_w: kw,
                    stride,
                    padding,
                    params: p,
                });
            }
            2 | 3 => {
                // Square (format 1's Pool2d) or a window and stride per axis (Pool2dRect).
                let rect: bool = u.arbitrary()?;
                let kernel_h: u8 = u.int_in_range(1..=3)?;
                let stride_h: u8 = u.int_in_range(1..=3)?;
                let (kernel_w, stride_w) = if rect {
                    (u.int_in_range(1..=3)?, u.int_in_range(1..=3)?)
                } else {
                    (kernel_h, stride_h)
                };
                let (Some(h), Some(w)) = (
                    out_dim(shape.height, kernel_h, stride_h, 0),
                    out_dim(shape.width, kernel_w, stride_w, 0),
                ) else {
                    continue;
                };
                shape = Shape::new(h, w, shape.channels);
                let p = Pool2dRect {
                    kernel_h,
                    kernel_w,
                    stride_h,
                    stride_w,
                };
                let square = Pool2d {
                    kernel: kernel_h,
                    stride: stride_h,
                };
                layers.push(match (kind == 2, rect) {
                    (true, false) => OwnedLayer::MaxPool2d(square),
                    (false, false) => OwnedLayer::AvgPool2d(square),
                    (true, true) => OwnedLayer::MaxPool2dRect(p),
                    (false, true) => OwnedLayer::AvgPool2dRect(p),
                });
            }
            4 => {
                shape = Shape::flat(shape.len() as u16);
                layers.push(OwnedLayer::Flatten);
            }
            _ => {
                let out: u16 = u.int_in_range(1..=12)?;
                let per = shape.len();
                let w = weights(u, usize::from(out) * per)?;
                let p = params(u, &w, usize::from(out), WeightLayout::ChannelMajor, act)?;
                act = p.output;
                shape = Shape::flat(out);
                layers.push(OwnedLayer::Dense {
                    out_features: out,
                    params: p,
                });
            }
        }
    }
    // A classifier head, so the class count always matches (or, rarely, a flatten instead).
    let classes: u16 = if layers.is_empty() || u.ratio(7, 8)? {
        let out: u16 = u.int_in_range(1..=10)?;
        let per = shape.len();
        let w = weights(u, usize::from(out) * per)?;
        let p = params(u, &w, usize::from(out), WeightLayout::ChannelMajor, act)?;
        layers.push(OwnedLayer::Dense {
            out_features: out,
            params: p,
        });
        out
    } else {
        shape.len() as u16
    };
    let name_len: usize = u.int_in_range(0..=8)?;
    let mut student = OwnedStudent {
        // Mostly printable ASCII (the rule), sometimes any bytes (lossy UTF-8) to break it.
        name: if u.ratio(7, 8)? {
            u.bytes(name_len)?
                .iter()
                .map(|&b| char::from(0x20 + b % 95))
                .collect()
        } else {
            String::from_utf8_lossy(u.bytes(name_len)?).into_owned()
        },
        input_shape,
        classes,
        input,
        // One pair, one per channel or one per value (each a valid pair): the three counts the
        // format allows.
        normalization: {
            let pairs = match u.int_in_range(0_u8..=2)? {
                0 => 1,
                1 => usize::from(input_shape.channels),
                _ => input_shape.len(),
            };
            let mut packed = Vec::with_capacity(pairs * 8);
            for _ in 0..pairs {
                let mean = f32::from(u.int_in_range(-8_i8..=8)?) / 4.0;
                let std = f32::from(u.int_in_range(1_u8..=16)?) / 4.0;
                packed.extend(mean.to_le_bytes().into_iter().chain(std.to_le_bytes()));
            }
            packed
        },
        temperature: 1.0 + f32::from(u.int_in_range(0_u8..=8)?),
        layers,
    };
    // The format's rules a student built here can still break: a printable-ASCII name of at
    // most MAX_NAME_LEN bytes, and at least one layer that computes (not only Flatten layers).
    let mut valid = student.name.len() <= minnow_core::limits::MAX_NAME_LEN
        && student.name.bytes().all(minnow_core::limits::is_name_byte)
        && student
            .layers
            .iter()
            .any(|l| !matches!(l, OwnedLayer::Flatten));
    // Occasionally break one rule.
    if u.ratio(1, 8)? {
        valid = false;
        corrupt(u, &mut student)?;
    }
    Ok(Generated { student, valid })
}

fn corrupt(u: &mut Unstructured<'_>, s: &mut OwnedStudent) -> Result<()> {
    let i = u.choose_index(s.layers.len())?;
    let what: u8 = u.int_in_range(0..=9)?;
    let params = s.layers[i].params_mut();
    match (what, params) {
        (0, Some(p)) => p.weights.push(0),
        (1, Some(p)) => {
            p.bias.pop();
        }
        (2, Some(p)) => {
            if let Some(m) = p.multiplier.last_mut() {
                *m |= 0x80
            }
        } // negative
        (3, Some(p)) => {
            if let Some(sh) = p.shift.first_mut() {
                *sh = u.arbitrary()?
            }
        }
        (4, Some(p)) => {
            if let Some(w) = p.weights.first_mut() {
                *w = 0x80
            }
        } // -128
        (5, Some(p)) => {
            std::mem::swap(&mut p.act_min, &mut p.act_max);
            p.act_min = p.act_min.max(p.act_max.saturating_add(1));
        }
        (6, Some(p)) => p.output.scale = f32::from_bits(u.arbitrary()?),
        (7, _) => s.classes = s.classes.wrapping_add(u.int_in_range(1..=3)?),
        (8, _) => s.layers.insert(
            i,
            OwnedLayer::MaxPool2d(Pool2d {
                kernel: u.arbitrary()?,
                stride: u.arbitrary()?,
            }),
        ),
        _ => s.input_shape.channels = s.input_shape.channels.wrapping_add(1),
    }
    Ok(())
}

/// Checks every layer of a run against `minnow_core::reference`: within 1 LSB for layers with
/// weights (whose multipliers came from their scales), exact for pooling and flatten.
pub fn check_reference(s: &Student<'_>, input: &[i8], outputs: &[Vec<i8>]) {
    let mut act = s.meta().input;
    let mut x: &[i8] = input;
    for (i, layer) in s.layers().enumerate() {
        let layer = layer.expect("layer");
        let shapes = s.layer_shapes(i).expect("shapes");
        let got = &outputs[i];
        let mut want = vec![0_i8; got.len()];
        let (tol, next_act) = match &layer {
            Layer::Dense(d) => {
                reference::dense(d, act, x, &mut want);
                (1, d.params.output)
            }
            Layer::Conv2d(c) => {
                reference::conv2d(c, shapes.input, act, x, shapes.output, &mut want);
                (1, c.params.output)
            }
            Layer::DepthwiseConv2d(c) => {
                reference::depthwise_conv2d(c, shapes.input, act, x, shapes.output, &mut want);
                (1, c.params.output)
            }
            Layer::MaxPool2d(_)
            | Layer::AvgPool2d(_)
            | Layer::MaxPool2dRect(_)
            | Layer::AvgPool2dRect(_) => {
                let Some((p, is_max)) = layer.pool() else {
                    unreachable!("a pooling layer has a window")
                };
                let pool = if is_max {
                    reference::max_pool2d
                } else {
                    reference::avg_pool2d
                };
                pool(&p, shapes.input, x, shapes.output, &mut want);
                (0, act)
            }
            Layer::Flatten => {
                want.copy_from_slice(x);
                (0, act)
            }
        };
        for (j, (&g, &w)) in got.iter().zip(&want).enumerate() {
            let d = (i32::from(g) - i32::from(w)).abs();
            assert!(
                d <= tol,
                "layer {i} ({}) element {j}: kernel {g}, reference {w} (tolerance {tol})",
                layer.kind()
            );
        }
        x = got;
        act = next_act;
    }
}
