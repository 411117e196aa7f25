//! The arguments several commands share, and how they are parsed.

use std::path::PathBuf;

use clap::ValueEnum;
use dyad_model::registry::Registry;
use dyad_protocols::TruncMode;
use dyad_reference::approx::CoefficientSet;

use crate::error::CliError;

/// Truncation after products.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Trunc {
    /// SecureML's local truncation (±1 ULP, rarely garbage).
    Prob,
    /// Cheetah's truncation (±1 ULP, one OT per element).
    OneBit,
    /// Exact truncation (a millionaires' per element).
    Faithful,
}

impl From<Trunc> for TruncMode {
    fn from(t: Trunc) -> Self {
        match t {
            Trunc::Prob => TruncMode::Probabilistic,
            Trunc::OneBit => TruncMode::OneBit,
            Trunc::Faithful => TruncMode::Faithful,
        }
    }
}

/// How to print.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum Format {
    /// A human-readable table.
    Table,
    /// JSON (the stable report schema).
    Json,
    /// YAML (the same schema).
    Yaml,
}

/// Dimensions as given on the command line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Dims(pub Vec<usize>);

pub(crate) fn parse_dims(s: &str) -> Result<Dims, String> {
    s.split(['x', ','])
        .map(|d| d.trim().parse::<usize>().map_err(|_| format!("{s:?} is not a shape such as 128x768")))
        .collect::<Result<_, _>>()
        .map(Dims)
}

pub(crate) fn parse_ring(s: &str) -> Result<u32, String> {
    match s {
        "32" => Ok(32),
        "64" => Ok(64),
        _ => Err(format!("ring must be 32 or 64, got {s}")),
    }
}

/// `registry` with the protocols of every coefficient file in `files` added, and their names.
pub(crate) fn with_coefficients(
    mut registry: Registry,
    files: &[PathBuf],
) -> Result<(Registry, Vec<&'static str>), CliError> {
    let mut names = Vec::new();
    for f in files {
        let set = CoefficientSet::load(f).map_err(|e| CliError::Usage(e.to_string()))?;
        names.extend(registry.add_coefficients(set).map_err(|e| CliError::Usage(format!("{}: {e}", f.display())))?);
    }
    Ok((registry, names))
}
