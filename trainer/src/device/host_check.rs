//! What `minnow verify` checks on the host before it builds any firmware: that the student
//! blob and the golden vectors each decode, and that they belong together (the host computes
//! every golden vector's logits from this student). A failure names the file at fault, so a bad
//! `golden.mngv` is not reported as a firmware mismatch against `student.minnow`.

use minnow_core::golden::GoldenVectors;
use minnow_core::student::Student;

use crate::error::{Error, Result};
use crate::files;

use super::matrix::Blobs;

/// Decodes both files and runs every golden vector on the host.
pub fn check_on_host(blobs: &Blobs) -> Result<()> {
    let student_bytes = files::read(&blobs.student)?;
    let golden_bytes = files::read(&blobs.golden)?;
    let student = Student::decode(&student_bytes)
        .map_err(|e| Error::artifact(&blobs.student, format!("not a valid student blob: {e}")))?;
    let golden = GoldenVectors::decode(&golden_bytes).map_err(|e| {
        Error::artifact(
            &blobs.golden,
            format!("not a valid golden-vector file: {e}"),
        )
    })?;
    let (input_len, classes) = (golden.input_len as usize, usize::from(golden.classes));
    if input_len != student.input_len() || classes != student.classes() {
        return Err(Error::artifact(
            &blobs.golden,
            format!(
                "holds vectors of {input_len} inputs and {classes} logits, but {} takes {} \
                 inputs and gives {} logits: the two files come from different exports \
                 (export again)",
                blobs.student.display(),
                student.input_len(),
                student.classes()
            ),
        ));
    }
    let mut scratch = vec![0i8; student.scratch_len()];
    let mut logits = vec![0i8; classes];
    for i in 0..golden.len() {
        let vector = |e| Error::artifact(&blobs.golden, format!("vector {i}: {e}"));
        let (input, expected) = (
            golden.input(i).map_err(vector)?,
            golden.expected(i).map_err(vector)?,
        );
        student
            .run(input, &mut scratch, &mut logits)
            .map_err(|e| Error::artifact(&blobs.student, format!("golden vector {i}: {e}")))?;
        if logits[..] != *expected {
            return Err(Error::artifact(
                &blobs.golden,
                format!(
                    "vector {i} holds logits {expected:?}, but the host computes {:?} from {}: \
                     the two files come from different exports (export again)",
                    &logits[..],
                    blobs.student.display()
                ),
            ));
        }
    }
    Ok(())
}
