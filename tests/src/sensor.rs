//! A synthetic sensor set for the 1-D CNN journeys (issue #15): windows of a 3-axis
//! accelerometer, 128 samples at 50 Hz (2.56 s), in six activity classes made of
//! class-specific waveforms (gravity on z, a step rhythm and its harmonics, a lean) with a
//! random phase, rate and amplitude per window, plus noise. Up- and downstairs differ only in
//! the sign of a harmonic and a small lean: a model must look at the shape of the wave, not at
//! its energy alone. Deterministic for a seed; written as NPY `(N, 128, 3)` float32 features
//! and `(N,)` uint8 labels, the layout `minnow ... --npy F L --shape 128,1,3` reads.
//! `cargo run -p minnow-tests --bin sensor-set -- DIR` writes it for the commands in
//! docs/results.md.

use std::f32::consts::{FRAC_PI_2, TAU};
use std::path::{Path, PathBuf};

use minnow::data::npy_format::write_header;
use minnow::rng::Rng;

/// The classes, in label order.
pub const CLASSES: [&str; 6] = ["still", "walk", "run", "upstairs", "downstairs", "jump"];
/// Samples per window.
pub const STEPS: usize = 128;
/// Axes per sample (x, y, z).
pub const AXES: usize = 3;
const RATE_HZ: f32 = 50.0;
/// Standard deviation of the sensor noise, in g.
const NOISE: f32 = 0.3;

/// One window of `class` as `STEPS` rows of `AXES` values (row-major, as NPY `(T, C)`).
pub fn window(class: usize, rng: &mut Rng) -> Vec<f32> {
    // Per window: the step rate within +-10 % of the class's, a phase, an amplitude within
    // +-20 %, and a sway phase.
    let (base_hz, amp) = match class {
        0 => (8.0, 0.02),
        1 => (1.8, 0.35),
        2 => (2.8, 0.9),
        3 => (1.5, 0.4),
        4 => (1.6, 0.45),
        _ => (1.0, 1.8),
    };
    let hz = base_hz * (0.9 + 0.2 * rng.uniform());
    let amp = amp * (0.8 + 0.4 * rng.uniform());
    let (phase, sway) = (TAU * rng.uniform(), TAU * rng.uniform());
    let mut out = Vec::with_capacity(STEPS * AXES);
    for step in 0..STEPS {
        let t = step as f32 / RATE_HZ;
        let th = TAU * hz * t + phase;
        let half = 0.5 * TAU * hz * t + sway;
        let [x, y, z] = match class {
            // still: gravity and a faint tremor
            0 => [amp * th.sin(), 0.0, 1.0],
            // walk: vertical bounce, sideways sway at half the step rate
            1 => [
                0.2 * half.sin(),
                0.15 * (th + FRAC_PI_2).sin(),
                1.0 + amp * th.sin(),
            ],
            // run: a stronger bounce with a harmonic
            2 => [
                0.4 * half.sin(),
                0.3 * (th + FRAC_PI_2).sin(),
                1.0 + amp * th.sin() + 0.3 * (2.0 * th).sin(),
            ],
            // upstairs: a forward lean, the harmonic in one phase
            3 => [
                0.15 * half.sin(),
                0.05 + 0.2 * th.sin(),
                1.0 + amp * th.sin() + 0.12 * (2.0 * th + FRAC_PI_2).sin(),
            ],
            // downstairs: a backward lean, the harmonic in the opposite phase
            4 => [
                0.15 * half.sin(),
                -0.05 + 0.2 * th.sin(),
                1.0 + amp * th.sin() - 0.12 * (2.0 * th + FRAC_PI_2).sin(),
            ],
            // jump: short peaks at take-off and landing, weightless between
            _ => [
                0.1 * half.sin(),
                0.05 * th.sin(),
                1.0 + amp * th.sin().max(0.0).powi(6) - 0.6 * (-th.sin()).max(0.0),
            ],
        };
        for v in [x, y, z] {
            out.push(v + NOISE * rng.normal());
        }
    }
    out
}

/// `per_class` windows of each class, interleaved (class 0, 1, ..., 5, 0, ...), from `seed`:
/// the features (`N * STEPS * AXES` values) and the labels.
pub fn generate(per_class: usize, seed: u64) -> (Vec<f32>, Vec<u8>) {
    let mut rng = Rng::new(seed);
    let (mut features, mut labels) = (Vec::new(), Vec::new());
    for _ in 0..per_class {
        for (class, label) in (0..CLASSES.len()).zip(0u8..) {
            features.extend(window(class, &mut rng));
            labels.push(label);
        }
    }
    (features, labels)
}

/// Writes [`generate`]'s set into `dir` as `sensor_x.npy` `(N, 128, 3)` float32 and
/// `sensor_y.npy` `(N,)` uint8; returns their paths.
pub fn write_npy(dir: &Path, per_class: usize, seed: u64) -> std::io::Result<(PathBuf, PathBuf)> {
    let (features, labels) = generate(per_class, seed);
    let n = labels.len();
    let mut x = write_header("<f4", &[n, STEPS, AXES]);
    for v in features {
        x.extend_from_slice(&v.to_le_bytes());
    }
    let mut y = write_header("|u1", &[n]);
    y.extend_from_slice(&labels);
    std::fs::create_dir_all(dir)?;
    let (xp, yp) = (dir.join("sensor_x.npy"), dir.join("sensor_y.npy"));
    std::fs::write(&xp, x)?;
    std::fs::write(&yp, y)?;
    Ok((xp, yp))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The same seed gives the same bytes; the classes differ in their mean vertical energy
    /// in the expected order (still < walk < run), so the waveforms are what they claim.
    #[test]
    fn deterministic_and_distinct() {
        let (a, la) = generate(20, 3);
        let (b, lb) = generate(20, 3);
        assert_eq!((a.clone(), la.clone()), (b, lb));
        assert_ne!(generate(20, 4).0, a);
        let energy = |class: u8| {
            let mut sum = 0.0f64;
            let mut n = 0;
            for (i, &l) in la.iter().enumerate() {
                if l == class {
                    let w = &a[i * STEPS * AXES..(i + 1) * STEPS * AXES];
                    sum += w
                        .chunks(3)
                        .map(|s| f64::from((s[2] - 1.0).powi(2)))
                        .sum::<f64>();
                    n += STEPS;
                }
            }
            sum / n as f64
        };
        assert!(
            energy(0) < energy(1) && energy(1) < energy(2),
            "still < walk < run"
        );
    }
}
