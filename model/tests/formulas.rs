//! Every protocol's cost formula ([`Protocol::cost`]) against the meter: the exact counts of
//! every phase, at the CI model's shapes and at odd sizes, both rings, every truncation.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use dyad_model::registry::Registry;
use dyad_protocols::chunk;
use dyad_protocols::harness::{self, RunSpec};
use dyad_protocols::{Independence, ModelShape, Protocol, TruncMode};
use dyad_sim::{FixedPoint, Formula, Phase, Ring};

/// The built-in protocols, built once for every test here.
static REGISTRY: std::sync::LazyLock<Registry> =
    std::sync::LazyLock::new(|| Registry::builtin().expect("the built-in protocols build"));

/// The (ring, truncation, dimensions) cases a protocol's formula is checked at.
fn cases(p: &dyn Protocol) -> Vec<(Ring, TruncMode, Vec<usize>)> {
    let ci = p.model_dims(&ModelShape::CI);
    let mut out: Vec<(Ring, TruncMode, Vec<usize>)> =
        [TruncMode::OneBit, TruncMode::Faithful, TruncMode::Probabilistic].map(|t| (Ring::Z64, t, ci.clone())).into();
    out.push((Ring::Z32, TruncMode::OneBit, ci));
    // Odd sizes, where packed bits do not fill whole bytes, for the protocols they are dimensions of.
    for dims in [vec![13], vec![3, 5]] {
        if p.inputs(&dims, FixedPoint::default_for(Ring::Z64)).is_ok() {
            out.push((Ring::Z64, TruncMode::OneBit, dims));
        }
    }
    out
}

/// Compares the formula with the meter in every case the protocol runs; returns the cases
/// checked, or the first case that runs without a formula.
fn check(p: &dyn Protocol) -> Result<usize, String> {
    let mut checked = 0;
    for (ring, trunc, dims) in cases(p) {
        let case = format!("{} at {dims:?}, {ring}, {}", p.name(), trunc.name());
        let spec = RunSpec { trunc: Some(trunc), ..RunSpec::new(ring, 7).with_dims(&dims) };
        // A run the protocol refuses (a shape or ring outside its domain) has no counts to match.
        let Ok(run) = harness::run(p, &spec) else { continue };
        let mut formula = Formula::new();
        chunk::cost(p, &mut formula, &dims, spec.fixed, trunc, spec.chunk).ok_or(case.clone())?;
        assert!(formula.is_balanced(), "{case}: the formula receives a message never sent, or leaves one unreceived");
        for phase in Phase::ALL {
            assert_eq!(formula.counts(phase), run.report.cost.phase_counts(phase), "{case}, {phase} phase");
        }
        checked += 1;
    }
    Ok(checked)
}

#[test]
fn every_formula_matches_the_meter() {
    let mut missing = Vec::new();
    let mut checked = 0;
    for p in REGISTRY.all() {
        match check(p) {
            Ok(0) => missing.push(format!("{}: no case ran", p.name())),
            Ok(n) => checked += n,
            Err(case) => missing.push(format!("{case}: no formula")),
        }
    }
    assert!(missing.is_empty(), "protocols without a formula checked against the meter: {missing:#?}");
    eprintln!("{checked} runs of {} protocols matched their formulas", REGISTRY.all().len());
}

/// A protocol that splits ([`Protocol::independence`]) run in pieces small enough that the CI
/// model's tensors take several: its output within tolerance of the reference of the whole,
/// its counts those of its formula piece by piece, its rounds those of the pieces in turn.
#[test]
fn pieces_match_the_reference_and_their_formulas() {
    let mut checked = Vec::new();
    for p in REGISTRY.all() {
        let dims = p.model_dims(&ModelShape::CI);
        let n: usize = dims.iter().product();
        let width = dims.last().copied().unwrap_or(1);
        let chunk = match p.independence() {
            Independence::Whole => continue,
            Independence::Elements => n / 3 + 1,
            Independence::Rows => 2 * width + 1,
        };
        let pieces = chunk::pieces(p.independence(), &dims, chunk).len();
        assert!(pieces > 1, "{}: {dims:?} in pieces of {chunk} is one piece", p.name());
        let whole = RunSpec::new(Ring::Z64, 7).with_dims(&dims);
        let Ok(alone) = harness::run(p, &whole) else { continue };
        let spec = RunSpec { chunk, ..whole };
        let run = harness::run(p, &spec).unwrap_or_else(|e| panic!("{} in {pieces} pieces: {e}", p.name()));
        let case = format!("{} at {dims:?} in {pieces} pieces of at most {chunk} elements", p.name());
        assert!(run.report.passed, "{case}: {:?} off the reference", run.report.error.vs_reference);
        let mut formula = Formula::new();
        chunk::cost(p, &mut formula, &dims, spec.fixed, TruncMode::default(), chunk).expect("a formula");
        for phase in Phase::ALL {
            assert_eq!(formula.counts(phase), run.report.cost.phase_counts(phase), "{case}, {phase} phase");
        }
        let rounds = |r: &harness::Checked| r.report.cost.phase_counts(Phase::Online).rounds;
        assert!(rounds(&run) >= rounds(&alone), "{case}: fewer rounds than the whole");
        checked.push(p.name());
    }
    assert!(checked.len() >= 8, "too few protocols ran in pieces: {checked:?}");
    eprintln!("{} protocols ran in pieces: {checked:?}", checked.len());
}
