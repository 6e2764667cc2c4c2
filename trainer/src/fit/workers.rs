//! A rung's candidates as independent processes: each distillation is one `minnow` command
//! over its own folder of the fit folder (`minnow distill --config FOLDER.toml`, or `minnow
//! resume FOLDER` for one that was killed), so `--workers N` runs N of them here and a cluster
//! scheduler can run the same commands anywhere the fit folder is shared (`minnow fit
//! --print-commands`); the search reads each folder's `summary.json` whatever ran it.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::config;
use crate::error::{Error, Result};
use crate::files;
use crate::train::config::DistillConfig;

/// One candidate's distillation at one rung, as a command.
#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    /// The candidate's rung folder (`OUT/candidates/NAME/eEPOCHS`).
    pub dir: PathBuf,
    /// The arguments after `minnow`.
    pub args: Vec<String>,
}

/// The job that distils `student` into `student.out`: its settings are written beside the
/// folder (`eEPOCHS.toml`) and read by the command, which continues a killed run instead when
/// the folder exists.
pub fn job(student: &DistillConfig) -> Result<Job> {
    let dir = student.out.clone();
    let args = if dir.exists() {
        vec![
            "resume".to_owned(),
            dir.display().to_string(),
            "--quiet".to_owned(),
        ]
    } else {
        let settings = dir.with_extension("toml");
        // The candidate's folder too: the log of `start` goes beside the run folder.
        if let Some(parent) = settings.parent() {
            files::create_dir_all(parent)?;
        }
        files::write_atomic(&settings, settings_file(student)?.as_bytes())?;
        vec![
            "distill".to_owned(),
            "--config".to_owned(),
            settings.display().to_string(),
            "--quiet".to_owned(),
        ]
    };
    Ok(Job { dir, args })
}

/// `student` as a settings file for `minnow distill --config`, which reads relative paths
/// relative to the file's folder: the paths are written absolute, joined onto this process's
/// working directory, where they are relative to now (a fit run as `--mnist data/mnist --out
/// runs/fit` would otherwise send its workers to `runs/fit/candidates/NAME/data/mnist`).
fn settings_file(student: &DistillConfig) -> Result<String> {
    let mut table = toml::Table::try_from(student).map_err(config::SettingsError::from)?;
    config::anchor_paths(&mut table, &files::absolute(Path::new("."))?);
    Ok(config::to_toml(&table)?)
}

/// The shell line of `job` for `exe` (for `--print-commands`).
pub fn shell_line(exe: &Path, job: &Job) -> String {
    std::iter::once(exe.display().to_string())
        .chain(job.args.iter().cloned())
        .map(|w| quote(&w))
        .collect::<Vec<_>>()
        .join(" ")
}

fn quote(word: &str) -> String {
    if word
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "-_./=,:".contains(c))
    {
        word.to_owned()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

/// Runs `jobs` with `exe`, at most `workers` at once and none once `stop` says so; each job's
/// output goes to its folder's `.log` beside it. The first failure stops new starts, waits
/// for the running ones and is returned, naming the folder and its log.
pub fn run_all(exe: &Path, jobs: &[Job], workers: usize, stop: &dyn Fn() -> bool) -> Result<()> {
    let mut pending = jobs.iter();
    let mut running: Vec<(Child, &Job)> = Vec::new();
    let mut failed: Option<Error> = None;
    loop {
        while failed.is_none() && running.len() < workers.max(1) && !stop() {
            let Some(job) = pending.next() else { break };
            running.push((start(exe, job)?, job));
        }
        if running.is_empty() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
        let mut still = Vec::new();
        for (mut child, job) in running {
            match child.try_wait() {
                Ok(None) => still.push((child, job)),
                Ok(Some(status)) if status.success() => {}
                Ok(Some(status)) => {
                    failed.get_or_insert_with(|| {
                        Error::artifact(
                            &job.dir,
                            format!(
                                "the candidate's distillation failed ({status}); its output is in {}",
                                log_path(job).display()
                            ),
                        )
                    });
                }
                Err(e) => {
                    failed.get_or_insert_with(|| {
                        Error::artifact(&job.dir, format!("lost the worker process: {e}"))
                    });
                }
            }
        }
        running = still;
    }
    failed.map_or(Ok(()), Err)
}

fn log_path(job: &Job) -> PathBuf {
    job.dir.with_extension("log")
}

fn start(exe: &Path, job: &Job) -> Result<Child> {
    let log = log_path(job);
    let out = std::fs::File::create(&log)
        .map_err(|e| Error::artifact(&log, format!("cannot create the log: {e}")))?;
    let err = out
        .try_clone()
        .map_err(|e| Error::artifact(&log, format!("cannot share the log: {e}")))?;
    Command::new(exe)
        .args(&job.args)
        .stdin(Stdio::null())
        .stdout(out)
        .stderr(err)
        .spawn()
        .map_err(|e| Error::artifact(exe, format!("cannot start a worker: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shell_lines_quote_what_a_shell_would_split() {
        let job = Job {
            dir: "x".into(),
            args: vec![
                "distill".into(),
                "--config".into(),
                "my runs/e6.toml".into(),
            ],
        };
        assert_eq!(
            shell_line(Path::new("/bin/minnow"), &job),
            "/bin/minnow distill --config 'my runs/e6.toml'"
        );
    }
}
