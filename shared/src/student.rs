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

/// One layer as inference runs it: the layer and the shapes around it, resolved.
#[derive(Debug, Clone, Copy)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Step<'a> {
    pub layer: Layer<'a>,
    pub input: Shape,
    pub output: Shape,
    /// The input's zero point (what a convolution's padding reads).
    pub input_zero_point: i8,
}

impl Step<'_> {
    /// A placeholder (a flatten of nothing) for the unused entries of a [`Plan`].
    const EMPTY: Step<'static> = Step {
        layer: Layer::Flatten,
        input: Shape::flat(0),
        output: Shape::flat(0),
        input_zero_point: 0,
    };
}

/// The activations of one inference: the input, the two ping-pong halves of the scratch buffer,
/// the convolution patch and the logits, and which holds the current activation.
struct Buffers<'x> {
    input: &'x [i8],
    a: &'x mut [i8],
    b: &'x mut [i8],
    patch: &'x mut [i8],
    logits: &'x mut [i8],
    /// Where the current activation lives: 0 = input, 1 = half a, 2 = half b, 3 = logits
    /// (after the output layer, which writes there directly; only Flatten layers follow it).
    src: u8,
    /// Its length.
    len: usize,
}

impl Buffers<'_> {
    /// Runs `layer` (input `shape` with zero point `zp`, output `out_shape`) from the current
    /// activation into the next half, or into the logits when `to_logits`, and returns what it
    /// wrote (a Flatten moves no data: the current activation). Inlined into each run loop.
    #[inline(always)]
    fn layer<const OPS: u8>(
        &mut self,
        layer: &Layer<'_>,
        shape: Shape,
        zp: i8,
        out_shape: Shape,
        to_logits: bool,
    ) -> Result<&[i8], Error> {
        let (src, len, out_len) = (self.src, self.len, out_shape.len());
        if matches!(layer, Layer::Flatten) {
            let current = match src {
                0 => Some(self.input),
                1 => self.a.get(..len),
                2 => self.b.get(..len),
                _ => self.logits.get(..len),
            };
            return current.ok_or(Error::Overflow);
        }
        let (x, y): (&[i8], &mut [i8]) = match (src, to_logits) {
            (0, false) => (self.input, &mut self.a[..]),
            (1, false) => (&self.a[..], &mut self.b[..]),
            (_, false) => (&self.b[..], &mut self.a[..]),
            (0, true) => (self.input, &mut self.logits[..]),
            (1, true) => (&self.a[..], &mut self.logits[..]),
            (_, true) => (&self.b[..], &mut self.logits[..]),
        };
        let x = x.get(..len).ok_or(Error::Overflow)?;
        let y = y.get_mut(..out_len).ok_or(Error::BufferSize {
            needed: len32(out_len),
            got: 0,
        })?;
        let patch = &mut self.patch[..];
        match layer {
            Layer::Dense(d) if OPS & ops::DENSE != 0 => kernels::dense(d, x, y),
            Layer::Conv2d(c) if OPS & ops::CONV2D != 0 => {
                kernels::conv2d(c, shape, zp, x, out_shape, patch, y)
            }
            Layer::DepthwiseConv2d(c) if OPS & ops::DEPTHWISE_CONV2D != 0 => {
                kernels::depthwise_conv2d(c, shape, zp, x, out_shape, y)
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
        self.src = match (to_logits, src) {
            (true, _) => 3,
            (false, 1) => 2,
            (false, _) => 1,
        };
        self.len = out_len;
        Ok(y)
    }
}

/// A student with its layers decoded once ([`Student::plan`]), for applications that run many
/// inferences: [`Student::run`] reads each layer's fields from the blob again at every
/// inference (nothing is kept in RAM), about 600 instructions per layer on a Cortex-M4, which
/// is most of the time of a small layer (dense 64->10: 1,780 instructions of work). A plan
/// keeps every layer's fields and shapes in RAM instead (`size_of::<Step>()` bytes per layer,
/// `N` entries) and runs the same kernels to the same integers. `N` is a capacity: at least
/// the student's layer count.
#[derive(Debug, Clone, Copy)]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub struct Plan<'a, const N: usize> {
    student: Student<'a>,
    steps: [Step<'a>; N],
}

impl<'a, const N: usize> Plan<'a, N> {
    /// The student this plan runs.
    pub fn student(&self) -> &Student<'a> {
        &self.student
    }

    /// The layers, resolved.
    pub fn steps(&self) -> &[Step<'a>] {
        let count = self.student.layer_count().min(N);
        self.steps.get(..count).unwrap_or(&[])
    }

    /// [`Student::run`], from the decoded layers.
    pub fn run(&self, input: &[i8], scratch: &mut [i8], logits: &mut [i8]) -> Result<(), Error> {
        self.run_ops::<{ ops::ALL }>(input, scratch, logits)
    }

    /// [`Student::run_ops`], from the decoded layers: pair it with the `OPS` of
    /// [`Student::plan_ops`].
    pub fn run_ops<const OPS: u8>(
        &self,
        input: &[i8],
        scratch: &mut [i8],
        logits: &mut [i8],
    ) -> Result<(), Error> {
        let mut buffers = self.student.buffers(input, scratch, logits)?;
        let output_layer = usize::from(self.student.output_layer);
        for (index, step) in self.steps().iter().enumerate() {
            let to_logits = index == output_layer;
            buffers.layer::<OPS>(
                &step.layer,
                step.input,
                step.input_zero_point,
                step.output,
                to_logits,
            )?;
        }
        Ok(())
    }
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

// The checks below answer yes or no, and their callers name the error: an `Error` made inside
// a helper and passed up with `?` is moved field by field at unaligned offsets, which linked
// `memcpy` (338 bytes of flash) into every CNN student's runtime.

/// `n` as a dimension: in `1..=MAX_DIM`.
fn dim(n: usize) -> Option<u16> {
    u16::try_from(n)
        .ok()
        .filter(|&v| v > 0 && v <= limits::MAX_DIM)
}

/// Every dimension in range and the whole tensor within `MAX_TENSOR`.
fn shape_ok(s: Shape) -> bool {
    [s.height, s.width, s.channels]
        .iter()
        .all(|&d| dim(usize::from(d)).is_some())
        && s.len() <= limits::MAX_TENSOR
}

fn scale_ok(scale: f32) -> bool {
    scale.is_finite() && scale > 0.0
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

/// What [`check_params`] found wrong, for [`resolve`] to name with the layer's index.
#[derive(Debug, Clone, Copy)]
enum ParamFault {
    Range,
    Overflow,
    Length,
    Quantization,
    ActivationRange,
}

impl ParamFault {
    fn at(self, layer: u16) -> Error {
        match self {
            ParamFault::Range => Error::DimensionOutOfRange { layer },
            ParamFault::Overflow => Error::Overflow,
            ParamFault::Length => Error::LengthMismatch { layer },
            ParamFault::Quantization => Error::InvalidQuantization { layer },
            ParamFault::ActivationRange => Error::InvalidActivationRange { layer },
        }
    }
}

/// Checks the parameter arrays of a layer with `channels` outputs and `per_channel` weights each.
fn check_params(p: &Params<'_>, channels: usize, per_channel: usize) -> Result<(), ParamFault> {
    if per_channel > limits::MAX_REDUCTION {
        return Err(ParamFault::Range);
    }
    let weights = channels
        .checked_mul(per_channel)
        .ok_or(ParamFault::Overflow)?;
    let four = channels.checked_mul(4).ok_or(ParamFault::Overflow)?;
    if p.weights.len() != weights
        || p.weight_scales.len() != four
        || p.bias.len() != four
        || p.multiplier.len() != four
        || p.shift.len() != channels
    {
        return Err(ParamFault::Length);
    }
    if !scale_ok(p.output.scale) {
        return Err(ParamFault::Quantization);
    }
    for c in 0..channels {
        let ok = p.multiplier_at(c) >= 0
            && (MIN_SHIFT..=MAX_SHIFT).contains(&p.shift_at(c))
            && p.weight_scale_at(c).is_finite()
            && p.weight_scale_at(c) > 0.0;
        if !ok {
            return Err(ParamFault::Quantization);
        }
    }
    // A loop, not `contains`: that calls memchr, 400 bytes of flash on the device.
    #[allow(clippy::manual_contains)]
    if p.weights.iter().any(|&b| b == i8::MIN as u8) {
        // Symmetric weights live in [-127, 127]; -128 would break the SIMD path's assumptions
        // elsewhere and signals an exporter bug.
        return Err(ParamFault::Quantization);
    }
    if p.act_min > p.act_max {
        return Err(ParamFault::ActivationRange);
    }
    Ok(())
}

/// A convolution window within the limits, its padding smaller than the kernel.
fn window_ok(kernel_h: u8, kernel_w: u8, stride: u8, padding: u8) -> bool {
    !(kernel_h == 0
        || kernel_w == 0
        || kernel_h > limits::MAX_KERNEL
        || kernel_w > limits::MAX_KERNEL
        || stride == 0
        || stride > limits::MAX_STRIDE
        || padding >= kernel_h
        || padding >= kernel_w)
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
            check_params(p, channels, per_channel).map_err(|fault| fault.at(layer))
        } else {
            Ok(())
        }
    };
    let range = Error::DimensionOutOfRange { layer: index };
    let mismatch = Error::ShapeMismatch { layer: index };
    // A window's output shape: `mismatch` when the window does not fit, `range` when the
    // result is beyond the limits.
    let window = |kh: u8, kw: u8, sh: u8, sw: u8, pad: u8, c: u16| -> Result<Shape, Error> {
        let h = out_dim(input.height, kh, sh, pad).ok_or(mismatch)?;
        let w = out_dim(input.width, kw, sw, pad).ok_or(mismatch)?;
        let shape = Shape::new(h, w, c);
        if shape_ok(shape) {
            Ok(shape)
        } else {
            Err(range)
        }
    };
    match layer {
        Layer::Dense(d) if OPS & ops::DENSE != 0 => {
            let n = input.len();
            let out = dim(usize::from(d.out_features)).ok_or(range)?;
            check_params(&d.params, usize::from(out), n, index)?;
            Ok((Shape::flat(out), d.params.output, n as u64 * u64::from(out)))
        }
        Layer::Conv2d(c) if OPS & ops::CONV2D != 0 => {
            if !window_ok(c.kernel_h, c.kernel_w, c.stride, c.padding) {
                return Err(range);
            }
            let oc = dim(usize::from(c.out_channels)).ok_or(range)?;
            let (k, s) = (c.kernel_h, c.stride);
            let out = window(k, c.kernel_w, s, s, c.padding, oc)?;
            let per =
                usize::from(c.kernel_h) * usize::from(c.kernel_w) * usize::from(input.channels);
            check_params(&c.params, usize::from(oc), per, index)?;
            Ok((out, c.params.output, out.len() as u64 * per as u64))
        }
        Layer::DepthwiseConv2d(c) if OPS & ops::DEPTHWISE_CONV2D != 0 => {
            if !window_ok(c.kernel_h, c.kernel_w, c.stride, c.padding) {
                return Err(range);
            }
            let (k, s) = (c.kernel_h, c.stride);
            let out = window(k, c.kernel_w, s, s, c.padding, input.channels)?;
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
                return Err(range);
            }
            let (kh, kw, c) = (p.kernel_h, p.kernel_w, input.channels);
            Ok((window(kh, kw, p.stride_h, p.stride_w, 0, c)?, in_act, 0))
        }
        Layer::Flatten if OPS & ops::FLATTEN != 0 => {
            let n = dim(input.len()).ok_or(range)?;
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
        if !shape_ok(meta.input_shape) {
            return Err(Error::InvalidInputShape);
        }
        if !scale_ok(meta.input.scale) {
            return Err(Error::InvalidInputScale);
        }
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
        let mut buffers = self.buffers(input, scratch, logits)?;
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
            let to_logits = index == usize::from(self.output_layer);
            let y = buffers.layer::<OPS>(&layer, shape, act.zero_point, out_shape, to_logits)?;
            observe(index, &layer, y);
            shape = out_shape;
            act = out_act;
        }
        Ok(())
    }

    /// The layers decoded once into a [`Plan`] of capacity `N` (see there). Fails with
    /// [`Error::TooManyLayers`] when the student has more than `N` layers.
    pub fn plan<const N: usize>(&self) -> Result<Plan<'a, N>, Error> {
        self.plan_ops::<{ ops::ALL }, N>()
    }

    /// [`Student::plan`] for the kinds in `OPS` only (an [`ops`] set), as
    /// [`Student::decode_ops`]; run it with [`Plan::run_ops`] and the same set.
    pub fn plan_ops<const OPS: u8, const N: usize>(&self) -> Result<Plan<'a, N>, Error> {
        if self.layer_count() > N {
            return Err(Error::TooManyLayers {
                count: u32::from(self.layer_count),
            });
        }
        let mut steps = [Step::EMPTY; N];
        let mut shape = self.meta.input_shape;
        let mut act = self.meta.input;
        let mut reader = Reader::new(self.layers);
        for (index, step) in (0..self.layer_count).zip(steps.iter_mut()) {
            let layer = Layer::read::<OPS>(&mut reader);
            let layer = reader
                .check(layer)?
                .ok_or(Error::UnsupportedOp { layer: index })?;
            let (output, out_act, _) = resolve::<OPS>(&layer, shape, act, index, false)?;
            *step = Step {
                layer,
                input: shape,
                output,
                input_zero_point: act.zero_point,
            };
            shape = output;
            act = out_act;
        }
        Ok(Plan {
            student: *self,
            steps,
        })
    }

    /// The buffers of one inference, its arguments' lengths checked.
    fn buffers<'x>(
        &self,
        input: &'x [i8],
        scratch: &'x mut [i8],
        logits: &'x mut [i8],
    ) -> Result<Buffers<'x>, Error> {
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
        // Checked splits and gets: the lengths were checked above, and the checked forms keep
        // the panic paths (and their messages) out of the device's flash.
        let (a, rest) = scratch
            .split_at_mut_checked(self.halves[0] as usize)
            .ok_or(Error::Overflow)?;
        let (b, patch) = rest
            .split_at_mut_checked(self.halves[1] as usize)
            .ok_or(Error::Overflow)?;
        Ok(Buffers {
            input,
            a,
            b,
            patch,
            logits,
            src: 0,
            len: input.len(),
        })
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
