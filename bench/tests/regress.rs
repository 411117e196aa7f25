//! The regression gate against the committed baseline.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use dyad_bench::regress::{ALL, compare, compute, load};
use dyad_model::registry::Registry;
use dyad_protocols::{ModelShape, TruncMode};
use dyad_sim::Ring;
use dyad_sim::runner::Correlations;

/// The built-in protocols, built once for every test here.
static REGISTRY: std::sync::LazyLock<Registry> =
    std::sync::LazyLock::new(|| Registry::builtin().expect("the built-in protocols build"));

fn baseline_path() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("baseline.yaml")
}

#[test]
fn the_committed_baseline_covers_every_protocol_and_matches() {
    let baseline = load(&baseline_path()).unwrap();
    let now = compute(&REGISTRY.all(), ModelShape::CI, Ring::Z64, TruncMode::OneBit, &Correlations::ALL).unwrap();
    let diff = compare(&baseline, &now);
    assert!(diff.passed(), "{diff:?}");
    assert!(diff.new.is_empty() && diff.gone.is_empty(), "baseline out of date: {diff:?}; run `dyad regress --update`");
    for provider in Correlations::ALL {
        let section = &baseline.providers[provider.name()];
        for p in REGISTRY.all() {
            let covered = section.protocols.contains_key(p.name()) || section.refused.contains_key(p.name());
            assert!(covered, "{} missing from the {} baseline", p.name(), provider.name());
        }
    }
    // At the CI shapes neither provider refuses anything.
    for provider in Correlations::ALL {
        assert!(
            baseline.providers[provider.name()].refused.is_empty(),
            "{:?}",
            baseline.providers[provider.name()].refused
        );
    }
}

#[test]
fn under_ot_and_silent_no_protocol_gets_dealer_bytes_and_online_counts_match_the_dealer() {
    let baseline = load(&baseline_path()).unwrap();
    let dealer = &baseline.providers["dealer"];
    for provider in ["ot", "silent"] {
        let generated = &baseline.providers[provider];
        assert_eq!(generated.protocols.len(), dealer.protocols.len(), "{provider}");
        for (p, phases) in &generated.protocols {
            for labels in phases.values() {
                for (label, c) in labels {
                    assert_eq!((c.dealer_bytes_to_server, c.dealer_bytes_to_client), (0, 0), "{provider}: {p} {label}");
                }
            }
            assert_eq!(phases.get("online"), dealer.protocols[p].get("online"), "{provider}: {p}: online counts moved");
        }
    }
}

#[test]
fn a_lowered_baseline_count_fails_naming_protocol_and_label() {
    let mut baseline = load(&baseline_path()).unwrap();
    let now = baseline.clone();
    let counts = baseline
        .providers
        .get_mut("dealer")
        .unwrap()
        .protocols
        .get_mut("mul")
        .unwrap()
        .get_mut("online")
        .unwrap()
        .get_mut("mul/beaver")
        .unwrap();
    counts.bytes_server_to_client -= 1;
    let diff = compare(&baseline, &now);
    assert!(!diff.passed());
    assert_eq!(diff.increases.len(), 1);
    let c = &diff.increases[0];
    assert_eq!(
        (c.provider.as_str(), c.protocol.as_str(), c.phase.as_str(), c.label.as_str(), c.field.as_str()),
        ("dealer", "mul", "online", "mul/beaver", "bytes_server_to_client")
    );
    // A lower count now is an improvement: reported, and the gate passes.
    let diff = compare(&now, &baseline);
    assert!(diff.passed() && diff.decreases.len() == 1);
    // A protocol the baseline does not know is reported.
    let mut fewer = now.clone();
    fewer.providers.get_mut("ot").unwrap().protocols.remove("add");
    let diff = compare(&fewer, &now);
    assert!(diff.passed() && diff.new == vec!["ot: add".to_string()]);
    assert!(now.providers["dealer"].protocols["mul"]["online"].contains_key(ALL));
}

/// drelu with a reference one off: a protocol whose output misses its tolerance.
#[derive(Debug)]
struct Miscounted(&'static dyn dyad_protocols::Protocol);

impl dyad_protocols::Protocol for Miscounted {
    fn name(&self) -> &'static str {
        self.0.name()
    }
    fn paper(&self) -> &'static str {
        self.0.paper()
    }
    fn computes(&self) -> &'static str {
        self.0.computes()
    }
    fn default_dims(&self) -> Vec<usize> {
        self.0.default_dims()
    }
    fn model_dims(&self, m: &ModelShape) -> Vec<usize> {
        self.0.model_dims(m)
    }
    fn inputs(
        &self,
        dims: &[usize],
        fixed: dyad_sim::FixedPoint,
    ) -> Result<Vec<dyad_protocols::InputSpec>, dyad_protocols::ProtocolError> {
        self.0.inputs(dims, fixed)
    }
    fn run(
        &self,
        p: &mut dyad_sim::Party,
        inputs: &dyad_protocols::Inputs,
    ) -> Result<dyad_sim::Share, dyad_protocols::ProtocolError> {
        self.0.run(p, inputs)
    }
    fn cost(
        &self,
        f: &mut dyad_sim::Formula,
        dims: &[usize],
        fixed: dyad_sim::FixedPoint,
        trunc: TruncMode,
    ) -> Option<()> {
        self.0.cost(f, dims, fixed, trunc)
    }
    fn reference(
        &self,
        fixed: dyad_sim::FixedPoint,
        inputs: &[dyad_sim::RingTensor],
    ) -> Result<dyad_sim::RingTensor, dyad_protocols::ProtocolError> {
        Ok(self.0.reference(fixed, inputs)?.offset(1))
    }
    fn ideal(&self, inputs: &[ndarray::ArrayD<f64>]) -> Result<ndarray::ArrayD<f64>, dyad_protocols::ProtocolError> {
        self.0.ideal(inputs)
    }
    fn tolerance_ulp(&self, fixed: dyad_sim::FixedPoint, trunc: TruncMode) -> u64 {
        self.0.tolerance_ulp(fixed, trunc)
    }
    fn ideal_tolerance(&self, fixed: dyad_sim::FixedPoint) -> f64 {
        self.0.ideal_tolerance(fixed)
    }
}

#[test]
fn a_protocol_that_misses_its_tolerance_fails_the_gate_under_every_provider() {
    let wrong = Miscounted(REGISTRY.find("drelu").unwrap());
    for provider in Correlations::ALL {
        let err = compute(&[&wrong], ModelShape::CI, Ring::Z64, TruncMode::OneBit, &[provider]).unwrap_err();
        assert!(err.to_string().contains("misses its tolerance"), "{provider:?}: {err}");
    }
    assert!(
        compute(
            &[REGISTRY.find("drelu").unwrap()],
            ModelShape::CI,
            Ring::Z64,
            TruncMode::OneBit,
            &[Correlations::Silent]
        )
        .is_ok()
    );
}
