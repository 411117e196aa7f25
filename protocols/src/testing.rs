//! Property tests for any [`Protocol`]: the secure output against the fixed-point reference on
//! proptest-generated inputs, and the reference against the float ideal. Seeds are fixed and
//! printed, so every failure replays.

use dyad_sim::strategy::reals;
use dyad_sim::testkit::config;
use dyad_sim::{FixedPoint, Ring};
use ndarray::ArrayD;
use proptest::prelude::*;
use proptest::test_runner::{TestCaseError, TestRunner};

use crate::error::ProtocolError;
use crate::harness::{self, RunSpec};
use crate::protocol::Protocol;
use crate::protocol::TruncMode;

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
    check_against_reference_at(p, FixedPoint::default_for(ring), trunc, dims, seed, cases)
}

/// [`check_against_reference`] in another fixed-point format (fewer fraction bits widen the
/// domain of high-degree pieces at ℓ = 32, for example).
pub fn check_against_reference_at(
    p: &dyn Protocol,
    fixed: FixedPoint,
    trunc: TruncMode,
    dims: &[usize],
    seed: u64,
    cases: u32,
) -> Result<(), String> {
    let ring = fixed.ring();
    let specs = p.inputs(dims, fixed).map_err(|e| e.to_string())?;
    let inputs: Vec<_> = specs.iter().map(|s| reals(s.shape.clone(), s.range.0, s.range.1)).collect();
    let mut runner = TestRunner::new(config(seed, cases));
    runner
        .run(&(inputs, any::<u64>()), |(values, run_seed)| {
            let spec = RunSpec {
                fixed,
                inputs: Some(values),
                trunc: Some(trunc),
                ..RunSpec::new(ring, run_seed).with_dims(dims)
            };
            let checked = harness::run(p, &spec).map_err(|e| TestCaseError::fail(e.to_string()))?;
            let r = &checked.report;
            prop_assert!(
                r.passed,
                "{} at ℓ = {}, f = {} with {} truncation: {} ULP from the reference (tolerance {}), run seed {run_seed}",
                p.name(),
                ring.bits(),
                fixed.frac(),
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
    let bound = p.ideal_tolerance(FixedPoint::default_for(ring));
    check_reference_against_float(p, ring, dims, seed, cases, bound, "ideal", false, |v| p.ideal(v))
}

/// Checks the reference against the protocol's float approximation (the function it computes in
/// the clear, for example (x + c)²/n for a replacement of Softmax) within `bound` per unit of
/// magnitude, `|got − want| ≤ bound·max(1, |want|)` (a rounded public constant errs in
/// proportion to what it scales): how far fixed point alone moves the reference. Returns the
/// largest such relative error seen.
pub fn check_reference_against_approximation(
    p: &dyn Protocol,
    ring: Ring,
    dims: &[usize],
    seed: u64,
    cases: u32,
    bound: f64,
) -> Result<f64, String> {
    check_reference_against_float(p, ring, dims, seed, cases, bound, "float approximation", true, |v| {
        p.approximation(v)
    })
}

#[allow(clippy::too_many_arguments)]
fn check_reference_against_float(
    p: &dyn Protocol,
    ring: Ring,
    dims: &[usize],
    seed: u64,
    cases: u32,
    bound: f64,
    what: &str,
    relative: bool,
    float: impl Fn(&[ArrayD<f64>]) -> Result<ArrayD<f64>, ProtocolError>,
) -> Result<f64, String> {
    let fixed = FixedPoint::default_for(ring);
    let specs = p.inputs(dims, fixed).map_err(|e| e.to_string())?;
    let inputs: Vec<_> = specs.iter().map(|s| reals(s.shape.clone(), s.range.0, s.range.1)).collect();
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
            let want = float(&decoded).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(got.shape(), want.shape(), "{}: reference and {} differ in shape", p.name(), what);
            let scale = |b: f64| if relative { b.abs().max(1.0) } else { 1.0 };
            // NaN is the worst error, not one that `f64::max` drops.
            let err = got
                .iter()
                .zip(want.iter())
                .map(|(a, b)| {
                    let e = (a - b).abs() / scale(*b);
                    if e.is_nan() { f64::INFINITY } else { e }
                })
                .fold(0.0, f64::max);
            worst.set(worst.get().max(err));
            prop_assert!(
                err <= bound,
                "{} at ℓ = {}: reference is {err:e} from the {what}, bound {bound:e}",
                p.name(),
                ring.bits()
            );
            Ok(())
        })
        .map_err(|e| format!("{} (proptest seed {seed:#x}): {e}", p.name()))?;
    Ok(worst.get())
}
