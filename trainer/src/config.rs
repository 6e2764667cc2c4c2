//! Settings files. Every flag of a command is a key of its `--config FILE.toml` (dashes become
//! underscores): `--soft-weight 0.5` is `soft_weight = 0.5`. A command resolves its settings as
//! defaults, then the file, then the flags given on the command line (flags win), and saves
//! the result as `config.toml` in its run folder, which `--config` (or `minnow resume`) reads
//! back. Unknown keys are errors, reported against the file that holds them.
//!
//! The settings types themselves live with the stage they configure (`data::DataConfig`,
//! `net::ArchParams`, `train::LoopConfig`, ...); this module only knows TOML.

use std::cell::Cell;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::files::{self, IoError};

/// Why settings could not be read.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error(transparent)]
    Parse(#[from] toml::de::Error),
    #[error("unknown setting `{key}` (known: {known})")]
    Unknown { key: String, known: String },
    #[error("cannot write the settings as TOML: {0}")]
    Write(#[from] toml::ser::Error),
    #[error(transparent)]
    Invalid(#[from] Invalid),
}

/// Settings that could not be read, with the file they came from.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{}: {source}", path.display())]
    File {
        path: PathBuf,
        #[source]
        source: SettingsError,
    },
    #[error("invalid settings: {0}")]
    Flags(#[source] SettingsError),
    #[error(transparent)]
    Io(#[from] IoError),
}

/// A setting that takes one of a fixed set of named values. The table is the one place the
/// names are written: serde (via [`choice_serde`]), the command line's choices and the
/// messages all read it.
pub trait Choice: Copy + PartialEq + 'static {
    /// Every value, its name and a one-line description.
    const ALL: &'static [(Self, &'static str, &'static str)];

    /// The value's name.
    fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(v, _, _)| *v == self)
            .map_or("", |(_, name, _)| name)
    }

    /// The value called `name`, or a message listing the names.
    fn parse(name: &str) -> Result<Self, String> {
        Self::ALL
            .iter()
            .find(|(_, n, _)| *n == name)
            .map(|(v, _, _)| *v)
            .ok_or_else(|| {
                let names: Vec<&str> = Self::ALL.iter().map(|(_, n, _)| *n).collect();
                format!("`{name}` is not one of {}", names.join(", "))
            })
    }
}

/// Serialises a [`Choice`] as its name.
macro_rules! choice_serde {
    ($t:ty) => {
        impl serde::Serialize for $t {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str($crate::config::Choice::name(*self))
            }
        }

        impl<'de> serde::Deserialize<'de> for $t {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let name = String::deserialize(d)?;
                <$t as $crate::config::Choice>::parse(&name).map_err(serde::de::Error::custom)
            }
        }
    };
}
pub(crate) use choice_serde;

/// A setting whose value a command cannot run with.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{key} = {value}: {problem}")]
pub struct Invalid {
    pub key: &'static str,
    pub value: String,
    pub problem: String,
}

impl Invalid {
    pub fn new(
        key: &'static str,
        value: impl std::fmt::Display,
        problem: impl Into<String>,
    ) -> Self {
        Invalid {
            key,
            value: readable_number(value.to_string()),
            problem: problem.into(),
        }
    }
}

/// A number as a user would write it: `1e-30`, not thirty zeros (Rust prints floats in full).
fn readable_number(text: String) -> String {
    if text.len() <= 12 || text.parse::<u64>().is_ok() {
        return text;
    }
    match text.parse::<f64>() {
        Ok(v) if v.is_finite() => format!("{v:e}"),
        _ => text,
    }
}

/// `value` of setting `key` within `[lo, hi]` (NaN is outside every range).
pub fn in_range<T: PartialOrd + std::fmt::Display + Copy>(
    key: &'static str,
    value: T,
    lo: T,
    hi: T,
) -> Result<(), Invalid> {
    if value >= lo && value <= hi {
        Ok(())
    } else {
        Err(Invalid::new(key, value, format!("must be in [{lo}, {hi}]")))
    }
}

/// Settings a command reads from TOML: a default for every key, so a file or flag table may
/// give any subset of them. [`Settings::check`] is the one validation of every value, run
/// wherever settings are read (flags, settings files, a saved run's `config.toml`) and before a
/// stage runs.
pub trait Settings: Default + Serialize + DeserializeOwned {
    /// Refuses values the command cannot run with: non-finite numbers, values out of range,
    /// sizes beyond what the format or a machine can hold.
    fn check(&self) -> Result<(), Invalid> {
        Ok(())
    }
}

thread_local! {
    /// Set while [`over_defaults`] lists the keys of a settings type.
    static EVERY_KEY: Cell<bool> = const { Cell::new(false) };
}

/// For `skip_serializing_if`: a key at its default (`at_default`) stays out of saved configs,
/// so runs that do not use a newer setting write the bytes they always did; but not while
/// [`over_defaults`] lists the keys a type knows, or a key given at its default (`--noise 0`)
/// would be taken for an unknown one.
pub fn omit_default(at_default: bool) -> bool {
    at_default && !EVERY_KEY.with(Cell::get)
}

/// `f` with every key serialised, those at their defaults included.
fn with_every_key<R>(f: impl FnOnce() -> R) -> R {
    EVERY_KEY.with(|k| k.set(true));
    let r = f();
    EVERY_KEY.with(|k| k.set(false));
    r
}

/// `given` over `T`'s defaults. A key that the result does not serialise back (with every key
/// serialised, see [`omit_default`]) is one `T` does not have: every given key of `T`
/// serialises back, `None` options included, since a given key is never `None`.
pub fn over_defaults<T: Settings>(given: &toml::Table) -> Result<T, SettingsError> {
    let mut table = toml::Table::try_from(T::default())?;
    for (k, v) in given {
        table.insert(k.clone(), v.clone());
    }
    let value: T = toml::Value::Table(table).try_into()?;
    let back = with_every_key(|| toml::Table::try_from(&value))?;
    if let Some(key) = given.keys().find(|k| !back.contains_key(*k)) {
        let known: Vec<&str> = back.keys().map(String::as_str).collect();
        return Err(SettingsError::Unknown {
            key: key.clone(),
            known: known.join(", "),
        });
    }
    value.check()?;
    Ok(value)
}

/// For `#[serde(deserialize_with = "...")]` on a settings table nested in another (`[teacher]`
/// in a `minnow run` file): the keys it gives over the type's own defaults.
pub fn nested_over_defaults<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Settings,
{
    let given = <toml::Table as serde::Deserialize>::deserialize(d)?;
    over_defaults(&given).map_err(serde::de::Error::custom)
}

/// Resolves settings: defaults < `file` < `flags` (a table of the flags actually given).
/// Relative paths in the file are taken relative to the file's folder.
pub fn resolve<T: Settings>(file: Option<&Path>, flags: toml::Table) -> Result<T, ConfigError> {
    let mut table = toml::Table::new();
    if let Some(path) = file {
        let file_err = |source| ConfigError::File {
            path: path.to_owned(),
            source,
        };
        let text = files::read_to_string(path)?;
        let mut from_file: toml::Table =
            toml::from_str(&text).map_err(|e| file_err(SettingsError::Parse(e)))?;
        anchor_paths(&mut from_file, path.parent().unwrap_or(Path::new(".")));
        // The file on its own first, so that its mistakes are reported against it.
        over_defaults::<T>(&from_file).map_err(file_err)?;
        table = from_file;
    }
    table.extend(flags);
    over_defaults(&table).map_err(ConfigError::Flags)
}

/// Joins the relative paths of a settings file onto the file's folder (or, writing a file
/// to be read from elsewhere, onto the folder they are relative to now).
pub fn anchor_paths(table: &mut toml::Table, base: &Path) {
    let fix = |v: &mut toml::Value| {
        if let toml::Value::String(s) = v {
            let p = Path::new(s.as_str());
            if p.is_relative() {
                *s = base.join(p).to_string_lossy().into_owned();
            }
        }
    };
    for key in ["out", "teacher_logits", "init_from"] {
        if let Some(v) = table.get_mut(key) {
            fix(v);
        }
    }
    if let Some(toml::Value::Array(a)) = table.get_mut("teacher") {
        a.iter_mut().for_each(fix);
    }
    if let Some(toml::Value::Table(d)) = table.get_mut("data") {
        for key in ["dir", "images", "labels", "path", "features"] {
            if let Some(v) = d.get_mut(key) {
                fix(v);
            }
        }
    }
}

/// Settings as TOML text.
pub fn to_toml<T: Serialize>(cfg: &T) -> Result<String, SettingsError> {
    Ok(toml::to_string_pretty(cfg)?)
}

/// Reads a saved settings file (a run folder's `config.toml`).
pub fn load_toml<T: Settings>(path: &Path) -> Result<T, ConfigError> {
    let text = files::read_to_string(path)?;
    let file_err = |source| ConfigError::File {
        path: path.to_owned(),
        source,
    };
    let table: toml::Table =
        toml::from_str(&text).map_err(|e| file_err(SettingsError::Parse(e)))?;
    over_defaults(&table).map_err(file_err)
}

/// Checks that every value of a [`Choice`] survives its name, both ways (for each type's tests).
#[cfg(test)]
pub(crate) fn check_choice<T: Choice + std::fmt::Debug + Serialize + DeserializeOwned>() {
    for (v, name, help) in T::ALL {
        assert_eq!(v.name(), *name);
        assert_eq!(T::parse(name), Ok(*v));
        assert!(!help.is_empty(), "{name} has no description");
        let text = toml::to_string(&std::collections::BTreeMap::from([("k", *v)])).expect("toml");
        assert_eq!(text, format!("k = \"{name}\"\n"));
        let back: std::collections::BTreeMap<String, T> = toml::from_str(&text).expect("parse");
        assert_eq!(back["k"], *v);
    }
    assert!(T::parse("no-such-value").is_err());
}
