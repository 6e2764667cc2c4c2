//! Fitting a student to a chip's budget (issue #18): what a network costs on the device
//! before it is trained ([`cost`]), so that a student that cannot fit is refused before hours
//! of training, not at export.

pub mod cost;
