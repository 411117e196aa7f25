//! A party that panics: `dyad run` reports it once, as an error with exit 1, with no
//! panic-hook output or backtrace on top. A test without the libtest harness: it runs itself as
//! a `dyad` binary (over [`dyad::cli::main_with`], as a user's own binary would) with
//! `DYAD_PANIC_TEST_AS_CLI` set, and checks that child's stderr.

use std::process::ExitCode;

use dyad::protocols::{Holder, InputSpec, Inputs, Protocol, ProtocolError, TruncMode};
use dyad::sim::{FixedPoint, Party, RingTensor, Share};
use ndarray::ArrayD;

const AS_CLI: &str = "DYAD_PANIC_TEST_AS_CLI";

/// Panics in the server's half of the protocol.
#[derive(Debug)]
struct Panicking;

impl Protocol for Panicking {
    fn name(&self) -> &'static str {
        "test.panicking"
    }
    fn paper(&self) -> &'static str {
        "none: a party that panics"
    }
    fn computes(&self) -> &'static str {
        "nothing"
    }
    fn default_dims(&self) -> Vec<usize> {
        vec![4]
    }
    fn inputs(&self, dims: &[usize], _: FixedPoint) -> Result<Vec<InputSpec>, ProtocolError> {
        Ok(vec![InputSpec { name: "x".into(), shape: dims.to_vec(), holder: Holder::Shared, range: (-1.0, 1.0) }])
    }
    fn run(&self, p: &mut Party, inputs: &Inputs) -> Result<Share, ProtocolError> {
        assert!(p.role() != dyad::sim::Role::Server, "deliberate failure in the server");
        Ok(inputs.share(self.name(), 0)?.clone())
    }
    fn reference(&self, _: FixedPoint, inputs: &[RingTensor]) -> Result<RingTensor, ProtocolError> {
        Ok(inputs[0].clone())
    }
    fn ideal(&self, inputs: &[ArrayD<f64>]) -> Result<ArrayD<f64>, ProtocolError> {
        Ok(inputs[0].clone())
    }
    fn tolerance_ulp(&self, _: FixedPoint, _: TruncMode) -> u64 {
        0
    }
    fn ideal_tolerance(&self, fx: FixedPoint) -> f64 {
        fx.ulp()
    }
}

/// The same protocol with the parties in two processes: the client names the server's failure
/// (its abort frame), rather than a connection that ended.
fn apart(me: &std::path::Path, failures: &mut Vec<String>) -> std::io::Result<()> {
    use std::io::BufRead;
    let mut server = std::process::Command::new(me)
        .args(["run", "test.panicking", "--party", "server", "--listen", "127.0.0.1:0"])
        .env(AS_CLI, "1")
        .stderr(std::process::Stdio::piped())
        .spawn()?;
    let mut lines = std::io::BufReader::new(server.stderr.take().ok_or(std::io::ErrorKind::BrokenPipe)?).lines();
    let first = lines.next().transpose()?.unwrap_or_default();
    let addr = first.rsplit(' ').next().unwrap_or_default().to_owned();
    let client = std::process::Command::new(me)
        .args(["run", "test.panicking", "--party", "client", "--connect", &addr])
        .env(AS_CLI, "1")
        .output()?;
    let server_exit = server.wait()?;
    let stderr = String::from_utf8_lossy(&client.stderr);
    if client.status.code() != Some(1) || server_exit.code() != Some(1) {
        failures.push(format!(
            "apart: exits {:?} and {:?}, expected 1 and 1",
            server_exit.code(),
            client.status.code()
        ));
    }
    if !stderr.contains("the server (P0) failed: panicked: deliberate failure in the server") {
        failures.push(format!("apart: the client does not say why the server failed:\n{stderr}"));
    }
    Ok(())
}

fn main() -> ExitCode {
    if std::env::var_os(AS_CLI).is_some() {
        return dyad::cli::main_with(vec![Box::new(Panicking)]);
    }
    let Ok(me) = std::env::current_exe() else {
        eprintln!("FAIL: no path to this test binary");
        return ExitCode::FAILURE;
    };
    let out = std::process::Command::new(&me)
        .args(["run", "test.panicking"])
        .env(AS_CLI, "1")
        .env("RUST_BACKTRACE", "1")
        .output();
    let Ok(out) = out else {
        eprintln!("FAIL: could not run this test binary as dyad");
        return ExitCode::FAILURE;
    };
    let stderr = String::from_utf8_lossy(&out.stderr);
    let mut failures = Vec::new();
    if out.status.code() != Some(1) {
        failures.push(format!("exit {:?}, expected 1", out.status.code()));
    }
    if stderr.matches("deliberate failure in the server").count() != 1 {
        failures.push("the panic message is not printed exactly once".to_owned());
    }
    if !stderr.contains("the server (P0) panicked") {
        failures.push("the error does not name the party".to_owned());
    }
    for hook_output in ["panicked at", "stack backtrace", "RUST_BACKTRACE"] {
        if stderr.contains(hook_output) {
            failures.push(format!("the panic hook printed {hook_output:?}"));
        }
    }
    if let Err(e) = apart(&me, &mut failures) {
        failures.push(format!("the run apart: {e}"));
    }
    if failures.is_empty() {
        eprintln!("test a_party_panic_is_one_error_without_a_backtrace ... ok");
        eprintln!("test apart_the_client_reports_why_the_server_failed ... ok");
        ExitCode::SUCCESS
    } else {
        eprintln!("FAIL: {}\nstderr of `dyad run test.panicking`:\n{stderr}", failures.join("; "));
        ExitCode::FAILURE
    }
}
