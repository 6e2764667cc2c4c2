//! The students `minnow fit` considers for a data shape: MLPs of one and two hidden layers,
//! CNNs (3x3 convolutions with 2x2 max pooling, optionally a hidden layer) and depthwise-
//! separable CNNs for images, 1-D CNNs for sequences, from a linear model up. Each is costed
//! exactly ([`super::cost`]); those over the budget are never trained.

use crate::data::NormScope;
use crate::error::Result;
use crate::net::spec::{Arch, NetConfig, NetSpec};

use super::cost::{Cost, Limits, cost, normalization_pairs};
use super::error::SpaceError;

/// Hidden widths of the MLPs (and the second layer is half the first).
const WIDTHS: [usize; 12] = [4, 8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256];
/// First conv block widths (the next blocks double them).
const CHANNELS: [usize; 6] = [2, 4, 6, 8, 12, 16];
/// Hidden dense layers after a conv stack.
const CONV_HIDDEN: [&[usize]; 3] = [&[], &[16], &[32]];

/// A network of the search space, with its cost.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    /// A short name that says what it is: `mlp-64-32`, `cnn-4-8-h16`, `dwcnn-8-16`.
    pub name: String,
    pub net: NetConfig,
    pub cost: Cost,
}

fn net(arch: Arch, hidden: &[usize], channels: &[usize]) -> NetConfig {
    NetConfig {
        arch,
        hidden: hidden.to_vec(),
        channels: channels.to_vec(),
        dropout: 0.0,
        input_dropout: 0.0,
        relu6: false,
        stride: 1,
    }
}

fn strided(net: NetConfig, stride: usize) -> NetConfig {
    NetConfig { stride, ..net }
}

/// The name of `net`: its family, its conv widths, `h` and its hidden widths.
pub fn name_of(net: &NetConfig) -> String {
    use crate::config::Choice;
    let join = |v: &[usize]| v.iter().map(usize::to_string).collect::<Vec<_>>().join("-");
    let mut name = net.arch.name().to_owned();
    if net.stride != 1 {
        name = format!("{name}-s{}", net.stride);
    }
    if net.arch != Arch::Mlp && !net.channels.is_empty() {
        name = format!("{name}-{}", join(&net.channels));
    }
    match (net.arch, net.hidden.is_empty()) {
        (Arch::Mlp, true) => name.push_str("-linear"),
        (Arch::Mlp, false) => name = format!("{name}-{}", join(&net.hidden)),
        (_, false) => name = format!("{name}-h{}", join(&net.hidden)),
        (_, true) => {}
    }
    name
}

/// Every network of the space for samples of `shape`, in a fixed order.
pub fn networks(shape: [usize; 3]) -> Vec<NetConfig> {
    let [h, w, _] = shape;
    let mut nets = vec![net(Arch::Mlp, &[], &[])];
    for &width in &WIDTHS {
        nets.push(net(Arch::Mlp, &[width], &[]));
        if width >= 16 {
            nets.push(net(Arch::Mlp, &[width, width / 2], &[]));
        }
    }
    let stacks = |blocks: usize| {
        CHANNELS
            .iter()
            .map(move |&c| (0..blocks).map(|b| c << b.min(2)).collect::<Vec<usize>>())
    };
    if h > 1 && w > 1 {
        // A strided first convolution where the image is large enough to lose half.
        let strides: &[usize] = if h >= 8 && w >= 8 { &[1, 2] } else { &[1] };
        for &stride in strides {
            for blocks in 1..=3 {
                for channels in stacks(blocks) {
                    for hidden in CONV_HIDDEN {
                        nets.push(strided(net(Arch::Cnn, hidden, &channels), stride));
                    }
                }
            }
            for channels in stacks(2) {
                nets.push(strided(net(Arch::Dwcnn, &[], &channels), stride));
            }
        }
    } else if h > 1 && w == 1 {
        for blocks in 1..=2 {
            for channels in stacks(blocks) {
                for hidden in CONV_HIDDEN {
                    nets.push(net(Arch::Cnn1d, hidden, &channels));
                }
            }
        }
    }
    nets
}

/// The candidates for data of `shape` and `classes` named `data_name` that fit `limits`,
/// smallest flash first (ties by name); an error naming the smallest when none does.
pub fn feasible(
    shape: [usize; 3],
    classes: usize,
    scope: Option<NormScope>,
    data_name: &str,
    limits: &Limits,
) -> Result<Vec<Candidate>> {
    let pairs = normalization_pairs(shape, scope);
    let mut all = Vec::new();
    for net in networks(shape) {
        let spec = NetSpec::build(&net, shape, classes)?;
        let blob_name = crate::train::distill::blob_name_for(data_name, net.arch);
        let cost = cost(&spec, &blob_name, pairs, 0)?;
        all.push(Candidate {
            name: name_of(&net),
            net,
            cost,
        });
    }
    all.sort_by(|a, b| (a.cost.usage.flash, &a.name).cmp(&(b.cost.usage.flash, &b.name)));
    let count = all.len();
    let fits = |c: &Candidate| super::cost::check(limits, &c.cost).is_ok();
    let by_flash = all.first().cloned();
    let by_ram = all
        .iter()
        .min_by_key(|c| (c.cost.usage.ram, c.cost.usage.flash))
        .cloned();
    let fit: Vec<Candidate> = all.into_iter().filter(fits).collect();
    match (fit.is_empty(), by_flash, by_ram) {
        (true, Some(f), Some(r)) => Err(SpaceError::NothingFits {
            count,
            budget: limits.describe(),
            flash_name: f.name,
            flash_flash: f.cost.usage.flash,
            flash_ram: f.cost.usage.ram,
            ram_name: r.name,
            ram_flash: r.cost.usage.flash,
            ram_ram: r.cost.usage.ram,
        }
        .into()),
        _ => Ok(fit),
    }
}

/// Up to `n` of `candidates` (sorted by flash), spread over their range of sizes: the sorted list
/// cut into `n` runs of neighbours, from the smallest to the largest, and from each run the one
/// with the most multiply-accumulates (the flash being about the same, more computation on it:
/// a strided network does less with the same weights than an unstrided one, and took the place
/// of a better one when one pick in every run was at a fixed rank).
pub fn spread(candidates: &[Candidate], n: usize) -> Vec<Candidate> {
    let len = candidates.len();
    if n == 0 || len <= n {
        return candidates.to_vec();
    }
    (0..n)
        .filter_map(|i| {
            let run = candidates.get(i * len / n..(i + 1) * len / n)?;
            // The last of equals: the larger in flash.
            run.iter().max_by_key(|c| c.cost.macs).cloned()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::int8::budget::Budget;

    fn limits(budget: Budget) -> Limits {
        Limits {
            budget,
            max_instructions: None,
            core: "m4".into(),
        }
    }

    #[test]
    fn names_say_what_a_network_is() {
        assert_eq!(name_of(&net(Arch::Mlp, &[], &[])), "mlp-linear");
        assert_eq!(name_of(&net(Arch::Mlp, &[64, 32], &[])), "mlp-64-32");
        assert_eq!(name_of(&net(Arch::Cnn, &[16], &[4, 8])), "cnn-4-8-h16");
        assert_eq!(name_of(&net(Arch::Dwcnn, &[], &[8, 16])), "dwcnn-8-16");
        assert_eq!(name_of(&net(Arch::Cnn1d, &[], &[4])), "cnn1d-4");
        assert_eq!(name_of(&strided(net(Arch::Cnn, &[], &[4]), 2)), "cnn-s2-4");
    }

    /// Images get CNNs, sequences 1-D CNNs, tables MLPs only; every network builds.
    #[test]
    fn the_space_follows_the_data() {
        let kinds = |shape| {
            let nets = networks(shape);
            for n in &nets {
                NetSpec::build(n, shape, 10).unwrap_or_else(|e| panic!("{}: {e}", name_of(n)));
            }
            let mut archs: Vec<Arch> = nets.iter().map(|n| n.arch).collect();
            archs.sort_by_key(|a| *a as u8);
            archs.dedup();
            archs
        };
        assert_eq!(kinds([8, 8, 1]), [Arch::Mlp, Arch::Cnn, Arch::Dwcnn]);
        assert_eq!(kinds([32, 1, 3]), [Arch::Mlp, Arch::Cnn1d]);
        assert_eq!(kinds([1, 13, 1]), [Arch::Mlp]);
    }

    /// Only what fits, smallest first; a budget nothing fits names the smallest candidate.
    #[test]
    fn feasible_candidates_fit_the_budget() {
        let budget = Budget {
            max_flash: Some(1500),
            max_ram: Some(400),
        };
        let fit = feasible([8, 8, 1], 10, None, "digits", &limits(budget)).expect("some fit");
        assert!(fit.len() >= 3, "{} fit", fit.len());
        for c in &fit {
            assert!(
                c.cost.usage.flash <= 1500 && c.cost.usage.ram <= 400,
                "{}",
                c.name
            );
        }
        assert!(
            fit.windows(2)
                .all(|w| w[0].cost.usage.flash <= w[1].cost.usage.flash)
        );
        assert!(
            fit.iter().any(|c| c.net.arch == Arch::Cnn),
            "a CNN fits 1.5 KB"
        );

        let tiny = Budget {
            max_flash: Some(100),
            max_ram: None,
        };
        let e = feasible([8, 8, 1], 10, None, "digits", &limits(tiny)).expect_err("nothing fits");
        let msg = e.to_string();
        assert!(
            msg.contains("the smallest in flash, cnn-s2-2, needs")
                && msg.contains("the smallest in RAM, mlp-linear")
                && msg.contains("flash budget 100 bytes"),
            "{msg}"
        );
    }

    #[test]
    fn spread_takes_the_most_macs_of_each_run_of_sizes() {
        let fit = feasible(
            [8, 8, 1],
            10,
            None,
            "digits",
            &limits(Budget {
                max_flash: Some(4096),
                max_ram: None,
            }),
        )
        .expect("fit");
        let picked = spread(&fit, 5);
        assert_eq!(picked.len(), 5);
        // One from each fifth of the flash-sorted list, the one with the most MACs there.
        let len = fit.len();
        for (i, p) in picked.iter().enumerate() {
            let run = &fit[i * len / 5..(i + 1) * len / 5];
            assert!(run.contains(p), "{} not from run {i}", p.name);
            assert!(run.iter().all(|c| c.cost.macs <= p.cost.macs), "{}", p.name);
        }
        assert_eq!(spread(&fit[..3], 5).len(), 3);

        // An instruction budget on the M4 keeps the candidates predicted within it.
        let m4 = |c: &Candidate| c.cost.instructions.on("m4").expect("an M4 model");
        let mut counts: Vec<u64> = fit.iter().map(m4).collect();
        counts.sort_unstable();
        let median = counts[counts.len() / 2];
        let fast = feasible(
            [8, 8, 1],
            10,
            None,
            "digits",
            &Limits {
                max_instructions: Some(median),
                ..limits(Budget {
                    max_flash: Some(4096),
                    max_ram: None,
                })
            },
        )
        .expect("fast ones");
        assert!(fast.len() < fit.len() && fast.len() > fit.len() / 3);
        assert!(fast.iter().all(|c| m4(c) <= median));
    }
}
