//! The committed measurements of freeDiv's accuracy claim (`bench/accuracy/`): each report reads
//! into the claims view's row with the verdict its own figures give, it belongs to its student's
//! manifest, and that student was distilled from the fetched teacher.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use std::path::{Path, PathBuf};

use dyad_bench::accuracy::{TOLERANCE_POINTS, check_report};
use dyad_distill::Manifest;
use serde_json::Value;

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("accuracy")
}

#[test]
fn the_committed_accuracy_reports_are_judged_by_their_own_figures() {
    let teacher = dyad_vectors::model_dir().join("model.safetensors");
    let teacher_sha = teacher.exists().then(|| dyad_vectors::sha256_hex(&std::fs::read(&teacher).unwrap()));
    for suite in ["freediv-softmax", "freediv-2quad"] {
        let path = dir().join(format!("{suite}.e2e.json"));
        let check = check_report(&path).unwrap();
        let v: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let (teacher_acc, secure) =
            (v["probe"]["accuracy_plaintext"].as_f64().unwrap(), v["probe"]["accuracy_secure"].as_f64().unwrap());
        assert_eq!(check.suite, suite);
        assert_eq!((check.teacher, check.student_secure), (teacher_acc, secure));
        assert_eq!(check.reproduced, 100.0 * (teacher_acc - secure) <= TOLERANCE_POINTS, "{suite}");

        let manifest: Manifest =
            serde_json::from_str(&std::fs::read_to_string(dir().join(format!("{suite}.manifest.json"))).unwrap())
                .unwrap();
        assert_eq!(manifest.suite, suite);
        for w in v["cosine"]["worst"].as_array().unwrap() {
            let id = u32::try_from(w["id"].as_u64().unwrap()).unwrap();
            assert!(!manifest.training_snippets.contains(&id), "{suite}: test snippet {id} was trained on");
        }
        if let Some(sha) = &teacher_sha {
            assert_eq!(&manifest.teacher_sha256, sha, "{suite}: distilled from another teacher");
        }
    }
}
