//! The secure encoder: its cost is the sum of its blocks' costs, and on the real model it keeps
//! the embeddings within the cosine bound (dealer and RLWE linear layers alike).

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use dyad_audit::e2e::{E2eSpec, run};
use dyad_protocols::encoder::Suite;
use dyad_protocols::harness::{self, RunSpec};
use dyad_protocols::layers::linear::LinearKind;
use dyad_protocols::{TruncMode, registry};
use dyad_sim::{Counts, FixedPoint, Phase, Ring};
use dyad_verify::bert::{Model, Tokenizer};

fn online(name: &str, dims: &[usize]) -> (Counts, Counts) {
    let p = registry::find(name).unwrap();
    let r = harness::run(p.as_ref(), &RunSpec::new(Ring::Z64, 3).with_dims(dims)).unwrap().report;
    assert!(r.passed, "{name} at {dims:?}");
    (r.cost.phase_counts(Phase::Online), r.cost.phase_counts(Phase::Setup))
}

#[test]
fn every_suite_runs_and_its_layer_costs_the_sum_of_its_blocks() {
    // k = 3 tokens, hidden = ffn = 64, two heads of 32.
    for (suite, linear, attention, gelu) in [
        ("layer.nimbus", "nimbus.linear", "attention.nimbus", "nimbus.gelu"),
        ("layer.bumblebee", "bumblebee.linear", "attention.bumblebee", "bumblebee.gelu"),
        ("layer.freediv_softmax", "bumblebee.linear", "attention.softmax_freediv", "freediv.quad_gelu"),
        ("layer.freediv_2quad", "bumblebee.linear", "attention.quad2_freediv", "freediv.quad_gelu"),
    ] {
        let (layer, layer_setup) = online(suite, &[3, 64, 64]);
        let parts = [
            (linear, vec![3, 64, 64], 6),
            (attention, vec![2, 3, 32], 1),
            ("layernorm", vec![3, 64], 2),
            (gelu, vec![3, 64], 1),
        ];
        let (mut bytes, mut messages, mut rounds, mut setup) = ((0, 0), 0, 0, 0);
        for (name, dims, times) in parts {
            let (c, s) = online(name, &dims);
            bytes.0 += times * c.bytes_server_to_client;
            bytes.1 += times * c.bytes_client_to_server;
            messages += times * c.messages();
            rounds += times * c.rounds;
            // The client's SIP keys serve every SIP layer: sent once.
            setup += if name == "bumblebee.linear" { 1 } else { times } * s.bytes();
        }
        assert_eq!((layer.bytes_server_to_client, layer.bytes_client_to_server), bytes, "{suite}: online bytes");
        assert_eq!(layer.messages(), messages, "{suite}: online messages");
        assert!(layer.rounds <= rounds, "{suite}: {} rounds, blocks alone {rounds}", layer.rounds);
        assert_eq!(layer_setup.bytes(), setup, "{suite}: setup bytes");
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
    }
}

#[test]
fn the_nimbus_suite_keeps_pooled_embeddings_within_cosine_0_999() {
    let Some((model, tok)) = model() else { return };
    let snippets = dyad_vectors::read_snippets(&dyad_vectors::bundled_snippets()).unwrap();
    let r = run(&model, &tok, &snippets, &spec("nimbus", Some(LinearKind::Dealer), 3), &mut |_, _| {}).unwrap();
    assert!(r.cosine.min >= 0.999, "cosine {:?}", r.cosine);
    assert_eq!(r.layers.len(), 6);
    assert!(r.cost.online_bytes_per_sentence > 0.0 && r.cost.dealer_bytes > 0);
}

#[test]
fn rlwe_and_dealer_linear_layers_stay_within_the_same_error_bound() {
    let Some((mut model, tok)) = model() else { return };
    // Two layers keep the encrypted weights (two layers of 3456 ciphertexts) and the run short.
    model.layers.truncate(2);
    let snippets = dyad_vectors::read_snippets(&dyad_vectors::bundled_snippets()).unwrap();
    let he = run(&model, &tok, &snippets, &spec("nimbus", None, 1), &mut |_, _| {}).unwrap();
    let dealer = run(&model, &tok, &snippets, &spec("nimbus", Some(LinearKind::Dealer), 1), &mut |_, _| {}).unwrap();
    assert_eq!(he.linear, LinearKind::Cop);
    for (a, b) in he.layers.iter().zip(&dealer.layers) {
        // Both are within the approximation's error of the float model, and within a few ULPs'
        // worth of each other's bound.
        assert!(a.max_abs < 0.1 && b.max_abs < 0.1, "layer {}: HE {} dealer {}", a.layer, a.max_abs, b.max_abs);
        assert!((a.mean_abs - b.mean_abs).abs() < 1e-3, "layer {}: HE {} dealer {}", a.layer, a.mean_abs, b.mean_abs);
    }
    assert!(he.cosine.min >= 0.999 && dealer.cosine.min >= 0.999, "{:?} {:?}", he.cosine, dealer.cosine);
    assert!(he.cost.dealer_bytes < dealer.cost.dealer_bytes, "RLWE layers need no matrix triples");
}
