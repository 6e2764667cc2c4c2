//! Which burn backend trains and runs the networks.
//!
//! burn 0.22 reaches every backend through one `Device` type; a backend is there when this
//! build enabled its cargo feature (`ndarray`, the default, or `flex`, `wgpu`, `cuda`).

use crate::config::{Choice, choice_serde};
use crate::error::{Error, Result};
use burn::tensor::Device;

/// Which burn backend runs the training.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DeviceChoice {
    #[default]
    Ndarray,
    Flex,
    Wgpu,
    Cuda,
}

impl Choice for DeviceChoice {
    const ALL: &'static [(Self, &'static str, &'static str)] = &[
        (
            DeviceChoice::Ndarray,
            "ndarray",
            "burn-ndarray on the CPU (the default build)",
        ),
        (
            DeviceChoice::Flex,
            "flex",
            "burn's pure-Rust Flex CPU backend (cargo feature `flex`)",
        ),
        (
            DeviceChoice::Wgpu,
            "wgpu",
            "wgpu on the default GPU (cargo feature `wgpu`)",
        ),
        (
            DeviceChoice::Cuda,
            "cuda",
            "CUDA device 0 (cargo feature `cuda`)",
        ),
    ];
}
choice_serde!(DeviceChoice);

/// The burn device for a backend choice; an error when this build lacks the backend's feature.
pub fn device(choice: DeviceChoice) -> Result<Device> {
    let device = match choice {
        DeviceChoice::Ndarray => ndarray(),
        DeviceChoice::Flex => flex(),
        DeviceChoice::Wgpu => wgpu(),
        DeviceChoice::Cuda => cuda(),
    };
    device.ok_or_else(|| {
        let name = choice.name();
        Error::Config(format!(
            "this minnow was built without the {name} backend (rebuild with `--features {name}`)"
        ))
    })
}

/// burn-ndarray's CPU device, named through the crate itself. burn 0.22 deprecates
/// burn-ndarray in favour of its Flex backend; minnow's design names burn-ndarray, whose
/// results every figure in docs/results.md was measured with, so the CPU default stays on it.
/// Measured (docs/results.md, "Training speed against PyTorch", before im2col's one multiply
/// per image and main.rs's mallopt, not repeated since): Flex trains the 29K MNIST CNN
/// 27 % faster and the 6.5K one 2.3x faster, large MLPs at the same speed, to the same
/// accuracy but not the same bits; neither backend reaches PyTorch on CNNs, where im2col's
/// copies, not the backend's kernels, take most of the time. `--features flex` (and `--device
/// flex`) and `--features blas` (OpenBLAS matrix multiplies: large MLPs a fifth faster) are
/// there for anyone who wants that speed now.
#[cfg(feature = "ndarray")]
#[allow(deprecated)]
fn ndarray() -> Option<Device> {
    Some(Device::from(burn_ndarray::NdArrayDevice::Cpu))
}

#[cfg(not(feature = "ndarray"))]
fn ndarray() -> Option<Device> {
    None
}

#[cfg(feature = "flex")]
fn flex() -> Option<Device> {
    Some(Device::flex())
}

#[cfg(not(feature = "flex"))]
fn flex() -> Option<Device> {
    None
}

#[cfg(feature = "wgpu")]
fn wgpu() -> Option<Device> {
    Some(Device::wgpu(Default::default()))
}

#[cfg(not(feature = "wgpu"))]
fn wgpu() -> Option<Device> {
    None
}

#[cfg(feature = "cuda")]
fn cuda() -> Option<Device> {
    Some(Device::cuda(0usize))
}

#[cfg(not(feature = "cuda"))]
fn cuda() -> Option<Device> {
    None
}

/// The default CPU device with autodiff, for tests that take gradients.
#[cfg(test)]
pub(crate) fn test_autodiff_device() -> Device {
    device(DeviceChoice::default())
        .expect("the default build has a CPU backend")
        .autodiff()
}
