//! `sensor-set DIR [PER_CLASS] [SEED]`: writes the synthetic sensor set (minnow_tests::sensor)
//! as DIR/sensor_x.npy and DIR/sensor_y.npy. Defaults: 300 windows per class, seed 15.

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: sensor-set DIR [PER_CLASS] [SEED]";
    let Some(dir) = args.first().map(PathBuf::from) else {
        eprintln!("{usage}");
        return ExitCode::from(2);
    };
    let per_class = match args.get(1).map(|s| s.parse::<usize>()) {
        None => 300,
        Some(Ok(n)) if n > 0 => n,
        Some(_) => {
            eprintln!("PER_CLASS must be a positive number\n{usage}");
            return ExitCode::from(2);
        }
    };
    let seed = match args.get(2).map(|s| s.parse::<u64>()) {
        None => 15,
        Some(Ok(s)) => s,
        Some(Err(_)) => {
            eprintln!("SEED must be a number\n{usage}");
            return ExitCode::from(2);
        }
    };
    match minnow_tests::sensor::write_npy(&dir, per_class, seed) {
        Ok((x, y)) => {
            println!("{} {}", x.display(), y.display());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("cannot write the sensor set into {}: {e}", dir.display());
            ExitCode::FAILURE
        }
    }
}
