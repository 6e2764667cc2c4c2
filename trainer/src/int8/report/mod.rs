//! `report.json`, `report.md` and `report.html`: what `minnow export` measured, and (later)
//! what `minnow verify` measured on the device. The shape is documented in `docs/report.md`;
//! [`markdown`] and [`html`] render the same numbers for people.
//!
//! The report is plain structs (no maps), so serde_json writes keys in a fixed order and the
//! same inputs give the same bytes. `verify` reads it with [`Report::load`], fills in
//! [`Report::device`] and writes it back with [`Report::save`].

use std::path::{Path, PathBuf};

use crate::files::set::replace_in_set;
use crate::files::{self, IoError};
use crate::int8::export_set::{EXPORT_FILES, EXPORT_SET, REPORT_HTML, REPORT_JSON, REPORT_MD};
use crate::plot::DrawError;

pub mod content;
pub mod html;
pub mod markdown;

pub use content::*;
pub use html::{Figure, figures};

/// Why a report (or any export file) could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error(transparent)]
    Io(#[from] IoError),
    #[error("{}: not a minnow report: {source}", path.display())]
    Json {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("cannot write the report as JSON: {0}")]
    Serialize(#[from] serde_json::Error),
    #[error("cannot draw the report's charts: {0}")]
    Draw(DrawError),
    #[error("{}: report schema {found}, this build reads {supported}", path.display())]
    Schema {
        path: PathBuf,
        found: u32,
        supported: u32,
    },
}

impl Report {
    /// Pretty JSON with a trailing newline; metrics rounded by [`Report::rounded`].
    pub fn to_json(&self) -> Result<Vec<u8>, serde_json::Error> {
        let mut v = serde_json::to_vec_pretty(&self.rounded())?;
        v.push(b'\n');
        Ok(v)
    }

    pub fn from_json(bytes: &[u8], path: &Path) -> Result<Report, ReportError> {
        let json = |source| ReportError::Json {
            path: path.to_owned(),
            source,
        };
        let value: serde_json::Value = serde_json::from_slice(bytes).map_err(json)?;
        let found = value.get("schema").and_then(serde_json::Value::as_u64);
        if found != Some(u64::from(REPORT_SCHEMA)) {
            return Err(ReportError::Schema {
                path: path.to_owned(),
                found: found.map_or(0, |f| u32::try_from(f).unwrap_or(u32::MAX)),
                supported: REPORT_SCHEMA,
            });
        }
        serde_json::from_value(value).map_err(json)
    }

    /// Reads `report.json`.
    pub fn load(path: &Path) -> Result<Report, ReportError> {
        let bytes = files::read(path)?;
        Report::from_json(&bytes, path)
    }

    /// Writes `report.json` and `report.md` into the export set of folder `dir` (the
    /// read-modify-write of `minnow verify`), together, keeping the set's other files.
    pub fn save(&self, dir: &Path) -> Result<(), ReportError> {
        let files = self.files()?;
        let files: Vec<(&str, &[u8])> = files.iter().map(|(f, b)| (*f, b.as_slice())).collect();
        replace_in_set(dir, EXPORT_SET, &EXPORT_FILES, &files)?;
        Ok(())
    }

    /// `report.json`, `report.md` and `report.html`, by name.
    pub fn files(&self) -> Result<[(&'static str, Vec<u8>); 3], ReportError> {
        Ok([
            (REPORT_JSON, self.to_json()?),
            (REPORT_MD, self.to_markdown().into_bytes()),
            (
                REPORT_HTML,
                self.to_html().map_err(ReportError::Draw)?.into_bytes(),
            ),
        ])
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::int8::report::content::samples::{sample_device, sample_report};

    #[test]
    fn report_round_trips_and_verify_can_fill_device() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("report.json");
        let r = sample_report().rounded();
        r.save(dir.path()).expect("save");
        let text = std::fs::read_to_string(&path).expect("read");
        assert!(text.contains("\"device\": null"), "{text}");
        for key in [
            "teacher",
            "student_float",
            "student_int8",
            "footprint",
            "layers",
            "confusion",
        ] {
            assert!(text.contains(&format!("\"{key}\"")), "{key}");
        }
        let mut back = Report::load(&path).expect("load");
        assert_eq!(back, r);

        // What `minnow verify` does: read, fill in the device section, write back.
        back.device = Some(sample_device());
        back.save(dir.path()).expect("save again");
        let again = Report::load(&path).expect("load again");
        assert_eq!(again, back.rounded());
        // A load/save cycle is byte-stable.
        let bytes = std::fs::read(&path).expect("read");
        again.save(dir.path()).expect("save third");
        assert_eq!(std::fs::read(&path).expect("read"), bytes);
        let md = std::fs::read_to_string(dir.path().join("report.md")).expect("md");
        assert!(md.contains("## Device (cortex-m0)"), "{md}");
        assert!(md.contains("12345"), "{md}");
        let html = std::fs::read_to_string(dir.path().join("report.html")).expect("html");
        assert!(
            html.contains("cortex-m0") && html.contains("bit-exact"),
            "{html}"
        );
        // Only the three reports (and the set's hidden link and generation): no temporaries.
        let visible: Vec<String> = files::names(dir.path())
            .expect("ls")
            .into_iter()
            .filter(|n| !n.starts_with('.'))
            .collect();
        assert_eq!(visible, ["report.html", "report.json", "report.md"]);
        assert_eq!(files::names(dir.path()).expect("ls").len(), 5);
    }

    #[test]
    fn report_rejects_foreign_json() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("report.json");
        std::fs::write(&path, b"{\"schema\": 99}").expect("write");
        assert!(matches!(
            Report::load(&path),
            Err(ReportError::Schema { found: 99, .. })
        ));
        std::fs::write(&path, b"not json").expect("write");
        assert!(matches!(Report::load(&path), Err(ReportError::Json { .. })));
        assert!(matches!(
            Report::load(&dir.path().join("missing.json")),
            Err(ReportError::Io { .. })
        ));
    }
}
