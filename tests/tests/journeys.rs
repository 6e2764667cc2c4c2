//! Journeys a user takes, end to end, on the built-in digits data:
//!
//! * the default `minnow run` (teacher -> student -> int8 -> firmware in QEMU) with its report
//!   checked against floors and against the documented shape (docs/report.md);
//! * a training run killed mid-way and resumed ends with the same weights as an uninterrupted one;
//! * corrupt inputs at each stage fail with an error naming the file, leaving no partial outputs;
//! * a teacher trained elsewhere (an ONNX file) distils, live under jitter, into a student that
//!   runs bit-exact in QEMU.
//!
//! QEMU and the thumb toolchain are needed for the device steps; without them those steps are
//! skipped with a printed reason, and `MINNOW_REQUIRE_QEMU=1` (set by scripts/test.sh) turns a
//! missing tool into a failure.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use minnow::TeacherConfig;
use minnow::run::{self, RunConfig};
use serde_json::Value;

use minnow_tests::{qemu_available as qemu_available_for, repo, report_page};

fn qemu_available() -> bool {
    qemu_available_for("device steps")
}

fn quick_run_config(out: &Path, core: &str) -> RunConfig {
    // Resolved exactly as the CLI resolves `minnow run --out OUT --core CORE --quiet`.
    let args = minnow::cli::run::RunArgs {
        out: Some(out.to_owned()),
        core: Some(core.to_owned()),
        quiet: true,
        ..Default::default()
    };
    args.resolve().expect("default run config resolves")
}

/// Every object key in a JSON value, as dotted paths (array elements share their parent's path).
fn key_paths(v: &Value, prefix: &str, out: &mut BTreeSet<String>) {
    match v {
        Value::Object(map) => {
            for (k, child) in map {
                let path = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                out.insert(path.clone());
                key_paths(child, &path, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|i| key_paths(i, prefix, out)),
        _ => {}
    }
}

/// The key names docs/report.md documents in its annotated example (commented lines included,
/// so the `device` section's keys count).
fn documented_keys() -> BTreeSet<String> {
    let doc = std::fs::read_to_string(repo().join("docs/report.md")).expect("docs/report.md");
    let block = doc
        .split("```jsonc")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("docs/report.md has a ```jsonc example");
    let mut keys = BTreeSet::new();
    for line in block.lines() {
        let line = line.trim_start_matches([' ', '/']);
        if let Some(rest) = line.strip_prefix('"')
            && let Some((key, after)) = rest.split_once('"')
            && after.trim_start().starts_with(':')
        {
            keys.insert(key.to_owned());
        }
    }
    keys
}

#[test]
fn default_run_end_to_end() {
    let dir = tempfile::tempdir().expect("tempdir");
    let device = qemu_available();
    let cfg = quick_run_config(dir.path(), if device { "m4" } else { "none" });
    let started = Instant::now();
    let outcome = run::run(&cfg).expect("minnow run succeeds on digits");
    eprintln!("default run took {:.1}s", started.elapsed().as_secs_f64());
    let table = run::summary::summary_table(&outcome.dir, &outcome.report);
    eprintln!("{table}");

    for f in [
        "config.toml",
        "teacher_predictions.json",
        "student.minnow",
        "golden.mngv",
        "report.json",
        "report.md",
        "report.html",
        "teacher/config.toml",
        "teacher/teacher.bpk",
        "teacher/metrics.jsonl",
        "teacher/curves.svg",
        "teacher/checkpoint.bin",
        "student/student.float.json",
        "student/metrics.jsonl",
        "student/curves.png",
    ] {
        assert!(
            dir.path().join(f).is_file(),
            "{f} missing from the run folder"
        );
    }

    let r = &outcome.report;
    // The cost model, which runs before any training, knew the trained student's bytes.
    let (_, cost) = minnow::fit::cost::student_cost(&cfg.student).expect("cost");
    assert_eq!(
        (cost.usage.flash, cost.usage.ram, cost.macs),
        (
            r.footprint.blob_bytes,
            r.footprint.ram_bytes,
            r.footprint.macs
        ),
        "cost model against the export"
    );
    // Floors with margin below what the default run measures (teacher ~97.8%, student ~96.4%).
    let teacher = r
        .teacher
        .accuracy
        .expect("the run computes teacher predictions");
    assert!(teacher > 0.94, "teacher accuracy {teacher}");
    assert!(
        r.student_float.accuracy > 0.92,
        "float student {}",
        r.student_float.accuracy
    );
    assert!(
        r.student_int8.accuracy > 0.92,
        "int8 student {}",
        r.student_int8.accuracy
    );
    assert!(
        (r.student_int8.accuracy - r.student_float.accuracy).abs() <= 0.01,
        "int8 {} vs float {}",
        r.student_int8.accuracy,
        r.student_float.accuracy
    );
    assert!(r.student_int8.teacher_agreement.expect("teacher known") > 0.93);

    // The host's int8 accuracy is minnow-core's: re-run the exported blob here.
    let blob = std::fs::read(dir.path().join("student.minnow")).expect("blob");
    let golden = std::fs::read(dir.path().join("golden.mngv")).expect("golden");
    let s = minnow_core::Student::decode(&blob).expect("exported blob decodes");
    let g = minnow_core::GoldenVectors::decode(&golden).expect("golden decodes");
    let mut scratch = vec![0i8; s.scratch_len()];
    let mut logits = vec![0i8; s.classes()];
    for i in 0..g.len() {
        s.run(g.input(i).expect("input"), &mut scratch, &mut logits)
            .expect("runs");
        assert_eq!(&logits[..], g.expected(i).expect("expected"), "vector {i}");
    }

    if device {
        let d = r.device.as_ref().expect("verify filled the device section");
        assert_eq!(d.mismatches, 0, "device differs from host");
        assert_eq!(d.vectors, g.len() as u64);
        assert!(d.accuracy > 0.92);
        assert!(d.instructions_per_inference.is_some_and(|n| n > 1000));
        // The instruction model, before any training, predicted what QEMU counted.
        minnow_tests::assert_instructions_predicted(
            "default run",
            "m4",
            cost.instructions.on("m4").expect("an M4 model"),
            d.instructions_per_inference.expect("instructions"),
        );
        assert!(d.flash_bytes > blob.len() as u64 && d.ram_bytes > 0);
        assert!(table.contains("yes (0 mismatches"), "{table}");
    }

    // report.json has the documented shape: every key it has is documented, and (with the
    // device section) every documented key is there; the issue's required keys are numbers.
    let json: Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("report.json")).expect("report"))
            .expect("report.json is JSON");
    let mut paths = BTreeSet::new();
    key_paths(&json, "", &mut paths);
    let names: BTreeSet<String> = paths
        .iter()
        .map(|p| p.rsplit('.').next().unwrap_or(p).to_owned())
        .collect();
    let documented = documented_keys();
    let undocumented: Vec<&String> = names.difference(&documented).collect();
    assert!(
        undocumented.is_empty(),
        "report.json keys missing from docs/report.md: {undocumented:?}"
    );
    if device {
        let absent: Vec<&String> = documented.difference(&names).collect();
        assert!(
            absent.is_empty(),
            "documented keys absent from report.json: {absent:?}"
        );
    }
    let mut required = vec![
        "/teacher/accuracy",
        "/student_float/accuracy",
        "/student_int8/accuracy",
        "/student_int8/teacher_agreement",
        "/footprint/weight_bytes",
        "/footprint/scratch_bytes",
        "/footprint/macs",
    ];
    if device {
        required.extend([
            "/device/vectors",
            "/device/mismatches",
            "/device/accuracy",
            "/device/teacher_agreement",
            "/device/instructions_per_inference",
            "/device/instructions_per_mac",
            "/device/flash_bytes",
            "/device/ram_bytes",
        ]);
        assert!(json.pointer("/device/core").is_some_and(Value::is_string));
    }
    for p in required {
        assert!(
            json.pointer(p).is_some_and(Value::is_number),
            "{p} is not a number in report.json"
        );
    }
    check_report_page(dir.path(), device);
}

/// report.html of the default run: every number it states is report.json's (and report.md
/// states it too), and it renders in headless Chromium with every section and no console
/// message. The screenshot lands in target/report-html.png (docs/report-html.png is one).
fn check_report_page(dir: &Path, device: bool) {
    let read = |f: &str| std::fs::read(dir.join(f)).unwrap_or_else(|e| panic!("{f}: {e}"));
    let (json, md) = (
        read("report.json"),
        String::from_utf8(read("report.md")).expect("md"),
    );
    let html = String::from_utf8(read("report.html")).expect("html");
    let at_least = if device { 18 } else { 9 };
    let stated = report_page::same_numbers(&json, &md, &html, at_least)
        .unwrap_or_else(|e| panic!("report.html disagrees: {e}"));
    eprintln!("report.html states {stated} numbers, each as report.json and report.md do");
    // The check can fail: one number changed is caught.
    let (_, first) = report_page::tagged(&html)
        .into_iter()
        .next()
        .expect("a tagged number");
    let tampered = html.replacen(&format!(">{first}<"), ">0.01%<", 1);
    assert!(report_page::same_numbers(&json, &md, &tampered, at_least).is_err());

    let Some(chromium) = report_page::chromium() else {
        let why = "report.html rendering skipped: no headless Chromium (apt-get install chromium-headless-shell)";
        assert!(
            std::env::var_os("MINNOW_REQUIRE_CHROMIUM").is_none(),
            "{why}"
        );
        eprintln!("{why}");
        return;
    };
    let shot = repo().join("target/report-html.png");
    let page = report_page::render(&chromium, &dir.join("report.html"), &shot, (1100, 4000))
        .expect("chromium renders report.html");
    assert!(
        page.console.is_empty(),
        "console messages: {:?}",
        page.console
    );
    for section in minnow::int8::report::html::SECTIONS {
        assert!(
            page.dom.contains(&format!("<section id=\"{section}\">")),
            "no {section} section"
        );
    }
    assert_eq!(page.dom.matches("<svg").count(), 7, "the page's charts");
    let png = std::fs::read(&shot).expect("screenshot");
    assert!(
        png.starts_with(b"\x89PNG") && png.len() > 50_000,
        "{} bytes",
        png.len()
    );
}

/// `minnow run --teacher mlp.onnx`: an ONNX teacher (trained on the digits as x/16 - 0.5 by
/// scripts/onnx_fixtures.py) run live by tract under 1-pixel jitter teaches a student, which
/// is exported and verified bit-exact on the M4 in QEMU; no teacher is trained.
#[test]
fn onnx_teacher_with_jitter_end_to_end() {
    let dir = tempfile::tempdir().expect("tempdir");
    let device = qemu_available();
    let onnx = repo().join("trainer/tests/fixtures/onnx/mlp.onnx");
    let args = minnow::cli::run::RunArgs {
        out: Some(dir.path().to_owned()),
        core: Some(if device { "m4" } else { "none" }.to_owned()),
        teacher: vec![onnx.clone()],
        onnx: minnow::cli::teacher::OnnxFlags {
            teacher_scale: Some(0.0625),
            teacher_offset: Some(-0.5),
            ..Default::default()
        },
        student_epochs: Some(30),
        quiet: true,
        ..Default::default()
    };
    let mut cfg = args.resolve().expect("resolves");
    cfg.student.train.jitter = Some(1);
    let started = Instant::now();
    let outcome = run::run(&cfg).expect("minnow run with an ONNX teacher");
    eprintln!(
        "ONNX teacher run took {:.1}s\n{}",
        started.elapsed().as_secs_f64(),
        run::summary::summary_table(&outcome.dir, &outcome.report)
    );
    assert!(
        !dir.path().join("teacher").exists(),
        "no teacher is trained"
    );
    let saved = std::fs::read_to_string(dir.path().join("student/config.toml")).expect("config");
    for line in [
        "teacher_scale = 0.0625",
        "teacher_offset = -0.5",
        "jitter = 1",
    ] {
        assert!(saved.contains(line), "{line} missing from\n{saved}");
    }
    assert!(saved.contains("mlp.onnx"), "{saved}");
    let r = &outcome.report;
    // The fixture saw every digit in training (98.8% on all of them).
    assert!(
        r.teacher.accuracy.expect("teacher") > 0.95,
        "{:?}",
        r.teacher
    );
    let agreement = r.student_int8.teacher_agreement.expect("agreement");
    assert!(
        agreement > 0.9,
        "int8 agreement with the ONNX teacher {agreement}"
    );
    if device {
        let d = r.device.as_ref().expect("verified");
        assert_eq!(d.mismatches, 0, "device differs from host");
    }
}

/// Helper process for `resume_after_kill_matches_uninterrupted`: trains a teacher into
/// `$MINNOW_JOURNEY_DIR` until it is killed. Not a test on its own.
#[test]
#[ignore = "run as a child process by resume_after_kill_matches_uninterrupted"]
fn child_trains_until_killed() {
    let dir = std::env::var_os("MINNOW_JOURNEY_DIR").expect("MINNOW_JOURNEY_DIR");
    minnow::train_teacher(&resume_config(Path::new(&dir))).expect("trains");
}

fn resume_config(out: &Path) -> TeacherConfig {
    let mut c = TeacherConfig {
        out: out.to_owned(),
        ..TeacherConfig::default()
    };
    c.train.epochs = Some(150);
    c.net.hidden = vec![64];
    c.train.quiet = true;
    c
}

#[test]
fn resume_after_kill_matches_uninterrupted() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let killed = tmp.path().join("killed");
    let whole = tmp.path().join("whole");

    let mut child = Command::new(std::env::current_exe().expect("test binary"))
        .args([
            "--exact",
            "child_trains_until_killed",
            "--ignored",
            "--nocapture",
        ])
        .env("MINNOW_JOURNEY_DIR", &killed)
        .spawn()
        .expect("spawn the training child");
    let checkpoint = killed.join("checkpoint.bin");
    let deadline = Instant::now() + Duration::from_secs(120);
    while !checkpoint.is_file() {
        assert!(Instant::now() < deadline, "no checkpoint after 120 s");
        assert!(
            child.try_wait().expect("poll").is_none(),
            "the child ended before its first checkpoint"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().expect("kill the child");
    let _ = child.wait();
    assert!(
        !killed.join("teacher.bpk").exists(),
        "the child finished before it was killed: nothing was interrupted (raise the epochs)"
    );

    let resumed = minnow::resume(&killed, Some(true)).expect("resume continues the killed run");
    let minnow::Resumed::Teacher(resumed) = resumed else {
        panic!("a teacher run resumed as something else")
    };
    let uninterrupted = minnow::train_teacher(&resume_config(&whole)).expect("trains");
    assert_eq!(uninterrupted.members.len(), resumed.members.len());
    let a = std::fs::read(killed.join("teacher.bpk")).expect("resumed record");
    let b = std::fs::read(whole.join("teacher.bpk")).expect("uninterrupted record");
    assert!(
        a == b,
        "resumed weights differ from the uninterrupted run's"
    );
    let metrics = |d: &Path| std::fs::read_to_string(d.join("metrics.jsonl")).expect("metrics");
    // Metrics lines carry wall-clock seconds; compare everything else.
    let strip = |s: String| -> Vec<Value> {
        s.lines()
            .map(|l| {
                let mut v: Value = serde_json::from_str(l).expect("jsonl");
                if let Some(o) = v.as_object_mut() {
                    o.retain(|k, _| !k.contains("second"));
                }
                v
            })
            .collect()
    };
    assert_eq!(strip(metrics(&killed)), strip(metrics(&whole)));
    assert_eq!(resumed.members.len(), 1);
}

fn files(dir: &Path) -> Vec<String> {
    minnow::files::names(dir).expect("list")
}

#[test]
fn corrupt_inputs_fail_cleanly_at_each_stage() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let t = tmp.path();

    // 1. Data: a ragged CSV row. The error names the file and line; no model is written.
    let csv = t.join("bad.csv");
    std::fs::write(&csv, "1,2,3,0\n4,5,6,1\n7,8,2\n").expect("write");
    let out = t.join("from-bad-csv");
    let mut cfg = TeacherConfig {
        out: out.clone(),
        ..TeacherConfig::default()
    };
    cfg.data.source = minnow::data::DataSpec::Csv {
        path: csv.clone(),
        has_labels: true,
        shape: None,
        classes: None,
        header: Default::default(),
        skip_rows: 0,
        label_column: Default::default(),
    };
    cfg.train.quiet = true;
    let err = minnow::train_teacher(&cfg)
        .expect_err("ragged CSV is refused")
        .to_string();
    assert!(err.contains("bad.csv") && err.contains('3'), "{err}");
    assert!(!out.join("teacher.bpk").exists() && !out.join("checkpoint.bin").exists());
    let code = minnow::cli::run([
        "minnow",
        "train-teacher",
        "--csv",
        csv.to_str().expect("utf8"),
        "--out",
        out.to_str().expect("utf8"),
        "--quiet",
    ]);
    assert_eq!(code, 1, "a bad data file is a failure, not a usage error");

    // A good teacher and student to corrupt later stages with.
    let run = t.join("run");
    let cfg = quick_run_config(&run, "none");
    let mut teacher_cfg = cfg.teacher.clone();
    teacher_cfg.train.epochs = Some(3);
    minnow::train_teacher(&teacher_cfg).expect("teacher");
    let mut student_cfg = cfg.student.clone();
    student_cfg.train.epochs = Some(3);
    minnow::distill(&student_cfg).expect("student");

    // 2. Teacher record truncated: distillation refuses it by name and writes no student.
    let bad_teacher = t.join("bad-teacher");
    std::fs::create_dir_all(&bad_teacher).expect("mkdir");
    for f in ["teacher.toml", "config.toml"] {
        std::fs::copy(run.join("teacher").join(f), bad_teacher.join(f)).expect("copy");
    }
    let record = std::fs::read(run.join("teacher/teacher.bpk")).expect("record");
    std::fs::write(bad_teacher.join("teacher.bpk"), &record[..record.len() / 2]).expect("write");
    let mut s2 = student_cfg.clone();
    s2.teacher = vec![bad_teacher.clone()];
    s2.out = t.join("student-of-bad-teacher");
    let err = minnow::distill(&s2)
        .expect_err("truncated teacher is refused")
        .to_string();
    assert!(err.contains("teacher.bpk"), "{err}");
    assert!(!s2.out.join("student.float.json").exists());

    // 3. Float student corrupted: export refuses it by name and writes none of its files.
    let student_dir = run.join("student");
    let good = std::fs::read(student_dir.join("student.float.json")).expect("student json");
    std::fs::write(
        student_dir.join("student.float.json"),
        &good[..good.len() / 3],
    )
    .expect("write");
    let export_out = t.join("export-of-bad-student");
    let code = minnow::cli::run([
        "minnow",
        "export",
        student_dir.to_str().expect("utf8"),
        "--out",
        export_out.to_str().expect("utf8"),
    ]);
    assert_eq!(code, 1);
    assert!(
        files(&export_out).is_empty(),
        "partial export: {:?}",
        files(&export_out)
    );
    std::fs::write(student_dir.join("student.float.json"), &good).expect("restore");

    // A budget that cannot be met: an error that says by how much, and no files.
    let code = minnow::cli::run([
        "minnow",
        "export",
        student_dir.to_str().expect("utf8"),
        "--out",
        export_out.to_str().expect("utf8"),
        "--max-flash",
        "1k",
    ]);
    assert_eq!(code, 1);
    assert!(
        files(&export_out).is_empty(),
        "partial export: {:?}",
        files(&export_out)
    );

    // 4. Exported student corrupted after export: verify's host check reports the decode error
    //    (before any firmware is built; tests/tests/firmware_qemu.rs covers the device's own).
    let code = minnow::cli::run([
        "minnow",
        "export",
        student_dir.to_str().expect("utf8"),
        "--golden",
        "5",
    ]);
    assert_eq!(code, 0);
    let blob_path = student_dir.join("student.minnow");
    let mut blob = std::fs::read(&blob_path).expect("blob");
    let last = blob.len() - 1;
    blob[last] ^= 0x5a;
    std::fs::write(&blob_path, &blob).expect("write");
    if qemu_available() {
        let report_before = std::fs::read(student_dir.join("report.json")).expect("report");
        let err = minnow::device::verify::verify(&minnow::device::verify::VerifyConfig {
            run_dir: student_dir.clone(),
            device: minnow::device::verify::DeviceConfig {
                core: "m4".into(),
                timeout: 120,
                max_instructions: None,
            },
            probe: None,
            firmware_dir: None,
            debug: false,
            quiet: false,
        })
        .expect_err("a corrupted blob is refused")
        .to_string();
        assert!(err.contains("CRC") || err.contains("crc"), "{err}");
        let report_after = std::fs::read(student_dir.join("report.json")).expect("report");
        assert!(
            report_before == report_after,
            "a failed verify must not touch report.json"
        );
    }
}

/// `minnow run`'s export step and `minnow export` of the same student are one code path: the
/// files they write are byte for byte the same, for a plain run and for a quantization-aware
/// one, whose calibration percentile both must use (the run's export once ignored it).
#[test]
fn run_and_export_write_the_same_bytes() {
    let tmp = tempfile::tempdir().expect("tempdir");
    for (name, qat) in [("plain", false), ("qat", true)] {
        let run_dir = tmp.path().join(name);
        let mut cfg = quick_run_config(&run_dir, "none");
        cfg.teacher.train.epochs = Some(4);
        cfg.student.train.epochs = Some(3);
        cfg.student.qat = qat;
        cfg.student.qat_percentile = qat.then_some(99.9);
        run::run(&cfg).expect("minnow run");
        let out = tmp.path().join(format!("{name}-export"));
        let code = minnow::cli::run([
            "minnow",
            "export",
            run_dir.join("student").to_str().expect("utf8"),
            "--teacher",
            run_dir.join("teacher").to_str().expect("utf8"),
            "--out",
            out.to_str().expect("utf8"),
        ]);
        assert_eq!(code, 0, "{name}: minnow export");
        for f in [
            "student.minnow",
            "golden.mngv",
            "report.json",
            "report.md",
            "report.html",
        ] {
            let a = std::fs::read(run_dir.join(f)).expect("run's file");
            let b = std::fs::read(out.join(f)).expect("export's file");
            assert!(
                a == b,
                "{name}: {f} differs between minnow run and minnow export"
            );
        }
        let report: Value =
            serde_json::from_slice(&std::fs::read(out.join("report.json")).expect("report"))
                .expect("json");
        let want = if qat { Value::from(99.9) } else { Value::Null };
        assert_eq!(report["data"]["percentile"], want, "{name}");
    }
}
