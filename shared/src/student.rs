//! A decoded student: metadata, validated layers, and inference into caller-supplied buffers.

use crate::Error;
use crate::error::len32;
use crate::header;
use crate::kernels;
use crate::layer::{Activation, Layer, Params, Shape, ops, out_dim};
use crate::limits;
use crate::meta::{Meta, NORMALIZATION_PAIR_LEN, Normalization};
use crate::quant::{self, MAX_SHIFT, MIN_SHIFT};
use crate::softmax::argmax_i8;
use crate::wire::Reader;

/// The magic of a student blob.
pub const STUDENT_MAGIC: [u8; 4] = *b"MNST";

/// Footprint of a student, computed once at decode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Footprint {
    /// Bytes of all parameter arrays (weights, scales, biases, multipliers, shifts).
    pub weight_bytes: u32,
    /// Bytes of RAM one inference needs besides the input and the logits: see [`Student::scratch_len`].
    pub scratch_bytes: u32,
    /// Multiply-accumulates per inference.
    pub macs: u32,
}

/// A validated student borrowing its blob.
#[derive(Debug, Clone, Copy)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Student<'a> {
    meta: Meta<'a>,
    /// The postcard-encoded layers (after the count), decoded lazily: no allocation, no RAM per layer.
    layers: &'a [u8],
    layer_count: u16,
    /// Lengths of the two ping-pong halves of the scratch buffer.
    halves: [u32; 2],
    /// The last layer that computes (not a Flatten): it writes straight into the logits.
    output_layer: u16,
    footprint: Footprint,
}

/// The input and output shape of one layer, as resolved by validation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct LayerShapes {
    pub input: Shape,
    pub output: Shape,
}

/// Iterates a student's layers. Yields `Err` only for blobs that bypassed validation, or for
/// a kind outside `OPS` (see [`crate::layer::ops`]; [`Student::layers`] reads every kind).
#[derive(Debug, Clone)]
pub struct Layers<'a, const OPS: u8 = { ops::ALL }> {
    rest: &'a [u8],
    index: u16,
    count: u16,
}

impl<'a, const OPS: u8> Iterator for Layers<'a, OPS> {
    type Item = Result<Layer<'a>, Error>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.index >= self.count {
            return None;
        }
        let index = self.index;
        self.index += 1;
        let mut reader = Reader::new(self.rest);
        let layer = Layer::read::<OPS>(&mut reader);
        let item = match reader.check(layer) {
            Ok(Some(layer)) => Ok(layer),
            Ok(None) => Err(Error::UnsupportedOp { layer: index }),
            Err(e) => Err(e),
        };
        self.rest = reader.rest();
        if item.is_err() {
            self.index = self.count;
        }
        Some(item)
    }
}

fn checked_dim(n: usize, layer: u16) -> Result<u16, Error> {
    match u16::try_from(n) {
        Ok(v) if v > 0 && v <= limits::MAX_DIM => Ok(v),
        _ => Err(Error::DimensionOutOfRange { layer }),
    }
}

fn check_shape(s: Shape, layer: u16) -> Result<Shape, Error> {
    for d in [s.height, s.width, s.channels] {
        checked_dim(usize::from(d), layer)?;
    }
    if s.len() > limits::MAX_TENSOR {
        return Err(Error::DimensionOutOfRange { layer });
    }
    Ok(s)
}

fn check_scale(scale: f32, layer: u16) -> Result<(), Error> {
    if scale.is_finite() && scale > 0.0 {
        Ok(())
    } else {
        Err(Error::InvalidQuantization { layer })
    }
}

/// An input normalisation is whole pairs, one, one per channel or one per value, each a finite
/// mean and a finite std > 0. (Called after the input shape is checked.)
fn check_normalization(norm: Normalization<'_>, shape: Shape) -> Result<(), Error> {
    let pairs = norm.pairs();
    let whole = norm.params.len().is_multiple_of(NORMALIZATION_PAIR_LEN);
    if !whole || !(pairs == 1 || pairs == usize::from(shape.channels) || pairs == shape.len()) {
        return Err(Error::InvalidNormalization);
    }
    for k in 0..pairs {
        match norm.pair(k) {
            Some((mean, std)) if mean.is_finite() && std.is_finite() && std > 0.0 => {}
            _ => return Err(Error::NonFinite),
        }
    }
    Ok(())
}

/// Checks the parameter arrays of a layer with `channels` outputs and `per_channel` weights each.
fn check_params(
    p: &Params<'_>,
    channels: usize,
    per_channel: usize,
    layer: u16,
) -> Result<(), Error> {
    if per_channel > limits::MAX_REDUCTION {
        return Err(Error::DimensionOutOfRange { layer });
    }
    let weights = channels.checked_mul(per_channel).ok_or(Error::Overflow)?;
    let four = channels.checked_mul(4).ok_or(Error::Overflow)?;
    if p.weights.len() != weights
        || p.weight_scales.len() != four
        || p.bias.len() != four
        || p.multiplier.len() != four
        || p.shift.len() != channels
    {
        return Err(Error::LengthMismatch { layer });
    }
    check_scale(p.output.scale, layer)?;
    for c in 0..channels {
        let ok = p.multiplier_at(c) >= 0
            && (MIN_SHIFT..=MAX_SHIFT).contains(&p.shift_at(c))
            && p.weight_scale_at(c).is_finite()
            && p.weight_scale_at(c) > 0.0;
        if !ok {
            return Err(Error::InvalidQuantization { layer });
        }
    }
    // A loop, not `contains`: that calls memchr, 400 bytes of flash on the device.
    #[allow(clippy::manual_contains)]
    if p.weights.iter().any(|&b| b == i8::MIN as u8) {
        // Symmetric weights live in [-127, 127]; -128 would break the SIMD path's assumptions
        // elsewhere and signals an exporter bug.
        return Err(Error::InvalidQuantization { layer });
    }
    if p.act_min > p.act_max {
        return Err(Error::InvalidActivationRange { layer });
    }
    Ok(())
}

fn check_window(
    kernel_h: u8,
    kernel_w: u8,
    stride: u8,
    padding: u8,
    layer: u16,
) -> Result<(), Error> {
    let bad = kernel_h == 0
        || kernel_w == 0
        || kernel_h > limits::MAX_KERNEL
        || kernel_w > limits::MAX_KERNEL
        || stride == 0
        || stride > limits::MAX_STRIDE
        || padding >= kernel_h
        || padding >= kernel_w;
    if bad {
        Err(Error::DimensionOutOfRange { layer })
    } else {
        Ok(())
    }
}

/// Resolves one layer's output shape, output quantization and MACs. With `validate`, also checks
/// every parameter (done once at decode; inference skips the O(weights) scan). Kinds outside
/// `OPS` are [`Error::UnsupportedOp`], and their checks are not compiled in. Not inlined: decode
/// and run share one copy (flash matters more than a call per layer).
#[inline(never)]
fn resolve<const OPS: u8>(
    layer: &Layer<'_>,
    input: Shape,
    in_act: Activation,
    index: u16,
    validate: bool,
) -> Result<(Shape, Activation, u64), Error> {
    let check_params = |p: &Params<'_>, channels: usize, per_channel: usize, layer: u16| {
        if validate {
            check_params(p, channels, per_channel, layer)
        } else {
            Ok(())
        }
    };
    let window = |kh: u8, kw: u8, stride: u8, pad: u8, c: u16| -> Result<Shape, Error> {
        let h =
            out_dim(input.height, kh, stride, pad).ok_or(Error::ShapeMismatch { layer: index })?;
        let w =
            out_dim(input.width, kw, stride, pad).ok_or(Error::ShapeMismatch { layer: index })?;
        check_shape(Shape::new(h, w, c), index)
    };
    match layer {
        Layer::Dense(d) if OPS & ops::DENSE != 0 => {
            let n = input.len();
            let out = checked_dim(usize::from(d.out_features), index)?;
            check_params(&d.params, usize::from(out), n, index)?;
            Ok((Shape::flat(out), d.params.output, n as u64 * u64::from(out)))
        }
        Layer::Conv2d(c) if OPS & ops::CONV2D != 0 => {
            check_window(c.kernel_h, c.kernel_w, c.stride, c.padding, index)?;
            let oc = checked_dim(usize::from(c.out_channels), index)?;
            let out = window(c.kernel_h, c.kernel_w, c.stride, c.padding, oc)?;
            let per =
                usize::from(c.kernel_h) * usize::from(c.kernel_w) * usize::from(input.channels);
            check_params(&c.params, usize::from(oc), per, index)?;
            Ok((out, c.params.output, out.len() as u64 * per as u64))
        }
        Layer::DepthwiseConv2d(c) if OPS & ops::DEPTHWISE_CONV2D != 0 => {
            check_window(c.kernel_h, c.kernel_w, c.stride, c.padding, index)?;
            let out = window(c.kernel_h, c.kernel_w, c.stride, c.padding, input.channels)?;
            let per = usize::from(c.kernel_h) * usize::from(c.kernel_w);
            check_params(&c.params, usize::from(input.channels), per, index)?;
            Ok((out, c.params.output, out.len() as u64 * per as u64))
        }
        Layer::MaxPool2d(_)
        | Layer::AvgPool2d(_)
        | Layer::MaxPool2dRect(_)
        | Layer::AvgPool2dRect(_)
            if OPS & layer.op() & (ops::MAX_POOL2D | ops::AVG_POOL2D) != 0 =>
        {
            let Some((p, _)) = layer.pool() else {
                return Err(Error::UnsupportedOp { layer: index });
            };
            let kernel_ok = |k: u8| (1..=limits::MAX_KERNEL).contains(&k);
            let stride_ok = |s: u8| (1..=limits::MAX_STRIDE).contains(&s);
            if !(kernel_ok(p.kernel_h)
                && kernel_ok(p.kernel_w)
                && stride_ok(p.stride_h)
                && stride_ok(p.stride_w))
            {
                return Err(Error::DimensionOutOfRange { layer: index });
            }
            let mismatch = Error::ShapeMismatch { layer: index };
            let h = out_dim(input.height, p.kernel_h, p.stride_h, 0).ok_or(mismatch)?;
            let w = out_dim(input.width, p.kernel_w, p.stride_w, 0).ok_or(mismatch)?;
            Ok((
                check_shape(Shape::new(h, w, input.channels), index)?,
                in_act,
                0,
            ))
        }
        Layer::Flatten if OPS & ops::FLATTEN != 0 => {
            let n = checked_dim(input.len(), index)?;
            Ok((Shape::flat(n), in_act, 0))
        }
        _ => Err(Error::UnsupportedOp { layer: index }),
    }
}

impl<'a> Student<'a> {
    /// Decodes and validates a student blob, borrowing it: weights stay where the blob is.
    ///
    /// Every check inference relies on happens here (shapes chain, array lengths, quantization
    /// parameters, limits), so [`Student::run`] cannot fail on a decoded student except for
    /// wrongly sized caller buffers.
    pub fn decode(blob: &'a [u8]) -> Result<Self, Error> {
        Self::decode_ops::<{ ops::ALL }>(blob)
    }

    /// [`Student::decode`] for code that runs only the layer kinds in `OPS` (an [`ops`] set):
    /// a student with any other kind is [`Error::UnsupportedOp`], and the checks of the kinds
    /// left out are not linked in. Pair it with [`Student::run_ops`] and the same set.
    pub fn decode_ops<const OPS: u8>(blob: &'a [u8]) -> Result<Self, Error> {
        let (body, version) = header::open(blob, &STUDENT_MAGIC)?;
        let mut reader = Reader::new(body);
        let meta = Meta::read(&mut reader, version);
        let count = reader.u32();
        let (meta, count) = reader.check((meta, count))?;
        let layers = reader.rest();
        if meta.name.len() > limits::MAX_NAME_LEN {
            return Err(Error::NameTooLong {
                len: len32(meta.name.len()),
            });
        }
        if count == 0 {
            return Err(Error::NoLayers);
        }
        if count > limits::MAX_LAYERS {
            return Err(Error::TooManyLayers { count });
        }
        let layer_count = u16::try_from(count).map_err(|_| Error::TooManyLayers { count })?;
        check_shape(meta.input_shape, 0).map_err(|_| Error::InvalidInputShape)?;
        check_scale(meta.input.scale, 0).map_err(|_| Error::InvalidInputScale)?;
        check_normalization(meta.normalization, meta.input_shape)?;
        if !(meta.temperature.is_finite() && meta.temperature > 0.0) {
            return Err(Error::InvalidTemperature);
        }

        // Built into locals and assembled at the end (zero-initialising the struct up front
        // costs a memset call on the device).
        let mut halves = [0_u32; 2];
        let mut patch = 0_u32;
        // The last computing layer writes into the caller's logits, not into a half.
        let mut output: Option<(u16, usize, u32)> = None; // (layer, parity, length)
        let mut shape = meta.input_shape;
        let mut act = meta.input;
        let mut macs: u64 = 0;
        let mut weight_bytes: u64 = 0;
        let mut parity = 0_usize; // which half the next layer writes
        // Reads the layers itself rather than through `Layers` (the same two steps): going through
        // the iterator's Option<Result<Layer>> brings memcpy back on the device (+296 bytes of
        // runtime on the M4, over its 4 KB budget; measured).
        for index in 0..layer_count {
            let layer = Layer::read::<OPS>(&mut reader);
            let layer = reader
                .check(layer)?
                .ok_or(Error::UnsupportedOp { layer: index })?;
            let (out, out_act, layer_macs) = resolve::<OPS>(&layer, shape, act, index, true)?;
            macs = macs.saturating_add(layer_macs);
            weight_bytes =
                weight_bytes.saturating_add(layer.params().map_or(0, |p| p.byte_len() as u64));
            if let Layer::Conv2d(c) = &layer {
                patch = patch.max(len32(kernels::conv2d_patch_len(c, shape)));
            }
            if !matches!(layer, Layer::Flatten) {
                if let Some((_, p, len)) = output {
                    halves[p] = halves[p].max(len);
                }
                output = Some((index, parity, len32(out.len())));
                parity ^= 1;
            }
            shape = out;
            act = out_act;
        }
        if !reader.rest().is_empty() {
            return Err(Error::TrailingBytes {
                extra: len32(reader.rest().len()),
            });
        }
        if shape.len() != usize::from(meta.classes) {
            return Err(Error::ClassCountMismatch {
                produced: len32(shape.len()),
                classes: meta.classes,
            });
        }
        let Some((output_layer, _, _)) = output else {
            return Err(Error::NoLayers); // only Flatten layers: nothing computes the logits
        };
        let scratch = u64::from(halves[0]) + u64::from(halves[1]) + u64::from(patch);
        Ok(Student {
            meta,
            layers,
            layer_count,
            halves,
            output_layer,
            footprint: Footprint {
                weight_bytes: u32::try_from(weight_bytes).map_err(|_| Error::Overflow)?,
                scratch_bytes: u32::try_from(scratch).map_err(|_| Error::Overflow)?,
                macs: u32::try_from(macs).map_err(|_| Error::Overflow)?,
            },
        })
    }

    /// The metadata.
    pub fn meta(&self) -> &Meta<'a> {
        &self.meta
    }

    /// The layers, decoded one at a time.
    pub fn layers(&self) -> Layers<'a> {
        self.layers_ops::<{ ops::ALL }>()
    }

    fn layers_ops<const OPS: u8>(&self) -> Layers<'a, OPS> {
        Layers {
            rest: self.layers,
            index: 0,
            count: self.layer_count,
        }
    }

    /// Number of layers.
    pub fn layer_count(&self) -> usize {
        usize::from(self.layer_count)
    }

    /// Elements of one input sample.
    pub fn input_len(&self) -> usize {
        self.meta.input_shape.len()
    }

    /// Number of classes (length of the logits).
    pub fn classes(&self) -> usize {
        usize::from(self.meta.classes)
    }

    /// Exact length of the scratch buffer [`Student::run`] needs: two ping-pong halves, one for
    /// the outputs of even-numbered computing layers, one for odd (flatten layers move no data;
    /// the last computing layer writes straight into the logits), then room for the largest
    /// convolution receptive field (`kh * kw * in_channels`).
    pub fn scratch_len(&self) -> usize {
        self.footprint.scratch_bytes as usize
    }

    /// Weight bytes, scratch bytes and MACs per inference.
    pub fn footprint(&self) -> Footprint {
        self.footprint
    }

    /// Normalises and quantizes one raw input sample with the stored parameters.
    pub fn quantize_input(&self, raw: &[f32], out: &mut [i8]) -> Result<(), Error> {
        let n = self.input_len();
        if raw.len() != n || out.len() != n {
            return Err(Error::BufferSize {
                needed: len32(n),
                got: len32(raw.len().min(out.len())),
            });
        }
        let norm = self.meta.normalization;
        let (pairs, channels) = (norm.pairs(), usize::from(self.meta.input_shape.channels));
        for (i, (o, &x)) in out.iter_mut().zip(raw).enumerate() {
            let (mean, std) = norm
                .pair(Normalization::pair_index(pairs, i, n, channels))
                .ok_or(Error::InvalidNormalization)?;
            if !x.is_finite() {
                return Err(Error::NonFinite);
            }
            *o = quant::quantize(
                (x - mean) / std,
                self.meta.input.scale,
                self.meta.input.zero_point,
            );
        }
        Ok(())
    }

    /// Runs one inference: `input` has [`Student::input_len`] int8 values, `scratch` at least
    /// [`Student::scratch_len`], `logits` at least [`Student::classes`] (the int8 logits land in
    /// its first `classes` entries).
    pub fn run(&self, input: &[i8], scratch: &mut [i8], logits: &mut [i8]) -> Result<(), Error> {
        self.run_observed_ops::<{ ops::ALL }, _>(input, scratch, logits, |_, _, _| {})
    }

    /// [`Student::run`] linking only the kernels of the kinds in `OPS` (an [`ops`] set); a layer
    /// of another kind is [`Error::UnsupportedOp`] (never, after [`Student::decode_ops`] with
    /// the same set).
    pub fn run_ops<const OPS: u8>(
        &self,
        input: &[i8],
        scratch: &mut [i8],
        logits: &mut [i8],
    ) -> Result<(), Error> {
        self.run_observed_ops::<OPS, _>(input, scratch, logits, |_, _, _| {})
    }

    /// Like [`Student::run`], calling `observe(index, layer, output)` after every layer: the
    /// host uses it for per-layer error tables, the device could use it to time layers.
    pub fn run_observed<F>(
        &self,
        input: &[i8],
        scratch: &mut [i8],
        logits: &mut [i8],
        observe: F,
    ) -> Result<(), Error>
    where
        F: FnMut(usize, &Layer<'a>, &[i8]),
    {
        self.run_observed_ops::<{ ops::ALL }, F>(input, scratch, logits, observe)
    }

    /// [`Student::run_observed`] for the kinds in `OPS` only, as [`Student::run_ops`].
    pub fn run_observed_ops<const OPS: u8, F>(
        &self,
        input: &[i8],
        scratch: &mut [i8],
        logits: &mut [i8],
        mut observe: F,
    ) -> Result<(), Error>
    where
        F: FnMut(usize, &Layer<'a>, &[i8]),
    {
        if input.len() != self.input_len() {
            return Err(Error::BufferSize {
                needed: len32(self.input_len()),
                got: len32(input.len()),
            });
        }
        if scratch.len() < self.scratch_len() {
            return Err(Error::BufferSize {
                needed: len32(self.scratch_len()),
                got: len32(scratch.len()),
            });
        }
        if logits.len() < self.classes() {
            return Err(Error::BufferSize {
                needed: len32(self.classes()),
                got: len32(logits.len()),
            });
        }
        // Checked splits and gets below: the lengths were checked above, and the checked forms
        // keep the panic paths (and their messages) out of the device's flash.
        let (a, rest) = scratch
            .split_at_mut_checked(self.halves[0] as usize)
            .ok_or(Error::Overflow)?;
        let (b, patch) = rest
            .split_at_mut_checked(self.halves[1] as usize)
            .ok_or(Error::Overflow)?;
        // Where the current activation lives: 0 = input, 1 = half a, 2 = half b, 3 = logits (after
        // the output layer, which writes there directly; only Flatten layers follow it).
        let mut src = 0_u8;
        let mut len = input.len();
        let mut shape = self.meta.input_shape;
        let mut act = self.meta.input;
        // Reads the layers itself, as decode does, rather than through `Layers`: moving each
        // layer out of the iterator's Option<Result<Layer>> cost a memcpy of it per layer
        // (about 250 instructions per layer on a Cortex-M4, measured with the kernel benchmark).
        let mut reader = Reader::new(self.layers);
        for index16 in 0..self.layer_count {
            let index = usize::from(index16);
            let layer = Layer::read::<OPS>(&mut reader);
            let layer = reader
                .check(layer)?
                .ok_or(Error::UnsupportedOp { layer: index16 })?;
            let (out_shape, out_act, _) = resolve::<OPS>(&layer, shape, act, index16, false)?;
            let out_len = out_shape.len();
            if matches!(layer, Layer::Flatten) {
                shape = out_shape;
                let current = match src {
                    0 => Some(input),
                    1 => a.get(..len),
                    2 => b.get(..len),
                    _ => logits.get(..len),
                };
                let current = current.ok_or(Error::Overflow)?;
                observe(index, &layer, current);
                continue;
            }
            let to_logits = index == usize::from(self.output_layer);
            let (x, y): (&[i8], &mut [i8]) = match (src, to_logits) {
                (0, false) => (input, &mut a[..]),
                (1, false) => (&a[..], &mut b[..]),
                (_, false) => (&b[..], &mut a[..]),
                (0, true) => (input, &mut logits[..]),
                (1, true) => (&a[..], &mut logits[..]),
                (_, true) => (&b[..], &mut logits[..]),
            };
            let x = x.get(..len).ok_or(Error::Overflow)?;
            let y = y.get_mut(..out_len).ok_or(Error::BufferSize {
                needed: len32(out_len),
                got: 0,
            })?;
            match &layer {
                Layer::Dense(d) if OPS & ops::DENSE != 0 => kernels::dense(d, x, y),
                Layer::Conv2d(c) if OPS & ops::CONV2D != 0 => {
                    kernels::conv2d(c, shape, act.zero_point, x, out_shape, patch, y)
                }
                Layer::DepthwiseConv2d(c) if OPS & ops::DEPTHWISE_CONV2D != 0 => {
                    kernels::depthwise_conv2d(c, shape, act.zero_point, x, out_shape, y)
                }
                Layer::MaxPool2d(p) if OPS & ops::MAX_POOL2D != 0 => {
                    kernels::max_pool2d(&p.rect(), shape, x, out_shape, y)
                }
                Layer::AvgPool2d(p) if OPS & ops::AVG_POOL2D != 0 => {
                    kernels::avg_pool2d(&p.rect(), shape, x, out_shape, y)
                }
                Layer::MaxPool2dRect(p) if OPS & ops::MAX_POOL2D != 0 => {
                    kernels::max_pool2d(p, shape, x, out_shape, y)
                }
                Layer::AvgPool2dRect(p) if OPS & ops::AVG_POOL2D != 0 => {
                    kernels::avg_pool2d(p, shape, x, out_shape, y)
                }
                // Flatten moved no data above; other kinds were refused by `resolve`.
                _ => {}
            }
            observe(index, &layer, y);
            src = match (to_logits, src) {
                (true, _) => 3,
                (false, 1) => 2,
                (false, _) => 1,
            };
            len = out_len;
            shape = out_shape;
            act = out_act;
        }
        Ok(())
    }

    /// Runs one inference and returns the predicted class (argmax of the int8 logits, no floats).
    pub fn predict(
        &self,
        input: &[i8],
        scratch: &mut [i8],
        logits: &mut [i8],
    ) -> Result<usize, Error> {
        self.run(input, scratch, logits)?;
        argmax_i8(&logits[..self.classes()]).ok_or(Error::Overflow)
    }

    /// The quantization of the logits (the last layer's output).
    pub fn output_activation(&self) -> Activation {
        let mut act = self.meta.input;
        for layer in self.layers().flatten() {
            if let Some(p) = layer.params() {
                act = p.output;
            }
        }
        act
    }

    /// Resolved input/output shapes of layer `index`.
    pub fn layer_shapes(&self, index: usize) -> Option<LayerShapes> {
        let mut shape = self.meta.input_shape;
        let mut act = self.meta.input;
        for (i, layer) in self.layers().enumerate() {
            let layer = layer.ok()?;
            let (out, out_act, _) =
                resolve::<{ ops::ALL }>(&layer, shape, act, u16::try_from(i).ok()?, false).ok()?;
            if i == index {
                return Some(LayerShapes {
                    input: shape,
                    output: out,
                });
            }
            shape = out;
            act = out_act;
        }
        None
    }
}

/// Encodes a student into `out`, returning the number of bytes written. The result is what
/// [`Student::decode`] reads; it is not validated here (decode it to check).
pub fn encode_student(
    meta: &Meta<'_>,
    layers: &[Layer<'_>],
    out: &mut [u8],
) -> Result<usize, Error> {
    let mut pos = header::HEADER_LEN;
    if out.len() < pos {
        return Err(Error::EncodeBufferFull);
    }
    header::put(meta, out, &mut pos)?;
    header::put(
        &u32::try_from(layers.len()).map_err(|_| Error::Overflow)?,
        out,
        &mut pos,
    )?;
    for layer in layers {
        header::put(layer, out, &mut pos)?;
    }
    header::seal(out, &STUDENT_MAGIC, pos - header::HEADER_LEN)
}

/// Encodes a student into a new vector (host only).
#[cfg(feature = "std")]
pub fn encode_student_to_vec(
    meta: &Meta<'_>,
    layers: &[Layer<'_>],
) -> Result<std::vec::Vec<u8>, Error> {
    // The normalisation can be a pair per input value: kilobytes for an image-sized input.
    let mut size = 256 + meta.name.len() + meta.normalization.params.len();
    for l in layers {
        size += 64 + l.params().map_or(0, |p| p.byte_len());
    }
    let mut buf = std::vec![0_u8; size];
    let n = encode_student(meta, layers, &mut buf)?;
    buf.truncate(n);
    Ok(buf)
}
