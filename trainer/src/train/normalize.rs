//! Fitting the input normalisation a model trains with: by the kind of data
//! ([`NormScope::for_shape`]), saying once which features are constant.

use crate::data::{Dataset, NormScope, Standardizer};
use crate::error::Result;
use crate::train::progress;

/// The normalisation of a model trained on `train`, over `scope` (default: by the kind of
/// data). Constant features keep std 1; they are named once (the first few), since a constant
/// column is often a sign of a wrong file.
pub fn fit_normalization(
    train: &Dataset,
    scope: Option<NormScope>,
    quiet: bool,
) -> Result<Standardizer> {
    let scope = scope.unwrap_or(NormScope::for_shape(train.shape));
    let (norm, constant) = Standardizer::fit(train, scope)?;
    if !constant.is_empty() {
        let what = match scope {
            NormScope::PerValue => "feature",
            _ => "channel",
        };
        let first: Vec<String> = constant
            .iter()
            .take(8)
            .map(|k| (k + 1).to_string())
            .collect();
        let more = if constant.len() > 8 { ", ..." } else { "" };
        progress::log(
            quiet,
            &format!(
                "{}: {} constant {what}(s) ({}{more}, counted from 1) on the training split: kept with std 1",
                train.name,
                constant.len(),
                first.join(", ")
            ),
        );
    }
    Ok(norm)
}
