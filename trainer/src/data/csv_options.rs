//! What a CSV file cannot say about itself: whether its first line is a header, lines to skip
//! before it, and which column holds the label.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// How to read a CSV file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CsvOptions {
    /// One column is the label ([`CsvOptions::label_column`]).
    pub has_labels: bool,
    /// Shape of one sample; default `[1, n_features, 1]`.
    pub shape: Option<[usize; 3]>,
    /// Class count; default max label + 1 (0 when unlabeled), or the number of class names.
    pub classes: Option<usize>,
    /// Whether the first line read is a header.
    pub header: CsvHeader,
    /// Physical lines skipped before anything is read (a count line some exporters write).
    pub skip_rows: usize,
    /// The label's column.
    pub label_column: LabelColumn,
}

impl Default for CsvOptions {
    fn default() -> Self {
        Self {
            has_labels: true,
            shape: None,
            classes: None,
            header: CsvHeader::Auto,
            skip_rows: 0,
            label_column: LabelColumn::Last,
        }
    }
}

/// Whether the first line (after `skip_rows`) is a header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CsvHeader {
    /// A header when a field other than the label is not a number.
    #[default]
    Auto,
    Yes,
    No,
}

impl CsvHeader {
    pub fn is_auto(&self) -> bool {
        *self == CsvHeader::Auto
    }
}

impl FromStr for CsvHeader {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "auto" => Ok(CsvHeader::Auto),
            "yes" => Ok(CsvHeader::Yes),
            "no" => Ok(CsvHeader::No),
            other => Err(format!("{other:?}: expected auto, yes or no")),
        }
    }
}

/// Which column holds the label: written `first`, `last`, a column number counted from 1 (as
/// error messages count fields), or a header's column name.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum LabelColumn {
    First,
    #[default]
    Last,
    /// 1-based.
    Number(usize),
    Name(String),
}

impl LabelColumn {
    pub fn is_last(&self) -> bool {
        *self == LabelColumn::Last
    }

    /// The 0-based index in rows of `fields` fields whose header (if any) is `header`;
    /// `Err` says why there is none.
    pub fn index(&self, fields: usize, header: Option<&[String]>) -> Result<usize, String> {
        match self {
            LabelColumn::First => Ok(0),
            LabelColumn::Last => Ok(fields.saturating_sub(1)),
            LabelColumn::Number(n) if (1..=fields).contains(n) => Ok(n - 1),
            LabelColumn::Number(n) => Err(format!(
                "label column {n} does not exist: the rows have {fields} fields"
            )),
            LabelColumn::Name(name) => match header {
                Some(h) => h.iter().position(|f| f == name).ok_or_else(|| {
                    format!(
                        "no column is named {name:?}; the header names {}",
                        h.join(", ")
                    )
                }),
                None => Err(format!(
                    "label column {name:?} is a name, but the file has no header"
                )),
            },
        }
    }
}

impl fmt::Display for LabelColumn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LabelColumn::First => f.write_str("first"),
            LabelColumn::Last => f.write_str("last"),
            LabelColumn::Number(n) => write!(f, "{n}"),
            LabelColumn::Name(name) => f.write_str(name),
        }
    }
}

impl FromStr for LabelColumn {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s {
            "" => return Err("an empty label column".into()),
            "first" => LabelColumn::First,
            "last" => LabelColumn::Last,
            s => match s.parse::<usize>() {
                Ok(0) => return Err("label columns count from 1".into()),
                Ok(n) => LabelColumn::Number(n),
                Err(_) => LabelColumn::Name(s.to_owned()),
            },
        })
    }
}

impl Serialize for LabelColumn {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for LabelColumn {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_columns_parse_and_resolve() {
        let names = ["a".to_owned(), "species".to_owned(), "c".to_owned()];
        let cases = [
            ("first", Ok(0)),
            ("last", Ok(2)),
            ("2", Ok(1)),
            ("species", Ok(1)),
        ];
        for (text, want) in cases {
            let col: LabelColumn = text.parse().unwrap_or_default();
            assert_eq!(col.to_string(), text);
            assert_eq!(col.index(3, Some(&names)), want, "{text}");
        }
        assert!("0".parse::<LabelColumn>().is_err());
        assert!(LabelColumn::Number(4).index(3, None).is_err());
        let err = LabelColumn::Name("x".into()).index(3, Some(&names));
        assert_eq!(
            err,
            Err("no column is named \"x\"; the header names a, species, c".into())
        );
        assert!(LabelColumn::Name("x".into()).index(3, None).is_err());
        assert!("maybe".parse::<CsvHeader>().is_err());
    }
}
