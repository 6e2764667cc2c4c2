//! The files an export writes, by name, and the set they form (written together, see
//! [`crate::files::set`]).

pub const STUDENT_FILE: &str = "student.minnow";
pub const GOLDEN_FILE: &str = "golden.mngv";
pub const REPORT_JSON: &str = "report.json";
pub const REPORT_MD: &str = "report.md";
pub const REPORT_HTML: &str = "report.html";
/// The teacher's predicted class of every test sample (`minnow run` writes it with the export).
pub const PREDICTIONS_FILE: &str = "teacher_predictions.json";
/// The name of an export's file set.
pub const EXPORT_SET: &str = "export";
/// The files of an export set, as folders written before sets existed hold them (report.html
/// came after).
pub const EXPORT_FILES: [&str; 5] = [
    STUDENT_FILE,
    GOLDEN_FILE,
    REPORT_JSON,
    REPORT_MD,
    PREDICTIONS_FILE,
];
