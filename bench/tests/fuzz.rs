//! Fuzzing the parsers of the cost commands' files: shape sets, network profiles and the
//! regression baseline. Mutated valid files and garbage give a value or a typed error naming the
//! file, never a panic or a hang. `DYAD_FUZZ_CASES=1000000 cargo test --release --all-features
//! fuzz_` runs a million cases per target.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use dyad_bench::cost::ShapeSet;
use dyad_bench::network::Profile;
use dyad_bench::regress;
use dyad_sim::strategy::{byte_edits, mutate};
use proptest::prelude::*;
use proptest::test_runner::TestRunner;

/// Runs `parse` on mutations of `good` and on garbage; `Err` must name the file.
fn fuzz<T, E: std::fmt::Display>(seed: u64, good: &str, parse: impl Fn(&str) -> Result<T, E>) {
    assert!(parse(good).is_ok(), "the seed file parses");
    let good = good.as_bytes().to_vec();
    let len = good.len();
    let mut runner = TestRunner::new(dyad_sim::testkit::fuzz_config(seed, 2048));
    let cases = prop_oneof![byte_edits(len, 8).prop_map(move |e| mutate(&good, &e)), any::<Vec<u8>>()];
    runner
        .run(&cases, |bytes| {
            if let Err(e) = parse(&String::from_utf8_lossy(&bytes)) {
                prop_assert!(e.to_string().contains("fuzz.yaml"), "{e}");
            }
            Ok(())
        })
        .unwrap();
}

#[test]
fn fuzz_shape_sets() {
    fuzz(0x5eed_0301, "name: tiny\nshape: {seq: 4, hidden: 16, heads: 2, ffn: 32}\n", |t| {
        ShapeSet::parse(t, "fuzz.yaml")
    });
}

#[test]
fn fuzz_profiles() {
    let good = "- {name: slow, bandwidth_bits_per_second: 1.0e6, latency_seconds: 0.1}\n- {name: lan, bandwidth_bits_per_second: 1.0e9, latency_seconds: 0.0005}\n";
    fuzz(0x5eed_0302, good, |t| Profile::parse(t, "fuzz.yaml"));
}

#[test]
fn fuzz_baselines() {
    let good = "shape: {seq: 8, hidden: 32, heads: 2, ffn: 64}\nring_bits: 64\ntrunc: one-bit\nproviders:\n  dealer:\n    protocols:\n      mul:\n        online:\n          (all): {bytes_server_to_client: 328, bytes_client_to_server: 258, messages_server_to_client: 2, messages_client_to_server: 2, rounds: 3, dealer_bytes_to_server: 0, dealer_bytes_to_client: 0}\n    refused: {attention: needs matrix triples}\n";
    fuzz(0x5eed_0303, good, |t| regress::parse(t, "fuzz.yaml"));
    let shipped = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/baseline.yaml")).unwrap();
    assert!(regress::parse(&shipped, "baseline.yaml").is_ok(), "the shipped baseline parses");
}
