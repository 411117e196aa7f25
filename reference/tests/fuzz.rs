//! Fuzzing the coefficient-file parser: mutated built-in sets and garbage give a set or a typed
//! error naming the file, never a panic or a hang; every set that parses evaluates.
//! `DYAD_FUZZ_CASES=1000000 cargo test --release --all-features fuzz_` runs a million cases.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use dyad_reference::approx::CoefficientSet;
use dyad_sim::strategy::{byte_edits, mutate};
use proptest::prelude::*;
use proptest::test_runner::TestRunner;

#[test]
fn fuzz_coefficient_files_give_sets_or_typed_errors() {
    let good = CoefficientSet::builtin("puma-gelu").unwrap().to_yaml();
    let mut runner = TestRunner::new(dyad_sim::testkit::fuzz_config(0x5eed_0201, 2048));
    let cases = prop_oneof![byte_edits(good.len(), 8).prop_map(move |e| mutate(good.as_bytes(), &e)), any::<Vec<u8>>()];
    runner
        .run(&cases, |bytes| {
            match CoefficientSet::from_yaml(&String::from_utf8_lossy(&bytes), "fuzz.yaml") {
                Ok(set) => {
                    let pw = set.piecewise().unwrap();
                    for x in [-1e3, -4.0, 0.0, 0.5, 3.0, 1e3] {
                        let _ = pw.eval(x);
                    }
                }
                Err(e) => prop_assert!(e.to_string().contains("fuzz.yaml"), "{e}"),
            }
            Ok(())
        })
        .unwrap();
}
