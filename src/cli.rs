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

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use dyad_model::registry::Registry;
use dyad_protocols::Protocol;
use dyad_protocols::protocol::SmallRingSpec;

use crate::args::{Format, with_coefficients};
use crate::error::CliError;
use crate::output::emit;
use crate::table;

/// Checks secure two-party transformer-inference protocols: correctness, accuracy, cost.
#[derive(Debug, Parser)]
#[command(name = "dyad", version, about)]
pub struct Cli {
    /// Register the protocols of a coefficient file (`coeffs.NAME`, and `coeffs.NAME.softmax`
    /// for an exp set) for this command; repeatable.
    #[arg(long = "coeffs", global = true)]
    coeffs: Vec<PathBuf>,
    /// Make a mixed-ring protocol compute in Z_2^BITS, with FRAC fraction bits (the most that
    /// keep its pieces safe when omitted), for example `nimbus.gelu_small=32:10`; repeatable.
    #[arg(long = "small-ring", global = true, value_name = "PROTOCOL=BITS[:FRAC]", value_parser = parse_small_ring)]
    small_rings: Vec<(String, SmallRingSpec)>,
    /// Output format: a table, or the stable JSON or YAML report schema.
    #[arg(long, global = true, value_enum, default_value_t = Format::Table)]
    format: Format,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Lists every registered protocol.
    List,
    /// Runs one protocol on random (or given) inputs, checks it against its reference, and
    /// prints its error and cost per phase and label.
    Run(crate::run_cmd::RunArgs),
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
    /// Distils an MPC-friendly freeDiv student of the model (MPCFormer's two stages) and writes
    /// it for `e2e --weights`.
    Distill(crate::distill_cmd::DistillArgs),
    /// The CI regression gate: exact counts of every protocol against bench/baseline.yaml.
    Regress(crate::cost_cmd::RegressArgs),
    /// Relays one TCP connection through an emulated link (a one-way latency and a bandwidth per
    /// direction), for measuring `dyad run --party` where the kernel has no `tc netem`.
    Link(crate::run_cmd::LinkArgs),
    /// Tests whether each party's view depends on the other party's input (the semi-honest
    /// leakage audit), with a self-test on a leaky and a clean fixture.
    Leakage(crate::leakage_cmd::LeakageArgs),
    /// Fits a low-degree piecewise GELU or exp to the recorded input distribution and writes the
    /// coefficient file.
    Fit(crate::audit_cmd::FitArgs),
}

/// `PROTOCOL=BITS[:FRAC]`.
fn parse_small_ring(s: &str) -> Result<(String, SmallRingSpec), String> {
    let (name, ring) = s.split_once('=').ok_or_else(|| format!("{s:?}: expected PROTOCOL=BITS[:FRAC]"))?;
    Ok((name.to_owned(), ring.parse()?))
}

/// The `dyad` binary: parses the arguments, runs the command, prints any error and returns
/// its exit code.
pub fn main() -> ExitCode {
    main_with(Vec::new())
}

/// [`main`] with `extra` protocols registered after the built-in ones.
pub fn main_with(extra: Vec<Box<dyn Protocol>>) -> ExitCode {
    leave_party_panics_to_the_runner();
    ExitCode::from(run_args(std::env::args_os(), extra))
}

/// A party's panic comes back from the runner as an error ("the server (P0) panicked: …"),
/// printed once with its exit code; the default hook would print it first, with a backtrace
/// under `RUST_BACKTRACE`. Other threads' panics keep the default hook.
fn leave_party_panics_to_the_runner() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if !dyad_sim::runner::is_party_thread() {
            default(info);
        }
    }));
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
    let registry = Registry::builtin()
        .map_err(|e| CliError::Failed(format!("a built-in protocol does not build: {e}")))
        .and_then(|r| Ok(r.with(extra)?))
        .and_then(|r| with_coefficients(r, &cli.coeffs))
        .and_then(|(mut r, from_files)| {
            for (name, ring) in &cli.small_rings {
                r.set_small_ring(name, *ring)
                    .map_err(|e| CliError::Usage(format!("--small-ring {name}={ring}: {e}")))?;
            }
            Ok((r, from_files))
        });
    match registry.and_then(|(registry, from_files)| dispatch(cli.command, &registry, &from_files, cli.format)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("dyad: {e}");
            e.exit_code()
        }
    }
}

/// Runs a parsed command against `registry`, where `from_files` were loaded by `--coeffs`.
fn dispatch(
    command: Command,
    registry: &Registry,
    from_files: &[&'static str],
    format: Format,
) -> Result<u8, CliError> {
    match command {
        Command::List => {
            let entries: Vec<table::ListEntry> = registry
                .all()
                .iter()
                .map(|p| table::ListEntry {
                    name: p.name().into(),
                    paper: p.paper().into(),
                    computes: p.computes().into(),
                    definition: p.definition(),
                })
                .collect();
            emit(format, &entries, || table::list(&entries))?;
            Ok(0)
        }
        Command::Run(args) => crate::run_cmd::run(args, registry, format),
        Command::Link(args) => crate::run_cmd::link(args),
        Command::Vectors(args) => crate::vectors_cmd::run(args, format),
        Command::Audit(args) => crate::audit_cmd::run_audit(args, registry, from_files, format),
        Command::Fit(args) => crate::audit_cmd::run_fit(args),
        Command::Leakage(args) => crate::leakage_cmd::run_leakage(args, registry, format),
        Command::Cost(args) => crate::cost_cmd::run_cost(args, registry, format),
        Command::E2e(args) => crate::e2e_cmd::run_e2e(args, registry, format),
        Command::Distill(args) => crate::distill_cmd::run_distill(args, format),
        Command::Regress(args) => crate::cost_cmd::run_regress(args, registry, format),
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    /// Every command parses its usual lines: an argument id two flattened groups share is
    /// found only when a line is parsed (clap checks it at build time in debug builds only).
    #[test]
    fn every_command_parses_its_usual_lines() {
        for line in [
            "list",
            "run drelu",
            "run drelu --seed 3 --private-randomness os --correlations ot --timeout 5",
            "run drelu --party server --listen 127.0.0.1:0 --tls",
            "run drelu --party client --connect 127.0.0.1:1 --tls --tls-pin 00",
            "e2e --suite nimbus --sentences 1 --private-randomness os",
            "audit",
            "distill --suite freediv-2quad --steps 10 --seed 2 --out /tmp/s",
            "cost",
            "regress",
            "leakage mul --runs 10",
            "leakage --self-test",
            "leakage --params",
            "fit --function gelu",
            "link --listen 127.0.0.1:0 --connect 127.0.0.1:1 --bandwidth 1e9 --latency 0",
        ] {
            let args = std::iter::once("dyad").chain(line.split(' '));
            if let Err(e) = super::Cli::try_parse_from(args) {
                panic!("`dyad {line}` does not parse: {e}");
            }
        }
    }
}
