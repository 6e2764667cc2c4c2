//! The input normalisation shared by trainer and device, `x' = (x - mean) / std`, with one
//! `(mean, std)` pair for the whole input, one per channel or one per input value
//! ([`NormScope`]). The student stores the pairs and the device applies them before quantizing
//! (minnow-core's `Normalization`), so each feature keeps its resolution in the int8 input: with
//! one pair for a table whose columns span 1e-3 and 1e4, the small columns fell below one input
//! step.

use serde::{Deserialize, Deserializer, Serialize};

use super::dataset::Dataset;
use super::error::DataError;
use crate::config::{Choice, choice_serde};

/// Over what a `(mean, std)` pair is computed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NormScope {
    /// One pair over every value.
    Global,
    /// One pair per channel (the last of `[height, width, channels]`).
    PerChannel,
    /// One pair per input value: a table's columns.
    PerValue,
}

impl Choice for NormScope {
    const ALL: &'static [(Self, &'static str, &'static str)] = &[
        (
            NormScope::Global,
            "global",
            "one mean and std over every input value",
        ),
        (
            NormScope::PerChannel,
            "per-channel",
            "one mean and std per channel (the default for images and multi-channel sequences)",
        ),
        (
            NormScope::PerValue,
            "per-value",
            "one mean and std per input value (the default for tables: each column its own)",
        ),
    ];
}
choice_serde!(NormScope);

impl NormScope {
    /// The default for samples of `shape`: per channel for images (height and width over 1;
    /// for one channel the same as global) and for sequences with channels (a sensor's axes);
    /// per value for tables (`1 x F x 1`), whose columns have their own scales.
    pub fn for_shape([h, w, c]: [usize; 3]) -> NormScope {
        if (h > 1 && w > 1) || c > 1 {
            NormScope::PerChannel
        } else {
            NormScope::PerValue
        }
    }
}

/// `(mean, std)` pairs fitted on the training split only.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Standardizer {
    /// One entry per pair. (Files before per-feature normalisation hold one number.)
    #[serde(deserialize_with = "one_or_many")]
    pub mean: Vec<f32>,
    #[serde(deserialize_with = "one_or_many")]
    pub std: Vec<f32>,
    /// Channels of a sample: which pair a value takes when there is one per channel.
    #[serde(default = "one")]
    pub channels: usize,
}

fn one() -> usize {
    1
}

/// A number or a list of numbers, as a list.
pub(crate) fn one_or_many<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<f32>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(f32),
        Many(Vec<f32>),
    }
    Ok(match OneOrMany::deserialize(d)? {
        OneOrMany::One(x) => vec![x],
        OneOrMany::Many(v) => v,
    })
}

impl Standardizer {
    /// One pair for everything.
    pub fn global(mean: f32, std: f32) -> Self {
        Standardizer {
            mean: vec![mean],
            std: vec![std],
            channels: 1,
        }
    }

    /// Fits the pairs of `scope` on `train` ([`NormScope::for_shape`] by default): means and
    /// population standard deviations (divide by N), accumulated in `f64` in two passes. A
    /// constant feature keeps std 1 (it carries nothing, and dividing by 0 is undefined); their
    /// indices are returned so the caller can say so. Errors on an empty set, and when every
    /// feature is constant.
    pub fn fit(train: &Dataset, scope: NormScope) -> Result<(Self, Vec<usize>), DataError> {
        let x = &train.features;
        let (dim, channels) = (train.dim(), train.shape[2]);
        if x.is_empty() || dim == 0 {
            return Err(DataError::Invalid {
                name: train.name.clone(),
                reason: "cannot fit a normalisation on an empty dataset".to_owned(),
            });
        }
        let pairs = match scope {
            NormScope::Global => 1,
            NormScope::PerChannel => channels,
            NormScope::PerValue => dim,
        };
        let of = |j: usize| pair_of(j, pairs, channels);
        let mut sum = vec![0f64; pairs];
        let mut count = vec![0f64; pairs];
        for (j, &v) in x.iter().enumerate() {
            sum[of(j)] += f64::from(v);
            count[of(j)] += 1.0;
        }
        let mean: Vec<f64> = sum.iter().zip(&count).map(|(s, n)| s / n).collect();
        let mut var = vec![0f64; pairs];
        for (j, &v) in x.iter().enumerate() {
            var[of(j)] += (f64::from(v) - mean[of(j)]).powi(2);
        }
        let std: Vec<f64> = var
            .iter()
            .zip(&count)
            .map(|(v, n)| (v / n).sqrt())
            .collect();
        let constant: Vec<usize> = (0..pairs)
            .filter(|&k| !((std[k] as f32).is_normal() && std[k] > 0.0))
            .collect();
        if constant.len() == pairs {
            return Err(DataError::ZeroStd {
                name: train.name.clone(),
                mean: mean[0] as f32,
                std: std[0],
            });
        }
        let std32 = (0..pairs)
            .map(|k| {
                if constant.contains(&k) {
                    1.0
                } else {
                    std[k] as f32
                }
            })
            .collect();
        let fitted = Standardizer {
            mean: mean.iter().map(|&m| m as f32).collect(),
            std: std32,
            channels,
        };
        Ok((fitted, constant))
    }

    /// One pair per value of a sample (tests build tables with known scales).
    #[cfg(test)]
    pub fn per_value(mean: Vec<f32>, std: Vec<f32>) -> Self {
        Standardizer {
            mean,
            std,
            channels: 1,
        }
    }

    /// The standard deviation of value `j` of a run of samples (the unit of input noise).
    pub fn std_of(&self, j: usize) -> f32 {
        self.std[pair_of(j, self.pairs(), self.channels)]
    }

    /// Number of pairs.
    pub fn pairs(&self) -> usize {
        self.mean.len().min(self.std.len())
    }

    /// `(x - mean) / std` with the pair of value `j` of a run of samples (any multiple of the
    /// sample size), in `f32`, exactly as the device computes it.
    pub fn apply(&self, j: usize, x: f32) -> f32 {
        let k = pair_of(j, self.pairs(), self.channels);
        (x - self.mean[k]) / self.std[k]
    }

    /// Every value of `raw` normalised (e.g. a dataset's features, same layout).
    pub fn apply_all(&self, raw: &[f32]) -> Vec<f32> {
        raw.iter()
            .enumerate()
            .map(|(j, &x)| self.apply(j, x))
            .collect()
    }

    /// Normalises `xs` (whole samples) in place.
    pub fn apply_in_place(&self, xs: &mut [f32]) {
        for (j, x) in xs.iter_mut().enumerate() {
            *x = self.apply(j, *x);
        }
    }

    /// The `(mean, std)` pairs, as the student stores them.
    pub fn pair_list(&self) -> Vec<(f32, f32)> {
        self.mean
            .iter()
            .copied()
            .zip(self.std.iter().copied())
            .collect()
    }

    /// Whether every pair is a finite mean and a finite std > 0, and the count fits samples
    /// of `dim` values and `channels` channels (one, one per channel, one per value).
    pub fn fits(&self, dim: usize, channels: usize) -> bool {
        let pairs = self.pairs();
        self.mean.len() == self.std.len()
            && (pairs == 1 || pairs == dim || (pairs == channels && channels == self.channels))
            && self
                .pair_list()
                .iter()
                .all(|&(m, s)| m.is_finite() && s.is_finite() && s > 0.0)
    }
}

/// The pair of value `j` (of a run of whole samples): one pair for all, one per channel (the
/// channel is `j % channels` in NHWC), or one per value (`pairs` is the sample size).
fn pair_of(j: usize, pairs: usize, channels: usize) -> usize {
    if pairs <= 1 {
        0
    } else if pairs == channels {
        j % channels
    } else {
        j % pairs
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
        let (n, constant) = Standardizer::fit(&d, NormScope::Global)?;
        assert!(constant.is_empty());
        assert_eq!(n.mean, [4.5]);
        assert!((n.std[0] - 5.25f32.sqrt()).abs() < 1e-6, "{:?}", n.std);
        let y = n.apply_all(&d.features);
        let mean: f32 = y.iter().sum::<f32>() / 8.0;
        let var: f32 = y.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / 8.0;
        assert!(
            mean.abs() < 1e-6 && (var - 1.0).abs() < 1e-5,
            "{mean} {var}"
        );
        assert_eq!(n.apply(3, 4.5), 0.0);
        let mut xs = [4.5f32, 1.0];
        n.apply_in_place(&mut xs);
        assert_eq!(xs, [n.apply(0, 4.5), n.apply(1, 1.0)]);

        // Digits: pixel values 0..16, mean ~4.9, std ~6.0; one channel, so one pair.
        let digits = builtin_digits()?;
        assert_eq!(NormScope::for_shape(digits.shape), NormScope::PerChannel);
        let (n, _) = Standardizer::fit(&digits, NormScope::for_shape(digits.shape))?;
        assert!(
            n.pairs() == 1 && (4.0..6.0).contains(&n.mean[0]) && (5.0..7.0).contains(&n.std[0]),
            "{n:?}"
        );
        Ok(())
    }

    /// Per value: each column gets its own pair, a constant one std 1; per channel: NHWC.
    #[test]
    fn per_value_and_per_channel() -> Result<(), DataError> {
        // Two samples of three columns: the middle one constant.
        let table = Dataset::new(
            "t",
            vec![0.001, 5.0, 1e4, 0.003, 5.0, 3e4],
            None,
            [1, 3, 1],
            0,
        )?;
        assert_eq!(NormScope::for_shape(table.shape), NormScope::PerValue);
        let (n, constant) = Standardizer::fit(&table, NormScope::PerValue)?;
        assert_eq!(constant, [1]);
        assert_eq!(n.mean, [0.002, 5.0, 2e4]);
        assert_eq!(n.std[1], 1.0);
        assert!((n.std[0] - 0.001).abs() < 1e-9 && (n.std[2] - 1e4).abs() < 1e-2);
        let y = n.apply_all(&table.features);
        assert!(
            (y[0] + 1.0).abs() < 1e-4 && y[1] == 0.0 && (y[5] - 1.0).abs() < 1e-6,
            "{y:?}"
        );
        assert!(n.fits(3, 1) && !n.fits(4, 1));

        // 2 x 1 x 2 windows (a sequence of two steps, two axes): per channel.
        let seq = Dataset::new("s", vec![1.0, 100.0, 3.0, 300.0], None, [2, 1, 2], 0)?;
        assert_eq!(NormScope::for_shape(seq.shape), NormScope::PerChannel);
        let (n, _) = Standardizer::fit(&seq, NormScope::PerChannel)?;
        assert_eq!(
            (n.mean.clone(), n.std.clone()),
            (vec![2.0, 200.0], vec![1.0, 100.0])
        );
        assert_eq!(n.apply_all(&seq.features), [-1.0, -1.0, 1.0, 1.0]);
        Ok(())
    }

    #[test]
    fn zero_std_and_empty() -> Result<(), DataError> {
        let flat = Dataset::new("flat", vec![3.0; 12], Some(vec![0, 1, 0]), [2, 2, 1], 2)?;
        for scope in [NormScope::Global, NormScope::PerValue] {
            let err = Standardizer::fit(&flat, scope)
                .err()
                .ok_or(DataError::Invalid {
                    name: "t".into(),
                    reason: "accepted".into(),
                })?;
            assert!(matches!(err, DataError::ZeroStd { .. }), "{err}");
            assert!(err.to_string().contains("flat"), "{err}");
        }
        let empty = flat.subset(&[]);
        assert!(matches!(
            Standardizer::fit(&empty, NormScope::Global),
            Err(DataError::Invalid { .. })
        ));
        Ok(())
    }

    /// A model file written before per-feature normalisation holds one number each.
    #[test]
    fn reads_the_old_single_pair() -> Result<(), serde_json::Error> {
        let old: Standardizer = serde_json::from_str(r#"{"mean": 4.5, "std": 2.0}"#)?;
        assert_eq!(old, Standardizer::global(4.5, 2.0));
        let new = serde_json::to_string(&old)?;
        assert_eq!(serde_json::from_str::<Standardizer>(&new)?, old);
        Ok(())
    }
}
