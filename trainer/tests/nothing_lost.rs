//! Nothing lost, nothing mixed: the `minnow` binary driven as an adversarial user would, one
//! test per way an output folder could end up mixed, stale or corrupt, or a bad number or file
//! could slip through (issue #21), and crash-consistency loops that kill an export and a
//! training at many points and read the folder back each time.
//!
//! They run the binary this package builds; `MINNOW_BIN=/path/to/minnow` runs them against
//! another build instead (an older minnow, to watch them fail). Everything runs on the host:
//! `minnow verify` checks a golden file on the host before it builds any firmware.
//!
//! Commands are written as one line split at spaces (temporary folders have none).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// `minnow ARGS` for the command line `line`.
fn minnow(line: &str) -> Command {
    let bin = std::env::var_os("MINNOW_BIN").unwrap_or_else(|| env!("CARGO_BIN_EXE_minnow").into());
    let mut c = Command::new(bin);
    c.args(line.split_whitespace())
        .env_remove("MINNOW_CRASH_AT_RENAME");
    c
}

/// What one `minnow` command did.
struct Ran {
    line: String,
    /// The exit code; `None` when a signal ended it.
    code: Option<i32>,
    stderr: String,
    took: Duration,
}

impl Ran {
    fn of(line: &str, out: &Output, took: Duration) -> Ran {
        Ran {
            line: line.to_owned(),
            code: out.status.code(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            took,
        }
    }

    fn ok(&self) -> bool {
        self.code == Some(0)
    }

    /// A refusal: exit code 1 (not a crash or a signal), a message containing each of
    /// `expected`, and no sign of a panic.
    fn assert_refused(&self, expected: &[&str]) {
        let (line, err) = (&self.line, &self.stderr);
        assert_eq!(
            self.code,
            Some(1),
            "minnow {line} was not refused cleanly: {err}"
        );
        for e in expected {
            assert!(
                err.contains(e),
                "minnow {line}: the message does not say {e:?}: {err}"
            );
        }
        for sign in [
            "panicked",
            "backtrace",
            "internal error",
            "memory allocation",
        ] {
            assert!(!err.contains(sign), "minnow {line}: {sign}: {err}");
        }
    }
}

fn run(line: &str) -> Ran {
    let started = Instant::now();
    let out = minnow(line).output().expect("spawn minnow");
    Ran::of(line, &out, started.elapsed())
}

/// [`run`], killed and failed when it runs longer than `limit` (an unbounded size must not run
/// for minutes).
fn run_within(line: &str, limit: Duration) -> Ran {
    let started = Instant::now();
    let mut child = minnow(line)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn minnow");
    while child.try_wait().expect("poll").is_none() && started.elapsed() < limit {
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let out = child.wait_with_output().expect("wait");
    let ran = Ran::of(line, &out, started.elapsed());
    assert!(
        ran.took < limit,
        "minnow {line} still ran after {limit:?}: {}",
        ran.stderr
    );
    ran
}

fn must_succeed(line: &str) {
    let r = run(line);
    assert!(r.ok(), "minnow {line} failed: {}", r.stderr);
}

fn s(p: &Path) -> String {
    p.display().to_string()
}

/// A small teacher on the built-in digits.
fn teacher_line(dir: &Path, seed: u32) -> String {
    format!(
        "train-teacher --data digits --epochs 2 --hidden 32 --seed {seed} --quiet --out {}",
        s(dir)
    )
}

fn teacher(dir: &Path, seed: u32) {
    must_succeed(&teacher_line(dir, seed));
}

/// A small distilled student of `teacher_dir`, for `epochs`.
fn student_line(dir: &Path, teacher_dir: &Path, epochs: u32) -> String {
    format!(
        "distill --data digits --teacher {} --epochs {epochs} --hidden 16 --quiet --out {}",
        s(teacher_dir),
        s(dir)
    )
}

/// A folder's files: their bytes by name (`None` for a missing file), with the keys that
/// hold wall-clock seconds taken out of JSON, so that two runs of the same thing compare equal.
type Snapshot = BTreeMap<String, Option<Vec<u8>>>;

fn snapshot(dir: &Path, files: &[&str]) -> Snapshot {
    let read = |f: &str| {
        let bytes = std::fs::read(dir.join(f)).ok()?;
        Some(if f.ends_with(".json") {
            without_seconds(&bytes)
        } else {
            bytes
        })
    };
    files.iter().map(|f| ((*f).to_owned(), read(f))).collect()
}

fn without_seconds(json: &[u8]) -> Vec<u8> {
    fn strip(v: &mut serde_json::Value) {
        match v {
            serde_json::Value::Object(o) => {
                o.retain(|k, _| !k.contains("second"));
                o.values_mut().for_each(strip);
            }
            serde_json::Value::Array(a) => a.iter_mut().for_each(strip),
            _ => {}
        }
    }
    match serde_json::from_slice::<serde_json::Value>(json) {
        Ok(mut v) => {
            strip(&mut v);
            v.to_string().into_bytes()
        }
        // Not JSON (a torn write): kept as it is, so it matches neither set.
        Err(_) => json.to_vec(),
    }
}

/// Whole sets of files a folder may hold, by name.
struct Sets {
    files: &'static [&'static str],
    known: Vec<(String, Snapshot)>,
}

impl Sets {
    /// Which known set `dir` holds now; panics, saying which file came from where, on a mix.
    fn held(&self, dir: &Path, context: &str) -> String {
        let now = snapshot(dir, self.files);
        if let Some((name, _)) = self.known.iter().find(|(_, set)| *set == now) {
            return name.clone();
        }
        let origin = |f: &str| {
            let of: Vec<&str> = (self.known.iter())
                .filter(|(_, set)| set.get(f) == now.get(f))
                .map(|(name, _)| name.as_str())
                .collect();
            if of.is_empty() {
                "neither".to_owned()
            } else {
                of.join("/")
            }
        };
        let from: Vec<String> = self
            .files
            .iter()
            .map(|f| format!("{f}: {}", origin(f)))
            .collect();
        panic!(
            "{context}: the folder holds a mix of sets: {}",
            from.join(", ")
        );
    }
}

/// Temporaries and unused generations a writer left in `dir`.
fn leftovers(dir: &Path) -> Vec<String> {
    let names: Vec<String> = std::fs::read_dir(dir)
        .expect("list")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    let generation = |n: &str| n.starts_with(".export.") || n.starts_with(".model.");
    // Each set keeps one generation, its current one.
    let extra_generations = names.iter().filter(|n| generation(n)).count() > 2;
    let mut left: Vec<String> = (names.into_iter())
        .filter(|n| {
            n.ends_with(".tmp")
                || (n.starts_with(".tmp") && n.len() == 10)
                || (extra_generations && generation(n))
        })
        .collect();
    left.sort();
    left
}

/// Deterministic pseudo-random numbers for the kill loop (xorshift64*).
struct Dice(u64);

impl Dice {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % n
    }
}

const EXPORT_FILES: &[&str] = &["student.minnow", "golden.mngv", "report.json", "report.md"];
const MODEL_FILES: &[&str] = &[
    "teacher.bpk",
    "teacher.toml",
    "summary.json",
    "curves.svg",
    "curves.png",
];

/// Runs each of `lines` into `dir` (each writes a different set of `files`), aborted before its
/// first rename, its second, ... until one finishes; after each, the folder must hold a whole
/// set. The lines alternate so that every run replaces the set the folder holds. Returns the
/// number of aborts.
fn abort_at_every_rename(dir: &Path, files: &'static [&'static str], lines: [String; 2]) -> u32 {
    let mut known = Vec::new();
    for line in &lines {
        must_succeed(line);
        known.push((line.clone(), snapshot(dir, files)));
    }
    assert_ne!(known[0].1, known[1].1, "the two runs write the same files");
    let sets = Sets { files, known };
    let mut holds = lines[1].clone();
    for at in 1u32.. {
        let line = lines.iter().find(|l| **l != holds).expect("the other line");
        let out = minnow(line)
            .env("MINNOW_CRASH_AT_RENAME", at.to_string())
            .output()
            .expect("spawn");
        holds = sets.held(dir, &format!("minnow {line} aborted before rename {at}"));
        if out.status.code().is_some() {
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            assert_eq!(holds, *line, "a finished run left the old set");
            return at - 1;
        }
    }
    unreachable!("the loop returns once a run finishes")
}

/// Point 1, by fault injection: an export aborted before each of its renames in turn (each
/// moment a write becomes visible) leaves the folder's previous export or the new one, whole;
/// the next export removes what the aborted ones left.
#[test]
fn an_export_aborted_at_every_rename_leaves_one_whole_set() {
    let tmp = tempfile::tempdir().expect("tmp");
    let (t, dir) = (tmp.path().join("t"), tmp.path().join("s"));
    teacher(&t, 1);
    must_succeed(&student_line(&dir, &t, 2));
    let export = |golden: u32| format!("export {} --golden {golden}", s(&dir));
    let aborts = abort_at_every_rename(&dir, EXPORT_FILES, [export(20), export(30)]);
    eprintln!("export: aborted before each of its {aborts} renames; one whole set every time");
    assert!(
        aborts >= 3,
        "aborted only {aborts} times: the fault injection did not fire"
    );
    must_succeed(&export(20));
    assert_eq!(leftovers(&dir), Vec::<String>::new());
}

/// Runs `lines` (each writing a different set of `files` into `dir`) one after another
/// `rounds` times, each SIGKILLed after a random few milliseconds (up to the longest run's
/// time); after each, the folder must hold a whole set. Returns the number of kills.
fn kill_at_random_moments(
    dir: &Path,
    files: &'static [&'static str],
    lines: [String; 2],
    rounds: usize,
) -> usize {
    let (mut known, mut longest) = (Vec::new(), Duration::ZERO);
    for line in &lines {
        let r = run(line);
        assert!(r.ok(), "{}", r.stderr);
        longest = longest.max(r.took);
        known.push((line.clone(), snapshot(dir, files)));
    }
    let sets = Sets { files, known };
    let window = u64::try_from(longest.as_micros())
        .unwrap_or(u64::MAX)
        .max(1000);
    let mut dice = Dice(0x9E37_79B9_7F4A_7C15);
    let mut kills = 0;
    for i in 0..rounds {
        let line = &lines[i % 2];
        let mut child = minnow(line)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn");
        std::thread::sleep(Duration::from_micros(dice.below(window)));
        if child.try_wait().expect("poll").is_none() {
            child.kill().expect("SIGKILL");
            kills += 1;
        }
        let _ = child.wait();
        sets.held(dir, &format!("minnow {line} killed (round {i})"));
    }
    assert!(
        kills >= rounds / 4,
        "only {kills} of {rounds} runs were killed before they finished"
    );
    kills
}

/// Point 1, by real kills: exports SIGKILLed at random moments.
#[test]
fn an_export_killed_at_random_moments_leaves_one_whole_set() {
    let tmp = tempfile::tempdir().expect("tmp");
    let (t, dir) = (tmp.path().join("t"), tmp.path().join("s"));
    teacher(&t, 1);
    must_succeed(&student_line(&dir, &t, 2));
    let lines = [20, 30].map(|g| format!("export {} --golden {g}", s(&dir)));
    let kills = kill_at_random_moments(&dir, EXPORT_FILES, lines, 400);
    eprintln!("export: {kills} of 400 runs SIGKILLed at random moments; one whole set every time");
}

/// Trainings SIGKILLed at random moments.
#[test]
fn a_training_killed_at_random_moments_leaves_one_whole_model() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("t");
    let lines = [teacher_line(&dir, 1), teacher_line(&dir, 2)];
    let kills = kill_at_random_moments(&dir, MODEL_FILES, lines, 60);
    eprintln!(
        "train-teacher: {kills} of 60 runs SIGKILLed at random moments; one whole model every time"
    );
}

/// The crash-consistency test for training: `minnow train-teacher` aborted before each of its
/// renames in turn leaves the folder's previous model or the new one, whole, and the next
/// training removes what the aborted ones left.
#[test]
fn a_training_aborted_at_every_rename_leaves_one_whole_model() {
    let tmp = tempfile::tempdir().expect("tmp");
    let dir = tmp.path().join("t");
    let aborts = abort_at_every_rename(
        &dir,
        MODEL_FILES,
        [teacher_line(&dir, 1), teacher_line(&dir, 2)],
    );
    eprintln!(
        "train-teacher: aborted before each of its {aborts} renames; one whole model every time"
    );
    assert!(
        aborts >= 3,
        "aborted only {aborts} times: the fault injection did not fire"
    );
    teacher(&dir, 1);
    assert_eq!(leftovers(&dir), Vec::<String>::new());
}

/// A 300-epoch distillation of `teacher_dir` into `dir`, killed once its first checkpoint is written.
fn killed_distillation(dir: &Path, teacher_dir: &Path) {
    let mut child = (minnow(&student_line(dir, teacher_dir, 300)))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let deadline = Instant::now() + Duration::from_secs(120);
    while !dir.join("checkpoint.bin").is_file() {
        assert!(Instant::now() < deadline, "no checkpoint after 120 s");
        assert!(
            child.try_wait().expect("poll").is_none(),
            "ended before a checkpoint"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    std::thread::sleep(Duration::from_millis(50));
    child.kill().expect("SIGKILL");
    let _ = child.wait();
    assert!(
        !dir.join("student.bpk").exists(),
        "finished before it was killed"
    );
}

/// Point 2: a distillation resumed after its teacher was trained again differently is refused.
#[test]
fn resume_refuses_a_run_whose_teacher_changed() {
    let tmp = tempfile::tempdir().expect("tmp");
    let (t, dir) = (tmp.path().join("t"), tmp.path().join("s"));
    teacher(&t, 1);
    killed_distillation(&dir, &t);
    teacher(&t, 2);
    run(&format!("resume {}", s(&dir))).assert_refused(&["checkpoint.bin", "teacher changed"]);
}

/// Point 3: a checkpoint with one byte flipped in the middle is refused, naming the file.
#[test]
fn resume_refuses_a_corrupted_checkpoint() {
    let tmp = tempfile::tempdir().expect("tmp");
    let (t, dir) = (tmp.path().join("t"), tmp.path().join("s"));
    teacher(&t, 1);
    killed_distillation(&dir, &t);
    let path = dir.join("checkpoint.bin");
    let mut bytes = std::fs::read(&path).expect("checkpoint");
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x01;
    std::fs::write(&path, bytes).expect("write");
    run(&format!("resume {}", s(&dir))).assert_refused(&["checkpoint.bin", "checksum"]);
}

/// Point 4: a second `minnow run` into a folder another one is writing is refused, naming the
/// folder and the first one's process.
#[test]
fn a_second_writer_of_a_run_folder_is_refused() {
    let tmp = tempfile::tempdir().expect("tmp");
    let out = tmp.path().join("run");
    let line = |epochs: u32| {
        format!(
            "run --out {} --teacher-epochs {epochs} --student-epochs 1 --core none --quiet",
            s(&out)
        )
    };
    let mut first = minnow(&line(400))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    // The first run is under way once it has written into its folder.
    let deadline = Instant::now() + Duration::from_secs(60);
    while std::fs::read_dir(&out).map_or(0, Iterator::count) < 2 {
        assert!(
            Instant::now() < deadline,
            "the first run wrote nothing in 60 s"
        );
        assert!(
            first.try_wait().expect("poll").is_none(),
            "the first run ended early"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let second = run(&line(1));
    let first_was_running = first.try_wait().expect("poll").is_none();
    let _ = first.kill();
    let _ = first.wait();
    assert!(
        first_was_running,
        "the first run ended before the second one did"
    );
    second.assert_refused(&[&s(&out), "in use", &format!("pid {}", first.id())]);
}

/// Point 5: non-finite and out-of-range numbers are refused where they are read, from flags and
/// settings files alike, before anything trains.
#[test]
fn numbers_out_of_range_are_refused_from_flags_and_files() {
    let tmp = tempfile::tempdir().expect("tmp");
    let (t, out) = (tmp.path().join("t"), tmp.path().join("out"));
    teacher(&t, 1);
    let distill = |extra: &str| format!("{} {extra}", student_line(&out, &t, 1));
    let limit = Duration::from_secs(30);
    for (extra, expected) in [
        (
            "--omit-classes 3 --missing-class-bias NaN",
            ["missing_class_bias", "NaN"],
        ),
        ("--dropout nan", ["dropout", "NaN"]),
        ("--weight-decay nan", ["weight_decay", "NaN"]),
        ("--learning-rate inf", ["learning_rate", "inf"]),
        ("--jitter 100", ["jitter", "100"]),
        ("--temperature 1e-30", ["temperature", "1e-30"]),
        ("--omit-classes 99", ["omit_classes", "99"]),
    ] {
        run_within(&distill(extra), limit).assert_refused(&expected);
        assert!(!out.exists(), "{extra} left {}", s(&out));
    }
    // The same checks read settings files.
    for (file, text, key) in [
        ("dropout.toml", "dropout = nan", "dropout"),
        ("decay.toml", "weight_decay = nan", "weight_decay"),
        ("temperature.toml", "temperature = 1e-30", "temperature"),
    ] {
        let path = tmp.path().join(file);
        std::fs::write(&path, text).expect("write");
        run_within(&distill(&format!("--config {}", s(&path))), limit).assert_refused(&[file, key]);
    }
}

/// Point 6: sizes beyond a format's bounds or the machine's memory are refused at once, with a
/// reason, instead of aborting in an allocation or running for many minutes.
#[test]
fn sizes_without_bounds_are_refused_at_once() {
    let tmp = tempfile::tempdir().expect("tmp");
    let out = tmp.path().join("out");
    for (extra, expected) in [
        ("--hidden 100000000", &["hidden", "100000000"][..]),
        ("--hidden 4611686018427387904", &["hidden"]),
        ("--arch cnn --channels 100000", &["channels", "100000"]),
        ("--hidden 0", &["hidden", "0"]),
        // Every width allowed, but far more memory than a workstation has.
        ("--hidden 65535,65535,65535,65535", &["GiB", "--hidden"]),
    ] {
        let line = format!(
            "train-teacher --data digits --epochs 1 --quiet --out {} {extra}",
            s(&out)
        );
        let r = run_within(&line, Duration::from_secs(30));
        r.assert_refused(expected);
        assert!(r.took < Duration::from_secs(10), "{line} took {:?}", r.took);
        assert!(!out.exists(), "{line} left {}", s(&out));
    }
}

/// Point 7: what a killed writer left in its folder (temporaries, an unfinished generation, the
/// `.tmpXXXXXX` checkpoints older minnows staged) is removed by the next command there.
#[test]
fn a_resume_removes_what_a_killed_writer_left() {
    let tmp = tempfile::tempdir().expect("tmp");
    let (t, dir) = (tmp.path().join("t"), tmp.path().join("s"));
    teacher(&t, 1);
    killed_distillation(&dir, &t);
    let unfinished = dir.join(".model.Qr56St");
    std::fs::write(dir.join(".tmpAb12Cd"), vec![0u8; 1 << 20]).expect("a stale checkpoint");
    std::fs::write(dir.join(".minnow-Xy34Zw.tmp"), b"torn").expect("a stale temporary");
    std::fs::create_dir(&unfinished).expect("an unfinished generation");
    std::fs::write(unfinished.join("student.bpk"), b"half").expect("write");
    must_succeed(&format!("resume {} --quiet", s(&dir)));
    assert!(
        dir.join("student.bpk").is_file(),
        "the resumed run did not finish"
    );
    assert_eq!(leftovers(&dir), Vec::<String>::new());
    assert!(!unfinished.exists());
}

/// Writes `header` and `data` as an NPY v1.0 file.
fn npy(path: &Path, header: &str, data: &[u8]) {
    let pad = (64 - (10 + header.len() + 1) % 64) % 64;
    let header = format!("{header}{}\n", " ".repeat(pad));
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    bytes.extend_from_slice(&u16::try_from(header.len()).expect("short").to_le_bytes());
    bytes.extend_from_slice(header.as_bytes());
    bytes.extend_from_slice(data);
    std::fs::write(path, bytes).expect("write");
}

/// Point 8, data files: values too large are said to be too large, in a few characters.
#[test]
fn data_messages_name_the_file_and_the_real_problem() {
    let tmp = tempfile::tempdir().expect("tmp");
    let at = |name: &str| -> PathBuf { tmp.path().join(name) };
    let train = |data: String| {
        run(&format!(
            "train-teacher {data} --epochs 1 --quiet --out {}",
            s(&at("out"))
        ))
    };

    // An IDX value of 1e300 (f64 images): too large for f32.
    let mut images = vec![0, 0, 0x0E, 3];
    images.extend([2u32, 2, 2].iter().flat_map(|d| d.to_be_bytes()));
    images.extend(
        [1.0f64, 2.0, 3.0, 1e300, 1.0, 2.0, 3.0, 4.0]
            .iter()
            .flat_map(|v| v.to_be_bytes()),
    );
    std::fs::write(at("images.idx"), images).expect("write");
    std::fs::write(at("labels.idx"), [0, 0, 8, 1, 0, 0, 0, 2, 0, 1]).expect("write");
    let r = train(format!(
        "--idx {} {}",
        s(&at("images.idx")),
        s(&at("labels.idx"))
    ));
    r.assert_refused(&["images.idx", "1e300", "too large"]);
    assert!(r.stderr.len() < 300, "{}", r.stderr);

    // A CSV label of 1e40.
    std::fs::write(at("big-label.csv"), "1,2,0\n3,4,1e40\n").expect("write");
    train(format!("--csv {}", s(&at("big-label.csv")))).assert_refused(&[
        "big-label.csv",
        "line 2",
        "too large",
    ]);

    // An NPY shape of 10^26.
    let shape = "(100000000000000000000000000, 2)";
    npy(
        &at("huge.npy"),
        &format!("{{'descr': '<f4', 'fortran_order': False, 'shape': {shape}, }}"),
        &[0; 8],
    );
    npy(
        &at("labels.npy"),
        "{'descr': '|u1', 'fortran_order': False, 'shape': (2,), }",
        &[0, 1],
    );
    train(format!(
        "--npy {} {}",
        s(&at("huge.npy")),
        s(&at("labels.npy"))
    ))
    .assert_refused(&["huge.npy", "too large"]);
    assert!(
        !at("out").exists(),
        "a refused data file left its run folder"
    );
}

/// Point 8, run folders and flags: each message names the file at fault and the real problem.
#[test]
fn messages_name_the_right_file() {
    let tmp = tempfile::tempdir().expect("tmp");
    let (t, dir) = (tmp.path().join("t"), tmp.path().join("s"));
    teacher(&t, 1);
    must_succeed(&student_line(&dir, &t, 2));
    must_succeed(&format!("export {} --golden 20", s(&dir)));

    // A damaged golden.mngv is the golden file's problem, found before any firmware is built.
    let golden = dir.join("golden.mngv");
    let mut bytes = std::fs::read(&golden).expect("golden");
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0xff;
    std::fs::write(&golden, bytes).expect("write");
    let r = run(&format!("verify {} --core m4", s(&dir)));
    r.assert_refused(&["golden.mngv"]);
    assert!(!r.stderr.contains("student.minnow"), "{}", r.stderr);

    // No golden vectors: refused at export, not "0 of 0 differ" on the device.
    run(&format!(
        "export {} --golden 0 --out {}",
        s(&dir),
        s(&tmp.path().join("e0"))
    ))
    .assert_refused(&["golden", "0"]);

    // `--hidden 0`: the flag's problem, not a layer's.
    run(&format!(
        "train-teacher --data digits --hidden 0 --out {}",
        s(&tmp.path().join("h0"))
    ))
    .assert_refused(&["hidden = 0"]);

    // A file given as --teacher is named, not its folder.
    let notes = tmp.path().join("notes.txt");
    std::fs::write(&notes, "hello").expect("write");
    let line = format!(
        "distill --data digits --teacher {} --quiet --out {}",
        s(&notes),
        s(&tmp.path().join("d"))
    );
    run(&line).assert_refused(&[&s(&notes), "not a teacher"]);
    assert!(
        !tmp.path().join("d").exists(),
        "a refused teacher left its run folder"
    );
}

/// An ONNX fixture of trainer/tests/fixtures/onnx (scripts/onnx_fixtures.py).
fn onnx_fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/onnx")
        .join(name)
}

/// ONNX teachers through the binary: every refusal names the file and the problem and leaves
/// no run folder (not an ONNX file, an op tract lacks, a sample of another size, another class
/// count, a non-finite output, a bad setting), and `teacher-info` scores a good one.
#[test]
fn onnx_teachers_are_refused_by_name_and_described() {
    let tmp = tempfile::tempdir().expect("tmp");
    let out = tmp.path().join("out");
    let csv = |name: &str, features: usize, classes: u32| {
        let path = tmp.path().join(name);
        let rows: String = (0..60u32)
            .map(|i| {
                let x: Vec<String> = (0..features)
                    .map(|j| ((i as usize + j) % 17).to_string())
                    .collect();
                format!("{},{}\n", x.join(","), i % classes)
            })
            .collect();
        std::fs::write(&path, rows).expect("csv");
        path
    };
    let small = csv("small.csv", 16, 10);
    let three = csv("three.csv", 64, 3);
    let text = tmp.path().join("model.onnx");
    std::fs::write(&text, "not a model\n").expect("write");
    let mlp = onnx_fixture("mlp.onnx");
    let distill = |teacher: &Path, data: &str| {
        format!(
            "distill {data} --teacher {} --epochs 1 --hidden 8 --quiet --out {}",
            s(teacher),
            s(&out)
        )
    };
    let cases: [(String, Vec<&str>); 6] = [
        (
            distill(&text, "--data digits"),
            vec!["model.onnx", "not an ONNX file"],
        ),
        (
            distill(&onnx_fixture("unsupported.onnx"), "--data digits"),
            vec!["unsupported.onnx", "uses the op Det", "does not support"],
        ),
        (
            distill(&mlp, &format!("--csv {} --shape 4,4,1", s(&small))),
            vec![
                "mlp.onnx",
                "(batch, 64)",
                "64 values per sample",
                "4x4x1",
                "16 values",
            ],
        ),
        (
            distill(&mlp, &format!("--csv {} --shape 8,8,1", s(&three))),
            vec!["mlp.onnx", "outputs 10 classes; the data has 3"],
        ),
        (
            distill(&onnx_fixture("nan.onnx"), "--data digits"),
            vec!["nan.onnx", "of sample", "is not finite"],
        ),
        (
            format!("{} --teacher-scale nan", distill(&mlp, "--data digits")),
            vec!["teacher_scale", "NaN"],
        ),
    ];
    for (line, expected) in &cases {
        run_within(line, Duration::from_secs(60)).assert_refused(expected);
        assert!(!out.exists(), "minnow {line} left {}", s(&out));
    }

    let info = minnow(&format!(
        "teacher-info {} --data digits --teacher-scale 0.0625 --teacher-offset -0.5",
        s(&mlp)
    ))
    .output()
    .expect("teacher-info");
    let stdout = String::from_utf8_lossy(&info.stdout);
    assert!(
        info.status.success(),
        "{}",
        String::from_utf8_lossy(&info.stderr)
    );
    for part in [
        "input float32 (batch, 64)",
        "Gemm 2",
        "parameters 2410",
        "test accuracy ",
        "(359 samples)",
        "images/s",
    ] {
        assert!(stdout.contains(part), "{part} missing:\n{stdout}");
    }
}

/// A distillation resumed after its ONNX teacher's file changed is refused: the teacher's
/// fingerprint is the file's SHA-256 (with its settings).
#[test]
fn resume_refuses_a_run_whose_onnx_teacher_changed() {
    let tmp = tempfile::tempdir().expect("tmp");
    let (t, dir) = (tmp.path().join("teacher.onnx"), tmp.path().join("s"));
    std::fs::copy(onnx_fixture("mlp.onnx"), &t).expect("copy");
    killed_distillation(&dir, &t);
    std::fs::copy(onnx_fixture("mlp_probs.onnx"), &t).expect("replace");
    run(&format!("resume {}", s(&dir))).assert_refused(&["checkpoint.bin", "teacher changed"]);
}
