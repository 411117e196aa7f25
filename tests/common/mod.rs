//! What several integration tests share.

/// Whether the fetched model is present; absent, a test that needs it is skipped, except in CI
/// (`CI` set), where its absence is a failure.
pub(crate) fn model_present() -> bool {
    let weights = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("vectors/model/model.safetensors");
    if weights.exists() {
        return true;
    }
    assert!(std::env::var_os("CI").is_none(), "{} is absent: CI must fetch it", weights.display());
    eprintln!("SKIPPED: {} is absent; run `bash vectors/fetch.sh` first", weights.display());
    false
}
