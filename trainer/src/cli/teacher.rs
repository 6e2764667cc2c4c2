//! The flags of ONNX teachers (`--teacher-scale`, `--teacher-offset`, `--teacher-layout`,
//! `--teacher-output`), shared by every command that takes a teacher, and of `minnow
//! teacher-info`.

use std::path::PathBuf;

use clap::Args;
use serde::Serialize;

use crate::cli::choice::choice;
use crate::cli::data::DataArgs;
use crate::config::{self, SettingsError};
use crate::data::DataConfig;
use crate::error::Result;
use crate::train::onnx::settings::{OnnxSettings, TeacherLayout, TeacherOutput};

/// How ONNX teachers see the samples; each flag given becomes its settings key.
#[derive(Debug, Clone, Default, Args, Serialize)]
pub struct OnnxFlags {
    /// ONNX teachers see each raw value (as read from the data file) times S, e.g. 0.00392157
    /// for a model trained on pixels / 255 [default: 1].
    #[arg(long, value_name = "S", allow_negative_numbers = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub teacher_scale: Option<f32>,
    /// ... plus O, after the scale [default: 0].
    #[arg(long, value_name = "O", allow_negative_numbers = true)]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub teacher_offset: Option<f32>,
    /// The axes of an ONNX teacher's 4-D input [default: auto].
    #[arg(long, value_parser = choice::<TeacherLayout>())]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub teacher_layout: Option<TeacherLayout>,
    /// What an ONNX teacher's output holds [default: logits].
    #[arg(long, value_parser = choice::<TeacherOutput>())]
    #[serde(skip_serializing_if = "Option::is_none")]
    pub teacher_output: Option<TeacherOutput>,
}

impl OnnxFlags {
    /// The settings keys of the flags given.
    pub fn table(&self) -> Result<toml::Table> {
        Ok(toml::Table::try_from(self).map_err(SettingsError::from)?)
    }

    /// The flags given over `base`.
    pub fn over(&self, base: &OnnxSettings) -> Result<OnnxSettings> {
        let mut t = toml::Table::try_from(base).map_err(SettingsError::from)?;
        t.extend(self.table()?);
        Ok(config::over_defaults(&t)?)
    }
}

/// `minnow teacher-info FILE.onnx`.
#[derive(Debug, Clone, Args)]
pub struct TeacherInfoArgs {
    /// The ONNX file.
    #[arg(value_name = "FILE.onnx")]
    pub file: PathBuf,
    /// Data whose test split the teacher is scored on (none: the file's facts only).
    #[command(flatten)]
    pub data: DataArgs,
    #[command(flatten)]
    pub onnx: OnnxFlags,
}

impl TeacherInfoArgs {
    /// The data to score on, split as `minnow distill` splits it by default.
    pub fn data(&self) -> Result<Option<DataConfig>> {
        Ok(self.data.spec()?.map(|source| DataConfig {
            source,
            ..DataConfig::default()
        }))
    }
}
