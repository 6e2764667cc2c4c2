//! Shared helpers of the end-to-end journeys in `tests/`.

use std::path::{Path, PathBuf};

pub mod baseline;
pub mod sensor;

/// The repository root.
pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .map_or_else(|| PathBuf::from(".."), Path::to_path_buf)
}

/// Whether the firmware can be built and run here (thumb toolchain and qemu-system-arm, as
/// `minnow verify` finds them). Without them it prints why `what` is skipped and returns false,
/// unless `MINNOW_REQUIRE_QEMU` is set (CI sets it), when a missing tool fails the test instead.
pub fn qemu_available(what: &str) -> bool {
    let toolchain = minnow::device::toolchain::find("thumbv7em-none-eabihf");
    let qemu = minnow::device::qemu::available();
    if toolchain.is_ok() && qemu {
        return true;
    }
    let why = format!(
        "{what} skipped: thumb toolchain {} / qemu-system-arm {} (scripts/thumb-toolchain.sh --install)",
        toolchain.map_or_else(|e| format!("missing ({e})"), |_| "ok".into()),
        if qemu { "ok" } else { "missing" }
    );
    assert!(std::env::var_os("MINNOW_REQUIRE_QEMU").is_none(), "{why}");
    eprintln!("{why}");
    false
}

/// Asserts that minnow fit's instruction model, which runs before training, predicted what QEMU
/// counted on `core` within its tolerance (`minnow::fit::instructions::TOLERANCE`), and prints
/// both.
pub fn assert_instructions_predicted(what: &str, core: &str, predicted: u64, measured: u64) {
    let (p, m) = (predicted as f64, measured as f64);
    eprintln!(
        "{what}: {core} instructions {measured} measured, {predicted} predicted ({:+.1} %)",
        100.0 * (p - m) / m
    );
    assert!(
        (p - m).abs() <= minnow::fit::instructions::TOLERANCE * m,
        "{what}: instruction model {predicted} predicted, {measured} measured on the {core}"
    );
}

/// report.html read back: the numbers it states against report.json and report.md, and the page
/// rendered in headless Chromium.
pub mod report_page {
    use std::path::{Path, PathBuf};
    use std::process::Command;

    /// The value at dotted `key` of report.json, written as the reports write it: fractions
    /// (accuracies, agreements) as percentages with two decimals, instructions per MAC with two
    /// decimals, counts as they are. Written here from the JSON alone, not by minnow's code.
    pub fn json_text(json: &serde_json::Value, key: &str) -> Option<String> {
        let v = key.split('.').try_fold(json, |v, k| v.get(k))?;
        if v.is_null() {
            return None;
        }
        Some(if key.ends_with("accuracy") || key.ends_with("agreement") {
            format!("{:.2}%", 100.0 * v.as_f64()?)
        } else if key.ends_with("per_mac") {
            format!("{:.2}", v.as_f64()?)
        } else {
            v.as_u64()?.to_string()
        })
    }

    /// `data-key` and text of every tagged element of a page.
    pub fn tagged(html: &str) -> Vec<(String, String)> {
        html.split("data-key=\"")
            .skip(1)
            .filter_map(|rest| {
                let (key, rest) = rest.split_once('"')?;
                let text = rest.split_once('>')?.1.split_once('<')?.0;
                Some((key.to_owned(), text.to_owned()))
            })
            .collect()
    }

    /// Whether `text` states the number `n`, not as part of a longer one.
    pub fn states(text: &str, n: &str) -> bool {
        let digit = |c: Option<char>| c.is_some_and(|c| c.is_ascii_digit());
        text.match_indices(n).any(|(at, _)| {
            let mut before = text[..at].chars().rev();
            let mut after = text[at + n.len()..].chars();
            let (b, a) = (before.next(), after.next());
            let continued_before = digit(b) || (b == Some('.') && digit(before.next()));
            let continued_after = digit(a) || (a == Some('.') && digit(after.next()));
            !continued_before && !continued_after
        })
    }

    /// Every number report.html states is report.json's, and report.md states it too; at least
    /// `at_least` numbers are stated. The mismatches, if any.
    pub fn same_numbers(
        json: &[u8],
        md: &str,
        html: &str,
        at_least: usize,
    ) -> Result<usize, String> {
        let value: serde_json::Value = serde_json::from_slice(json).map_err(|e| e.to_string())?;
        let tags = tagged(html);
        if tags.len() < at_least {
            return Err(format!("only {} tagged numbers in report.html", tags.len()));
        }
        let mut wrong = Vec::new();
        for (key, text) in &tags {
            match json_text(&value, key) {
                None => wrong.push(format!("{key} is not in report.json")),
                Some(want) if want != *text => {
                    wrong.push(format!("{key}: report.html {text}, report.json {want}"))
                }
                Some(want) if !states(md, &want) => {
                    wrong.push(format!("{key}: report.md does not state {want}"))
                }
                Some(_) => {}
            }
        }
        if wrong.is_empty() {
            Ok(tags.len())
        } else {
            Err(wrong.join("; "))
        }
    }

    /// A headless Chromium on this machine (Debian's chromium-headless-shell or chromium).
    pub fn chromium() -> Option<PathBuf> {
        ["chromium-headless-shell", "chromium", "chromium-browser"]
            .iter()
            .find_map(|name| {
                let found = Command::new("sh")
                    .args(["-c", &format!("command -v {name}")])
                    .output()
                    .ok()?;
                let path = String::from_utf8(found.stdout).ok()?;
                let path = path.trim();
                (found.status.success() && !path.is_empty()).then(|| PathBuf::from(path))
            })
    }

    /// What Chromium made of a page.
    #[derive(Debug)]
    pub struct Rendered {
        /// The DOM after loading.
        pub dom: String,
        /// The page's console messages (errors, failed loads): none is expected.
        pub console: Vec<String>,
    }

    /// Loads `page` in headless Chromium, writes a `width` x `height` screenshot to
    /// `screenshot`, and returns the DOM and the console.
    pub fn render(
        chromium: &Path,
        page: &Path,
        screenshot: &Path,
        size: (u32, u32),
    ) -> Result<Rendered, String> {
        let url = format!("file://{}", page.display());
        let common = [
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--enable-logging=stderr",
            "--v=0",
        ];
        let shot = Command::new(chromium)
            .args(common)
            .arg(format!("--screenshot={}", screenshot.display()))
            .arg(format!("--window-size={},{}", size.0, size.1))
            .arg(&url)
            .output()
            .map_err(|e| format!("{}: {e}", chromium.display()))?;
        let dump = Command::new(chromium)
            .args(common)
            .arg("--dump-dom")
            .arg(&url)
            .output()
            .map_err(|e| format!("{}: {e}", chromium.display()))?;
        if !shot.status.success() || !dump.status.success() {
            return Err(format!(
                "chromium failed: {}",
                String::from_utf8_lossy(&shot.stderr)
            ));
        }
        let console = [&shot.stderr, &dump.stderr]
            .iter()
            .flat_map(|e| {
                String::from_utf8_lossy(e)
                    .lines()
                    .map(str::to_owned)
                    .collect::<Vec<_>>()
            })
            .filter(|l| l.contains(":CONSOLE"))
            .collect();
        Ok(Rendered {
            dom: String::from_utf8_lossy(&dump.stdout).into_owned(),
            console,
        })
    }
}
