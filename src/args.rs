//! The arguments several commands share, and how they are parsed.

use std::path::PathBuf;

use clap::ValueEnum;
use dyad_model::registry::Registry;
use dyad_protocols::TruncMode;
use dyad_reference::approx::CoefficientSet;
use dyad_sim::{FixedPoint, Ring};

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
        let set = CoefficientSet::load(f).map_err(CliError::usage)?;
        names.extend(registry.add_coefficients(set).map_err(|e| CliError::Usage(format!("{}: {e}", f.display())))?);
    }
    Ok((registry, names))
}

/// The fixed-point arithmetic of a run: `--ring`, `--frac` and `--trunc`.
#[derive(Clone, Copy, Debug, clap::Args)]
pub(crate) struct Arith {
    /// Ring width ℓ.
    #[arg(long, default_value_t = 64, value_parser = parse_ring)]
    ring: u32,
    /// Fraction bits (18 for ℓ = 64, 13 for ℓ = 32 when omitted).
    #[arg(long)]
    frac: Option<u32>,
    /// Truncation after products.
    #[arg(long, value_enum, default_value_t = Trunc::OneBit)]
    trunc: Trunc,
}

impl Arith {
    /// The fixed-point format; a usage error naming the value when it does not fit the ring.
    pub(crate) fn fixed(&self) -> Result<FixedPoint, CliError> {
        let ring = Ring::new(self.ring).map_err(CliError::usage)?;
        match self.frac {
            // Products carry 2f fraction bits and must stay inside the truncations' domain
            // 2^(ℓ−2) with a bit to spare for sums: 2f + 3 ≤ ℓ.
            Some(f) if f == 0 || 2 * f + 3 > ring.bits() => Err(CliError::Usage(format!(
                "--frac {f}: products carry 2f fraction bits, which must leave 3 bits of Z_2^{}; choose 1 ≤ f ≤ {}",
                ring.bits(),
                (ring.bits() - 3) / 2
            ))),
            Some(f) => FixedPoint::new(ring, f).map_err(|e| CliError::Usage(format!("--frac {f}: {e}"))),
            None => Ok(FixedPoint::default_for(ring)),
        }
    }

    /// The truncation.
    pub(crate) fn trunc(&self) -> TruncMode {
        self.trunc.into()
    }
}

/// `--seed`: every random draw of a run (inputs, sentence choice, shares, correlations) follows
/// from it.
#[derive(Clone, Copy, Debug, clap::Args)]
pub(crate) struct Seed {
    /// Seed of every random draw: inputs, sentence split, shares, correlations.
    #[arg(long = "seed", default_value_t = 0)]
    pub(crate) value: u64,
}
