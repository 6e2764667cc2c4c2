//! IDX files (the MNIST format): `0x00 0x00 <dtype> <ndims>`, then `ndims`
//! big-endian `u32` dimensions, then the data, big endian, C order.
//!
//! dtype codes: `0x08` u8, `0x09` i8, `0x0B` i16, `0x0C` i32, `0x0D` f32,
//! `0x0E` f64. Images may have any of them; labels must be a 1-D integer
//! array with values 0..=255.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::dataset::Dataset;
use super::error::{DataError, Location};
use super::file::{file_stem, matched_labels, read_file, sample_shape};

/// Which half of MNIST to load.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MnistSplit {
    #[default]
    Train,
    Test,
}

impl std::fmt::Display for MnistSplit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            MnistSplit::Train => "train",
            MnistSplit::Test => "test",
        })
    }
}

impl std::str::FromStr for MnistSplit {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "train" => Ok(MnistSplit::Train),
            "test" | "t10k" => Ok(MnistSplit::Test),
            other => Err(format!(
                "unknown MNIST split '{other}' (expected 'train' or 'test')"
            )),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum IdxType {
    U8,
    I8,
    I16,
    I32,
    F32,
    F64,
}

impl IdxType {
    fn from_code(code: u8) -> Option<Self> {
        Some(match code {
            0x08 => IdxType::U8,
            0x09 => IdxType::I8,
            0x0B => IdxType::I16,
            0x0C => IdxType::I32,
            0x0D => IdxType::F32,
            0x0E => IdxType::F64,
            _ => return None,
        })
    }

    fn size(self) -> usize {
        match self {
            IdxType::U8 | IdxType::I8 => 1,
            IdxType::I16 => 2,
            IdxType::I32 | IdxType::F32 => 4,
            IdxType::F64 => 8,
        }
    }
}

/// A parsed IDX file: its element type, dimensions and data bytes.
struct Idx {
    dtype: IdxType,
    dims: Vec<usize>,
    /// Offset of the first data byte in the file.
    data_offset: usize,
    bytes: Vec<u8>,
}

impl Idx {
    fn data(&self) -> &[u8] {
        &self.bytes[self.data_offset..]
    }
}

fn parse_idx(path: &Path) -> Result<Idx, DataError> {
    let file = read_file(path)?;
    let bytes = file.bytes;
    let truncated = |expected: usize, actual: usize| DataError::Truncated {
        path: path.to_owned(),
        expected: expected as u64,
        actual: actual as u64,
        decompressed: file.decompressed,
    };
    if bytes.len() < 4 {
        return Err(truncated(4, bytes.len()));
    }
    if bytes[0] != 0 || bytes[1] != 0 {
        return Err(DataError::BadMagic {
            path: path.to_owned(),
            offset: 0,
            expected: "IDX magic 00 00 <dtype> <ndims>".to_owned(),
            found: format!(
                "{:02x} {:02x} {:02x} {:02x}",
                bytes[0], bytes[1], bytes[2], bytes[3]
            ),
        });
    }
    let dtype = IdxType::from_code(bytes[2]).ok_or_else(|| DataError::BadMagic {
        path: path.to_owned(),
        offset: 2,
        expected: "an IDX type code (08, 09, 0b, 0c, 0d or 0e)".to_owned(),
        found: format!("{:02x}", bytes[2]),
    })?;
    let ndims = usize::from(bytes[3]);
    if ndims == 0 {
        return Err(DataError::BadHeader {
            path: path.to_owned(),
            offset: 3,
            reason: "zero dimensions".to_owned(),
        });
    }
    let data_offset = 4 + 4 * ndims;
    if bytes.len() < data_offset {
        return Err(truncated(data_offset, bytes.len()));
    }
    let dims: Vec<usize> = bytes[4..data_offset]
        .chunks_exact(4)
        .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]) as usize)
        .collect();
    let expected = dims
        .iter()
        .try_fold(dtype.size(), |acc, &d| acc.checked_mul(d))
        .and_then(|n| n.checked_add(data_offset))
        .ok_or_else(|| DataError::BadHeader {
            path: path.to_owned(),
            offset: 4,
            reason: format!("dimensions {dims:?} are too large"),
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
    Ok(Idx {
        dtype,
        dims,
        data_offset,
        bytes,
    })
}

/// Big-endian elements as `f64` (exact for every IDX type).
fn be_values(dtype: IdxType, data: &[u8]) -> Box<dyn Iterator<Item = f64> + '_> {
    match dtype {
        IdxType::U8 => Box::new(data.iter().map(|&b| f64::from(b))),
        IdxType::I8 => Box::new(data.iter().map(|&b| f64::from(b as i8))),
        IdxType::I16 => Box::new(
            data.chunks_exact(2)
                .map(|c| f64::from(i16::from_be_bytes([c[0], c[1]]))),
        ),
        IdxType::I32 => Box::new(
            data.chunks_exact(4)
                .map(|c| f64::from(i32::from_be_bytes([c[0], c[1], c[2], c[3]]))),
        ),
        IdxType::F32 => Box::new(
            data.chunks_exact(4)
                .map(|c| f64::from(f32::from_be_bytes([c[0], c[1], c[2], c[3]]))),
        ),
        IdxType::F64 => Box::new(
            data.chunks_exact(8)
                .map(|c| f64::from_be_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]])),
        ),
    }
}

fn read_features(path: &Path, idx: &Idx) -> Result<Vec<f32>, DataError> {
    if idx.dtype == IdxType::U8 {
        // The common (MNIST) case: straight conversion, no checks needed.
        return Ok(idx.data().iter().map(|&b| f32::from(b)).collect());
    }
    let mut out = Vec::with_capacity(idx.data().len() / idx.dtype.size());
    for (i, v) in be_values(idx.dtype, idx.data()).enumerate() {
        let f = v as f32;
        if !f.is_finite() {
            return Err(DataError::NonFinite {
                path: path.to_owned(),
                location: Location::Offset((idx.data_offset + i * idx.dtype.size()) as u64),
                value: v,
            });
        }
        out.push(f);
    }
    Ok(out)
}

fn read_labels(path: &Path, idx: &Idx) -> Result<Vec<u8>, DataError> {
    if idx.dims.len() != 1 {
        return Err(DataError::Unsupported {
            path: path.to_owned(),
            reason: format!(
                "a labels file must be 1-D, this one has dimensions {:?}",
                idx.dims
            ),
        });
    }
    if matches!(idx.dtype, IdxType::F32 | IdxType::F64) {
        return Err(DataError::Unsupported {
            path: path.to_owned(),
            reason: "labels must have an integer IDX type, not floating point".to_owned(),
        });
    }
    if idx.dtype == IdxType::U8 {
        return Ok(idx.data().to_vec());
    }
    let size = idx.dtype.size();
    be_values(idx.dtype, idx.data())
        .enumerate()
        .map(|(i, v)| {
            u8::try_from(v as i64).map_err(|_| DataError::LabelOutOfRange {
                path: path.to_owned(),
                location: Location::Offset((idx.data_offset + i * size) as u64),
                label: v as i128,
                limit: 256,
            })
        })
        .collect()
}

/// Loads an IDX images file (raw or gzipped) and optionally its labels.
///
/// Dimensions `[n]`, `[n, d]`, `[n, h, w]` and `[n, h, w, c]` give shapes
/// `[1, 1, 1]`, `[1, d, 1]`, `[h, w, 1]` and `[h, w, c]`. With `classes`
/// given, every label must be below it; otherwise `classes` is max label + 1
/// (or 0 without labels).
pub fn load_idx(
    images: &Path,
    labels: Option<&Path>,
    classes: Option<usize>,
) -> Result<Dataset, DataError> {
    let idx = parse_idx(images)?;
    let n = idx.dims[0];
    let shape = sample_shape(images, n, &idx.dims[1..], &idx.dims, "images")?;
    let features = read_features(images, &idx)?;
    drop(idx);

    let (labels, classes) = match labels {
        None => (None, classes.unwrap_or(0)),
        Some(lpath) => {
            let lidx = parse_idx(lpath)?;
            let labels = read_labels(lpath, &lidx)?;
            let (size, offset) = (lidx.dtype.size(), lidx.data_offset);
            let (labels, classes) =
                matched_labels(images, n, lpath, labels, classes, |i| offset + i * size)?;
            (Some(labels), classes)
        }
    };
    Ok(Dataset {
        name: file_stem(images),
        features,
        labels,
        shape,
        classes,
        class_names: Vec::new(),
    })
}

/// Loads MNIST (or anything in its layout, e.g. Fashion-MNIST) from `dir`:
/// `train-images-idx3-ubyte` / `train-labels-idx1-ubyte`, or the `t10k-`
/// pair for [`MnistSplit::Test`], each raw or with `.gz` (the
/// `train-images.idx3-ubyte` spelling is accepted too). 10 classes.
pub fn load_mnist_dir(dir: &Path, split: MnistSplit) -> Result<Dataset, DataError> {
    let (images, labels) = match split {
        MnistSplit::Train => ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
        MnistSplit::Test => ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
    };
    let images = find_mnist_file(dir, images)?;
    let labels = find_mnist_file(dir, labels)?;
    let mut data = load_idx(&images, Some(&labels), Some(10))?;
    data.name = format!("mnist-{split}");
    Ok(data)
}

fn find_mnist_file(dir: &Path, name: &'static str) -> Result<PathBuf, DataError> {
    let dotted = name.replacen("-idx", ".idx", 1);
    [
        name.to_owned(),
        format!("{name}.gz"),
        dotted.clone(),
        format!("{dotted}.gz"),
    ]
    .into_iter()
    .map(|n| dir.join(n))
    .find(|p| p.is_file())
    .ok_or_else(|| DataError::MnistFileMissing {
        dir: dir.to_owned(),
        name,
    })
}

/// Writes an IDX file (tests and tools): big-endian dims, u8 data.
#[cfg(test)]
pub(crate) fn idx_u8_bytes(dims: &[u32], data: &[u8]) -> Vec<u8> {
    let mut out = vec![0, 0, 0x08, dims.len() as u8];
    for d in dims {
        out.extend_from_slice(&d.to_be_bytes());
    }
    out.extend_from_slice(data);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    fn gz(bytes: &[u8]) -> Vec<u8> {
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(bytes).expect("in-memory gzip");
        enc.finish().expect("in-memory gzip")
    }

    fn assert_names(err: &DataError, file: &str) {
        assert!(
            err.to_string().contains(file),
            "message does not name {file}: {err}"
        );
    }

    #[test]
    fn round_trip_raw_and_gz() -> TestResult {
        let dir = tempfile::tempdir()?;
        let pixels: Vec<u8> = (0..3 * 2 * 4).map(|i| (i * 10) as u8).collect();
        let img = idx_u8_bytes(&[3, 2, 4], &pixels);
        let lab = idx_u8_bytes(&[3], &[2, 0, 7]);
        for (suffix, pack) in [("", false), (".gz", true), (".bin", true)] {
            let ip = dir.path().join(format!("img{suffix}"));
            let lp = dir.path().join(format!("lab{suffix}"));
            std::fs::write(&ip, if pack { gz(&img) } else { img.clone() })?;
            std::fs::write(&lp, if pack { gz(&lab) } else { lab.clone() })?;
            let d = load_idx(&ip, Some(&lp), None)?;
            assert_eq!(d.len(), 3);
            assert_eq!(d.shape, [2, 4, 1]);
            assert_eq!(d.classes, 8);
            assert_eq!(d.labels.as_deref(), Some(&[2u8, 0, 7][..]));
            assert_eq!(
                d.features,
                pixels.iter().map(|&p| f32::from(p)).collect::<Vec<_>>()
            );
            let u = load_idx(&ip, None, None)?;
            assert!(u.labels.is_none());
            assert_eq!(u.classes, 0);
            assert_eq!(load_idx(&ip, None, Some(10))?.classes, 10);
        }
        Ok(())
    }

    #[test]
    fn other_dtypes_and_shapes() -> TestResult {
        let dir = tempfile::tempdir()?;
        // f32, dims [2, 3] -> shape [1, 3, 1]
        let mut b = vec![0, 0, 0x0D, 2];
        for d in [2u32, 3] {
            b.extend_from_slice(&d.to_be_bytes());
        }
        for v in [0.5f32, -1.0, 2.0, 3.25, 4.0, 5.0] {
            b.extend_from_slice(&v.to_be_bytes());
        }
        let p = dir.path().join("f32.idx");
        std::fs::write(&p, &b)?;
        let d = load_idx(&p, None, None)?;
        assert_eq!(d.shape, [1, 3, 1]);
        assert_eq!(d.features, vec![0.5, -1.0, 2.0, 3.25, 4.0, 5.0]);

        // NaN at sample 1, element 1 -> offset 12 + 4 * 4 = 28.
        let at = 12 + 4 * 4;
        b[at..at + 4].copy_from_slice(&f32::NAN.to_be_bytes());
        std::fs::write(&p, &b)?;
        let err = load_idx(&p, None, None).err().ok_or("NaN accepted")?;
        assert!(
            matches!(
                err,
                DataError::NonFinite {
                    location: Location::Offset(28),
                    ..
                }
            ),
            "{err}"
        );
        assert_names(&err, "f32.idx");
        assert!(err.to_string().contains("byte offset 28"), "{err}");

        // i32 labels
        let mut l = vec![0, 0, 0x0C, 1];
        l.extend_from_slice(&2u32.to_be_bytes());
        l.extend_from_slice(&1i32.to_be_bytes());
        l.extend_from_slice(&300i32.to_be_bytes());
        let lp = dir.path().join("i32-labels.idx");
        std::fs::write(&lp, &l)?;
        b[at..at + 4].copy_from_slice(&1.0f32.to_be_bytes());
        std::fs::write(&p, &b)?;
        let err = load_idx(&p, Some(&lp), None)
            .err()
            .ok_or("label 300 accepted")?;
        assert!(
            matches!(
                err,
                DataError::LabelOutOfRange {
                    label: 300,
                    limit: 256,
                    location: Location::Offset(12),
                    ..
                }
            ),
            "{err}"
        );
        assert_names(&err, "i32-labels.idx");
        Ok(())
    }

    #[test]
    fn malformed_files() -> TestResult {
        let dir = tempfile::tempdir()?;
        let w = |name: &str, bytes: &[u8]| -> Result<PathBuf, std::io::Error> {
            let p = dir.path().join(name);
            std::fs::write(&p, bytes)?;
            Ok(p)
        };

        // Wrong magic.
        let p = w("magic.idx", b"\x01\x02\x08\x03rest")?;
        let err = load_idx(&p, None, None).err().ok_or("bad magic accepted")?;
        assert!(
            matches!(err, DataError::BadMagic { offset: 0, .. }),
            "{err}"
        );
        assert_names(&err, "magic.idx");

        // Unknown type code.
        let p = w("dtype.idx", &[0, 0, 0x07, 1, 0, 0, 0, 0])?;
        let err = load_idx(&p, None, None).err().ok_or("bad dtype accepted")?;
        assert!(
            matches!(err, DataError::BadMagic { offset: 2, .. }),
            "{err}"
        );
        assert_names(&err, "dtype.idx");

        // Truncated data: says expected vs actual.
        let mut b = idx_u8_bytes(&[2, 2, 2], &[1; 8]);
        b.truncate(b.len() - 3);
        let p = w("short.idx", &b)?;
        let err = load_idx(&p, None, None).err().ok_or("truncated accepted")?;
        assert!(
            matches!(
                err,
                DataError::Truncated {
                    expected: 24,
                    actual: 21,
                    decompressed: false,
                    ..
                }
            ),
            "{err}"
        );
        assert_names(&err, "short.idx");
        assert!(err.to_string().contains("expected 24 bytes"), "{err}");
        assert!(err.to_string().contains("found 21"), "{err}");

        // Truncated data inside a valid gzip stream.
        let p = w("short-gz.idx", &gz(&b))?;
        let err = load_idx(&p, None, None).err().ok_or("truncated accepted")?;
        assert!(
            matches!(
                err,
                DataError::Truncated {
                    decompressed: true,
                    ..
                }
            ),
            "{err}"
        );
        assert!(err.to_string().contains("after gzip"), "{err}");

        // Truncated header.
        let p = w("hdr.idx", &[0, 0, 8, 3, 0, 0])?;
        let err = load_idx(&p, None, None)
            .err()
            .ok_or("truncated header accepted")?;
        assert!(
            matches!(
                err,
                DataError::Truncated {
                    expected: 16,
                    actual: 6,
                    ..
                }
            ),
            "{err}"
        );
        let p = w("tiny.idx", &[0, 0])?;
        let err = load_idx(&p, None, None)
            .err()
            .ok_or("2-byte file accepted")?;
        assert!(
            matches!(
                err,
                DataError::Truncated {
                    expected: 4,
                    actual: 2,
                    ..
                }
            ),
            "{err}"
        );

        // Trailing garbage.
        let mut b = idx_u8_bytes(&[2, 2, 2], &[1; 8]);
        b.push(9);
        let p = w("long.idx", &b)?;
        let err = load_idx(&p, None, None)
            .err()
            .ok_or("trailing bytes accepted")?;
        assert!(
            matches!(
                err,
                DataError::TrailingBytes {
                    expected: 24,
                    actual: 25,
                    ..
                }
            ),
            "{err}"
        );
        assert_names(&err, "long.idx");

        // Absurd dims in a tiny file: no huge allocation, just an error.
        let p = w(
            "huge.idx",
            &idx_u8_bytes(&[u32::MAX, u32::MAX, u32::MAX], &[]),
        )?;
        let err = load_idx(&p, None, None).err().ok_or("huge dims accepted")?;
        assert!(
            matches!(
                err,
                DataError::Truncated { .. } | DataError::BadHeader { .. }
            ),
            "{err}"
        );
        assert_names(&err, "huge.idx");

        // Empty file, zero samples.
        let p = w("empty.idx", b"")?;
        let err = load_idx(&p, None, None).err().ok_or("empty accepted")?;
        assert!(matches!(err, DataError::Empty { .. }), "{err}");
        assert_names(&err, "empty.idx");
        let p = w("zero.idx", &idx_u8_bytes(&[0, 2, 2], &[]))?;
        let err = load_idx(&p, None, None)
            .err()
            .ok_or("zero samples accepted")?;
        assert!(matches!(err, DataError::Empty { .. }), "{err}");
        Ok(())
    }

    /// Labels that do not fit the images: count, range, shape.
    #[test]
    fn malformed_label_files() -> TestResult {
        let dir = tempfile::tempdir()?;
        let w = |name: &str, bytes: &[u8]| -> Result<PathBuf, std::io::Error> {
            let p = dir.path().join(name);
            std::fs::write(&p, bytes)?;
            Ok(p)
        };
        let good_img = w("good-img", &idx_u8_bytes(&[2, 2, 2], &[1; 8]))?;

        // Image/label count mismatch.
        let lp = w("three-labels", &idx_u8_bytes(&[3], &[0, 1, 2]))?;
        let err = load_idx(&good_img, Some(&lp), None)
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
        assert_names(&err, "good-img");
        assert_names(&err, "three-labels");

        // Label >= classes (MNIST: 10), with its byte offset.
        let lp = w("label-10", &idx_u8_bytes(&[2], &[3, 10]))?;
        let err = load_idx(&good_img, Some(&lp), Some(10))
            .err()
            .ok_or("label 10 accepted")?;
        assert!(
            matches!(
                err,
                DataError::LabelOutOfRange {
                    label: 10,
                    limit: 10,
                    location: Location::Offset(9),
                    ..
                }
            ),
            "{err}"
        );
        assert_names(&err, "label-10");

        // 2-D labels file.
        let lp = w("labels-2d", &idx_u8_bytes(&[2, 1], &[0, 1]))?;
        let err = load_idx(&good_img, Some(&lp), None)
            .err()
            .ok_or("2-D labels accepted")?;
        assert!(matches!(err, DataError::Unsupported { .. }), "{err}");
        assert_names(&err, "labels-2d");
        Ok(())
    }

    #[test]
    fn mnist_dir_layout_and_missing_files() -> TestResult {
        let dir = tempfile::tempdir()?;
        std::fs::write(
            dir.path().join("t10k-images-idx3-ubyte.gz"),
            gz(&idx_u8_bytes(&[2, 1, 2], &[0, 255, 3, 4])),
        )?;
        std::fs::write(
            dir.path().join("t10k-labels.idx1-ubyte"),
            idx_u8_bytes(&[2], &[9, 0]),
        )?;
        let d = load_mnist_dir(dir.path(), MnistSplit::Test)?;
        assert_eq!(d.name, "mnist-test");
        assert_eq!(d.classes, 10);
        assert_eq!(d.shape, [1, 2, 1]);
        let err = load_mnist_dir(dir.path(), MnistSplit::Train)
            .err()
            .ok_or("missing train accepted")?;
        assert!(matches!(err, DataError::MnistFileMissing { .. }), "{err}");
        assert!(err.to_string().contains("train-images-idx3-ubyte"), "{err}");
        assert_eq!("TEST".parse::<MnistSplit>(), Ok(MnistSplit::Test));
        assert!("val".parse::<MnistSplit>().is_err());
        Ok(())
    }

    /// Real MNIST, when the team data folder (or `$MINNOW_MNIST_DIR`) has it.
    #[test]
    fn real_mnist() -> TestResult {
        let dir = match super::super::test_mnist_dir() {
            Ok(dir) => dir,
            Err(why) => {
                println!("skipped: real_mnist checked nothing: {why}");
                return Ok(());
            }
        };
        let t = std::time::Instant::now();
        let train = load_mnist_dir(&dir, MnistSplit::Train)?;
        let took = t.elapsed();
        println!("loaded MNIST train from {} in {took:.2?}", dir.display());
        assert_eq!(train.len(), 60_000);
        assert_eq!(train.shape, [28, 28, 1]);
        assert_eq!(train.classes, 10);
        assert_eq!(train.features.len(), 60_000 * 784);
        assert_eq!(train.features.iter().copied().fold(0.0f32, f32::max), 255.0);
        let counts = train.class_counts().ok_or("unlabeled")?;
        // Well-known MNIST train class counts.
        assert_eq!(
            counts,
            vec![5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
        );
        // Release builds must stay far below this; debug builds are slower.
        if !cfg!(debug_assertions) {
            assert!(took.as_secs_f32() < 3.0, "MNIST train took {took:?}");
        }
        let t = std::time::Instant::now();
        let fp = train.fingerprint();
        println!("MNIST train fingerprint {fp} in {:.2?}", t.elapsed());
        let t = std::time::Instant::now();
        let s = super::super::split(&train, 0.1, 0.0, 1)?;
        let (norm, _) = super::super::Standardizer::fit(&s.train, super::super::NormScope::Global)?;
        println!("split + fit in {:.2?}: {norm:?}", t.elapsed());
        assert!(
            (30.0..36.0).contains(&norm.mean[0]) && (75.0..82.0).contains(&norm.std[0]),
            "{norm:?}"
        );
        let test = load_mnist_dir(&dir, MnistSplit::Test)?;
        assert_eq!(test.len(), 10_000);
        assert_eq!(
            test.class_counts()
                .ok_or("unlabeled")?
                .iter()
                .sum::<usize>(),
            10_000
        );
        Ok(())
    }
}
