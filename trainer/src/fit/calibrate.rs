//! Fitting the instruction model ([`super::instructions`]) to measured runs, and its error.
//!
//! A measured run is a run folder verified on several cores with their logs kept (`minnow
//! verify DIR --core all --logs DIR/matrix`): the firmware prints every layer's instructions
//! (`layer index=.. kind=.. units=..`) and the whole inference's (`perf .. per_inference=..`).
//! Each core's weights per layer kind are a least-squares fit over every layer of that kind, in
//! relative terms (a layer of 200 instructions counts as much as one of 200,000); the
//! per-inference overhead is what the layers leave of the total. The error is stated twice:
//! against every run fitted, and for each architecture with the model fitted without it.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::device::boards::qemu_board;
use crate::error::{Error, Result};
use crate::files;

use super::instructions::{CoreModel, FEATURES, LayerWork, Model, layer_work, predict_core};

/// One architecture run on one core.
#[derive(Debug, Clone, PartialEq)]
pub struct Measured {
    /// The run folder's name.
    pub arch: String,
    /// `m4`.
    pub core: String,
    /// Each layer's work and measured instructions.
    pub layers: Vec<(LayerWork, f64)>,
    pub per_inference: f64,
}

/// The measured runs of the run folder `dir`: its `student.minnow` and each `matrix/BOARD.log`.
pub fn measurements(dir: &Path) -> Result<Vec<Measured>> {
    let blob = files::read(&dir.join("student.minnow"))?;
    let student = minnow_core::Student::decode(&blob)
        .map_err(|e| Error::artifact(dir.join("student.minnow"), e.to_string()))?;
    let work = layer_work(&student).map_err(|e| Error::artifact(dir, e))?;
    let arch = dir
        .file_name()
        .map_or_else(|| dir.display().to_string(), |n| n.to_string_lossy().into());
    let logs = dir.join("matrix");
    let mut entries: Vec<PathBuf> = std::fs::read_dir(&logs)
        .map_err(|e| Error::artifact(&logs, format!("no logs: {e}")))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.extension().is_some_and(|x| x == "log")
                && !p.to_string_lossy().ends_with(".probe.log")
        })
        .collect();
    entries.sort();
    let mut out = Vec::new();
    for log in entries {
        let board = log
            .file_stem()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let Some(board) = qemu_board(&board) else {
            continue;
        };
        let text = String::from_utf8_lossy(&files::read(&log)?).into_owned();
        let (units, per_inference) = parse_log(&text);
        let Some(per_inference) = per_inference else {
            eprintln!(
                "calibrate: {} has no perf line (the run did not finish): left out",
                log.display()
            );
            continue;
        };
        if units.len() != work.len() {
            return Err(Error::artifact(
                &log,
                format!(
                    "{} layer lines for a student of {} layers",
                    units.len(),
                    work.len()
                ),
            ));
        }
        out.push(Measured {
            arch: arch.clone(),
            core: board.core.to_owned(),
            layers: work.iter().copied().zip(units).collect(),
            per_inference,
        });
    }
    Ok(out)
}

/// The `units` of each `layer` line, in order, and the `perf` line's `per_inference`.
fn parse_log(text: &str) -> (Vec<f64>, Option<f64>) {
    let value = |line: &str, key: &str| {
        line.split_whitespace()
            .find_map(|kv| kv.strip_prefix(key)?.strip_prefix('='))
            .and_then(|v| v.parse::<f64>().ok())
    };
    let mut units = Vec::new();
    let mut per_inference = None;
    for line in text.lines().map(str::trim) {
        if line.starts_with("layer ") {
            units.push(value(line, "units").unwrap_or(f64::NAN));
        } else if line.starts_with("perf ") {
            per_inference = value(line, "per_inference");
        }
    }
    (units, per_inference)
}

/// The model fitted to `runs`.
pub fn calibrate(runs: &[Measured], calibrated_on: &str) -> Model {
    let mut cores = BTreeMap::new();
    let names: std::collections::BTreeSet<&str> = runs.iter().map(|r| r.core.as_str()).collect();
    for core in names {
        let on_core: Vec<&Measured> = runs.iter().filter(|r| r.core == core).collect();
        cores.insert(core.to_owned(), fit_core(&on_core));
    }
    Model {
        calibrated_on: calibrated_on.to_owned(),
        cores,
    }
}

fn fit_core(runs: &[&Measured]) -> CoreModel {
    let mut by_kind: BTreeMap<&str, Vec<([f64; FEATURES], f64)>> = BTreeMap::new();
    for run in runs {
        for (work, units) in &run.layers {
            // Relative: each row divided by what it measures.
            let scale = 1.0 / units.max(50.0);
            let row = work.features.map(|x| x * scale);
            by_kind
                .entry(work.kind)
                .or_default()
                .push((row, units * scale));
        }
    }
    let kinds = by_kind
        .into_iter()
        .map(|(kind, rows)| (kind.to_owned(), least_squares(&rows)))
        .collect();
    // What the layers' own counts leave of the inference: a constant and a per-layer term.
    let rows: Vec<([f64; FEATURES], f64)> = runs
        .iter()
        .map(|r| {
            let layers: f64 = r.layers.iter().map(|(_, u)| u).sum();
            // Relative to the inference, as the layers are: a small student's overhead is
            // most of its error.
            let scale = 1.0 / r.per_inference.max(50.0);
            let mut x = [0.0; FEATURES];
            x[0] = scale;
            x[1] = r.layers.len() as f64 * scale;
            (x, (r.per_inference - layers) * scale)
        })
        .collect();
    let o = least_squares(&rows);
    CoreModel {
        kinds,
        overhead: [o[0], o[1]],
    }
}

/// `w` minimising `sum (w . x - y)^2` over `rows` (the normal equations); a feature no row has
/// (a column of zeros) gets weight 0 instead of a singular system. The columns are scaled to
/// unit size first (MACs run to millions, the constant is 1).
pub fn least_squares(rows: &[([f64; FEATURES], f64)]) -> [f64; FEATURES] {
    let mut scale = [0.0_f64; FEATURES];
    for (x, _) in rows {
        for (s, v) in scale.iter_mut().zip(x) {
            *s = s.max(v.abs());
        }
    }
    let scale = scale.map(|s| if s > 0.0 { s } else { 1.0 });
    // Normal equations A w = b on the scaled columns.
    let mut a = [[0.0_f64; FEATURES]; FEATURES];
    let mut b = [0.0_f64; FEATURES];
    for (x, y) in rows {
        let x: Vec<f64> = x.iter().zip(&scale).map(|(v, s)| v / s).collect();
        for i in 0..FEATURES {
            b[i] += x[i] * y;
            for j in 0..FEATURES {
                a[i][j] += x[i] * x[j];
            }
        }
    }
    // A feature no row has: weight 0 (its equation reads 1 * w = 0). Features that the
    // rows make (nearly) proportional share their weight instead of trading huge ones: a
    // relative ridge of 1e-9.
    for (i, row) in a.iter_mut().enumerate() {
        row[i] = if row[i] == 0.0 {
            1.0
        } else {
            row[i] * (1.0 + 1e-9)
        };
    }
    let w = solve(a, b);
    std::array::from_fn(|i| w[i] / scale[i])
}

/// Gaussian elimination with partial pivoting.
fn solve(mut a: [[f64; FEATURES]; FEATURES], mut b: [f64; FEATURES]) -> [f64; FEATURES] {
    for col in 0..FEATURES {
        let pivot = (col..FEATURES)
            .max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))
            .unwrap_or(col);
        a.swap(col, pivot);
        b.swap(col, pivot);
        let (done, rest) = a.split_at_mut(col + 1);
        let top = done[col];
        if top[col].abs() < 1e-300 {
            continue;
        }
        for (k, row) in rest.iter_mut().enumerate() {
            let f = row[col] / top[col];
            for (x, t) in row.iter_mut().zip(top).skip(col) {
                *x -= f * t;
            }
            b[col + 1 + k] -= f * b[col];
        }
    }
    let mut w = [0.0; FEATURES];
    for row in (0..FEATURES).rev() {
        let rest: f64 = (row + 1..FEATURES).map(|k| a[row][k] * w[k]).sum();
        w[row] = if a[row][row].abs() < 1e-300 {
            0.0
        } else {
            (b[row] - rest) / a[row][row]
        };
    }
    w
}

/// The model's prediction for `run`, from its layers' work.
pub fn predicted(model: &Model, run: &Measured) -> Option<f64> {
    let layers: Vec<LayerWork> = run.layers.iter().map(|(w, _)| *w).collect();
    predict_core(model.cores.get(&run.core)?, &layers)
}

/// How far off the model is for one measured run.
#[derive(Debug, Clone, PartialEq)]
pub struct RunError {
    pub arch: String,
    pub core: String,
    pub measured: f64,
    /// Relative error of the model fitted to every run.
    pub fitted: Option<f64>,
    /// Relative error of the model fitted without this run's architecture.
    pub left_out: Option<f64>,
}

/// The error of `model` on each of `runs`, and of the model fitted without each run's
/// architecture.
pub fn errors(model: &Model, runs: &[Measured]) -> Vec<RunError> {
    let rel = |p: Option<f64>, m: f64| p.map(|p| (p - m) / m);
    let mut out = Vec::new();
    for run in runs {
        let others: Vec<Measured> = runs
            .iter()
            .filter(|r| r.arch != run.arch)
            .cloned()
            .collect();
        let without = calibrate(&others, "");
        out.push(RunError {
            arch: run.arch.clone(),
            core: run.core.clone(),
            measured: run.per_inference,
            fitted: rel(predicted(model, run), run.per_inference),
            left_out: rel(predicted(&without, run), run.per_inference),
        });
    }
    out
}

/// docs/instructions.md: what the model is, then its error on `runs`, summed up per core and
/// per run.
pub fn error_table(model: &Model, runs: &[Measured]) -> String {
    let errs = errors(model, runs);
    let mut archs: Vec<&str> = runs.iter().map(|r| r.arch.as_str()).collect();
    archs.dedup();
    let mut s = String::new();
    let _ = writeln!(
        s,
        "# The instruction model's error\n\n\
         Written by `scripts/calibrate-instructions.sh` (do not edit): `minnow fit` and `minnow run \
         --max-instructions` predict a student's instructions per inference on a core before it \
         is trained, with a linear model per core and kernel over what the kernel's loops count \
         (multiply-accumulates, outputs, gathered values, output pixels, tail values, dense rows \
         done one at a time, rows, 1: `work_of` in instructions.rs says which kernel counts \
         which), plus a per-inference constant and per-layer term \
         (trainer/src/fit/instructions.rs, weights in instructions.json beside it). It is fitted \
         to the firmware's own per-layer counts under QEMU (`-icount shift=0`, SysTick; release \
         firmware built for size) of {} students: {}.\n\n\
         *Fitted* is the model's error on the runs it was fitted to; *left out* refits the model \
         without each student in turn and predicts that student: the error to expect on a \
         network it has not seen. The journeys hold the model to {:.0} % on students outside this \
         set (the default digits MLP on the M4, the iris MLP and the sensor 1-D CNN on the M4 \
         and M0).\n",
        archs.len(),
        archs.join(", "),
        100.0 * super::instructions::TOLERANCE
    );
    s.push_str(&per_core(&errs));
    let _ = writeln!(
        s,
        "\n| architecture | core | measured instr/inference | fitted | left out |"
    );
    let _ = writeln!(s, "|---|---|---:|---:|---:|");
    let pct =
        |e: Option<f64>| e.map_or_else(|| "n/a".to_owned(), |e| format!("{:+.1} %", 100.0 * e));
    for e in &errs {
        let _ = writeln!(
            s,
            "| {} | {} | {:.0} | {} | {} |",
            e.arch,
            e.core,
            e.measured,
            pct(e.fitted),
            pct(e.left_out)
        );
    }
    s
}

/// The mean and largest absolute errors per core, fitted and left out.
fn per_core(errs: &[RunError]) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "| core | runs | fitted: mean abs error | max abs | left out: mean abs error | max abs |"
    );
    let _ = writeln!(s, "|---|---:|---:|---:|---:|---:|");
    let mut cores: Vec<&str> = errs.iter().map(|e| e.core.as_str()).collect();
    cores.sort_by_key(|c| super::instructions::CORES.iter().position(|x| x == c));
    cores.dedup();
    for core in cores {
        let of = |pick: fn(&RunError) -> Option<f64>| {
            let v: Vec<f64> = errs
                .iter()
                .filter(|e| e.core == core)
                .filter_map(pick)
                .map(f64::abs)
                .collect();
            let mean = v.iter().sum::<f64>() / v.len().max(1) as f64;
            let max = v.iter().copied().fold(0.0, f64::max);
            (
                format!("{:.1} %", 100.0 * mean),
                format!("{:.1} %", 100.0 * max),
                v.len(),
            )
        };
        let (fm, fx, n) = of(|e| e.fitted);
        let (lm, lx, _) = of(|e| e.left_out);
        let _ = writeln!(s, "| {core} | {n} | {fm} | {fx} | {lm} | {lx} |");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fit::instructions::dot;

    #[test]
    fn least_squares_recovers_a_linear_law_and_zeroes_a_missing_feature() {
        let w = [3.0, 20.0, 0.0, 7.0, 0.0, 0.5, 2.5, 150.0];
        let rows: Vec<([f64; FEATURES], f64)> = (1..30)
            .map(|i| {
                let i = f64::from(i);
                let x = [
                    i * i * 1000.0,
                    i * 10.0 + (i % 3.0),
                    0.0,
                    (i % 5.0) + 1.0,
                    0.0,
                    (i % 7.0) * 40.0,
                    (i % 4.0) * i,
                    1.0,
                ];
                (x, dot(&w, &x))
            })
            .collect();
        let got = least_squares(&rows);
        for (g, e) in got.iter().zip(w) {
            assert!((g - e).abs() < 1e-3 * e.abs().max(1.0), "{got:?} vs {w:?}");
        }
    }

    #[test]
    fn logs_give_each_layers_units_and_the_inference() {
        let log = "cpuid=410fc241 core=Cortex-M4\nlayer index=0 kind=dense macs=640 units=1520 per_mac_x1000=2375\nlayer index=1 kind=dense macs=40 units=210 per_mac_x1000=5250\nperf unit=instructions source=systick per_tick_x1000=40000 per_inference=1800 macs=680\n";
        assert_eq!(parse_log(log), (vec![1520.0, 210.0], Some(1800.0)));
    }
}
