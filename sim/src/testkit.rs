//! Helpers for property tests: fixed, printed seeds so that every failure replays.

use proptest::test_runner::{Config, RngSeed};

/// A proptest configuration with `cases` cases drawn from the fixed `seed`. The seed is printed
/// (shown with a failing test's output), and no failure file is written: rerunning the test
/// replays the same cases.
pub fn config(seed: u64, cases: u32) -> Config {
    eprintln!("proptest: {cases} cases from fixed seed {seed:#x}");
    Config { cases, rng_seed: RngSeed::Fixed(seed), failure_persistence: None, ..Config::default() }
}
