//! The fuzz bytes are a student *body*: a valid header (magic, version, body_len, CRC) is put in
//! front, so every input reaches the postcard decoder and validation. Layout of the input:
//! `body ++ run_input[k] ++ [k]` (the last byte says how many bytes before it feed inference).
#![no_main]

use libfuzzer_sys::fuzz_target;
use minnow_core::Student;
use minnow_core::student::STUDENT_MAGIC;
use minnow_fuzz::{exercise_student, seal, split_body_and_input};

fuzz_target!(|data: &[u8]| {
    let (body, input) = split_body_and_input(data);
    let blob = seal(&STUDENT_MAGIC, body);
    if let Ok(s) = Student::decode(&blob) {
        exercise_student(&s, input);
    }
});
