//! Flash and RAM budgets (`--max-flash 32k --max-ram 8K`) checked against a student's footprint
//! before anything is written.
//!
//! * flash = the bytes of the student blob (the firmware embeds it as is);
//! * RAM = scratch (the two ping-pong activation buffers) + the int8 input + the int8 logits.
//!
//! Sizes accept a plain byte count (`16384`) or a binary suffix: `k`/`K`/`KB`/`KiB` (1024),
//! `m`/`M`/`MB`/`MiB` (1024²).

use minnow_core::{Layer, Student};

/// Why a size did not parse or a budget was exceeded.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum BudgetError {
    #[error("invalid size `{input}`: {reason} (examples: 16384, 32k, 8K, 1M)")]
    Parse { input: String, reason: &'static str },
    #[error(
        "the student needs {need} bytes of flash, {over} bytes over the budget of {limit}; the largest layer is layer {layer} ({kind}) with {layer_bytes} parameter bytes"
    )]
    Flash {
        need: u64,
        limit: u64,
        over: u64,
        layer: usize,
        kind: &'static str,
        layer_bytes: u64,
    },
    #[error(
        "the student needs {need} bytes of RAM (scratch {scratch} + input {input} + logits {logits}), {over} bytes over the budget of {limit}; the largest activation is the output of layer {layer} ({kind}) with {layer_bytes} bytes"
    )]
    Ram {
        need: u64,
        limit: u64,
        over: u64,
        scratch: u64,
        input: u64,
        logits: u64,
        layer: usize,
        kind: &'static str,
        layer_bytes: u64,
    },
    #[error("the student blob does not decode: {0}")]
    Blob(minnow_core::Error),
    #[error(
        "the student takes about {need} instructions per inference on the {core}, {over} over the budget of {limit} (predicted by the instruction model, docs/instructions.md)"
    )]
    Instructions {
        need: u64,
        limit: u64,
        over: u64,
        core: String,
    },
    #[error(
        "an instruction budget needs a core the instruction model knows (m0, m3, m4, m7, m33), not `{core}`"
    )]
    NoInstructionModel { core: String },
}

/// Parses `16384`, `32k`, `8K`, `64KiB`, `1M`, `2MB` into bytes.
pub fn parse_size(input: &str) -> Result<u64, BudgetError> {
    let err = |reason| BudgetError::Parse {
        input: input.to_owned(),
        reason,
    };
    let s = input.trim();
    let split = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (digits, suffix) = s.split_at(split);
    if digits.is_empty() {
        return Err(err("expected a number of bytes"));
    }
    let n: u64 = digits.parse().map_err(|_| err("number too large"))?;
    let unit: u64 = match suffix.trim() {
        "" | "b" | "B" => 1,
        "k" | "K" | "kb" | "KB" | "kB" | "KiB" | "kib" => 1024,
        "m" | "M" | "mb" | "MB" | "MiB" | "mib" => 1024 * 1024,
        _ => return Err(err("unknown unit (use k or M)")),
    };
    n.checked_mul(unit).ok_or_else(|| err("size overflows"))
}

/// Optional flash and RAM limits in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Budget {
    pub max_flash: Option<u64>,
    pub max_ram: Option<u64>,
}

impl Budget {
    /// Whether any limit is set.
    pub fn is_set(&self) -> bool {
        self.max_flash.is_some() || self.max_ram.is_some()
    }
}

/// What a student costs on the device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Usage {
    /// Blob bytes.
    pub flash: u64,
    /// `scratch + input + logits`.
    pub ram: u64,
    pub scratch: u64,
    pub input: u64,
    pub logits: u64,
    /// Layer with the most parameter bytes: `(index, kind, bytes)`.
    pub largest_params: (usize, &'static str, u64),
    /// Layer with the largest output activation: `(index, kind, bytes)`.
    pub largest_activation: (usize, &'static str, u64),
}

/// Measures a student blob (decoded by minnow-core).
pub fn usage(blob: &[u8]) -> Result<Usage, BudgetError> {
    let s = Student::decode(blob).map_err(BudgetError::Blob)?;
    let mut largest_params = (0, "", 0);
    let mut largest_activation = (0, "", 0);
    for (i, layer) in s.layers().enumerate() {
        let layer: Layer<'_> = layer.map_err(BudgetError::Blob)?;
        let p = layer.params().map_or(0, |p| p.byte_len() as u64);
        if p > largest_params.2 {
            largest_params = (i, layer.kind(), p);
        }
        let a = s.layer_shapes(i).map_or(0, |sh| sh.output.len() as u64);
        // Flatten moves no data: its "output" is its input's buffer.
        if !matches!(layer, Layer::Flatten) && a > largest_activation.2 {
            largest_activation = (i, layer.kind(), a);
        }
    }
    let (scratch, input, logits) = (
        s.scratch_len() as u64,
        s.input_len() as u64,
        s.classes() as u64,
    );
    Ok(Usage {
        flash: blob.len() as u64,
        ram: scratch + input + logits,
        scratch,
        input,
        logits,
        largest_params,
        largest_activation,
    })
}

/// Checks `usage` against `budget`.
pub fn check(budget: &Budget, usage: &Usage) -> Result<(), BudgetError> {
    if let Some(limit) = budget.max_flash
        && usage.flash > limit
    {
        let (layer, kind, layer_bytes) = usage.largest_params;
        return Err(BudgetError::Flash {
            need: usage.flash,
            limit,
            over: usage.flash - limit,
            layer,
            kind,
            layer_bytes,
        });
    }
    if let Some(limit) = budget.max_ram
        && usage.ram > limit
    {
        let (layer, kind, layer_bytes) = usage.largest_activation;
        return Err(BudgetError::Ram {
            need: usage.ram,
            limit,
            over: usage.ram - limit,
            scratch: usage.scratch,
            input: usage.input,
            logits: usage.logits,
            layer,
            kind,
            layer_bytes,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::int8::calibrate::QuantizeOptions;
    use crate::int8::quantize::quantize_student;
    use crate::int8::quantize::tests::{random_data, random_mlp};

    #[test]
    fn budget_parse_sizes() {
        assert_eq!(parse_size("16384"), Ok(16384));
        assert_eq!(parse_size("32k"), Ok(32 * 1024));
        assert_eq!(parse_size("8K"), Ok(8192));
        assert_eq!(parse_size("1M"), Ok(1 << 20));
        assert_eq!(parse_size("64KiB"), Ok(64 * 1024));
        assert_eq!(parse_size(" 2MB "), Ok(2 << 20));
        assert_eq!(parse_size("0"), Ok(0));
        for bad in [
            "",
            "k",
            "12x",
            "-1",
            "1.5k",
            "99999999999999999999",
            "18446744073709551615M",
        ] {
            let e = parse_size(bad).expect_err(bad);
            assert!(e.to_string().contains(bad.trim()), "{e}");
        }
    }

    #[test]
    fn budget_reports_overrun_and_largest_layer() {
        let student = random_mlp(&[64, 32, 10], 3);
        let data = random_data(16, [1, 1, 64], 10, 4);
        let blob = quantize_student(&student, &data, &QuantizeOptions::default())
            .and_then(|q| q.encode())
            .expect("blob");
        let u = usage(&blob).expect("usage");
        assert_eq!(u.flash, blob.len() as u64);
        assert_eq!((u.input, u.logits), (64, 10));
        assert_eq!(u.ram, u.scratch + 74);
        assert_eq!(u.largest_params.0, 0);
        assert_eq!(u.largest_params.2, 64 * 32 + 32 * 13);
        assert_eq!(u.largest_activation, (0, "dense", 32));
        assert_eq!(check(&Budget::default(), &u), Ok(()));
        let fits = Budget {
            max_flash: Some(u.flash),
            max_ram: Some(u.ram),
        };
        assert_eq!(check(&fits, &u), Ok(()));

        let e = check(
            &Budget {
                max_flash: Some(1024),
                max_ram: None,
            },
            &u,
        )
        .expect_err("flash");
        let msg = e.to_string();
        assert!(
            msg.contains(&format!("{} bytes over", u.flash - 1024)),
            "{msg}"
        );
        assert!(msg.contains("layer 0 (dense)"), "{msg}");

        let e = check(
            &Budget {
                max_flash: None,
                max_ram: Some(100),
            },
            &u,
        )
        .expect_err("ram");
        let msg = e.to_string();
        assert!(
            msg.contains(&format!("{} bytes over", u.ram - 100)),
            "{msg}"
        );
        assert!(msg.contains("RAM"), "{msg}");
    }
}
