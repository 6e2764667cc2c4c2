//! Datasets for distillation: loading (built-in digits, IDX/MNIST, CSV, NPY),
//! deterministic splitting and the single global input normalisation that
//! the device applies.
//!
//! Features are kept as raw `f32` values (not normalised) in row-major
//! `[n, height, width, channels]` order; labels, when present, are `u8`.
//! Compressed inputs are recognised by the gzip magic bytes, never by the
//! file extension.

mod csv;
mod csv_options;
mod dataset;
mod error;
mod file;
mod idx;
pub(crate) mod norm;
mod npy;
pub mod npy_format;
mod prepare;
mod source;
mod split;

#[cfg(test)]
use std::path::{Path, PathBuf};

pub use csv::{CsvHeader, CsvOptions, LabelColumn, load_csv};
pub use dataset::Dataset;
pub use error::{DataError, Location};
pub use idx::{MnistSplit, load_idx, load_mnist_dir};
pub use norm::{NormScope, Standardizer};
pub use npy::load_npy;
pub use prepare::DataConfig;
pub use source::{DataSpec, builtin_digits, load};
pub use split::{SplitIndices, Splits, split, split_indices};

/// Where MNIST lives for the tests that need it: `$MINNOW_MNIST_DIR`, else
/// `../shared/data/mnist` relative to the workspace root. `Err` says why
/// it is not available.
#[cfg(test)]
pub(crate) fn test_mnist_dir() -> Result<PathBuf, String> {
    let (dir, from) = match std::env::var_os("MINNOW_MNIST_DIR") {
        Some(dir) => (PathBuf::from(dir), "MINNOW_MNIST_DIR"),
        // CARGO_MANIFEST_DIR is trainer/; the workspace root is its parent.
        None => (
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/mnist"),
            "the default ../shared/data/mnist (set MINNOW_MNIST_DIR to override)",
        ),
    };
    if dir.is_dir() {
        Ok(dir)
    } else {
        Err(format!(
            "MNIST directory {} from {from} does not exist",
            dir.display()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::file::{file_stem, read_file};
    use super::*;
    use serde::{Deserialize, Serialize};

    #[test]
    fn digits_builtin() {
        let d = builtin_digits().expect("built-in digits");
        assert_eq!(d.name, "digits");
        assert_eq!(d.len(), 1797);
        assert_eq!(d.shape, [8, 8, 1]);
        assert_eq!(d.dim(), 64);
        assert_eq!(d.classes, 10);
        assert!(
            d.features
                .iter()
                .all(|&v| (0.0..=16.0).contains(&v) && v.fract() == 0.0)
        );
        assert_eq!(d.features.iter().copied().fold(f32::MIN, f32::max), 16.0);
        let counts = d.class_counts().expect("labeled");
        assert_eq!(counts.len(), 10);
        assert_eq!(counts.iter().sum::<usize>(), 1797);
        assert!(
            counts.iter().all(|&c| (170..=190).contains(&c)),
            "{counts:?}"
        );
        // First row of the file, for orientation: label 0.
        assert_eq!(d.label(0), Some(0));
        assert_eq!(&d.sample(0)[..4], &[0.0, 0.0, 5.0, 13.0]);
    }

    #[test]
    fn digits_fingerprint_is_stable() {
        let d = builtin_digits().expect("built-in digits");
        let fp = d.fingerprint();
        assert_eq!(fp.len(), 64);
        // Pinned: caches key on this, so the scheme must not drift.
        assert_eq!(fp, DIGITS_FINGERPRINT);
        // Sensitive to labels, features and shape; not to the name.
        assert_ne!(d.without_labels().fingerprint(), fp);
        let mut renamed = d.clone();
        renamed.name = "other".into();
        assert_eq!(renamed.fingerprint(), fp);
        let mut tweaked = d.clone();
        tweaked.features[100] += 1.0;
        assert_ne!(tweaked.fingerprint(), fp);
        let mut reshaped = d.clone();
        reshaped.shape = [1, 64, 1];
        assert_ne!(reshaped.fingerprint(), fp);
    }

    const DIGITS_FINGERPRINT: &str =
        "f9e7491811ac47289c8d7644827790669a64786b92ceaf92784f2fb535f78c8e";

    #[test]
    fn subset_and_without_labels() {
        let d = builtin_digits().expect("built-in digits");
        let s = d.subset(&[5, 0, 5]);
        assert_eq!(s.len(), 3);
        assert_eq!(s.sample(0), d.sample(5));
        assert_eq!(s.sample(1), d.sample(0));
        assert_eq!(
            s.labels.as_deref(),
            Some(
                &[
                    d.labels.as_ref().expect("l")[5],
                    d.labels.as_ref().expect("l")[0],
                    d.labels.as_ref().expect("l")[5]
                ][..]
            )
        );
        assert_eq!(s.classes, 10);
        let u = s.without_labels();
        assert!(u.labels.is_none());
        assert_eq!(u.features, s.features);
        assert!(d.subset(&[]).is_empty());
    }

    #[test]
    fn dataset_new_validates() {
        assert!(Dataset::new("ok", vec![0.0; 8], Some(vec![0, 1]), [2, 2, 1], 2).is_ok());
        for bad in [
            Dataset::new("x", vec![0.0; 7], None, [2, 2, 1], 2),
            Dataset::new("x", vec![0.0; 8], Some(vec![0]), [2, 2, 1], 2),
            Dataset::new("x", vec![0.0; 8], Some(vec![0, 2]), [2, 2, 1], 2),
            Dataset::new("x", vec![], None, [0, 2, 1], 2),
        ] {
            assert!(matches!(bad, Err(DataError::Invalid { .. })), "{bad:?}");
        }
    }

    #[test]
    fn file_stems() {
        assert_eq!(file_stem(Path::new("a/digits.csv.gz")), "digits");
        assert_eq!(
            file_stem(Path::new("train-images-idx3-ubyte.gz")),
            "train-images-idx3-ubyte"
        );
        assert_eq!(file_stem(Path::new("x.npy")), "x");
        assert_eq!(file_stem(Path::new(".hidden")), ".hidden");
    }

    #[test]
    fn gzip_detected_by_magic_not_extension() -> Result<(), Box<dyn std::error::Error>> {
        use std::io::Write;
        let dir = tempfile::tempdir()?;
        let plain = dir.path().join("looks.gz");
        std::fs::write(&plain, b"1,2,0\n")?;
        let gz = dir.path().join("looks.csv");
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(b"1,2,0\n")?;
        std::fs::write(&gz, enc.finish()?)?;
        for p in [&plain, &gz] {
            let f = read_file(p)?;
            assert_eq!(f.bytes, b"1,2,0\n");
            assert_eq!(f.decompressed, p == &gz);
        }
        Ok(())
    }

    #[test]
    fn empty_and_missing_files() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let empty = dir.path().join("empty.bin");
        std::fs::write(&empty, b"")?;
        let err = read_file(&empty).err().ok_or("expected an error")?;
        assert!(matches!(err, DataError::Empty { .. }), "{err}");
        assert!(err.to_string().contains("empty.bin"), "{err}");

        let missing = dir.path().join("missing.csv");
        let err = read_file(&missing).err().ok_or("expected an error")?;
        assert!(matches!(err, DataError::Io { .. }), "{err}");
        assert!(err.to_string().contains("missing.csv"), "{err}");

        // A truncated gzip stream.
        use std::io::Write;
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        enc.write_all(&[7u8; 10_000])?;
        let gz = enc.finish()?;
        let cut = dir.path().join("cut.gz");
        std::fs::write(&cut, &gz[..gz.len() / 2])?;
        let err = read_file(&cut).err().ok_or("expected an error")?;
        assert!(matches!(err, DataError::Decompress { .. }), "{err}");
        assert!(err.to_string().contains("cut.gz"), "{err}");
        Ok(())
    }

    #[test]
    fn dataspec_toml_round_trip() -> Result<(), Box<dyn std::error::Error>> {
        #[derive(Serialize, Deserialize, Debug, PartialEq)]
        struct Cfg {
            data: DataSpec,
        }
        let specs = [
            DataSpec::Digits,
            DataSpec::Mnist {
                dir: "data/mnist".into(),
                split: MnistSplit::Test,
            },
            DataSpec::Idx {
                images: "a.idx".into(),
                labels: Some("b.idx".into()),
                classes: None,
            },
            DataSpec::Csv {
                path: "x.csv".into(),
                has_labels: false,
                shape: Some([4, 4, 1]),
                classes: Some(3),
                header: CsvHeader::Auto,
                skip_rows: 0,
                label_column: LabelColumn::Last,
            },
            DataSpec::Csv {
                path: "y.csv".into(),
                has_labels: true,
                shape: None,
                classes: None,
                header: CsvHeader::Yes,
                skip_rows: 1,
                label_column: LabelColumn::Name("species".into()),
            },
            DataSpec::Npy {
                features: "f.npy".into(),
                labels: None,
                classes: Some(10),
                shape: None,
            },
            DataSpec::Npy {
                features: "w.npy".into(),
                labels: Some("l.npy".into()),
                classes: None,
                shape: Some([128, 1, 3]),
            },
        ];
        for spec in specs {
            let cfg = Cfg { data: spec };
            let text = toml::to_string(&cfg)?;
            let back: Cfg = toml::from_str(&text)?;
            assert_eq!(back, cfg, "{text}");
        }
        // Defaults: split = train, has_labels = true.
        let cfg: Cfg = toml::from_str("[data]\nkind = \"mnist\"\ndir = \"m\"\n")?;
        assert_eq!(
            cfg.data,
            DataSpec::Mnist {
                dir: "m".into(),
                split: MnistSplit::Train
            }
        );
        let cfg: Cfg = toml::from_str("[data]\nkind = \"csv\"\npath = \"x.csv\"\n")?;
        assert!(matches!(
            cfg.data,
            DataSpec::Csv {
                has_labels: true,
                shape: None,
                classes: None,
                ..
            }
        ));
        assert!(toml::from_str::<Cfg>("[data]\nkind = \"csv\"\npath = \"x\"\ntypo = 1\n").is_err());
        let cfg: Cfg = toml::from_str("[data]\nkind = \"digits\"\n")?;
        assert_eq!(load(&cfg.data)?.len(), 1797);
        Ok(())
    }

    #[test]
    fn resolve_relative() {
        let spec = DataSpec::Npy {
            features: "f.npy".into(),
            labels: Some("/abs/l.npy".into()),
            classes: None,
            shape: Some([4, 1, 2]),
        };
        assert_eq!(
            spec.resolve_relative_to(Path::new("/cfg")),
            DataSpec::Npy {
                features: "/cfg/f.npy".into(),
                labels: Some("/abs/l.npy".into()),
                classes: None,
                shape: Some([4, 1, 2]),
            }
        );
    }
}

/// No input makes a loader panic: random bytes and randomly corrupted valid
/// files only ever give `Ok` or `Err`.
#[cfg(test)]
mod robustness {
    use super::*;
    use proptest::prelude::*;

    fn valid_files() -> Vec<Vec<u8>> {
        let idx = idx::idx_u8_bytes(&[3, 2, 2], &[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
        let f32s: Vec<u8> = [1.0f32, 2.0, 3.0, 4.0]
            .iter()
            .flat_map(|x| x.to_le_bytes())
            .collect();
        let npy = npy::npy_bytes("<f4", &[2, 2], &f32s);
        let csv = b"a,b,label\n1,2,0\n3,4,1\n".to_vec();
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        std::io::Write::write_all(&mut enc, &idx).expect("in-memory gzip");
        let gz = enc.finish().expect("in-memory gzip");
        vec![idx, npy, csv, gz]
    }

    fn try_all(bytes: &[u8]) -> Result<(), TestCaseError> {
        let dir = tempfile::tempdir().map_err(|e| TestCaseError::fail(e.to_string()))?;
        let p = dir.path().join("fuzz.bin");
        std::fs::write(&p, bytes).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let labels = dir.path().join("labels.bin");
        std::fs::write(&labels, idx::idx_u8_bytes(&[3], &[0, 1, 2]))
            .map_err(|e| TestCaseError::fail(e.to_string()))?;
        let _ = load_idx(&p, None, None);
        let _ = load_idx(&p, Some(&labels), None);
        let _ = load_idx(&labels, Some(&p), None);
        let _ = load_npy(&p, None, None);
        let _ = load_npy(&p, Some(&p), None);
        let _ = load_csv(&p, &CsvOptions::default());
        let _ = load_csv(
            &p,
            &CsvOptions {
                has_labels: false,
                shape: Some([1, 1, 1]),
                classes: Some(2),
                ..CsvOptions::default()
            },
        );
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

        #[test]
        fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
            try_all(&bytes)?;
        }

        #[test]
        fn corrupted_files_never_panic(
            which in 0usize..4,
            edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
            cut in any::<prop::sample::Index>(),
            do_cut in any::<bool>(),
        ) {
            let mut bytes = valid_files().swap_remove(which);
            for (at, v) in edits {
                let i = at.index(bytes.len());
                bytes[i] = v;
            }
            if do_cut {
                let n = cut.index(bytes.len() + 1);
                bytes.truncate(n);
            }
            try_all(&bytes)?;
        }
    }
}
