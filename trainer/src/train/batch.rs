//! A training batch's inputs: the raw samples of the batch's indices, shifted by up to
//! `jitter` pixels and moved by Gaussian noise (input augmentation), then normalised.

use crate::data::{Dataset, Standardizer};
use crate::error::{Error, Result};
use crate::rng::Rng;

/// Refuses a jitter that shifts every sample of `shape` out of its frame.
pub fn check_jitter(jitter: usize, [h, w, _]: [usize; 3]) -> Result<()> {
    if jitter > 0 && jitter >= h.max(w) {
        return Err(Error::Config(format!(
            "jitter {jitter}: the samples are {h}x{w}, so a shift of {jitter} pixels moves every \
             one out of its frame; use at most {}",
            h.max(w) - 1
        )));
    }
    Ok(())
}

/// Shifts one raw `[h, w, c]` sample by `(dy, dx)` pixels, filling with zeros.
fn shift(sample: &[f32], [h, w, c]: [usize; 3], dy: isize, dx: isize, out: &mut [f32]) {
    for y in 0..h {
        for x in 0..w {
            let (sy, sx) = (y as isize - dy, x as isize - dx);
            let inside = sy >= 0 && sx >= 0 && (sy as usize) < h && (sx as usize) < w;
            for ch in 0..c {
                out[(y * w + x) * c + ch] = if inside {
                    sample[(sy as usize * w + sx as usize) * c + ch]
                } else {
                    0.0
                };
            }
        }
    }
}

/// The raw features of `idx`, jittered by up to `jitter` pixels when `jitter > 0` (two draws
/// of `rng` per sample: the vertical shift, then the horizontal one).
pub fn gather(data: &Dataset, idx: &[usize], jitter: usize, rng: &mut Rng) -> Vec<f32> {
    let dim = data.dim();
    let mut out = vec![0.0f32; idx.len() * dim];
    for (k, &i) in idx.iter().enumerate() {
        let dst = &mut out[k * dim..(k + 1) * dim];
        if jitter == 0 {
            dst.copy_from_slice(data.sample(i));
        } else {
            let span = 2 * jitter + 1;
            let dy = rng.below(span) as isize - jitter as isize;
            let dx = rng.below(span) as isize - jitter as isize;
            shift(data.sample(i), data.shape, dy, dx, dst);
        }
    }
    out
}

/// Adds Gaussian noise of `noise` standardised units to every raw value of `batch` (whole
/// samples): value `j` moves by `noise * std_j`, so that after normalisation it is `noise` in
/// every feature, whatever the feature's scale. No draws when `noise` is 0, so runs without
/// noise keep their random streams.
pub fn add_noise(batch: &mut [f32], noise: f32, norm: &Standardizer, rng: &mut Rng) {
    if noise == 0.0 {
        return;
    }
    for (j, x) in batch.iter_mut().enumerate() {
        *x += noise * norm.std_of(j) * rng.normal();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Noise is in standardised units: after normalisation, every feature's perturbation has
    /// the asked-for standard deviation, whether the feature spans 1e-3 or 1e4.
    #[test]
    fn noise_is_in_standardised_units() {
        let norm = Standardizer::per_value(vec![0.0, 5.0], vec![1e-3, 1e4]);
        let n = 20_000;
        let clean: Vec<f32> = (0..n).flat_map(|_| [0.0, 5.0]).collect();
        let mut noisy = clean.clone();
        add_noise(&mut noisy, 0.5, &norm, &mut Rng::new(7));
        for feature in 0..2 {
            let z: Vec<f64> = (0..n)
                .map(|i| f64::from(norm.apply(feature, noisy[2 * i + feature])))
                .collect();
            let mean = z.iter().sum::<f64>() / n as f64;
            let var = z.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n as f64;
            assert!(mean.abs() < 0.02, "feature {feature}: mean {mean}");
            assert!(
                (var.sqrt() - 0.5).abs() < 0.02,
                "feature {feature}: std {}",
                var.sqrt()
            );
        }
        let mut same = clean.clone();
        let mut rng = Rng::new(7);
        add_noise(&mut same, 0.0, &norm, &mut rng);
        assert_eq!(same, clean);
        assert_eq!(
            rng.next_u64(),
            Rng::new(7).next_u64(),
            "no draws without noise"
        );
    }

    #[test]
    fn shifts_fill_with_zeros_and_keep_channels() {
        // 2x3 image, 2 channels: value = 10 * pixel + channel.
        let img: Vec<f32> = (0..6)
            .flat_map(|p| [10.0 * p as f32, 10.0 * p as f32 + 1.0])
            .collect();
        let mut out = vec![-1.0; 12];
        shift(&img, [2, 3, 2], 0, 1, &mut out);
        assert_eq!(
            out,
            [
                0.0, 0.0, 0.0, 1.0, 10.0, 11.0, 0.0, 0.0, 30.0, 31.0, 40.0, 41.0
            ]
        );
        shift(&img, [2, 3, 2], -1, 0, &mut out);
        assert_eq!(&out[..6], &img[6..]);
        assert!(out[6..].iter().all(|&v| v == 0.0));
    }
}
