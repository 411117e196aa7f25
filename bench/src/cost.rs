//! Running protocols at the sizes they see inside a transformer and collecting their cost.

use dyad_protocols::harness::{self, RunSpec};
use dyad_protocols::{HarnessError, ModelShape, Protocol, TruncMode};
use dyad_sim::runner::Correlations;
use dyad_sim::{CostReport, Counts, FixedPoint, Phase};
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::network::Profile;

/// A named shape set or one read from a file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShapeSet {
    /// Its name.
    pub name: String,
    /// The model shape.
    pub shape: ModelShape,
}

/// A shape set that cannot be used.
#[derive(Debug, Error)]
pub enum ShapeError {
    /// Neither a known name nor a readable YAML file.
    #[error(
        "{0:?} is neither bert-base, minilm nor ci, nor a YAML file of {{name, shape: {{seq, hidden, heads, ffn}}}}: {1}"
    )]
    Unknown(String, String),
    /// Zero sizes, or a hidden size the heads do not divide.
    #[error("{0}: every size must be positive and heads must divide hidden")]
    Invalid(String),
}

impl ShapeSet {
    /// `bert-base`, `minilm`, `ci`, or the path of a YAML file.
    pub fn named(name: &str) -> Result<Self, ShapeError> {
        let set = match name {
            "bert-base" => ShapeSet { name: name.into(), shape: ModelShape::BERT_BASE },
            "minilm" => ShapeSet { name: name.into(), shape: ModelShape::MINILM },
            "ci" => ShapeSet { name: name.into(), shape: ModelShape::CI },
            path => {
                let text =
                    crate::read_text(std::path::Path::new(path)).map_err(|e| ShapeError::Unknown(path.into(), e))?;
                return Self::parse(&text, path);
            }
        };
        Self::checked(set, name)
    }

    /// A shape set from a YAML file's text; `file` names it in errors.
    pub fn parse(text: &str, file: &str) -> Result<Self, ShapeError> {
        let set = serde_saphyr::from_str(text)
            .map_err(|e| ShapeError::Unknown(file.into(), dyad_sim::file::yaml_error(&e, file)))?;
        Self::checked(set, file)
    }

    /// `set` when its sizes are usable; `file` names it in the error.
    fn checked(set: ShapeSet, file: &str) -> Result<Self, ShapeError> {
        let s = set.shape;
        if s.seq == 0 || s.hidden == 0 || s.heads == 0 || s.ffn == 0 || !s.hidden.is_multiple_of(s.heads) {
            return Err(ShapeError::Invalid(format!("{file} (shape set {:?})", set.name)));
        }
        Ok(set)
    }
}

/// A protocol's measured cost at a shape.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProtocolCost {
    /// Protocol name.
    pub protocol: String,
    /// Dimensions run.
    pub dims: Vec<usize>,
    /// Whether the output passed its check.
    pub passed: bool,
    /// Cost per phase and label.
    pub cost: CostReport,
    /// Estimated online wall time per network profile, seconds.
    pub estimates: Vec<Estimate>,
}

/// The estimated time under one profile.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Estimate {
    /// Profile name.
    pub profile: String,
    /// Seconds (online phase; setup and dealer material excluded).
    pub online_seconds: f64,
    /// The network's share of it: rounds × latency + bytes / bandwidth, without compute (which
    /// measures this implementation as much as the protocol).
    pub network_seconds: f64,
    /// Seconds per query: the offline phase, then the online one. Absent when a dealer supplied
    /// correlations, whose offline material is not traffic between the parties.
    pub per_query_seconds: Option<f64>,
    /// The network's share of `per_query_seconds`.
    pub per_query_network_seconds: Option<f64>,
}

/// How to measure.
#[derive(Clone, Debug)]
pub struct CostSpec {
    /// The fixed-point format.
    pub fixed: FixedPoint,
    /// The truncation.
    pub trunc: TruncMode,
    /// The seed.
    pub seed: u64,
    /// Network profiles for the estimates.
    pub profiles: Vec<Profile>,
    /// Where correlated randomness comes from.
    pub correlations: Correlations,
}

/// The run that measures `p` at its dimensions in `shape`.
fn run_spec(p: &dyn Protocol, shape: &ModelShape, spec: &CostSpec) -> RunSpec {
    RunSpec {
        fixed: spec.fixed,
        trunc: Some(spec.trunc),
        correlations: spec.correlations,
        ..RunSpec::new(spec.fixed.ring(), spec.seed).with_dims(&p.model_dims(shape))
    }
}

/// Checks, before any work, that `p` can be measured at `shape` on this machine
/// ([`harness::check`]).
pub fn fits(p: &dyn Protocol, shape: &ModelShape, spec: &CostSpec) -> Result<(), HarnessError> {
    harness::check(p, &run_spec(p, shape, spec))
}

/// Runs `p` at its dimensions in `shape` and estimates its online time.
pub fn measure(p: &dyn Protocol, shape: &ModelShape, spec: &CostSpec) -> Result<ProtocolCost, HarnessError> {
    let checked = harness::run(p, &run_spec(p, shape, spec))?;
    let cost = checked.report.cost;
    let phases = |which: &[Phase]| {
        let mut counts = Counts::default();
        let (mut server, mut client) = (0.0, 0.0);
        for p in cost.phases.iter().filter(|p| which.contains(&p.phase)) {
            counts.add_times(&p.counts, 1);
            server += p.compute.server_seconds;
            client += p.compute.client_seconds;
        }
        (counts, server, client)
    };
    let online = phases(&[Phase::Online]);
    let per_query = (!cost.dealer_used).then(|| phases(&[Phase::Offline, Phase::Online]));
    let estimates = spec
        .profiles
        .iter()
        .map(|pr| {
            let time = |(counts, server, client): &(Counts, f64, f64)| pr.estimate(counts, *server, *client);
            let network = |(counts, _, _): &(Counts, f64, f64)| pr.estimate(counts, 0.0, 0.0);
            Estimate {
                profile: pr.name.clone(),
                online_seconds: time(&online),
                network_seconds: network(&online),
                per_query_seconds: per_query.as_ref().map(time),
                per_query_network_seconds: per_query.as_ref().map(network),
            }
        })
        .collect();
    Ok(ProtocolCost {
        protocol: p.name().into(),
        dims: p.model_dims(shape),
        passed: checked.report.passed,
        cost,
        estimates,
    })
}
