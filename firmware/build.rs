//! Build script for the minnow firmware.
//!
//! * `MINNOW_BOARD` (required) picks `memory/<board>.x`, copied to `$OUT_DIR/memory.x`, where
//!   cortex-m-rt's `link.x` finds it. The board must match the cargo `--target`. Boards, their
//!   targets, cores and SysTick factors are the rows of `boards.rs`, the one board table (the
//!   trainer's `minnow verify` includes the same file).
//! * `MINNOW_STUDENT` and `MINNOW_GOLDEN` name the files to embed with `include_bytes!`
//!   (falling back to `model/student.bin` and `model/golden.bin`). The resolved absolute paths
//!   reach the crate as the compile-time env vars `MINNOW_STUDENT_PATH` and `MINNOW_GOLDEN_PATH`.
//! * The student is decoded here with minnow-core (the same crate, built for the host) and
//!   `$OUT_DIR/model_consts.rs` gets `SCRATCH_LEN`, `INPUT_LEN`, `CLASSES`, `MACS`, ... so the
//!   activations live in a static buffer of exactly the right size. The build fails if that
//!   buffer plus the other statics and a stack reserve do not fit the board's RAM, or the blobs
//!   do not fit its flash. A blob that does not decode is NOT a build error: the constants
//!   become 0 and the device reports minnow-core's error at run time (that path is tested).
//! * With feature `hardware`: links defmt's `defmt.x` as well.

use std::env;
use std::fs;
use std::path::{Path, PathBuf};

/// The board table (`BOARDS`), shared with the trainer's `minnow verify`.
#[allow(dead_code)]
mod boards {
    include!("boards.rs");
}
use boards::{BOARDS, Runner};

/// Guest instructions per SysTick tick (QEMU, `-icount shift=0`), x1000; on real boards SysTick
/// counts core cycles (1000). The QEMU factors are in boards.rs (measured, see README).
fn units_per_tick_x1000(runner: Runner, qemu: bool) -> u32 {
    match runner {
        Runner::Qemu {
            instructions_per_tick_x1000,
            ..
        } if qemu => instructions_per_tick_x1000,
        _ => 1000,
    }
}

fn fail(msg: &str) -> ! {
    // cargo shows a failed build script's stderr; no panic, so no backtrace noise.
    eprintln!("\nerror: minnow-firmware build: {msg}\n");
    std::process::exit(1);
}

fn main() {
    let manifest_dir =
        PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let out_dir = PathBuf::from(env::var_os("OUT_DIR").expect("OUT_DIR"));
    let target = env::var("TARGET").expect("TARGET");

    println!("cargo::rerun-if-changed=build.rs");
    println!("cargo::rerun-if-changed=boards.rs");
    println!("cargo::rerun-if-env-changed=MINNOW_BOARD");
    println!("cargo::rerun-if-env-changed=MINNOW_STUDENT");
    println!("cargo::rerun-if-env-changed=MINNOW_GOLDEN");
    let names: Vec<&str> = BOARDS.iter().map(|b| b.name).collect();
    let quoted: Vec<String> = names.iter().map(|n| format!("{n:?}")).collect();
    println!(
        "cargo::rustc-check-cfg=cfg(minnow_board, values({}))",
        quoted.join(", ")
    );
    println!("cargo::rustc-check-cfg=cfg(minnow_dwt)");

    let board = match env::var("MINNOW_BOARD") {
        Ok(b) => b,
        Err(_) => fail(&format!(
            "set MINNOW_BOARD to one of {names:?} (or use `minnow verify --student F --golden G --core <board>`)"
        )),
    };
    let Some(spec) = BOARDS.iter().find(|b| b.name == board) else {
        fail(&format!(
            "unknown MINNOW_BOARD={board:?}; known boards: {names:?}"
        ));
    };
    let (board_target, core) = (spec.target, spec.core_name);
    if target != board_target {
        fail(&format!(
            "MINNOW_BOARD={board} needs --target {board_target}, but this build is for {target}"
        ));
    }

    // memory.x for cortex-m-rt's link.x
    let memory = manifest_dir.join("memory").join(format!("{board}.x"));
    println!("cargo::rerun-if-changed={}", memory.display());
    if let Err(e) = fs::copy(&memory, out_dir.join("memory.x")) {
        fail(&format!("cannot copy {}: {e}", memory.display()));
    }
    println!("cargo::rustc-link-search={}", out_dir.display());
    println!("cargo::rustc-cfg=minnow_board=\"{board}\"");
    println!("cargo::rustc-env=MINNOW_BOARD={board}");
    println!("cargo::rustc-env=MINNOW_CORE={core}");
    let qemu = env::var_os("CARGO_FEATURE_QEMU").is_some();
    // Real boards other than ARMv6-M time with DWT CYCCNT; QEMU does not model it (SysTick).
    if !qemu && !target.starts_with("thumbv6m") {
        println!("cargo::rustc-cfg=minnow_dwt");
    }

    if env::var_os("CARGO_FEATURE_HARDWARE").is_some() {
        println!("cargo::rustc-link-arg=-Tdefmt.x");
    }

    // The kernel benchmark's CMSIS-NN comparison: the static library (lib<name>.a) that
    // scripts/kernel-bench.sh built from bench/cmsis-nn with arm-none-eabi-gcc. Only
    // minnow-kernel-bench calls into it; the linker takes nothing from it for the other binaries.
    println!("cargo::rustc-check-cfg=cfg(minnow_cmsis_nn)");
    println!("cargo::rerun-if-env-changed=MINNOW_CMSIS_NN_LIB");
    let bench = env::var_os("CARGO_FEATURE_KERNEL_BENCH").is_some();
    if let Some(lib) = env::var_os("MINNOW_CMSIS_NN_LIB").filter(|l| bench && !l.is_empty()) {
        let lib = PathBuf::from(lib);
        println!("cargo::rerun-if-changed={}", lib.display());
        let name = lib
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(|n| n.strip_prefix("lib")?.strip_suffix(".a"));
        let (Some(dir), Some(name)) = (lib.parent().filter(|_| lib.is_file()), name) else {
            fail(&format!(
                "MINNOW_CMSIS_NN_LIB={} is not a static library lib<name>.a",
                lib.display()
            ));
        };
        println!("cargo::rustc-link-search=native={}", dir.display());
        println!("cargo::rustc-link-lib=static={name}");
        println!("cargo::rustc-cfg=minnow_cmsis_nn");
    }

    let student = model_file(&manifest_dir, "MINNOW_STUDENT", "student.bin");
    let golden = model_file(&manifest_dir, "MINNOW_GOLDEN", "golden.bin");
    println!("cargo::rustc-env=MINNOW_STUDENT_PATH={}", student.display());
    println!("cargo::rustc-env=MINNOW_GOLDEN_PATH={}", golden.display());

    let (flash_origin, flash_len) = region(&memory, "FLASH");
    let (ram_origin, ram_len) = region(&memory, "RAM");
    let consts = model_consts(&board, &student, &golden, flash_len, ram_len);
    let factor = units_per_tick_x1000(spec.runner, qemu);
    let consts = format!(
        "{consts}/// Instructions (QEMU) or cycles (hardware) per SysTick tick, x1000.\n\
         pub const UNITS_PER_TICK_X1000: u32 = {factor};\n\
         /// Board memory (from memory/{board}.x).\n\
         pub const FLASH_ORIGIN: u32 = {flash_origin:#x};\n\
         pub const FLASH_LEN: u32 = {flash_len:#x};\n\
         pub const RAM_ORIGIN: u32 = {ram_origin:#x};\n\
         pub const RAM_LEN: u32 = {ram_len:#x};\n"
    );
    if let Err(e) = fs::write(out_dir.join("model_consts.rs"), consts) {
        fail(&format!("cannot write model_consts.rs: {e}"));
    }
}

/// RAM kept free for the stack and the firmware's own statics when checking that the scratch
/// buffer fits (measured: the stack peaks below 1.5 KiB, other statics are < 100 bytes).
const RAM_RESERVE: u64 = 3 * 1024;
/// Flash kept for the code when checking that the blobs fit (the runtime is < 16 KiB).
const FLASH_RESERVE: u64 = 24 * 1024;

/// Decodes the blobs with minnow-core and returns the Rust source of the size constants.
fn model_consts(
    board: &str,
    student: &Path,
    golden: &Path,
    flash_len: u64,
    ram_len: u64,
) -> String {
    let read = |p: &Path| {
        fs::read(p).unwrap_or_else(|e| fail(&format!("cannot read {}: {e}", p.display())))
    };
    let sbytes = read(student);
    let gbytes = read(golden);
    let blobs = (sbytes.len() + gbytes.len()) as u64;
    if blobs + FLASH_RESERVE > flash_len {
        fail(&format!(
            "student ({} bytes) + golden vectors ({} bytes) + ~{} KiB of code do not fit the \
             {} KiB of flash of {board}: export fewer golden vectors (or a smaller student)",
            sbytes.len(),
            gbytes.len(),
            FLASH_RESERVE / 1024,
            flash_len / 1024
        ));
    }
    let mut layer_macs = Vec::new();
    let mut layer_kinds = Vec::new();
    // The layer kinds the firmware links kernels for: those of the student, or every kind when
    // it does not decode (so the device reports the real decode error, not a missing op).
    let mut ops = minnow_core::layer::ops::ALL;
    let (scratch, input_len, classes, macs, weight_bytes, layers, ok) =
        match minnow_core::Student::decode(&sbytes) {
            Ok(s) => {
                ops = 0;
                for (i, layer) in s.layers().enumerate() {
                    let layer = layer.unwrap_or_else(|e| fail(&format!("layer {i}: {e}")));
                    let shapes = s
                        .layer_shapes(i)
                        .unwrap_or_else(|| fail(&format!("layer {i}: no shapes")));
                    let out = shapes.output.len() as u64;
                    let macs = match layer {
                        minnow_core::Layer::Dense(_) => shapes.input.len() as u64 * out,
                        minnow_core::Layer::Conv2d(c) => {
                            out * u64::from(c.kernel_h)
                                * u64::from(c.kernel_w)
                                * u64::from(shapes.input.channels)
                        }
                        minnow_core::Layer::DepthwiseConv2d(c) => {
                            out * u64::from(c.kernel_h) * u64::from(c.kernel_w)
                        }
                        _ => 0,
                    };
                    layer_macs.push(macs.to_string());
                    layer_kinds.push(format!("{:?}", layer.kind()));
                    ops |= layer.op();
                }
                (
                    s.scratch_len(),
                    s.input_len(),
                    s.classes(),
                    s.footprint().macs,
                    s.footprint().weight_bytes,
                    s.layer_count(),
                    true,
                )
            }
            Err(e) => {
                println!(
                    "cargo::warning=the embedded student {} does not decode ({e}); the firmware \
                     will report this on the device and fail",
                    student.display()
                );
                (0, 0, 0, 0, 0, 0, false)
            }
        };
    // The size probe's one input and the logits expected for it: golden vector 0.
    let mut probe: Option<(Vec<i8>, Vec<i8>)> = None;
    match minnow_core::GoldenVectors::decode(&gbytes) {
        Ok(g) if ok && (g.input_len as usize != input_len || usize::from(g.classes) != classes) => {
            println!(
                "cargo::warning=golden vectors ({} inputs x {}, {} classes) do not match the \
                 student (input {input_len}, {classes} classes): the device will fail",
                g.count, g.input_len, g.classes
            );
        }
        Ok(g) => {
            // Only with a student that decodes (and matches, checked above): the arrays' lengths
            // are the student's INPUT_LEN and CLASSES.
            if let (true, Ok(input), Ok(logits)) = (ok, g.input(0), g.expected(0)) {
                probe = Some((input.to_vec(), logits.to_vec()));
            }
        }
        Err(e) => println!(
            "cargo::warning=the golden vectors {} do not decode ({e}); the device will fail",
            golden.display()
        ),
    }
    let need = (scratch + classes) as u64 + RAM_RESERVE;
    if need > ram_len {
        fail(&format!(
            "the student needs {scratch} bytes of activation scratch; with the stack and \
             statics reserve ({RAM_RESERVE} bytes) that is {need} bytes, more than the {} bytes \
             of RAM of {board}",
            ram_len
        ));
    }
    let (probe_input, probe_logits) =
        probe.unwrap_or_else(|| (vec![0; input_len], vec![0; classes]));
    let list = |v: &[i8]| v.iter().map(i8::to_string).collect::<Vec<_>>().join(", ");
    format!(
        "/// Generated by build.rs from the embedded student.\n\
         /// Golden vector 0 (input, expected logits) for minnow-size-probe.\n\
         pub const PROBE_INPUT: [i8; {input_len}] = [{}];\n\
         pub const PROBE_LOGITS: [i8; {classes}] = [{}];\n\
         pub const STUDENT_DECODES_AT_BUILD: bool = {ok};\n\
         /// The student's layer kinds (a minnow_core::layer::ops set): only their kernels link.\n\
         pub const OPS: u8 = {ops:#04x};\n\
         pub const SCRATCH_LEN: usize = {scratch};\n\
         pub const INPUT_LEN: usize = {input_len};\n\
         pub const CLASSES: usize = {classes};\n\
         pub const MACS: u32 = {macs};\n\
         pub const WEIGHT_BYTES: u32 = {weight_bytes};\n\
         pub const LAYERS: usize = {layers};\n\
         pub const LAYER_MACS: [u32; {layers}] = [{}];\n\
         pub const LAYER_KINDS: [&str; {layers}] = [{}];\n",
        list(&probe_input),
        list(&probe_logits),
        layer_macs.join(", "),
        layer_kinds.join(", ")
    )
}

/// `(ORIGIN, LENGTH)` of the memory region `name` in a memory.x (`ORIGIN = 0x.., LENGTH = 256K`).
fn region(memory: &Path, name: &str) -> (u64, u64) {
    let text = fs::read_to_string(memory).unwrap_or_default();
    let line = text
        .lines()
        .find(|l| l.trim_start().starts_with(name) && l.contains("ORIGIN"))
        .unwrap_or_else(|| fail(&format!("{}: no {name} region", memory.display())));
    let field = |key: &str| -> u64 {
        let v = line
            .split(key)
            .nth(1)
            .and_then(|r| r.split(['=', ',']).map(str::trim).find(|t| !t.is_empty()))
            .unwrap_or_else(|| fail(&format!("{}: {name} has no {key}", memory.display())));
        let (digits, mult) = match v.as_bytes().last() {
            Some(b'K') => (&v[..v.len() - 1], 1024),
            Some(b'M') => (&v[..v.len() - 1], 1024 * 1024),
            _ => (v, 1),
        };
        let n = match digits.strip_prefix("0x") {
            Some(h) => u64::from_str_radix(h, 16),
            None => digits.parse(),
        };
        n.unwrap_or_else(|_| fail(&format!("{}: cannot read {key} {v:?}", memory.display()))) * mult
    };
    (field("ORIGIN"), field("LENGTH"))
}

/// The file named by env var `var`, else `model/<fallback>`; absent → a build error that says how
/// to provide it.
fn model_file(manifest_dir: &Path, var: &str, fallback: &str) -> PathBuf {
    let default = manifest_dir.join("model").join(fallback);
    let path = match env::var_os(var) {
        Some(p) if !p.is_empty() => {
            let p = PathBuf::from(p);
            // Relative paths are taken from the firmware directory (cargo runs build.rs there).
            if p.is_relative() {
                manifest_dir.join(p)
            } else {
                p
            }
        }
        _ => default.clone(),
    };
    if !path.is_file() {
        fail(&format!(
            "the firmware embeds {var}: {} does not exist.\n\
             Set {var}=/path/to/file (relative paths are from firmware/) or put the file at {}.",
            path.display(),
            default.display()
        ));
    }
    println!("cargo::rerun-if-changed={}", path.display());
    path.canonicalize().unwrap_or(path)
}
