//! Metering: what every message costs, by phase and label, with rounds from a Lamport clock.
//!
//! Each party's [`Link`] wraps its transport and keeps a [`Meter`]. The meter counts the bytes
//! and messages this party sends, attributed to the current [`Phase`] and label stack.
//!
//! **Rounds.** Every message carries a clock: its depth in the causal chain of messages. A
//! message's depth is one more than the deepest message its sender had received when sending
//! it, so messages sent back-to-back without waiting share a depth (they travel in one flight),
//! and a reply is one deeper than what it answers. The rounds of a scope (a phase, a label, or
//! everything) are the number of distinct depths among its messages: for a protocol that runs
//! alone that is the length of its longest chain of messages. The clock rides on the frame
//! outside the payload and is never charged as traffic.
//!
//! **Correlation traffic** (base OTs and OT extension, on the link's correlation [`Stream`])
//! runs on clocks of its own, one for its setup (base OTs) and one for its offline work: it is
//! input-independent and a deployment does it before the query arrives, so it never delays a
//! protocol message, and the protocol's counts are the same whichever provider is used. Its
//! offline rounds are the flights of its requests in program order.
//!
//! **Dealer.** Correlated randomness from a trusted dealer is charged in the `offline` phase
//! under the current label with `dealer` appended, as bytes from the dealer to this party. All
//! dealer material can be delivered in one flight before the protocol starts, so it occupies
//! depth 0: one round of the offline phase.
//!
//! **Compute time.** Wall time between metering events is charged to the current phase and label,
//! except the time spent blocked in a receive, which is kept as waiting time: the two add up to
//! the party's wall-clock time. Both are measured, not counted, so they are kept apart from the
//! exact counts.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::channel::{Channel, Frame, Stream, Transport};
use crate::error::ChannelError;
use crate::role::Role;
/// When traffic happens.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    /// Once per model (for example encrypting the weights).
    Setup,
    /// Input-independent preprocessing (correlated randomness).
    Offline,
    /// Per query, once the input is known.
    Online,
}

impl Phase {
    /// All phases in order.
    pub const ALL: [Phase; 3] = [Phase::Setup, Phase::Offline, Phase::Online];

    /// The lower-case name used in reports.
    pub const fn name(self) -> &'static str {
        match self {
            Phase::Setup => "setup",
            Phase::Offline => "offline",
            Phase::Online => "online",
        }
    }
}

impl std::fmt::Display for Phase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The label appended to the current label for dealer material.
pub const DEALER_LABEL: &str = "dealer";

/// What one party recorded under one (phase, label path).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tally {
    /// Payload bytes this party sent.
    pub bytes: u64,
    /// Messages this party sent.
    pub messages: u64,
    /// Causal depths of the messages this party sent (0 for dealer deliveries).
    pub depths: BTreeSet<u64>,
    /// Bytes the dealer delivered to this party.
    pub dealer_bytes: u64,
    /// Dealer deliveries to this party.
    pub dealer_messages: u64,
    /// Wall time this party spent computing (not waiting) here.
    pub compute: Duration,
    /// Wall time this party spent blocked in a receive here; with `compute`, all of its time.
    pub waiting: Duration,
}

/// Key of a tally: the phase and the `/`-joined label path ("" outside every label).
pub type TallyKey = (Phase, String);

/// Everything one party's meter recorded.
pub type Tallies = BTreeMap<TallyKey, Tally>;

/// One party's meter.
#[derive(Debug)]
pub struct Meter {
    phase: Phase,
    labels: Vec<String>,
    path: String,
    clocks: [u64; 3],
    tallies: BTreeMap<TallyKey, Tally>,
    mark: Instant,
}

impl Default for Meter {
    fn default() -> Self {
        Self::new()
    }
}

impl Meter {
    /// A fresh meter in the online phase with no label.
    pub fn new() -> Self {
        Meter {
            phase: Phase::Online,
            labels: Vec::new(),
            path: String::new(),
            clocks: [0, 0, 0],
            tallies: BTreeMap::new(),
            mark: Instant::now(),
        }
    }

    /// The current phase.
    pub fn phase(&self) -> Phase {
        self.phase
    }

    /// The current label path, `/`-joined.
    pub fn path(&self) -> &str {
        &self.path
    }

    fn tally(&mut self, phase: Phase, path: &str) -> &mut Tally {
        self.tallies.entry((phase, path.to_owned())).or_default()
    }

    /// The clock of `stream` in the current phase: the protocol's one clock, or the correlation
    /// stream's setup or offline clock.
    fn clock(&mut self, stream: Stream) -> &mut u64 {
        let i = match (stream, self.phase) {
            // Sync and abort frames never reach the meter; were one metered, it would count as
            // protocol.
            (Stream::Protocol | Stream::Sync | Stream::Abort, _) => 0,
            (Stream::Correlations, Phase::Setup) => 1,
            (Stream::Correlations, _) => 2,
        };
        &mut self.clocks[i]
    }

    /// Charges the time since the last event to the current scope.
    fn charge_compute(&mut self) {
        let now = Instant::now();
        let spent = now - self.mark;
        self.mark = now;
        let (phase, path) = (self.phase, self.path.clone());
        self.tally(phase, &path).compute += spent;
    }

    /// Switches phase.
    pub fn set_phase(&mut self, phase: Phase) {
        self.charge_compute();
        self.phase = phase;
    }

    /// Enters a label.
    pub fn push_label(&mut self, label: &str) {
        self.charge_compute();
        self.labels.push(label.to_owned());
        self.path = self.labels.join("/");
    }

    /// Leaves the innermost label.
    pub fn pop_label(&mut self) {
        self.charge_compute();
        self.labels.pop();
        self.path = self.labels.join("/");
    }

    /// Records a message of `bytes` about to be sent on `stream` and returns the depth to stamp
    /// on it.
    pub fn on_send(&mut self, bytes: usize, stream: Stream) -> u64 {
        self.charge_compute();
        let depth = *self.clock(stream) + 1;
        let (phase, path) = (self.phase, self.path.clone());
        let t = self.tally(phase, &path);
        t.bytes += bytes as u64;
        t.messages += 1;
        t.depths.insert(depth);
        depth
    }

    /// Marks the start of a blocking receive: compute so far is charged, waiting is not.
    pub fn on_recv_start(&mut self) {
        self.charge_compute();
    }

    /// Records the depth of a message received on `stream`; the time spent waiting is kept
    /// apart from compute.
    pub fn on_recv_end(&mut self, depth: u64, stream: Stream) {
        let clock = self.clock(stream);
        *clock = (*clock).max(depth);
        self.on_wait_end();
    }

    /// Ends a wait that received nothing metered: its time is waiting time of the current scope.
    pub fn on_wait_end(&mut self) {
        let now = Instant::now();
        let waited = now - self.mark;
        self.mark = now;
        let (phase, path) = (self.phase, self.path.clone());
        self.tally(phase, &path).waiting += waited;
    }

    /// Ends a wait that belongs to no scope (a barrier between processes): its time is charged
    /// nowhere, so that no scope appears for it.
    pub fn skip_wait(&mut self) {
        self.mark = Instant::now();
    }

    /// Marks the start of dealer work: compute so far is charged to the current scope.
    pub fn dealer_start(&mut self) {
        self.charge_compute();
    }

    /// Records `bytes` of correlated randomness delivered by a dealer; the time since
    /// [`Meter::dealer_start`] (generating it) is charged to the dealer's offline scope.
    pub fn on_dealer(&mut self, bytes: usize) {
        let now = Instant::now();
        let spent = now - self.mark;
        self.mark = now;
        let path = if self.path.is_empty() { DEALER_LABEL.to_owned() } else { format!("{}/{DEALER_LABEL}", self.path) };
        let t = self.tally(Phase::Offline, &path);
        t.dealer_bytes += bytes as u64;
        t.dealer_messages += 1;
        t.depths.insert(0);
        t.compute += spent;
    }

    /// Everything recorded, keyed by phase and label path.
    pub fn finish(mut self) -> BTreeMap<TallyKey, Tally> {
        self.charge_compute();
        self.tallies
    }
}

/// A metered channel: any transport plus this party's meter. It carries the streams of
/// [`Stream`]; frames of a stream not being read wait in a queue until it is.
pub struct Link {
    role: Role,
    transport: Box<dyn Transport>,
    meter: Meter,
    stream: Stream,
    waiting: [VecDeque<Frame>; 4],
}

impl std::fmt::Debug for Link {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Link").field("role", &self.role).field("meter", &self.meter).finish_non_exhaustive()
    }
}

impl Link {
    /// Wraps `transport` for the party `role`.
    pub fn new(role: Role, transport: Box<dyn Transport>) -> Self {
        Link { role, transport, meter: Meter::new(), stream: Stream::Protocol, waiting: Default::default() }
    }

    /// Sends and receives on `stream` from now on; returns the stream used before.
    pub fn set_stream(&mut self, stream: Stream) -> Stream {
        std::mem::replace(&mut self.stream, stream)
    }

    /// This party's role.
    pub fn role(&self) -> Role {
        self.role
    }

    /// The meter.
    pub fn meter(&self) -> &Meter {
        &self.meter
    }

    /// The meter, to change phase or label or to charge dealer material.
    pub fn meter_mut(&mut self) -> &mut Meter {
        &mut self.meter
    }

    /// Waits until the peer reaches its own barrier: each sends an empty frame on the sync stream
    /// and waits for the other's. Nothing is charged, not even the wait. Two processes
    /// meet here at the end of setup, so that each one's online time starts together, as it
    /// would in a deployment, where setup is done long before a query.
    pub fn barrier(&mut self) -> Result<(), ChannelError> {
        self.meter.on_recv_start();
        self.transport.send(Frame { clock: 0, stream: Stream::Sync, payload: Vec::new() })?;
        let synced = self.next_frame(Stream::Sync).map(drop);
        self.meter.skip_wait();
        synced
    }

    /// The next frame of `stream`; frames of the others wait in their queues.
    fn next_frame(&mut self, stream: Stream) -> Result<Frame, ChannelError> {
        if let Some(frame) = self.waiting[stream.index()].pop_front() {
            return Ok(frame);
        }
        loop {
            let frame = self.transport.recv()?;
            if frame.stream == stream {
                return Ok(frame);
            }
            self.waiting[frame.stream.index()].push_back(frame);
        }
    }

    /// Tells the peer, as this party fails, why; best effort, unmetered, and nothing is waited
    /// for. The peer's next receive is then [`ChannelError::PeerFailed`].
    pub fn abort(&mut self, reason: &str) {
        let _ = self.transport.send(Frame::abort(reason));
    }

    /// Drops the transport (so the peer sees [`ChannelError::PeerGone`]) and returns the tallies.
    pub fn finish(self) -> BTreeMap<TallyKey, Tally> {
        drop(self.transport);
        self.meter.finish()
    }

    /// The tallies and the transport, still open, for traffic that is not the protocol's (a
    /// harness's check after a run over TCP); an error if the peer sent frames that were never
    /// read, which that traffic would otherwise misread.
    pub fn into_parts(self) -> Result<(Tallies, Box<dyn Transport>), ChannelError> {
        if let Some(stream) = Stream::ALL.into_iter().find(|s| !self.waiting[s.index()].is_empty()) {
            return Err(ChannelError::Invalid {
                what: "the end of the run",
                reason: format!(
                    "{} frame(s) of the {stream:?} stream arrived and were never read",
                    self.waiting[stream.index()].len()
                ),
            });
        }
        Ok((self.meter.finish(), self.transport))
    }
}

impl Channel for Link {
    fn send_bytes(&mut self, payload: Vec<u8>) -> Result<(), ChannelError> {
        let clock = self.meter.on_send(payload.len(), self.stream);
        self.transport.send(Frame { clock, stream: self.stream, payload })
    }

    fn recv_bytes(&mut self) -> Result<Vec<u8>, ChannelError> {
        self.meter.on_recv_start();
        let frame = self.next_frame(self.stream)?;
        self.meter.on_recv_end(frame.clock, self.stream);
        Ok(frame.payload)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::channel::memory::MemoryTransport;

    #[test]
    fn a_barrier_charges_nothing_and_keeps_the_messages_around_it() {
        let (s, c) = MemoryTransport::pair(Some(Duration::from_secs(5)));
        let (mut server, mut client) = (Link::new(Role::Server, Box::new(s)), Link::new(Role::Client, Box::new(c)));
        let talk = std::thread::spawn(move || {
            server.send_bytes(vec![1; 10]).unwrap();
            server.barrier().unwrap();
            server.send_bytes(vec![2; 20]).unwrap();
            server.finish()
        });
        client.barrier().unwrap();
        assert_eq!(client.recv_bytes().unwrap(), vec![1; 10], "a message sent before the barrier waits for its reader");
        assert_eq!(client.recv_bytes().unwrap(), vec![2; 20]);
        let sent: Tally = talk.join().unwrap().into_values().fold(Tally::default(), |mut acc, t| {
            acc.bytes += t.bytes;
            acc.messages += t.messages;
            acc
        });
        assert_eq!((sent.bytes, sent.messages), (30, 2), "the barrier's frames are not charged");
    }
}
