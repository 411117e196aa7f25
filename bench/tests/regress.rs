//! The regression gate against the committed baseline.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use dyad_bench::regress::{ALL, compare, compute, load};
use dyad_model::registry::Registry;
use dyad_protocols::{ModelShape, TruncMode};
use dyad_sim::Ring;

/// The built-in protocols, built once for every test here.
static REGISTRY: std::sync::LazyLock<Registry> =
    std::sync::LazyLock::new(|| Registry::builtin().expect("the built-in protocols build"));

fn baseline_path() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("baseline.yaml")
}

#[test]
fn the_committed_baseline_covers_every_protocol_and_matches() {
    let baseline = load(&baseline_path()).unwrap();
    let now = compute(&REGISTRY.all(), ModelShape::CI, Ring::Z64, TruncMode::OneBit).unwrap();
    let diff = compare(&baseline, &now);
    assert!(diff.passed(), "{diff:?}");
    assert!(diff.new.is_empty() && diff.gone.is_empty(), "baseline out of date: {diff:?}; run `dyad regress --update`");
    for p in REGISTRY.all() {
        assert!(baseline.protocols.contains_key(p.name()), "{} missing from the baseline", p.name());
    }
}

#[test]
fn a_lowered_baseline_count_fails_naming_protocol_and_label() {
    let mut baseline = load(&baseline_path()).unwrap();
    let now = baseline.clone();
    let counts = baseline.protocols.get_mut("mul").unwrap().get_mut("online").unwrap().get_mut("mul/beaver").unwrap();
    counts.bytes_server_to_client -= 1;
    let diff = compare(&baseline, &now);
    assert!(!diff.passed());
    assert_eq!(diff.increases.len(), 1);
    let c = &diff.increases[0];
    assert_eq!(
        (c.protocol.as_str(), c.phase.as_str(), c.label.as_str(), c.field.as_str()),
        ("mul", "online", "mul/beaver", "bytes_server_to_client")
    );
    // A lower count now is an improvement: reported, and the gate passes.
    let diff = compare(&now, &baseline);
    assert!(diff.passed() && diff.decreases.len() == 1);
    // A protocol the baseline does not know is reported.
    let mut fewer = now.clone();
    fewer.protocols.remove("add");
    let diff = compare(&fewer, &now);
    assert!(diff.passed() && diff.new == vec!["add".to_string()]);
    assert!(now.protocols["mul"]["online"].contains_key(ALL));
}
