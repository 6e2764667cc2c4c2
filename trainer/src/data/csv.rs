//! Comma-separated numbers: the features of one sample per line and its label, in the last
//! column unless [`CsvOptions::label_column`] says otherwise (or none, when `has_labels` is
//! false). Labels are integers, or class names (when the first row's label is not a number),
//! mapped to indices in sorted order and kept as the dataset's class names. A first line whose
//! features are not all numbers is a header and is skipped ([`CsvHeader`] overrides). Blank lines
//! are skipped; line numbers in errors are 1-based physical lines. Raw or gzipped.

use std::collections::BTreeSet;
use std::path::Path;

pub use super::csv_options::{CsvHeader, CsvOptions, LabelColumn};
use super::dataset::Dataset;
use super::error::{DataError, Location};
use super::file::{check_labels, file_stem, read_file};

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

fn is_number(field: &str) -> bool {
    field.parse::<f64>().is_ok()
}

/// The header line a file has.
struct Header {
    line: usize,
    text: String,
    names: Vec<String>,
}

/// The columns every row has, fixed by the header or the first row.
struct Layout {
    fields: usize,
    /// The line that fixed `fields`.
    line: usize,
    /// 0-based; `None` when unlabeled.
    label: Option<usize>,
}

impl Layout {
    /// The layout of a file whose header is `header` and whose first data row, at `line`, has
    /// `count` fields.
    fn new(
        path: &Path,
        opts: &CsvOptions,
        header: Option<&Header>,
        count: usize,
        line: usize,
    ) -> Result<Layout, DataError> {
        let (fields, fixed_at) = match header {
            Some(h) if h.names.len() != count => {
                return Err(DataError::HeaderMismatch {
                    path: path.to_owned(),
                    header_line: h.line,
                    header: shorten(&h.text),
                    header_fields: h.names.len(),
                    line,
                    found: count,
                });
            }
            Some(h) => (h.names.len(), h.line),
            None => (count, line),
        };
        let unsupported = |reason: String| DataError::Unsupported {
            path: path.to_owned(),
            reason,
        };
        if fields < 1 + usize::from(opts.has_labels) {
            return Err(unsupported(format!(
                "line {fixed_at} has {fields} field(s): need at least one feature{}",
                if opts.has_labels { " and a label" } else { "" }
            )));
        }
        let label = match opts.has_labels {
            true => Some(
                opts.label_column
                    .index(fields, header.map(|h| h.names.as_slice()))
                    .map_err(unsupported)?,
            ),
            false => None,
        };
        Ok(Layout {
            fields,
            line: fixed_at,
            label,
        })
    }
}

/// A line as an error message quotes it.
fn shorten(line: &str) -> String {
    match line.char_indices().nth(60) {
        Some((at, _)) => format!("{}...", &line[..at]),
        None => line.to_owned(),
    }
}

/// The class names of scikit-learn's count line (`150,4,setosa,versicolor,virginica` over
/// iris's rows: the row count, the feature count, then a name for each integer label), when
/// the first row is one: its counts must be those of the rows below it, so a header or a data
/// row is never taken for one. Only when the header is detected and the label is last.
fn count_line_names<'a>(
    opts: &CsvOptions,
    mut rows: impl Iterator<Item = (usize, &'a str)> + Clone,
) -> Option<Vec<String>> {
    if opts.header != CsvHeader::Auto || !opts.has_labels || opts.label_column != LabelColumn::Last
    {
        return None;
    }
    let (_, first) = rows.next()?;
    let fields: Vec<&str> = split_fields(first).collect();
    let [count, features, names @ ..] = fields.as_slice() else {
        return None;
    };
    let (count, features) = (
        count.parse::<usize>().ok()?,
        features.parse::<usize>().ok()?,
    );
    let (_, second) = rows.clone().next()?;
    let names_are_text = names.len() >= 2 && names.iter().all(|n| !is_number(n) && !n.is_empty());
    (names_are_text && split_fields(second).count() == features + 1 && rows.count() == count)
        .then(|| names.iter().map(|n| n.to_string()).collect())
}

/// Whether the first row is a header: as `opts.header` says, or (auto) when a feature field is
/// not a number, or when only its label is not a number while the next row's label is (a
/// header over numbered columns).
fn first_is_header<'a>(
    opts: &CsvOptions,
    mut rows: impl Iterator<Item = (usize, &'a str)>,
) -> bool {
    let auto = match opts.header {
        CsvHeader::Yes => return true,
        CsvHeader::No => return false,
        CsvHeader::Auto => matches!(opts.label_column, LabelColumn::Name(_)),
    };
    let Some((_, first)) = rows.next() else {
        return auto;
    };
    let fields: Vec<&str> = split_fields(first).collect();
    let label = opts
        .has_labels
        .then(|| opts.label_column.index(fields.len(), None).ok())
        .flatten();
    let feature_text = (fields.iter().enumerate()).any(|(i, f)| Some(i) != label && !is_number(f));
    let label_text = label.is_some_and(|l| !is_number(fields[l]));
    let next_label_number = rows.next().is_some_and(|(_, next)| {
        label.is_some_and(|l| split_fields(next).nth(l).is_some_and(is_number))
    });
    auto || feature_text || (label_text && next_label_number)
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

    let mut rows = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l))
        .skip(opts.skip_rows)
        .filter(|(_, l)| !l.trim().is_empty())
        .peekable();
    let counted = count_line_names(opts, rows.clone());
    if counted.is_some() {
        rows.next();
    }
    let header = match counted.is_none() && first_is_header(opts, rows.clone()) {
        true => rows.next().map(|(line, text)| Header {
            line,
            text: text.to_owned(),
            names: split_fields(text).map(str::to_owned).collect(),
        }),
        false => None,
    };

    let mut features: Vec<f32> = Vec::new();
    let mut label_fields: Vec<&str> = Vec::new();
    let mut label_lines: Vec<usize> = Vec::new();
    let mut layout: Option<Layout> = None;
    for (line_no, line) in rows {
        let count = split_fields(line).count();
        let layout = match &mut layout {
            Some(layout) => layout,
            None => {
                let new = Layout::new(path, opts, header.as_ref(), count, line_no)?;
                // Reserve from a size estimate: bytes per line of the first row.
                features.reserve(new.fields * (bytes.len() / (line.len() + 1)).max(1));
                layout.insert(new)
            }
        };
        if count != layout.fields {
            return Err(DataError::RaggedRow {
                path: path.to_owned(),
                line: line_no,
                found: count,
                expected: layout.fields,
                first: layout.line,
            });
        }
        for (i, field) in split_fields(line).enumerate() {
            if Some(i) == layout.label {
                label_fields.push(field);
                label_lines.push(line_no);
            } else {
                features.push(parse_feature(path, line_no, i + 1, field)?);
            }
        }
    }
    let Some(layout) = layout else {
        return Err(DataError::Empty {
            path: path.to_owned(),
            what: "CSV file holds no data rows",
        });
    };
    let n_features = layout.fields - usize::from(layout.label.is_some());
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
    let (labels, classes, class_names) = match layout.label {
        Some(label) => {
            let field = label + 1;
            let classes = opts.classes.or(counted.as_ref().map(Vec::len));
            let read = read_labels(path, &label_fields, &label_lines, field, classes)?;
            match counted {
                Some(names) if read.2.is_empty() && read.1 == names.len() => {
                    (Some(read.0), read.1, names)
                }
                _ => (Some(read.0), read.1, read.2),
            }
        }
        None => (None, opts.classes.unwrap_or(0), Vec::new()),
    };
    Ok(Dataset {
        name: file_stem(path),
        features,
        labels,
        shape,
        classes,
        class_names,
    })
}

/// The labels in column `field` (1-based) at `lines`: integers, or class names when the first
/// is not a number. Returns the labels, the class count and the names (empty for integers).
fn read_labels(
    path: &Path,
    fields: &[&str],
    lines: &[usize],
    field: usize,
    classes: Option<usize>,
) -> Result<(Vec<u8>, usize, Vec<String>), DataError> {
    let location = |i: usize| Location::Line {
        line: lines[i],
        field: Some(field),
    };
    if fields.first().is_none_or(|f| is_number(f)) {
        let labels = (fields.iter().zip(lines))
            .map(|(f, &line)| parse_label(path, line, field, f))
            .collect::<Result<Vec<u8>, _>>()?;
        let classes = check_labels(path, &labels, classes, location)?;
        return Ok((labels, classes, Vec::new()));
    }
    let names: Vec<&str> = fields
        .iter()
        .copied()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    if names.len() > 256 {
        return Err(DataError::Unsupported {
            path: path.to_owned(),
            reason: format!(
                "field {field} holds {} different class names (the first row's label, {:?}, is not a number); at most 256 classes",
                names.len(),
                fields[0]
            ),
        });
    }
    let labels: Vec<u8> = fields
        .iter()
        .map(|f| names.binary_search(f).map_or(0, |i| i as u8))
        .collect();
    let classes = check_labels(path, &labels, classes, location)?;
    Ok((
        labels,
        classes,
        names.into_iter().map(str::to_owned).collect(),
    ))
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

    fn with(f: impl FnOnce(&mut CsvOptions)) -> CsvOptions {
        let mut opts = CsvOptions::default();
        f(&mut opts);
        opts
    }

    /// Headers found or told, lines skipped, the label in any column, class names.
    #[test]
    fn headers_label_columns_and_class_names() -> TestResult {
        let dir = tempfile::tempdir()?;
        let auto = CsvOptions::default();

        // Class names: sorted, kept; a header found although only names are text.
        let iris = "sepal,petal,species\n5.1,1.4,setosa\n7.0,4.7,versicolor\n6.3,6.0,virginica\n4.9,1.4,setosa\n";
        let d = load_csv(&write(&dir, "iris.csv", iris)?, &auto)?;
        assert_eq!(d.class_names, ["setosa", "versicolor", "virginica"]);
        assert_eq!(
            (d.labels.clone(), d.classes, d.len()),
            (Some(vec![0, 1, 2, 0]), 3, 4)
        );
        // The same without a header: the first row is data.
        let no_header = iris.split_once('\n').map_or("", |(_, rest)| rest);
        let d = load_csv(&write(&dir, "iris-nh.csv", no_header)?, &auto)?;
        assert_eq!((d.len(), d.classes), (4, 3));

        // A header over numbered columns, where only the label's name is text.
        let d = load_csv(
            &write(&dir, "numbered.csv", "0,1,label\n3,4,1\n5,6,0\n")?,
            &auto,
        )?;
        assert_eq!((d.len(), d.labels), (2, Some(vec![1, 0])));
        assert!(d.class_names.is_empty());

        // The label first, by number, by name.
        let text = "id,x,y,kind\n7,1,2,0\n8,3,4,1\n";
        let p = write(&dir, "cols.csv", text)?;
        let first = load_csv(&p, &with(|o| o.label_column = LabelColumn::First))?;
        assert_eq!(
            (first.labels, first.features[..3].to_vec()),
            (Some(vec![7, 8]), vec![1.0, 2.0, 0.0])
        );
        let third = load_csv(&p, &with(|o| o.label_column = LabelColumn::Number(3)))?;
        assert_eq!(
            (third.labels, third.features[..3].to_vec()),
            (Some(vec![2, 4]), vec![7.0, 1.0, 0.0])
        );
        let named = load_csv(
            &p,
            &with(|o| o.label_column = LabelColumn::Name("kind".into())),
        )?;
        assert_eq!(named.labels, Some(vec![0, 1]));
        let err = fails(
            &dir,
            "cols2.csv",
            text,
            &with(|o| o.label_column = LabelColumn::Name("class".into())),
        )?;
        assert!(
            err.to_string()
                .contains("no column is named \"class\"; the header names id, x, y, kind"),
            "{err}"
        );

        // --header no makes a text first line an error at its field; yes takes a number line.
        let err = fails(
            &dir,
            "hdrno.csv",
            "a,b,c\n1,2,0\n",
            &with(|o| o.header = CsvHeader::No),
        )?;
        assert!(
            matches!(
                err,
                DataError::NonNumeric {
                    line: 1,
                    field: 1,
                    ..
                }
            ),
            "{err}"
        );
        let d = load_csv(
            &write(&dir, "hdryes.csv", "1,2,3\n4,5,0\n")?,
            &with(|o| o.header = CsvHeader::Yes),
        )?;
        assert_eq!(d.len(), 1);

        // A count line before the rows: the message says line 1 was taken as the header.
        let row = "1,2,3,4,5,6,0\n";
        let counted = format!("500,6,no,yes\n{row}{row}");
        let err = fails(&dir, "counted.csv", &counted, &auto)?;
        assert!(
            matches!(
                err,
                DataError::HeaderMismatch {
                    header_line: 1,
                    header_fields: 4,
                    line: 2,
                    found: 7,
                    ..
                }
            ),
            "{err}"
        );
        let msg = err.to_string();
        assert!(
            msg.contains("line 1 was taken as the header (4 fields: \"500,6,no,yes\")")
                && msg.contains("--skip-rows 1"),
            "{msg}"
        );
        let d = load_csv(
            &write(&dir, "counted2.csv", &counted)?,
            &with(|o| o.skip_rows = 1),
        )?;
        assert_eq!((d.len(), d.shape), (2, [1, 6, 1]));
        Ok(())
    }

    /// The iris file as scikit-learn ships it (tests/data): its count line is read as a header.
    #[test]
    fn iris_as_shipped() -> TestResult {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/data/iris.csv");
        let d = load_csv(&path, &CsvOptions::default())?;
        assert_eq!((d.len(), d.shape, d.classes), (150, [1, 4, 1], 3));
        assert_eq!(d.class_counts(), Some(vec![50, 50, 50]));
        assert_eq!(d.sample(0), &[5.1, 3.5, 1.4, 0.2]);
        assert_eq!(d.class_names, ["setosa", "versicolor", "virginica"]);
        Ok(())
    }

    /// scikit-learn's count line names the integer labels and is skipped, whatever its
    /// field count; a line whose counts are not the file's is not one.
    #[test]
    fn count_lines_name_the_classes() -> TestResult {
        let dir = tempfile::tempdir()?;
        let auto = CsvOptions::default();
        let rows = "1,2,3,0\n4,5,6,1\n7,8,9,1\n";
        let d = load_csv(
            &write(&dir, "wine.csv", &format!("3,3,red,white\n{rows}"))?,
            &auto,
        )?;
        assert_eq!((d.len(), d.shape, d.classes), (3, [1, 3, 1], 2));
        assert_eq!(d.class_names, ["red", "white"]);
        assert_eq!(d.labels, Some(vec![0, 1, 1]));

        // Three names, labels 0 and 1 only: three classes still.
        let d = load_csv(
            &write(&dir, "three.csv", &format!("3,3,a,b,c\n{rows}"))?,
            &auto,
        )?;
        assert_eq!((d.classes, d.class_names.len()), (3, 3));

        // A label beyond the names is refused.
        let err = fails(&dir, "beyond.csv", "2,3,a,b\n1,2,3,0\n4,5,6,2\n", &auto)?;
        assert!(err.to_string().contains('2'), "{err}");

        // Wrong counts: not a count line but a header (its field count is the rows').
        let d = load_csv(
            &write(&dir, "wrong.csv", &format!("4,3,red,white\n{rows}"))?,
            &auto,
        )?;
        assert_eq!((d.len(), d.class_names.len()), (3, 0));
        // Told there is no header: the line is data (and fails as such).
        let no = with(|o| o.header = CsvHeader::No);
        assert!(
            load_csv(
                &write(&dir, "no.csv", &format!("3,3,red,white\n{rows}"))?,
                &no
            )
            .is_err()
        );
        Ok(())
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
            ..CsvOptions::default()
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

        // Header sets the expected field count, and a later row must agree too.
        let err = fails(&dir, "ragged-hdr.csv", "x,y,label\n1,2,3,0\n", &lab)?;
        assert!(
            matches!(
                err,
                DataError::HeaderMismatch {
                    line: 2,
                    found: 4,
                    header_fields: 3,
                    ..
                }
            ),
            "{err}"
        );
        let err = fails(&dir, "ragged-hdr2.csv", "x,y,label\n1,2,0\n1,2,3,0\n", &lab)?;
        assert!(
            matches!(
                err,
                DataError::RaggedRow {
                    line: 3,
                    found: 4,
                    expected: 3,
                    first: 1,
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
