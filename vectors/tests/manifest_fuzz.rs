//! The manifest parser never panics: proptest-generated garbage, and valid manifests with bytes
//! deleted, replaced or inserted, always give a value or a typed error naming the manifest.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod common;

use std::path::Path;

use dyad_vectors::{MANIFEST_FILE, Manifest, VectorsError};
use proptest::prelude::*;
use proptest::test_runner::TestRunner;

fn assert_typed(result: Result<Manifest, VectorsError>, path: &Path) -> bool {
    match result {
        Ok(_) => true,
        Err(VectorsError::Manifest { path: p, field, .. }) => {
            assert_eq!(p, path);
            assert!(!field.is_empty());
            false
        }
        Err(other) => panic!("expected a manifest error, got {other:?}"),
    }
}

#[test]
fn fuzz_manifest_garbage_is_always_a_typed_error() {
    let path = Path::new("garbage/manifest.yaml");
    let mut runner = TestRunner::new(dyad_sim::testkit::fuzz_config(0x5eed_0005, 2048));
    let yamlish = "[a-z_{}\\[\\]:,\\- \n\t'\"&*!|>#%@0-9.]{0,300}";
    runner
        .run(&prop_oneof![any::<String>(), yamlish.prop_map(String::from)], |text| {
            prop_assert!(!assert_typed(Manifest::parse(&text, path), path), "garbage parsed: {text:?}");
            Ok(())
        })
        .unwrap();
}

#[test]
fn fuzz_manifest_mutations_never_panic() {
    let dir = common::fresh_dir("fuzz");
    common::record_toy(&dir, 3);
    let path = dir.join(MANIFEST_FILE);
    let good = std::fs::read(&path).unwrap();
    assert!(assert_typed(Manifest::parse(std::str::from_utf8(&good).unwrap(), &path), &path));
    let mut runner = TestRunner::new(dyad_sim::testkit::fuzz_config(0x5eed_0006, 2048));
    runner
        .run(&common::edits(good.len(), 6), |edits| {
            let bytes = common::mutate(&good, &edits);
            let text = String::from_utf8_lossy(&bytes);
            assert_typed(Manifest::parse(&text, &path), &path);
            Ok(())
        })
        .unwrap();
}
