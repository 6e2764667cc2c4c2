//! Running a firmware ELF in QEMU: `qemu-system-arm -M <board> -cpu <cpu>`, semihosting to
//! stdout, `-icount shift=0` (one guest instruction = 1 ns of virtual time, so runs are
//! deterministic and SysTick counts instructions), killed after a timeout.

use std::io::Read;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::device::boards::Board;
use crate::device::toolchain::{ToolchainError, on_path};
use crate::error::{Error, Result};
use crate::files::IoError;

pub const QEMU: &str = "qemu-system-arm";

/// What a QEMU run gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QemuRun {
    /// QEMU's exit status: 0 when the firmware exited with success, 1 when it failed, panicked
    /// or faulted; `None` when it was killed.
    pub status: Option<i32>,
    /// Killed after the timeout (the firmware hung).
    pub timed_out: bool,
    pub stdout: String,
    pub stderr: String,
    /// The command line, for logs.
    pub command: String,
}

impl QemuRun {
    pub fn success(&self) -> bool {
        self.status == Some(0)
    }

    /// "exit status 1", "killed after 60 s (hung?)".
    pub fn describe(&self, timeout: Duration) -> String {
        match (self.timed_out, self.status) {
            (true, _) => format!(
                "QEMU ran past {} s and was killed (firmware hung?)",
                timeout.as_secs()
            ),
            (false, Some(code)) => format!("exit status {code}"),
            (false, None) => "killed by a signal".into(),
        }
    }
}

/// Whether `qemu-system-arm` is on PATH.
pub fn available() -> bool {
    on_path(QEMU).is_some()
}

/// The QEMU command for `elf` on `board` (an emulated one).
pub fn command(board: &Board, elf: &Path) -> Result<Command> {
    let cpu = board.qemu_cpu().ok_or_else(|| {
        Error::Usage(format!(
            "{} is a real board ({}), not one QEMU emulates",
            board.name, board.core_name
        ))
    })?;
    let mut cmd = Command::new(QEMU);
    cmd.args(["-M", board.name, "-cpu", cpu])
        .args(["-nographic", "-monitor", "none", "-serial", "null"])
        .args(["-semihosting-config", "enable=on,target=native"])
        .args(["-icount", "shift=0", "-kernel"])
        .arg(elf);
    Ok(cmd)
}

/// Runs `elf` on `board` until it exits or `timeout` passes.
pub fn run(board: &Board, elf: &Path, timeout: Duration) -> Result<QemuRun> {
    if !available() {
        return Err(ToolchainError::NoQemu.into());
    }
    let mut cmd = command(board, elf)?;
    let line = format!("{cmd:?}").replace('"', "");
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| IoError::new(QEMU, e))?;
    let stdout = reader(&mut child, true);
    let stderr = reader(&mut child, false);
    let deadline = Instant::now() + timeout;
    let mut timed_out = false;
    let status = loop {
        match child.try_wait().map_err(|e| IoError::new(QEMU, e))? {
            Some(status) => break status,
            None if Instant::now() >= deadline => {
                timed_out = true;
                // Already exited between the two calls is fine; wait() below reaps it.
                let _ = child.kill();
                break child.wait().map_err(|e| IoError::new(QEMU, e))?;
            }
            None => std::thread::sleep(Duration::from_millis(20)),
        }
    };
    let join = |h: std::thread::JoinHandle<String>| h.join().unwrap_or_default();
    Ok(QemuRun {
        status: if timed_out { None } else { status.code() },
        timed_out,
        stdout: join(stdout),
        stderr: join(stderr),
        command: line,
    })
}

/// A thread that reads the child's stdout (or stderr) to the end.
fn reader(child: &mut Child, stdout: bool) -> std::thread::JoinHandle<String> {
    let pipe: Option<Box<dyn Read + Send>> = if stdout {
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>)
    } else {
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>)
    };
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        if let Some(mut pipe) = pipe {
            // A read error ends the capture; what was read so far is kept.
            let _ = pipe.read_to_end(&mut bytes);
        }
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::device::boards::{probe_board, qemu_board};

    #[test]
    fn the_command_line() {
        let b = qemu_board("m33").expect("m33");
        let cmd = command(&b, Path::new("/x/fw.elf")).expect("qemu board");
        let args: Vec<String> = cmd
            .get_args()
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        assert_eq!(
            args.join(" "),
            "-M mps2-an505 -cpu cortex-m33 -nographic -monitor none -serial null \
             -semihosting-config enable=on,target=native -icount shift=0 -kernel /x/fw.elf"
        );
        let real = probe_board("nRF52840_xxAA").expect("chip");
        assert!(command(&real, Path::new("/x")).is_err());
    }

    #[test]
    fn describes_how_it_ended() {
        let mut run = QemuRun {
            status: Some(1),
            timed_out: false,
            stdout: String::new(),
            stderr: String::new(),
            command: String::new(),
        };
        let t = Duration::from_secs(60);
        assert_eq!(run.describe(t), "exit status 1");
        run.timed_out = true;
        run.status = None;
        assert!(run.describe(t).contains("ran past 60 s"));
        assert!(!run.success());
    }
}
