//! The bias correction of a student whose transfer set lacked some classes (Hinton et al.
//! 2015, section 3: no 3s, or only 7s and 8s). Such a student learns the missing classes from
//! the teacher's soft targets alone and under-predicts them; shifting the output biases of one
//! group of classes against the other fixes much of it. The shift is chosen on the validation
//! split (the paper's fixed values, 3.5 and 7.6, were tuned on the test set), or given.

use serde::Serialize;

use crate::train::metrics::argmax_rows;

/// The shifts tried on the validation split: 0 to [`MAX_SHIFT`] in steps of [`SHIFT_STEP`].
pub const SHIFT_STEP: f32 = 0.1;
/// Larger than any shift the paper needed (7.6) by a wide margin.
pub const MAX_SHIFT: f32 = 30.0;

/// Which classes' biases move: the missing ones up, or, when they are the majority (the
/// paper's "only 7s and 8s"), the present ones down by the same amount (the same predictions,
/// as softmax only sees differences).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BiasShift {
    /// The classes whose output bias moved.
    pub classes: Vec<usize>,
    /// By how much (positive: raised, negative: lowered).
    pub amount: f32,
    /// "validation" (searched) or "given".
    pub chosen_on: &'static str,
    /// Validation errors with no shift and with this one (when chosen on validation).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub val_errors: Option<[usize; 2]>,
}

impl BiasShift {
    /// The shift of `amount` for the `missing` classes out of `classes`: the missing classes
    /// raised, or the present ones lowered when the missing classes are more.
    pub fn for_missing(missing: &[usize], classes: usize, amount: f32) -> BiasShift {
        let present: Vec<usize> = (0..classes).filter(|c| !missing.contains(c)).collect();
        let (group, amount) = if missing.len() <= present.len() {
            (missing.to_vec(), amount)
        } else {
            (present, -amount)
        };
        BiasShift {
            classes: group,
            amount,
            chosen_on: "given",
            val_errors: None,
        }
    }

    /// `logits` (rows of `classes`) with this shift applied.
    pub fn apply(&self, logits: &[f32], classes: usize) -> Vec<f32> {
        let mut out = logits.to_vec();
        for row in out.chunks_mut(classes.max(1)) {
            for &c in &self.classes {
                row[c] += self.amount;
            }
        }
        out
    }
}

/// The shift of the `missing` classes' biases, out of 0, 0.1, ..., 30, that leaves the fewest
/// errors on the validation split (`logits` and `labels`); the smallest such shift on ties.
pub fn choose_on_validation(
    logits: &[f32],
    labels: &[u8],
    classes: usize,
    missing: &[usize],
) -> BiasShift {
    let steps = (MAX_SHIFT / SHIFT_STEP).round() as usize;
    let errors_at = |amount: f32| {
        let shifted = BiasShift::for_missing(missing, classes, amount).apply(logits, classes);
        errors(&shifted, classes, labels)
    };
    let before = errors_at(0.0);
    let (mut best, mut best_errors) = (0.0f32, before);
    for i in 1..=steps {
        let amount = i as f32 * SHIFT_STEP;
        let e = errors_at(amount);
        if e < best_errors {
            (best, best_errors) = (amount, e);
        }
    }
    BiasShift {
        chosen_on: "validation",
        val_errors: Some([before, best_errors]),
        ..BiasShift::for_missing(missing, classes, best)
    }
}

/// Misclassified rows of `logits` against `labels`.
pub fn errors(logits: &[f32], classes: usize, labels: &[u8]) -> usize {
    argmax_rows(logits, classes)
        .into_iter()
        .zip(labels)
        .filter(|&(p, &l)| p != usize::from(l))
        .count()
}

/// Misclassified rows among those labelled one of `of`.
pub fn errors_on(logits: &[f32], classes: usize, labels: &[u8], of: &[usize]) -> usize {
    argmax_rows(logits, classes)
        .into_iter()
        .zip(labels)
        .filter(|&(p, &l)| of.contains(&usize::from(l)) && p != usize::from(l))
        .count()
}

/// Test errors before and after the shift, overall and on the classes the transfer set lacked.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ShiftReport {
    #[serde(flatten)]
    pub shift: BiasShift,
    /// The classes absent from the transfer set.
    pub missing: Vec<usize>,
    /// Test errors before and after.
    pub test_errors: [usize; 2],
    /// Test errors on the missing classes before and after.
    pub test_errors_missing: [usize; 2],
}

impl ShiftReport {
    /// The report of `shift` on the test split's `logits` (before the shift) and `labels`.
    pub fn on_test(
        shift: BiasShift,
        missing: &[usize],
        logits: &[f32],
        labels: &[u8],
        classes: usize,
    ) -> ShiftReport {
        let after = shift.apply(logits, classes);
        ShiftReport {
            missing: missing.to_vec(),
            test_errors: [
                errors(logits, classes, labels),
                errors(&after, classes, labels),
            ],
            test_errors_missing: [
                errors_on(logits, classes, labels, missing),
                errors_on(&after, classes, labels, missing),
            ],
            shift,
        }
    }

    /// One line for the log.
    pub fn line(&self) -> String {
        let s = &self.shift;
        let how = match s.val_errors {
            Some([b, a]) => format!(" (chosen on validation: {b} -> {a} errors)"),
            None => " (given)".to_owned(),
        };
        format!(
            "{} the output bias of classes {:?} by {}{how}; test errors {} -> {}, on the missing classes {:?} {} -> {}",
            if s.amount >= 0.0 { "raised" } else { "lowered" },
            s.classes,
            s.amount.abs(),
            self.test_errors[0],
            self.test_errors[1],
            self.missing,
            self.test_errors_missing[0],
            self.test_errors_missing[1],
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Three classes, class 2 missing from training: its rows score 1 below their true class's
    /// rival, so a shift above 1 fixes them and one above 2 breaks the others.
    fn under_predicted() -> (Vec<f32>, Vec<u8>) {
        let rows: [([f32; 3], u8); 6] = [
            ([3.0, 0.0, 0.5], 0),
            ([3.0, 0.0, 1.0], 0),
            ([0.0, 3.0, 1.0], 1),
            ([0.0, 3.0, 0.5], 1),
            ([2.0, 0.0, 1.0], 2),
            ([0.0, 2.0, 1.0], 2),
        ];
        let logits = rows.iter().flat_map(|(r, _)| *r).collect();
        let labels = rows.iter().map(|(_, l)| *l).collect();
        (logits, labels)
    }

    /// The search finds the smallest shift in the window that fixes the missing class without
    /// breaking the others, and reports the errors before and after.
    #[test]
    fn validation_picks_the_shift_with_fewest_errors() {
        let (logits, labels) = under_predicted();
        let s = choose_on_validation(&logits, &labels, 3, &[2]);
        assert_eq!(s.classes, vec![2]);
        assert!((s.amount - 1.1).abs() < 1e-5, "{s:?}");
        assert_eq!(s.val_errors, Some([2, 0]));
        assert_eq!(errors(&s.apply(&logits, 3), 3, &labels), 0);
    }

    /// With most classes missing, the present ones are lowered (the paper's 7s-and-8s run):
    /// the same predictions as raising the missing ones.
    #[test]
    fn a_majority_missing_lowers_the_present_classes() {
        let (logits, labels) = under_predicted();
        let s = choose_on_validation(&logits, &labels, 3, &[1, 2]);
        assert_eq!(s.classes, vec![0]);
        assert!(s.amount < 0.0, "{s:?}");
        let raised = BiasShift {
            classes: vec![1, 2],
            amount: -s.amount,
            ..s.clone()
        };
        assert_eq!(
            argmax_rows(&s.apply(&logits, 3), 3),
            argmax_rows(&raised.apply(&logits, 3), 3)
        );
    }

    #[test]
    fn test_report_counts_the_missing_classes() {
        let (logits, labels) = under_predicted();
        let r = ShiftReport::on_test(
            BiasShift::for_missing(&[2], 3, 1.5),
            &[2],
            &logits,
            &labels,
            3,
        );
        assert_eq!(r.test_errors, [2, 0]);
        assert_eq!(r.test_errors_missing, [2, 0]);
        assert!(
            r.line()
                .contains("raised the output bias of classes [2] by 1.5 (given)"),
            "{}",
            r.line()
        );
    }
}
