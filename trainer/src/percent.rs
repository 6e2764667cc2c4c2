//! Fractions as percentages, as every table and log line prints them.

/// `0.9638` → `96.38%`.
pub fn pct(x: f64) -> String {
    format!("{:.2}%", 100.0 * x)
}

/// [`pct`], or `missing` when there is no value.
pub fn pct_or(x: Option<f64>, missing: &str) -> String {
    x.map_or_else(|| missing.to_owned(), pct)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages() {
        assert_eq!(pct(0.963_788), "96.38%");
        assert_eq!(pct(1.0), "100.00%");
        assert_eq!(pct_or(None, "-"), "-");
        assert_eq!(pct_or(Some(0.5), "-"), "50.00%");
    }
}
