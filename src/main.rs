//! `dyad`: the command line over the harness (see [`dyad::cli`]).

use std::process::ExitCode;

fn main() -> ExitCode {
    dyad::cli::main()
}
