//! Flags whose value is one of a [`Choice`]'s names: clap lists the names with their
//! descriptions in `--help` and refuses others.

use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};

use crate::config::Choice;

/// The value parser of a [`Choice`] flag.
pub fn choice<T: Choice + Send + Sync>() -> impl TypedValueParser<Value = T> {
    PossibleValuesParser::new(
        T::ALL
            .iter()
            .map(|&(_, name, help)| PossibleValue::new(name).help(help)),
    )
    .try_map(|name: String| T::parse(&name))
}
