//! `minnow fit`'s candidates as processes: `--print-commands` gives the commands a cluster
//! would run, `--workers 2` runs them here two at a time, and the search reads what they
//! wrote. The binary this package builds (or `MINNOW_BIN`).

use std::path::Path;
use std::process::{Command, Output};

/// `minnow ARGS` run in `dir` (None: here).
fn minnow(dir: Option<&Path>, args: &str) -> Output {
    let bin = std::env::var_os("MINNOW_BIN").unwrap_or_else(|| env!("CARGO_BIN_EXE_minnow").into());
    let mut cmd = Command::new(bin);
    if let Some(dir) = dir {
        cmd.current_dir(dir);
    }
    cmd.args(args.split_whitespace())
        .output()
        .expect("minnow runs")
}

fn ok(args: &str) -> String {
    ok_in(None, args)
}

fn ok_in(dir: Option<&Path>, args: &str) -> String {
    let out = minnow(dir, args);
    assert!(
        out.status.success(),
        "minnow {args}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn two_workers_and_printed_commands_make_the_same_search() {
    let tmp = tempfile::tempdir().expect("tmp");
    let search = "--max-flash 2k --max-ram 1k --candidates 4 --keep 2 --rungs 1,2 --teacher-epochs 3 --core none --quiet";
    let by_hand = tmp.path().join("by-hand");
    let workers = tmp.path().join("workers");

    // A cluster's way: the first rung's four commands, run by a "scheduler" (here, one after
    // the other), then the second rung's two, then the fit finds nothing left to run.
    let printed = |dir: &Path| {
        ok(&format!(
            "fit {search} --out {} --print-commands",
            dir.display()
        ))
        .lines()
        .map(str::to_owned)
        .collect::<Vec<_>>()
    };
    let first = printed(&by_hand);
    assert_eq!(first.len(), 4, "{first:?}");
    for line in &first {
        let mut words = line.split_whitespace();
        let exe = words.next().expect("the binary");
        let status = Command::new(exe).args(words).status().expect("runs");
        assert!(status.success(), "{line}");
    }
    let second = printed(&by_hand);
    assert_eq!(second.len(), 2, "{second:?}");
    for line in &second {
        let mut words = line.split_whitespace();
        let status = Command::new(words.next().expect("exe"))
            .args(words)
            .status()
            .expect("runs");
        assert!(status.success(), "{line}");
    }
    let board_by_hand = ok(&format!("fit {search} --out {}", by_hand.display()));

    // Two workers here: the same leaderboard, each distillation's output in its log. The
    // folder is given relative to where the fit runs: the workers' settings files (read
    // relative to their own folder) must still name it.
    let board = ok_in(
        Some(tmp.path()),
        &format!("fit {search} --workers 2 --out workers"),
    );
    let table = |s: &str| {
        s.lines()
            .filter(|l| l.starts_with("| ") && !l.contains("candidate"))
            .map(str::to_owned)
            .collect::<Vec<_>>()
    };
    assert_eq!(table(&board), table(&board_by_hand), "{board}");
    assert_eq!(table(&board).len(), 4, "{board}");
    let logs = std::fs::read_dir(workers.join("candidates"))
        .expect("candidates")
        .filter_map(|e| e.ok())
        .filter(|e| e.path().join("e1.log").is_file())
        .count();
    assert_eq!(logs, 4, "every first-rung worker kept its log");
    assert!(workers.join("student.minnow").is_file());
}
