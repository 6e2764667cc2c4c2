//! The input normalisation of format version 2: one `(mean, std)` pair, one per channel or one
//! per input value, applied by `Student::quantize_input` exactly as the host computes it; and
//! version 1 students (one pair, stored without a length) read as before.

mod common;

use common::{WeightLayout, act, meta, quantized as params, reseal};
use minnow_core::header::{FORMAT_VERSION, HEADER_LEN};
use minnow_core::quant::quantize;
use minnow_core::{
    Dense, Error, Layer, Normalization, Shape, Student, encode_student_to_vec, pack_normalization,
};

/// A one-layer dense student over inputs of `shape` with normalisation `pairs`.
fn blob(shape: Shape, pairs: &[u8]) -> Result<Vec<u8>, Error> {
    let n = shape.len();
    let weights: Vec<i8> = (0..2 * n).map(|i| (i % 7) as i8 - 3).collect();
    let p = params(
        &weights,
        WeightLayout::ChannelMajor,
        act(0.05, -3),
        &[0.02, 0.02],
        &[0, 0],
        act(0.1, 0),
        false,
    );
    let mut m = meta("norm", shape, 2);
    m.normalization = Normalization::new(pairs);
    encode_student_to_vec(
        &m,
        &[
            Layer::Flatten,
            Layer::Dense(Dense {
                out_features: 2,
                params: p.borrow(),
            }),
        ],
    )
}

fn quantized(blob: &[u8], raw: &[f32]) -> Result<Vec<i8>, Error> {
    let s = Student::decode(blob)?;
    let mut out = vec![0; raw.len()];
    s.quantize_input(raw, &mut out)?;
    Ok(out)
}

#[test]
fn one_pair_per_value_per_channel_or_for_all() -> Result<(), Error> {
    // 1 x 2 x 3: six values, three channels.
    let shape = Shape::new(1, 2, 3);
    let raw = [1.0e-3, 2.0e4, -7.5, 3.0e-3, 1.0e4, 2.5];
    let per_value: Vec<(f32, f32)> = (0..6).map(|i| (0.5 * i as f32, 1.0 + i as f32)).collect();
    let per_channel = [(1.0e-3, 1.0e-3), (1.5e4, 5.0e3), (0.0, 5.0)];
    let input = act(0.05, -3);
    for (pairs, index) in [
        (per_value.clone(), (|i: usize| i) as fn(usize) -> usize),
        (per_channel.to_vec(), |i| i % 3),
        (vec![(0.5, 2.0)], |_| 0),
    ] {
        let got = quantized(&blob(shape, &pack_normalization(&pairs))?, &raw)?;
        let want: Vec<i8> = (raw.iter().enumerate())
            .map(|(i, &x)| {
                let (mean, std) = pairs[index(i)];
                quantize((x - mean) / std, input.scale, input.zero_point)
            })
            .collect();
        assert_eq!(got, want, "{} pairs", pairs.len());
    }
    Ok(())
}

#[test]
fn other_pair_counts_are_refused() -> Result<(), Error> {
    let shape = Shape::new(1, 2, 3);
    for pairs in [0, 2, 4, 7] {
        let packed = pack_normalization(&vec![(0.0, 1.0); pairs]);
        assert_eq!(
            Student::decode(&blob(shape, &packed)?).err(),
            Some(Error::InvalidNormalization),
            "{pairs} pairs"
        );
    }
    let mut partial = pack_normalization(&[(0.0, 1.0)]);
    partial.push(0);
    assert_eq!(
        Student::decode(&blob(shape, &partial)?).err(),
        Some(Error::InvalidNormalization)
    );
    let negative = pack_normalization(&[(0.0, 1.0), (0.0, -1.0), (0.0, 1.0)]);
    assert_eq!(
        Student::decode(&blob(shape, &negative)?).err(),
        Some(Error::NonFinite)
    );
    Ok(())
}

/// A version 2 blob with one pair, rewritten as version 1 wrote it: the pair without its
/// length byte, version 1 in the header, the body length and CRC fixed.
fn as_version_1(v2: &[u8], pair_at: usize) -> Vec<u8> {
    let mut body = v2[HEADER_LEN..].to_vec();
    assert_eq!(body[pair_at], 8, "the pair's length prefix");
    body.remove(pair_at);
    let mut out = v2[..HEADER_LEN].to_vec();
    out[4..6].copy_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&body);
    reseal(&mut out);
    out
}

#[test]
fn version_1_students_read_as_before() -> Result<(), Error> {
    assert_eq!(FORMAT_VERSION, 2);
    let shape = Shape::flat(4);
    let v2 = blob(shape, &pack_normalization(&[(0.5, 2.0)]))?;
    // name "norm" (5 bytes), shape (3), classes (1), input scale and zero point (5).
    let v1 = as_version_1(&v2, 5 + 3 + 1 + 5);
    let (a, b) = (Student::decode(&v1)?, Student::decode(&v2)?);
    assert_eq!(a.meta(), b.meta());
    let raw = [0.25, -1.0, 3.0, 100.0];
    assert_eq!(quantized(&v1, &raw)?, quantized(&v2, &raw)?);
    let mut v3 = v2.clone();
    v3[4..6].copy_from_slice(&3u16.to_le_bytes());
    assert_eq!(
        Student::decode(&v3).err(),
        Some(Error::UnsupportedVersion {
            found: 3,
            supported: 2
        })
    );
    Ok(())
}

/// A pair per value of a 32 x 32 x 3 input is 24 KB of normalisation: the encoder sizes its
/// buffer for it (the fuzzer found it did not).
#[test]
fn a_pair_per_value_of_a_large_input_encodes() -> Result<(), Error> {
    let shape = Shape::new(32, 32, 3);
    let pairs = vec![(0.5, 2.0); shape.len()];
    let b = blob(shape, &pack_normalization(&pairs))?;
    let s = Student::decode(&b)?;
    assert_eq!(s.meta().normalization.pairs(), 3072);
    Ok(())
}
