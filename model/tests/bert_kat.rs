//! Known answers for the plaintext BERT: token ids, the mean-pooled last hidden state and the
//! GELU-input statistics of 12 snippets, computed independently by transformers/torch
//! (`../shared/kat/minilm-l6-reference.json`). Needs the weights that `vectors/fetch.sh` puts in
//! `vectors/model/`; without them the test says so and passes, except under CI, where the fetch
//! runs first and their absence is a failure.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use std::io::Write;
use std::path::{Path, PathBuf};

use dyad_model::bert::{Model, Tokenizer};
use serde::Deserialize;

/// Largest absolute difference allowed on the pooled state and on the GELU-input statistics.
const TOLERANCE: f64 = 1e-4;

#[derive(Deserialize)]
struct Kat {
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    sentence: String,
    input_ids: Vec<u32>,
    mean_pooled_last_hidden: Vec<f64>,
    gelu_input_stats: Vec<GeluStats>,
}

#[derive(Deserialize)]
struct GeluStats {
    layer: usize,
    mean: f64,
    std: f64,
    min: f64,
    max: f64,
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// The model directory and the known answers, or `None` (after saying why) when they are absent
/// outside CI.
fn inputs() -> Option<(PathBuf, Kat)> {
    let model = workspace().join("vectors/model");
    let kat = workspace().join("vectors/kat/minilm-l6-reference.json");
    for (path, what) in [(model.join("model.safetensors"), "; run `bash vectors/fetch.sh` first"), (kat.clone(), "")] {
        if !path.exists() {
            let message = format!("SKIPPED: {} is absent{what}", path.display());
            assert!(std::env::var_os("CI").is_none(), "{message}: CI must provide it");
            // Straight to stderr, past the test harness's capture, so that a skip is always seen.
            let _ = writeln!(std::io::stderr(), "{message}");
            return None;
        }
    }
    let kat: Kat = serde_json::from_str(&std::fs::read_to_string(&kat).unwrap()).unwrap();
    Some((model, kat))
}

#[test]
fn minilm_matches_transformers_on_the_known_answers() {
    let Some((dir, kat)) = inputs() else { return };
    let tokenizer = Tokenizer::from_file(&dir.join("vocab.txt")).unwrap();
    let model = Model::load(&dir).unwrap();
    assert_eq!(tokenizer.vocab_size(), model.config.vocab_size);
    assert_eq!(kat.cases.len(), 12);

    let (mut pooled_max, mut stats_max) = (0.0f64, 0.0f64);
    for (n, case) in kat.cases.iter().enumerate() {
        let ids = tokenizer.encode(&case.sentence);
        assert_eq!(ids, case.input_ids, "case {n}: token ids of {:?}", case.sentence);
        let trace = model.forward(&ids).unwrap();
        for (got, want) in trace.pooled.iter().zip(&case.mean_pooled_last_hidden) {
            pooled_max = pooled_max.max((got - want).abs());
        }
        assert_eq!(trace.pooled.len(), case.mean_pooled_last_hidden.len());
        assert_eq!(case.gelu_input_stats.len(), model.layers.len());
        for want in &case.gelu_input_stats {
            let g = &trace.layers[want.layer].gelu_input;
            let len = g.len() as f64;
            let mean = g.sum() / len;
            let std = (g.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / len).sqrt();
            let min = g.iter().copied().fold(f64::INFINITY, f64::min);
            let max = g.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            // The known answers hold the population standard deviation (divided by the count).
            let err =
                [(mean - want.mean).abs(), (std - want.std).abs(), (min - want.min).abs(), (max - want.max).abs()];
            stats_max = err.iter().copied().fold(stats_max, f64::max);
        }
    }
    println!("KAT: 12 sentences, ids exact; pooled max abs error {pooled_max:.3e}, GELU stats {stats_max:.3e}");
    assert!(pooled_max < TOLERANCE, "pooled max abs error {pooled_max:e}");
    assert!(stats_max < TOLERANCE, "GELU-input statistics max abs error {stats_max:e}");
}

#[test]
fn the_model_refuses_bad_inputs_with_typed_errors() {
    let Some((dir, _)) = inputs() else { return };
    let model = Model::load(&dir).unwrap();
    let vocab = model.config.vocab_size as u32;
    assert!(model.forward(&[]).unwrap_err().to_string().contains("no token"));
    let e = model.forward(&[101, vocab, 102]).unwrap_err().to_string();
    assert!(e.contains(&format!("token id {vocab} at position 1")), "{e}");
    let long = vec![101; model.config.max_position_embeddings + 1];
    assert!(model.forward(&long).unwrap_err().to_string().contains("positions"));
    let hidden = model.embed(&[101, 102]).unwrap();
    assert!(model.layer(model.layers.len(), &hidden).unwrap_err().to_string().contains("does not exist"));
    let narrow = hidden.slice_axis(ndarray::Axis(1), ndarray::Slice::from(0..3)).to_owned();
    assert!(model.layer(0, &narrow).unwrap_err().to_string().contains("hidden state has shape"));
}
