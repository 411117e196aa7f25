//! Property tests for any [`Protocol`]: the secure output against the fixed-point reference on
//! proptest-generated inputs, and the reference against the float ideal. Seeds are fixed and
//! printed, so every failure replays.

use dyad_sim::strategy::reals;
use dyad_sim::testkit::config;
use dyad_sim::{FixedPoint, Ring};
use proptest::prelude::*;
use proptest::test_runner::{TestCaseError, TestRunner};

use crate::blocks::trunc::TruncMode;
use crate::harness::{self, RunSpec};
use crate::protocol::Protocol;

/// Runs `cases` random cases of `p` at `dims` over `ring` (default format) with truncation
/// `trunc`: inputs drawn from the protocol's documented domain by proptest, shares and
/// correlations from a drawn seed. Fails with the minimal failing case when the secure output
/// leaves the tolerance.
pub fn check_against_reference(
    p: &dyn Protocol,
    ring: Ring,
    trunc: TruncMode,
    dims: &[usize],
    seed: u64,
    cases: u32,
) -> Result<(), String> {
    let fixed = FixedPoint::default_for(ring);
    let specs = p.inputs(dims, fixed).map_err(|e| e.to_string())?;
    let inputs: Vec<_> = specs.iter().map(|s| reals(s.shape.clone(), s.range.0, s.range.1)).collect();
    let mut runner = TestRunner::new(config(seed, cases));
    runner
        .run(&(inputs, any::<u64>()), |(values, run_seed)| {
            let spec =
                RunSpec { inputs: Some(values), trunc: Some(trunc), ..RunSpec::new(ring, run_seed).with_dims(dims) };
            let checked = harness::run(p, &spec).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let r = &checked.report;
            prop_assert!(
                r.passed,
                "{} at ℓ = {} with {} truncation: {} ULP from the reference (tolerance {}), run seed {run_seed}",
                p.name(),
                ring.bits(),
                trunc.name(),
                r.error.vs_reference.max_ulp.unwrap_or(0),
                r.tolerance_ulp
            );
            Ok(())
        })
        .map_err(|e| format!("{} (proptest seed {seed:#x}): {e}", p.name()))
}

/// Checks the reference against the ideal on `cases` random input sets from the documented
/// domain; returns the largest error seen, or fails when it exceeds the documented accuracy.
pub fn check_reference_against_ideal(
    p: &dyn Protocol,
    ring: Ring,
    dims: &[usize],
    seed: u64,
    cases: u32,
) -> Result<f64, String> {
    let fixed = FixedPoint::default_for(ring);
    let specs = p.inputs(dims, fixed).map_err(|e| e.to_string())?;
    let inputs: Vec<_> = specs.iter().map(|s| reals(s.shape.clone(), s.range.0, s.range.1)).collect();
    let bound = p.ideal_tolerance(fixed);
    let worst = std::cell::Cell::new(0.0f64);
    let mut runner = TestRunner::new(config(seed, cases));
    runner
        .run(&inputs, |values| {
            let encoded: Vec<_> = values
                .iter()
                .map(|v| fixed.encode_tensor(v))
                .collect::<Result<_, _>>()
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            let decoded: Vec<_> = encoded.iter().map(|t| fixed.decode_tensor(t)).collect();
            let reference = p.reference(fixed, &encoded).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let got = harness::decode_output(p, fixed, &reference);
            let want = p.ideal(&decoded).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let err = got.iter().zip(want.iter()).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
            worst.set(worst.get().max(err));
            prop_assert!(
                err <= bound,
                "{} at ℓ = {}: reference is {err:e} from the ideal, documented {bound:e}",
                p.name(),
                ring.bits()
            );
            Ok(())
        })
        .map_err(|e| format!("{} (proptest seed {seed:#x}): {e}", p.name()))?;
    Ok(worst.get())
}
