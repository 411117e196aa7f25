//! `dyad run`: one protocol on random (or given) inputs, both parties in this process, or one
//! party here and the other in another `dyad run` over TCP.

use std::path::PathBuf;

use dyad_model::registry::Registry;
use dyad_protocols::harness::apart::Apart;
use dyad_protocols::harness::{self, RunSpec};

use dyad_bench::network::Profile;

use crate::apart::ApartArgs;
use crate::args::{Arith, Correlated, Dims, Format, Private, Seed, Timeout, parse_dims};
use crate::error::CliError;
use crate::input;
use crate::output::emit;
use crate::table;

#[derive(Debug, clap::Args)]
pub(crate) struct RunArgs {
    /// Registered protocol name (see `dyad list`).
    protocol: String,
    /// Dimensions, for example 128x768 (the protocol's default when omitted).
    #[arg(long, value_parser = parse_dims)]
    shape: Option<Dims>,
    #[command(flatten)]
    arith: Arith,
    #[command(flatten)]
    seed: Seed,
    #[command(flatten)]
    correlations: Correlated,
    #[command(flatten)]
    private: Private,
    /// A JSON or YAML file of inputs: `inputs: [{shape: [...], data: [...]}, ...]`; with
    /// `--party`, only the inputs this party holds (the server its plaintexts; the client its
    /// plaintexts and the shared inputs, in the protocol's order).
    #[arg(long)]
    input: Option<PathBuf>,
    #[command(flatten)]
    apart: ApartArgs,
    #[command(flatten)]
    timeout: Timeout,
}

/// Runs `dyad run`.
pub(crate) fn run(args: RunArgs, registry: &Registry, format: Format) -> Result<u8, CliError> {
    let protocol = registry.find(&args.protocol)?;
    let fixed = args.arith.fixed()?;
    let timeout = args.timeout.value(args.apart.party.is_some());
    let mut spec = RunSpec {
        fixed,
        trunc: Some(args.arith.trunc()),
        dims: args.shape.clone().map(|d| d.0),
        correlations: args.correlations.value(),
        secrets: args.private.value(),
        recv_timeout: Some(timeout),
        ..RunSpec::new(fixed.ring(), args.seed.value)
    };
    let given = args.input.as_deref().map(input::load).transpose().map_err(CliError::usage)?;
    let checked = match args.apart.endpoint()? {
        Some(endpoint) => {
            let apart = Apart::new(protocol, &spec, endpoint.role, given.as_deref())?;
            apart.run(endpoint.connect(timeout)?)?
        }
        None => {
            spec.inputs = given;
            harness::run(protocol, &spec)?
        }
    };
    let report = &checked.report;
    emit(format, report, || table::run_report(report))?;
    Ok(if report.passed { 0 } else { 1 })
}

/// Arguments of `dyad link`.
#[derive(Debug, clap::Args)]
pub(crate) struct LinkArgs {
    /// Where the connecting party connects (host:port; port 0 picks one, printed on standard
    /// error).
    #[arg(long, value_name = "ADDR")]
    listen: String,
    /// Where the listening party listens.
    #[arg(long, value_name = "ADDR")]
    connect: String,
    /// Bandwidth per direction, bits per second (3e9 for Nimbus's LAN).
    #[arg(long, value_name = "BITS_PER_SECOND")]
    bandwidth: f64,
    /// One-way latency, seconds (0.8e-3 for Nimbus's LAN).
    #[arg(long, value_name = "SECONDS")]
    latency: f64,
    #[command(flatten)]
    timeout: Timeout,
}

/// Runs `dyad link`: relays one connection, then prints the bytes relayed each way.
pub(crate) fn link(args: LinkArgs) -> Result<u8, CliError> {
    let profile =
        Profile { name: "link".into(), bandwidth_bits_per_second: args.bandwidth, latency_seconds: args.latency };
    profile.check("--bandwidth/--latency").map_err(CliError::usage)?;
    let listener = std::net::TcpListener::bind(&args.listen)
        .map_err(|e| CliError::Usage(format!("--listen {}: {e}", args.listen)))?;
    let bound = listener.local_addr().map_err(|e| CliError::Usage(format!("--listen {}: {e}", args.listen)))?;
    eprintln!("dyad: the link listens on {bound}");
    let (there, back) = dyad_bench::link::relay(listener, &args.connect, &profile, args.timeout.value(true))
        .map_err(|e| CliError::Failed(format!("the link to {}: {e}", args.connect)))?;
    eprintln!("dyad: the link relayed {there} bytes to {} and {back} back", args.connect);
    Ok(0)
}
