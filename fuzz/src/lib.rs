//! Shared code of the minnow-core fuzz targets: header sealing, the checks run on every decoded
//! student or golden-vector set, an owned (buildable) student for seeds and structure-aware
//! fuzzing, and the seed blobs themselves.
//!
//! Invariants the targets assert (each is a promise minnow-core makes in its docs):
//! * decoding never panics, whatever the bytes;
//! * a decoded student runs without error into buffers of exactly `input_len()`,
//!   `scratch_len()` and `classes()` elements, and rejects buffers one element short;
//! * inference does not depend on what the scratch buffer held before;
//! * each layer writes exactly the number of elements its resolved output shape has;
//! * every layer is within 1 LSB of `minnow_core::reference` (exact for pooling) when its
//!   requantization parameters were derived from its scales (structure-aware target only);
//! * encode(decode(blob)) == blob for blobs minnow-core encoded.

use minnow_core::header::{FORMAT_VERSION, HEADER_LEN};
use minnow_core::layer::{Activation, Pool2d, Shape};
use minnow_core::{Error, GoldenVectors, Student, pack_normalization};

/// Most work (multiply-accumulates plus pooling taps) one fuzz input may ask inference for, so
/// that a blob describing a legitimately huge network does not read as a libFuzzer timeout.
pub const MAX_FUZZ_WORK: u64 = 1 << 22;

/// CRC-32/ISO-HDLC (zlib's), bitwise: independent of minnow-core's nibble-table CRC.
pub fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFF_u32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// Puts a valid header (magic, version, flags 0, body length, CRC) in front of `body`.
pub fn seal(magic: &[u8; 4], body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER_LEN + body.len());
    out.extend_from_slice(magic);
    out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    out.extend_from_slice(&0_u16.to_le_bytes());
    out.extend_from_slice(&(body.len() as u32).to_le_bytes());
    out.extend_from_slice(&crc32(body).to_le_bytes());
    out.extend_from_slice(body);
    out
}

/// Splits fuzz bytes into (blob, extra) at the length the header declares, so a valid blob with
/// bytes appended still decodes and the appended bytes feed the inference input.
pub fn split_at_declared_len(data: &[u8]) -> (&[u8], &[u8]) {
    if data.len() < HEADER_LEN {
        return (data, &[]);
    }
    let body_len = u32::from_le_bytes([data[8], data[9], data[10], data[11]]) as usize;
    let end = HEADER_LEN.saturating_add(body_len).min(data.len());
    data.split_at(end)
}

/// Splits the sealed targets' fuzz input: the last byte `k` says how many bytes before it are
/// the inference input; everything before those is the postcard body.
pub fn split_body_and_input(data: &[u8]) -> (&[u8], &[u8]) {
    match data.split_last() {
        None => (&[], &[]),
        Some((&k, rest)) => {
            let k = usize::from(k).min(rest.len());
            rest.split_at(rest.len() - k)
        }
    }
}

/// An int8 input of `len` values made from `bytes` (repeated; zeros when there are none).
pub fn make_input(bytes: &[u8], len: usize) -> Vec<i8> {
    if bytes.is_empty() {
        return vec![0; len];
    }
    (0..len).map(|i| bytes[i % bytes.len()] as i8).collect()
}

/// Work one inference of `s` does: MACs plus pooling taps plus the input size.
pub fn inference_work(s: &Student<'_>) -> u64 {
    let mut work = u64::from(s.footprint().macs) + s.input_len() as u64;
    for (i, layer) in s.layers().enumerate() {
        let Ok(layer) = layer else { return u64::MAX };
        let Some(shapes) = s.layer_shapes(i) else {
            return u64::MAX;
        };
        let out = shapes.output.len() as u64;
        work += out;
        if let Some((p, _)) = layer.pool() {
            work += out * u64::from(p.kernel_h) * u64::from(p.kernel_w);
        }
    }
    work
}

/// Everything a caller may do with a decoded student, with the invariants asserted.
/// Returns the logits and every layer's output (`None` when the network is too big to run).
pub fn exercise_student(s: &Student<'_>, input_bytes: &[u8]) -> Option<(Vec<i8>, Vec<Vec<i8>>)> {
    let n_layers = s.layer_count();
    assert!(n_layers >= 1 && n_layers <= minnow_core::limits::MAX_LAYERS as usize);
    assert_eq!(s.layers().count(), n_layers);
    assert!(
        s.layers().all(|l| l.is_ok()),
        "a decoded student has an undecodable layer"
    );
    assert_eq!(s.footprint().scratch_bytes as usize, s.scratch_len());
    let _ = s.output_activation();
    assert!(s.meta().name.len() <= minnow_core::limits::MAX_NAME_LEN);
    for i in 0..n_layers {
        assert!(
            s.layer_shapes(i).is_some(),
            "layer {i} has no resolved shape"
        );
    }
    assert!(s.layer_shapes(n_layers).is_none());
    let last = s.layer_shapes(n_layers - 1).map(|l| l.output.len());
    assert_eq!(last, Some(s.classes()));

    if inference_work(s) > MAX_FUZZ_WORK {
        return None;
    }
    let input = make_input(input_bytes, s.input_len());
    let mut scratch = vec![0_i8; s.scratch_len()];
    let mut logits = vec![0_i8; s.classes()];
    let mut outputs: Vec<Vec<i8>> = Vec::with_capacity(n_layers);
    s.run_observed(&input, &mut scratch, &mut logits, |i, _, out| {
        assert_eq!(i, outputs.len());
        outputs.push(out.to_vec());
    })
    .expect("a decoded student must run into exactly sized buffers");
    assert_eq!(outputs.len(), n_layers);
    for (i, out) in outputs.iter().enumerate() {
        let want = s.layer_shapes(i).map(|l| l.output.len());
        assert_eq!(Some(out.len()), want, "layer {i} output length");
    }
    assert_eq!(outputs.last().map(Vec::as_slice), Some(logits.as_slice()));

    // Scratch contents must not matter.
    let mut dirty = vec![0x5A_u8 as i8; s.scratch_len()];
    let mut logits2 = vec![0x33_u8 as i8; s.classes()];
    s.run(&input, &mut dirty, &mut logits2).expect("second run");
    assert_eq!(
        logits, logits2,
        "inference depends on the scratch buffer's old contents"
    );

    // Buffers one element short are refused, never overrun.
    if s.scratch_len() > 0 {
        let mut short = vec![0_i8; s.scratch_len() - 1];
        let r = s.run(&input, &mut short, &mut logits2);
        assert!(matches!(r, Err(Error::BufferSize { .. })), "{r:?}");
    }
    let mut short_logits = vec![0_i8; s.classes() - 1];
    let r = s.run(&input, &mut scratch, &mut short_logits);
    assert!(matches!(r, Err(Error::BufferSize { .. })), "{r:?}");
    let r = s.run(&input[1..], &mut scratch, &mut logits2);
    assert!(matches!(r, Err(Error::BufferSize { .. })), "{r:?}");

    let class = s
        .predict(&input, &mut scratch, &mut logits2)
        .expect("predict");
    assert!(class < s.classes());
    Some((logits, outputs))
}

/// Everything a caller may do with decoded golden vectors, with the invariants asserted.
pub fn exercise_golden(g: &GoldenVectors<'_>) {
    let n = g.len();
    assert_eq!(g.is_empty(), n == 0);
    for i in 0..n {
        assert_eq!(g.input(i).expect("input").len(), g.input_len as usize);
        assert_eq!(
            g.expected(i).expect("expected").len(),
            usize::from(g.classes)
        );
        g.label(i).expect("label");
        g.teacher_class(i).expect("teacher");
    }
    assert!(matches!(g.input(n), Err(Error::IndexOutOfRange { .. })));
    assert!(matches!(g.expected(n), Err(Error::IndexOutOfRange { .. })));
    assert!(g.label(n).is_err() && g.teacher_class(n).is_err());
    let blob = g.encode_to_vec().expect("re-encode");
    let back = GoldenVectors::decode(&blob).expect("decode(encode(g))");
    assert_eq!(&back, g);
}

// ---------------------------------------------------------------------------------------------
// Owned students: what seeds and the structure-aware target build, then borrow as minnow types.

pub use minnow_core::owned::{OwnedLayer, OwnedParams, OwnedStudent, WeightLayout};

/// [`OwnedParams::quantized`] from real biases, as an exporter has them (each becomes
/// `round(bias / (s_in * s_w))` accumulator units first), with a fused ReLU or none. The scales
/// the seeds and the generator use give representable multipliers and biases.
pub fn quantized_params(
    weights: &[i8],
    layout: WeightLayout,
    in_act: Activation,
    weight_scales: &[f32],
    real_bias: &[f32],
    output: Activation,
    relu: bool,
) -> OwnedParams {
    let raw_bias: Vec<i32> = real_bias
        .iter()
        .zip(weight_scales)
        .map(|(&b, &s_w)| {
            (f64::from(b) / (f64::from(in_act.scale) * f64::from(s_w))).round() as i32
        })
        .collect();
    let act_min = if relu { output.zero_point } else { i8::MIN };
    OwnedParams::quantized(
        weights,
        layout,
        in_act,
        weight_scales,
        &raw_bias,
        output,
        act_min,
        i8::MAX,
    )
    .expect("representable multipliers and biases")
}

// ---------------------------------------------------------------------------------------------
// Seeds.

fn act(scale: f32, zero_point: i8) -> Activation {
    Activation { scale, zero_point }
}

/// A dense layer of `out` rows of `weights` (`[out][in]`).
fn dense(
    in_act: Activation,
    out: u16,
    weights: &[i8],
    out_act: Activation,
    relu: bool,
) -> OwnedLayer {
    let oc = usize::from(out);
    let scales: Vec<f32> = (0..oc).map(|c| 0.01 + 0.005 * c as f32).collect();
    let bias: Vec<f32> = (0..oc).map(|c| 0.1 * c as f32 - 0.05).collect();
    let p = quantized_params(
        weights,
        WeightLayout::ChannelMajor,
        in_act,
        &scales,
        &bias,
        out_act,
        relu,
    );
    OwnedLayer::Dense {
        out_features: out,
        params: p,
    }
}

fn pattern(n: usize, seed: i32) -> Vec<i8> {
    (0..n as i32)
        .map(|i| (((i * 37 + seed * 11) % 255) - 127).clamp(-127, 127) as i8)
        .collect()
}

/// The worked example of docs/format.md: 2 inputs, one dense layer, 2 classes.
pub fn tiny_student() -> OwnedStudent {
    let input = act(0.5, 0);
    let out = act(0.25, -1);
    // Weights [out][in]: class 0 = x0 - x1, class 1 = x1 - x0, weight scale 0.5 for both;
    // real biases 0.5 and -0.5. Written out so the doc's numbers are easy to follow.
    let weights = vec![2, -2, -2, 2];
    let p = quantized_params(
        &weights,
        WeightLayout::ChannelMajor,
        input,
        &[0.5, 0.5],
        &[0.5, -0.5],
        out,
        false,
    );
    OwnedStudent {
        name: "tiny".into(),
        input_shape: Shape::flat(2),
        classes: 2,
        input,
        normalization: pack_normalization(&[(0.0, 1.0)]),
        temperature: 4.0,
        layers: vec![OwnedLayer::Dense {
            out_features: 2,
            params: p,
        }],
    }
}

/// A small convolutional student with every layer kind.
pub fn conv_student() -> OwnedStudent {
    let a0 = act(1.0 / 64.0, -3);
    let a1 = act(0.05, -128);
    let a2 = act(0.04, -128);
    let a3 = act(0.1, 5);
    // 6x6x2 -> conv 3x3 pad 1 stride 1, 4 ch -> 6x6x4 -> maxpool 2/2 -> 3x3x4
    // -> depthwise 3x3 pad 1 stride 2 -> 2x2x4 -> avgpool 2/1 -> 1x1x4 -> flatten -> dense 3
    let conv = quantized_params(
        &pattern(4 * 3 * 3 * 2, 1),
        WeightLayout::ChannelMajor,
        a0,
        &[0.02, 0.03, 0.025, 0.01],
        &[0.1, -0.2, 0.0, 0.3],
        a1,
        true,
    );
    let dw = quantized_params(
        &pattern(3 * 3 * 4, 2),
        WeightLayout::ChannelMinor,
        a1,
        &[0.01, 0.02, 0.015, 0.03],
        &[0.0, 0.05, -0.05, 0.1],
        a2,
        true,
    );
    OwnedStudent {
        name: "conv-all-kinds".into(),
        input_shape: Shape::new(6, 6, 2),
        classes: 3,
        input: a0,
        normalization: pack_normalization(&[(0.5, 0.25)]),
        temperature: 2.0,
        layers: vec![
            OwnedLayer::Conv2d {
                out_channels: 4,
                kernel_h: 3,
                kernel_w: 3,
                stride: 1,
                padding: 1,
                params: conv,
            },
            OwnedLayer::MaxPool2d(Pool2d {
                kernel: 2,
                stride: 2,
            }),
            OwnedLayer::DepthwiseConv2d {
                kernel_h: 3,
                kernel_w: 3,
                stride: 2,
                padding: 1,
                params: dw,
            },
            OwnedLayer::AvgPool2d(Pool2d {
                kernel: 2,
                stride: 1,
            }),
            OwnedLayer::Flatten,
            dense(a2, 3, &pattern(4 * 3, 3), a3, false),
        ],
    }
}

/// A two-layer MLP with a non-square conv kernel in front.
pub fn mlp_student() -> OwnedStudent {
    let a0 = act(0.02, 10);
    let a1 = act(0.03, -20);
    let a2 = act(0.05, 0);
    let a3 = act(0.08, 3);
    let conv = quantized_params(
        &pattern(2 * 3, 4), // 2 channels of 1x3x1
        WeightLayout::ChannelMajor,
        a0,
        &[0.04, 0.02],
        &[0.0, 0.1],
        a1,
        false,
    );
    OwnedStudent {
        name: "mlp".into(),
        input_shape: Shape::new(3, 5, 1),
        classes: 4,
        input: a0,
        normalization: pack_normalization(&[(-1.0, 3.0)]),
        temperature: 1.0,
        layers: vec![
            // 3x5x1 -> conv 1x3 stride 2 pad 0 -> 2x2x2 -> dense 8 (on the 2x2x2 tensor, no flatten)
            OwnedLayer::Conv2d {
                out_channels: 2,
                kernel_h: 1,
                kernel_w: 3,
                stride: 2,
                padding: 0,
                params: conv,
            },
            dense(a1, 8, &pattern(8 * 8, 5), a2, true),
            dense(a2, 4, &pattern(8 * 4, 6), a3, false),
        ],
    }
}

/// Golden vectors for `s`: a few inputs with the logits minnow-core computes for them.
pub fn golden_for(s: &OwnedStudent, count: usize) -> Vec<u8> {
    let blob = s.encode().expect("encodes");
    let st = Student::decode(&blob).expect("seed student decodes");
    let mut inputs = Vec::new();
    let mut logits = Vec::new();
    let mut labels = Vec::new();
    let mut teacher = Vec::new();
    let mut scratch = vec![0_i8; st.scratch_len()];
    let mut out = vec![0_i8; st.classes()];
    for v in 0..count {
        let x = pattern(st.input_len(), 7 + v as i32);
        let class = st.predict(&x, &mut scratch, &mut out).expect("run");
        inputs.extend_from_slice(minnow_core::i8_bytes(&x));
        logits.extend_from_slice(minnow_core::i8_bytes(&out));
        labels.push(if v == 0 {
            minnow_core::golden::UNKNOWN_CLASS
        } else {
            (v % st.classes()) as u8
        });
        teacher.push(class as u8);
    }
    GoldenVectors {
        count: count as u32,
        input_len: st.input_len() as u32,
        classes: st.classes() as u16,
        inputs: &inputs,
        logits: &logits,
        labels: &labels,
        teacher: &teacher,
    }
    .encode_to_vec()
    .expect("encode golden")
}

/// All seed students, by name.
pub fn seed_students() -> Vec<(&'static str, OwnedStudent)> {
    vec![
        ("tiny", tiny_student()),
        ("conv", conv_student()),
        ("mlp", mlp_student()),
    ]
}

pub mod build;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc_matches_the_check_value() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
    }

    #[test]
    fn seeds_decode_run_and_roundtrip() {
        for (name, s) in seed_students() {
            let blob = s.encode().expect("encodes");
            let st = Student::decode(&blob).unwrap_or_else(|e| panic!("{name}: {e}"));
            exercise_student(&st, b"\x01\x80\x7f").expect("small");
            let body = &blob[HEADER_LEN..];
            assert_eq!(seal(b"MNST", body), blob);
            let g = golden_for(&s, 3);
            exercise_golden(&GoldenVectors::decode(&g).expect("golden"));
        }
    }
}
