//! Comma-separated numbers: the features of one sample per line, then its
//! integer label (unless `has_labels` is false). A first line that is not
//! all numeric is a header and is skipped. Blank lines are skipped; line
//! numbers in errors are 1-based physical lines. Raw or gzipped.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::dataset::Dataset;
use super::error::{DataError, Location};
use super::file::{check_labels, file_stem, read_file};

/// How to read a CSV file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CsvOptions {
    /// The last column is the label.
    pub has_labels: bool,
    /// Shape of one sample; default `[1, n_features, 1]`.
    pub shape: Option<[usize; 3]>,
    /// Class count; default max label + 1 (0 when unlabeled).
    pub classes: Option<usize>,
}

impl Default for CsvOptions {
    fn default() -> Self {
        Self {
            has_labels: true,
            shape: None,
            classes: None,
        }
    }
}

/// Loads a CSV file (raw or gzipped); see the module docs.
pub fn load_csv(path: &Path, opts: &CsvOptions) -> Result<Dataset, DataError> {
    let file = read_file(path)?;
    parse_csv(path, &file.bytes, opts)
}

fn split_fields(line: &str) -> impl Iterator<Item = &str> {
    line.split(',').map(|f| {
        let f = f.trim();
        f.strip_prefix('"')
            .and_then(|f| f.strip_suffix('"'))
            .map_or(f, str::trim)
    })
}

/// Parses CSV text already in memory; `path` is only used in errors and
/// for the dataset name.
pub(crate) fn parse_csv(
    path: &Path,
    bytes: &[u8],
    opts: &CsvOptions,
) -> Result<Dataset, DataError> {
    let text = std::str::from_utf8(bytes).map_err(|e| DataError::InvalidUtf8 {
        path: path.to_owned(),
        line: 1 + bytes[..e.valid_up_to()]
            .iter()
            .filter(|&&b| b == b'\n')
            .count(),
    })?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);

    let mut lines = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l))
        .filter(|(_, l)| !l.trim().is_empty())
        .peekable();

    // Header detection: the first non-blank line is a header unless every
    // field parses as a number.
    let mut expected_fields = None;
    if let Some(&(_, first)) = lines.peek()
        && split_fields(first).any(|f| f.parse::<f64>().is_err())
    {
        expected_fields = Some(split_fields(first).count());
        lines.next();
    }

    let mut features: Vec<f32> = Vec::new();
    let mut labels: Vec<u8> = Vec::new();
    let mut label_lines: Vec<usize> = Vec::new();
    let mut n_features = 0usize;
    let mut n = 0usize;
    for (line_no, line) in lines {
        let count = split_fields(line).count();
        let expected = *expected_fields.get_or_insert(count);
        if count != expected {
            return Err(DataError::RaggedRow {
                path: path.to_owned(),
                line: line_no,
                found: count,
                expected,
            });
        }
        if n == 0 {
            n_features = if opts.has_labels {
                expected.saturating_sub(1)
            } else {
                expected
            };
            if n_features == 0 {
                return Err(DataError::Unsupported {
                    path: path.to_owned(),
                    reason: format!(
                        "line {line_no} has {expected} field(s): need at least one feature{}",
                        if opts.has_labels { " and a label" } else { "" }
                    ),
                });
            }
            // Reserve from a size estimate: bytes per line of the first row.
            features.reserve(n_features * (bytes.len() / (line.len() + 1)).max(1));
        }
        let mut fields = split_fields(line).enumerate();
        for (i, field) in fields.by_ref().take(n_features) {
            features.push(parse_feature(path, line_no, i + 1, field)?);
        }
        if opts.has_labels
            && let Some((i, field)) = fields.next()
        {
            labels.push(parse_label(path, line_no, i + 1, field)?);
            label_lines.push(line_no);
        }
        n += 1;
    }
    if n == 0 {
        return Err(DataError::Empty {
            path: path.to_owned(),
            what: "CSV file holds no data rows",
        });
    }

    let shape = match opts.shape {
        Some(shape) => {
            if shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d)) != Some(n_features) {
                return Err(DataError::ShapeMismatch {
                    path: path.to_owned(),
                    shape,
                    dim: n_features,
                });
            }
            shape
        }
        None => [1, n_features, 1],
    };
    let (labels, classes) = if opts.has_labels {
        let field = n_features + 1;
        let classes = check_labels(path, &labels, opts.classes, |i| Location::Line {
            line: label_lines[i],
            field: Some(field),
        })?;
        (Some(labels), classes)
    } else {
        (None, opts.classes.unwrap_or(0))
    };
    Ok(Dataset {
        name: file_stem(path),
        features,
        labels,
        shape,
        classes,
    })
}

fn parse_feature(path: &Path, line: usize, field: usize, s: &str) -> Result<f32, DataError> {
    let v: f32 = s.parse().map_err(|_| DataError::NonNumeric {
        path: path.to_owned(),
        line,
        field,
        value: s.to_owned(),
    })?;
    if !v.is_finite() {
        return Err(DataError::NonFinite {
            path: path.to_owned(),
            location: Location::Line {
                line,
                field: Some(field),
            },
            // Report what was written (e.g. 1e39 overflows f32 to inf).
            value: s.parse::<f64>().unwrap_or(f64::from(v)),
        });
    }
    Ok(v)
}

fn parse_label(path: &Path, line: usize, field: usize, s: &str) -> Result<u8, DataError> {
    let location = Location::Line {
        line,
        field: Some(field),
    };
    let value: i128 = match s.parse::<i128>() {
        Ok(v) => v,
        Err(_) => {
            let v: f64 = s.parse().map_err(|_| DataError::NonNumeric {
                path: path.to_owned(),
                line,
                field,
                value: s.to_owned(),
            })?;
            if !v.is_finite() {
                return Err(DataError::NonFinite {
                    path: path.to_owned(),
                    location,
                    value: v,
                });
            }
            // Accept integral floats such as "3.0" (pandas likes to write them).
            if v.fract() == 0.0 && v.abs() > 1e30 {
                return Err(DataError::LabelTooLarge {
                    path: path.to_owned(),
                    location,
                    value: s.to_owned(),
                });
            }
            if v.fract() != 0.0 {
                return Err(DataError::InvalidLabel {
                    path: path.to_owned(),
                    location,
                    value: s.to_owned(),
                });
            }
            v as i128
        }
    };
    u8::try_from(value).map_err(|_| DataError::LabelOutOfRange {
        path: path.to_owned(),
        location,
        label: value,
        limit: 256,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    type TestResult = Result<(), Box<dyn std::error::Error>>;

    fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> Result<PathBuf, std::io::Error> {
        let p = dir.path().join(name);
        std::fs::write(&p, text)?;
        Ok(p)
    }

    fn fails(
        dir: &tempfile::TempDir,
        name: &str,
        text: &str,
        opts: &CsvOptions,
    ) -> Result<DataError, Box<dyn std::error::Error>> {
        let p = write(dir, name, text)?;
        let err = load_csv(&p, opts)
            .err()
            .ok_or_else(|| format!("{name} was accepted"))?;
        assert!(
            err.to_string().contains(name),
            "message does not name {name}: {err}"
        );
        Ok(err)
    }

    #[test]
    fn round_trip_with_header_blank_lines_and_crlf() -> TestResult {
        let dir = tempfile::tempdir()?;
        let p = write(
            &dir,
            "small.csv",
            "\u{feff}a,b, c ,label\r\n1,2,3,0\r\n\r\n 4.5 ,-6,\"7e1\",2\r\n",
        )?;
        let d = load_csv(&p, &CsvOptions::default())?;
        assert_eq!(d.name, "small");
        assert_eq!(d.len(), 2);
        assert_eq!(d.shape, [1, 3, 1]);
        assert_eq!(d.features, vec![1.0, 2.0, 3.0, 4.5, -6.0, 70.0]);
        assert_eq!(d.labels, Some(vec![0, 2]));
        assert_eq!(d.classes, 3);

        // No header, unlabeled, explicit shape and classes, gzipped.
        let text = "1,2,3,4\n5,6,7,8\n";
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        std::io::Write::write_all(&mut enc, text.as_bytes())?;
        let p = dir.path().join("plain.csv.gz");
        std::fs::write(&p, enc.finish()?)?;
        let opts = CsvOptions {
            has_labels: false,
            shape: Some([2, 2, 1]),
            classes: Some(4),
        };
        let d = load_csv(&p, &opts)?;
        assert_eq!(d.name, "plain");
        assert_eq!(
            (d.len(), d.shape, d.classes, d.labels.is_none()),
            (2, [2, 2, 1], 4, true)
        );
        assert_eq!(d.sample(1), &[5.0, 6.0, 7.0, 8.0]);

        // Integral float labels are accepted.
        let p = write(&dir, "floatlab.csv", "1,2.0\n3,1.0\n")?;
        assert_eq!(
            load_csv(&p, &CsvOptions::default())?.labels,
            Some(vec![2, 1])
        );
        Ok(())
    }

    #[test]
    fn malformed_files() -> TestResult {
        let dir = tempfile::tempdir()?;
        let lab = CsvOptions::default();

        let err = fails(&dir, "ragged.csv", "1,2,3\n4,5,6\n7,8\n", &lab)?;
        assert!(
            matches!(
                err,
                DataError::RaggedRow {
                    line: 3,
                    found: 2,
                    expected: 3,
                    ..
                }
            ),
            "{err}"
        );
        assert!(
            err.to_string().contains("line 3 has 2 fields, expected 3"),
            "{err}"
        );

        // Header sets the expected field count.
        let err = fails(&dir, "ragged-hdr.csv", "x,y,label\n1,2,3,0\n", &lab)?;
        assert!(
            matches!(
                err,
                DataError::RaggedRow {
                    line: 2,
                    found: 4,
                    expected: 3,
                    ..
                }
            ),
            "{err}"
        );

        let err = fails(&dir, "nonnum.csv", "1,2,0\n3,abc,1\n", &lab)?;
        assert!(
            matches!(
                err,
                DataError::NonNumeric {
                    line: 2,
                    field: 2,
                    ..
                }
            ),
            "{err}"
        );
        assert!(err.to_string().contains("'abc'"), "{err}");

        let err = fails(&dir, "emptyfield.csv", "1,2,0\n3,,1\n", &lab)?;
        assert!(
            matches!(
                err,
                DataError::NonNumeric {
                    line: 2,
                    field: 2,
                    ..
                }
            ),
            "{err}"
        );
        Ok(())
    }

    /// Values and labels that are not numbers the data can hold.
    #[test]
    fn malformed_values() -> TestResult {
        let dir = tempfile::tempdir()?;
        let lab = CsvOptions::default();

        let err = fails(&dir, "nan.csv", "1,2,0\n\n3,NaN,1\n", &lab)?;
        assert!(
            matches!(
                err,
                DataError::NonFinite {
                    location: Location::Line {
                        line: 3,
                        field: Some(2)
                    },
                    ..
                }
            ),
            "{err}"
        );
        assert!(err.to_string().contains("line 3, field 2"), "{err}");
        let err = fails(&dir, "inf.csv", "1,-inf,0\n", &lab)?;
        assert!(matches!(err, DataError::NonFinite { .. }), "{err}");
        let err = fails(&dir, "overflow.csv", "1,1e300,0\n", &lab)?;
        assert!(matches!(err, DataError::NonFinite { .. }), "{err}");
        assert!(
            err.to_string().contains("value 1e300 is too large"),
            "{err}"
        );

        let err = fails(&dir, "label256.csv", "1,2,0\n1,2,256\n", &lab)?;
        assert!(
            matches!(
                err,
                DataError::LabelOutOfRange {
                    label: 256,
                    limit: 256,
                    location: Location::Line {
                        line: 2,
                        field: Some(3)
                    },
                    ..
                }
            ),
            "{err}"
        );
        let err = fails(&dir, "labelneg.csv", "1,2,-1\n", &lab)?;
        assert!(
            matches!(err, DataError::LabelOutOfRange { label: -1, .. }),
            "{err}"
        );
        let err = fails(&dir, "labelfrac.csv", "1,2,1.5\n", &lab)?;
        assert!(matches!(err, DataError::InvalidLabel { .. }), "{err}");
        let err = fails(&dir, "label1e40.csv", "1,2,1e40\n", &lab)?;
        assert!(matches!(err, DataError::LabelTooLarge { .. }), "{err}");
        assert!(err.to_string().contains("'1e40' is too large"), "{err}");
        let err = fails(&dir, "labelnan.csv", "1,2,nan\n", &lab)?;
        assert!(matches!(err, DataError::NonFinite { .. }), "{err}");

        let with_classes = CsvOptions {
            classes: Some(3),
            ..CsvOptions::default()
        };
        let err = fails(&dir, "labelcls.csv", "1,2,0\n1,2,2\n1,2,3\n", &with_classes)?;
        assert!(
            matches!(
                err,
                DataError::LabelOutOfRange {
                    label: 3,
                    limit: 3,
                    location: Location::Line {
                        line: 3,
                        field: Some(3)
                    },
                    ..
                }
            ),
            "{err}"
        );

        let err = fails(&dir, "empty.csv", "", &lab)?;
        assert!(matches!(err, DataError::Empty { .. }), "{err}");
        let err = fails(&dir, "onlyheader.csv", "a,b,label\n\n", &lab)?;
        assert!(matches!(err, DataError::Empty { .. }), "{err}");
        let err = fails(&dir, "onecol.csv", "1\n2\n", &lab)?;
        assert!(matches!(err, DataError::Unsupported { .. }), "{err}");

        let shaped = CsvOptions {
            shape: Some([2, 2, 1]),
            ..CsvOptions::default()
        };
        let err = fails(&dir, "shape.csv", "1,2,3,0\n", &shaped)?;
        assert!(
            matches!(err, DataError::ShapeMismatch { dim: 3, .. }),
            "{err}"
        );

        let p = dir.path().join("latin1.csv");
        std::fs::write(&p, b"1,2,0\n1,\xe92,0\n")?;
        let err = load_csv(&p, &lab).err().ok_or("latin1 accepted")?;
        assert!(
            matches!(err, DataError::InvalidUtf8 { line: 2, .. }),
            "{err}"
        );
        assert!(err.to_string().contains("latin1.csv"), "{err}");
        Ok(())
    }
}
