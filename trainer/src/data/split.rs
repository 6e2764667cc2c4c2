//! Deterministic, stratified train/val/test splits.
//!
//! The shuffle is a Fisher–Yates driven by SplitMix64 (Steele, Lea & Flood,
//! "Fast splittable pseudorandom number generators", OOPSLA 2014; the
//! constants of Vigna's reference `splitmix64.c`), with Lemire's unbiased
//! multiply-and-reject for bounded draws. Only `u64`/`u128` integer
//! arithmetic is involved, so a seed gives the same split on every platform
//! and with every dependency version.
//!
//! Stratification: the shuffled indices are grouped by label (stable, so
//! each class stays shuffled), and then test and validation samples are
//! picked at evenly spaced positions of that list. Every class thus gets
//! its proportional share to within one sample, and the totals are exact.
//! Within each split, samples come in shuffled order (not grouped by class).

use super::dataset::Dataset;
use super::error::DataError;
use crate::rng::Rng;

/// A split of one dataset.
#[derive(Debug, Clone, PartialEq)]
pub struct Splits {
    pub train: Dataset,
    pub val: Dataset,
    pub test: Dataset,
}

/// The indices behind a [`Splits`]: disjoint, together all of `0..n`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SplitIndices {
    pub train: Vec<usize>,
    pub val: Vec<usize>,
    pub test: Vec<usize>,
}

/// The number of samples a fraction asks for: rounded to nearest, and at
/// least one when the fraction is positive.
fn count_for(n: usize, fraction: f32) -> usize {
    let c = (n as f64 * f64::from(fraction)).round() as usize;
    if fraction > 0.0 { c.max(1) } else { c }
}

/// Which indices go where; see the module docs. Labels (when given) must
/// have `n` entries.
pub fn split_indices(
    n: usize,
    labels: Option<&[u8]>,
    val_fraction: f32,
    test_fraction: f32,
    seed: u64,
) -> Result<SplitIndices, String> {
    for (what, f) in [
        ("val_fraction", val_fraction),
        ("test_fraction", test_fraction),
    ] {
        if !(0.0..1.0).contains(&f) {
            return Err(format!("{what} = {f} must be in [0, 1)"));
        }
    }
    if f64::from(val_fraction) + f64::from(test_fraction) >= 1.0 {
        return Err(format!(
            "val_fraction + test_fraction = {} leaves nothing to train on",
            val_fraction + test_fraction
        ));
    }
    if let Some(l) = labels
        && l.len() != n
    {
        return Err(format!("{n} samples but {} labels", l.len()));
    }
    let n_test = count_for(n, test_fraction);
    let n_val = count_for(n, val_fraction);
    if n_test + n_val >= n {
        return Err(format!(
            "{n} samples are too few for {n_val} validation and {n_test} test samples and a non-empty training set"
        ));
    }

    let mut order: Vec<usize> = (0..n).collect();
    Rng::new(seed).shuffle_unbiased(&mut order);
    // rank[i] = position of sample i in the shuffled order.
    let mut rank = vec![0usize; n];
    for (pos, &i) in order.iter().enumerate() {
        rank[i] = pos;
    }
    if let Some(labels) = labels {
        order.sort_by_key(|&i| labels[i]); // stable: classes stay shuffled
    }

    // Pick `k` of `m` positions evenly spaced (Bresenham): position p is
    // picked when floor((p+1)·k/m) > floor(p·k/m).
    let picks = |p: usize, k: usize, m: usize| (p + 1) * k / m > p * k / m;
    let (mut train, mut val, mut test) = (Vec::new(), Vec::new(), Vec::new());
    let mut rest = 0usize; // position among the samples not taken for test
    for (p, &i) in order.iter().enumerate() {
        if picks(p, n_test, n) {
            test.push(i);
        } else {
            if picks(rest, n_val, n - n_test) {
                val.push(i);
            } else {
                train.push(i);
            }
            rest += 1;
        }
    }
    for part in [&mut train, &mut val, &mut test] {
        part.sort_by_key(|&i| rank[i]);
    }
    Ok(SplitIndices { train, val, test })
}

/// Splits `data` into train/val/test: deterministic for a given `seed`,
/// stratified by label when labeled. `val_fraction` and `test_fraction` are
/// rounded to sample counts (at least one sample when positive); the rest
/// is training data, which must not be empty.
pub fn split(
    data: &Dataset,
    val_fraction: f32,
    test_fraction: f32,
    seed: u64,
) -> Result<Splits, DataError> {
    let idx = split_indices(
        data.len(),
        data.labels.as_deref(),
        val_fraction,
        test_fraction,
        seed,
    )
    .map_err(|reason| DataError::InvalidSplit {
        name: data.name.clone(),
        reason,
    })?;
    check_training_classes(data, &idx.train).map_err(|reason| DataError::InvalidSplit {
        name: data.name.clone(),
        reason,
    })?;
    Ok(Splits {
        train: data.subset(&idx.train),
        val: data.subset(&idx.val),
        test: data.subset(&idx.test),
    })
}

/// Refuses a split whose training part has fewer than 2 samples of a class the data has: a
/// class seen once (or never) cannot be learnt, and small tables reach that quietly once
/// validation and test samples are taken out.
fn check_training_classes(data: &Dataset, train: &[usize]) -> Result<(), String> {
    let Some(labels) = data.labels.as_deref() else {
        return Ok(());
    };
    let Some(total) = data.class_counts() else {
        return Ok(());
    };
    let mut in_train = vec![0usize; total.len()];
    for &i in train {
        in_train[usize::from(labels[i])] += 1;
    }
    let short: Vec<String> = (0..total.len())
        .filter(|&c| total[c] > 0 && in_train[c] < 2)
        .map(|c| {
            let name = data
                .class_names
                .get(c)
                .map(|n| format!("class {c} ({n})"))
                .unwrap_or_else(|| format!("class {c}"));
            format!("{name} has {} of its {} samples", in_train[c], total[c])
        })
        .collect();
    if short.is_empty() {
        return Ok(());
    }
    Err(format!(
        "after taking out the validation and test samples, the training split has fewer than 2 \
         samples of a class: {}; add samples of it, or lower --val-fraction / --test-fraction",
        short.join(", ")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::source::builtin_digits;

    #[test]
    fn pinned_split() -> Result<(), String> {
        // Guards against any change of generator or algorithm: existing runs
        // and caches depend on the exact split.
        let s = split_indices(10, None, 0.2, 0.2, 42)?;
        assert_eq!((s.train.len(), s.val.len(), s.test.len()), (6, 2, 2));
        assert_eq!(s.train, [8, 3, 6, 0, 9, 2]);
        assert_eq!(s.val, [5, 1]);
        assert_eq!(s.test, [4, 7]);
        Ok(())
    }

    fn assert_partition(s: &SplitIndices, n: usize) {
        let mut all: Vec<usize> = s
            .train
            .iter()
            .chain(&s.val)
            .chain(&s.test)
            .copied()
            .collect();
        all.sort_unstable();
        assert_eq!(
            all,
            (0..n).collect::<Vec<_>>(),
            "not a disjoint cover of 0..{n}"
        );
    }

    #[test]
    fn deterministic_disjoint_stratified() -> Result<(), DataError> {
        let d = builtin_digits()?;
        let labels = d.labels.as_deref();
        let a = split_indices(d.len(), labels, 0.1, 0.2, 7).map_err(|e| DataError::Invalid {
            name: "a".into(),
            reason: e,
        })?;
        let b = split_indices(d.len(), labels, 0.1, 0.2, 7).map_err(|e| DataError::Invalid {
            name: "b".into(),
            reason: e,
        })?;
        let c = split_indices(d.len(), labels, 0.1, 0.2, 8).map_err(|e| DataError::Invalid {
            name: "c".into(),
            reason: e,
        })?;
        assert_eq!(a, b, "same seed, different split");
        assert_ne!(a.test, c.test, "different seed, same split");
        assert_ne!(a.train, c.train);
        assert_partition(&a, d.len());
        assert_partition(&c, d.len());
        assert_eq!(a.test.len(), (1797.0f64 * 0.2).round() as usize);
        assert_eq!(a.val.len(), (1797.0f64 * 0.1).round() as usize);

        // Stratified: every class's share of each split is within one
        // sample of proportional.
        let s = split(&d, 0.1, 0.2, 7)?;
        let total = d.class_counts().ok_or(DataError::Invalid {
            name: "d".into(),
            reason: "unlabeled".into(),
        })?;
        for (part, frac) in [(&s.test, 0.2f64), (&s.val, 0.1)] {
            let counts = part.class_counts().ok_or(DataError::Invalid {
                name: "p".into(),
                reason: "unlabeled".into(),
            })?;
            for (c, (&got, &all)) in counts.iter().zip(&total).enumerate() {
                let want = all as f64 * frac;
                assert!(
                    (got as f64 - want).abs() <= 1.5,
                    "class {c}: {got} vs {want:.1}"
                );
            }
        }
        // Samples really moved with their labels, in shuffled (not class) order.
        assert_eq!(s.test.sample(0), d.sample(a.test[0]));
        assert_eq!(s.test.label(0), d.label(a.test[0]));
        let labels = s.train.labels.as_deref().unwrap_or(&[]);
        assert!(
            labels.windows(2).any(|w| w[0] > w[1]),
            "train set is sorted by class"
        );
        assert_eq!(s.train.len() + s.val.len() + s.test.len(), d.len());

        // Unlabeled sets split too, same sizes.
        let u = split(&d.without_labels(), 0.1, 0.2, 7)?;
        assert_eq!(
            (u.train.len(), u.val.len(), u.test.len()),
            (s.train.len(), s.val.len(), s.test.len())
        );
        Ok(())
    }

    #[test]
    fn zero_fractions_and_bad_fractions() -> Result<(), String> {
        let s = split_indices(5, None, 0.0, 0.0, 1)?;
        assert_eq!((s.train.len(), s.val.len(), s.test.len()), (5, 0, 0));
        // A positive fraction gets at least one sample.
        let s = split_indices(5, None, 0.01, 0.01, 1)?;
        assert_eq!((s.train.len(), s.val.len(), s.test.len()), (3, 1, 1));
        for (v, t) in [
            (-0.1, 0.1),
            (0.5, 0.5),
            (f32::NAN, 0.1),
            (0.1, 1.0),
            (0.6, 0.6),
        ] {
            assert!(split_indices(100, None, v, t, 1).is_err(), "{v} {t}");
        }
        assert!(split_indices(2, None, 0.5, 0.4, 1).is_err());
        assert!(split_indices(0, None, 0.1, 0.1, 1).is_err());
        assert!(split_indices(3, Some(&[0, 1]), 0.0, 0.0, 1).is_err());
        let d = Dataset::new("tiny", vec![0.0; 2], Some(vec![0, 1]), [1, 1, 1], 2)
            .map_err(|e| e.to_string())?;
        let err = split(&d, 0.5, 0.4, 3).err().ok_or("tiny split accepted")?;
        assert!(matches!(err, DataError::InvalidSplit { .. }), "{err}");
        assert!(err.to_string().contains("tiny"), "{err}");
        Ok(())
    }

    /// A class with fewer than 2 training samples is named (with its name when the data has
    /// class names) and the split refused; with enough samples the same classes split.
    #[test]
    fn a_class_too_small_to_train_on_is_refused() -> Result<(), String> {
        // Class 0: 10 samples, class 1: 2 samples. With a test fraction of 0.2 and a validation
        // fraction of 0.2, class 1 keeps at most one sample for training.
        let labels: Vec<u8> = [vec![0u8; 10], vec![1u8; 2]].concat();
        let mut d = Dataset::new("small.csv", vec![0.0; 12], Some(labels), [1, 1, 1], 2)
            .map_err(|e| e.to_string())?;
        d.class_names = vec!["common".into(), "rare".into()];
        let err = split(&d, 0.2, 0.2, 1).err().ok_or("rare class accepted")?;
        let msg = err.to_string();
        assert!(matches!(err, DataError::InvalidSplit { .. }), "{msg}");
        for part in [
            "small.csv",
            "class 1 (rare)",
            "of its 2 samples",
            "--test-fraction",
        ] {
            assert!(msg.contains(part), "{part:?} missing from: {msg}");
        }
        assert!(!msg.contains("class 0"), "{msg}");
        let s = split(&d, 0.0, 0.0, 1).map_err(|e| e.to_string())?;
        assert_eq!(s.train.len(), 12);
        Ok(())
    }
}
