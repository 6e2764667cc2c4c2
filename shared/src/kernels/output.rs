//! What turns a channel's int32 accumulator into an int8 output: the channel's bias (the kernels
//! start their accumulators with it) and requantization, then the layer's output zero point and
//! fused clamp. [`Channels::output`] does it out of line (one copy in flash) for most kernels;
//! the convolution's hot loop reads a channel's [`Requant`] once for the two outputs it makes
//! with it and applies it inline ([`Channels::finish`]).

use crate::layer::Params;
use crate::quant::Requantizer;

/// One output channel's requantization (cores without the DSP extension: with it
/// [`Channels::output_run`] and [`Channels::dense_rows`] do all of it in assembly).
#[derive(Debug, Clone, Copy)]
#[cfg_attr(
    all(
        target_arch = "arm",
        target_feature = "dsp",
        not(feature = "portable-dot")
    ),
    allow(dead_code)
)]
pub(crate) struct Requant(Requantizer);

/// A layer's per-channel arrays as words (unaligned little-endian `[u8; 4]`, so the bounds are
/// checked once per channel rather than once per byte), and its output zero point and clamp.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Channels<'a> {
    bias: &'a [[u8; 4]],
    multiplier: &'a [[u8; 4]],
    shift: &'a [u8],
    zero_point: i32,
    min: i32,
    max: i32,
}

#[cfg_attr(
    all(
        target_arch = "arm",
        target_feature = "dsp",
        not(feature = "portable-dot")
    ),
    allow(dead_code)
)]
impl<'a> Channels<'a> {
    /// Not inlined: one copy for the kernels that use it (flash).
    #[inline(never)]
    pub fn of(p: &Params<'a>) -> Self {
        // Whole words only, and as many channels as all three arrays have (decoders refuse
        // other lengths): cut to one length, so reading a channel checks one bound, not three.
        let (bias, multiplier) = (p.bias.as_chunks().0, p.multiplier.as_chunks().0);
        let n = bias.len().min(multiplier.len()).min(p.shift.len());
        Channels {
            bias: bias.split_at(n).0,
            multiplier: multiplier.split_at(n).0,
            shift: p.shift.split_at(n).0,
            zero_point: i32::from(p.output.zero_point),
            min: i32::from(p.act_min),
            max: i32::from(p.act_max),
        }
    }

    /// Channel `c`'s bias (0 past the arrays' ends: decoders guarantee every channel has one).
    #[inline(always)]
    pub fn bias(&self, c: usize) -> i32 {
        self.bias.get(c).map_or(0, |&b| i32::from_le_bytes(b))
    }

    /// Channel `c`'s requantization.
    #[inline(always)]
    pub fn at(&self, c: usize) -> Requant {
        Requant(match (self.multiplier.get(c), self.shift.get(c)) {
            (Some(&m), Some(&s)) => Requantizer::new(i32::from_le_bytes(m), s as i8),
            _ => Requantizer::new(0, 0),
        })
    }

    /// `acc` (bias included) requantized with `r`, plus the zero point, clamped.
    #[inline(always)]
    pub fn finish(&self, acc: i32, r: &Requant) -> i8 {
        let v = r.0.apply(acc).saturating_add(self.zero_point);
        // max-then-min, not `clamp`: clamp panics when min > max, and kernels never panic (decode
        // rejects such ranges; a blob that slipped through gets wrong numbers, not a panic).
        v.max(self.min).min(self.max) as i8
    }

    /// [`Self::finish`] with channel `c`'s requantization, out of line: one output, on cores
    /// without the DSP extension (with it, [`Self::output_run`] and [`Self::dense_rows`] do
    /// every output).
    #[inline(never)]
    pub fn output(&self, c: usize, acc: i32) -> i8 {
        self.finish(acc, &self.at(c))
    }

    /// A dense layer's outputs (or a convolution pixel's), `out[c]` for row `c` of `w` (rows of
    /// `input.len()` weights) against `input`: with the DSP extension, all of it in
    /// `dense_rows` (dot/simd.rs), the bounds checked once.
    #[cfg(all(
        target_arch = "arm",
        target_feature = "dsp",
        not(feature = "portable-dot")
    ))]
    #[inline(always)]
    pub fn dense_rows(&self, input: &[i8], w: &[i8], out: &mut [i8]) {
        let channels = (self.multiplier, self.shift);
        crate::dot::dense_rows(input, w, self.bias, channels, &self.range(), out);
    }

    /// The output zero point and clamp, as the DSP loops read them.
    #[cfg(all(
        target_arch = "arm",
        target_feature = "dsp",
        not(feature = "portable-dot")
    ))]
    #[inline(always)]
    fn range(&self) -> crate::dot::OutputRange {
        crate::dot::OutputRange {
            zero_point: self.zero_point,
            min: self.min,
            max: self.max,
        }
    }

    /// A run of channel `c`'s outputs: `acc` (biases included) requantized into every
    /// `stride`-th value of `out`, from the first on, the channel's parameters read once. With
    /// the DSP extension one `requantize_run` (dot/simd.rs, 25 instructions per output in the
    /// case of every decoded student), inlined here, one copy of the requantization for every
    /// kernel; elsewhere [`Self::output`] per value, the same integers. (An `out` too short for
    /// every `acc` gets nothing with the DSP extension and what fits elsewhere; kernels never
    /// pass one.)
    #[inline(never)]
    pub fn output_run(&self, c: usize, acc: &[i32], out: &mut [i8], stride: usize) {
        #[cfg(all(
            target_arch = "arm",
            target_feature = "dsp",
            not(feature = "portable-dot")
        ))]
        {
            let (m, s) = match (self.multiplier.get(c), self.shift.get(c)) {
                (Some(&m), Some(&s)) => (i32::from_le_bytes(m), s as i8),
                _ => (0, 0),
            };
            let p = crate::dot::RunParams::new(m, s, self.range());
            crate::dot::requantize_run(acc, out, stride, &p);
        }
        #[cfg(not(all(
            target_arch = "arm",
            target_feature = "dsp",
            not(feature = "portable-dot")
        )))]
        for (i, &a) in acc.iter().enumerate() {
            if let Some(o) = out.get_mut(i * stride) {
                *o = self.output(c, a);
            }
        }
    }
}
