//! How much memory training a network takes, estimated from its spec before anything is
//! allocated, against what the machine has: a network too large for it is refused with the
//! figures, not found out by an abort halfway through an allocation.

use crate::error::{Error, Result};
use crate::net::spec::{LayerShape, LayerSpec, NetSpec};

/// What a machine whose free memory cannot be read (no `/proc/meminfo`) is assumed to have.
const ASSUMED_AVAILABLE: u64 = 16 << 30;

/// Bytes that training `spec` at `batch` samples per step needs, roughly: every parameter four
/// times (weights, gradients, Adam's two moments), and every activation twice (forward and
/// backward) plus the patches a convolution gathers (im2col), per sample, in f32.
pub fn training_bytes(spec: &NetSpec, batch: usize) -> Result<u64> {
    let shapes = spec.shapes()?;
    let (mut activations, mut patches) = (0u64, 0u64);
    let mut prev = LayerShape::Spatial(spec.input_shape);
    for (layer, shape) in spec.layers.iter().zip(&shapes) {
        let elements = |s: &LayerShape| match *s {
            LayerShape::Spatial([h, w, c]) => (h * w * c) as u64,
            LayerShape::Flat(n) => n as u64,
        };
        activations += elements(shape);
        if let (LayerSpec::Conv { kernel, .. }, LayerShape::Spatial([_, _, c])) = (*layer, prev) {
            let LayerShape::Spatial([oh, ow, _]) = *shape else {
                continue;
            };
            patches += (oh * ow * c * kernel.area()) as u64;
        }
        prev = *shape;
    }
    let parameters = spec.parameter_count() as u64;
    Ok(4 * (4 * parameters + batch as u64 * (2 * activations + patches)))
}

/// Free memory: `MemAvailable` of `/proc/meminfo`, else [`ASSUMED_AVAILABLE`].
pub fn available_bytes() -> u64 {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|text| {
            text.lines()
                .find_map(|l| l.strip_prefix("MemAvailable:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        })
        .map_or(ASSUMED_AVAILABLE, |kib| kib * 1024)
}

/// Refuses a network that would not fit this machine's free memory at `batch`.
pub fn check_fits(spec: &NetSpec, batch: usize) -> Result<()> {
    let need = training_bytes(spec, batch)?;
    let have = available_bytes();
    if need > have {
        let gib = |b: u64| b as f64 / (1u64 << 30) as f64;
        return Err(Error::Config(format!(
            "the network ({} parameters) needs about {:.1} GiB to train at batch size {batch}; \
             this machine has {:.1} GiB free: use fewer or narrower layers (--hidden, \
             --channels) or a smaller --batch-size",
            spec.parameter_count(),
            gib(need),
            gib(have)
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::net::spec::{Arch, NetConfig};

    #[test]
    fn estimates_grow_with_the_network_and_refuse_the_impossible() {
        let mlp = |h: usize| {
            NetSpec::build(
                &NetConfig::plain(Arch::Mlp, &[h], &[], false),
                [8, 8, 1],
                10,
            )
            .expect("spec")
        };
        let small = training_bytes(&mlp(32), 32).expect("bytes");
        // 64*32+32 + 32*10+10 = 2410 parameters, x4 x4 bytes, plus activations.
        assert!(small > 2410 * 16 && small < 1 << 20, "{small}");
        assert!(training_bytes(&mlp(4096), 32).expect("bytes") > 50 * small);
        check_fits(&mlp(32), 32).expect("fits");
        // 60,000 x 60,000 x 9 convolution weights: hundreds of GiB.
        let huge = NetSpec::build(
            &NetConfig::plain(Arch::Cnn, &[], &[60_000, 60_000], false),
            [28, 28, 1],
            10,
        )
        .expect("spec");
        let e = check_fits(&huge, 64).expect_err("too large").to_string();
        assert!(e.contains("GiB") && e.contains("parameters"), "{e}");
    }
}
