//! One party of a run whose peer is another process, over a transport of its own (TCP):
//! the handshake, the client's dealing of the shared inputs, the protocol, and the check.
//!
//! Each party holds only its own inputs: the server those the protocol gives the server (the
//! weights), the client its own and the plaintexts of the shared ones, which it splits and
//! deals, as the harness does in memory. Random inputs come from the run's seed, one stream per
//! input, so a party draws exactly what the in-memory run draws for that input and the two runs
//! compute the same thing.
//!
//! Three exchanges are the harness's, not the protocol's, and are not metered: the handshake,
//! the dealing (the in-memory harness splits shared inputs outside the simulation too), and the
//! check. In the check each party sends the other its output share, its encoded inputs and its
//! meter's records, so that both reconstruct the output, compare it with the reference and
//! report the counts of the whole run. It reveals each party's inputs to the other: a deployment
//! would not run it.

use dyad_sim::channel::{Frame, Stream, Transport};
use dyad_sim::party::PartyRecord;
use dyad_sim::runner::{merge_records, run_alone};
use dyad_sim::{ChannelError, Phase, RingTensor, Role, Share};
use ndarray::ArrayD;
use serde::Serialize;

use super::{
    Checked, Outcome, PhaseWall, RunSpec, SmallRing, encode, inconsistent, judge, plan, real_inputs, sharing_rng,
};
use crate::chunk;
use crate::error::{HarnessError, ProtocolError};
use crate::protocol::{Holder, Input, InputSpec, Inputs, Protocol, TruncMode};

/// What the two processes must agree on before running; the handshake refuses a peer that
/// differs in anything but its role (which must be the other one).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Hello {
    /// Dyad's version.
    pub dyad: String,
    /// The sender's role.
    pub role: Role,
    /// The protocol.
    pub protocol: String,
    /// Its [definition](Protocol::definition), which tells apart two coefficient files of one name.
    pub definition: String,
    /// Its dimensions.
    pub shape: Vec<usize>,
    /// ℓ.
    pub ring_bits: u32,
    /// f.
    pub frac_bits: u32,
    /// The truncation.
    pub trunc: TruncMode,
    /// A mixed-ring protocol's small ring.
    pub small_ring: Option<SmallRing>,
    /// The correlation provider.
    pub correlations: String,
    /// The run's seed (the dealer's correlations and the random inputs follow from it).
    pub seed: u64,
}

impl Hello {
    /// This party's hello for running `p` under `spec`.
    pub fn new(p: &dyn Protocol, spec: &RunSpec, role: Role) -> Self {
        Hello {
            dyad: env!("CARGO_PKG_VERSION").into(),
            role,
            protocol: p.name().into(),
            definition: p.definition(),
            shape: spec.dims.clone().unwrap_or_else(|| p.default_dims()),
            ring_bits: spec.fixed.ring().bits(),
            frac_bits: spec.fixed.frac(),
            trunc: spec.trunc.unwrap_or_default(),
            small_ring: p.small_ring(spec.fixed).map(|s| SmallRing { ring_bits: s.ring().bits(), frac_bits: s.frac() }),
            correlations: spec.correlations.name().into(),
            seed: spec.seed,
        }
    }
}

/// Sends `ours` — a hello: any record with the sender's Dyad version in `dyad` and its role in
/// `role` — and checks the peer's: the same version, the other role, every other field equal.
/// A difference is [`HarnessError::Handshake`], naming the field and both values.
pub fn handshake<H: Serialize>(t: &mut dyn Transport, ours: &H) -> Result<(), HarnessError> {
    let gone = |e: ChannelError| HarnessError::Peer { stage: "the handshake", source: e };
    let ours = serde_json::to_value(ours).map_err(|e| HarnessError::Handshake {
        field: "hello".into(),
        ours: e.to_string(),
        theirs: String::new(),
    })?;
    send_frame(t, ours.to_string().into_bytes()).map_err(gone)?;
    let theirs: serde_json::Value = serde_json::from_slice(&recv_frame(t).map_err(gone)?).map_err(|e| {
        HarnessError::Handshake { field: "hello".into(), ours: "a Dyad hello".into(), theirs: e.to_string() }
    })?;
    let get = |v: &serde_json::Value, key: &str| v.get(key).cloned().unwrap_or(serde_json::Value::Null);
    let show = |v: serde_json::Value| match v {
        serde_json::Value::String(s) => s,
        other => other.to_string(),
    };
    let differs = |field: &str, o: serde_json::Value, t: serde_json::Value| HarnessError::Handshake {
        field: field.into(),
        ours: show(o),
        theirs: show(t),
    };
    if get(&ours, "dyad") != get(&theirs, "dyad") {
        return Err(differs("version", get(&ours, "dyad"), get(&theirs, "dyad")));
    }
    if get(&ours, "role") == get(&theirs, "role") {
        let role = show(get(&ours, "role"));
        return Err(HarnessError::Handshake {
            field: "role".into(),
            ours: role.clone(),
            theirs: format!("{role} as well"),
        });
    }
    let keys = |v: &serde_json::Value| v.as_object().map(|m| m.keys().cloned().collect::<Vec<_>>()).unwrap_or_default();
    let mut fields = keys(&ours);
    fields.extend(keys(&theirs));
    match fields.into_iter().find(|k| k != "dyad" && k != "role" && get(&ours, k) != get(&theirs, k)) {
        Some(field) => Err(differs(&field, get(&ours, &field), get(&theirs, &field))),
        None => Ok(()),
    }
}

/// The indices of the inputs `role` holds in a run apart: the server its plaintexts, the client
/// its plaintexts and the shared inputs, which it deals.
pub fn held_by(specs: &[InputSpec], role: Role) -> Vec<usize> {
    (0..specs.len())
        .filter(|&i| match (specs[i].holder, role) {
            (Holder::Server, Role::Server) => true,
            (Holder::Client | Holder::Shared, Role::Client) => true,
            (Holder::Server, Role::Client) | (Holder::Client | Holder::Shared, Role::Server) => false,
        })
        .collect()
}

/// Sends one unmetered frame of the harness's own (handshake, dealing, check).
pub fn send_frame(t: &mut dyn Transport, payload: Vec<u8>) -> Result<(), ChannelError> {
    t.send(Frame { clock: 0, stream: Stream::Protocol, payload })
}

/// Tells the peer why this party fails, as a run's party does ([`dyad_sim::Party::abort`]);
/// best effort.
pub fn abort(t: &mut dyn Transport, reason: &str) {
    let _ = t.send(Frame::abort(reason));
}

/// Receives one unmetered frame of the harness's own; a frame of another stream is an error.
pub fn recv_frame(t: &mut dyn Transport) -> Result<Vec<u8>, ChannelError> {
    let frame = t.recv()?;
    if frame.stream != Stream::Protocol {
        return Err(ChannelError::Invalid {
            what: "the harness's exchange",
            reason: format!("a frame of the {:?} stream where the harness expected its own", frame.stream),
        });
    }
    Ok(frame.payload)
}

/// Receives a tensor of a known shape and ring as one unmetered frame.
pub fn recv_tensor(t: &mut dyn Transport, like: (&[usize], dyad_sim::Ring)) -> Result<RingTensor, ChannelError> {
    let bytes = recv_frame(t)?;
    RingTensor::from_bytes(like.1, like.0, &bytes)
}

/// One party's run, its inputs checked and encoded, ready to meet the peer.
pub struct Apart<'a> {
    p: &'a dyn Protocol,
    spec: &'a RunSpec,
    role: Role,
    dims: Vec<usize>,
    specs: Vec<InputSpec>,
    held: Vec<usize>,
    mine: Vec<RingTensor>,
}

impl std::fmt::Debug for Apart<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Apart").field("protocol", &self.p.name()).field("role", &self.role).finish_non_exhaustive()
    }
}

impl<'a> Apart<'a> {
    /// `p` under `spec` as `role`, with `own` this party's inputs ([`held_by`], in order), or
    /// `None` to draw them from the seed. Bad dimensions or inputs are refused here, before any
    /// connection is made.
    pub fn new(
        p: &'a dyn Protocol,
        spec: &'a RunSpec,
        role: Role,
        own: Option<&[ArrayD<f64>]>,
    ) -> Result<Self, HarnessError> {
        let (dims, specs) = plan(p, spec)?;
        let held = held_by(&specs, role);
        let reals = real_inputs(p, spec, &specs, &held, own)?;
        let mine = encode(p, spec, &specs, &held, &reals)?;
        Ok(Apart { p, spec, role, dims, specs, held, mine })
    }

    /// Runs with the peer at the other end of `transport`, and checks the result.
    pub fn run(self, mut transport: Box<dyn Transport>) -> Result<Checked, HarnessError> {
        let Apart { p, spec, role, dims, specs, held, mine } = self;
        handshake(transport.as_mut(), &Hello::new(p, spec, role))?;

        let dealing = |e: ChannelError| HarnessError::Peer { stage: "dealing the shared inputs", source: e };
        let mut values: Vec<Input> = specs.iter().map(|s| Input::Absent { shape: s.shape.clone() }).collect();
        let mut server_shares: Vec<Option<RingTensor>> = vec![None; specs.len()];
        let mut rng = sharing_rng(spec.seed);
        for (i, s) in specs.iter().enumerate() {
            let at = held.iter().position(|&h| h == i);
            match (s.holder, role, at) {
                (Holder::Shared, Role::Client, Some(k)) => {
                    let (a, b) = Share::split(&mine[k], &mut rng);
                    send_frame(transport.as_mut(), a.tensor().to_bytes()).map_err(dealing)?;
                    server_shares[i] = Some(a.into_tensor());
                    values[i] = Input::Share(b);
                }
                (Holder::Shared, Role::Server, _) => {
                    let a = recv_tensor(transport.as_mut(), (&s.shape, spec.fixed.ring())).map_err(dealing)?;
                    server_shares[i] = Some(a.clone());
                    values[i] = Input::Share(Share::new(a));
                }
                (_, _, Some(k)) => values[i] = Input::Plain(mine[k].clone()),
                _ => {}
            }
        }

        let inputs = Inputs { fixed: spec.fixed, trunc: spec.trunc.unwrap_or_default(), values };
        let config = spec.sim_config();
        let name = p.name();
        let done = run_alone(&config, role, transport, |party| {
            party.scope(name, |party| chunk::run(p, party, &inputs, spec.chunk))
        })?;
        let mut transport = done.transport;

        let checking = |e: ChannelError| HarnessError::Peer { stage: "the check", source: e };
        let record = serde_json::to_vec(&done.record).map_err(|e| inconsistent(p, e.to_string()))?;
        send_frame(transport.as_mut(), record).map_err(checking)?;
        send_frame(transport.as_mut(), done.output.tensor().to_bytes()).map_err(checking)?;
        for t in &mine {
            send_frame(transport.as_mut(), t.to_bytes()).map_err(checking)?;
        }
        let peer_record: PartyRecord = serde_json::from_slice(&recv_frame(transport.as_mut()).map_err(checking)?)
            .map_err(|e| checking(ChannelError::Invalid { what: "the peer's records", reason: e.to_string() }))?;
        let peer_output =
            recv_tensor(transport.as_mut(), (done.output.shape(), done.output.ring())).map_err(checking)?;
        let mut encoded: Vec<Option<RingTensor>> = vec![None; specs.len()];
        for (&i, t) in held.iter().zip(mine) {
            encoded[i] = Some(t);
        }
        for i in held_by(&specs, role.peer()) {
            encoded[i] = Some(recv_tensor(transport.as_mut(), (&specs[i].shape, spec.fixed.ring())).map_err(checking)?);
        }
        let encoded: Vec<RingTensor> = encoded.into_iter().flatten().collect();
        if encoded.len() != specs.len() {
            return Err(inconsistent(p, "an input is held by neither party".into()));
        }
        let (server_record, client_record) = match role {
            Role::Server => (&done.record, &peer_record),
            Role::Client => (&peer_record, &done.record),
        };
        let cost = merge_records::<ProtocolError>(server_record, client_record)?;
        let secure = Share::reconstruct(&done.output, &Share::new(peer_output))
            .map_err(|e| inconsistent(p, format!("the output shares do not reconstruct: {e}")))?;
        let shares: Vec<Option<&RingTensor>> = server_shares.iter().map(Option::as_ref).collect();
        let mut checked = judge(p, spec, Outcome { dims, encoded, server_shares: &shares, secure, cost })?;
        checked.report.party = Some(role);
        let wall = |phase| done.record.wall(phase).as_secs_f64();
        checked.report.wall = Some(PhaseWall {
            setup_seconds: wall(Phase::Setup),
            offline_seconds: wall(Phase::Offline),
            online_seconds: wall(Phase::Online),
        });
        Ok(checked)
    }
}
