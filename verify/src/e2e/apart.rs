//! One party of `dyad e2e` in its own process, the other at the end of a transport (TCP).
//!
//! The server holds the model. The client holds the sentences and reads only the embedding
//! tables: its input is the embedding output, as in the one-process run. Both pick the same test
//! and training sentences from the run's seed; the token counts, which fix every shape, are public,
//! and the server uses the sentences themselves only in the check.
//!
//! After a handshake (suite and the protocols in its slots, arithmetic, provider, seed, layers and
//! shape, every test sentence's token count, version), each secure
//! step is a run of its own over the one connection: the setup once, then one per sentence, each
//! with the barrier after setup of every run apart. After each step the client sends the server
//! its meter's records and, for a sentence, its output shares. That is the check, not metered:
//! it reveals the client's outputs. The server compares them with the plaintext model as the
//! one-process run does and sends the report to the client, so that both print it.

use dyad_model::bert::{Model, Tokenizer};
use dyad_model::encoder::{PartyState, Precision};
use dyad_model::registry::Registry;
use dyad_protocols::harness::apart::{abort, handshake, recv_frame, recv_tensor, send_frame};
use dyad_protocols::{HarnessError, ProtocolError, TruncMode};
use dyad_sim::channel::Transport;
use dyad_sim::party::PartyRecord;
use dyad_sim::runner::{merge_records, run_alone};
use dyad_sim::{ChannelError, CostReport, RingTensor, Role, Share};
use dyad_vectors::Snippet;
use serde::Serialize;

use super::{E2eError, E2eReport, E2eSpec, Job, SecureSteps, SlotRing, run_error};

/// What the two processes of an e2e run must agree on.
#[derive(Serialize)]
struct Hello<'a> {
    dyad: &'static str,
    role: Role,
    suite: &'a str,
    linear: Option<String>,
    ring_bits: u32,
    frac_bits: u32,
    trunc: TruncMode,
    correlations: &'static str,
    seed: u64,
    sentences: usize,
    train: usize,
    layers: usize,
    shape: [usize; 3],
    attention: &'static str,
    attention_definition: String,
    gelu: &'static str,
    gelu_definition: String,
    small_rings: &'a [SlotRing],
    tokens: Vec<usize>,
}

fn hello<'a>(spec: &'a E2eSpec, job: &'a Job, role: Role) -> Hello<'a> {
    Hello {
        dyad: env!("CARGO_PKG_VERSION"),
        role,
        suite: &spec.suite.name,
        linear: spec.linear.map(|l| format!("{l:?}")),
        ring_bits: spec.fixed.ring().bits(),
        frac_bits: spec.fixed.frac(),
        trunc: spec.trunc,
        correlations: spec.correlations.name(),
        seed: spec.seed,
        sentences: spec.sentences,
        train: spec.train,
        layers: job.layers,
        shape: [job.shape.hidden, job.shape.heads, job.shape.ffn],
        attention: job.enc.attention().name(),
        attention_definition: job.enc.attention().definition(),
        gelu: job.enc.gelu().name(),
        gelu_definition: job.enc.gelu().definition(),
        small_rings: &job.small_rings,
        tokens: job.test.iter().map(|s| s.ids.len()).collect(),
    }
}

fn peer(stage: &'static str) -> impl Fn(ChannelError) -> E2eError {
    move |source| HarnessError::Peer { stage, source }.into()
}

/// Runs this party's half of the e2e run over `transport`. The server needs the whole `model`;
/// the client only its configuration and embeddings ([`Model::load_embeddings`]). The server
/// returns the report it computed; the client the same report, received from it.
#[allow(clippy::too_many_arguments)] // the one-process run's arguments, with the role and the transport
pub fn run_apart(
    role: Role,
    mut transport: Box<dyn Transport>,
    model: &Model,
    tok: &Tokenizer,
    snippets: &[Snippet],
    spec: &E2eSpec,
    registry: &Registry,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<E2eReport, E2eError> {
    if spec.suite.reference {
        return Err(ProtocolError::Config {
            protocol: "e2e",
            reason: format!("suite {} runs in the clear: there is no second party", spec.suite.name),
        }
        .into());
    }
    let job = Job::new(model, tok, snippets, spec, registry, role == Role::Server)?;
    handshake(transport.as_mut(), &hello(spec, &job, role))?;
    match role {
        Role::Server => {
            let mut side = ServerSide { transport: Some(transport), state: None };
            let mut report = job.evaluate(model, spec, &mut side, progress).inspect_err(|e| {
                // A failure inside a secure step has told the client already, and took the
                // transport with it; one in the clear (the reference, the probe) tells it here.
                if let Some(t) = side.transport.as_mut() {
                    abort(t.as_mut(), &e.to_string());
                }
            })?;
            let mut transport = side.transport.take().ok_or_else(|| lost("the report"))?;
            let json = serde_json::to_vec(&report)
                .map_err(|e| ProtocolError::Config { protocol: "e2e", reason: e.to_string() })?;
            send_frame(transport.as_mut(), json).map_err(peer("sending the report"))?;
            report.party = Some(Role::Server);
            Ok(report)
        }
        Role::Client => client(&job, model, spec, transport, progress),
    }
}

fn lost(stage: &'static str) -> E2eError {
    ProtocolError::Config { protocol: "e2e", reason: format!("{stage}: the connection was already lost") }.into()
}

/// The client's loop: the setup, each sentence, the check after each, and the server's report.
fn client(
    job: &Job,
    model: &Model,
    spec: &E2eSpec,
    mut transport: Box<dyn Transport>,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<E2eReport, E2eError> {
    let fx = spec.fixed;
    let prec = Precision { fixed: fx, trunc: spec.trunc };
    let inputs: Result<Vec<RingTensor>, E2eError> = job
        .test
        .iter()
        .map(|s| Ok(fx.encode_tensor(&model.embed(&s.ids)?.into_dyn()).map_err(ProtocolError::from)?))
        .collect();
    let inputs = match inputs {
        Ok(inputs) => inputs,
        Err(e) => {
            abort(transport.as_mut(), &e.to_string());
            return Err(e);
        }
    };
    let setup = run_alone(&Job::config(spec, None), Role::Client, transport, |p| job.setup(p, fx))
        .map_err(|e| run_error("setup", e))?;
    let (state, mut transport) = (setup.output, setup.transport);
    send_record(transport.as_mut(), &setup.record)?;
    for (i, (s, input)) in job.test.iter().zip(&inputs).enumerate() {
        let k = s.ids.len();
        let done = run_alone(&Job::config(spec, Some(i)), Role::Client, transport, |p| {
            job.forward(p, prec, &state, Some(input), k)
        })
        .map_err(|e| run_error(&format!("sentence {i}"), e))?;
        transport = done.transport;
        send_record(transport.as_mut(), &done.record)?;
        for share in &done.output {
            send_frame(transport.as_mut(), share.tensor().to_bytes()).map_err(peer("the check"))?;
        }
        progress(i + 1, job.test.len());
    }
    let report = recv_frame(transport.as_mut()).map_err(peer("receiving the report"))?;
    let mut report: E2eReport = serde_json::from_slice(&report).map_err(|e| {
        E2eError::from(HarnessError::Peer {
            stage: "receiving the report",
            source: ChannelError::Invalid { what: "the server's report", reason: e.to_string() },
        })
    })?;
    report.party = Some(Role::Client);
    Ok(report)
}

fn send_record(t: &mut dyn Transport, record: &PartyRecord) -> Result<(), E2eError> {
    let json =
        serde_json::to_vec(record).map_err(|e| ProtocolError::Config { protocol: "e2e", reason: e.to_string() })?;
    send_frame(t, json).map_err(peer("the check"))
}

fn recv_record(t: &mut dyn Transport) -> Result<PartyRecord, E2eError> {
    serde_json::from_slice(&recv_frame(t).map_err(peer("the check"))?).map_err(|e| {
        HarnessError::Peer {
            stage: "the check",
            source: ChannelError::Invalid { what: "the client's records", reason: e.to_string() },
        }
        .into()
    })
}

/// The server's secure steps: its own half of each run, the client's records and shares from the
/// check.
struct ServerSide {
    transport: Option<Box<dyn Transport>>,
    state: Option<PartyState>,
}

impl SecureSteps for ServerSide {
    fn setup(&mut self, job: &Job, spec: &E2eSpec) -> Result<CostReport, E2eError> {
        let fx = spec.fixed;
        let transport = self.transport.take().ok_or_else(|| lost("the setup"))?;
        let done = run_alone(&Job::config(spec, None), Role::Server, transport, |p| job.setup(p, fx))
            .map_err(|e| run_error("setup", e))?;
        let mut transport = done.transport;
        let client = recv_record(transport.as_mut())?;
        self.transport = Some(transport);
        self.state = Some(done.output);
        merge_records::<ProtocolError>(&done.record, &client).map_err(|e| run_error("setup", e))
    }

    fn sentence(
        &mut self,
        job: &Job,
        spec: &E2eSpec,
        i: usize,
        input: &RingTensor,
    ) -> Result<(Vec<RingTensor>, CostReport), E2eError> {
        let prec = Precision { fixed: spec.fixed, trunc: spec.trunc };
        let state = self.state.as_ref().ok_or_else(|| lost("a sentence before the setup"))?;
        let transport = self.transport.take().ok_or_else(|| lost("a sentence"))?;
        let k = input.shape()[0];
        let done =
            run_alone(&Job::config(spec, Some(i)), Role::Server, transport, |p| job.forward(p, prec, state, None, k))
                .map_err(|e| run_error(&format!("sentence {i}"), e))?;
        let mut transport = done.transport;
        let client = recv_record(transport.as_mut())?;
        let mut outputs = Vec::with_capacity(done.output.len());
        for mine in &done.output {
            let theirs = recv_tensor(transport.as_mut(), (mine.shape(), mine.ring())).map_err(peer("the check"))?;
            outputs.push(Share::reconstruct(mine, &Share::new(theirs)).map_err(ProtocolError::from)?);
        }
        self.transport = Some(transport);
        let cost = merge_records::<ProtocolError>(&done.record, &client)
            .map_err(|e| run_error(&format!("sentence {i}"), e))?;
        Ok((outputs, cost))
    }
}
