//! How an ONNX teacher sees minnow's samples: the affine transform of the raw values, the
//! layout of a 4-D input, and what its output holds. Keys of `distill` (and `minnow run`'s
//! `[student]`) settings, flattened into them: `teacher_scale`, `teacher_offset`,
//! `teacher_layout`, `teacher_output`.

use serde::{Deserialize, Serialize};

use crate::config::{Choice, Invalid, Settings, choice_serde};

/// The order of a 4-D input's axes after the batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TeacherLayout {
    /// Read from the model's declared input shape: NHWC when its axes are the sample's
    /// (height, width, channels) and not (channels, height, width), else NCHW.
    #[default]
    Auto,
    Nchw,
    Nhwc,
}

impl Choice for TeacherLayout {
    const ALL: &'static [(Self, &'static str, &'static str)] = &[
        (
            TeacherLayout::Auto,
            "auto",
            "read from the model's input shape (NCHW unless it is the sample's height, width, channels)",
        ),
        (
            TeacherLayout::Nchw,
            "nchw",
            "batch, channels, height, width (PyTorch)",
        ),
        (
            TeacherLayout::Nhwc,
            "nhwc",
            "batch, height, width, channels (Keras, TensorFlow)",
        ),
    ];
}
choice_serde!(TeacherLayout);

/// What an ONNX teacher's output holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TeacherOutput {
    #[default]
    Logits,
    /// Probabilities (a softmax at the end): minnow takes their log, which are logits up to a
    /// constant per sample, so the soft targets are the same.
    Probs,
    /// Log-probabilities (a log-softmax at the end): logits as they are.
    LogProbs,
}

impl Choice for TeacherOutput {
    const ALL: &'static [(Self, &'static str, &'static str)] = &[
        (
            TeacherOutput::Logits,
            "logits",
            "raw scores, before any softmax",
        ),
        (
            TeacherOutput::Probs,
            "probs",
            "probabilities (minnow takes their log)",
        ),
        (
            TeacherOutput::LogProbs,
            "log-probs",
            "log-probabilities (a log-softmax)",
        ),
    ];
}
choice_serde!(TeacherOutput);

/// The settings of every ONNX teacher of a run. A teacher minnow trained ignores them (it
/// normalises the raw samples with its own statistics).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct OnnxSettings {
    /// The teacher sees `raw * teacher_scale + teacher_offset` (raw: the values as read from
    /// the data file, before minnow's own normalisation).
    pub teacher_scale: f32,
    pub teacher_offset: f32,
    pub teacher_layout: TeacherLayout,
    pub teacher_output: TeacherOutput,
}

impl Default for OnnxSettings {
    fn default() -> Self {
        OnnxSettings {
            teacher_scale: 1.0,
            teacher_offset: 0.0,
            teacher_layout: TeacherLayout::Auto,
            teacher_output: TeacherOutput::Logits,
        }
    }
}

impl Settings for OnnxSettings {
    fn check(&self) -> Result<(), Invalid> {
        // Beyond 1e6 a pixel value of 255 overflows nothing yet, but no real preprocessing
        // scales that far: it is a typo.
        if !(self.teacher_scale.is_finite() && self.teacher_scale.abs() <= 1e6) {
            return Err(Invalid::new(
                "teacher_scale",
                self.teacher_scale,
                "must be a finite number within [-1e6, 1e6]",
            ));
        }
        if self.teacher_scale == 0.0 {
            return Err(Invalid::new(
                "teacher_scale",
                0,
                "would show the teacher the same input for every sample",
            ));
        }
        if !(self.teacher_offset.is_finite() && self.teacher_offset.abs() <= 1e6) {
            return Err(Invalid::new(
                "teacher_offset",
                self.teacher_offset,
                "must be a finite number within [-1e6, 1e6]",
            ));
        }
        Ok(())
    }
}

impl OnnxSettings {
    /// The settings in one line, as fingerprints and messages carry them (`f32`'s `Display`
    /// reads back to the same value, so two settings give the same text only when equal).
    pub fn describe(&self) -> String {
        format!(
            "teacher_scale={} teacher_offset={} teacher_layout={} teacher_output={}",
            self.teacher_scale,
            self.teacher_offset,
            self.teacher_layout.name(),
            self.teacher_output.name()
        )
    }

    /// The value the teacher sees for the raw value `x`.
    pub fn transform(&self, x: f32) -> f32 {
        x * self.teacher_scale + self.teacher_offset
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn choices_name_themselves_both_ways() {
        crate::config::check_choice::<TeacherLayout>();
        crate::config::check_choice::<TeacherOutput>();
    }

    #[test]
    fn check_refuses_what_no_preprocessing_does() {
        let ok = OnnxSettings::default();
        assert_eq!(ok.check(), Ok(()));
        for (scale, offset, key) in [
            (f32::NAN, 0.0, "teacher_scale"),
            (0.0, 0.0, "teacher_scale"),
            (1e7, 0.0, "teacher_scale"),
            (1.0, f32::INFINITY, "teacher_offset"),
        ] {
            let s = OnnxSettings {
                teacher_scale: scale,
                teacher_offset: offset,
                ..ok
            };
            assert_eq!(s.check().expect_err("refused").key, key);
        }
    }

    #[test]
    fn describe_tells_different_settings_apart() {
        let a = OnnxSettings::default();
        let b = OnnxSettings {
            teacher_scale: 1.0 / 255.0,
            ..a
        };
        assert_ne!(a.describe(), b.describe());
        assert_eq!(
            a.describe(),
            "teacher_scale=1 teacher_offset=0 teacher_layout=auto teacher_output=logits"
        );
        assert_eq!(b.transform(255.0), 1.0);
    }
}
