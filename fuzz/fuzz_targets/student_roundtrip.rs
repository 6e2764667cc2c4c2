//! Structure-aware: builds a mostly valid student (shapes chain, multipliers derived from scales)
//! with `arbitrary`, encodes it with `minnow_core::encode_student`, decodes it, runs it, checks
//! every layer against the float reference, and checks encode(decode(blob)) == blob.
#![no_main]

use arbitrary::Unstructured;
use libfuzzer_sys::fuzz_target;
use minnow_core::{Layer, Student};
use minnow_fuzz::{build, exercise_student, make_input};

fuzz_target!(|data: &[u8]| {
    let mut u = Unstructured::new(data);
    let Ok(g) = build::student(&mut u) else {
        return;
    };
    let input_bytes = u.take_rest();
    let blob = g.student.encode().expect("encodes");
    let s = match Student::decode(&blob) {
        Ok(s) => s,
        Err(e) => {
            assert!(
                !g.valid,
                "a student built by the rules was rejected: {e:?}\n{:#?}",
                g.student
            );
            return;
        }
    };
    // Re-encoding what was decoded gives the same bytes.
    let layers: Vec<Layer<'_>> = s.layers().map(|l| l.expect("layer")).collect();
    let again = minnow_core::encode_student_to_vec(s.meta(), &layers).expect("re-encode");
    assert_eq!(again, blob, "encode(decode(blob)) != blob");
    if let Some((_, outputs)) = exercise_student(&s, input_bytes) {
        if g.valid {
            let input = make_input(input_bytes, s.input_len());
            build::check_reference(&s, &input, &outputs);
        }
    }
});
