//! `GoldenVectors::decode` on the raw bytes, then on the bytes as a body behind a valid header
//! (random bytes rarely pass the CRC). Whatever decodes is read in full and round-tripped.
#![no_main]

use libfuzzer_sys::fuzz_target;
use minnow_core::GoldenVectors;
use minnow_core::golden::GOLDEN_MAGIC;
use minnow_fuzz::{exercise_golden, seal};

fuzz_target!(|data: &[u8]| {
    if let Ok(g) = GoldenVectors::decode(data) {
        exercise_golden(&g);
    }
    let body = data.get(minnow_core::header::HEADER_LEN..).unwrap_or(&[]);
    let blob = seal(&GOLDEN_MAGIC, body);
    if let Ok(g) = GoldenVectors::decode(&blob) {
        exercise_golden(&g);
    }
});
