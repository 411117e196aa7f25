//! `dyad`: the command line over the harness (see [`dyad::cli`]).

use std::process::ExitCode;

/// mimalloc rather than glibc's allocator: `dyad distill` allocates a fresh buffer for every
/// tensor of every step, and glibc returned and re-faulted those pages, spending more time in
/// the kernel than in training (74 s against 31 s for 200 steps).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    dyad::cli::main()
}
