//! Helpers for property tests: fixed, printed seeds so that every failure replays.

use proptest::test_runner::{Config, RngSeed};

/// A proptest configuration with `cases` cases drawn from the fixed `seed`. The seed is printed
/// (shown with a failing test's output), and no failure file is written: rerunning the test
/// replays the same cases.
pub fn config(seed: u64, cases: u32) -> Config {
    eprintln!("proptest: {cases} cases from fixed seed {seed:#x}");
    Config { cases, rng_seed: RngSeed::Fixed(seed), failure_persistence: None, ..Config::default() }
}

/// The environment variable that sets the number of cases of every fuzz target (`fuzz_*` tests).
pub const FUZZ_CASES_VAR: &str = "DYAD_FUZZ_CASES";

/// [`config`] for a fuzz target: `default_cases` (the short pass CI runs), or the number in
/// [`FUZZ_CASES_VAR`] (`DYAD_FUZZ_CASES=1000000 cargo test --release --all-features fuzz_` runs
/// a million cases per target).
pub fn fuzz_config(seed: u64, default_cases: u32) -> Config {
    let cases = std::env::var(FUZZ_CASES_VAR).ok().and_then(|v| v.parse().ok()).unwrap_or(default_cases);
    config(seed, cases)
}
