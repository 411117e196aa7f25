//! The `dyad` command line: its subcommands and their dispatch. [`main`] is the `dyad` binary;
//! [`main_with`] is the same command line with a user's own protocols registered beside the
//! built-in ones, so that `dyad list`, `run`, `audit`, `cost` and `regress` reach them:
//!
//! ```no_run
//! # use dyad::protocols::Protocol;
//! # fn my_protocols() -> Vec<Box<dyn Protocol>> { Vec::new() }
//! fn main() -> std::process::ExitCode {
//!     dyad::cli::main_with(my_protocols())
//! }
//! ```

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use dyad_model::registry::{Registry, from_coefficients};
use dyad_protocols::harness::{self, RunSpec};
use dyad_protocols::{HarnessError, Protocol, TruncMode};
use dyad_reference::approx::CoefficientSet;
use dyad_sim::{FixedPoint, Ring};
use thiserror::Error;

use crate::input;
use crate::table;

/// Checks secure two-party transformer-inference protocols: correctness, accuracy, cost.
#[derive(Debug, Parser)]
#[command(name = "dyad", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Lists every registered protocol.
    List {
        /// Output format.
        #[arg(long, value_enum, default_value_t = Format::Table)]
        format: Format,
    },
    /// Runs one protocol on random (or given) inputs, checks it against its reference, and
    /// prints its error and cost per phase and label.
    Run(RunArgs),
    /// Records, lists and verifies activations of a real BERT on real sentences.
    Vectors(crate::vectors_cmd::VectorsArgs),
    /// Audits every activation protocol on the recorded activations: error against the float
    /// ideal (split into approximation and fixed-point error) and cost per call, per layer.
    Audit(crate::audit_cmd::AuditArgs),
    /// Measures protocols at transformer shapes: bytes, messages, rounds, compute, estimated time
    /// under network profiles, and (with --claims) the papers' claimed speed-ups.
    Cost(crate::cost_cmd::CostArgs),
    /// Runs the whole MiniLM under 2PC on real sentences with a protocol suite and measures how
    /// far it moves from the plaintext model.
    E2e(crate::e2e_cmd::E2eArgs),
    /// The CI regression gate: exact counts of every protocol against bench/baseline.yaml.
    Regress(crate::cost_cmd::RegressArgs),
    /// Fits a low-degree piecewise GELU or exp to the recorded input distribution and writes the
    /// coefficient file.
    Fit(crate::audit_cmd::FitArgs),
}

#[derive(Debug, clap::Args)]
struct RunArgs {
    /// Registered protocol name (see `dyad list`).
    protocol: String,
    /// Dimensions, for example 128x768 (the protocol's default when omitted).
    #[arg(long, value_parser = parse_dims)]
    shape: Option<Dims>,
    /// Ring width ℓ.
    #[arg(long, default_value_t = 64, value_parser = parse_ring)]
    ring: u32,
    /// Fraction bits (18 for ℓ = 64, 13 for ℓ = 32 when omitted).
    #[arg(long)]
    frac: Option<u32>,
    /// Truncation after products.
    #[arg(long, value_enum, default_value_t = Trunc::OneBit)]
    trunc: Trunc,
    /// Seed of the inputs, the dealer and both parties.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// A JSON or YAML file of inputs: `inputs: [{shape: [...], data: [...]}, ...]`.
    #[arg(long)]
    input: Option<PathBuf>,
    /// Register the protocols of a coefficient file (`coeffs.NAME`, and `coeffs.NAME.softmax`
    /// for an exp set); repeatable.
    #[arg(long = "coeffs")]
    coeffs: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
}

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
pub enum Format {
    /// A human-readable table.
    Table,
    /// JSON (the stable report schema).
    Json,
    /// YAML (the same schema).
    Yaml,
}

/// Dimensions as given on the command line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Dims(pub Vec<usize>);

fn parse_dims(s: &str) -> Result<Dims, String> {
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

/// Why a command failed.
#[derive(Debug, Error)]
pub enum CliError {
    /// Bad usage or input: exit code 2.
    #[error("{0}")]
    Usage(String),
    /// The protocol failed while running: exit code 1.
    #[error("{0}")]
    Failed(String),
}

impl CliError {
    /// The process exit code.
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Usage(_) => 2,
            CliError::Failed(_) => 1,
        }
    }
}

impl From<HarnessError> for CliError {
    fn from(e: HarnessError) -> Self {
        match e {
            HarnessError::Run(_) | HarnessError::Inconsistent { .. } => CliError::Failed(e.to_string()),
            _ => CliError::Usage(e.to_string()),
        }
    }
}

pub(crate) fn emit<T: serde::Serialize>(
    format: Format,
    value: &T,
    table: impl FnOnce() -> String,
) -> Result<(), CliError> {
    let text = match format {
        Format::Table => table(),
        Format::Json => serde_json::to_string_pretty(value).map_err(|e| CliError::Failed(e.to_string()))? + "\n",
        Format::Yaml => serde_saphyr::to_string(value).map_err(|e| CliError::Failed(e.to_string()))?,
    };
    std::io::stdout().write_all(text.as_bytes()).map_err(|e| CliError::Failed(format!("cannot write to stdout: {e}")))
}

/// The `dyad` binary: parses the arguments, runs the command, prints any error and returns
/// its exit code.
pub fn main() -> ExitCode {
    main_with(Vec::new())
}

/// [`main`] with `extra` protocols registered after the built-in ones.
pub fn main_with(extra: Vec<Box<dyn Protocol>>) -> ExitCode {
    ExitCode::from(run_args(std::env::args_os(), extra))
}

/// The command line `args` (the program name first) with `extra` protocols registered: what
/// [`main_with`] runs, callable in-process (a test of a user's protocol, say). Prints what the
/// binary prints and returns its exit code: 0 success, 1 a failed check, 2 bad usage or input.
pub fn run_args<I, T>(args: I, extra: Vec<Box<dyn Protocol>>) -> u8
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return if e.use_stderr() { 2 } else { 0 };
        }
    };
    match Registry::builtin().with(extra).map_err(CliError::from).and_then(|r| dispatch(cli, r)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("dyad: {e}");
            e.exit_code()
        }
    }
}

/// `registry` with the protocols of every coefficient file in `files` added, and their names.
pub(crate) fn with_coefficients(
    registry: Registry,
    files: &[PathBuf],
) -> Result<(Registry, Vec<&'static str>), CliError> {
    let mut extra = Vec::new();
    for f in files {
        let set = CoefficientSet::load(f).map_err(|e| CliError::Usage(e.to_string()))?;
        extra.extend(from_coefficients(set).map_err(|e| CliError::Usage(format!("{}: {e}", f.display())))?);
    }
    let names = extra.iter().map(|p| p.name()).collect();
    Ok((registry.with(extra)?, names))
}

/// Runs a parsed command line against `registry`.
fn dispatch(cli: Cli, registry: Registry) -> Result<u8, CliError> {
    match cli.command {
        Command::List { format } => {
            let entries: Vec<table::ListEntry> = registry
                .all()
                .iter()
                .map(|p| table::ListEntry {
                    name: p.name().into(),
                    paper: p.paper().into(),
                    computes: p.computes().into(),
                })
                .collect();
            emit(format, &entries, || table::list(&entries))?;
            Ok(0)
        }
        Command::Run(args) => run(args, registry),
        Command::Vectors(args) => crate::vectors_cmd::run(args),
        Command::Audit(args) => crate::audit_cmd::run_audit(args, registry),
        Command::Fit(args) => crate::audit_cmd::run_fit(args),
        Command::Cost(args) => crate::cost_cmd::run_cost(args, &registry),
        Command::E2e(args) => crate::e2e_cmd::run_e2e(args),
        Command::Regress(args) => crate::cost_cmd::run_regress(args, &registry),
    }
}

fn run(args: RunArgs, registry: Registry) -> Result<u8, CliError> {
    let (registry, _) = with_coefficients(registry, &args.coeffs)?;
    let protocol = registry.find(&args.protocol)?;
    let ring = Ring::new(args.ring).map_err(|e| CliError::Usage(e.to_string()))?;
    let fixed = match args.frac {
        Some(f) => FixedPoint::new(ring, f).map_err(|e| CliError::Usage(e.to_string()))?,
        None => FixedPoint::default_for(ring),
    };
    let mut spec = RunSpec {
        fixed,
        trunc: Some(args.trunc.into()),
        dims: args.shape.clone().map(|d| d.0),
        ..RunSpec::new(ring, args.seed)
    };
    if let Some(path) = &args.input {
        spec.inputs = Some(input::load(path).map_err(|e| CliError::Usage(e.to_string()))?);
    }
    let checked = harness::run(protocol, &spec)?;
    let report = &checked.report;
    emit(args.format, report, || table::run_report(report))?;
    Ok(if report.passed { 0 } else { 1 })
}
