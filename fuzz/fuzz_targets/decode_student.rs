//! Raw bytes into `Student::decode`. The whole input is decoded once (trailing-byte and header
//! paths), then the prefix the header declares; if that decodes, the bytes after it are the
//! inference input. Random bytes rarely pass the CRC: `decode_student_sealed` fixes the header.
#![no_main]

use libfuzzer_sys::fuzz_target;
use minnow_core::Student;
use minnow_fuzz::{exercise_student, split_at_declared_len};

fuzz_target!(|data: &[u8]| {
    if let Ok(s) = Student::decode(data) {
        exercise_student(&s, &[]);
    }
    let (blob, rest) = split_at_declared_len(data);
    if let Ok(s) = Student::decode(blob) {
        exercise_student(&s, rest);
    }
});
