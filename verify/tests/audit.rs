//! The audit on the bundled vectors, and the fit against the public example on held-back data.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use dyad_model::bert::{Model, Tokenizer};
use dyad_model::registry::Registry;
use dyad_protocols::TruncMode;
use dyad_protocols::blocks::layernorm::LayerNorm;
use dyad_reference::approx::{CoefficientSet, Target};
use dyad_reference::layernorm::LayerNormParams;
use dyad_sim::runner::Correlations;
use dyad_sim::{FixedPoint, Ring};
use dyad_vectors::{Kind, VectorSet, bundled_dir};
use dyad_verify::fit::{FitSpec, fit, weighted_rms};
use dyad_verify::points::{binned, pooled_points, split_samples};
use dyad_verify::{AuditError, AuditSpec, audit};

fn set() -> VectorSet {
    VectorSet::open(&bundled_dir()).unwrap()
}

#[test]
fn fitting_on_half_the_samples_beats_the_public_example_on_the_other_half_of_them() {
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

/// Fitted on the 256 recorded sentences, tested on 48 snippets that were never recorded: the
/// GELU inputs and the x − max of the attention scores that the plaintext model computes for
/// them. Both a fresh fit and the shipped fitted set must beat the public example there. Needs
/// the model (`vectors/fetch.sh`); under CI its absence is a failure.
#[test]
fn fitted_sets_beat_the_public_examples_on_sentences_never_recorded() {
    let dir = dyad_vectors::model_dir();
    if !dir.join("model.safetensors").exists() {
        assert!(std::env::var_os("CI").is_none(), "CI must fetch the model (bash vectors/fetch.sh)");
        eprintln!("SKIPPED: {} has no model; run `bash vectors/fetch.sh`", dir.display());
        return;
    }
    let model = Model::load(&dir).unwrap();
    let tok = Tokenizer::from_file(&dir.join("vocab.txt")).unwrap();
    let set = set();
    let recorded = &set.manifest().sentences.ids;
    let snippets = dyad_vectors::read_snippets(&dyad_vectors::bundled_snippets()).unwrap();
    let (mut gelu, mut exp) = (Vec::new(), Vec::new());
    for s in snippets.iter().filter(|s| !recorded.contains(&s.id)).take(48) {
        let trace = model.forward(&tok.encode(&s.text)).unwrap();
        for layer in &trace.layers {
            gelu.extend(layer.gelu_input.iter().copied());
            for row in layer.scores.rows() {
                let max = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                exp.extend(row.iter().map(|v| v - max));
            }
        }
    }
    let layers: Vec<usize> = (0..set.layers()).collect();
    for (target, kind, held, degree, shipped, example) in [
        (Target::Gelu, Kind::GeluInput, &gelu, 2, "nimbus-gelu-fitted", "nimbus-gelu-example"),
        (Target::Exp, Kind::SoftmaxInput, &exp, 3, "nimbus-exp-fitted", "nimbus-exp-example"),
    ] {
        let held_back = binned(held, 0.01);
        let rms =
            |name: &str| weighted_rms(&CoefficientSet::builtin(name).unwrap().piecewise().unwrap(), target, &held_back);
        let fresh =
            fit(&FitSpec::default_for(target, &[degree], true), &pooled_points(&set, kind, &layers).unwrap()).unwrap();
        let (ours, theirs) = (weighted_rms(&fresh.piecewise, target, &held_back), rms(example));
        assert!(ours < theirs, "{target:?}: a fresh fit {ours:e} against the example {theirs:e} on unseen sentences");
        assert!(rms(shipped) < theirs, "{target:?}: {shipped} {:e} against the example {theirs:e}", rms(shipped));
    }
}

#[test]
fn the_audit_covers_every_activation_protocol_and_shows_the_example_jump() {
    let set = set();
    let registry = Registry::builtin().unwrap();
    let protocols = registry.all();
    let spec = AuditSpec {
        fixed: FixedPoint::default_for(Ring::Z64),
        trunc: TruncMode::OneBit,
        seed: 1,
        samples: 512,
        rows: 8,
        layers: Some(vec![0]),
        correlations: Correlations::Dealer,
        max_outside: 0.0,
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
    // At ℓ = 64 the fixed-point error of every GELU is far below its approximation error; in
    // Nimbus's small ring it stays within 8 units of f′ (the input's floor to f′ and the powers'
    // truncations; the coefficients keep more bits), and the report names the ring.
    for e in report.entries.iter().filter(|e| e.kind == "gelu_input") {
        let small = registry.find(&e.protocol).unwrap().small_ring(spec.fixed);
        let bound = small.map_or(1e-3, |s| 8.0 * s.ulp());
        assert!(e.errors.fixed_point.max_abs < bound, "{}: {}", e.protocol, e.errors.fixed_point.max_abs);
        if let Some(s) = small {
            let note = e.note.as_deref().unwrap_or_default();
            assert!(
                note.contains(&format!("Z_2^{} with f′ = {}", s.ring().bits(), s.frac())),
                "{}: {note}",
                e.protocol
            );
        }
    }
    assert_eq!(plots.len(), report.entries.iter().filter(|e| e.errors.total.weighted_rms.is_some()).count());
}

/// ℓ = 32 with f = 13 cannot hold the recorded activations: nimbus.exp's domain covers about half
/// of the recorded Softmax inputs and LayerNorm's none of the FFN rows. The audit refuses before
/// any secure work, naming the protocol and the fraction. A protocol that claims the whole
/// recorded range as its domain runs, and fails on its reference's truncations beyond 2^30. At
/// ℓ = 64 the same protocols pass with nothing outside and no such truncation.
#[test]
fn an_audit_refuses_inputs_outside_the_domain_and_fails_truncations_beyond_it() {
    let set = set();
    let registry = Registry::builtin().unwrap();
    let at32 = AuditSpec { fixed: FixedPoint::default_for(Ring::Z32), samples: 256, rows: 4, ..small_spec() };
    let at64 = AuditSpec { samples: 256, rows: 4, ..small_spec() };
    for name in ["nimbus.exp", "layernorm"] {
        let p = registry.find(name).unwrap();
        match audit(&set, &[p], &at32, &mut |_, _| {}) {
            Err(AuditError::OutsideDomain { protocol, fraction, .. }) => {
                assert!(protocol == name && fraction > 0.0, "{protocol}: {fraction}");
            }
            other => panic!("{name} at ℓ = 32: {:?}", other.map(|r| r.0.passed)),
        }
        let wide = Overclaiming(p, Claim::Domain);
        let (report, _) = audit(&set, &[&wide], &at32, &mut |_, _| {}).unwrap();
        assert!(!report.passed, "{name}");
        assert!(report.entries.iter().all(|e| e.outside_domain == 0.0), "{name}");
        assert!(report.entries.iter().any(|e| e.verdict.beyond_truncation_domain > 0 && !e.verdict.passed), "{name}");
        let (report, _) = audit(&set, &[p], &at64, &mut |_, _| {}).unwrap();
        assert!(report.passed, "{name}");
        for e in &report.entries {
            assert_eq!((e.outside_domain, e.verdict.beyond_truncation_domain), (0.0, 0), "{} {}", e.protocol, e.kind);
        }
    }
}

/// A protocol that claims more than it has: everything delegated, but a documented accuracy of
/// zero against the ideal, or every input inside its domain.
#[derive(Debug)]
struct Overclaiming<'a>(&'a dyn dyad_protocols::Protocol, Claim);

/// What [`Overclaiming`] claims.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Claim {
    /// Exact agreement with the ideal.
    Accuracy,
    /// Every input inside the domain.
    Domain,
}

impl dyad_protocols::Protocol for Overclaiming<'_> {
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
    fn inputs(
        &self,
        dims: &[usize],
        fixed: FixedPoint,
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
    fn reference(
        &self,
        fixed: FixedPoint,
        inputs: &[dyad_sim::RingTensor],
    ) -> Result<dyad_sim::RingTensor, dyad_protocols::ProtocolError> {
        self.0.reference(fixed, inputs)
    }
    fn ideal(&self, inputs: &[ndarray::ArrayD<f64>]) -> Result<ndarray::ArrayD<f64>, dyad_protocols::ProtocolError> {
        self.0.ideal(inputs)
    }
    fn approximation(
        &self,
        inputs: &[ndarray::ArrayD<f64>],
    ) -> Result<ndarray::ArrayD<f64>, dyad_protocols::ProtocolError> {
        self.0.approximation(inputs)
    }
    fn tolerance_ulp(&self, fixed: FixedPoint, trunc: TruncMode) -> u64 {
        self.0.tolerance_ulp(fixed, trunc)
    }
    fn ideal_tolerance(&self, fixed: FixedPoint) -> f64 {
        if self.1 == Claim::Accuracy { 0.0 } else { self.0.ideal_tolerance(fixed) }
    }
    fn activation(&self) -> Option<dyad_protocols::Activation> {
        self.0.activation()
    }
    fn in_domain(
        &self,
        fixed: FixedPoint,
        inputs: &[ndarray::ArrayD<f64>],
    ) -> Result<ndarray::ArrayD<bool>, dyad_protocols::ProtocolError> {
        match self.1 {
            Claim::Domain => Ok(inputs[0].mapv(|_| true)),
            Claim::Accuracy => self.0.in_domain(fixed, inputs),
        }
    }
}

fn small_spec() -> AuditSpec {
    AuditSpec {
        fixed: FixedPoint::default_for(Ring::Z64),
        trunc: TruncMode::OneBit,
        seed: 3,
        samples: 256,
        rows: 4,
        layers: Some(vec![1]),
        correlations: Correlations::Dealer,
        max_outside: 0.0,
    }
}

#[test]
fn a_protocol_that_misses_its_stated_accuracy_fails_the_audit() {
    let set = set();
    let registry = Registry::builtin().unwrap();
    let honest = registry.find("nimbus.gelu_example").unwrap();
    let (report, _) = audit(&set, &[honest], &small_spec(), &mut |_, _| {}).unwrap();
    assert!(report.passed, "{:?}", report.entries[0].verdict);
    let v = &report.entries[0].verdict;
    assert!(v.inputs_in_domain > 0 && v.max_abs > 0.0 && v.max_abs <= v.bound, "{v:?}");
    let liar = Overclaiming(honest, Claim::Accuracy);
    let (report, _) = audit(&set, &[&liar], &small_spec(), &mut |_, _| {}).unwrap();
    assert!(!report.passed);
    let v = &report.entries[0].verdict;
    assert!(!v.passed && v.max_abs > v.bound, "{v:?}");
}

#[test]
fn an_audit_of_no_inputs_is_refused_and_reports_say_what_they_ran_on() {
    let set = set();
    let registry = Registry::builtin().unwrap();
    let p = registry.find("layernorm").unwrap();
    for (samples, rows) in [(0, 4), (256, 0)] {
        let spec = AuditSpec { samples, rows, ..small_spec() };
        assert!(matches!(audit(&set, &[p], &spec, &mut |_, _| {}), Err(AuditError::Spec(_))));
    }
    let (report, _) = audit(&set, &[p], &small_spec(), &mut |_, _| {}).unwrap();
    let m = set.manifest();
    assert_eq!(report.provenance.weights_sha256, m.model.weights_sha256);
    assert_eq!(report.provenance.sentences, m.sentences.ids.len());
    assert!(report.provenance.vectors.ends_with("minilm-l6"), "{}", report.provenance.vectors);
}

/// LayerNorm computing with ε = 1e−2 whatever it is told, but whose ideal uses the ε it was
/// given: it passes the audit only when the audit hands it the vector set's ε.
#[derive(Debug)]
struct SecureEps {
    secure: LayerNorm,
    ideal: LayerNorm,
}

impl dyad_protocols::Protocol for SecureEps {
    fn name(&self) -> &'static str {
        "secure-eps"
    }
    fn paper(&self) -> &'static str {
        self.secure.paper()
    }
    fn computes(&self) -> &'static str {
        self.secure.computes()
    }
    fn default_dims(&self) -> Vec<usize> {
        self.secure.default_dims()
    }
    fn inputs(
        &self,
        dims: &[usize],
        fixed: FixedPoint,
    ) -> Result<Vec<dyad_protocols::InputSpec>, dyad_protocols::ProtocolError> {
        self.secure.inputs(dims, fixed)
    }
    fn run(
        &self,
        p: &mut dyad_sim::Party,
        inputs: &dyad_protocols::Inputs,
    ) -> Result<dyad_sim::Share, dyad_protocols::ProtocolError> {
        self.secure.run(p, inputs)
    }
    fn reference(
        &self,
        fixed: FixedPoint,
        inputs: &[dyad_sim::RingTensor],
    ) -> Result<dyad_sim::RingTensor, dyad_protocols::ProtocolError> {
        self.secure.reference(fixed, inputs)
    }
    fn ideal(&self, inputs: &[ndarray::ArrayD<f64>]) -> Result<ndarray::ArrayD<f64>, dyad_protocols::ProtocolError> {
        self.ideal.ideal(inputs)
    }
    fn approximation(
        &self,
        inputs: &[ndarray::ArrayD<f64>],
    ) -> Result<ndarray::ArrayD<f64>, dyad_protocols::ProtocolError> {
        self.ideal.approximation(inputs)
    }
    fn tolerance_ulp(&self, fixed: FixedPoint, trunc: TruncMode) -> u64 {
        self.secure.tolerance_ulp(fixed, trunc)
    }
    fn ideal_tolerance(&self, fixed: FixedPoint) -> f64 {
        self.secure.ideal_tolerance(fixed)
    }
    fn activation(&self) -> Option<dyad_protocols::Activation> {
        self.secure.activation()
    }
    fn in_domain(
        &self,
        fixed: FixedPoint,
        inputs: &[ndarray::ArrayD<f64>],
    ) -> Result<ndarray::ArrayD<bool>, dyad_protocols::ProtocolError> {
        self.secure.in_domain(fixed, inputs)
    }
    fn with_layer_norm_eps(&self, eps: f64) -> Option<Box<dyn dyad_protocols::Protocol>> {
        let ideal = LayerNorm { params: LayerNormParams { eps, ..self.ideal.params } };
        Some(Box::new(SecureEps { secure: self.secure, ideal }))
    }
}

#[test]
fn layer_norm_protocols_are_audited_with_the_epsilon_the_vector_set_records() {
    let bundled = bundled_dir();
    let copy = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("vectors-eps-1e-2");
    std::fs::create_dir_all(&copy).unwrap();
    for entry in std::fs::read_dir(&bundled).unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, copy.join(path.file_name().unwrap())).unwrap();
    }
    let manifest = copy.join(dyad_vectors::MANIFEST_FILE);
    let text = std::fs::read_to_string(&manifest).unwrap();
    assert!(text.contains("layer_norm_eps: 1.0e-12\n"), "the bundled model's ε");
    std::fs::write(&manifest, text.replace("layer_norm_eps: 1.0e-12\n", "layer_norm_eps: 1.0e-2\n")).unwrap();

    let base = LayerNorm::default();
    let secure = LayerNorm { params: LayerNormParams { eps: 1e-2, ..base.params } };
    let p = SecureEps { secure, ideal: base };
    let (report, _) = audit(&VectorSet::open(&copy).unwrap(), &[&p], &small_spec(), &mut |_, _| {}).unwrap();
    assert_eq!(report.provenance.layer_norm_eps, 1e-2);
    assert!(report.passed, "{:?}", report.entries.iter().map(|e| &e.verdict).collect::<Vec<_>>());
    // On the bundled set (ε = 1e−12) the same protocol is told the truth and fails.
    let (report, _) = audit(&set(), &[&p], &small_spec(), &mut |_, _| {}).unwrap();
    assert!(!report.passed, "an ε of 1e−2 against the model's 1e−12 must show");
    std::fs::remove_dir_all(&copy).unwrap();
}
