//! `dyad audit` and `dyad fit`: the accuracy audit on recorded activations, and the
//! distribution-aware fit that produces coefficient files.

use std::io::Write as _;
use std::path::PathBuf;

use clap::ValueEnum;
use dyad_model::registry::Registry;
use dyad_protocols::Protocol;
use dyad_reference::approx::{CoefficientSet, Target};
use dyad_sim::{FixedPoint, Ring};
use dyad_vectors::{Kind, VectorSet};
use dyad_verify::fit::{FitSpec, fit, to_set, weighted_mean_abs, weighted_rms};
use dyad_verify::points::pooled_points;
use dyad_verify::{AuditReport, AuditSpec, audit, plot, render};
use indicatif::{ProgressBar, ProgressStyle};

use crate::args::{Arith, Correlated, Format, Seed};
use crate::error::CliError;
use crate::output::emit;

/// Arguments of `dyad audit`.
#[derive(Debug, clap::Args)]
pub(crate) struct AuditArgs {
    /// The recorded vector set.
    #[arg(long, default_value_os_t = dyad_vectors::bundled_dir())]
    vectors: PathBuf,
    #[command(flatten)]
    arith: Arith,
    #[command(flatten)]
    seed: Seed,
    #[command(flatten)]
    correlations: Correlated,
    /// Recorded samples per layer for element-wise protocols.
    #[arg(long, default_value_t = 4096)]
    samples: usize,
    /// Recorded rows per layer for Softmax and LayerNorm.
    #[arg(long, default_value_t = 64)]
    rows: usize,
    /// Layers to audit, comma-separated (all when omitted).
    #[arg(long, value_delimiter = ',')]
    layers: Option<Vec<usize>>,
    /// Audit only these protocols (repeatable; all with an activation kind when omitted).
    #[arg(long = "protocol")]
    protocols: Vec<String>,
    /// Write an SVG per element-wise protocol and layer into this directory.
    #[arg(long)]
    plot: Option<PathBuf>,
    /// The largest fraction (0 to 1) of an entry's inputs allowed outside its protocol's
    /// documented domain, and of its elements whose reference truncates a value at or beyond
    /// 2^(ℓ−2), before the entry fails.
    #[arg(long, default_value_t = 0.0)]
    max_outside: f64,
}

/// Runs `dyad audit`; the protocols of `--coeffs` files (`from_files`) are audited too when
/// `--protocol` names others.
pub(crate) fn run_audit(
    args: AuditArgs,
    registry: &Registry,
    from_files: &[&str],
    format: Format,
) -> Result<u8, CliError> {
    let fixed = args.arith.fixed()?;
    if !(0.0..=1.0).contains(&args.max_outside) {
        return Err(CliError::usage(format!("--max-outside {}: a fraction from 0 to 1", args.max_outside)));
    }
    let set = VectorSet::open(&args.vectors).map_err(CliError::usage)?;
    let mut not_audited = Vec::new();
    let protocols: Vec<&dyn Protocol> = if args.protocols.is_empty() {
        // Mixed-ring protocols (those with a small ring at ℓ = 64) that this ring cannot hold are
        // left out of the default selection, and the report says so.
        let mixed = |p: &&dyn Protocol| p.small_ring(FixedPoint::default_for(Ring::Z64)).is_some();
        let mut chosen = Vec::new();
        for p in registry.all().into_iter().filter(|p| p.activation().is_some()) {
            match p.inputs(&p.default_dims(), fixed) {
                Err(e) if mixed(&p) => not_audited.push(e.to_string()),
                _ => chosen.push(p),
            }
        }
        chosen
    } else {
        let mut names = args.protocols.clone();
        names.extend(from_files.iter().filter(|f| !args.protocols.iter().any(|n| n == *f)).map(|f| (*f).to_owned()));
        registry.select(&names).map_err(CliError::usage)?
    };
    if let Some(p) = protocols.iter().find(|p| p.activation().is_none()) {
        return Err(CliError::usage(format!("{} has no activation kind to audit", p.name())));
    }
    // A protocol that refuses this format (a coefficient set whose safe domain collapses, say) is
    // bad input, found before any work.
    for p in &protocols {
        p.inputs(&p.default_dims(), fixed).map_err(CliError::usage)?;
    }
    let spec = AuditSpec {
        fixed,
        trunc: args.arith.trunc(),
        seed: args.seed.value,
        samples: args.samples,
        rows: args.rows,
        layers: args.layers.clone(),
        correlations: args.correlations.value(),
        max_outside: args.max_outside,
    };
    let bar = ProgressBar::new(0);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} {msg}").unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let (report, plots) = audit(&set, &protocols, &spec, &mut |steps, what| {
        bar.set_length(steps as u64);
        bar.set_message(what.to_owned());
        bar.inc(1);
    })
    .map(|(report, plots)| (AuditReport { not_audited, ..report }, plots))
    .map_err(|e| match e {
        dyad_verify::AuditError::Vectors(_)
        | dyad_verify::AuditError::Layer { .. }
        | dyad_verify::AuditError::Spec(_)
        | dyad_verify::AuditError::OutsideDomain { .. } => CliError::usage(e),
        other => CliError::Failed(other.to_string()),
    })?;
    bar.finish_and_clear();
    if let Some(dir) = &args.plot {
        let paths = plot::write_all(dir, &plots).map_err(|e| CliError::Failed(format!("{}: {e}", dir.display())))?;
        eprintln!("wrote {} plots to {}", paths.len(), dir.display());
    }
    emit(format, &report, || render::table(&report))?;
    Ok(if report.passed { 0 } else { 1 })
}

/// The function to fit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum FitFunction {
    /// GELU, on the recorded GELU inputs: 0 | p(x) | x.
    Gelu,
    /// exp on x − max, on the recorded Softmax inputs: 0 | p(x).
    Exp,
}

/// Arguments of `dyad fit`.
#[derive(Debug, clap::Args)]
pub(crate) struct FitArgs {
    /// What to fit.
    #[arg(long, value_enum)]
    function: FitFunction,
    /// Degree of each fitted segment, comma-separated (`2,3` fits two segments); one degree is
    /// used for every segment (default 2 for GELU, 3 for exp).
    #[arg(long, value_delimiter = ',')]
    degree: Option<Vec<usize>>,
    /// Make the pieces meet at every breakpoint.
    #[arg(long)]
    continuous: bool,
    /// Fitted segments between the outer pieces (1 or 2); given both, `--degree` must list one
    /// degree or one per segment.
    #[arg(long)]
    segments: Option<usize>,
    /// Reject candidates whose absolute error exceeds this at any bin of the recorded histograms.
    #[arg(long)]
    max_error: Option<f64>,
    /// The recorded vector set.
    #[arg(long, default_value_os_t = dyad_vectors::bundled_dir())]
    vectors: PathBuf,
    /// Layers whose histograms are pooled, comma-separated (all when omitted).
    #[arg(long, value_delimiter = ',')]
    layers: Option<Vec<usize>>,
    /// Name of the coefficient set.
    #[arg(long)]
    name: Option<String>,
    /// Write the YAML here instead of to standard output.
    #[arg(long)]
    out: Option<PathBuf>,
}

/// Runs `dyad fit`.
pub(crate) fn run_fit(args: FitArgs) -> Result<u8, CliError> {
    if let Some(out) = &args.out {
        let parent = out.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(std::path::Path::new("."));
        if out.is_dir() || !parent.is_dir() {
            return Err(CliError::Usage(format!("--out {}: must name a file in an existing directory", out.display())));
        }
    }
    let set = VectorSet::open(&args.vectors).map_err(CliError::usage)?;
    let layers = args.layers.clone().unwrap_or_else(|| (0..set.layers()).collect());
    let (target, kind, default_degree, example) = match args.function {
        FitFunction::Gelu => (Target::Gelu, Kind::GeluInput, 2, "nimbus-gelu-example"),
        FitFunction::Exp => (Target::Exp, Kind::SoftmaxInput, 3, "nimbus-exp-example"),
    };
    let points = pooled_points(&set, kind, &layers).map_err(CliError::usage)?;
    let degrees = match (args.degree.clone().unwrap_or_else(|| vec![default_degree]), args.segments) {
        (d, None) => d,
        (d, Some(n)) if d.len() == 1 => vec![d[0]; n],
        (d, Some(n)) if d.len() == n => d,
        (d, Some(n)) => {
            return Err(CliError::Usage(format!("--degree lists {} degrees for --segments {n}", d.len())));
        }
    };
    let spec = FitSpec { max_error: args.max_error, ..FitSpec::default_for(target, &degrees, args.continuous) };
    let fitted = fit(&spec, &points).map_err(CliError::usage)?;
    let name = args.name.clone().unwrap_or_else(|| format!("nimbus-{}-fitted", target.name()));
    let source = format!(
        "`dyad fit --function {} --degree {}{}{}`, on {} ({} sentences, layers {:?}), recorded histograms pooled",
        target.name(),
        spec.degrees.iter().map(ToString::to_string).collect::<Vec<_>>().join(","),
        if spec.continuous { " --continuous" } else { "" },
        spec.max_error.map(|b| format!(" --max-error {b}")).unwrap_or_default(),
        set.manifest().model.name,
        set.manifest().sentences.ids.len(),
        layers
    );
    let out = to_set(&name, &source, target, &fitted);
    let reference = CoefficientSet::builtin(example)
        .and_then(|s| {
            s.piecewise()
                .map_err(|e| dyad_reference::approx::CoefficientError::Shape { file: example.into(), source: e })
        })
        .map_err(CliError::usage)?;
    eprintln!(
        "{name}: breaks {:?}, weighted RMS {:.3e} (mean abs {:.3e}, max {:.3e}); {example}: weighted RMS {:.3e} (mean abs {:.3e}), over the pooled histograms",
        fitted.piecewise.breaks,
        fitted.weighted_rms,
        weighted_mean_abs(&fitted.piecewise, target, &points),
        fitted.max_abs,
        weighted_rms(&reference, target, &points),
        weighted_mean_abs(&reference, target, &points)
    );
    let mut text = format!(
        "# Fitted by Dyad's distribution-aware fitter; regenerate with the command in `source`.\n{}",
        out.to_yaml()
    );
    if !text.ends_with('\n') {
        text.push('\n');
    }
    match &args.out {
        Some(path) => std::fs::write(path, text).map_err(|e| CliError::Failed(format!("{}: {e}", path.display())))?,
        None => std::io::stdout().write_all(text.as_bytes()).map_err(|e| CliError::Failed(e.to_string()))?,
    }
    Ok(0)
}
