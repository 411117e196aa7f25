//! `dyad cost` and `dyad regress`: costs at transformer shapes with network estimates and the
//! papers' claims, and the exact-count regression gate.

use std::path::PathBuf;

use dyad_bench::accuracy::{AccuracyCheck, check_report};
use dyad_bench::claims::{ClaimCheck, Refusal, Unchecked, check, claims, unchecked};
use dyad_bench::cost::{CostSpec, ProtocolCost, ShapeSet, fits, measure};
use dyad_bench::network::Profile;
use dyad_bench::regress::{self, Diff};
use dyad_bench::render;
use dyad_model::registry::Registry;
use dyad_protocols::{ModelShape, TruncMode};
use dyad_sim::Ring;
use dyad_sim::runner::Correlations;
use serde::Serialize;

use crate::args::{Arith, Correlated, Format, Provider, Seed};
use crate::error::CliError;
use crate::output::emit;

/// Arguments of `dyad cost`.
#[derive(Debug, clap::Args)]
pub(crate) struct CostArgs {
    /// Protocols to measure (all when omitted, or those of the claims with --claims).
    protocols: Vec<String>,
    /// Shape set: bert-base, minilm, ci, or a YAML file {name, shape: {seq, hidden, heads, ffn}}.
    #[arg(long, default_value = "bert-base")]
    shapes: String,
    #[command(flatten)]
    arith: Arith,
    #[command(flatten)]
    seed: Seed,
    #[command(flatten)]
    correlations: Correlated,
    /// Extra network profiles: a YAML list of {name, bandwidth_bits_per_second, latency_seconds}.
    #[arg(long)]
    profiles: Option<PathBuf>,
    /// Put each paper's claimed speed-up next to the measured one.
    #[arg(long)]
    claims: bool,
    /// With --claims, freeDiv's accuracy claim from the JSON report of `dyad e2e --weights` of a
    /// distilled student; repeatable.
    #[arg(long, requires = "claims")]
    accuracy: Vec<PathBuf>,
    /// Show every label, not only phase totals.
    #[arg(long)]
    labels: bool,
}

#[derive(Serialize)]
struct CostOutput {
    shape_set: ShapeSet,
    ring_bits: u32,
    trunc: TruncMode,
    profiles: Vec<Profile>,
    costs: Vec<ProtocolCost>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    claims: Vec<ClaimCheck>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    accuracy_claims: Vec<AccuracyCheck>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    refused: Vec<Refusal>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    unchecked_claims: Vec<Unchecked>,
}

/// Runs `dyad cost`.
pub(crate) fn run_cost(args: CostArgs, registry: &Registry, format: Format) -> Result<u8, CliError> {
    let shapes = ShapeSet::named(&args.shapes).map_err(CliError::usage)?;
    let accuracy_claims: Vec<AccuracyCheck> =
        args.accuracy.iter().map(|p| check_report(p)).collect::<Result<_, _>>().map_err(CliError::Usage)?;
    let fixed = args.arith.fixed()?;
    let mut profiles = vec![Profile::lan(), Profile::wan()];
    if let Some(path) = &args.profiles {
        profiles.extend(Profile::load(path).map_err(CliError::usage)?);
    }
    let mut names = args.protocols.clone();
    if names.is_empty() && args.claims {
        for c in claims() {
            for n in c.proposal.iter().chain(&c.baseline) {
                if !names.contains(n) {
                    names.push(n.clone());
                }
            }
        }
    }
    let protocols = if names.is_empty() { registry.all() } else { registry.select(&names).map_err(CliError::usage)? };
    let spec = CostSpec {
        fixed,
        trunc: args.arith.trunc(),
        seed: args.seed.value,
        profiles: profiles.clone(),
        correlations: args.correlations.value(),
    };
    for p in &protocols {
        fits(*p, &shapes.shape, &spec).map_err(|e| CliError::Usage(format!("{}: {e}", p.name())))?;
    }
    let mut costs = Vec::with_capacity(protocols.len());
    let mut refused = Vec::new();
    for p in &protocols {
        eprintln!("measuring {} at {:?}", p.name(), p.model_dims(&shapes.shape));
        match measure(*p, &shapes.shape, &spec) {
            Ok(cost) => costs.push(cost),
            Err(e) => match e.unsupported_correlation() {
                Some(why) => refused.push(Refusal { protocol: p.name().into(), reason: why.to_string() }),
                None => return Err(CliError::Failed(format!("{}: {e}", p.name()))),
            },
        }
    }
    let checks = if args.claims { check(&costs) } else { Vec::new() };
    let unchecked_claims = if args.claims { unchecked(&refused) } else { Vec::new() };
    let out = CostOutput {
        shape_set: shapes,
        ring_bits: fixed.ring().bits(),
        trunc: spec.trunc,
        profiles,
        costs,
        claims: checks,
        accuracy_claims,
        refused,
        unchecked_claims,
    };
    emit(format, &out, || {
        let mut t = format!(
            "costs at {} {:?}, ring Z_2^{}, {} truncation\n\n",
            out.shape_set.name,
            out.shape_set.shape,
            out.ring_bits,
            out.trunc.name()
        );
        t.push_str(&render::costs(&out.costs, args.labels));
        if !out.claims.is_empty() {
            t.push('\n');
            t.push_str(&render::claims(&out.claims));
        }
        if args.claims {
            t.push('\n');
            t.push_str(&render::accuracy(&out.accuracy_claims));
        }
        if !out.refused.is_empty() {
            t.push('\n');
            t.push_str(&render::refused(spec.correlations.name(), &out.refused, &out.unchecked_claims));
        }
        t
    })?;
    Ok(0)
}

/// Arguments of `dyad regress`.
#[derive(Debug, clap::Args)]
pub(crate) struct RegressArgs {
    /// The committed baseline.
    #[arg(long, default_value_os_t = default_baseline())]
    baseline: PathBuf,
    /// Rewrite the baseline with the current counts (of the providers measured).
    #[arg(long)]
    update: bool,
    /// Measure only this provider's counts (every provider when omitted).
    #[arg(long = "correlations", value_enum)]
    provider: Option<Provider>,
}

/// `bench/baseline.yaml` in this source tree.
pub(crate) fn default_baseline() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("bench").join("baseline.yaml")
}

/// Runs `dyad regress`: exit 1 when a count grew.
pub(crate) fn run_regress(args: RegressArgs, registry: &Registry, format: Format) -> Result<u8, CliError> {
    let providers: Vec<Correlations> = match args.provider {
        Some(p) => vec![p.into()],
        None => Correlations::ALL.to_vec(),
    };
    let now = regress::compute(&registry.all(), ModelShape::CI, Ring::Z64, TruncMode::OneBit, &providers)
        .map_err(|e| CliError::Failed(e.to_string()))?;
    if args.update {
        // A provider not measured keeps its section of the file.
        let mut updated = now.clone();
        if let Ok(old) = regress::load(&args.baseline) {
            for (name, section) in old.providers {
                updated.providers.entry(name).or_insert(section);
            }
        }
        std::fs::write(&args.baseline, regress::to_yaml(&updated))
            .map_err(|e| CliError::Failed(format!("{}: {e}", args.baseline.display())))?;
        let counted: Vec<String> =
            now.providers.iter().map(|(p, s)| format!("{p}: {} protocols", s.protocols.len())).collect();
        eprintln!("wrote {} ({})", args.baseline.display(), counted.join("; "));
        return Ok(0);
    }
    let baseline = regress::load(&args.baseline).map_err(CliError::usage)?;
    let diff: Diff = regress::compare(&baseline, &now);
    emit(format, &diff, || render::diff(&diff))?;
    Ok(if diff.passed() { 0 } else { 1 })
}
