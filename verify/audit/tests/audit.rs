//! The audit on the bundled vectors, and the fit against the public example on held-back data.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use dyad_audit::points::{binned, split_samples};
use dyad_audit::{AuditSpec, audit};
use dyad_protocols::TruncMode;
use dyad_protocols::registry::Registry;
use dyad_sim::{FixedPoint, Ring};
use dyad_vectors::{Kind, VectorSet, bundled_dir};
use dyad_verify::approx::{CoefficientSet, Target};
use dyad_verify::fit::{FitSpec, fit, weighted_rms};

fn set() -> VectorSet {
    VectorSet::open(&bundled_dir()).unwrap()
}

#[test]
fn fitting_on_half_the_samples_beats_the_public_example_on_the_other_half() {
    let set = set();
    let layers: Vec<usize> = (0..set.layers()).collect();
    for (target, kind, degree, example) in [
        (Target::Gelu, Kind::GeluInput, 2, "nimbus-gelu-example"),
        (Target::Exp, Kind::SoftmaxInput, 3, "nimbus-exp-example"),
    ] {
        let (train, test) = split_samples(&set, kind, &layers).unwrap();
        let fitted = fit(&FitSpec::default_for(target, &[degree], true), &binned(&train, 0.01)).unwrap();
        let held_back = binned(&test, 0.01);
        let ours = weighted_rms(&fitted.piecewise, target, &held_back);
        let theirs = weighted_rms(&CoefficientSet::builtin(example).unwrap().piecewise().unwrap(), target, &held_back);
        assert!(ours < theirs, "{target:?}: fitted {ours:e} against example {theirs:e} on held-back samples");
    }
}

#[test]
fn the_audit_covers_every_activation_protocol_and_shows_the_example_jump() {
    let set = set();
    let registry = Registry::builtin();
    let protocols = registry.all();
    let spec = AuditSpec {
        fixed: FixedPoint::default_for(Ring::Z64),
        trunc: TruncMode::OneBit,
        seed: 1,
        samples: 512,
        rows: 8,
        layers: Some(vec![0]),
    };
    let (report, plots) = audit(&set, &protocols, &spec, &mut |_, _| {}).unwrap();
    let audited: Vec<&str> = protocols.iter().filter(|p| p.activation().is_some()).map(|p| p.name()).collect();
    for name in &audited {
        assert!(report.entries.iter().any(|e| e.protocol == *name), "{name} missing from the audit");
    }
    let example = report.entries.iter().find(|e| e.protocol == "nimbus.gelu_example").unwrap();
    let jump = example.jump.as_ref().unwrap();
    assert_eq!(jump.at, 0.5);
    assert!(jump.size > 0.25, "the example jumps by {} at 0.5", jump.size);
    for e in &report.entries {
        // The total error can never exceed approximation plus fixed-point error.
        assert!(
            e.errors.total.max_abs <= e.errors.approximation.max_abs + e.errors.fixed_point.max_abs + 1e-12,
            "{}",
            e.protocol
        );
        assert!(e.cost.bytes_per_element > 0.0 && e.cost.rounds > 0, "{} costs nothing?", e.protocol);
    }
    // At ℓ = 64 the fixed-point error of every GELU and exp is far below its approximation error.
    for e in report.entries.iter().filter(|e| e.kind == "gelu_input") {
        assert!(e.errors.fixed_point.max_abs < 1e-3, "{}: {}", e.protocol, e.errors.fixed_point.max_abs);
    }
    assert_eq!(plots.len(), report.entries.iter().filter(|e| e.errors.total.weighted_rms.is_some()).count());
}
