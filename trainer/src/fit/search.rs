//! `minnow fit`: the most accurate distilled student that fits a flash, RAM and instruction
//! budget, found by successive halving. The candidates that fit ([`super::space::feasible`]:
//! flash and RAM exact, instructions predicted by [`super::instructions`]; none over budget is
//! trained) are spread over the range of sizes; each rung distils every survivor from the
//! teacher for the rung's epochs (cached teacher logits where there is no augmentation) and
//! keeps the best third on the **validation** split; the last rung's best (or, when
//! `--time-budget` runs out, the best at the highest rung reached) is exported and verified on
//! the device.
//!
//! ```text
//! OUT/config.toml, fit.json         the run settings and the search's (candidates, keep, rungs)
//! OUT/teacher/                      the teacher, unless given
//! OUT/teacher-logits.npy            its logits on the transfer set, shared by the candidates
//!                                   (one teacher, no augmentation)
//! OUT/candidates/NAME/eEPOCHS/      one distillation per candidate and rung (a run folder)
//! OUT/leaderboard.json, .md         every candidate: size, RAM, MACs, instructions, validation, test
//! OUT/pareto.png, .svg              validation error against flash and against instructions
//! OUT/student.minnow, golden.mngv,  the winner's export and device results, as `minnow run`
//!     report.json, report.md
//! ```
//!
//! Every step is a folder that is whole once its `summary.json` exists, so running the same
//! command again (after a kill) trains only what is missing, continuing a killed
//! distillation from its checkpoint.

use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::config::{self, Choice};
use crate::device::verify::{VerifyConfig, verify};
use crate::error::{Error, Result};
use crate::files;
use crate::int8::export::REPORT_JSON;
use crate::int8::report::Report;
use crate::net::spec::{Arch, NetConfig};
use crate::percent::pct_or;
use crate::plot::pareto::{Mark, ParetoPoint, write_pareto};
use crate::run::RunConfig;
use crate::run::export::{ExportRun, TeacherPredictions, export_run};
use crate::train::config::DistillConfig;
use crate::train::distill::distill_run;

use super::cost::Limits;
use super::space::{Candidate, feasible, spread};

/// The search's own settings (the rest is a `minnow run` configuration).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FitSettings {
    /// Candidates trained at the first rung.
    pub candidates: usize,
    /// One in `keep` survives each rung.
    pub keep: usize,
    /// Epochs of each rung, ascending; empty: the student's epochs, a third of them and a
    /// ninth.
    pub rungs: Vec<usize>,
    /// Only this family (mlp, cnn, dwcnn, cnn1d); unset: every family the data allows.
    pub arch: Option<Arch>,
    /// Seconds of wall time for the training; when they are up no further candidate starts.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_budget_s: Option<f64>,
    /// Candidates distilled at once, each a `minnow` process ([`super::workers`]); 1: one
    /// after the other in this process.
    #[serde(default = "one")]
    pub workers: usize,
    /// Published results drawn on the Pareto figure and listed under the leaderboard.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub marks: Vec<Mark>,
}

fn one() -> usize {
    1
}

impl Default for FitSettings {
    fn default() -> Self {
        FitSettings {
            candidates: 9,
            keep: 3,
            rungs: Vec::new(),
            arch: None,
            time_budget_s: None,
            workers: 1,
            marks: Vec::new(),
        }
    }
}

/// `minnow fit`'s whole configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct FitConfig {
    pub run: RunConfig,
    pub search: FitSettings,
    /// The `minnow` binary the workers run (default: this process's own).
    pub exe: Option<PathBuf>,
    /// Print the commands the next rung still needs, one per line, instead of running them
    /// (for a cluster scheduler); run the fit again once they are done.
    pub print_commands: bool,
}

/// What a search ended with.
#[derive(Debug, Clone)]
pub enum Searched {
    /// The winner, exported and verified.
    Done(Box<FitOutcome>),
    /// `print_commands`: the shell commands of the next rung's missing distillations.
    Pending(Vec<String>),
}

/// One candidate's results at the highest rung it reached.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    pub name: String,
    pub arch: String,
    pub hidden: Vec<usize>,
    pub channels: Vec<usize>,
    pub flash_bytes: u64,
    pub ram_bytes: u64,
    pub macs: u64,
    /// Instructions per inference on the run's core, as the instruction model predicts them.
    pub instructions: Option<u64>,
    /// Epochs of the highest rung it trained at.
    pub epochs: usize,
    /// 1-based rung.
    pub rung: usize,
    pub val_accuracy: Option<f64>,
    /// The float student's test accuracy (not used to pick).
    pub test_accuracy: Option<f64>,
    pub winner: bool,
}

/// What [`fit`] found.
#[derive(Debug, Clone)]
pub struct FitOutcome {
    pub dir: PathBuf,
    pub leaderboard: Vec<Entry>,
    pub report: Report,
}

/// The rungs' epochs: as set, or a ninth, a third and all of `epochs`.
pub fn rungs(set: &[usize], epochs: usize) -> Vec<usize> {
    let mut r: Vec<usize> = if set.is_empty() {
        vec![(epochs / 9).max(1), (epochs / 3).max(1), epochs.max(1)]
    } else {
        set.to_vec()
    };
    r.dedup();
    r
}

/// A distillation's results, read from its folder's `summary.json` once it is whole.
fn finished(dir: &Path) -> Result<Option<(Option<f64>, Option<f64>)>> {
    let path = dir.join("summary.json");
    if !path.is_file() {
        return Ok(None);
    }
    let v: serde_json::Value = serde_json::from_slice(&files::read(&path)?)
        .map_err(|e| Error::unreadable(&path, "not a run summary", e))?;
    let val = v["final_epoch"]["val_accuracy"].as_f64();
    let test = v["test"]["accuracy"].as_f64();
    Ok(Some((val, test)))
}

/// The distillation of `candidate` for `epochs`, into its rung folder.
fn candidate_config(cfg: &FitConfig, candidate: &Candidate, epochs: usize) -> DistillConfig {
    let mut student: DistillConfig = cfg.run.student.clone();
    student.out = cfg
        .run
        .out
        .join("candidates")
        .join(&candidate.name)
        .join(format!("e{epochs}"));
    student.net = NetConfig {
        dropout: 0.0,
        input_dropout: 0.0,
        ..candidate.net.clone()
    };
    student.train.epochs = Some(epochs);
    student.train.quiet = true;
    student
}

/// Distils `candidate` for `epochs` into its rung folder, or reads the folder's results.
fn train_candidate(
    cfg: &FitConfig,
    candidate: &Candidate,
    epochs: usize,
) -> Result<(PathBuf, Option<f64>, Option<f64>)> {
    let student = candidate_config(cfg, candidate, epochs);
    let dir = student.out.clone();
    if let Some((val, test)) = finished(&dir)? {
        return Ok((dir, val, test));
    }
    // A folder without its summary is a killed distillation: continue it.
    distill_run(&student, dir.exists())?;
    let (val, test) = finished(&dir)?.ok_or_else(|| {
        Error::artifact(&dir, "the distillation finished without its summary.json")
    })?;
    Ok((dir, val, test))
}

/// The best `n` of `results` on validation accuracy (ties: the smaller flash, then the name).
fn best(
    mut results: Vec<(Candidate, PathBuf, Option<f64>, Option<f64>)>,
    n: usize,
) -> Vec<(Candidate, PathBuf, Option<f64>, Option<f64>)> {
    results.sort_by(|a, b| {
        let va = a.2.unwrap_or(-1.0);
        let vb = b.2.unwrap_or(-1.0);
        vb.total_cmp(&va)
            .then(a.0.cost.usage.flash.cmp(&b.0.cost.usage.flash))
            .then(a.0.name.cmp(&b.0.name))
    });
    results.truncate(n.max(1));
    results
}

/// Progress on stderr, unless the run is quiet.
fn say(cfg: &FitConfig, msg: &str) {
    if !cfg.run.teacher.train.quiet {
        eprintln!("fit: {msg}");
    }
}

/// Runs the search; see the module docs.
pub fn fit(cfg: &FitConfig) -> Result<FitOutcome> {
    match search(cfg)? {
        Searched::Done(outcome) => Ok(*outcome),
        Searched::Pending(_) => Err(Error::Usage(
            "minnow fit: the search stopped at commands to run (print_commands)".into(),
        )),
    }
}

/// The search, or with `print_commands` the commands its next rung needs.
pub fn search(cfg: &FitConfig) -> Result<Searched> {
    let out = &cfg.run.out;
    let limits = Limits::of(&cfg.run);
    if !limits.is_set() {
        return Err(Error::Usage(
            "minnow fit needs a budget: --max-flash, --max-ram and/or --max-instructions".into(),
        ));
    }
    if cfg.search.keep < 2 || cfg.search.candidates == 0 {
        return Err(Error::Usage(
            "--keep must be at least 2 and --candidates at least 1".into(),
        ));
    }
    let say = |msg: &str| say(cfg, msg);
    // The candidates first: a budget nothing fits is refused before anything is written.
    let train = cfg.run.student.data.prepare()?.train;
    let mut fitting = feasible(
        train.shape,
        train.classes,
        cfg.run.student.data.normalization,
        &train.name,
        &limits,
    )?;
    if let Some(arch) = cfg.search.arch {
        fitting.retain(|c| c.net.arch == arch);
        if fitting.is_empty() {
            return Err(Error::Usage(format!(
                "no {} student fits ({})",
                arch.name(),
                limits.describe()
            )));
        }
    }
    let alive = spread(&fitting, cfg.search.candidates);
    let rungs = rungs(
        &cfg.search.rungs,
        cfg.run.student.train.epochs_for(train.len()),
    );
    say(&format!(
        "{} of {} candidates fit ({}); training {} over rungs of {:?} epochs",
        fitting.len(),
        super::space::networks(train.shape).len(),
        limits.describe(),
        alive.len(),
        rungs
    ));

    let _lock = files::lock(out)?;
    files::write_atomic(
        &out.join("config.toml"),
        config::to_toml(&cfg.run)?.as_bytes(),
    )?;
    files::write_atomic(
        &out.join("fit.json"),
        &serde_json::to_vec_pretty(&cfg.search)?,
    )?;
    if cfg.run.teachers.is_empty() {
        if finished(&cfg.run.teacher.out)?.is_some() {
            say("teacher already trained");
        } else {
            say("training the teacher");
            crate::train::teacher::train_teacher_run(
                &cfg.run.teacher,
                cfg.run.teacher.out.exists(),
            )?;
        }
    }

    let cfg = &with_shared_teacher_logits(cfg, train.shape)?;
    let (board, winner, winner_dir) = match halve(cfg, alive, &rungs, &limits.core)? {
        Halving::Done(board, winner, dir) => (board, winner, dir),
        Halving::Pending(lines) => return Ok(Searched::Pending(lines)),
    };
    write_board(out, &board, &limits, &cfg.search.marks, &train.name)?;

    say(&format!("winner {winner}: exporting"));

    export_run(&ExportRun {
        run_dir: &winner_dir,
        student: None,
        out,
        teacher: TeacherPredictions::Teachers {
            paths: cfg.run.student.teacher.clone(),
            onnx: toml::Table::new(),
            device: cfg.run.teacher.train.device,
        },
        config: &cfg.run.export,
        write_predictions: true,
    })?;
    if cfg.run.device.core != "none" {
        say(&format!("verifying on {}", cfg.run.device.core));
        verify(&VerifyConfig {
            run_dir: out.clone(),
            device: cfg.run.device.clone(),
            probe: None,
            firmware_dir: None,
            debug: false,
            quiet: cfg.run.teacher.train.quiet,
        })?;
    }
    let report = Report::load(&out.join(REPORT_JSON))?;
    Ok(Searched::Done(Box::new(FitOutcome {
        dir: out.clone(),
        leaderboard: board,
        report,
    })))
}

/// `cfg` with one teacher-logit cache (`OUT/teacher-logits.npy`) for every candidate, where
/// one teacher (not an ensemble) teaches without input augmentation: its logits on the
/// transfer set are then the same for every candidate, so the first candidate computes them
/// and the rest read them (the cache checks the data's and the teacher's fingerprints). A
/// large teacher's pass over the transfer set would otherwise be repeated by each of them.
fn with_shared_teacher_logits(cfg: &FitConfig, shape: [usize; 3]) -> Result<FitConfig> {
    let student = &cfg.run.student;
    if student.teacher_logits.is_some() || !student.uses_teacher() || student.train.augments(shape)
    {
        return Ok(cfg.clone());
    }
    let mut members = 0;
    for path in &student.teacher {
        members += crate::train::teachers::teacher_members(path)?.len();
    }
    let mut cfg = cfg.clone();
    if members == 1 {
        cfg.run.student.teacher_logits = Some(cfg.run.out.join(TEACHER_LOGITS));
    }
    Ok(cfg)
}

/// The shared teacher-logit cache's file name in the fit folder.
const TEACHER_LOGITS: &str = "teacher-logits.npy";

/// Successive halving of `alive` over `rungs`: the leaderboard (best first), the winner's name
/// and its last rung's folder. With a time budget, no candidate starts once it is spent; the
/// winner is then the best trained at the highest rung reached (the previous rung's best is
/// always trained first at the next, so that rung has at least it).
fn halve(
    cfg: &FitConfig,
    mut alive: Vec<Candidate>,
    rungs: &[usize],
    core: &str,
) -> Result<Halving> {
    let say = |msg: &str| say(cfg, msg);
    let started = Instant::now();
    let out_of_time = || {
        cfg.search
            .time_budget_s
            .is_some_and(|s| started.elapsed().as_secs_f64() >= s)
    };
    let mut board: Vec<Entry> = Vec::new();
    let mut winner: Option<(String, PathBuf)> = None;
    for (r, &epochs) in rungs.iter().enumerate() {
        if let Some(lines) = run_workers(cfg, &alive, epochs, &out_of_time)? {
            return Ok(Halving::Pending(lines));
        }
        let mut results = Vec::new();
        let mut stopped = false;
        for c in &alive {
            if out_of_time() && (!results.is_empty() || winner.is_some()) {
                say(&format!(
                    "the time budget is spent: no further candidate starts (rung {}, {} of {} trained)",
                    r + 1,
                    results.len(),
                    alive.len()
                ));
                stopped = true;
                break;
            }
            let (dir, val, test) = train_candidate(cfg, c, epochs)?;
            say(&format!(
                "rung {}/{} ({epochs} epochs): {:<16} {:>6} B flash {:>6} B RAM  val {}",
                r + 1,
                rungs.len(),
                c.name,
                c.cost.usage.flash,
                c.cost.usage.ram,
                pct_or(val, "-")
            ));
            board.retain(|e| e.name != c.name);
            board.push(entry(c, core, (epochs, r + 1), val, test));
            results.push((c.clone(), dir, val, test));
        }
        if results.is_empty() {
            break;
        }
        let last = stopped || r + 1 == rungs.len();
        let keep = if last {
            1
        } else {
            results.len().div_ceil(cfg.search.keep)
        };
        let kept = best(results, keep);
        winner = Some((kept[0].0.name.clone(), kept[0].1.clone()));
        alive = kept.into_iter().map(|k| k.0).collect();
        if stopped {
            break;
        }
    }
    let (winner, winner_dir) =
        winner.ok_or_else(|| Error::Usage("minnow fit: no candidate was trained".into()))?;
    for e in &mut board {
        e.winner = e.name == winner;
    }
    board.sort_by(|a, b| {
        (b.rung, b.val_accuracy.unwrap_or(-1.0))
            .partial_cmp(&(a.rung, a.val_accuracy.unwrap_or(-1.0)))
            .unwrap_or(std::cmp::Ordering::Equal)
            .then(a.name.cmp(&b.name))
    });
    Ok(Halving::Done(board, winner, winner_dir))
}

/// How [`halve`] ended: the leaderboard, the winner and its folder; or the commands of the
/// rung that is missing distillations (`print_commands`).
enum Halving {
    Done(Vec<Entry>, String, PathBuf),
    Pending(Vec<String>),
}

/// The distillations of `alive` at `epochs` that are not finished: with `print_commands`
/// their shell lines (returned); with more than one worker, run as processes, as many at once,
/// none started once `out_of_time`. (The caller then reads every folder, training in process
/// what is still missing.)
fn run_workers(
    cfg: &FitConfig,
    alive: &[Candidate],
    epochs: usize,
    out_of_time: &dyn Fn() -> bool,
) -> Result<Option<Vec<String>>> {
    if !cfg.print_commands && cfg.search.workers < 2 {
        return Ok(None);
    }
    let mut jobs = Vec::new();
    for c in alive {
        let student = candidate_config(cfg, c, epochs);
        if finished(&student.out)?.is_none() {
            jobs.push(super::workers::job(&student)?);
        }
    }
    let exe = match &cfg.exe {
        Some(exe) => exe.clone(),
        None => std::env::current_exe()
            .map_err(|e| Error::Usage(format!("minnow fit: where is this minnow binary? {e}")))?,
    };
    if cfg.print_commands {
        if jobs.is_empty() {
            return Ok(None);
        }
        return Ok(Some(
            jobs.iter()
                .map(|j| super::workers::shell_line(&exe, j))
                .collect(),
        ));
    }
    super::workers::run_all(&exe, &jobs, cfg.search.workers, out_of_time)?;
    Ok(None)
}

/// `leaderboard.json`, `leaderboard.md` and the Pareto figure of `board` in `out`.
fn write_board(
    out: &Path,
    board: &[Entry],
    limits: &Limits,
    marks: &[Mark],
    data: &str,
) -> Result<()> {
    files::write_atomic(
        &out.join("leaderboard.json"),
        &serde_json::to_vec_pretty(board)?,
    )?;
    files::write_atomic(
        &out.join("leaderboard.md"),
        leaderboard_markdown(board, limits, marks).as_bytes(),
    )?;

    // Compute as predicted instructions on the core where every candidate has them, else MACs.
    let instructions = board.iter().all(|e| e.instructions.is_some());
    let points: Vec<ParetoPoint> = board
        .iter()
        .filter_map(|e| {
            e.val_accuracy.map(|a| ParetoPoint {
                flash_bytes: e.flash_bytes as f64,
                compute: match e.instructions {
                    Some(i) if instructions => i as f64,
                    _ => e.macs as f64,
                },
                error_pct: 100.0 * (1.0 - a),
            })
        })
        .collect();
    let compute = if instructions {
        format!(
            "instructions per inference on the {} (predicted)",
            limits.core
        )
    } else {
        "multiply-accumulates per inference".to_owned()
    };
    write_pareto(
        out,
        &points,
        marks,
        &format!("minnow fit, {data}"),
        &compute,
    )
    .map_err(|(path, source)| Error::Plot { path, source })?;

    Ok(())
}

/// `minnow fit`: the search, then the leaderboard and the winner's table on stdout; an error
/// when the device disagreed.
pub fn fit_and_print(cfg: &FitConfig) -> Result<()> {
    let outcome = match search(cfg)? {
        Searched::Done(outcome) => outcome,
        Searched::Pending(lines) => {
            for line in lines {
                println!("{line}");
            }
            return Ok(());
        }
    };
    print!(
        "{}",
        leaderboard_markdown(
            &outcome.leaderboard,
            &Limits::of(&cfg.run),
            &cfg.search.marks
        )
    );
    println!();
    print!(
        "{}",
        crate::run::summary::summary_table(&outcome.dir, &outcome.report)
    );
    crate::run::device_agrees(&outcome.dir, &outcome.report)
}

/// `minnow run` with its budgets: the configured student when it fits; when it does not and
/// the student's network was left to the defaults (`student_given` false), a search for one
/// that fits instead, said so; a student given by flags or file stays refused before training.
pub fn run_within_budget_and_print(cfg: &RunConfig, student_given: bool) -> Result<()> {
    // `minnow run` checks the student's cost itself before anything is written or trained.
    match crate::run::run_and_print(cfg) {
        Err(e @ Error::Unfit { .. }) if !student_given => {
            if !cfg.teacher.train.quiet {
                eprintln!(
                    "run: {e}; the student was left to the defaults, so minnow fit searches for one that does fit"
                );
            }
            fit_and_print(&FitConfig {
                run: cfg.clone(),
                search: FitSettings::default(),
                exe: None,
                print_commands: false,
            })
        }
        other => other,
    }
}

fn entry(
    c: &Candidate,
    core: &str,
    (epochs, rung): (usize, usize),
    val: Option<f64>,
    test: Option<f64>,
) -> Entry {
    Entry {
        name: c.name.clone(),
        arch: c.net.arch.name().to_owned(),
        hidden: c.net.hidden.clone(),
        channels: if c.net.arch == Arch::Mlp {
            Vec::new()
        } else {
            c.net.channels.clone()
        },
        flash_bytes: c.cost.usage.flash,
        ram_bytes: c.cost.usage.ram,
        macs: c.cost.macs,
        instructions: c.cost.instructions.on(core),
        epochs,
        rung,
        val_accuracy: val,
        test_accuracy: test,
        winner: false,
    }
}

/// The leaderboard as a Markdown table, best first.
pub fn leaderboard_markdown(board: &[Entry], limits: &Limits, marks: &[Mark]) -> String {
    let mut s = format!(
        "# minnow fit leaderboard\n\nBudget: {}. Picked on the validation split; test accuracy is the float student's, shown only. Instructions per inference on the {} are predicted by the instruction model (docs/instructions.md).\n\n| candidate | flash (B) | RAM (B) | MACs | instructions | rung (epochs) | validation | test |\n|---|---:|---:|---:|---:|---|---:|---:|\n",
        limits.describe(),
        limits.core
    );
    for e in board {
        s.push_str(&format!(
            "| {}{} | {} | {} | {} | {} | {} ({}) | {} | {} |\n",
            e.name,
            if e.winner { " **(winner)**" } else { "" },
            e.flash_bytes,
            e.ram_bytes,
            e.macs,
            e.instructions
                .map_or_else(|| "-".to_owned(), |i| i.to_string()),
            e.rung,
            e.epochs,
            pct_or(e.val_accuracy, "-"),
            pct_or(e.test_accuracy, "-"),
        ));
    }
    if !marks.is_empty() {
        s.push_str("\nFor comparison, published results (not run here; flash as given, their test error):\n\n");
        for m in marks {
            s.push_str(&format!(
                "- {}: {} B flash, {} % error\n",
                m.label, m.flash_bytes, m.error_pct
            ));
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::time::SystemTime;

    fn modified(path: &Path) -> SystemTime {
        std::fs::metadata(path)
            .and_then(|m| m.modified())
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    /// A small search on the digits: the winner fits and is exported; running it again
    /// retrains nothing; a candidate whose distillation was lost is the only one trained again;
    /// a budget nothing fits is refused before anything is written.
    #[test]
    fn fit_finds_a_student_within_budget_and_resumes() {
        let root = tempfile::tempdir().expect("root");
        let mut run = RunConfig {
            out: root.path().join("fit"),
            ..RunConfig::default()
        };
        run.export.max_flash = Some(2048);
        run.export.max_ram = Some(1024);
        run.teacher.train.epochs = Some(3);
        run.teacher.train.quiet = true;
        run.student.train.quiet = true;
        run.device.core = "none".into();
        let cfg = FitConfig {
            run: run.tie_steps().expect("settings"),
            search: FitSettings {
                candidates: 4,
                keep: 2,
                rungs: vec![1, 2],
                arch: None,
                time_budget_s: None,
                workers: 1,
                marks: vec![Mark::parse("SpArSe=2800:1.36").expect("mark")],
            },
            exe: None,
            print_commands: false,
        };
        let first = fit(&cfg).expect("fit");
        let winners: Vec<&Entry> = first.leaderboard.iter().filter(|e| e.winner).collect();
        assert_eq!(winners.len(), 1);
        let w = winners[0];
        assert_eq!((w.rung, w.epochs), (2, 2));
        assert_eq!(first.leaderboard.len(), 4);
        assert_eq!(first.leaderboard.iter().filter(|e| e.rung == 2).count(), 2);
        assert!(w.flash_bytes <= 2048 && w.ram_bytes <= 1024);
        assert_eq!(
            first.report.footprint.blob_bytes, w.flash_bytes,
            "cost = export"
        );
        for f in [
            "leaderboard.json",
            "leaderboard.md",
            "student.minnow",
            "report.json",
        ] {
            assert!(cfg.run.out.join(f).is_file(), "{f}");
        }
        let md = std::fs::read_to_string(cfg.run.out.join("leaderboard.md")).expect("md");
        assert!(md.contains(&format!("{} **(winner)**", w.name)), "{md}");
        assert!(md.contains("- SpArSe: 2800 B flash, 1.36 % error"), "{md}");
        assert!(
            cfg.run.out.join(TEACHER_LOGITS).is_file(),
            "the candidates share one teacher-logit cache"
        );

        let summaries: Vec<PathBuf> = first
            .leaderboard
            .iter()
            .map(|e| {
                cfg.run
                    .out
                    .join("candidates")
                    .join(&e.name)
                    .join("e1")
                    .join("summary.json")
            })
            .collect();
        let before: Vec<SystemTime> = summaries.iter().map(|p| modified(p)).collect();
        let again = fit(&cfg).expect("again");
        assert_eq!(again.leaderboard, first.leaderboard);
        let after: Vec<SystemTime> = summaries.iter().map(|p| modified(p)).collect();
        assert_eq!(before, after, "nothing retrained");

        // One distillation lost (as if killed before it finished): only it trains again.
        std::fs::remove_file(&summaries[0]).expect("remove");
        let third = fit(&cfg).expect("third");
        assert_eq!(third.leaderboard, first.leaderboard, "deterministic");
        assert!(summaries[0].is_file());
        assert_eq!(modified(&summaries[1]), before[1]);

        // A spent time budget: the first candidate trains and nothing after it, so it wins at
        // the first rung (the teacher is the first search's, already trained).
        let mut hurried = cfg.clone();
        hurried.run.out = root.path().join("hurried");
        hurried.search.time_budget_s = Some(1e-9);
        let h = fit(&hurried).expect("a hurried fit");
        assert_eq!(h.leaderboard.len(), 1, "{:?}", h.leaderboard);
        assert!(h.leaderboard[0].winner && h.leaderboard[0].rung == 1);
        assert!(hurried.run.out.join("student.minnow").is_file());

        let mut tiny = cfg.clone();
        tiny.run.out = root.path().join("tiny");
        tiny.run.export.max_flash = Some(100);
        let e = fit(&tiny).expect_err("nothing fits 100 bytes");
        assert!(e.to_string().contains("no student fits"), "{e}");
        assert!(!tiny.run.out.exists(), "nothing written");
    }

    #[test]
    fn rungs_default_to_ninths_and_thirds() {
        assert_eq!(rungs(&[], 60), [6, 20, 60]);
        assert_eq!(rungs(&[], 3), [1, 3]);
        assert_eq!(rungs(&[2, 4], 60), [2, 4]);
    }
}
