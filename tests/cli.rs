//! The `dyad` binary: output, exit codes and error messages.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use std::process::{Command, Output};

fn dyad(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dyad")).args(args).output().expect("the binary runs")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn run_mul_json_reports_exact_counts_per_phase() {
    let o = dyad(&["run", "mul", "--shape", "100", "--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["protocol"], "mul");
    assert_eq!(v["ring_bits"], 64);
    assert_eq!(v["passed"], true);
    let phases = v["cost"]["phases"].as_array().unwrap();
    let online = phases.iter().find(|p| p["phase"] == "online").unwrap();
    // Beaver: d and e, 100 elements each, 8 bytes per element, one message each way, one round.
    // One-bit truncation: 100 flip bits (13 B) up, 100 values τ of 18 bits (225 B) down.
    assert_eq!(online["counts"]["bytes_server_to_client"], 1600 + 225);
    assert_eq!(online["counts"]["bytes_client_to_server"], 1600 + 13);
    assert_eq!(online["counts"]["messages_server_to_client"], 2);
    assert_eq!(online["counts"]["rounds"], 3);
    let offline = phases.iter().find(|p| p["phase"] == "offline").unwrap();
    // Triples: 3·100·8 B; random OTs for the truncation: 100·2 messages of 18 bits.
    assert_eq!(offline["counts"]["dealer_bytes_to_server"], 2400 + 450);
    assert_eq!(v["cost"]["dealer_used"], true);
    assert!(v["error"]["vs_reference"]["max_ulp"].as_u64().unwrap() <= 1);
}

#[test]
fn yaml_and_table_formats_print() {
    let o = dyad(&["run", "add", "--ring", "32", "--format", "yaml"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("ring_bits: 32"));
    let o = dyad(&["list"]);
    assert!(String::from_utf8_lossy(&o.stdout).contains("mul"));
}

#[test]
fn bad_usage_exits_2_with_a_message_naming_the_problem() {
    let o = dyad(&["run", "no.such"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("no.such"), "{}", stderr(&o));
    let o = dyad(&["run", "mul", "--ring", "48"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("ring must be 32 or 64"), "{}", stderr(&o));
    let o = dyad(&["run", "mul", "--shape", "0"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("bad dimensions"), "{}", stderr(&o));
    let o = dyad(&["run", "mul", "--frac", "40", "--ring", "32"]);
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn bad_input_files_exit_2_naming_file_and_field() {
    let dir = std::env::temp_dir().join(format!("dyad-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let write = |name: &str, text: &str| {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p.to_string_lossy().into_owned()
    };
    let short =
        write("short.json", r#"{"inputs": [{"shape": [2], "data": [1.0]}, {"shape": [2], "data": [1.0, 2.0]}]}"#);
    let o = dyad(&["run", "mul", "--shape", "2", "--input", &short]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("inputs[0].data has 1 values"), "{}", stderr(&o));
    let huge = write("huge.yaml", "inputs:\n  - {shape: [1], data: [1.0e30]}\n  - {shape: [1], data: [1.0]}\n");
    let o = dyad(&["run", "mul", "--shape", "1", "--input", &huge]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("does not fit"), "{}", stderr(&o));
    let garbage = write("garbage.json", "{nope");
    let o = dyad(&["run", "mul", "--input", &garbage]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("garbage.json"), "{}", stderr(&o));
    let wrong_shape =
        write("shape.json", r#"{"inputs": [{"shape": [3], "data": [1,2,3]}, {"shape": [3], "data": [1,2,3]}]}"#);
    let o = dyad(&["run", "mul", "--shape", "2", "--input", &wrong_shape]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("must have shape [2]"), "{}", stderr(&o));
    let given =
        write("given.json", r#"{"inputs": [{"shape": [2], "data": [1.5, -2]}, {"shape": [2], "data": [2, 0.25]}]}"#);
    let o = dyad(&["run", "mul", "--shape", "2", "--input", &given, "--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

#[test]
fn inputs_outside_the_documented_domain_are_refused_with_exit_2() {
    let dir = std::env::temp_dir().join(format!("dyad-cli-domain-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join("recip.json");
    std::fs::write(&p, r#"{"inputs": [{"shape": [2], "data": [4.0, 0.01]}]}"#).unwrap();
    let o = dyad(&["run", "recip.goldschmidt", "--shape", "2", "--input", p.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(stderr(&o).contains("outside the documented domain"), "{}", stderr(&o));
}

#[test]
fn every_registered_protocol_runs_and_passes_at_its_defaults() {
    let o = dyad(&["list", "--format", "json"]);
    let list: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    for entry in list.as_array().unwrap() {
        let name = entry["name"].as_str().unwrap();
        let o = dyad(&["run", name, "--format", "json"]);
        assert_eq!(o.status.code(), Some(0), "{name}: {}", stderr(&o));
    }
}

#[test]
fn under_providers_ot_and_silent_every_registered_protocol_runs_and_passes_at_its_defaults() {
    let o = dyad(&["list", "--format", "json"]);
    let list: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    for provider in ["ot", "silent"] {
        for entry in list.as_array().unwrap() {
            let name = entry["name"].as_str().unwrap();
            let o = dyad(&["run", name, "--correlations", provider, "--format", "json"]);
            assert_eq!(o.status.code(), Some(0), "{provider}: {name}: {}", stderr(&o));
            let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
            assert_eq!(report["cost"]["correlations"], provider, "{name}");
            assert_eq!(report["cost"]["dealer_used"], false, "{provider}: {name}");
        }
    }
}

#[test]
fn regress_exits_1_naming_the_protocol_and_label_that_grew() {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/bench/baseline.yaml")).unwrap();
    let mut value: serde_json::Value = serde_saphyr::from_str(&text).unwrap();
    let count = &mut value["providers"]["dealer"]["protocols"]["relu"]["online"]["relu/mux"]["rounds"];
    *count = serde_json::json!(count.as_u64().unwrap() - 1);
    // Under provider ot, the OT extension's bytes for the mux's random OTs.
    let count = &mut value["providers"]["ot"]["protocols"]["relu"]["offline"]["relu/mux/ot"]["bytes_client_to_server"];
    *count = serde_json::json!(count.as_u64().unwrap() - 1);
    let dir = std::env::temp_dir().join(format!("dyad-regress-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("baseline.yaml");
    std::fs::write(&path, serde_saphyr::to_string(&value).unwrap()).unwrap();
    let o = dyad(&["regress", "--baseline", path.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("relu") && out.contains("relu/mux") && out.contains("rounds"), "{out}");
    assert!(out.contains("relu/mux/ot") && out.contains("bytes_client_to_server"), "{out}");
    let o = dyad(&["regress", "--baseline", path.to_str().unwrap(), "--correlations", "dealer"]);
    assert!(!String::from_utf8_lossy(&o.stdout).contains("relu/mux/ot"), "only the dealer's counts were compared");
    let o = dyad(&["regress"]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stdout));
}
