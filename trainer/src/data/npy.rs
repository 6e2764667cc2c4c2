//! NPY arrays as datasets (the header is read by [`super::npy_format`]).
//!
//! Supported: little-endian (or byte-sized) `f4`, `f8`, `u1`, `i1`, `u2`,
//! `i2`, `u4`, `i4`, `u8`, `i8` and `b1`, C order. Features are `(N,)`,
//! `(N, D)`, `(N, H, W)`, `(N, H, W, C)` or `(N, 1, H, W)` with `W > 4`; labels are an
//! integer `(N,)` (or `(N, 1)`) array with values 0..=255. Raw or gzipped.

use std::path::Path;

use super::dataset::Dataset;
use super::error::{DataError, Location};
use super::file::{file_stem, matched_labels, read_file, sample_shape};
use super::npy_format::{Descr, HeaderError, MAGIC, read_header};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Float,
    Signed,
    Unsigned,
    Bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct DType {
    kind: Kind,
    size: usize,
}

/// A parsed NPY file.
struct Npy {
    dtype: DType,
    descr: String,
    shape: Vec<usize>,
    data_offset: usize,
    bytes: Vec<u8>,
}

impl Npy {
    fn data(&self) -> &[u8] {
        &self.bytes[self.data_offset..]
    }

    /// Elements as `f64` (exact for all but 64-bit integers beyond 2^53).
    fn values(&self) -> Box<dyn Iterator<Item = f64> + '_> {
        let d = self.data();
        match (self.dtype.kind, self.dtype.size) {
            (Kind::Float, 4) => Box::new(
                d.chunks_exact(4)
                    .map(|c| f64::from(f32::from_le_bytes([c[0], c[1], c[2], c[3]]))),
            ),
            (Kind::Float, _) => Box::new(
                d.chunks_exact(8)
                    .map(|c| f64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]])),
            ),
            (Kind::Unsigned | Kind::Bool, 1) => Box::new(d.iter().map(|&b| f64::from(b))),
            (Kind::Signed, 1) => Box::new(d.iter().map(|&b| f64::from(b as i8))),
            (Kind::Unsigned, 2) => Box::new(
                d.chunks_exact(2)
                    .map(|c| f64::from(u16::from_le_bytes([c[0], c[1]]))),
            ),
            (Kind::Signed, 2) => Box::new(
                d.chunks_exact(2)
                    .map(|c| f64::from(i16::from_le_bytes([c[0], c[1]]))),
            ),
            (Kind::Unsigned, 4) => Box::new(
                d.chunks_exact(4)
                    .map(|c| f64::from(u32::from_le_bytes([c[0], c[1], c[2], c[3]]))),
            ),
            (Kind::Signed, 4) => Box::new(
                d.chunks_exact(4)
                    .map(|c| f64::from(i32::from_le_bytes([c[0], c[1], c[2], c[3]]))),
            ),
            (Kind::Unsigned, _) => Box::new(d.chunks_exact(8).map(|c| {
                u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]) as f64
            })),
            (Kind::Signed | Kind::Bool, _) => Box::new(d.chunks_exact(8).map(|c| {
                i64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]) as f64
            })),
        }
    }

    /// Integer elements as `i128`, exactly. Only for integer/bool dtypes.
    fn integers(&self) -> Box<dyn Iterator<Item = i128> + '_> {
        let d = self.data();
        let size = self.dtype.size;
        let signed = self.dtype.kind == Kind::Signed;
        Box::new(d.chunks_exact(size).map(move |c| {
            let mut buf = [0u8; 8];
            buf[..size].copy_from_slice(c);
            if signed {
                // Sign-extend from `size` bytes.
                let shift = 64 - 8 * size as u32;
                i128::from((i64::from_le_bytes(buf) << shift) >> shift)
            } else {
                i128::from(u64::from_le_bytes(buf))
            }
        }))
    }
}

fn parse_npy(path: &Path) -> Result<Npy, DataError> {
    let file = read_file(path)?;
    let bytes = file.bytes;
    let truncated = |expected: usize, actual: usize| DataError::Truncated {
        path: path.to_owned(),
        expected: expected as u64,
        actual: actual as u64,
        decompressed: file.decompressed,
    };
    let unsupported = |reason: String| DataError::Unsupported {
        path: path.to_owned(),
        reason,
    };
    let header = read_header(&bytes).map_err(|e| match e {
        HeaderError::BadMagic { found } => DataError::BadMagic {
            path: path.to_owned(),
            offset: 0,
            expected: "\"\\x93NUMPY\"".to_owned(),
            found: format!("{:?}", String::from_utf8_lossy(&found)),
        },
        HeaderError::UnsupportedVersion { major, minor } => unsupported(format!(
            "NPY format version {major}.{minor} (1.0, 2.0 and 3.0 are read)"
        )),
        HeaderError::Truncated { needed, available } => truncated(needed, available),
        HeaderError::Syntax { offset, reason } => DataError::BadHeader {
            path: path.to_owned(),
            offset: offset as u64,
            reason,
        },
    })?;
    let descr = match header.descr {
        Descr::Simple(s) => s,
        Descr::Structured => {
            return Err(unsupported(
                "structured dtypes (a 'descr' that is not a string)".to_owned(),
            ));
        }
    };
    let dtype = parse_descr(&descr).map_err(unsupported)?;
    let (shape, data_offset) = (header.shape, header.data_offset);
    if header.fortran_order && shape.len() > 1 {
        return Err(unsupported(
            "Fortran-order arrays (save with np.ascontiguousarray first)".to_owned(),
        ));
    }
    let expected = shape
        .iter()
        .try_fold(dtype.size, |acc, &d| acc.checked_mul(d))
        .and_then(|n| n.checked_add(data_offset))
        .ok_or_else(|| DataError::BadHeader {
            path: path.to_owned(),
            offset: MAGIC.len() as u64,
            reason: format!("shape {shape:?} is too large"),
        })?;
    if bytes.len() < expected {
        return Err(truncated(expected, bytes.len()));
    }
    if bytes.len() > expected {
        return Err(DataError::TrailingBytes {
            path: path.to_owned(),
            expected: expected as u64,
            actual: bytes.len() as u64,
            decompressed: file.decompressed,
        });
    }
    Ok(Npy {
        dtype,
        descr,
        shape,
        data_offset,
        bytes,
    })
}

fn parse_descr(descr: &str) -> Result<DType, String> {
    let unsupported = || {
        format!(
            "dtype '{descr}' (supported: f4, f8, u1, i1, u2, i2, u4, i4, u8, i8, b1, little endian)"
        )
    };
    let mut chars = descr.chars();
    let order = chars.next().ok_or_else(unsupported)?;
    let kind = match chars.next() {
        Some('f') => Kind::Float,
        Some('i') => Kind::Signed,
        Some('u') => Kind::Unsigned,
        Some('b') => Kind::Bool,
        _ => return Err(unsupported()),
    };
    let size: usize = chars.as_str().parse().map_err(|_| unsupported())?;
    let ok_size = match kind {
        Kind::Float => matches!(size, 4 | 8),
        Kind::Signed | Kind::Unsigned => matches!(size, 1 | 2 | 4 | 8),
        Kind::Bool => size == 1,
    };
    if !ok_size {
        return Err(unsupported());
    }
    match order {
        '<' | '|' => {}
        // Byte order does not matter for single bytes.
        '>' | '=' if size == 1 => {}
        '>' => {
            return Err(format!(
                "big-endian dtype '{descr}' (convert with arr.astype('<{}{size}'))",
                &descr[1..2]
            ));
        }
        _ => return Err(unsupported()),
    }
    Ok(DType { kind, size })
}

/// Loads an NPY features array (`f4`/`f8`/integer, `(N, ...)`) and an
/// optional 1-D integer labels array. Shapes: `(N,)` → `[1, 1, 1]`,
/// `(N, D)` → `[1, D, 1]`, `(N, H, W)` → `[H, W, 1]`, `(N, H, W, C)` →
/// `[H, W, C]`, and single-channel NCHW `(N, 1, H, W)` with `W > 4` →
/// `[H, W, 1]` (a 4-D array with a second dimension of 1 and a last one
/// above 4 is taken to be NCHW, as channels-last images rarely have more
/// than 4 channels; for one channel both orders share the same bytes).
pub fn load_npy(
    features: &Path,
    labels: Option<&Path>,
    classes: Option<usize>,
) -> Result<Dataset, DataError> {
    let npy = parse_npy(features)?;
    let Some((&n, rest)) = npy.shape.split_first() else {
        return Err(DataError::Unsupported {
            path: features.to_owned(),
            reason: "a 0-D (scalar) array; need (N, ...) samples".to_owned(),
        });
    };
    // Single-channel NCHW: as channels-last (for one channel both orders share the bytes).
    let rest = match *rest {
        [1, _, w] if w > 4 => &rest[1..],
        _ => rest,
    };
    let shape = sample_shape(features, n, rest, &npy.shape, "a feature array")?;
    let feats: Vec<f32> = match (npy.dtype.kind, npy.dtype.size) {
        (Kind::Unsigned | Kind::Bool, 1) => npy.data().iter().map(|&b| f32::from(b)).collect(),
        (Kind::Float, 4) => {
            let mut out = Vec::with_capacity(npy.data().len() / 4);
            for (i, c) in npy.data().chunks_exact(4).enumerate() {
                let v = f32::from_le_bytes([c[0], c[1], c[2], c[3]]);
                if !v.is_finite() {
                    return Err(non_finite(features, &npy, i, f64::from(v)));
                }
                out.push(v);
            }
            out
        }
        _ => {
            let mut out = Vec::with_capacity(npy.data().len() / npy.dtype.size);
            for (i, v) in npy.values().enumerate() {
                let f = v as f32;
                if !f.is_finite() {
                    return Err(non_finite(features, &npy, i, v));
                }
                out.push(f);
            }
            out
        }
    };
    drop(npy);

    let (labels, classes) = match labels {
        None => (None, classes.unwrap_or(0)),
        Some(lpath) => {
            let l = parse_npy(lpath)?;
            let count = match l.shape[..] {
                [n] | [n, 1] => n,
                _ => {
                    return Err(DataError::Unsupported {
                        path: lpath.to_owned(),
                        reason: format!(
                            "labels must be 1-D (N,), this array has shape {:?}",
                            l.shape
                        ),
                    });
                }
            };
            if l.dtype.kind == Kind::Float {
                return Err(DataError::Unsupported {
                    path: lpath.to_owned(),
                    reason: format!(
                        "labels must have an integer dtype, not '{}' (use arr.astype('u1'))",
                        l.descr
                    ),
                });
            }
            let mut out = Vec::with_capacity(count);
            for (i, v) in l.integers().enumerate() {
                let label = u8::try_from(v).map_err(|_| DataError::LabelOutOfRange {
                    path: lpath.to_owned(),
                    location: Location::Offset((l.data_offset + i * l.dtype.size) as u64),
                    label: v,
                    limit: 256,
                })?;
                out.push(label);
            }
            let (offset, size) = (l.data_offset, l.dtype.size);
            let (out, classes) =
                matched_labels(features, n, lpath, out, classes, |i| offset + i * size)?;
            (Some(out), classes)
        }
    };
    Ok(Dataset {
        name: file_stem(features),
        features: feats,
        labels,
        shape,
        classes,
        class_names: Vec::new(),
    })
}

fn non_finite(path: &Path, npy: &Npy, i: usize, value: f64) -> DataError {
    DataError::NonFinite {
        path: path.to_owned(),
        location: Location::Offset((npy.data_offset + i * npy.dtype.size) as u64),
        value,
    }
}

/// Serialises an array as NPY v1.0 (tests): `descr` like `"<f4"`, the data
/// already in little-endian bytes.
#[cfg(test)]
pub(crate) fn npy_bytes(descr: &str, shape: &[usize], data: &[u8]) -> Vec<u8> {
    let mut out = super::npy_format::write_header(descr, shape);
    out.extend_from_slice(data);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    fn f32s(v: &[f32]) -> Vec<u8> {
        v.iter().flat_map(|x| x.to_le_bytes()).collect()
    }

    fn write(dir: &tempfile::TempDir, name: &str, bytes: &[u8]) -> Result<PathBuf, std::io::Error> {
        let p = dir.path().join(name);
        std::fs::write(&p, bytes)?;
        Ok(p)
    }

    fn assert_names(err: &DataError, file: &str) {
        assert!(
            err.to_string().contains(file),
            "message does not name {file}: {err}"
        );
    }

    #[test]
    fn round_trips() -> TestResult {
        let dir = tempfile::tempdir()?;
        let vals: Vec<f32> = (0..12).map(|i| i as f32 * 0.5 - 1.0).collect();
        let f = write(
            &dir,
            "feat.npy",
            &npy_bytes("<f4", &[3, 2, 2], &f32s(&vals)),
        )?;
        let l = write(
            &dir,
            "lab.npy",
            &npy_bytes(
                "<i8",
                &[3],
                &[2i64, 0, 1]
                    .iter()
                    .flat_map(|x| x.to_le_bytes())
                    .collect::<Vec<_>>(),
            ),
        )?;
        let d = load_npy(&f, Some(&l), None)?;
        assert_eq!(
            (d.name.as_str(), d.len(), d.shape, d.classes),
            ("feat", 3, [2, 2, 1], 3)
        );
        assert_eq!(d.features, vals);
        assert_eq!(d.labels, Some(vec![2, 0, 1]));

        // f8, 2-D, gzipped (named .npy: detection is by magic).
        let f64s: Vec<u8> = [1.5f64, -2.0, 3.0, 4.0]
            .iter()
            .flat_map(|x| x.to_le_bytes())
            .collect();
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        std::io::Write::write_all(&mut enc, &npy_bytes("<f8", &[2, 2], &f64s))?;
        let f = write(&dir, "f64.npy", &enc.finish()?)?;
        let d = load_npy(&f, None, Some(10))?;
        assert_eq!(
            (d.shape, d.classes, d.labels.is_none()),
            ([1, 2, 1], 10, true)
        );
        assert_eq!(d.features, vec![1.5, -2.0, 3.0, 4.0]);

        // u8 NHWC, NCHW single channel, u1 labels with (N, 1) shape.
        let f = write(
            &dir,
            "u8.npy",
            &npy_bytes(
                "|u1",
                &[2, 2, 1, 3],
                &[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 255],
            ),
        )?;
        assert_eq!(load_npy(&f, None, None)?.shape, [2, 1, 3]);
        let f = write(
            &dir,
            "nhwc-h1.npy",
            &npy_bytes("|u1", &[2, 1, 2, 3], &[0; 12]),
        )?;
        assert_eq!(load_npy(&f, None, None)?.shape, [1, 2, 3]);
        let f = write(&dir, "nchw.npy", &npy_bytes("|u1", &[2, 1, 2, 5], &[0; 20]))?;
        assert_eq!(load_npy(&f, None, None)?.shape, [2, 5, 1]);
        let l = write(&dir, "lab2.npy", &npy_bytes("|u1", &[2, 1], &[4, 9]))?;
        assert_eq!(load_npy(&f, Some(&l), None)?.labels, Some(vec![4, 9]));

        // Version 2.0 header, i2 features, big-endian u1 is fine.
        let mut v2 = npy_bytes(">u1", &[2], &[3, 4]);
        let hlen = u16::from_le_bytes([v2[8], v2[9]]) as u32;
        v2[6] = 2;
        v2.splice(8..10, hlen.to_le_bytes());
        let f = write(&dir, "v2.npy", &v2)?;
        let d = load_npy(&f, None, None)?;
        assert_eq!((d.shape, d.features.clone()), ([1, 1, 1], vec![3.0, 4.0]));
        Ok(())
    }

    #[test]
    fn dtypes() {
        assert!(parse_descr("<f4").is_ok());
        assert!(parse_descr(">f4").is_err());
        assert!(parse_descr("<c8").is_err());
        assert!(parse_descr("<f2").is_err());
        assert!(parse_descr("").is_err());
    }

    #[test]
    fn malformed_files() -> TestResult {
        let dir = tempfile::tempdir()?;
        let good = npy_bytes("<f4", &[2, 2], &f32s(&[1.0, 2.0, 3.0, 4.0]));
        // Where the data starts in an NPY v1 file written by `npy_bytes`.
        let data_at = |b: &[u8]| 10 + usize::from(u16::from_le_bytes([b[8], b[9]]));

        let err = load_npy(&write(&dir, "magic.npy", b"\x93NUMPX\x01\x00")?, None, None)
            .err()
            .ok_or("bad magic accepted")?;
        assert!(
            matches!(err, DataError::BadMagic { offset: 0, .. }),
            "{err}"
        );
        assert_names(&err, "magic.npy");

        let err = load_npy(
            &write(&dir, "short.npy", &good[..good.len() - 5])?,
            None,
            None,
        )
        .err()
        .ok_or("truncated accepted")?;
        assert!(
            matches!(err, DataError::Truncated { expected, actual, .. } if expected == good.len() as u64 && actual + 5 == expected),
            "{err}"
        );
        assert_names(&err, "short.npy");
        assert!(
            err.to_string()
                .contains(&format!("expected {} bytes", good.len())),
            "{err}"
        );

        let err = load_npy(&write(&dir, "hdrcut.npy", &good[..30])?, None, None)
            .err()
            .ok_or("truncated header accepted")?;
        assert!(matches!(err, DataError::Truncated { .. }), "{err}");
        let err = load_npy(&write(&dir, "tiny.npy", &good[..7])?, None, None)
            .err()
            .ok_or("7 bytes accepted")?;
        assert!(matches!(err, DataError::Truncated { .. }), "{err}");

        let mut long = good.clone();
        long.push(0);
        let err = load_npy(&write(&dir, "long.npy", &long)?, None, None)
            .err()
            .ok_or("trailing accepted")?;
        assert!(matches!(err, DataError::TrailingBytes { .. }), "{err}");

        let empty = write(&dir, "empty.npy", b"")?;
        let err = load_npy(&empty, None, None).err().ok_or("empty accepted")?;
        assert!(matches!(err, DataError::Empty { .. }), "{err}");
        assert_names(&err, "empty.npy");
        let err = load_npy(
            &write(&dir, "zero.npy", &npy_bytes("<f4", &[0, 3], &[]))?,
            None,
            None,
        )
        .err()
        .ok_or("0 rows accepted")?;
        assert!(matches!(err, DataError::Empty { .. }), "{err}");

        // NaN at element 3 -> offset 64 + 12.
        let nan = npy_bytes("<f4", &[2, 2], &f32s(&[1.0, 2.0, 3.0, f32::NAN]));
        let err = load_npy(&write(&dir, "nan.npy", &nan)?, None, None)
            .err()
            .ok_or("NaN accepted")?;
        let at = (data_at(&nan) + 12) as u64;
        assert!(
            matches!(err, DataError::NonFinite { location: Location::Offset(o), .. } if o == at),
            "{err}"
        );
        assert!(
            err.to_string().contains(&format!("byte offset {at}")),
            "{err}"
        );
        assert_names(&err, "nan.npy");
        let inf = npy_bytes("<f8", &[1, 1], &f64::INFINITY.to_le_bytes());
        let err = load_npy(&write(&dir, "inf.npy", &inf)?, None, None)
            .err()
            .ok_or("inf accepted")?;
        let at = data_at(&inf) as u64;
        assert!(
            matches!(err, DataError::NonFinite { location: Location::Offset(o), .. } if o == at),
            "{err}"
        );

        for (name, descr) in [("be.npy", ">f4"), ("cplx.npy", "<c8"), ("half.npy", "<f2")] {
            let b = npy_bytes(descr, &[1, 1], &[0; 4]);
            let err = load_npy(&write(&dir, name, &b)?, None, None)
                .err()
                .ok_or("bad dtype accepted")?;
            assert!(matches!(err, DataError::Unsupported { .. }), "{err}");
            assert_names(&err, name);
        }
        let mut fortran = good.clone();
        let at = fortran
            .windows(5)
            .position(|w| w == b"False")
            .ok_or("no False")?;
        fortran.splice(at..at + 5, *b"True ");
        let err = load_npy(&write(&dir, "fortran.npy", &fortran)?, None, None)
            .err()
            .ok_or("fortran accepted")?;
        assert!(matches!(err, DataError::Unsupported { .. }), "{err}");

        let mut garbled = good.clone();
        garbled[12] = b'#';
        let err = load_npy(&write(&dir, "garbled.npy", &garbled)?, None, None)
            .err()
            .ok_or("garbled accepted")?;
        assert!(matches!(err, DataError::BadHeader { .. }), "{err}");
        assert_names(&err, "garbled.npy");
        Ok(())
    }

    /// Labels that do not fit the features: count, range, dtype, shape.
    #[test]
    fn malformed_label_files() -> TestResult {
        let dir = tempfile::tempdir()?;
        let good = npy_bytes("<f4", &[2, 2], &f32s(&[1.0, 2.0, 3.0, 4.0]));
        let gp = write(&dir, "good.npy", &good)?;
        // Where the data starts in an NPY v1 file written by `npy_bytes`.
        let data_at = |b: &[u8]| 10 + usize::from(u16::from_le_bytes([b[8], b[9]]));

        // Labels: count mismatch, out of range, float dtype, 2-D.
        let l = write(&dir, "three.npy", &npy_bytes("|u1", &[3], &[0, 1, 2]))?;
        let err = load_npy(&gp, Some(&l), None)
            .err()
            .ok_or("count mismatch accepted")?;
        assert!(
            matches!(
                err,
                DataError::CountMismatch {
                    features: 2,
                    labels: 3,
                    ..
                }
            ),
            "{err}"
        );
        assert_names(&err, "good.npy");
        assert_names(&err, "three.npy");

        let big = npy_bytes(
            "<i4",
            &[2],
            &[1i32, 256]
                .iter()
                .flat_map(|x| x.to_le_bytes())
                .collect::<Vec<_>>(),
        );
        let l = write(&dir, "big.npy", &big)?;
        let err = load_npy(&gp, Some(&l), None).err().ok_or("256 accepted")?;
        let at = (data_at(&big) + 4) as u64;
        assert!(
            matches!(err, DataError::LabelOutOfRange { label: 256, limit: 256, location: Location::Offset(o), .. } if o == at),
            "{err}"
        );
        assert_names(&err, "big.npy");
        let l = write(&dir, "neg.npy", &npy_bytes("|i1", &[2], &[1, 0xff]))?;
        let err = load_npy(&gp, Some(&l), None).err().ok_or("-1 accepted")?;
        assert!(
            matches!(err, DataError::LabelOutOfRange { label: -1, .. }),
            "{err}"
        );
        let cls = npy_bytes("|u1", &[2], &[1, 5]);
        let l = write(&dir, "cls.npy", &cls)?;
        let err = load_npy(&gp, Some(&l), Some(5))
            .err()
            .ok_or("label 5 of 5 accepted")?;
        let at = (data_at(&cls) + 1) as u64;
        assert!(
            matches!(err, DataError::LabelOutOfRange { label: 5, limit: 5, location: Location::Offset(o), .. } if o == at),
            "{err}"
        );

        let l = write(&dir, "flt.npy", &npy_bytes("<f4", &[2], &f32s(&[0.0, 1.0])))?;
        let err = load_npy(&gp, Some(&l), None)
            .err()
            .ok_or("float labels accepted")?;
        assert!(matches!(err, DataError::Unsupported { .. }), "{err}");
        assert_names(&err, "flt.npy");
        let l = write(&dir, "l2d.npy", &npy_bytes("|u1", &[1, 2], &[0, 1]))?;
        let err = load_npy(&gp, Some(&l), None)
            .err()
            .ok_or("2-D labels accepted")?;
        assert!(matches!(err, DataError::Unsupported { .. }), "{err}");
        Ok(())
    }
}
