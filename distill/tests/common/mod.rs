//! What the distillation tests share.

use dyad_model::bert::{Model, Tokenizer};

/// The fetched all-MiniLM-L6-v2 and its tokenizer; `None` (the test then skips) outside CI when
/// `vectors/fetch.sh` has not run.
pub(crate) fn model() -> Option<(Model, Tokenizer)> {
    let dir = dyad_vectors::model_dir();
    if !dir.join("model.safetensors").exists() {
        assert!(std::env::var("CI").is_err(), "CI must fetch the model (bash vectors/fetch.sh)");
        eprintln!("SKIPPED: {} has no model; run `bash vectors/fetch.sh`", dir.display());
        return None;
    }
    Some((Model::load(&dir).unwrap(), Tokenizer::from_file(&dir.join("vocab.txt")).unwrap()))
}
