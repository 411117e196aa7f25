//! The secure encoder: its cost is the sum of its blocks' costs, and on the real model it keeps
//! the embeddings within the cosine bound (dealer and RLWE linear layers alike).

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use dyad_model::bert::{Model, Tokenizer};
use dyad_model::encoder::Suite;
use dyad_model::encoder::layer::EncoderLayer;
use dyad_model::layers::attention::AttentionBlock;
use dyad_model::layers::linear::LinearKind;
use dyad_model::registry::Registry;
use dyad_protocols::harness::{self, RunSpec};
use dyad_protocols::{Protocol, TruncMode};
use dyad_sim::runner::Correlations;
use dyad_sim::{Counts, FixedPoint, Phase, Ring};
use dyad_verify::e2e::{E2eError, E2eSpec, run};

/// The built-in protocols, built once for every test here.
static REGISTRY: std::sync::LazyLock<Registry> =
    std::sync::LazyLock::new(|| Registry::builtin().expect("the built-in protocols build"));

/// Online, offline and setup counts of one checked run.
fn costs(p: &dyn Protocol, dims: &[usize]) -> [Counts; 3] {
    let r = harness::run(p, &RunSpec::new(Ring::Z64, 3).with_dims(dims)).unwrap().report;
    assert!(r.passed, "{} at {dims:?}", p.name());
    [Phase::Online, Phase::Offline, Phase::Setup].map(|ph| r.cost.phase_counts(ph))
}

/// Every built-in suite with protocols: one layer (k = 3 tokens, hidden = ffn = 64, two heads of
/// 32) costs exactly what its blocks cost, online and in dealer material: six linear layers,
/// the attention block, two LayerNorms and the GELU; residual adds are free. Rounds can only be
/// fewer, where blocks overlap.
#[test]
fn every_suite_layer_costs_the_sum_of_its_blocks() {
    let suites: Vec<Suite> = Suite::builtins().unwrap().into_iter().filter(|s| !s.reference).collect();
    assert_eq!(suites.len(), 5);
    for suite in suites {
        let layer = EncoderLayer::new("test.layer", &suite, &REGISTRY).unwrap();
        let [on, off, setup] = costs(&layer, &[3, 64, 64, 2]);
        let attention =
            AttentionBlock { name: "test.attention", function: REGISTRY.attention(&suite.attention).unwrap() };
        let linear = REGISTRY.find(suite.linear.name()).unwrap();
        let layernorm = REGISTRY.find("layernorm").unwrap();
        let gelu = REGISTRY.get(&suite.gelu).unwrap();
        let parts: [(&dyn Protocol, Vec<usize>, u64); 4] = [
            (linear, vec![3, 64, 64], 6),
            (&attention, vec![2, 3, 32], 1),
            (layernorm, vec![3, 64], 2),
            (gelu.as_ref(), vec![3, 64], 1),
        ];
        let mut want = [Counts::default(), Counts::default(), Counts::default()];
        for (p, dims, times) in parts {
            let [c_on, c_off, c_setup] = costs(p, &dims);
            // The client's SIP keys serve every SIP layer: sent once.
            let setup_times = if p.name() == "bumblebee.linear" { 1 } else { times };
            for (acc, (c, t)) in want.iter_mut().zip([(&c_on, times), (&c_off, times), (&c_setup, setup_times)]) {
                acc.add_times(c, t);
            }
        }
        let name = &suite.name;
        assert_eq!(
            (on.bytes_server_to_client, on.bytes_client_to_server),
            (want[0].bytes_server_to_client, want[0].bytes_client_to_server),
            "{name}: online bytes"
        );
        assert_eq!(on.messages(), want[0].messages(), "{name}: online messages");
        assert!(on.rounds <= want[0].rounds, "{name}: {} rounds, blocks alone {}", on.rounds, want[0].rounds);
        assert_eq!(off.dealer_bytes(), want[1].dealer_bytes(), "{name}: dealer bytes");
        assert_eq!(setup.bytes(), want[2].bytes(), "{name}: setup bytes");
    }
}

/// The model, when `vectors/fetch.sh` has fetched it; under CI it must be there.
fn model() -> Option<(Model, Tokenizer)> {
    let dir = dyad_vectors::model_dir();
    if !dir.join("model.safetensors").exists() {
        assert!(std::env::var("CI").is_err(), "CI must fetch the model (bash vectors/fetch.sh)");
        eprintln!("SKIPPED: {} has no model; run `bash vectors/fetch.sh`", dir.display());
        return None;
    }
    Some((Model::load(&dir).unwrap(), Tokenizer::from_file(&dir.join("vocab.txt")).unwrap()))
}

fn spec(suite: &str, linear: Option<LinearKind>, sentences: usize) -> E2eSpec {
    E2eSpec {
        suite: Suite::named(suite).unwrap(),
        linear,
        sentences,
        train: 40,
        fixed: FixedPoint::default_for(Ring::Z64),
        trunc: TruncMode::OneBit,
        seed: 7,
        correlations: Correlations::Dealer,
        secrets: dyad_sim::Secrets::FromSeed,
        recv_timeout: Some(std::time::Duration::from_secs(600)),
        student: None,
        exclude: Vec::new(),
    }
}

#[test]
fn the_nimbus_suite_keeps_pooled_embeddings_within_cosine_0_999() {
    let Some((model, tok)) = model() else { return };
    let snippets = dyad_vectors::read_snippets(&dyad_vectors::bundled_snippets()).unwrap();
    let r =
        run(&model, &tok, &snippets, &spec("nimbus", Some(LinearKind::Dealer), 3), &REGISTRY, &mut |_, _| {}).unwrap();
    assert!(r.cosine.min >= 0.999, "cosine {:?}", r.cosine);
    assert_eq!(r.layers.len(), 6);
    assert!(r.cost.online_bytes_per_sentence > 0.0 && r.cost.dealer_bytes > 0);
}

/// Nimbus as designed, its GELU and Softmax exp in Z_2^32: within cosine 0.999 of the plaintext
/// model, and no truncation beyond 2^62 in its reference.
#[test]
fn the_small_ring_nimbus_suite_keeps_pooled_embeddings_within_cosine_0_999() {
    let Some((model, tok)) = model() else { return };
    let snippets = dyad_vectors::read_snippets(&dyad_vectors::bundled_snippets()).unwrap();
    let spec = spec("nimbus-small", Some(LinearKind::Dealer), 3);
    let r = run(&model, &tok, &snippets, &spec, &REGISTRY, &mut |_, _| {}).unwrap();
    assert!(r.cosine.min >= 0.999, "cosine {:?}", r.cosine);
    // The report names each slot's small ring: f′ = 10 for the refit exp, 11 for the refit GELU.
    let rings: Vec<_> = r
        .small_rings
        .iter()
        .map(|s| (s.slot.as_str(), s.protocol.as_str(), s.ring.ring_bits, s.ring.frac_bits))
        .collect();
    assert_eq!(rings, [("attention", "nimbus.softmax_small", 32, 10), ("gelu", "nimbus.gelu_small", 32, 11)]);
}

/// ℓ = 32 with f = 13 cannot hold the model: LayerNorm's squares of MiniLM's outliers leave the
/// truncations' domain in the suite's reference, and e2e refuses before any secure work.
#[test]
fn e2e_refuses_a_format_whose_reference_leaves_the_truncations_domain() {
    let Some((model, tok)) = model() else { return };
    let snippets = dyad_vectors::read_snippets(&dyad_vectors::bundled_snippets()).unwrap();
    let at32 = E2eSpec { fixed: FixedPoint::default_for(Ring::Z32), train: 20, ..spec("nimbus", None, 1) };
    match run(&model, &tok, &snippets, &at32, &REGISTRY, &mut |_, _| {}) {
        Err(E2eError::Domain { ring_bits: 32, count, .. }) => assert!(count > 0),
        other => panic!("{:?}", other.map(|r| r.cosine)),
    }
}

/// Every built-in suite, the plaintext fixed-point reference among them, runs the whole 6-layer
/// model to completion on a real sentence. The freeDiv suites replace functions without
/// distillation: only their completion is asserted, not their accuracy.
#[test]
fn every_suite_runs_the_whole_model() {
    let Some((model, tok)) = model() else { return };
    let snippets = dyad_vectors::read_snippets(&dyad_vectors::bundled_snippets()).unwrap();
    for suite in Suite::builtins().unwrap() {
        let spec = E2eSpec { train: 20, ..spec(&suite.name, Some(LinearKind::Dealer), 1) };
        let r = run(&model, &tok, &snippets, &spec, &REGISTRY, &mut |_, _| {}).unwrap();
        assert_eq!(r.layers.len(), 6, "{}", suite.name);
        assert!(r.layers.iter().all(|l| l.max_abs.is_finite()) && r.cosine.min.is_finite(), "{}", suite.name);
        if suite.reference {
            assert_eq!(r.cost.online_total.bytes(), 0, "the reference suite runs no protocol");
            assert!(r.cosine.min >= 0.999, "fixed point alone: {:?}", r.cosine);
        } else {
            assert!(r.cost.online_total.bytes() > 0, "{}", suite.name);
        }
    }
}

#[test]
fn rlwe_and_dealer_linear_layers_stay_within_the_same_error_bound() {
    let Some((mut model, tok)) = model() else { return };
    // Two layers keep the encrypted weights (two layers of 3456 ciphertexts) and the run short.
    model.layers.truncate(2);
    let snippets = dyad_vectors::read_snippets(&dyad_vectors::bundled_snippets()).unwrap();
    let he = run(&model, &tok, &snippets, &spec("nimbus", None, 3), &REGISTRY, &mut |_, _| {}).unwrap();
    let dealer =
        run(&model, &tok, &snippets, &spec("nimbus", Some(LinearKind::Dealer), 3), &REGISTRY, &mut |_, _| {}).unwrap();
    assert_eq!(he.linear, LinearKind::Cop);
    for (a, b) in he.layers.iter().zip(&dealer.layers) {
        // The same approximation error of the float model, give or take the ±1-ULP products'
        // different roundings: within 1% of each other, largest and mean error alike.
        assert!(
            (a.max_abs - b.max_abs).abs() <= 0.01 * b.max_abs,
            "layer {}: HE {} dealer {}",
            a.layer,
            a.max_abs,
            b.max_abs
        );
        assert!(
            (a.mean_abs - b.mean_abs).abs() <= 0.01 * b.mean_abs,
            "layer {}: HE {} dealer {}",
            a.layer,
            a.mean_abs,
            b.mean_abs
        );
    }
    assert!(he.cosine.min >= 0.999 && dealer.cosine.min >= 0.999, "{:?} {:?}", he.cosine, dealer.cosine);
    assert!(he.cost.dealer_bytes < dealer.cost.dealer_bytes, "RLWE layers need no matrix triples");
}

#[test]
fn under_provider_ot_the_model_runs_with_no_dealer_and_reports_its_offline_traffic() {
    let Some((mut model, tok)) = model() else { return };
    model.layers.truncate(1);
    let snippets = dyad_vectors::read_snippets(&dyad_vectors::bundled_snippets()).unwrap();
    let spec = E2eSpec { correlations: Correlations::Ot, train: 20, ..spec("nimbus", None, 1) };
    let r = run(&model, &tok, &snippets, &spec, &REGISTRY, &mut |_, _| {}).unwrap();
    assert_eq!(r.correlations, "ot");
    assert_eq!(r.cost.dealer_bytes, 0);
    assert!(r.cost.offline_total.bytes() > r.cost.online_total.bytes(), "{:?}", r.cost);
    assert!(r.cosine.min >= 0.999, "{:?}", r.cosine);
}

/// The test sentences' snippet ids: with three of them, `cosine.worst` names each.
fn test_ids(r: &dyad_verify::e2e::E2eReport) -> Vec<u32> {
    r.cosine.worst.iter().map(|w| w.id).collect()
}

/// A run leaves the excluded snippets out: the sentences a seed picks, excluded, are replaced by
/// others.
#[test]
fn excluded_snippets_are_never_test_sentences() {
    let Some((model, tok)) = model() else { return };
    let snippets = dyad_vectors::read_snippets(&dyad_vectors::bundled_snippets()).unwrap();
    let plain = E2eSpec { train: 20, ..spec("plaintext-fixed", None, 3) };
    let first = test_ids(&run(&model, &tok, &snippets, &plain, &REGISTRY, &mut |_, _| {}).unwrap());
    assert_eq!(first.len(), 3);
    let excluded = E2eSpec { exclude: first.clone(), ..plain };
    let second = test_ids(&run(&model, &tok, &snippets, &excluded, &REGISTRY, &mut |_, _| {}).unwrap());
    assert_eq!(second.len(), 3);
    assert!(second.iter().all(|id| !first.contains(id)), "{first:?} excluded, {second:?} picked");
}

/// A student of zero steps is the undistilled replacement, written and read back as a
/// checkpoint: the secure run is checked against it (not the teacher), and its plaintext and
/// undistilled comparisons with the teacher are the same numbers.
#[test]
fn a_student_runs_with_its_own_weights_and_is_checked_against_its_plaintext_self() {
    let Some((model, tok)) = model() else { return };
    let snippets = dyad_vectors::read_snippets(&dyad_vectors::bundled_snippets()).unwrap();
    let student = dyad_distill::Student::FreedivSoftmax;
    let dir = std::env::temp_dir().join(format!("dyad-e2e-student-{}", std::process::id()));
    let manifest = dyad_distill::Manifest {
        suite: student.name().into(),
        teacher_sha256: String::new(),
        stages: Vec::new(),
        seed: 0,
        dtype: "f32".into(),
        held_out_cosine: [0.0; 3],
        probe_l2: 0.0,
        constants: "fixed".into(),
        training_snippets: Vec::new(),
    };
    let network = student.plaintext(&model).unwrap();
    let written = dyad_distill::output::save(&dir, &dyad_vectors::model_dir(), &network, manifest).unwrap();
    assert_eq!(dyad_distill::Manifest::read(&dir).unwrap(), written);
    let weights = std::sync::Arc::new(Model::load(&dir).unwrap());
    let spec = E2eSpec { train: 40, student: Some(weights), ..spec(student.name(), Some(LinearKind::Dealer), 2) };
    let r = run(&model, &tok, &snippets, &spec, &REGISTRY, &mut |_, _| {}).unwrap();
    let s = r.student.as_ref().unwrap();
    assert_eq!(s.student_to_teacher, s.undistilled_to_teacher);
    assert!(s.secure_to_student.min > 0.999, "{:?}", s.secure_to_student);
    // Against the teacher the undistilled replacement is far off; against itself, close.
    assert!(s.student_to_teacher.mean < 0.5, "{:?}", s.student_to_teacher);
    for l in &r.layers {
        assert!(l.max_abs < 0.1, "layer {}: {} against the plaintext student", l.layer, l.max_abs);
    }
    std::fs::remove_dir_all(&dir).unwrap();
}
