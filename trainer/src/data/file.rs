//! Reading a data file: gzip recognised by its magic bytes (never by the name), the name a
//! dataset takes from its file, and the label check every loader shares.

use std::io::Read;
use std::path::Path;

use super::error::{DataError, Location};

/// Gzip member magic (RFC 1952).
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// The bytes of a file, decompressed if it starts with the gzip magic.
pub(crate) struct FileBytes {
    pub bytes: Vec<u8>,
    /// Whether `bytes` came out of gzip.
    pub decompressed: bool,
}

/// Reads `path` once, decompressing it when it starts with the gzip magic.
/// Errors on an empty file (before or after decompression).
pub(crate) fn read_file(path: &Path) -> Result<FileBytes, DataError> {
    let raw = std::fs::read(path).map_err(|source| DataError::Io {
        path: path.to_owned(),
        source,
    })?;
    let decompressed = raw.starts_with(&GZIP_MAGIC);
    let bytes = decode_bytes(path, raw)?;
    Ok(FileBytes {
        bytes,
        decompressed,
    })
}

/// Gunzips `raw` if it has the gzip magic, else returns it unchanged.
pub(crate) fn decode_bytes(path: &Path, raw: Vec<u8>) -> Result<Vec<u8>, DataError> {
    if raw.is_empty() {
        return Err(DataError::Empty {
            path: path.to_owned(),
            what: "file is empty",
        });
    }
    if !raw.starts_with(&GZIP_MAGIC) {
        return Ok(raw);
    }
    // The gzip trailer holds the uncompressed size mod 2^32: a good capacity
    // hint for single-member files; capped so a forged trailer cannot make us
    // reserve absurd amounts up front.
    let hint = raw
        .len()
        .checked_sub(4)
        .and_then(|at| raw.get(at..))
        .and_then(|t| <[u8; 4]>::try_from(t).ok())
        .map_or(0, |t| u32::from_le_bytes(t) as usize)
        .min(raw.len().saturating_mul(64));
    let mut out = Vec::with_capacity(hint);
    flate2::read::MultiGzDecoder::new(raw.as_slice())
        .read_to_end(&mut out)
        .map_err(|source| DataError::Decompress {
            path: path.to_owned(),
            source,
        })?;
    if out.is_empty() {
        return Err(DataError::Empty {
            path: path.to_owned(),
            what: "file is empty after gzip decompression",
        });
    }
    Ok(out)
}

/// `digits.csv.gz` → `digits`, `train-images-idx3-ubyte.gz` →
/// `train-images-idx3-ubyte`, `x.npy` → `x`.
pub(crate) fn file_stem(path: &Path) -> String {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "data".to_owned());
    let name = name.strip_suffix(".gz").unwrap_or(&name);
    match name.rsplit_once('.') {
        Some((stem, _)) if !stem.is_empty() => stem.to_owned(),
        _ => name.to_owned(),
    }
}

/// Checks labels against `classes` (when given) and returns the class count:
/// `classes`, or max label + 1. `loc(i)` says where label `i` sits in `path`.
pub(crate) fn check_labels(
    path: &Path,
    labels: &[u8],
    classes: Option<usize>,
    loc: impl Fn(usize) -> Location,
) -> Result<usize, DataError> {
    match classes {
        Some(classes) => {
            if let Some(i) = labels.iter().position(|&l| usize::from(l) >= classes) {
                return Err(DataError::LabelOutOfRange {
                    path: path.to_owned(),
                    location: loc(i),
                    label: i128::from(labels[i]),
                    limit: classes,
                });
            }
            Ok(classes)
        }
        None => Ok(labels
            .iter()
            .map(|&l| usize::from(l) + 1)
            .max()
            .unwrap_or(0)),
    }
}

/// The shape of one sample of an array of `n` samples whose other dimensions are `rest`:
/// `[]` → `[1, 1, 1]`, `[d]` → `[1, d, 1]`, `[h, w]` → `[h, w, 1]`, `[h, w, c]` as it is;
/// `None` for more dimensions. An empty array or zero-sized samples are refused, naming the
/// file and its `dims`.
pub(crate) fn sample_shape(
    path: &Path,
    n: usize,
    rest: &[usize],
    dims: &[usize],
    what: &'static str,
) -> Result<[usize; 3], DataError> {
    let shape = match *rest {
        [] => [1, 1, 1],
        [d] => [1, d, 1],
        [h, w] => [h, w, 1],
        [h, w, c] => [h, w, c],
        _ => {
            return Err(DataError::Unsupported {
                path: path.to_owned(),
                reason: format!("{what} with {} dimensions {dims:?} (at most 4)", dims.len()),
            });
        }
    };
    if n == 0 {
        return Err(DataError::Empty {
            path: path.to_owned(),
            what: "the file holds no samples",
        });
    }
    if shape.contains(&0) {
        return Err(DataError::Unsupported {
            path: path.to_owned(),
            reason: format!("samples of zero size, dimensions {dims:?}"),
        });
    }
    Ok(shape)
}

/// The labels of the `n` samples of `features`, read from `labels_path`: one per sample, each
/// below `classes` when given; and the class count (see [`check_labels`]). `offset(i)` is where
/// label `i` sits in its file.
pub(crate) fn matched_labels(
    features: &Path,
    n: usize,
    labels_path: &Path,
    labels: Vec<u8>,
    classes: Option<usize>,
    offset: impl Fn(usize) -> usize,
) -> Result<(Vec<u8>, usize), DataError> {
    if labels.len() != n {
        return Err(DataError::CountMismatch {
            features_path: features.to_owned(),
            features: n,
            labels_path: labels_path.to_owned(),
            labels: labels.len(),
        });
    }
    let classes = check_labels(labels_path, &labels, classes, |i| {
        Location::Offset(offset(i) as u64)
    })?;
    Ok((labels, classes))
}
