//! Cached teacher logits: run the teacher once over the transfer set, store
//! its logits, and let distillation read rows instead of running the teacher
//! for every batch.
//!
//! The logits live in a plain NPY v1.0 file (a 2-D `(n, classes)` array of
//! `<f4` or `<f2`, C order) so that other tools can write it — a teacher too
//! big for this machine gets its logits computed elsewhere (numpy, PyTorch)
//! and handed over. Next to it, `<file>.json` (e.g. `teacher.npy.json`)
//! records provenance: which transfer set (data fingerprint), which teacher
//! (opaque teacher fingerprint), who produced it, and the SHA-256 of the
//! `.npy` bytes so that a sidecar can never vouch for a different array.
//!
//! The values are raw logits, never probabilities: the temperature is applied
//! at training time (`softmax(z / T)`), so one cache serves every `T`.
//! Caching is only valid when the teacher sees exactly the stored inputs:
//! with input augmentation the teacher must run live (the trainer decides).
//!
//! See `docs/logit-cache.md` for the format and the rules.

use std::fmt;
use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

use half::f16;
use memmap2::Mmap;
use serde::{Deserialize, Serialize};

use crate::data::npy_format::{self, Descr, HeaderError};
use crate::files;
use crate::fingerprint::sha256_hex;

/// `format` field of the sidecar.
pub const SIDECAR_FORMAT: &str = "minnow-logit-cache";
/// `format_version` of the sidecar this code writes and reads.
pub const SIDECAR_VERSION: u32 = 1;
/// `values` field of the sidecar: what the array holds.
const VALUES: &str = "logits";
const TEMPERATURE_NOTE: &str = "raw pre-softmax teacher logits, independent of the distillation \
     temperature: the trainer applies softmax(z / T) itself, so one cache serves every T";

/// Element type of the stored logits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogitDtype {
    /// `<f4`: exact.
    F32,
    /// `<f2`: half the size; about 3 significant decimal digits, |z| ≤ 65504.
    F16,
}

impl LogitDtype {
    /// The NPY `descr` string.
    pub fn descr(self) -> &'static str {
        match self {
            LogitDtype::F32 => "<f4",
            LogitDtype::F16 => "<f2",
        }
    }

    pub fn size(self) -> usize {
        match self {
            LogitDtype::F32 => 4,
            LogitDtype::F16 => 2,
        }
    }

    fn from_descr(descr: &str) -> Option<Self> {
        match descr {
            "<f4" => Some(LogitDtype::F32),
            "<f2" => Some(LogitDtype::F16),
            _ => None,
        }
    }
}

impl fmt::Display for LogitDtype {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.descr())
    }
}

/// What the caller vouches for when writing a cache.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Provenance {
    /// `Dataset::fingerprint()` of the transfer set, rows in the stored order.
    pub data_fingerprint: String,
    /// Opaque; the trainer's `teacher_fingerprint(path)`.
    pub teacher_fingerprint: String,
    /// The command or tool that produced the logits, e.g.
    /// `"minnow 0.1.0 cache-logits --teacher runs/t/teacher.mpk"`.
    pub producer: String,
}

/// Which fingerprint made a cache stale.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fingerprint {
    Data,
    Teacher,
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Fingerprint::Data => "data",
            Fingerprint::Teacher => "teacher",
        })
    }
}

/// The `<file>.json` sidecar, as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sidecar {
    /// Always [`SIDECAR_FORMAT`].
    pub format: String,
    /// [`SIDECAR_VERSION`].
    pub format_version: u32,
    /// Rows of the array (samples of the transfer set).
    pub n: usize,
    pub classes: usize,
    /// NPY `descr`: `"<f4"` or `"<f2"`.
    pub dtype: String,
    /// Always `"logits"`.
    pub values: String,
    /// Human-readable: logits, not probabilities; temperature-independent.
    pub note: String,
    pub data_fingerprint: String,
    pub teacher_fingerprint: String,
    /// The command or tool that produced the logits.
    pub producer: String,
    /// Which program wrote this sidecar, e.g. `"minnow 0.1.0"`.
    pub writer: String,
    /// Hex SHA-256 of the whole `.npy` file.
    pub npy_sha256: String,
    /// Seconds since the Unix epoch when the sidecar was written.
    pub created_unix_s: u64,
}

/// Errors of the logit cache. Each names the file concerned.
#[derive(thiserror::Error, Debug)]
pub enum CacheError {
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("{}: not an NPY file: starts with {found:02x?}, expected \\x93NUMPY", path.display())]
    BadMagic { path: PathBuf, found: Vec<u8> },
    #[error("{}: unsupported NPY version {major}.{minor} (1.0, 2.0 and 3.0 are read)", path.display())]
    UnsupportedVersion { path: PathBuf, major: u8, minor: u8 },
    #[error("{}: malformed NPY header: {reason}", path.display())]
    BadHeader { path: PathBuf, reason: String },
    #[error(
        "{}: unsupported dtype '{descr}': logits must be little-endian float32 '<f4' or float16 '<f2' \
         (numpy: a.astype('<f4'))",
        path.display()
    )]
    UnsupportedDtype { path: PathBuf, descr: String },
    #[error(
        "{}: Fortran-order (column-major) array refused: logits must be C order \
         (numpy: np.ascontiguousarray(a))",
        path.display()
    )]
    FortranOrder { path: PathBuf },
    #[error("{}: unsupported shape {shape:?}: logits must be a 2-D array (n, classes) with classes >= 1", path.display())]
    UnsupportedShape { path: PathBuf, shape: Vec<usize> },
    #[error("{}: truncated: the header promises {expected} data bytes but the file holds {actual}", path.display())]
    Truncated {
        path: PathBuf,
        expected: u64,
        actual: u64,
    },
    #[error("{}: {extra} unexpected bytes after the {expected} data bytes the header promises", path.display())]
    TrailingBytes {
        path: PathBuf,
        expected: u64,
        extra: u64,
    },
    #[error(
        "{}: no provenance sidecar {}: cannot check which data and teacher produced these logits; \
         logits computed elsewhere must be opened as foreign logits (provenance unchecked)",
        path.display(), sidecar.display()
    )]
    MissingSidecar { path: PathBuf, sidecar: PathBuf },
    #[error("{}: sidecar {} is not JSON of a logit cache: {source}", path.display(), sidecar.display())]
    SidecarJson {
        path: PathBuf,
        sidecar: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("{}: bad sidecar {}: {reason}", path.display(), sidecar.display())]
    BadSidecar {
        path: PathBuf,
        sidecar: PathBuf,
        reason: String,
    },
    #[error("{}: sidecar {} does not describe this array: {reason}", path.display(), sidecar.display())]
    SidecarMismatch {
        path: PathBuf,
        sidecar: PathBuf,
        reason: String,
    },
    #[error(
        "{}: stale logit cache: {which} fingerprint is {expected} now but the cache was made for {cached}; \
         recompute the logits",
        path.display()
    )]
    Stale {
        path: PathBuf,
        which: Fingerprint,
        expected: String,
        cached: String,
    },
    #[error("{}: the cache has {rows} rows but the transfer set has {expected}", path.display())]
    RowCount {
        path: PathBuf,
        rows: usize,
        expected: usize,
    },
    #[error("{}: row {index} out of range: the cache has {len} rows", path.display())]
    RowOutOfRange {
        path: PathBuf,
        index: usize,
        len: usize,
    },
    #[error("{}: a row has {classes} logits but the output buffer holds {actual}", path.display())]
    OutputLength {
        path: PathBuf,
        classes: usize,
        actual: usize,
    },
    #[error("{}: cannot write {len} logits as rows of {classes} classes", path.display())]
    BadInput {
        path: PathBuf,
        len: usize,
        classes: usize,
    },
    #[error("{}: refusing non-finite teacher logit {value} at row {row}, class {class}", path.display())]
    NonFinite {
        path: PathBuf,
        row: usize,
        class: usize,
        value: f32,
    },
    #[error(
        "{}: teacher logit {value} at row {row}, class {class} does not fit float16 (|z| <= 65504); store F32",
        path.display()
    )]
    F16Overflow {
        path: PathBuf,
        row: usize,
        class: usize,
        value: f32,
    },
}

impl From<files::IoError> for CacheError {
    fn from(e: files::IoError) -> Self {
        CacheError::Io {
            path: e.path,
            source: e.source,
        }
    }
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> CacheError + '_ {
    move |source| CacheError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// `teacher.npy` → `teacher.npy.json`.
pub fn sidecar_path(path: &Path) -> PathBuf {
    let mut s = path.as_os_str().to_os_string();
    s.push(".json");
    PathBuf::from(s)
}

/// The NPY v1.0 header (magic through the `\n`) numpy would write for a
/// C-order `(n, classes)` array of `dtype`; its length is a multiple of 64.
pub fn npy_header(n: usize, classes: usize, dtype: LogitDtype) -> Vec<u8> {
    npy_format::write_header(dtype.descr(), &[n, classes])
}

/// Checks the logits and encodes them (header + little-endian data).
fn encode(
    path: &Path,
    logits: &[f32],
    classes: usize,
    dtype: LogitDtype,
) -> Result<Vec<u8>, CacheError> {
    if classes == 0 || !logits.len().is_multiple_of(classes) {
        return Err(CacheError::BadInput {
            path: path.to_path_buf(),
            len: logits.len(),
            classes,
        });
    }
    let n = logits.len() / classes;
    let mut out = npy_header(n, classes, dtype);
    out.reserve(logits.len() * dtype.size());
    for (i, &v) in logits.iter().enumerate() {
        let (row, class) = (i / classes, i % classes);
        if !v.is_finite() {
            return Err(CacheError::NonFinite {
                path: path.to_path_buf(),
                row,
                class,
                value: v,
            });
        }
        match dtype {
            LogitDtype::F32 => out.extend_from_slice(&v.to_le_bytes()),
            LogitDtype::F16 => {
                let h = f16::from_f32(v);
                if !h.is_finite() {
                    return Err(CacheError::F16Overflow {
                        path: path.to_path_buf(),
                        row,
                        class,
                        value: v,
                    });
                }
                out.extend_from_slice(&h.to_bits().to_le_bytes());
            }
        }
    }
    Ok(out)
}

fn now_unix_s() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Writes `logits` (row-major `n × classes`) to `path` as NPY v1.0 and the
/// provenance to `<path>.json`, each atomically (temp file + rename).
///
/// Refuses NaN and ±inf (naming the row), and for `F16` values that do not
/// fit float16. Any existing sidecar is removed before the new `.npy` is put
/// in place, and the new sidecar records the SHA-256 of the new `.npy`: a
/// crash between the two renames leaves a cache without a sidecar (refused by
/// [`LogitCache::open`]), never new logits under an old provenance.
pub fn write_cache(
    path: &Path,
    logits: &[f32],
    classes: usize,
    dtype: LogitDtype,
    provenance: &Provenance,
) -> Result<(), CacheError> {
    let npy = encode(path, logits, classes, dtype)?;
    let sidecar = Sidecar::new(
        logits.len() / classes,
        classes,
        dtype,
        provenance,
        sha256_hex(&npy),
    );
    let json_path = sidecar_path(path);
    match std::fs::remove_file(&json_path) {
        Ok(()) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => {
            return Err(CacheError::Io {
                path: json_path,
                source: e,
            });
        }
    }
    files::write_atomic(path, &npy)?;
    files::write_atomic(&json_path, &sidecar.to_json())?;
    Ok(())
}

impl Sidecar {
    fn new(
        n: usize,
        classes: usize,
        dtype: LogitDtype,
        provenance: &Provenance,
        npy_sha256: String,
    ) -> Self {
        Sidecar {
            format: SIDECAR_FORMAT.into(),
            format_version: SIDECAR_VERSION,
            n,
            classes,
            dtype: dtype.descr().into(),
            values: VALUES.into(),
            note: TEMPERATURE_NOTE.into(),
            data_fingerprint: provenance.data_fingerprint.clone(),
            teacher_fingerprint: provenance.teacher_fingerprint.clone(),
            producer: provenance.producer.clone(),
            writer: concat!("minnow ", env!("CARGO_PKG_VERSION")).into(),
            npy_sha256,
            created_unix_s: now_unix_s(),
        }
    }

    fn to_json(&self) -> Vec<u8> {
        let mut json = serde_json::to_vec_pretty(self).expect("the sidecar serialises");
        json.push(b'\n');
        json
    }
}

/// A parsed NPY header.
#[derive(Debug)]
struct NpyHeader {
    n: usize,
    classes: usize,
    dtype: LogitDtype,
    data_offset: usize,
}

/// Parses and checks the header of an NPY file holding `file_len` bytes.
fn parse_header(path: &Path, bytes: &[u8], file_len: u64) -> Result<NpyHeader, CacheError> {
    let path = path.to_path_buf();
    let header = npy_format::read_header(bytes).map_err(|e| match e {
        HeaderError::BadMagic { found } => CacheError::BadMagic {
            path: path.clone(),
            found,
        },
        HeaderError::UnsupportedVersion { major, minor } => CacheError::UnsupportedVersion {
            path: path.clone(),
            major,
            minor,
        },
        HeaderError::Truncated { needed, .. } => CacheError::Truncated {
            path: path.clone(),
            expected: needed as u64,
            actual: file_len,
        },
        HeaderError::Syntax { offset, reason } => CacheError::BadHeader {
            path: path.clone(),
            reason: format!("{reason} (byte {offset})"),
        },
    })?;
    let descr = match header.descr {
        Descr::Simple(d) => d,
        Descr::Structured => "structured dtype".into(),
    };
    let dtype = LogitDtype::from_descr(&descr).ok_or_else(|| CacheError::UnsupportedDtype {
        path: path.clone(),
        descr,
    })?;
    let shape = header.shape;
    let [n, classes] = shape[..] else {
        return Err(CacheError::UnsupportedShape { path, shape });
    };
    if classes == 0 {
        return Err(CacheError::UnsupportedShape { path, shape });
    }
    // A 2-D Fortran array with more than one row and column is laid out
    // differently; refuse all of them so the rule is simple.
    if header.fortran_order {
        return Err(CacheError::FortranOrder { path });
    }
    let expected = (n as u64)
        .checked_mul(classes as u64)
        .and_then(|v| v.checked_mul(dtype.size() as u64))
        .ok_or_else(|| CacheError::UnsupportedShape {
            path: path.clone(),
            shape: vec![n, classes],
        })?;
    let actual = file_len - header.data_offset as u64;
    if actual < expected {
        return Err(CacheError::Truncated {
            path,
            expected,
            actual,
        });
    }
    if actual > expected {
        return Err(CacheError::TrailingBytes {
            path,
            expected,
            extra: actual - expected,
        });
    }
    Ok(NpyHeader {
        n,
        classes,
        dtype,
        data_offset: header.data_offset,
    })
}

/// A memory-mapped logit cache.
pub struct LogitCache {
    path: PathBuf,
    /// `None` for an empty data section (zero rows) is not needed: the
    /// header is never empty, so the map always holds at least it.
    map: Mmap,
    n: usize,
    classes: usize,
    dtype: LogitDtype,
    data_offset: usize,
    sidecar: Option<Sidecar>,
}

impl fmt::Debug for LogitCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LogitCache")
            .field("path", &self.path)
            .field("n", &self.n)
            .field("classes", &self.classes)
            .field("dtype", &self.dtype)
            .field("provenance_checked", &self.sidecar.is_some())
            .finish_non_exhaustive()
    }
}

impl LogitCache {
    fn map(path: &Path) -> Result<Self, CacheError> {
        let file = File::open(path).map_err(io_err(path))?;
        let file_len = file.metadata().map_err(io_err(path))?.len();
        if file_len == 0 {
            return Err(CacheError::BadMagic {
                path: path.to_path_buf(),
                found: Vec::new(),
            });
        }
        // SAFETY: the map is read-only and private to this process. Writers
        // (write_cache) never modify a cache in place: they rename a new file
        // over it, which leaves this mapping on the old inode. Another tool
        // truncating the file in place while it is mapped would be a bug in
        // that tool (and could fault, as with any mmap).
        let map = unsafe { Mmap::map(&file) }.map_err(io_err(path))?;
        let header = parse_header(path, &map, file_len)?;
        Ok(Self {
            path: path.to_path_buf(),
            map,
            n: header.n,
            classes: header.classes,
            dtype: header.dtype,
            data_offset: header.data_offset,
            sidecar: None,
        })
    }

    /// Opens a cache written by [`write_cache`] (or by another tool that
    /// wrote a full sidecar) and checks that it belongs to this transfer set
    /// and, if given, this teacher. A missing sidecar is an error: logits
    /// without provenance are only accepted through [`LogitCache::open_foreign`].
    pub fn open(
        path: &Path,
        expected_data_fingerprint: &str,
        expected_teacher_fingerprint: Option<&str>,
    ) -> Result<Self, CacheError> {
        let json_path = sidecar_path(path);
        let json = match std::fs::read(&json_path) {
            Ok(j) => j,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                // Report a missing .npy as such, not as a missing sidecar.
                std::fs::metadata(path).map_err(io_err(path))?;
                return Err(CacheError::MissingSidecar {
                    path: path.to_path_buf(),
                    sidecar: json_path,
                });
            }
            Err(e) => {
                return Err(CacheError::Io {
                    path: json_path,
                    source: e,
                });
            }
        };
        let mut cache = Self::map(path)?;
        let bad = |reason: String| CacheError::BadSidecar {
            path: path.to_path_buf(),
            sidecar: json_path.clone(),
            reason,
        };
        let sidecar: Sidecar =
            serde_json::from_slice(&json).map_err(|source| CacheError::SidecarJson {
                path: path.to_path_buf(),
                sidecar: json_path.clone(),
                source,
            })?;
        if sidecar.format != SIDECAR_FORMAT {
            return Err(bad(format!(
                "format is {:?}, expected {SIDECAR_FORMAT:?}",
                sidecar.format
            )));
        }
        if sidecar.format_version != SIDECAR_VERSION {
            return Err(bad(format!(
                "format_version {} is not supported (this minnow reads {SIDECAR_VERSION})",
                sidecar.format_version
            )));
        }
        if sidecar.values != VALUES {
            return Err(bad(format!(
                "values is {:?}; the cache must hold raw {VALUES:?}",
                sidecar.values
            )));
        }
        let mismatch = |reason: String| CacheError::SidecarMismatch {
            path: path.to_path_buf(),
            sidecar: json_path.clone(),
            reason,
        };
        if (sidecar.n, sidecar.classes) != (cache.n, cache.classes)
            || sidecar.dtype != cache.dtype.descr()
        {
            return Err(mismatch(format!(
                "the sidecar says ({}, {}) {} but the array is ({}, {}) {}",
                sidecar.n, sidecar.classes, sidecar.dtype, cache.n, cache.classes, cache.dtype
            )));
        }
        let sha = sha256_hex(&cache.map);
        if !sha.eq_ignore_ascii_case(&sidecar.npy_sha256) {
            return Err(mismatch(format!(
                "the .npy has SHA-256 {sha} but the sidecar was written for {}: the array was replaced or modified",
                sidecar.npy_sha256
            )));
        }
        if sidecar.data_fingerprint != expected_data_fingerprint {
            return Err(CacheError::Stale {
                path: path.to_path_buf(),
                which: Fingerprint::Data,
                expected: expected_data_fingerprint.into(),
                cached: sidecar.data_fingerprint,
            });
        }
        if let Some(teacher) = expected_teacher_fingerprint
            && sidecar.teacher_fingerprint != teacher
        {
            return Err(CacheError::Stale {
                path: path.to_path_buf(),
                which: Fingerprint::Teacher,
                expected: teacher.into(),
                cached: sidecar.teacher_fingerprint,
            });
        }
        cache.check_finite()?;
        cache.sidecar = Some(sidecar);
        Ok(cache)
    }

    /// Refuses NaN/inf anywhere in the array (other tools may have written it).
    fn check_finite(&self) -> Result<(), CacheError> {
        let mut row = vec![0.0; self.classes];
        for i in 0..self.n {
            Self::decode(self.dtype, self.row_bytes(i)?, &mut row);
            if let Some((class, &value)) = row.iter().enumerate().find(|(_, v)| !v.is_finite()) {
                return Err(CacheError::NonFinite {
                    path: self.path.clone(),
                    row: i,
                    class,
                    value,
                });
            }
        }
        Ok(())
    }

    /// Maps logits that must hold `expected_rows` rows of finite values.
    fn map_rows(path: &Path, expected_rows: usize) -> Result<Self, CacheError> {
        let cache = Self::map(path)?;
        if cache.n != expected_rows {
            return Err(CacheError::RowCount {
                path: path.to_path_buf(),
                rows: cache.n,
                expected: expected_rows,
            });
        }
        cache.check_finite()?;
        Ok(cache)
    }

    /// Opens logits computed elsewhere, without a sidecar: checks the NPY
    /// format and that there is one row per sample of the transfer set, and
    /// warns on stderr that nothing ties the rows to this data or teacher.
    pub fn open_foreign(path: &Path, expected_rows: usize) -> Result<Self, CacheError> {
        let cache = Self::map_rows(path, expected_rows)?;
        eprintln!(
            "warning: {}: using foreign teacher logits ({} x {} {}) with UNCHECKED provenance: nothing ties \
             them to this transfer set, its row order or a teacher; only the shape was checked",
            path.display(),
            cache.n,
            cache.classes,
            cache.dtype
        );
        Ok(cache)
    }

    /// Adopts foreign logits: checks them as [`LogitCache::open_foreign`]
    /// does, then writes a sidecar (atomically) in which the caller vouches
    /// for `provenance` — that the rows are this transfer set's, in its
    /// order, from that teacher. From then on [`LogitCache::open`] checks
    /// them like a cache minnow wrote; `producer` should say where the
    /// logits came from (e.g. `"adopted: teacher.npy from the GPU box"`).
    pub fn adopt_foreign(
        path: &Path,
        expected_rows: usize,
        provenance: &Provenance,
    ) -> Result<Self, CacheError> {
        let mut cache = Self::map_rows(path, expected_rows)?;
        let sidecar = Sidecar::new(
            cache.n,
            cache.classes,
            cache.dtype,
            provenance,
            sha256_hex(&cache.map),
        );
        files::write_atomic(&sidecar_path(path), &sidecar.to_json())?;
        cache.sidecar = Some(sidecar);
        Ok(cache)
    }

    pub fn len(&self) -> usize {
        self.n
    }

    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    pub fn classes(&self) -> usize {
        self.classes
    }

    pub fn dtype(&self) -> LogitDtype {
        self.dtype
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The checked sidecar; `None` when opened with [`LogitCache::open_foreign`].
    pub fn sidecar(&self) -> Option<&Sidecar> {
        self.sidecar.as_ref()
    }

    fn row_bytes(&self, i: usize) -> Result<&[u8], CacheError> {
        if i >= self.n {
            return Err(CacheError::RowOutOfRange {
                path: self.path.clone(),
                index: i,
                len: self.n,
            });
        }
        let width = self.classes * self.dtype.size();
        let start = self.data_offset + i * width;
        Ok(&self.map[start..start + width])
    }

    fn decode(dtype: LogitDtype, bytes: &[u8], out: &mut [f32]) {
        match dtype {
            LogitDtype::F32 => {
                for (o, b) in out.iter_mut().zip(bytes.chunks_exact(4)) {
                    *o = f32::from_le_bytes([b[0], b[1], b[2], b[3]]);
                }
            }
            LogitDtype::F16 => {
                for (o, b) in out.iter_mut().zip(bytes.chunks_exact(2)) {
                    *o = f16::from_bits(u16::from_le_bytes([b[0], b[1]])).to_f32();
                }
            }
        }
    }

    /// Decodes row `i` into `out`, which must hold exactly `classes()` values.
    pub fn row(&self, i: usize, out: &mut [f32]) -> Result<(), CacheError> {
        if out.len() != self.classes {
            return Err(CacheError::OutputLength {
                path: self.path.clone(),
                classes: self.classes,
                actual: out.len(),
            });
        }
        Self::decode(self.dtype, self.row_bytes(i)?, out);
        Ok(())
    }

    /// Gathers the rows `indices` (a batch, in that order) into one
    /// row-major `indices.len() × classes()` vector.
    pub fn rows(&self, indices: &[usize]) -> Result<Vec<f32>, CacheError> {
        let mut out = vec![0.0; indices.len() * self.classes];
        if self.classes == 0 {
            return Ok(out);
        }
        for (&i, dst) in indices.iter().zip(out.chunks_exact_mut(self.classes)) {
            Self::decode(self.dtype, self.row_bytes(i)?, dst);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prov(data: &str, teacher: &str) -> Provenance {
        Provenance {
            data_fingerprint: data.into(),
            teacher_fingerprint: teacher.into(),
            producer: "cache tests".into(),
        }
    }

    /// Deterministic logits with a wide range, negatives and fractions.
    fn logits(n: usize, classes: usize) -> Vec<f32> {
        (0..n * classes)
            .map(|i| ((i * 7919) % 2001) as f32 / 37.0 - 27.0)
            .collect()
    }

    fn write(
        dir: &Path,
        name: &str,
        n: usize,
        classes: usize,
        dtype: LogitDtype,
    ) -> (PathBuf, Vec<f32>) {
        let path = dir.join(name);
        let z = logits(n, classes);
        write_cache(&path, &z, classes, dtype, &prov("data-a", "teacher-a")).expect("write");
        (path, z)
    }

    #[test]
    fn header_is_what_numpy_writes() {
        // np.save of np.zeros((3, 10), '<f4') with numpy >= 1.23.
        let h = npy_header(3, 10, LogitDtype::F32);
        assert_eq!(h.len(), 128);
        let expected_dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 10), }";
        assert_eq!(&h[..8], b"\x93NUMPY\x01\x00");
        assert_eq!(u16::from_le_bytes([h[8], h[9]]), 118);
        assert_eq!(&h[10..10 + expected_dict.len()], expected_dict.as_bytes());
        assert!(h[10 + expected_dict.len()..127].iter().all(|&b| b == b' '));
        assert_eq!(h[127], b'\n');
        for (n, c) in [(0, 1), (60_000, 10), (1_000_000_000_000, 1000)] {
            for d in [LogitDtype::F32, LogitDtype::F16] {
                let h = npy_header(n, c, d);
                assert_eq!(h.len() % 64, 0, "{n} {c} {d}");
                let hdr = parse_header(
                    Path::new("x"),
                    &h,
                    h.len() as u64 + (n * c * d.size()) as u64,
                )
                .expect("parse");
                assert_eq!(
                    (hdr.n, hdr.classes, hdr.dtype, hdr.data_offset),
                    (n, c, d, h.len())
                );
            }
        }
    }

    #[test]
    fn round_trip_f32() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (path, z) = write(dir.path(), "t.npy", 37, 10, LogitDtype::F32);
        let cache = LogitCache::open(&path, "data-a", Some("teacher-a")).expect("open");
        assert_eq!(
            (
                cache.len(),
                cache.classes(),
                cache.dtype(),
                cache.is_empty()
            ),
            (37, 10, LogitDtype::F32, false)
        );
        let mut row = vec![0.0; 10];
        for i in 0..37 {
            cache.row(i, &mut row).expect("row");
            assert_eq!(row, &z[i * 10..(i + 1) * 10]);
        }
        let batch = cache.rows(&[36, 0, 5, 5]).expect("rows");
        let want: Vec<f32> = [36, 0, 5, 5]
            .iter()
            .flat_map(|&i| z[i * 10..(i + 1) * 10].to_vec())
            .collect();
        assert_eq!(batch, want);
        // The teacher check is optional.
        LogitCache::open(&path, "data-a", None).expect("open without teacher check");
        let s = cache.sidecar().expect("sidecar");
        assert_eq!(
            (s.n, s.classes, s.dtype.as_str(), s.values.as_str()),
            (37, 10, "<f4", "logits")
        );
        assert_eq!(s.producer, "cache tests");
        // The file is exactly header + data, data 64-byte aligned.
        let bytes = std::fs::read(&path).expect("read");
        assert_eq!(bytes.len(), 128 + 37 * 10 * 4);
        // Ordinary file permissions (as File::create gives), not tempfile's 0600.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let reference = dir.path().join("reference");
            std::fs::write(&reference, b"x").expect("reference file");
            let mode =
                |p: &Path| std::fs::metadata(p).expect("metadata").permissions().mode() & 0o777;
            assert_eq!(mode(&path), mode(&reference));
            assert_eq!(mode(&sidecar_path(&path)), mode(&reference));
            std::fs::remove_file(&reference).expect("rm reference");
        }
        // No temp files left behind.
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .expect("ls")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(names.len(), 2, "{names:?}");
    }

    #[test]
    fn round_trip_f16_within_precision() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (path, z) = write(dir.path(), "t16.npy", 50, 7, LogitDtype::F16);
        let cache = LogitCache::open(&path, "data-a", Some("teacher-a")).expect("open");
        assert_eq!(cache.dtype(), LogitDtype::F16);
        assert_eq!(std::fs::read(&path).expect("read").len(), 128 + 50 * 7 * 2);
        let all = cache.rows(&(0..50).collect::<Vec<_>>()).expect("rows");
        for (i, (&got, &want)) in all.iter().zip(&z).enumerate() {
            // float16 has an 11-bit significand: relative error <= 2^-11.
            assert!(
                (got - want).abs() <= want.abs() * 2f32.powi(-11) + 1e-7,
                "{i}: {got} vs {want}"
            );
            assert_eq!(got, f16::from_f32(want).to_f32());
        }
    }

    #[test]
    fn refuses_non_finite_with_row_and_f16_overflow() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("bad.npy");
        for bad in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
            let mut z = logits(5, 4);
            z[3 * 4 + 2] = bad;
            match write_cache(&path, &z, 4, LogitDtype::F32, &prov("d", "t")) {
                Err(CacheError::NonFinite {
                    row: 3, class: 2, ..
                }) => {}
                other => panic!("{other:?}"),
            }
        }
        let mut z = logits(5, 4);
        z[9] = 70_000.0;
        match write_cache(&path, &z, 4, LogitDtype::F16, &prov("d", "t")) {
            Err(
                e @ CacheError::F16Overflow {
                    row: 2, class: 1, ..
                },
            ) => assert!(e.to_string().contains("row 2")),
            other => panic!("{other:?}"),
        }
        write_cache(&path, &z, 4, LogitDtype::F32, &prov("d", "t")).expect("fits f32");
        assert!(matches!(
            write_cache(&path, &z, 3, LogitDtype::F32, &prov("d", "t")),
            Err(CacheError::BadInput { .. })
        ));
        assert!(matches!(
            write_cache(&path, &z, 0, LogitDtype::F32, &prov("d", "t")),
            Err(CacheError::BadInput { .. })
        ));
    }

    #[test]
    fn stale_data_fingerprint_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (path, _) = write(dir.path(), "t.npy", 4, 3, LogitDtype::F32);
        let err = LogitCache::open(&path, "data-b", Some("teacher-a")).expect_err("stale");
        match &err {
            CacheError::Stale {
                which: Fingerprint::Data,
                expected,
                cached,
                ..
            } => {
                assert_eq!((expected.as_str(), cached.as_str()), ("data-b", "data-a"));
            }
            other => panic!("{other:?}"),
        }
        let msg = err.to_string();
        assert!(
            msg.contains("data fingerprint")
                && msg.contains("data-a")
                && msg.contains("data-b")
                && msg.contains("t.npy"),
            "{msg}"
        );
    }

    #[test]
    fn stale_teacher_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (path, _) = write(dir.path(), "t.npy", 4, 3, LogitDtype::F16);
        let err = LogitCache::open(&path, "data-a", Some("teacher-b")).expect_err("stale");
        assert!(
            matches!(&err, CacheError::Stale { which: Fingerprint::Teacher, expected, cached, .. } if expected == "teacher-b" && cached == "teacher-a"),
            "{err:?}"
        );
        assert!(err.to_string().contains("teacher fingerprint"), "{err}");
    }

    #[test]
    fn rewrite_replaces_cache_and_provenance() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (path, _) = write(dir.path(), "t.npy", 4, 3, LogitDtype::F32);
        let z = logits(6, 3);
        write_cache(&path, &z, 3, LogitDtype::F16, &prov("data-b", "teacher-b")).expect("rewrite");
        let cache = LogitCache::open(&path, "data-b", Some("teacher-b")).expect("open");
        assert_eq!((cache.len(), cache.dtype()), (6, LogitDtype::F16));
        assert!(matches!(
            LogitCache::open(&path, "data-a", None),
            Err(CacheError::Stale { .. })
        ));
    }

    #[test]
    fn missing_sidecar_needs_open_foreign() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (path, z) = write(dir.path(), "t.npy", 4, 3, LogitDtype::F32);
        std::fs::remove_file(sidecar_path(&path)).expect("rm sidecar");
        let err = LogitCache::open(&path, "data-a", None).expect_err("no sidecar");
        assert!(matches!(err, CacheError::MissingSidecar { .. }), "{err:?}");
        let cache = LogitCache::open_foreign(&path, 4).expect("foreign");
        assert!(cache.sidecar().is_none());
        assert_eq!(cache.rows(&[3]).expect("row"), &z[9..12]);
        let err = LogitCache::open_foreign(&path, 5).expect_err("rows");
        assert!(
            matches!(
                err,
                CacheError::RowCount {
                    rows: 4,
                    expected: 5,
                    ..
                }
            ),
            "{err:?}"
        );
        // A missing .npy is reported as an I/O error on the .npy.
        let err = LogitCache::open(&dir.path().join("none.npy"), "d", None).expect_err("missing");
        assert!(
            matches!(&err, CacheError::Io { path, .. } if path.ends_with("none.npy")),
            "{err:?}"
        );
    }

    #[test]
    fn replaced_npy_not_vouched_for_by_old_sidecar() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (path, _) = write(dir.path(), "t.npy", 4, 3, LogitDtype::F32);
        let mut bytes = std::fs::read(&path).expect("read");
        let last = bytes.len() - 1;
        bytes[last] ^= 0x40;
        std::fs::write(&path, &bytes).expect("tamper");
        let err = LogitCache::open(&path, "data-a", None).expect_err("tampered");
        assert!(matches!(err, CacheError::SidecarMismatch { .. }), "{err:?}");
        assert!(err.to_string().contains("SHA-256"), "{err}");
    }

    #[test]
    fn adopt_foreign_writes_a_checked_sidecar() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("np4.npy");
        std::fs::write(&path, numpy_f4_bytes()).expect("write");
        assert!(matches!(
            LogitCache::open(&path, "data-a", None),
            Err(CacheError::MissingSidecar { .. })
        ));
        assert!(matches!(
            LogitCache::adopt_foreign(&path, 3, &prov("data-a", "teacher-a")),
            Err(CacheError::RowCount {
                rows: 2,
                expected: 3,
                ..
            })
        ));
        assert!(!sidecar_path(&path).exists());
        let adopted =
            LogitCache::adopt_foreign(&path, 2, &prov("data-a", "teacher-a")).expect("adopt");
        assert_eq!(
            adopted.sidecar().expect("sidecar").npy_sha256,
            sha256_hex(&numpy_f4_bytes())
        );
        let cache = LogitCache::open(&path, "data-a", Some("teacher-a")).expect("open");
        assert_eq!(cache.rows(&[0, 1]).expect("rows"), NUMPY_VALUES);
        assert!(matches!(
            LogitCache::open(&path, "data-b", None),
            Err(CacheError::Stale {
                which: Fingerprint::Data,
                ..
            })
        ));
    }

    #[test]
    fn foreign_non_finite_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("nan.npy");
        let mut bytes = numpy_f2_bytes();
        let at = bytes.len() - 2 * 2; // row 1, class 1
        bytes[at..at + 2].copy_from_slice(&0x7e00u16.to_le_bytes()); // float16 NaN
        std::fs::write(&path, &bytes).expect("write");
        let err = LogitCache::open_foreign(&path, 2).expect_err("nan");
        assert!(
            matches!(
                err,
                CacheError::NonFinite {
                    row: 1,
                    class: 1,
                    ..
                }
            ),
            "{err:?}"
        );
        assert!(matches!(
            LogitCache::adopt_foreign(&path, 2, &prov("d", "t")),
            Err(CacheError::NonFinite {
                row: 1,
                class: 1,
                ..
            })
        ));
    }

    #[test]
    fn truncated_file_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (path, _) = write(dir.path(), "t.npy", 4, 3, LogitDtype::F32);
        let bytes = std::fs::read(&path).expect("read");
        std::fs::write(&path, &bytes[..bytes.len() - 5]).expect("truncate");
        for err in [
            LogitCache::open_foreign(&path, 4).expect_err("trunc"),
            LogitCache::open(&path, "data-a", None).expect_err("trunc"),
        ] {
            assert!(
                matches!(
                    err,
                    CacheError::Truncated {
                        expected: 48,
                        actual: 43,
                        ..
                    }
                ),
                "{err:?}"
            );
            assert!(
                err.to_string().contains("48")
                    && err.to_string().contains("43")
                    && err.to_string().contains("t.npy")
            );
        }
        // Cut inside the header.
        std::fs::write(&path, &bytes[..40]).expect("truncate");
        assert!(matches!(
            LogitCache::open_foreign(&path, 4),
            Err(CacheError::Truncated { expected: 128, .. })
        ));
        // Extra bytes are refused too.
        let mut long = bytes.clone();
        long.extend_from_slice(&[0; 4]);
        std::fs::write(&path, &long).expect("extend");
        assert!(matches!(
            LogitCache::open_foreign(&path, 4),
            Err(CacheError::TrailingBytes { extra: 4, .. })
        ));
    }

    #[test]
    fn bad_magic_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("x.npy");
        std::fs::write(&path, b"PK\x03\x04 this is a zip (an .npz), not an .npy").expect("write");
        let err = LogitCache::open_foreign(&path, 1).expect_err("magic");
        assert!(matches!(err, CacheError::BadMagic { .. }), "{err:?}");
        assert!(
            err.to_string().contains("x.npy") && err.to_string().contains("NUMPY"),
            "{err}"
        );
        std::fs::write(&path, b"").expect("write");
        assert!(matches!(
            LogitCache::open_foreign(&path, 1),
            Err(CacheError::BadMagic { .. })
        ));
        let mut v = npy_header(1, 1, LogitDtype::F32);
        v[6] = 4;
        v.extend_from_slice(&[0; 4]);
        std::fs::write(&path, &v).expect("write");
        assert!(matches!(
            LogitCache::open_foreign(&path, 1),
            Err(CacheError::UnsupportedVersion { major: 4, .. })
        ));
    }

    /// An NPY v1.0 file with the given header dict, padded as numpy pads it.
    fn npy_with_dict(dict: &str, data: &[u8]) -> Vec<u8> {
        let unpadded = 10 + dict.len() + 1;
        let pad = (64 - unpadded % 64) % 64;
        let mut v = b"\x93NUMPY\x01\x00".to_vec();
        v.extend_from_slice(&((dict.len() + pad + 1) as u16).to_le_bytes());
        v.extend_from_slice(dict.as_bytes());
        v.resize(v.len() + pad, b' ');
        v.push(b'\n');
        v.extend_from_slice(data);
        v
    }

    #[test]
    fn fortran_order_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("f.npy");
        let dict = "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }";
        std::fs::write(&path, npy_with_dict(dict, &[0; 24])).expect("write");
        let err = LogitCache::open_foreign(&path, 2).expect_err("fortran");
        assert!(matches!(err, CacheError::FortranOrder { .. }), "{err:?}");
        assert!(
            err.to_string().contains("Fortran") && err.to_string().contains("f.npy"),
            "{err}"
        );
    }

    #[test]
    fn unsupported_dtype_and_shape_say_which() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("u.npy");
        for (dict, data, want) in [
            (
                "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }",
                48,
                "'<f8'",
            ),
            (
                "{'descr': '>f4', 'fortran_order': False, 'shape': (2, 3), }",
                24,
                "'>f4'",
            ),
            (
                "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (2,), }",
                8,
                "structured",
            ),
            (
                "{'descr': '<f4', 'fortran_order': False, 'shape': (6,), }",
                24,
                "[6]",
            ),
            (
                "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2, 3), }",
                24,
                "[1, 2, 3]",
            ),
            (
                "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 0), }",
                0,
                "[2, 0]",
            ),
        ] {
            std::fs::write(&path, npy_with_dict(dict, &vec![0; data])).expect("write");
            let err = LogitCache::open_foreign(&path, 2).expect_err(dict);
            assert!(
                matches!(
                    err,
                    CacheError::UnsupportedDtype { .. } | CacheError::UnsupportedShape { .. }
                ),
                "{err:?}"
            );
            assert!(err.to_string().contains(want), "{err} lacks {want}");
        }
        // Key order and quoting are free in Python dict syntax.
        let dict = "{\"shape\": (2,3), \"fortran_order\": False, \"descr\": \"<f2\"}";
        std::fs::write(&path, npy_with_dict(dict, &[0; 12])).expect("write");
        let c = LogitCache::open_foreign(&path, 2).expect("reordered");
        assert_eq!((c.len(), c.classes(), c.dtype()), (2, 3, LogitDtype::F16));
    }

    #[test]
    fn row_index_and_buffer_checked() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (path, _) = write(dir.path(), "t.npy", 4, 3, LogitDtype::F32);
        let cache = LogitCache::open(&path, "data-a", None).expect("open");
        let mut out = [0.0; 3];
        let err = cache.row(4, &mut out).expect_err("range");
        assert!(
            matches!(
                err,
                CacheError::RowOutOfRange {
                    index: 4,
                    len: 4,
                    ..
                }
            ),
            "{err:?}"
        );
        assert!(matches!(
            cache.rows(&[0, 9]),
            Err(CacheError::RowOutOfRange { index: 9, .. })
        ));
        assert!(matches!(
            cache.row(0, &mut [0.0; 2]),
            Err(CacheError::OutputLength {
                classes: 3,
                actual: 2,
                ..
            })
        ));
        assert!(cache.rows(&[]).expect("empty batch").is_empty());
    }

    #[test]
    fn empty_cache() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (path, _) = write(dir.path(), "e.npy", 0, 10, LogitDtype::F32);
        let cache = LogitCache::open(&path, "data-a", None).expect("open");
        assert!(cache.is_empty());
        assert_eq!(cache.classes(), 10);
    }

    /// `np.save(f, np.array([[1.5, -2.0, 0.25], [3.0, 65504.0, -0.0]], dtype='<f4'))`
    /// and the same with `dtype='<f2'`, byte for byte as numpy 2.x writes
    /// them (checked against numpy output; see `numpy_files_if_available`).
    fn numpy_f4_bytes() -> Vec<u8> {
        let mut v =
            b"\x93NUMPY\x01\x00v\x00{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"
                .to_vec();
        v.extend_from_slice(&[b' '; 58]);
        v.push(b'\n');
        for x in [1.5f32, -2.0, 0.25, 3.0, 65504.0, -0.0] {
            v.extend_from_slice(&x.to_le_bytes());
        }
        v
    }

    fn numpy_f2_bytes() -> Vec<u8> {
        let mut v =
            b"\x93NUMPY\x01\x00v\x00{'descr': '<f2', 'fortran_order': False, 'shape': (2, 3), }"
                .to_vec();
        v.extend_from_slice(&[b' '; 58]);
        v.push(b'\n');
        // float16 bit patterns of 1.5, -2.0, 0.25, 3.0, 65504.0, -0.0.
        for bits in [0x3e00u16, 0xc000, 0x3400, 0x4200, 0x7bff, 0x8000] {
            v.extend_from_slice(&bits.to_le_bytes());
        }
        v
    }

    const NUMPY_VALUES: [f32; 6] = [1.5, -2.0, 0.25, 3.0, 65504.0, -0.0];

    #[test]
    fn numpy_written_file_opens_foreign() {
        let dir = tempfile::tempdir().expect("tempdir");
        for (name, bytes, dtype) in [
            ("np4.npy", numpy_f4_bytes(), LogitDtype::F32),
            ("np2.npy", numpy_f2_bytes(), LogitDtype::F16),
        ] {
            assert_eq!(bytes.len(), 128 + 6 * dtype.size());
            // Our writer produces the same header as numpy.
            assert_eq!(&bytes[..128], &npy_header(2, 3, dtype)[..]);
            let path = dir.path().join(name);
            std::fs::write(&path, &bytes).expect("write");
            let cache = LogitCache::open_foreign(&path, 2).expect("open numpy file");
            assert_eq!((cache.len(), cache.classes(), cache.dtype()), (2, 3, dtype));
            let all = cache.rows(&[0, 1]).expect("rows");
            assert_eq!(all, NUMPY_VALUES);
            assert!(all[5].is_sign_negative());
        }
    }

    /// Runs real numpy when it is importable (`$MINNOW_PYTHON`, default
    /// `python3`): numpy's bytes must equal the hand-crafted ones above, and
    /// numpy must read what `write_cache` writes. Skips otherwise.
    #[test]
    fn numpy_files_if_available() {
        let python = std::env::var("MINNOW_PYTHON").unwrap_or_else(|_| "python3".into());
        let probe = std::process::Command::new(&python)
            .args(["-c", "import numpy"])
            .output();
        if !matches!(&probe, Ok(o) if o.status.success()) {
            eprintln!(
                "skipping: {python} cannot import numpy (set MINNOW_PYTHON to a python with numpy)"
            );
            return;
        }
        let dir = tempfile::tempdir().expect("tempdir");
        let ours = dir.path().join("ours.npy");
        write_cache(&ours, &NUMPY_VALUES, 3, LogitDtype::F16, &prov("d", "t")).expect("write");
        let script = r#"
import sys, numpy as np
d = sys.argv[1]
vals = [[1.5, -2.0, 0.25], [3.0, 65504.0, -0.0]]
np.save(d + '/np4.npy', np.array(vals, dtype='<f4'))
np.save(d + '/np2.npy', np.array(vals, dtype='<f2'))
a = np.load(d + '/ours.npy')
assert a.dtype == np.dtype('<f2') and a.shape == (2, 3) and a.flags.c_contiguous, (a.dtype, a.shape)
assert (a.astype('<f4') == np.array(vals, dtype='<f4')).all(), a
"#;
        let out = std::process::Command::new(&python)
            .arg("-c")
            .arg(script)
            .arg(dir.path())
            .output()
            .expect("run python");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            std::fs::read(dir.path().join("np4.npy")).expect("np4"),
            numpy_f4_bytes()
        );
        assert_eq!(
            std::fs::read(dir.path().join("np2.npy")).expect("np2"),
            numpy_f2_bytes()
        );
        for name in ["np4.npy", "np2.npy"] {
            let c = LogitCache::open_foreign(&dir.path().join(name), 2).expect("open");
            assert_eq!(c.rows(&[0, 1]).expect("rows"), NUMPY_VALUES);
        }
    }
}
