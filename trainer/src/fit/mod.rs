//! Fitting a student to a chip's budget (issue #18): what a network costs on the device
//! before it is trained ([`cost`]), so that a student that cannot fit is refused before hours
//! of training, not at export; the networks worth trying for a data shape ([`space`]); and
//! `minnow fit`, the search for the best of them that fits ([`search`]).

pub mod calibrate;
pub mod cost;
pub mod error;
pub mod instructions;
pub mod search;
pub mod space;
pub mod workers;
