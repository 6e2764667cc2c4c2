//! The input normalisation shared by trainer and device: one global mean and
//! standard deviation over all training features, `x' = (x - mean) / std`.

use serde::{Deserialize, Serialize};

use super::dataset::Dataset;
use super::error::DataError;

/// One global mean/std, fitted on the training set only. The blob stores it as minnow-core's
/// [`minnow_core::Normalization`], which the device applies.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Standardizer {
    pub mean: f32,
    pub std: f32,
}

impl Standardizer {
    /// Mean and population standard deviation (divide by N) of every
    /// feature value of `train`, accumulated in `f64` in two passes.
    ///
    /// Errors on an empty set, and when the standard deviation is 0 (or too
    /// small to be a normal `f32`), since the inputs would then carry no
    /// information and the division is undefined.
    pub fn fit(train: &Dataset) -> Result<Self, DataError> {
        let x = &train.features;
        if x.is_empty() {
            return Err(DataError::Invalid {
                name: train.name.clone(),
                reason: "cannot fit a normalisation on an empty dataset".to_owned(),
            });
        }
        let n = x.len() as f64;
        let mean = x.iter().map(|&v| f64::from(v)).sum::<f64>() / n;
        let var = x
            .iter()
            .map(|&v| (f64::from(v) - mean).powi(2))
            .sum::<f64>()
            / n;
        let std = var.sqrt();
        let std32 = std as f32;
        if !(std32.is_normal() && std32 > 0.0) {
            return Err(DataError::ZeroStd {
                name: train.name.clone(),
                mean: mean as f32,
                std,
            });
        }
        Ok(Self {
            mean: mean as f32,
            std: std32,
        })
    }

    /// `(x - mean) / std`, in `f32`, exactly as the device computes it.
    pub fn apply(&self, x: f32) -> f32 {
        (x - self.mean) / self.std
    }

    /// Every value of `raw` normalised (e.g. a dataset's features, same layout).
    pub fn apply_all(&self, raw: &[f32]) -> Vec<f32> {
        raw.iter().map(|&x| self.apply(x)).collect()
    }

    /// Normalises `xs` in place.
    pub fn apply_in_place(&self, xs: &mut [f32]) {
        for x in xs {
            *x = self.apply(*x);
        }
    }

    /// The inverse map, `x' * std + mean`.
    pub fn invert(&self, y: f32) -> f32 {
        y * self.std + self.mean
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::source::builtin_digits;

    #[test]
    fn fit_known_values() -> Result<(), DataError> {
        let d = Dataset::new(
            "four",
            vec![1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0],
            None,
            [2, 2, 1],
            0,
        )?;
        let n = Standardizer::fit(&d)?;
        assert_eq!(n.mean, 4.5);
        assert!((n.std - 5.25f32.sqrt()).abs() < 1e-6, "{}", n.std);
        let y = n.apply_all(&d.features);
        let mean: f32 = y.iter().sum::<f32>() / 8.0;
        let var: f32 = y.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / 8.0;
        assert!(
            mean.abs() < 1e-6 && (var - 1.0).abs() < 1e-5,
            "{mean} {var}"
        );
        assert_eq!(n.apply(4.5), 0.0);
        assert!((n.invert(n.apply(7.0)) - 7.0).abs() < 1e-6);
        let mut xs = [4.5f32, 1.0];
        n.apply_in_place(&mut xs);
        assert_eq!(xs, [n.apply(4.5), n.apply(1.0)]);

        // Digits: pixel values 0..16, mean ~4.9, std ~6.0.
        let n = Standardizer::fit(&builtin_digits()?)?;
        assert!(
            (4.0..6.0).contains(&n.mean) && (5.0..7.0).contains(&n.std),
            "{n:?}"
        );
        Ok(())
    }

    #[test]
    fn zero_std_and_empty() -> Result<(), DataError> {
        let flat = Dataset::new("flat", vec![3.0; 12], Some(vec![0, 1, 0]), [2, 2, 1], 2)?;
        let err = Standardizer::fit(&flat).err().ok_or(DataError::Invalid {
            name: "t".into(),
            reason: "accepted".into(),
        })?;
        assert!(matches!(err, DataError::ZeroStd { .. }), "{err}");
        assert!(err.to_string().contains("flat"), "{err}");
        let empty = flat.subset(&[]);
        assert!(matches!(
            Standardizer::fit(&empty),
            Err(DataError::Invalid { .. })
        ));
        Ok(())
    }
}
