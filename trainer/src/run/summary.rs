//! The one table `minnow run` prints: teacher, float and int8 student, the device, the
//! footprint.

use std::path::Path;

use crate::int8::report::Report;
use crate::percent::pct_or;

fn pct(x: Option<f64>) -> String {
    pct_or(x, "-")
}

/// The one table `minnow run` prints.
pub fn summary_table(dir: &Path, r: &Report) -> String {
    let d = r.device.as_ref();
    let rows: Vec<(&str, String)> = vec![
        ("teacher accuracy (host, float)", pct(r.teacher.accuracy)),
        (
            "student accuracy (host, float)",
            pct(Some(r.student_float.accuracy)),
        ),
        (
            "student accuracy (host, int8)",
            pct(Some(r.student_int8.accuracy)),
        ),
        (
            "student accuracy (device)",
            d.map_or("-".into(), |d| {
                format!("{} on {} golden vectors", pct(Some(d.accuracy)), d.vectors)
            }),
        ),
        (
            "int8 agreement with teacher (host)",
            pct(r.student_int8.teacher_agreement),
        ),
        (
            "int8 agreement with teacher (device)",
            pct(d.and_then(|d| d.teacher_agreement)),
        ),
        (
            "bit-exact on device",
            d.map_or("not run".into(), |d| {
                format!(
                    "{} ({} mismatches in {} vectors)",
                    if d.mismatches == 0 { "yes" } else { "NO" },
                    d.mismatches,
                    d.vectors
                )
            }),
        ),
        ("device", d.map_or("-".into(), |d| d.core.clone())),
        (
            "student blob (flash)",
            format!("{} B", r.footprint.blob_bytes),
        ),
        (
            "firmware flash",
            d.map_or("-".into(), |d| format!("{} B", d.flash_bytes)),
        ),
        (
            "RAM per inference (host count)",
            format!("{} B", r.footprint.ram_bytes),
        ),
        (
            "firmware RAM (device)",
            d.map_or("-".into(), |d| format!("{} B", d.ram_bytes)),
        ),
        ("MACs per inference", r.footprint.macs.to_string()),
        (
            "instructions per inference",
            d.and_then(|d| d.instructions_per_inference)
                .map_or("-".into(), |v| v.to_string()),
        ),
        (
            "instructions per MAC",
            d.and_then(|d| d.instructions_per_mac)
                .map_or("-".into(), |v| format!("{v:.2}")),
        ),
    ];
    let width = rows.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    let mut s = format!("minnow run: {}\n", dir.display());
    for (k, v) in rows {
        s.push_str(&format!("  {k:<width$}  {v}\n"));
    }
    s
}
