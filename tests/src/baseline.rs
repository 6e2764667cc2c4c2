//! The simple baseline a result is compared with before it is claimed: a multinomial logistic
//! regression on per-feature standardised inputs (the baseline issue #15 names), fitted on a
//! run's training split and scored on its test split.

use minnow::data::Splits;

/// Test accuracy of a multinomial logistic regression on per-column standardised features
/// (mean and std of the training split), full-batch gradient descent.
pub fn logistic_regression(s: &Splits) -> f64 {
    let (f, k) = (s.train.dim(), s.train.classes);
    let n = s.train.len();
    let mut mean = vec![0f64; f];
    let mut std = vec![0f64; f];
    for i in 0..n {
        for (j, &x) in s.train.sample(i).iter().enumerate() {
            mean[j] += f64::from(x) / n as f64;
        }
    }
    for i in 0..n {
        for (j, &x) in s.train.sample(i).iter().enumerate() {
            std[j] += (f64::from(x) - mean[j]).powi(2) / n as f64;
        }
    }
    let std: Vec<f64> = std.iter().map(|v| v.sqrt().max(1e-12)).collect();
    let x = |d: &minnow::data::Dataset, i: usize| -> Vec<f64> {
        (d.sample(i).iter().enumerate())
            .map(|(j, &v)| (f64::from(v) - mean[j]) / std[j])
            .collect()
    };
    let scores = |w: &[f64], x: &[f64]| -> Vec<f64> {
        (0..k)
            .map(|c| w[c * (f + 1) + f] + (0..f).map(|j| w[c * (f + 1) + j] * x[j]).sum::<f64>())
            .collect()
    };
    let train: Vec<Vec<f64>> = (0..n).map(|i| x(&s.train, i)).collect();
    let labels = s.train.labels.as_deref().unwrap_or(&[]);
    let mut w = vec![0f64; k * (f + 1)];
    for _ in 0..400 {
        let mut grad = vec![0f64; w.len()];
        for (xi, &y) in train.iter().zip(labels) {
            let z = scores(&w, xi);
            let m = z.iter().copied().fold(f64::MIN, f64::max);
            let e: Vec<f64> = z.iter().map(|v| (v - m).exp()).collect();
            let sum: f64 = e.iter().sum();
            for c in 0..k {
                let g = e[c] / sum - f64::from(u8::from(usize::from(y) == c));
                for j in 0..f {
                    grad[c * (f + 1) + j] += g * xi[j] / n as f64;
                }
                grad[c * (f + 1) + f] += g / n as f64;
            }
        }
        for (w, g) in w.iter_mut().zip(&grad) {
            *w -= 1.0 * g;
        }
    }
    let test_labels = s.test.labels.as_deref().unwrap_or(&[]);
    let hits = (0..s.test.len())
        .filter(|&i| {
            let z = scores(&w, &x(&s.test, i));
            let best = (0..k).max_by(|&a, &b| z[a].total_cmp(&z[b])).unwrap_or(0);
            best == usize::from(test_labels[i])
        })
        .count();
    hits as f64 / s.test.len() as f64
}
