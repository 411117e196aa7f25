//! A small synthetic vector set, recorded from seeded pseudo-random activations of a toy shape.

#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)] // tests fail loudly by design

use std::path::{Path, PathBuf};

use dyad_vectors::{LayerActivations, Manifest, ModelInfo, RecordSpec, Recorder, SentenceSource};
use ndarray::{Array1, Array2, Array3};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;

/// The toy model: 2 layers, hidden 8, 2 heads, intermediate 16.
pub(crate) fn toy_model() -> ModelInfo {
    ModelInfo {
        name: "toy".into(),
        package: "none".into(),
        weights_sha256: "0".repeat(64),
        layers: 2,
        hidden: 8,
        heads: 2,
        intermediate: 16,
        layer_norm_eps: 1e-12,
    }
}

/// Token counts of the toy sentences.
pub(crate) const LENGTHS: [usize; 5] = [3, 5, 4, 6, 2];

/// A fresh, empty directory under Cargo's temporary directory for integration tests.
pub(crate) fn fresh_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("dyad-vectors-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn uniform(rng: &mut ChaCha20Rng, scale: f64) -> f64 {
    ((rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64 - 0.5) * scale
}

/// Records the toy set into `dir` with recording seed `seed`; the activations themselves are
/// always the same.
pub(crate) fn record_toy(dir: &Path, seed: u64) -> Manifest {
    let model = toy_model();
    let spec = RecordSpec { seed, samples: 50, rows: 7 };
    let mut recorder = Recorder::new(spec, model.clone()).unwrap();
    let mut rng = ChaCha20Rng::seed_from_u64(99);
    for (i, &n) in LENGTHS.iter().enumerate() {
        let mut layer = || {
            let scores = Array3::from_shape_fn((model.heads, n, n), |_| uniform(&mut rng, 20.0));
            let mut matrix = |cols: usize, scale: f64| Array2::from_shape_fn((n, cols), |_| uniform(&mut rng, scale));
            (
                scores,
                matrix(model.hidden, 4.0),
                matrix(model.intermediate, 10.0),
                matrix(model.hidden, 50.0),
                matrix(model.hidden, 2.0),
            )
        };
        let arrays: Vec<_> = (0..model.layers).map(|_| layer()).collect();
        let views: Vec<LayerActivations<'_>> = arrays
            .iter()
            .map(|(s, a, g, f, h)| LayerActivations {
                scores: s.view(),
                attention_residual: a.view(),
                gelu_input: g.view(),
                ffn_residual: f.view(),
                hidden: h.view(),
            })
            .collect();
        let pooled = Array1::from_shape_fn(model.hidden, |j| j as f64 / 8.0 - i as f64);
        recorder.add(10 * i as u32 + 1, &views, pooled.view()).unwrap();
    }
    let source = SentenceSource { source: "toy sentences".into(), sha256: "1".repeat(64), available: 100 };
    recorder.finish(dir, source).unwrap()
}

pub(crate) use dyad_sim::strategy::{byte_edits as edits, mutate};
