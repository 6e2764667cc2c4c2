//! The `minnow` command line. One enum variant per subcommand, each with its own `Args` struct;
//! to add a subcommand, add a variant and a match arm in [`command::execute`].
//!
//! Every training flag is also a key of the `--config FILE.toml` (dashes → underscores); flags
//! given on the command line override the file. Exit status: 0 success, 1 failure, 2 usage.

pub mod adopt;
pub mod choice;
pub mod command;
pub mod data;
pub mod emit;
#[cfg(test)]
mod emit_tests;
pub mod export;
pub mod fit;
pub mod run;
pub mod teacher;
pub mod train;
pub mod verify;

pub use command::{Cli, Command, execute, main, run};
