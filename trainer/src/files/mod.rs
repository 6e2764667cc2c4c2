//! Files: single files written atomically ([`io`]), sets of files that appear together or not at
//! all ([`set`]), one writer per run folder ([`lock`]), and the crash hook the
//! crash-consistency tests use ([`fault`]).

pub mod fault;
pub mod io;
pub mod lock;
pub mod set;

pub use io::{
    IoError, Staged, absolute, create_dir_all, names, read, read_to_string,
    remove_stale_temporaries, stage, write_atomic,
};
pub use lock::{DirLock, LockError, lock};
pub use set::FileSet;
