//! Runs the unit tests of `src/cache.rs` as an integration test.
//!
//! `minnow` is a binary crate without a library target, and `src/main.rs`
//! belongs to the training code; including the module here lets the cache
//! and its tests build and run on their own. Once `main.rs` (or a `lib.rs`)
//! declares `mod cache;`, the same tests also run there and this file can go.

#[allow(dead_code)]
#[path = "../src/cache.rs"]
mod cache;
