//! The `minnow` binary: see `minnow --help`.

fn main() {
    std::process::exit(minnow::cli::main());
}
