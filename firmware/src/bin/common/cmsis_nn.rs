//! ARM's CMSIS-NN on the kernel benchmark's shapes, side by side with minnow-core in the same
//! firmware (`scripts/kernel-bench.sh`, unless `--no-cmsis-nn`): the same layer, weights and
//! input, called as TensorFlow Lite Micro calls it (bench/cmsis-nn/minnow_cmsis.c, compiled with
//! arm-none-eabi-gcc -O3), timed the same way, and its output compared with the host's.
//!
//! minnow's parameters are CMSIS-NN's but for the bias, which in minnow has the input zero
//! point's term folded in (`bias - zp_in * sum(w)`, docs/format.md): it is added back, outside
//! the timing, as everything TFLM works out once per model (buffers, kernel sums).

use cortex_m_semihosting::hprintln;
use minnow_core::{Layer, Shape, Student};

unsafe extern "C" {
    fn minnow_cmsis_buffer_len(layer: *const CmsisLayer) -> i32;
    fn minnow_cmsis_prepare(layer: *const CmsisLayer) -> i32;
    fn minnow_cmsis_run(layer: *const CmsisLayer, input: *const i8, output: *mut i8) -> i32;
}

/// `minnow_cmsis_layer` of minnow_cmsis.c, field for field.
#[repr(C)]
struct CmsisLayer {
    kind: i32,
    in_h: i32,
    in_w: i32,
    in_c: i32,
    out_h: i32,
    out_w: i32,
    out_c: i32,
    kernel_h: i32,
    kernel_w: i32,
    stride: i32,
    padding: i32,
    input_offset: i32,
    output_offset: i32,
    act_min: i32,
    act_max: i32,
    weights: *const i8,
    bias: *const i32,
    multiplier: *const i32,
    shift: *const i32,
    buffer: *mut i32,
    buffer_len: i32,
}

/// Words for the CMSIS-NN layers' biases, multipliers, shifts and buffers (the largest shape
/// needs about 600; the 29K CNN's four layers together about 1,100). Boards with less than
/// 64 KiB of RAM get none: their lines say `skipped`.
const WORDS_LEN: usize = if crate::consts::RAM_LEN as usize >= 64 * 1024 {
    4096
} else {
    0
};
static mut WORDS: [i32; WORDS_LEN] = [0; WORDS_LEN];

/// Hands out pieces of [`WORDS`].
struct Words<'w>(&'w mut [i32]);

impl<'w> Words<'w> {
    fn take(&mut self, n: usize) -> Option<&'w mut [i32]> {
        if n > self.0.len() {
            return None;
        }
        let (piece, rest) = core::mem::take(&mut self.0).split_at_mut(n);
        self.0 = rest;
        Some(piece)
    }
}

fn words() -> Words<'static> {
    // SAFETY: called once per benchmarked student, and every piece handed out is dropped before
    // the next call (`bench_one` and `bench_student` keep them on their own stack frames).
    Words(unsafe { &mut *core::ptr::addr_of_mut!(WORDS) })
}

fn dim(v: u16) -> i32 {
    i32::from(v)
}

/// The CMSIS-NN call for one layer: shapes from minnow's validation, `zp` the input's zero
/// point. `None` for Flatten (nothing to compute) or when [`WORDS`] is too small.
fn layer(
    l: &Layer<'_>,
    shapes: (Shape, Shape),
    zp: i8,
    words: &mut Words<'static>,
) -> Option<CmsisLayer> {
    let (input, output) = shapes;
    let mut c = CmsisLayer {
        kind: 0,
        in_h: dim(input.height),
        in_w: dim(input.width),
        in_c: dim(input.channels),
        out_h: dim(output.height),
        out_w: dim(output.width),
        out_c: dim(output.channels),
        kernel_h: 1,
        kernel_w: 1,
        stride: 1,
        padding: 0,
        input_offset: -i32::from(zp),
        output_offset: 0,
        act_min: -128,
        act_max: 127,
        weights: core::ptr::null(),
        bias: core::ptr::null(),
        multiplier: core::ptr::null(),
        shift: core::ptr::null(),
        buffer: core::ptr::null_mut(),
        buffer_len: 0,
    };
    let params = match l {
        Layer::Dense(d) => {
            c.kind = 0;
            &d.params
        }
        Layer::Conv2d(v) => {
            (c.kind, c.kernel_h, c.kernel_w) = (1, v.kernel_h.into(), v.kernel_w.into());
            (c.stride, c.padding) = (v.stride.into(), v.padding.into());
            &v.params
        }
        Layer::DepthwiseConv2d(v) => {
            (c.kind, c.kernel_h, c.kernel_w) = (2, v.kernel_h.into(), v.kernel_w.into());
            (c.stride, c.padding) = (v.stride.into(), v.padding.into());
            &v.params
        }
        Layer::MaxPool2d(_) | Layer::AvgPool2d(_) => {
            let Some((p, is_max)) = l.pool() else {
                return None;
            };
            c.kind = if is_max { 3 } else { 4 };
            (c.kernel_h, c.kernel_w, c.stride) =
                (p.kernel_h.into(), p.kernel_w.into(), p.stride_h.into());
            return with_buffer(c, words);
        }
        // CMSIS-NN's pooling takes a stride per axis too, but the benchmark's shapes are
        // square: a rectangular window is not one of its cases.
        Layer::MaxPool2dRect(_) | Layer::AvgPool2dRect(_) => return None,
        Layer::Flatten => return None,
    };
    let channels = output.channels as usize;
    let (bias, multiplier, shift) = (
        words.take(channels)?,
        words.take(channels)?,
        words.take(channels)?,
    );
    let weights = params.weights_i8();
    let per_channel = weights.len() / channels.max(1);
    for o in 0..channels {
        // The sum of output channel `o`'s weights: its row (dense, convolution), or its taps
        // (depthwise: channel fastest).
        let sum: i32 = if matches!(l, Layer::DepthwiseConv2d(_)) {
            weights
                .iter()
                .skip(o)
                .step_by(channels)
                .map(|&w| i32::from(w))
                .sum()
        } else {
            let row = weights
                .get(o * per_channel..(o + 1) * per_channel)
                .unwrap_or(&[]);
            row.iter().map(|&w| i32::from(w)).sum()
        };
        bias[o] = params
            .bias_at(o)
            .wrapping_add(i32::from(zp).wrapping_mul(sum));
        multiplier[o] = params.multiplier_at(o);
        shift[o] = i32::from(params.shift_at(o));
    }
    c.weights = weights.as_ptr();
    (c.bias, c.multiplier, c.shift) = (bias.as_ptr(), multiplier.as_ptr(), shift.as_ptr());
    c.output_offset = i32::from(params.output.zero_point);
    (c.act_min, c.act_max) = (params.act_min.into(), params.act_max.into());
    with_buffer(c, words)
}

/// The layer with its buffer, and prepared (TFLM's once-per-model work).
fn with_buffer(mut c: CmsisLayer, words: &mut Words<'static>) -> Option<CmsisLayer> {
    // SAFETY: `c` points at live weights and at biases, multipliers and shifts of `out_c`
    // entries (or none, for pools); the C side only reads them.
    let bytes = unsafe { minnow_cmsis_buffer_len(&c) };
    let len = usize::try_from(bytes).ok()?;
    if len > 0 {
        c.buffer = words.take(len.div_ceil(4))?.as_mut_ptr();
        c.buffer_len = bytes;
    }
    // SAFETY: as above, and the buffer has the `buffer_len` bytes CMSIS-NN asked for.
    (unsafe { minnow_cmsis_prepare(&c) } == 0).then_some(c)
}

/// Runs one prepared layer.
fn run(c: &CmsisLayer, input: &[i8], output: &mut [i8]) -> bool {
    let need_in = (c.in_h * c.in_w * c.in_c) as usize;
    let need_out = (c.out_h * c.out_w * c.out_c) as usize;
    if input.len() < need_in || output.len() < need_out {
        return false;
    }
    // SAFETY: the input and output hold the layer's shapes (checked above); the parameters are
    // as `layer` set them up.
    unsafe { minnow_cmsis_run(c, input.as_ptr(), output.as_mut_ptr()) == 0 }
}

/// What minnow measured for the same shape, for the ratios.
pub struct Minnow {
    /// The kernel called directly.
    pub kernel: u64,
    /// The layer inside a student (decode and dispatch included); for a whole student, the run.
    pub layer: u64,
}

/// `x.xx` of `a / b`, rounded.
struct Ratio(u64, u64);

impl core::fmt::Display for Ratio {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self.1 {
            0 => f.write_str("-"),
            b => {
                let x100 = (self.0 * 100 + b / 2) / b;
                write!(f, "{}.{:02}", x100 / 100, x100 % 100)
            }
        }
    }
}

fn line(shape: &str, macs: u64, cmsis: u64, minnow: &Minnow, same: Option<bool>) {
    let same = match same {
        Some(true) => "yes",
        Some(false) => "no",
        None => "-",
    };
    hprintln!(
        "cmsis-nn board={} shape={} macs={} instructions={} per_mac={} minnow_per_mac={} \
         ratio={} ratio_layer={} same_output={}",
        crate::BOARD,
        shape,
        macs,
        cmsis,
        Ratio(cmsis, macs),
        Ratio(minnow.kernel, macs),
        Ratio(minnow.kernel, cmsis),
        Ratio(minnow.layer, cmsis),
        same
    );
}

fn skipped(shape: &str, why: &str) {
    hprintln!(
        "skipped cmsis-nn board={} shape={} {}",
        crate::BOARD,
        shape,
        why
    );
}

/// CMSIS-NN on a one-layer student's layer: prints one `cmsis-nn` line and returns its
/// instructions (0 when skipped). `arena` is free memory for the output.
pub fn bench_one(
    student: &Student<'_>,
    input: &[i8],
    expected: &[i8],
    arena: &mut [i8],
    minnow: &Minnow,
) -> u64 {
    let name = student.meta().name;
    let (Some(Ok(l)), Some(shapes)) = (student.layers().next(), student.layer_shapes(0)) else {
        return 0;
    };
    let mut words = words();
    let zp = student.meta().input.zero_point;
    let Some(c) = layer(&l, (shapes.input, shapes.output), zp, &mut words) else {
        skipped(name, "needs=more-ram");
        return 0;
    };
    let Some(out) = arena.get_mut(..expected.len()) else {
        skipped(name, "needs=more-ram");
        return 0;
    };
    let mut ok = true;
    let instructions = crate::measure(|| ok &= run(&c, input, out));
    let same = ok && out == expected;
    line(
        name,
        u64::from(student.footprint().macs),
        instructions,
        minnow,
        Some(same),
    );
    instructions
}

/// CMSIS-NN on every layer of a student in turn (ping-pong buffers in `arena`, Flatten moves
/// nothing), timed whole: one `cmsis-nn` line.
pub fn bench_student(
    student: &Student<'_>,
    input: &[i8],
    expected: &[i8],
    arena: &mut [i8],
    minnow: &Minnow,
) {
    let name = student.meta().name;
    const MAX_LAYERS: usize = 16;
    let mut words = words();
    let mut layers: [Option<CmsisLayer>; MAX_LAYERS] = [const { None }; MAX_LAYERS];
    let (mut zp, mut count, mut largest) = (student.meta().input.zero_point, 0, 0);
    for (i, l) in student.layers().enumerate() {
        let (Ok(l), Some(shapes)) = (l, student.layer_shapes(i)) else {
            return;
        };
        largest = largest.max(shapes.output.len());
        if matches!(l, Layer::Flatten) {
            continue;
        }
        if count == MAX_LAYERS {
            return skipped(name, "layers=too-many");
        }
        let Some(c) = layer(&l, (shapes.input, shapes.output), zp, &mut words) else {
            return skipped(name, "needs=more-ram");
        };
        if let Layer::Dense(d) = &l {
            zp = d.params.output.zero_point;
        } else if let Layer::Conv2d(v) = &l {
            zp = v.params.output.zero_point;
        } else if let Layer::DepthwiseConv2d(v) = &l {
            zp = v.params.output.zero_point;
        }
        layers[count] = Some(c);
        count += 1;
    }
    if 2 * largest > arena.len() {
        return skipped(name, "needs=more-ram");
    }
    let (a, b) = arena.split_at_mut(largest);
    let mut ok = true;
    let instructions = crate::measure(|| {
        let (mut x, mut y): (&mut [i8], &mut [i8]) = (&mut *a, &mut *b);
        for (i, c) in layers.iter().take(count).flatten().enumerate() {
            let source: &[i8] = if i == 0 { input } else { x };
            ok &= run(c, source, y);
            core::mem::swap(&mut x, &mut y);
        }
    });
    // Layer i writes into `b` when i is even, into `a` when it is odd.
    let last: &[i8] = if count % 2 == 1 { b } else { a };
    let same = ok && last.get(..expected.len()) == Some(expected);
    line(
        name,
        u64::from(student.footprint().macs),
        instructions,
        minnow,
        Some(same),
    );
}

/// The three max pools added up, as minnow's `maxpool-total`.
pub fn total(shape: &str, cmsis: u64, minnow: &Minnow) {
    line(shape, 0, cmsis, minnow, None);
}
