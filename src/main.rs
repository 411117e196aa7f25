//! `dyad`: the command line over the harness.

mod audit_cmd;
mod cli;
mod cost_cmd;
mod e2e_cmd;
mod input;
mod table;
mod vectors_cmd;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let args = cli::Cli::parse();
    match cli::dispatch(args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("dyad: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}
