//! The flags of `minnow verify`.

use std::path::PathBuf;

use clap::Args;

use crate::device::verify::{DeviceConfig, VerifyConfig};

/// `minnow verify RUN_DIR`.
#[derive(Debug, Clone, Args)]
pub struct VerifyArgs {
    /// Run folder with student.minnow, golden.mngv and report.json.
    pub run_dir: PathBuf,
    /// Core (m0, m3, m4, m7, m33) or QEMU board (microbit, mps2-an385, mps2-an386, mps2-an500,
    /// mps2-an505) to run on [default: m4].
    #[arg(long, value_name = "CORE")]
    pub core: Option<String>,
    /// A real board's chip for probe-rs (e.g. STM32F411RETx, nRF52840_xxAA): print the commands
    /// that build and flash the firmware instead of running QEMU.
    #[arg(long, value_name = "CHIP")]
    pub probe: Option<String>,
    /// The firmware directory of a minnow checkout (default: the one this binary was built from).
    #[arg(long, value_name = "DIR")]
    pub firmware_dir: Option<PathBuf>,
    /// Build the firmware's debug profile instead of release.
    #[arg(long)]
    pub debug: bool,
    /// Seconds QEMU may run before the firmware counts as hung [default: 300].
    #[arg(long, value_name = "SECONDS")]
    pub timeout: Option<u64>,
}

impl VerifyArgs {
    /// What to verify: the flags given, over the defaults.
    pub fn config(&self) -> VerifyConfig {
        let d = DeviceConfig::default();
        VerifyConfig {
            run_dir: self.run_dir.clone(),
            device: DeviceConfig {
                core: self.core.clone().unwrap_or(d.core),
                timeout: self.timeout.unwrap_or(d.timeout),
            },
            probe: self.probe.clone(),
            firmware_dir: self.firmware_dir.clone(),
            debug: self.debug,
        }
    }
}
