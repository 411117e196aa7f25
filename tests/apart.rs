//! Two `dyad run` processes, one party each, over loopback TCP: the same outputs and exact
//! counts as the run in one process, a refused handshake, and a peer that dies or stalls.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod common;

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, ChildStderr, Command, Output, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

fn dyad() -> Command {
    Command::new(env!("CARGO_BIN_EXE_dyad"))
}

/// A server listening on a free port, with the address it printed and the rest of its stderr.
struct Server {
    child: Child,
    addr: String,
    stderr: BufReader<ChildStderr>,
}

fn listen(args: &[&str]) -> Server {
    let mut child = dyad()
        .args(args)
        .args(["--party", "server", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    stderr.read_line(&mut line).unwrap();
    assert!(line.contains("listens on"), "the server says where it listens: {line:?}");
    let addr = line.trim().rsplit(' ').next().unwrap().to_owned();
    Server { child, addr, stderr }
}

impl Server {
    /// Waits for the server's exit: its output, with all of its stderr.
    fn output(mut self) -> Output {
        let mut rest = String::new();
        self.stderr.read_to_string(&mut rest).unwrap();
        let mut out = self.child.wait_with_output().unwrap();
        out.stderr = rest.into_bytes();
        out
    }

    /// Reads the server's stderr until it says it is connected.
    fn connected(&mut self) {
        let mut line = String::new();
        while !line.contains("is connected") {
            line.clear();
            assert_ne!(self.stderr.read_line(&mut line).unwrap(), 0, "the server ended before connecting");
        }
    }
}

fn client(args: &[&str], addr: &str) -> Command {
    let mut c = dyad();
    c.args(args).args(["--party", "client", "--connect", addr]);
    c
}

/// `v` without its measured compute times: what must match exactly.
fn counts_only(mut v: Value) -> Value {
    fn strip(v: &mut Value) {
        match v {
            Value::Object(map) => {
                map.remove("compute");
                map.remove("compute_seconds_per_sentence");
                map.values_mut().for_each(strip);
            }
            Value::Array(items) => items.iter_mut().for_each(strip),
            _ => {}
        }
    }
    strip(&mut v);
    v
}

fn report(o: &Output) -> Value {
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).unwrap()
}

#[test]
fn two_processes_compute_and_count_exactly_what_one_process_does() {
    for (protocol, shape, provider) in [
        ("bumblebee.gelu", "2x64", "dealer"),
        ("nimbus.gelu_small", "100", "ot"),
        ("nimbus.linear", "4x16x8", "dealer"),
        ("layernorm", "3x32", "ot"),
        ("layernorm", "3x32", "dealer"),
    ] {
        let args = ["run", protocol, "--shape", shape, "--seed", "11", "--correlations", provider, "--format", "json"];
        let alone = report(&dyad().args(args).output().unwrap());
        let server = listen(&args);
        let c = report(&client(&args, &server.addr).output().unwrap());
        let s = report(&server.output());
        for (party, r) in [("server", &s), ("client", &c)] {
            assert_eq!(r["party"], party, "{protocol}");
            assert_eq!(r["passed"], true, "{protocol} as the {party}");
            assert_eq!(r["error"], alone["error"], "{protocol}: the {party} computes what one process computes");
            assert_eq!(
                counts_only(r["cost"].clone()),
                counts_only(alone["cost"].clone()),
                "{protocol} under {provider}: the {party}'s counts are the in-memory run's"
            );
        }
        assert!(alone.get("party").is_none(), "a run in one process names no party");
    }
}

#[test]
fn parties_with_their_own_randomness_from_the_os_compute_and_count_the_same() {
    let args = ["run", "nimbus.linear", "--shape", "4x16x8", "--seed", "2", "--format", "json"];
    let seeded = report(&dyad().args(args).output().unwrap());
    let os = [&args[..], &["--private-randomness", "os"]].concat();
    let server = listen(&os);
    let c = report(&client(&os, &server.addr).output().unwrap());
    let s = report(&server.output());
    for (party, r) in [("server", &s), ("client", &c)] {
        assert_eq!(r["passed"], true, "the {party}");
        assert_eq!(counts_only(r["cost"].clone()), counts_only(seeded["cost"].clone()), "the {party}'s counts");
    }
}

#[test]
fn each_party_reads_only_its_own_input_file() {
    let dir = std::env::temp_dir().join(format!("dyad-apart-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // nimbus.linear 2x3x2: shared X [2,3], the server's W [3,2].
    let x = dir.join("x.json");
    let w = dir.join("w.json");
    std::fs::write(&x, r#"{"inputs": [{"shape": [2, 3], "data": [0.5, 0.25, -1, 1, 0, 0.75]}]}"#).unwrap();
    std::fs::write(&w, r#"{"inputs": [{"shape": [3, 2], "data": [1, 0, 0, 1, 1, 1]}]}"#).unwrap();
    let args = ["run", "nimbus.linear", "--shape", "2x3x2", "--format", "json"];
    let server = listen(&[&args[..], &["--input", w.to_str().unwrap()]].concat());
    let c = report(&client(&[&args[..], &["--input", x.to_str().unwrap()]].concat(), &server.addr).output().unwrap());
    let s = report(&server.output());
    for r in [&s, &c] {
        assert_eq!(r["passed"], true);
        assert!(r["error"]["vs_ideal"]["max_abs"].as_f64().unwrap() < 1e-3, "X·W = [[-0.5, -0.75], [1.75, 0.75]]: {r}");
    }

    // The server's file holds the client's input's shape: refused before any connection.
    let started = Instant::now();
    let o = dyad()
        .args(args)
        .args(["--input", x.to_str().unwrap(), "--party", "server", "--listen", "127.0.0.1:0"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains("must have shape [3, 2]") && !err.contains("listens"), "{err}");
    assert!(started.elapsed() < Duration::from_secs(20), "no wait for a peer");
}

#[test]
fn a_peer_running_another_job_is_refused_with_exit_2_naming_what_differs() {
    let base = ["run", "drelu", "--shape", "64"];
    for (theirs, field) in [(&["--seed", "1"][..], "seed"), (&["--correlations", "ot"][..], "correlations")] {
        let server = listen(&base);
        let c = client(&[&base[..], theirs].concat(), &server.addr).output().unwrap();
        let s = server.output();
        for (party, o) in [("server", &s), ("client", &c)] {
            let err = String::from_utf8_lossy(&o.stderr);
            assert_eq!(o.status.code(), Some(2), "the {party}: {err}");
            assert!(err.contains(&format!("{field} is")), "the {party} names the {field}: {err}");
        }
    }
    // Two coefficient files of one name: the same protocol name, another definition.
    let dir = std::env::temp_dir().join(format!("dyad-apart-coeffs-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = |quad: &str| {
        let path = dir.join(format!("quad-{quad}.yaml"));
        let text =
            format!("name: quad\nfunction: gelu\nsource: test\nbreaks: []\npieces:\n  - coeffs: [0.5, 0.25, {quad}]\n");
        std::fs::write(&path, text).unwrap();
        path.to_str().unwrap().to_owned()
    };
    let (ours, theirs) = (file("0.125"), file("0.126"));
    let coeffs = ["run", "coeffs.quad", "--shape", "16", "--format", "json", "--coeffs"];
    let server = listen(&[&coeffs[..], &[&ours]].concat());
    let c = client(&[&coeffs[..], &[&theirs]].concat(), &server.addr).output().unwrap();
    let s = server.output();
    for (party, o) in [("server", &s), ("client", &c)] {
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(2), "the {party}: {err}");
        assert!(err.contains("definition is"), "the {party} names the definition: {err}");
    }
    let server = listen(&[&coeffs[..], &[&ours]].concat());
    let c = report(&client(&[&coeffs[..], &[&file("0.125")]].concat(), &server.addr).output().unwrap());
    assert_eq!((c["passed"].as_bool(), report(&server.output())["passed"].as_bool()), (Some(true), Some(true)));
    std::fs::remove_dir_all(&dir).unwrap();

    let server = listen(&base);
    let c = dyad().args(base).args(["--party", "server", "--connect", &server.addr]).output().unwrap();
    assert_eq!(c.status.code(), Some(2), "two servers: {}", String::from_utf8_lossy(&c.stderr));
    assert_eq!(server.output().status.code(), Some(2));
}

/// A server listening under TLS with a fresh certificate, and the fingerprint it printed.
fn listen_tls(args: &[&str]) -> (Server, String) {
    let mut server = listen(&[args, &["--tls"]].concat());
    let mut line = String::new();
    server.stderr.read_line(&mut line).unwrap();
    assert!(line.contains("fingerprint"), "the server prints its certificate's fingerprint: {line:?}");
    let pin = line.trim().rsplit(' ').next().unwrap().to_owned();
    (server, pin)
}

#[test]
fn tls_runs_count_what_plain_runs_count_and_a_certificate_not_pinned_is_refused() {
    let args =
        ["run", "nimbus.gelu_small", "--shape", "100", "--seed", "5", "--correlations", "ot", "--format", "json"];
    let alone = report(&dyad().args(args).output().unwrap());
    let check = |s: Output, c: Output| {
        for (party, o) in [("server", &s), ("client", &c)] {
            assert!(String::from_utf8_lossy(&o.stderr).contains("over TLS"), "the {party} says TLS");
            let r = report(o);
            assert_eq!(r["passed"], true, "the {party}");
            assert_eq!(counts_only(r["cost"].clone()), counts_only(alone["cost"].clone()), "the {party}'s counts");
        }
    };
    // A fresh certificate, pinned by the fingerprint the server prints.
    let (server, pin) = listen_tls(&args);
    let c = client(&[&args[..], &["--tls", "--tls-pin", &pin]].concat(), &server.addr).output().unwrap();
    check(server.output(), c);

    // A certificate and key from files; the client pins the same certificate file.
    let dir = std::env::temp_dir().join(format!("dyad-tls-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let made = rcgen::generate_simple_self_signed(vec!["dyad".to_owned()]).unwrap();
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    std::fs::write(&cert, made.cert.pem()).unwrap();
    std::fs::write(&key, made.signing_key.serialize_pem()).unwrap();
    let (cert, key) = (cert.to_str().unwrap(), key.to_str().unwrap());
    let server = listen(&[&args[..], &["--tls", "--tls-cert", cert, "--tls-key", key]].concat());
    let c = client(&[&args[..], &["--tls", "--tls-cert", cert]].concat(), &server.addr).output().unwrap();
    check(server.output(), c);

    // Another certificate than the pinned one: both refuse, promptly, with exit 2.
    let started = Instant::now();
    let (server, pin) = listen_tls(&args);
    let other = if pin.starts_with('0') { pin.replacen('0', "1", 1) } else { format!("0{}", &pin[1..]) };
    let c = client(&[&args[..], &["--tls", "--tls-pin", &other]].concat(), &server.addr).output().unwrap();
    let s = server.output();
    let err = String::from_utf8_lossy(&c.stderr);
    assert_eq!(c.status.code(), Some(2), "{err}");
    assert!(err.contains(&format!("has fingerprint {pin}, not the pinned {other}")), "{err}");
    assert_eq!(s.status.code(), Some(2), "{}", String::from_utf8_lossy(&s.stderr));
    assert!(started.elapsed() < Duration::from_secs(20), "no wait for the timeout: {:?}", started.elapsed());

    // A client in the clear is no TLS peer.
    let (server, _) = listen_tls(&args);
    let c = client(&args, &server.addr).output().unwrap();
    let s = server.output();
    assert_eq!(s.status.code(), Some(2), "{}", String::from_utf8_lossy(&s.stderr));
    assert_ne!(c.status.code(), Some(0));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Starts a run long enough to be interrupted and returns both processes once they are
/// connected and computing.
fn long_run(timeout: &str) -> (Server, Child) {
    let args = ["run", "bumblebee.gelu", "--shape", "64x3072", "--timeout", timeout];
    let mut server = listen(&args);
    let client = client(&args, &server.addr).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    server.connected();
    std::thread::sleep(Duration::from_millis(300));
    (server, client)
}

fn wait_bounded(mut server: Server, bound: Duration) -> Output {
    let started = Instant::now();
    while server.child.try_wait().unwrap().is_none() {
        assert!(started.elapsed() < bound, "the process was still running after {bound:?}");
        std::thread::sleep(Duration::from_millis(20));
    }
    server.output()
}

#[test]
fn a_killed_client_makes_the_server_fail_promptly() {
    let (server, mut client) = long_run("20");
    client.kill().unwrap();
    client.wait().unwrap();
    let o = wait_bounded(server, Duration::from_secs(20));
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("client (P1) stopped"), "{err}");
}

#[test]
fn a_stalled_client_makes_the_server_time_out() {
    let (server, mut client) = long_run("3");
    let pid = client.id().to_string();
    assert!(Command::new("kill").args(["-STOP", &pid]).status().unwrap().success());
    let o = wait_bounded(server, Duration::from_secs(30));
    Command::new("kill").args(["-KILL", &pid]).status().unwrap();
    client.wait().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(err.contains("timed out after 3s waiting for the client"), "{err}");
}

#[test]
fn e2e_apart_reports_what_e2e_in_one_process_reports() {
    if !common::model_present() {
        return;
    }
    let args = ["e2e", "--suite", "nimbus-small", "--sentences", "2", "--train", "40", "--format", "json"];
    let alone = report(&dyad().args(args).output().unwrap());
    let server = listen(&args);
    let c = report(&client(&args, &server.addr).output().unwrap());
    let s = report(&server.output());
    assert_eq!((s["party"].as_str(), c["party"].as_str()), (Some("server"), Some("client")));
    for (party, r) in [("server", &s), ("client", &c)] {
        assert_eq!(
            counts_only(r["cost"].clone()),
            counts_only(alone["cost"].clone()),
            "the {party}'s e2e counts are the one-process run's"
        );
        for field in ["layers", "cosine", "probe", "small_rings"] {
            assert_eq!(r[field], alone[field], "the {party}'s {field}: the same sentences, the same outputs");
        }
    }
    assert!(c["cosine"]["min"].as_f64().unwrap() > 0.999, "{c}");

    // The plaintext suite has no second party: refused before connecting.
    let o =
        dyad().args(["e2e", "--suite", "plaintext-fixed", "--party", "client", "--connect", "127.0.0.1:9"]).output();
    assert_eq!(o.unwrap().status.code(), Some(2));
}

#[test]
fn e2e_apart_runs_a_distilled_student_as_one_process_does() {
    if !common::model_present() {
        return;
    }
    let dir = std::env::temp_dir().join(format!("dyad-apart-student-{}", std::process::id()));
    let out = dir.to_str().unwrap();
    let distill =
        ["distill", "--suite", "freediv-2quad", "--steps", "2", "--prediction-steps", "2", "--sentences", "4"];
    let o = dyad().args(distill).args(["--out", out]).output().unwrap();
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let args =
        ["e2e", "--suite", "freediv-2quad", "--weights", out, "--sentences", "2", "--train", "40", "--format", "json"];
    let alone = report(&dyad().args(args).output().unwrap());
    let server = listen(&args);
    let c = report(&client(&args, &server.addr).output().unwrap());
    let s = report(&server.output());
    for (party, r) in [("server", &s), ("client", &c)] {
        assert_eq!(counts_only(r["cost"].clone()), counts_only(alone["cost"].clone()), "the {party}'s counts");
        for field in ["layers", "cosine", "probe", "student"] {
            assert_eq!(r[field], alone[field], "the {party}'s {field}: the same student, sentences and outputs");
        }
    }
    assert!(c["student"]["secure_to_student"]["min"].as_f64().unwrap() > 0.99, "{c}");
    std::fs::remove_dir_all(&dir).unwrap();
}
