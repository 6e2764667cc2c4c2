//! Kernel benchmark: runs each of minnow-core's int8 kernels directly on fixed shapes, and whole
//! students, in QEMU, and prints their instruction counts. `scripts/kernel-bench.sh` builds and
//! runs it (firmware/README.md, "Kernel benchmark").
//!
//! The shapes come from `MINNOW_BENCH_SUITE` at build time: blobs back to back, each student
//! followed by one golden vector (`minnow-fw-testgen kernels`, firmware/testgen/src/models.rs).
//! A student of one layer is a kernel: it is called directly (`kernels::*`, the work alone),
//! then the same layer runs as a student (`Student::run`: decoding the layer from the blob,
//! shape resolution and dispatch included, as inside a model), shape name + `+layer`, then
//! through a plan (`Student::plan`: the layer decoded once, as an application that keeps a plan
//! runs it), `+plan`. A student of several layers is timed whole. Every output is compared with
//! the host's, bit for bit.
//!
//! Students named `check-*` are small shapes that take the kernels' other paths (tails, odd
//! counts, strides, padding, positive shifts): they are only checked, one `check` line each.
//!
//! Output, one line per shape (instructions = SysTick ticks x the board's instructions per tick
//! under `-icount shift=0`, averaged over repeated runs, `MIN_TICKS`; `per_mac` is `-` for
//! layers without MACs):
//!
//! ```text
//! kernel-bench board=mps2-an386 core=Cortex-M4F shapes=.. plan_step_bytes=..
//! board=mps2-an386 shape=conv14x14x16x32 macs=903168 instructions=.. per_mac=2.88
//! board=mps2-an386 shape=conv14x14x16x32+layer macs=903168 instructions=.. per_mac=2.88
//! board=mps2-an386 shape=conv14x14x16x32+plan macs=903168 instructions=.. per_mac=2.88
//! board=mps2-an386 shape=maxpool-total macs=0 instructions=.. per_mac=-      (every max pool)
//! check board=mps2-an386 shape=check-dense13x7 outputs=7 exact=yes          (checks only)
//! skipped board=microbit shape=cnn29k needs=.. arena=..                    (too big for RAM)
//! mismatch board=.. shape=.. index=.. expected=.. got=..
//! verdict=PASS | verdict=FAIL mismatches=..
//! ```
//!
//! Built with CMSIS-NN (MINNOW_CMSIS_NN_LIB, `common/cmsis_nn.rs`), each shape but the checks
//! also runs through ARM's kernels, on the same weights and input, with one more line:
//!
//! ```text
//! cmsis-nn board=.. shape=conv14x14x16x32 macs=.. instructions=.. per_mac=2.18 minnow_per_mac=2.05 ratio=0.94 ratio_layer=0.94 same_output=yes
//! ```
//!
//! Feature `qemu` and `kernel-bench` only. It exits with success only if every output matched.
#![no_std]
#![no_main]

use cortex_m_rt::entry;
use cortex_m_semihosting::hprintln;
use minnow_core::{GoldenVectors, Layer, Shape, Student, kernels};

#[path = "common/exit.rs"]
mod exit;
use exit::exit;

#[allow(dead_code)]
mod consts {
    include!(concat!(env!("OUT_DIR"), "/model_consts.rs"));
}

#[allow(dead_code)]
#[path = "../clock.rs"]
mod clock;

/// CMSIS-NN side by side (build.rs sets `minnow_cmsis_nn` when MINNOW_CMSIS_NN_LIB names the
/// library scripts/kernel-bench.sh built).
#[cfg(minnow_cmsis_nn)]
#[path = "common/cmsis_nn.rs"]
mod cmsis_nn;

#[repr(C, align(4))]
struct Aligned<T: ?Sized>(T);
static SUITE: &Aligned<[u8]> = &Aligned(*include_bytes!(env!("MINNOW_BENCH_SUITE")));

/// RAM for outputs, patches and scratch: the board's RAM less 2 KiB for the stack and the other
/// statics (the benchmark's stack stays below 1 KiB), at most 32 KiB (the largest shape needs
/// less than 20 KiB). Shapes that need more are skipped with a `skipped` line.
const ARENA_LEN: usize = {
    let free = consts::RAM_LEN as usize - 2048;
    if free < 32 * 1024 { free } else { 32 * 1024 }
};
static mut ARENA: [i8; ARENA_LEN] = [0; ARENA_LEN];

/// Each measurement repeats its run until this many SysTick ticks have passed (and at least
/// twice): one run is quantised to a tick (40 instructions on the M4), so the average over
/// 2,000 ticks is exact to 0.05%.
const MIN_TICKS: u64 = 2_000;

const BOARD: &str = env!("MINNOW_BOARD");
const CORE: &str = env!("MINNOW_CORE");

/// The next blob of the suite and the rest: a blob is its 16-byte header plus `body_len`
/// (header bytes 8..12) bytes. `None` at the end or on a length that does not fit.
fn next_blob(suite: &[u8]) -> Option<(&[u8], &[u8])> {
    let len = u32::from_le_bytes(suite.get(8..12)?.try_into().ok()?) as usize;
    let end = 16_usize.checked_add(len)?;
    (end <= suite.len()).then(|| suite.split_at(end))
}

/// Instructions (QEMU) of `f`, averaged over repeated runs (see [`MIN_TICKS`]).
fn measure(mut f: impl FnMut()) -> u64 {
    let (mut ticks, mut runs) = (0_u64, 0_u64);
    while runs < 2 || ticks < MIN_TICKS {
        let start = clock::now();
        f();
        ticks += u64::from(clock::elapsed(start, clock::now()));
        runs += 1;
    }
    (clock::units(ticks) + runs / 2) / runs
}

fn report(shape: &str, suffix: &str, macs: u64, instructions: u64) {
    if shape.starts_with("check-") {
        // Exactness checks: their figures say nothing (tiny shapes), only that they matched.
        return;
    }
    if macs == 0 {
        hprintln!(
            "board={} shape={}{} macs=0 instructions={} per_mac=-",
            BOARD,
            shape,
            suffix,
            instructions
        );
    } else {
        let x100 = (instructions * 100 + macs / 2) / macs;
        hprintln!(
            "board={} shape={}{} macs={} instructions={} per_mac={}.{:02}",
            BOARD,
            shape,
            suffix,
            macs,
            instructions,
            x100 / 100,
            x100 % 100
        );
    }
}

/// Compares an output with the host's; prints the first differing value.
fn check(shape: &str, expected: &[i8], got: &[i8]) -> bool {
    match expected.iter().zip(got).position(|(e, g)| e != g) {
        None if expected.len() == got.len() => true,
        None => {
            hprintln!("mismatch board={} shape={} lengths differ", BOARD, shape);
            false
        }
        Some(i) => {
            hprintln!(
                "mismatch board={} shape={} index={} expected={} got={}",
                BOARD,
                shape,
                i,
                expected[i],
                got[i]
            );
            false
        }
    }
}

/// The one kernel a layer runs, called directly.
#[allow(clippy::too_many_arguments)]
fn kernel(
    layer: &Layer<'_>,
    in_shape: Shape,
    in_zp: i8,
    input: &[i8],
    out_shape: Shape,
    patch: &mut [i8],
    out: &mut [i8],
) {
    match layer {
        Layer::Dense(d) => kernels::dense(d, input, out),
        Layer::Conv2d(c) => kernels::conv2d(c, in_shape, in_zp, input, out_shape, patch, out),
        Layer::DepthwiseConv2d(c) => {
            kernels::depthwise_conv2d(c, in_shape, in_zp, input, out_shape, out)
        }
        Layer::MaxPool2d(p) => kernels::max_pool2d(&p.rect(), in_shape, input, out_shape, out),
        Layer::AvgPool2d(p) => kernels::avg_pool2d(&p.rect(), in_shape, input, out_shape, out),
        Layer::MaxPool2dRect(p) => kernels::max_pool2d(p, in_shape, input, out_shape, out),
        Layer::AvgPool2dRect(p) => kernels::avg_pool2d(p, in_shape, input, out_shape, out),
        Layer::Flatten => {}
    }
}

/// What [`bench`] measured of a shape: whether every output matched, and the max pools'
/// instructions (minnow's and, with CMSIS-NN side by side, CMSIS-NN's) for `maxpool-total`.
#[derive(Default)]
struct Outcome {
    ok: bool,
    pooled: u64,
    pooled_layer: u64,
    cmsis_pooled: u64,
}

/// Benchmarks one student and its golden vector. Students named `check-*` are only checked
/// (one `check` line, no figures).
fn bench(student: &Student<'_>, golden: &GoldenVectors<'_>, arena: &mut [i8]) -> Outcome {
    let name = student.meta().name;
    let (Ok(input), Ok(expected)) = (golden.input(0), golden.expected(0)) else {
        hprintln!("mismatch board={} shape={} no golden vector", BOARD, name);
        return Outcome::default();
    };
    let macs = u64::from(student.footprint().macs);
    let classes = student.classes();
    let mut ok = true;
    let mut pooled = 0;
    let mut kernel_instructions = 0;
    // The one layer of a one-layer student, called directly.
    let single = match (student.layer_count(), student.layers().next()) {
        (1, Some(Ok(layer))) => Some(layer),
        _ => None,
    };
    if let (Some(layer), Some(shapes)) = (single, student.layer_shapes(0)) {
        let patch_len = match &layer {
            Layer::Conv2d(c) => kernels::conv2d_patch_len(c, shapes.input),
            _ => 0,
        };
        let need = classes + patch_len;
        if !fits(name, need, arena) {
            return Outcome {
                ok: true,
                ..Outcome::default()
            };
        }
        let (out, rest) = arena.split_at_mut(classes);
        let zp = student.meta().input.zero_point;
        let instructions = measure(|| {
            kernel(
                &layer,
                shapes.input,
                zp,
                input,
                shapes.output,
                &mut rest[..patch_len],
                out,
            )
        });
        ok &= check(name, expected, out);
        report(name, "", macs, instructions);
        if matches!(layer, Layer::MaxPool2d(_)) {
            pooled = instructions;
        }
        kernel_instructions = instructions;
    }
    // The student as a whole (a one-layer one: its layer with the run's overhead).
    let need = classes + student.scratch_len();
    if !fits(name, need, arena) {
        return Outcome {
            ok,
            pooled,
            ..Outcome::default()
        };
    }
    let (logits, scratch) = arena.split_at_mut(classes);
    let mut run = Ok(());
    let instructions = measure(|| run = student.run(input, scratch, logits));
    if let Err(e) = run {
        hprintln!("mismatch board={} shape={} run failed: {}", BOARD, name, e);
        return Outcome {
            pooled,
            ..Outcome::default()
        };
    }
    ok &= check(name, expected, logits);
    let suffix = if single.is_some() { "+layer" } else { "" };
    report(name, suffix, macs, instructions);
    // A one-layer student again through a plan (its layer decoded once, `Student::plan`):
    // what an application that keeps a plan pays per inference.
    if single.is_some() {
        match student.plan::<1>() {
            Ok(plan) => {
                logits.fill(0);
                let instructions = measure(|| run = plan.run(input, scratch, logits));
                ok &= run.is_ok() && check(name, expected, logits);
                report(name, "+plan", macs, instructions);
            }
            Err(e) => {
                hprintln!("mismatch board={} shape={} plan failed: {}", BOARD, name, e);
                ok = false;
            }
        }
    }
    if name.starts_with("check-") {
        let exact = if ok { "yes" } else { "no" };
        hprintln!(
            "check board={} shape={} outputs={} exact={}",
            BOARD,
            name,
            classes,
            exact
        );
    }
    let mut outcome = Outcome {
        ok,
        pooled,
        pooled_layer: if pooled > 0 { instructions } else { 0 },
        cmsis_pooled: 0,
    };
    #[cfg(minnow_cmsis_nn)]
    if !name.starts_with("check-") {
        let minnow = cmsis_nn::Minnow {
            kernel: if single.is_some() {
                kernel_instructions
            } else {
                instructions
            },
            layer: instructions,
        };
        if single.is_some() {
            let cmsis = cmsis_nn::bench_one(student, input, expected, arena, &minnow);
            if pooled > 0 {
                outcome.cmsis_pooled = cmsis;
            }
        } else {
            cmsis_nn::bench_student(student, input, expected, arena, &minnow);
        }
    }
    #[cfg(not(minnow_cmsis_nn))]
    let _ = (kernel_instructions, &mut outcome);
    outcome
}

/// Whether `need` bytes fit in `arena`; prints the `skipped` line of shape `name` if not.
fn fits(name: &str, need: usize, arena: &[i8]) -> bool {
    let fits = need <= arena.len();
    if !fits {
        hprintln!(
            "skipped board={} shape={} needs={} arena={}",
            BOARD,
            name,
            need,
            arena.len()
        );
    }
    fits
}

#[entry]
fn main() -> ! {
    let mut cp = cortex_m::Peripherals::take().unwrap_or_else(|| exit(false));
    clock::start(&mut cp);

    let mut rest: &[u8] = &SUITE.0;
    let mut shapes = 0;
    while let Some((_, tail)) = next_blob(rest) {
        rest = tail;
        shapes += 1;
    }
    hprintln!(
        "kernel-bench board={} core={} shapes={} plan_step_bytes={}",
        BOARD,
        CORE,
        shapes / 2,
        core::mem::size_of::<minnow_core::Step<'_>>()
    );
    // SAFETY: the only reference to ARENA, taken once in `main`, which never returns.
    let arena: &mut [i8] = unsafe { &mut *core::ptr::addr_of_mut!(ARENA) };
    let (mut mismatches, mut pools, mut pools_layer, mut cmsis_pools) = (0, 0, 0, 0);
    let mut rest: &[u8] = &SUITE.0;
    while let Some((student, tail)) = next_blob(rest) {
        let Some((golden, tail)) = next_blob(tail) else {
            hprintln!("error: the suite ends with a student without its golden vector");
            exit(false)
        };
        rest = tail;
        let (student, golden) = match (Student::decode(student), GoldenVectors::decode(golden)) {
            (Ok(s), Ok(g)) => (s, g),
            (Err(e), _) | (_, Err(e)) => {
                hprintln!("error: a suite blob does not decode: {}", e);
                exit(false)
            }
        };
        let outcome = bench(&student, &golden, arena);
        mismatches += usize::from(!outcome.ok);
        pools += outcome.pooled;
        pools_layer += outcome.pooled_layer;
        cmsis_pools += outcome.cmsis_pooled;
    }
    report("maxpool-total", "", 0, pools);
    #[cfg(minnow_cmsis_nn)]
    if cmsis_pools > 0 {
        let minnow = cmsis_nn::Minnow {
            kernel: pools,
            layer: pools_layer,
        };
        cmsis_nn::total("maxpool-total", cmsis_pools, &minnow);
    }
    #[cfg(not(minnow_cmsis_nn))]
    let _ = (pools_layer, cmsis_pools);
    if mismatches == 0 {
        hprintln!("verdict=PASS");
        exit(true)
    } else {
        hprintln!("verdict=FAIL mismatches={}", mismatches);
        exit(false)
    }
}
