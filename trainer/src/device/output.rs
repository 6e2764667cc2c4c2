//! What the firmware prints: `word key=value ...` lines (documented in firmware/src/main.rs),
//! parsed into a [`DeviceRun`], and the device section of report.json made from it.

use crate::device::boards::Board;
use crate::int8::report::DeviceReport;

/// What the firmware printed, parsed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DeviceRun {
    /// From the `cpuid` line, e.g. `Cortex-M4`.
    pub core: String,
    pub vectors: u64,
    pub mismatches: u64,
    pub correct: u64,
    pub labeled: u64,
    pub teacher_agree: u64,
    pub teacher_known: u64,
    /// `instructions` (QEMU) or `cycles` (hardware).
    pub unit: String,
    pub per_inference: Option<u64>,
    pub per_mac_x1000: Option<u64>,
    pub dense_per_mac_x1000: Option<u64>,
    /// From the `model` line: the input length and the number of classes.
    pub input_len: u64,
    pub classes: u64,
    pub flash_used: u64,
    pub student_bytes: u64,
    pub golden_bytes: u64,
    pub runtime_flash: u64,
    pub ram_bytes: u64,
    /// `error stage=.. msg=..` lines.
    pub errors: Vec<String>,
    /// `mismatch index=..` lines (the first few).
    pub mismatch_lines: Vec<String>,
    /// `verdict=PASS` seen.
    pub pass: bool,
    /// The `verdict=` line's value (`PASS`, `FAIL`), if there was one.
    pub verdict: Option<String>,
    /// A `result` line was seen.
    pub complete: bool,
}

impl DeviceRun {
    /// Parses the firmware's stdout (lines of `word key=value ...`).
    pub fn parse(stdout: &str) -> DeviceRun {
        let mut run = DeviceRun::default();
        for line in stdout.lines() {
            let line = line.trim();
            let mut words = line.split_whitespace();
            let Some(word) = words.next() else { continue };
            let get = |key: &str| -> Option<&str> {
                line.split_whitespace()
                    .skip(1)
                    .find_map(|kv| kv.strip_prefix(key)?.strip_prefix('='))
            };
            let num = |key: &str| get(key).and_then(|v| v.parse::<u64>().ok());
            match word {
                w if w.starts_with("cpuid=") => {
                    run.core = get("core").unwrap_or("unknown").to_owned();
                }
                "result" => {
                    run.complete = true;
                    run.vectors = num("vectors").unwrap_or(0);
                    run.mismatches = num("mismatches").unwrap_or(0);
                    run.correct = num("correct").unwrap_or(0);
                    run.labeled = num("labeled").unwrap_or(0);
                    run.teacher_agree = num("teacher_agree").unwrap_or(0);
                    run.teacher_known = num("teacher_known").unwrap_or(0);
                }
                "perf" => {
                    run.unit = get("unit").unwrap_or("").to_owned();
                    run.per_inference = num("per_inference");
                    run.per_mac_x1000 = num("per_mac_x1000");
                    run.dense_per_mac_x1000 = num("dense_per_mac_x1000");
                }
                "model" => {
                    run.input_len = num("input_len").unwrap_or(0);
                    run.classes = num("classes").unwrap_or(0);
                }
                "mem" => {
                    run.flash_used = num("flash_used").unwrap_or(0);
                    run.student_bytes = num("student_bytes").unwrap_or(0);
                    run.golden_bytes = num("golden_bytes").unwrap_or(0);
                    run.runtime_flash = num("runtime_flash").unwrap_or(0);
                    run.ram_bytes = num("ram_bytes").unwrap_or(0);
                }
                "error" => run.errors.push(line.to_owned()),
                "mismatch" => run.mismatch_lines.push(line.to_owned()),
                w if w.starts_with("verdict=") => {
                    let verdict = &w["verdict=".len()..];
                    run.pass = verdict == "PASS";
                    run.verdict = Some(verdict.to_owned());
                }
                _ => {}
            }
        }
        run
    }

    /// The device section of report.json. `flash_bytes` is what the firmware occupies without
    /// the golden vectors (runtime code + the student blob), `ram_bytes` its .data + .bss +
    /// measured stack peak.
    pub fn device_report(&self, board: &Board, qemu: bool) -> DeviceReport {
        let ratio = |a: u64, b: u64| {
            if b == 0 {
                None
            } else {
                Some(a as f64 / b as f64)
            }
        };
        let instructions = qemu && self.unit == "instructions";
        DeviceReport {
            core: if qemu {
                format!("{} (qemu {})", board.core_label(), board.name)
            } else {
                format!("{} ({})", board.core_label(), board.name)
            },
            vectors: self.vectors,
            mismatches: self.mismatches,
            accuracy: ratio(self.correct, self.labeled).unwrap_or(0.0),
            teacher_agreement: ratio(self.teacher_agree, self.teacher_known),
            instructions_per_inference: if instructions {
                self.per_inference
            } else {
                None
            },
            instructions_per_mac: if instructions {
                self.per_mac_x1000.map(|x| x as f64 / 1000.0)
            } else {
                None
            },
            flash_bytes: self.flash_used.saturating_sub(self.golden_bytes),
            ram_bytes: self.ram_bytes,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::device::boards::qemu_board;

    const OUTPUT: &str = "\
minnow-firmware 0.1.0 board=mps2-an386 expected_core=Cortex-M4F
cpuid=0x410fc240 core=Cortex-M4
model student_bytes=51863 golden_bytes=6393 layers=2 macs=50816 weight_bytes=51778 scratch=74 input_len=784 classes=10 vectors=8
mismatch index=3 expected=1,2 got=1,3
layer index=0 kind=dense macs=50176 units=116520 per_mac_x1000=2322
result vectors=8 mismatches=1 correct=6 labeled=8 teacher_agree=5 teacher_known=7
perf unit=instructions source=systick per_tick_x1000=40000 per_inference=120395 macs=50816 per_mac_x1000=2369 dense_macs=50816 dense_units=120260 dense_per_mac_x1000=2366
mem flash_used=87648 student_bytes=51863 golden_bytes=6393 runtime_flash=29392 text=24276 rodata=62348 data=0 bss=92 scratch=74 static_ram=92 stack_peak=1188 ram_bytes=1280
verdict=FAIL mismatches=1 vectors=8
";

    #[test]
    fn parses_the_firmware_lines() {
        let d = DeviceRun::parse(OUTPUT);
        assert_eq!(d.core, "Cortex-M4");
        assert_eq!(
            (d.vectors, d.mismatches, d.correct, d.labeled),
            (8, 1, 6, 8)
        );
        assert_eq!((d.teacher_agree, d.teacher_known), (5, 7));
        assert_eq!(d.per_inference, Some(120_395));
        assert_eq!(d.per_mac_x1000, Some(2369));
        assert_eq!(
            (d.flash_used, d.golden_bytes, d.ram_bytes),
            (87_648, 6393, 1280)
        );
        assert_eq!(d.mismatch_lines.len(), 1);
        assert!(d.complete && !d.pass);
        assert_eq!(d.verdict.as_deref(), Some("FAIL"));
        assert_eq!((d.input_len, d.classes, d.student_bytes), (784, 10, 51_863));
        let board = qemu_board("m4").expect("m4");
        let r = d.device_report(&board, true);
        assert_eq!(r.core, "cortex-m4f (qemu mps2-an386)");
        assert_eq!(r.accuracy, 0.75);
        assert_eq!(r.teacher_agreement, Some(5.0 / 7.0));
        assert_eq!(r.instructions_per_mac, Some(2.369));
        assert_eq!(r.flash_bytes, 87_648 - 6393);
    }

    #[test]
    fn decode_errors_are_collected() {
        let d = DeviceRun::parse(
            "error stage=student msg=CRC mismatch: header says 0x1\nverdict=FAIL\n",
        );
        assert_eq!(
            d.errors,
            ["error stage=student msg=CRC mismatch: header says 0x1"]
        );
        assert!(!d.complete && !d.pass);
    }
}
