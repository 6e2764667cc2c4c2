//! Why an ONNX teacher cannot teach. Every message names the file and the problem.

use std::path::PathBuf;

use crate::files::IoError;

#[derive(Debug, thiserror::Error)]
pub enum OnnxError {
    #[error(transparent)]
    Io(#[from] IoError),

    #[error("{}: not an ONNX file: {reason}", path.display())]
    NotOnnx { path: PathBuf, reason: String },

    #[error(
        "{}: the node {node} uses the op {op}, which tract (minnow's ONNX runtime) does not support; export the model without it (a lower opset, or the op decomposed)",
        path.display()
    )]
    UnsupportedOp {
        path: PathBuf,
        op: String,
        node: String,
    },

    #[error(
        "{}: the model takes {count} inputs ({names}); an ONNX teacher takes one, the sample",
        path.display()
    )]
    Inputs {
        path: PathBuf,
        count: usize,
        names: String,
    },

    #[error("{}: input `{input}` is {elem_type}; minnow feeds float32 samples", path.display())]
    InputType {
        path: PathBuf,
        input: String,
        elem_type: &'static str,
    },

    /// The sample does not fit the input: `shapes` says both, e.g. "(batch, 3, 32, 32) (3072
    /// values per sample); the data's samples are 28x28x1 (784 values)".
    #[error("{}: input `{input}` is {shapes}", path.display())]
    InputShape {
        path: PathBuf,
        input: String,
        shapes: String,
    },

    #[error("{}: the teacher outputs {teacher} classes; the data has {data}", path.display())]
    Classes {
        path: PathBuf,
        teacher: usize,
        data: usize,
    },

    #[error("{}: tract could not {stage} the model: {message}", path.display())]
    Tract {
        path: PathBuf,
        stage: &'static str,
        message: String,
    },

    #[error(
        "{}: output {value} (class {class}) of sample {sample} is not finite",
        path.display()
    )]
    NonFinite {
        path: PathBuf,
        sample: usize,
        class: usize,
        value: f32,
    },

    #[error(
        "{}: output {value} (class {class}) of sample {sample} is not a probability (--teacher-output probs); is the output logits?",
        path.display()
    )]
    NotProbability {
        path: PathBuf,
        sample: usize,
        class: usize,
        value: f32,
    },
}

impl OnnxError {
    /// The error with its sample numbered in the set the batch was drawn from: `idx[k]` is
    /// that set's index of the batch's `k`-th sample.
    #[must_use]
    pub fn for_samples(self, idx: &[usize]) -> OnnxError {
        let renumber = |k: usize| idx.get(k).copied().unwrap_or(k);
        match self {
            OnnxError::NonFinite {
                path,
                sample,
                class,
                value,
            } => OnnxError::NonFinite {
                path,
                sample: renumber(sample),
                class,
                value,
            },
            OnnxError::NotProbability {
                path,
                sample,
                class,
                value,
            } => OnnxError::NotProbability {
                path,
                sample: renumber(sample),
                class,
                value,
            },
            other => other,
        }
    }
}

#[cfg(test)]
mod tests {
    /// Small enough to travel in every `Result` of the trainer (clippy's `result_large_err`).
    #[test]
    fn stays_small() {
        assert!(std::mem::size_of::<super::OnnxError>() <= 96);
    }
}
