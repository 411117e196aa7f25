//! `dyad audit`, `fit`, `cost`, `regress --update`, `e2e` and `distill` through the binary: their documented
//! report fields, and coefficient files loaded at run time.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

fn dyad(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dyad")).args(args).output().expect("the binary runs")
}

fn json(o: &Output) -> Value {
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).unwrap()
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("dyad-commands-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn audit_json_has_the_documented_fields_and_labels_freediv_before_distillation() {
    let plots = scratch("plots");
    let v = json(&dyad(&[
        "audit",
        "--layers",
        "0",
        "--samples",
        "256",
        "--rows",
        "8",
        "--protocol",
        "nimbus.gelu_example",
        "--protocol",
        "freediv.softmax_freediv",
        "--format",
        "json",
        "--plot",
        plots.to_str().unwrap(),
    ]));
    for field in ["provenance", "passed", "ring_bits", "frac_bits", "trunc", "seed", "entries"] {
        assert!(v.get(field).is_some(), "no {field} in {v}");
    }
    for field in ["vectors", "model", "weights_sha256", "sentences", "sentence_source_sha256", "recording_seed"] {
        assert!(v["provenance"].get(field).is_some(), "no provenance.{field} in {v}");
    }
    assert_eq!(v["passed"], true);
    let entries = v["entries"].as_array().unwrap();
    assert_eq!(entries.len(), 2);
    let gelu = &entries[0];
    assert_eq!(gelu["protocol"], "nimbus.gelu_example");
    assert_eq!(gelu["jump"]["at"], 0.5);
    for part in ["total", "approximation", "fixed_point"] {
        assert!(gelu["errors"][part]["weighted_rms"].as_f64().unwrap() > 0.0, "{part}");
    }
    for e in entries {
        let verdict = &e["verdict"];
        assert_eq!(verdict["passed"], true, "{verdict}");
        assert!(verdict["inputs_in_domain"].as_u64().unwrap() > 0 && verdict["domain"].is_array(), "{verdict}");
    }
    let freediv = &entries[1];
    assert_eq!(freediv["note"], "before distillation");
    let sm = &freediv["softmax"];
    assert!(sm["kl_mean"].as_f64().unwrap() > 0.0 && sm["row_max_abs_mean"].as_f64().unwrap() > 0.0);
    assert!(sm["row_max_abs"].as_f64().unwrap() >= sm["row_max_abs_mean"].as_f64().unwrap());
    assert!(freediv["cost"]["dealer"].as_bool().unwrap());
    let svg = std::fs::read_to_string(plots.join("nimbus.gelu_example.layer0.svg")).unwrap();
    assert!(svg.starts_with("<svg") || svg.starts_with("<?xml"), "{}", &svg[..svg.len().min(80)]);
}

#[test]
fn an_audit_of_no_inputs_is_bad_usage() {
    for args in [["--samples", "0"], ["--rows", "0"]] {
        let o = dyad(&["audit", "--layers", "0", "--protocol", "layernorm", args[0], args[1]]);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert!(String::from_utf8_lossy(&o.stderr).contains(args[0]), "{}", String::from_utf8_lossy(&o.stderr));
    }
}

#[test]
fn a_fitted_coefficient_file_is_audited_and_run_without_a_rebuild() {
    let dir = scratch("fit");
    let file = dir.join("mine.yaml");
    let o = dyad(&[
        "fit",
        "--function",
        "exp",
        "--degree",
        "2",
        "--continuous",
        "--layers",
        "0",
        "--name",
        "mine",
        "--out",
        file.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains("name: mine") && text.contains("function: exp"), "{text}");
    let v = json(&dyad(&[
        "audit",
        "--layers",
        "0",
        "--samples",
        "256",
        "--rows",
        "4",
        "--protocol",
        "nimbus.exp_example",
        "--coeffs",
        file.to_str().unwrap(),
        "--format",
        "json",
    ]));
    let names: Vec<&str> = v["entries"].as_array().unwrap().iter().map(|e| e["protocol"].as_str().unwrap()).collect();
    assert_eq!(names, ["nimbus.exp_example", "coeffs.mine", "coeffs.mine.softmax"]);
    let o = dyad(&["run", "coeffs.mine.softmax", "--coeffs", file.to_str().unwrap(), "--format", "json"]);
    assert_eq!(json(&o)["passed"], true);
    let o = dyad(&["fit", "--function", "gelu", "--degree", "2,3", "--segments", "3"]);
    assert_eq!(o.status.code(), Some(2));
    let o = dyad(&["fit", "--function", "exp", "--degree", "2", "--layers", "0", "--max-error", "1e-9"]);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("stays within 1e-9") && err.contains("closest reaches"), "{err}");
    let bounded = dir.join("bounded.yaml");
    let o = dyad(&[
        "fit",
        "--function",
        "exp",
        "--degree",
        "2",
        "--layers",
        "0",
        "--max-error",
        "0.06",
        "--out",
        bounded.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(std::fs::read_to_string(&bounded).unwrap().contains("--degree 2 --max-error 0.06`"));
    let broken = dir.join("broken.yaml");
    std::fs::write(&broken, "name: x\nfunction: gelu\nsource: s\nbreaks: [1.0]\npieces: [{coeffs: [0.0]}]\n").unwrap();
    let o = dyad(&["audit", "--coeffs", broken.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("broken.yaml"), "{}", String::from_utf8_lossy(&o.stderr));
}

/// `--small-ring` sets a mixed-ring protocol's ℓ′ and f′: the run is checked at that format and
/// reports it; an f′ its pieces overflow, or a protocol without a small ring, is refused with
/// exit 2 naming the bound.
#[test]
fn small_ring_sets_a_mixed_ring_protocols_format() {
    let run =
        |ring: &str| dyad(&["run", "nimbus.gelu_small", "--shape", "64", "--small-ring", ring, "--format", "json"]);
    let v = json(&run("nimbus.gelu_small=32:9"));
    assert_eq!(v["small_ring"], serde_json::json!({"ring_bits": 32, "frac_bits": 9}));
    assert_eq!(v["passed"], true, "{v}");
    let derived = json(&run("nimbus.gelu_small=32"));
    assert_eq!(derived["small_ring"]["frac_bits"], 11, "f′ derived when FRAC is omitted");
    for (ring, says) in [
        ("nimbus.gelu_small=32:14", "f′ = 14 in Z_2^32: its pieces overflow 2^29 units"),
        ("nimbus.gelu_small=32:18", "f′ = 18: choose 8 ≤ f′ < 18"),
        ("nimbus.gelu_small=64", "needs a larger run ring"),
        ("nimbus.gelu=32", "\"nimbus.gelu\" is not a protocol with a small ring"),
        ("nimbus.gelu_small=32:x", "is not a whole number of bits"),
        ("nimbus.gelu_small", "expected PROTOCOL=BITS[:FRAC]"),
    ] {
        let o = run(ring);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{ring}: {err}");
        assert!(err.contains(says), "{ring}: {err}");
    }
}

#[test]
fn cost_reads_shape_and_profile_files_and_checks_claims() {
    let dir = scratch("cost");
    let shapes = dir.join("tiny.yaml");
    std::fs::write(&shapes, "name: tiny\nshape: {seq: 4, hidden: 16, heads: 2, ffn: 32}\n").unwrap();
    let profiles = dir.join("profiles.yaml");
    std::fs::write(&profiles, "- {name: slow, bandwidth_bits_per_second: 1.0e6, latency_seconds: 0.1}\n").unwrap();
    let v = json(&dyad(&[
        "cost",
        "mul",
        "nimbus.gelu",
        "--shapes",
        shapes.to_str().unwrap(),
        "--profiles",
        profiles.to_str().unwrap(),
        "--format",
        "json",
    ]));
    assert_eq!(v["shape_set"]["name"], "tiny");
    assert_eq!(v["shape_set"]["shape"]["ffn"], 32);
    let names: Vec<&str> = v["profiles"].as_array().unwrap().iter().map(|p| p["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["lan", "wan", "slow"]);
    let mul = &v["costs"][0];
    assert_eq!(mul["protocol"], "mul");
    assert_eq!(mul["passed"], true);
    // `mul` runs on seq × hidden elements; the slow profile charges its rounds and bytes.
    assert_eq!(mul["dims"], serde_json::json!([4, 16]));
    let online = mul["cost"]["phases"].as_array().unwrap().iter().find(|p| p["phase"] == "online").unwrap();
    let c = &online["counts"];
    let bytes = c["bytes_server_to_client"].as_f64().unwrap() + c["bytes_client_to_server"].as_f64().unwrap();
    let slow = mul["estimates"].as_array().unwrap().iter().find(|e| e["profile"] == "slow").unwrap();
    let network = c["rounds"].as_f64().unwrap() * 0.1 + bytes * 8.0 / 1.0e6;
    assert!((slow["network_seconds"].as_f64().unwrap() - network).abs() < 1e-9, "{slow}: network time {network}");
    assert!(slow["online_seconds"].as_f64().unwrap() >= network, "{slow} below the network time {network}");
    assert!(slow["per_query_seconds"].is_null(), "a dealer's offline material is not a per-query cost: {slow}");
    let (shapes, profiles) = (shapes.to_str().unwrap(), profiles.to_str().unwrap());
    let v = json(&dyad(&[
        "cost",
        "mul",
        "--shapes",
        shapes,
        "--profiles",
        profiles,
        "--correlations",
        "ot",
        "--format",
        "json",
    ]));
    let mul = &v["costs"][0];
    let (mut rounds, mut bytes) = (0.0, 0.0);
    for p in mul["cost"]["phases"].as_array().unwrap().iter().filter(|p| p["phase"] != "setup") {
        let c = &p["counts"];
        rounds += c["rounds"].as_f64().unwrap();
        bytes += c["bytes_server_to_client"].as_f64().unwrap() + c["bytes_client_to_server"].as_f64().unwrap();
    }
    let slow = mul["estimates"].as_array().unwrap().iter().find(|e| e["profile"] == "slow").unwrap();
    let network = rounds * 0.1 + bytes * 8.0 / 1.0e6;
    let got = slow["per_query_network_seconds"].as_f64().unwrap();
    assert!((got - network).abs() < 1e-9 && got > slow["network_seconds"].as_f64().unwrap(), "{slow}: {network}");
    assert!(slow["per_query_seconds"].as_f64().unwrap() >= network, "{slow}");
    let v = json(&dyad(&["cost", "--claims", "--shapes", "ci", "--format", "json"]));
    let claims = v["claims"].as_array().unwrap();
    assert_eq!(claims.len(), 12, "every claim's protocols are measured");
    // Each Nimbus non-linear claim is checked for both designs (the public example, Dyad's refit),
    // each in the run's ring and in the small ring, and the caveat says which.
    for proposal in ["nimbus.gelu", "nimbus.gelu_example", "nimbus.softmax", "nimbus.softmax_example"] {
        for (name, says) in
            [(proposal.to_owned(), "without Nimbus's small ring"), (format!("{proposal}_small"), "small ring Z_2^32")]
        {
            let row = claims
                .iter()
                .find(|c| c["claim"]["proposal"][0] == name.as_str())
                .unwrap_or_else(|| panic!("no claim row for {name}"));
            assert!(row["claim"]["caveat"].as_str().unwrap().contains(says), "{row}");
        }
    }
    for c in claims {
        assert!(c["bytes_ratio"].as_f64().unwrap() > 0.0, "{c}");
        assert_eq!((c["correlations"].as_str(), c["basis"].as_str()), (Some("dealer"), Some("online")), "{c}");
        assert!(c["per_query_bytes_ratio"].is_null(), "a dealer's material is compared: {c}");
        let low = c["claim"]["low"].as_f64().unwrap();
        for p in c["profiles"].as_array().unwrap() {
            let ratio = p["time_ratio"].as_f64().unwrap();
            assert!(ratio > 0.0 && p["reproduced"].as_bool().unwrap() == (ratio >= low), "{p}");
            assert!(p["network_ratio"].as_f64().unwrap() > 0.0, "{p}");
            assert!(p["per_query_time_ratio"].is_null(), "{p}");
        }
    }
    // Under `ot` the parties' offline traffic is real, and each claim is judged per query.
    let v = json(&dyad(&["cost", "--claims", "--shapes", "ci", "--correlations", "ot", "--format", "json"]));
    let costs = v["costs"].as_array().unwrap();
    let phase_bytes = |name: &Value, phases: &[&str]| -> f64 {
        let cost = costs.iter().find(|c| &c["protocol"] == name).unwrap();
        let listed = cost["cost"]["phases"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| phases.contains(&p["phase"].as_str().unwrap()));
        listed
            .map(|p| {
                p["counts"]["bytes_server_to_client"].as_f64().unwrap()
                    + p["counts"]["bytes_client_to_server"].as_f64().unwrap()
            })
            .sum()
    };
    let side = |c: &Value, which: &str, phases: &[&str]| -> f64 {
        c["claim"][which].as_array().unwrap().iter().map(|n| phase_bytes(n, phases)).sum()
    };
    let claims = v["claims"].as_array().unwrap();
    assert_eq!(claims.len(), 12);
    for c in claims {
        assert_eq!((c["correlations"].as_str(), c["basis"].as_str()), (Some("ot"), Some("per_query")), "{c}");
        let per_query = ["offline", "online"];
        let expected = side(c, "baseline", &per_query) / side(c, "proposal", &per_query);
        let got = c["per_query_bytes_ratio"].as_f64().unwrap();
        assert!((got - expected).abs() < 1e-9 * expected, "{got} ≠ {expected}: {c}");
        let online = side(c, "baseline", &["online"]) / side(c, "proposal", &["online"]);
        assert!((c["bytes_ratio"].as_f64().unwrap() - online).abs() < 1e-9 * online, "{c}");
        let low = c["claim"]["low"].as_f64().unwrap();
        for p in c["profiles"].as_array().unwrap() {
            let ratio = p["per_query_time_ratio"].as_f64().unwrap();
            assert!(ratio > 0.0 && p["reproduced"].as_bool().unwrap() == (ratio >= low), "{p}");
            assert!(p["per_query_network_ratio"].as_f64().unwrap() > 0.0, "{p}");
        }
    }
    let bad = dir.join("bad.yaml");
    std::fs::write(&bad, "name: bad\nshape: {seq: 4, hidden: 15, heads: 2, ffn: 32}\n").unwrap();
    assert_eq!(dyad(&["cost", "mul", "--shapes", bad.to_str().unwrap()]).status.code(), Some(2));
}

#[test]
fn under_ot_bert_base_attention_products_are_measured_with_he_triples() {
    // As Gilboa products, QKᵀ's triple would need 3.3 GB of τ each way; with HE it is measured.
    let v = json(&dyad(&["cost", "matmul", "--shapes", "bert-base", "--correlations", "ot", "--format", "json"]));
    assert!(v["refused"].as_array().is_none_or(Vec::is_empty), "{v}");
    let cost = &v["costs"][0];
    assert_eq!(cost["protocol"], "matmul");
    assert_eq!(cost["cost"]["dealer_used"], false);
    let offline = cost["cost"]["phases"].as_array().unwrap().iter().find(|p| p["phase"] == "offline").unwrap();
    let he = offline["labels"].as_array().unwrap().iter().find(|l| l["label"] == "matmul/matmul/he").unwrap();
    let bytes = |k: &str| he["counts"][k].as_u64().unwrap();
    // One message each way; both directions well under the 3.3 GB of the Gilboa products.
    assert_eq!(
        (he["counts"]["messages_server_to_client"].as_u64(), he["counts"]["messages_client_to_server"].as_u64()),
        (Some(1), Some(1))
    );
    assert!(bytes("bytes_client_to_server") > 0 && bytes("bytes_server_to_client") < 100_000_000, "{he}");
}

#[test]
fn regress_update_writes_a_baseline_that_then_matches() {
    let path = scratch("update").join("baseline.yaml");
    let o = dyad(&["regress", "--update", "--baseline", path.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let written = std::fs::read_to_string(&path).unwrap();
    let committed = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/bench/baseline.yaml")).unwrap();
    assert_eq!(written, committed, "the committed baseline is not what --update writes");
    let v = json(&dyad(&["regress", "--baseline", path.to_str().unwrap(), "--format", "json"]));
    for field in ["increases", "decreases", "new", "gone"] {
        assert_eq!(v[field], serde_json::json!([]), "{field}");
    }
}

#[test]
fn e2e_json_has_the_documented_fields() {
    if !common::model_present() {
        return;
    }
    let v = json(&dyad(&["e2e", "--suite", "nimbus", "--sentences", "2", "--train", "40", "--format", "json"]));
    for field in
        ["suite", "linear", "reference", "ring_bits", "frac_bits", "trunc", "layers", "cosine", "probe", "cost"]
    {
        assert!(v.get(field).is_some(), "no {field} in {v}");
    }
    assert_eq!(v["linear"], "dealer");
    assert_eq!(v["layers"].as_array().unwrap().len(), 6);
    assert!(v["cosine"]["min"].as_f64().unwrap() > 0.999, "{}", v["cosine"]);
    assert_eq!(v["probe"]["test"], 2);
    let o = dyad(&["e2e", "--suite", "no-such-suite", "--sentences", "1"]);
    assert_eq!(o.status.code(), Some(2));
}

/// CI's short distillation, through the binary: the layer-wise loss falls, the same seed trains
/// the same weights, and under 2PC the
/// distilled student is closer to the teacher than the undistilled replacement, while the secure
/// run stays close to the plaintext student. A student of another suite is refused. The claims
/// view reads the report into freeDiv's accuracy row.
#[test]
fn a_short_distillation_brings_the_student_closer_to_the_teacher() {
    if !common::model_present() {
        return;
    }
    let out = scratch("distill");
    let out = out.to_str().unwrap();
    let lr = ["--layerwise-lr", "1e-3", "--prediction-lr", "1e-3"];
    let args =
        ["distill", "--suite", "freediv-2quad", "--steps", "40", "--prediction-steps", "40", "--sentences", "20"];
    let m = json(&dyad(&[&args[..], &["--out", out], &lr[..], &["--format", "json"]].concat()));
    let stage1 = &m["stages"][0];
    let (initial, last) = (stage1["initial_loss"].as_f64().unwrap(), stage1["final_loss"].as_f64().unwrap());
    assert!(last < 0.9 * initial, "layer-wise loss {initial} → {last}");
    assert_eq!(m["training_snippets"].as_array().unwrap().len(), 20);
    assert_eq!(m["teacher_sha256"].as_str().unwrap().len(), 64);
    let again = scratch("distill-again");
    let again = again.to_str().unwrap();
    json(&dyad(&[&args[..], &["--out", again], &lr[..], &["--format", "json"]].concat()));
    let weights = |dir: &str| std::fs::read(Path::new(dir).join("model.safetensors")).unwrap();
    assert!(weights(out) == weights(again), "the same seed trained different weights");

    let e2e = ["e2e", "--suite", "freediv-2quad", "--weights", out, "--sentences", "3", "--train", "100"];
    let v = json(&dyad(&[&e2e[..], &["--format", "json"]].concat()));
    let s = &v["student"];
    let mean = |k: &str| s[k]["mean"].as_f64().unwrap();
    assert!(mean("student_to_teacher") > mean("undistilled_to_teacher"), "{s}");
    assert!(s["secure_to_student"]["min"].as_f64().unwrap() > 0.99, "{s}");
    let ids: Vec<&Value> = v["cosine"]["worst"].as_array().unwrap().iter().map(|w| &w["id"]).collect();
    let trained = m["training_snippets"].as_array().unwrap();
    assert!(ids.iter().all(|id| !trained.contains(id)), "a test sentence was trained on: {ids:?}");

    let o = dyad(&["e2e", "--suite", "freediv-softmax", "--weights", out, "--sentences", "1"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("a student of suite freediv-2quad"), "{err}");

    // The claims view reads the report: the row's figures are the report's, and its verdict is
    // the secure student within one point of the teacher.
    let report = Path::new(out).join("e2e.json");
    std::fs::write(&report, serde_json::to_string(&v).unwrap()).unwrap();
    let claims = ["cost", "--claims", "--shapes", "ci", "nimbus.linear", "bumblebee.linear", "--format", "json"];
    let c = json(&dyad(&[&claims[..], &["--accuracy", report.to_str().unwrap()]].concat()));
    let row = &c["accuracy_claims"][0];
    let (teacher, secure) =
        (v["probe"]["accuracy_plaintext"].as_f64().unwrap(), v["probe"]["accuracy_secure"].as_f64().unwrap());
    assert_eq!(row["suite"], "freediv-2quad");
    assert_eq!(row["teacher"].as_f64().unwrap(), teacher);
    assert_eq!(row["student_secure"].as_f64().unwrap(), secure);
    assert_eq!(row["student_plaintext"], s["accuracy_student"]);
    assert_eq!(row["reproduced"].as_bool().unwrap(), 100.0 * (teacher - secure) <= 1.0, "{row}");
    // A report without a student is refused before any measurement.
    let mut plain = v.clone();
    plain.as_object_mut().unwrap().remove("student");
    std::fs::write(&report, serde_json::to_string(&plain).unwrap()).unwrap();
    let o = dyad(&[&claims[..], &["--accuracy", report.to_str().unwrap()]].concat());
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(err.contains("field student is absent"), "{err}");
}

#[test]
fn e2e_runs_a_suite_that_names_protocols_of_coefficient_files() {
    if !common::model_present() {
        return;
    }
    let dir = scratch("e2e-coeffs");
    let copy = |from: &str, name: &str| {
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("reference/coeffs").join(from);
        let text = std::fs::read_to_string(src).unwrap();
        let (_, rest) = text.split_once("name: ").unwrap();
        let (_, rest) = rest.split_once('\n').unwrap();
        let path = dir.join(format!("{name}.yaml"));
        std::fs::write(&path, format!("name: {name}\n{rest}")).unwrap();
        path
    };
    let (exp, gelu) = (copy("nimbus-exp-fitted.yaml", "my-exp"), copy("nimbus-gelu-fitted.yaml", "my-gelu"));
    let suite = dir.join("suite.yaml");
    std::fs::write(&suite, "name: mine\nlinear: cop\nattention: coeffs.my_exp.softmax\ngelu: coeffs.my_gelu\n")
        .unwrap();
    let args = ["e2e", "--suite", suite.to_str().unwrap(), "--sentences", "1", "--train", "40", "--format", "json"];
    let coeffs = ["--coeffs", exp.to_str().unwrap(), "--coeffs", gelu.to_str().unwrap()];
    let v = json(&dyad(&[&args[..], &coeffs[..]].concat()));
    assert_eq!(v["suite"], "mine");
    assert!(v["cosine"]["min"].as_f64().unwrap() > 0.999, "{}", v["cosine"]);
    let o = dyad(&args);
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("attention") && err.contains("coeffs.my_exp.softmax"), "{err}");
}

/// Bad input exits 2 naming the flag, file or field, before any work: a zero or oversized
/// `--frac`, a coefficient of 1e300, a set name that would leave the plot directory, a FIFO as a
/// coefficient file, a Softmax whose constants do not fit ℓ = 32, `fit --out` a directory,
/// `e2e --sentences 0` or beyond the snippets, `distill` of a suite with no student, of no steps
/// or a negative learning rate, `e2e --weights` a directory with no student.
#[test]
fn bad_input_exits_2_naming_what_is_wrong() {
    let dir = scratch("bad-input");
    let set = |name: &str, middle: &str| {
        let path = dir.join(format!("{}.yaml", name.replace('/', "_")));
        let text = format!(
            "name: {name:?}\nfunction: gelu\nsource: s\nbreaks: [-4.0, 4.0]\npieces: [{{coeffs: [0.0]}}, {{coeffs: {middle}}}, {{coeffs: [0.0, 1.0]}}]\n"
        );
        std::fs::write(&path, text).unwrap();
        path
    };
    let huge = set("huge", "[1e300, 0.5]");
    let escaping = set("/../../escaped", "[0.1, 0.5]");
    let fifo = dir.join("fifo.yaml");
    let made = Command::new("mkfifo").arg(&fifo).status().map(|s| s.success()).unwrap_or(false);
    let out_dir = dir.join("out");
    std::fs::create_dir_all(&out_dir).unwrap();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (vec!["run", "mul", "--frac", "0"], "--frac 0"),
        (vec!["run", "mul", "--ring", "32", "--frac", "15"], "--frac 15"),
        (vec!["audit", "--frac", "0", "--layers", "0"], "--frac 0"),
        (vec!["run", "coeffs.huge", "--coeffs", huge.to_str().unwrap()], "pieces[1].coeffs[0]"),
        (vec!["audit", "--coeffs", escaping.to_str().unwrap(), "--layers", "0"], "field name"),
        (vec!["run", "mpcformer.quad2", "--ring", "32"], "mpcformer.quad2"),
        (vec!["fit", "--function", "gelu", "--out", out_dir.to_str().unwrap()], "--out"),
        (vec!["e2e", "--sentences", "0"], "--sentences"),
        (vec!["distill", "--suite", "nimbus"], "--suite nimbus"),
        (vec!["distill", "--suite", "freediv-2quad", "--steps", "0"], "--steps"),
        (vec!["distill", "--suite", "freediv-2quad", "--layerwise-lr", "0"], "--layerwise-lr 0"),
        (vec!["e2e", "--suite", "freediv-2quad", "--weights", out_dir.to_str().unwrap()], "manifest.json"),
    ];
    for (args, named) in cases
        .iter()
        .chain(made.then(|| (vec!["audit", "--coeffs", fifo.to_str().unwrap()], "not a regular file")).as_slice())
    {
        let o = dyad(args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(named), "{args:?} should name {named:?}: {err}");
    }
}

/// Input, shape and coefficient files name an unknown field instead of ignoring it, and an input
/// of 512 × 768 values (a BERT-base activation of 512 tokens) is readable as YAML.
#[test]
fn unknown_fields_are_refused_and_large_inputs_read() {
    let dir = scratch("fields");
    let unknown = dir.join("unknown.yaml");
    std::fs::write(&unknown, "inputs:\n  - shape: [2]\n    data: [0.1, 0.2]\n    extra: 1\n").unwrap();
    let o = dyad(&["run", "trunc.prob", "--shape", "2", "--input", unknown.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("unknown field `extra`"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let shapes = dir.join("shapes.yaml");
    std::fs::write(&shapes, "name: tiny\nshape: {seq: 4, hidden: 16, heads: 2, ffn: 32, layers: 3}\n").unwrap();
    let o = dyad(&["cost", "mul", "--shapes", shapes.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("layers"), "{}", String::from_utf8_lossy(&o.stderr));
    let coeffs = dir.join("c.yaml");
    std::fs::write(
        &coeffs,
        "name: c\nfunction: gelu\nsource: s\nbreaks: []\npieces: [{coeffs: [0.0, 1.0]}]\ndegree: 3\n",
    )
    .unwrap();
    let o = dyad(&["run", "coeffs.c", "--coeffs", coeffs.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("degree"), "{}", String::from_utf8_lossy(&o.stderr));
    let n = 512 * 768;
    let data: Vec<String> = (0..n).map(|i| format!("{:.3}", ((i % 1000) as f64 - 500.0) / 1000.0)).collect();
    let big = dir.join("big.yaml");
    std::fs::write(&big, format!("inputs:\n  - shape: [{n}]\n    data: [{}]\n", data.join(", "))).unwrap();
    let o = dyad(&["run", "add", "--shape", &n.to_string(), "--input", big.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2), "add takes two inputs: the file must parse first");
    assert!(String::from_utf8_lossy(&o.stderr).contains("takes 2 inputs"), "{}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn leakage_catches_its_leaky_fixtures_clears_the_beaver_product_and_audits_named_protocols() {
    let v = json(&dyad(&["leakage", "--self-test", "--format", "json"]));
    assert_eq!(v["self_test_passed"], true, "{v}");
    let narrow = &v["protocols"][0];
    assert_eq!((narrow["protocol"].as_str(), narrow["verdict"].as_str()), (Some("fixture.narrow_mask"), Some("leaks")));
    let server = &narrow["parties"][0];
    assert_eq!(server["party"], "server");
    assert_eq!(server["leaks"], true);
    // x + r with r < 2^8 shows x from its second byte up: the worst bit is there.
    assert!(server["comparison"]["worst"]["byte"].as_u64().unwrap() >= 1, "{server}");
    assert_eq!(narrow["parties"][1]["leaks"], false, "the client receives nothing");
    let biased = &v["protocols"][1];
    assert_eq!((biased["protocol"].as_str(), biased["verdict"].as_str()), (Some("fixture.biased_bit"), Some("leaks")));
    let worst = &biased["parties"][0]["comparison"]["worst"];
    assert_eq!(
        (worst["message"].as_u64(), worst["bit"].as_u64()),
        (Some(1), Some(0)),
        "the side channel's bit: {worst}"
    );
    assert!(biased["parties"][0]["detectable"].as_f64().unwrap() < 0.6, "a difference of 0.6 is within reach");
    let reused = &v["protocols"][2];
    assert_eq!(
        (reused["protocol"].as_str(), reused["verdict"].as_str()),
        (Some("nimbus.linear_reused_zero"), Some("leaks"))
    );
    assert_eq!(reused["parties"][0]["comparison"]["worst"]["message"], 2, "in the responses' difference: {reused}");
    assert_eq!(v["protocols"][3]["verdict"], "clean", "the Beaver product: {}", v["protocols"][3]);

    let v = json(&dyad(&["leakage", "relu", "reveal", "--runs", "40", "--format", "json"]));
    let verdicts: Vec<&str> =
        v["protocols"].as_array().unwrap().iter().map(|p| p["verdict"].as_str().unwrap()).collect();
    assert_eq!(verdicts, ["clean", "opens its output"]);
    assert_eq!(v["protocols"][0]["runs"], 40);

    for (args, names) in [
        (&["leakage", "mul", "--runs", "1"][..], "--runs 1"),
        (&["leakage", "mul", "relu", "--shape", "4"][..], "--shape"),
        (&["leakage", "nothing.such"][..], "nothing.such"),
    ] {
        let o = dyad(args);
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert!(String::from_utf8_lossy(&o.stderr).contains(names), "{args:?}: {}", String::from_utf8_lossy(&o.stderr));
    }
}

#[test]
fn every_rlwe_parameter_set_is_printed_within_the_he_standard_bound() {
    let v = json(&dyad(&["leakage", "--params", "--format", "json"]));
    let rows = v.as_array().unwrap();
    let sets: Vec<(u64, u64)> =
        rows.iter().map(|r| (r["ring_bits"].as_u64().unwrap(), r["n"].as_u64().unwrap())).collect();
    assert_eq!(
        sets,
        [(64, 8192), (64, 8192), (64, 8192), (32, 4096), (32, 8192), (32, 8192)],
        "each ring's set, its flooding set and its HE triples' set"
    );
    for r in rows {
        let (log_q, bound) = (r["log_q"].as_f64().unwrap(), r["bound"].as_f64().unwrap());
        assert!(log_q <= bound && (r["margin"].as_f64().unwrap() - (bound - log_q)).abs() < 1e-9, "{r}");
    }
    assert_eq!(rows[0]["bound"], 218, "the standard's bound for N = 8192");
    assert!((rows[0]["log_q"].as_f64().unwrap() - 163.0).abs() < 1.0, "59 + 55 + 49 bits");
    assert!((rows[1]["log_q"].as_f64().unwrap() - 213.0).abs() < 1.0, "59 + 55 + 50 + 49 bits");
    assert!((rows[2]["log_q"].as_f64().unwrap() - 194.0).abs() < 1.0, "50 + 42 + 42 + 60 bits");
    assert!(rows[2]["plaintext"].as_str().unwrap().starts_with("3 primes"), "T > 2^170 at ℓ = 64");
    assert!(rows[5]["plaintext"].as_str().unwrap().starts_with("2 primes"), "T > 2^106 at ℓ = 32");
}

#[test]
fn shapes_too_large_for_the_machine_are_refused_before_any_allocation() {
    for (args, says) in [
        (&["run", "bumblebee.gelu", "--shape", "100000000x100000"][..], "needs an estimated 960000.0 GB"),
        (&["run", "bumblebee.gelu", "--shape", "4294967296x4294967296"][..], "overflows 64 bits"),
        (&["run", "bumblebee.linear", "--shape", "1000000x1000000x1000000"][..], "needs an estimated"),
    ] {
        let started = std::time::Instant::now();
        let o = dyad(args);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(says) && err.contains("available"), "{args:?}: {err}");
        assert!(started.elapsed() < std::time::Duration::from_secs(10), "refused up front");
    }
    let dir = scratch("huge-shapes");
    let huge = dir.join("huge.yaml");
    std::fs::write(&huge, "name: huge\nshape: {seq: 100000000, hidden: 100000, heads: 2, ffn: 400000}\n").unwrap();
    let o = dyad(&["cost", "--shapes", huge.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(2), "{err}");
    assert!(
        err.contains("needs an estimated") && !err.contains("measuring"),
        "refused before measuring anything: {err}"
    );
}
