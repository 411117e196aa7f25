//! Cost formulas as code: a protocol's message pattern, written down, gives its exact counts
//! without running it.
//!
//! A [`Formula`] replays who sends how many bytes and who waits for what, with the same Lamport
//! clocks as the [`meter`](crate::meter): a message is one deeper than the deepest message its
//! sender had received, and the rounds of a phase are the distinct depths of its messages.
//! Messages travel first in, first out in each direction, so a formula written in any order
//! that keeps each party's own sends and receives in program order (and every receive after
//! its send) gives the counts of the run. Correlated randomness is charged by the seeded
//! dealer's own charge functions ([`crate::correlation::dealer`]): bytes to each party in the
//! offline phase, at depth 0.
//!
//! Protocols write their formula next to their code; a test compares it with the meter.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use crate::correlation::dealer::{matrix_triple_bytes, random_ot_bytes, square_bytes, triple_bytes};
use crate::correlation::{MatDims, OtSpec};
use crate::meter::Phase;
use crate::report::Counts;
use crate::ring::Ring;
use crate::role::Role;
use crate::wire;

/// One phase's counts and the depths of its messages.
#[derive(Clone, Debug, Default)]
struct PhaseTally {
    counts: Counts,
    depths: BTreeSet<u64>,
}

/// The message pattern of a protocol, for its exact counts.
#[derive(Clone, Debug)]
pub struct Formula {
    phase: Phase,
    clock: [u64; 2],
    in_flight: [VecDeque<u64>; 2],
    phases: BTreeMap<Phase, PhaseTally>,
    unbalanced: bool,
}

impl Default for Formula {
    fn default() -> Self {
        Self::new()
    }
}

impl Formula {
    /// An empty formula in the online phase, both clocks at 0.
    pub fn new() -> Self {
        Formula {
            phase: Phase::Online,
            clock: [0, 0],
            in_flight: [VecDeque::new(), VecDeque::new()],
            phases: BTreeMap::new(),
            unbalanced: false,
        }
    }

    /// Runs `f` in `phase`, then returns to the previous phase.
    pub fn in_phase(&mut self, phase: Phase, f: impl FnOnce(&mut Formula)) {
        let before = std::mem::replace(&mut self.phase, phase);
        f(self);
        self.phase = before;
    }

    fn tally(&mut self, phase: Phase) -> &mut PhaseTally {
        self.phases.entry(phase).or_default()
    }

    /// `from` sends one message of `bytes`.
    pub fn send(&mut self, from: Role, bytes: usize) {
        let depth = self.clock[from.index()] + 1;
        self.in_flight[from.index()].push_back(depth);
        let t = self.tally(self.phase);
        match from {
            Role::Server => {
                t.counts.bytes_server_to_client += bytes as u64;
                t.counts.messages_server_to_client += 1;
            }
            Role::Client => {
                t.counts.bytes_client_to_server += bytes as u64;
                t.counts.messages_client_to_server += 1;
            }
        }
        t.depths.insert(depth);
    }

    /// `from` sends `n` values of `width` bits in one packed message.
    pub fn send_packed(&mut self, from: Role, n: usize, width: u32) {
        self.send(from, wire::packed_len(n, width));
    }

    /// `at` receives the oldest message the peer sent it. A receive with nothing in flight makes
    /// the formula unbalanced (see [`Formula::is_balanced`]).
    pub fn recv(&mut self, at: Role) {
        match self.in_flight[at.peer().index()].pop_front() {
            Some(depth) => self.clock[at.index()] = self.clock[at.index()].max(depth),
            None => self.unbalanced = true,
        }
    }

    /// Both parties send `bytes` in one message, then both receive: an opening.
    pub fn exchange(&mut self, bytes: usize) {
        self.send(Role::Server, bytes);
        self.send(Role::Client, bytes);
        self.recv(Role::Server);
        self.recv(Role::Client);
    }

    /// `to` receives `bytes` of correlated randomness from the dealer.
    pub fn dealer(&mut self, to: Role, bytes: usize) {
        let t = self.tally(Phase::Offline);
        match to {
            Role::Server => t.counts.dealer_bytes_to_server += bytes as u64,
            Role::Client => t.counts.dealer_bytes_to_client += bytes as u64,
        }
        t.depths.insert(0);
    }

    /// `n` Beaver triples over `ring`.
    pub fn triples(&mut self, ring: Ring, n: usize) {
        self.both(triple_bytes(ring, n));
    }

    /// `n` square pairs over `ring`.
    pub fn squares(&mut self, ring: Ring, n: usize) {
        self.both(square_bytes(ring, n));
    }

    /// A matrix triple.
    pub fn matrix_triple(&mut self, ring: Ring, dims: MatDims) {
        self.both(matrix_triple_bytes(ring, dims));
    }

    /// A batch of random OTs.
    pub fn random_ots(&mut self, spec: OtSpec) {
        for role in Role::BOTH {
            self.dealer(role, random_ot_bytes(spec, role));
        }
    }

    /// `bytes` of correlated randomness to each party.
    fn both(&mut self, bytes: usize) {
        for role in Role::BOTH {
            self.dealer(role, bytes);
        }
    }

    /// `times` runs of `f` one after another.
    pub fn repeat(&mut self, times: usize, mut f: impl FnMut(&mut Formula)) {
        for _ in 0..times {
            f(self);
        }
    }

    /// True when every receive matched a message and no message is left unreceived.
    pub fn is_balanced(&self) -> bool {
        !self.unbalanced && self.in_flight.iter().all(VecDeque::is_empty)
    }

    /// The counts of `phase` (zero when nothing happened in it), as the cost report gives them.
    pub fn counts(&self, phase: Phase) -> Counts {
        self.phases
            .get(&phase)
            .map(|t| Counts { rounds: t.depths.len() as u64, ..t.counts.clone() })
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reply_is_one_deeper_and_a_flight_shares_a_depth() {
        let mut f = Formula::new();
        // Two messages back to back from the client, one flight; the server answers both.
        f.send(Role::Client, 3);
        f.send(Role::Client, 5);
        f.recv(Role::Server);
        f.recv(Role::Server);
        f.send(Role::Server, 7);
        f.recv(Role::Client);
        let c = f.counts(Phase::Online);
        assert_eq!((c.bytes_client_to_server, c.bytes_server_to_client, c.messages(), c.rounds), (8, 7, 3, 2));
        assert!(f.is_balanced());
    }

    #[test]
    fn an_opening_after_a_reply_overlaps_the_sender_that_is_behind() {
        // Client → server → client, then an opening: the server (clock 1) sends at depth 2, the
        // client (clock 2) at 3. Depths 1, 2, 3.
        let mut f = Formula::new();
        f.send(Role::Client, 1);
        f.recv(Role::Server);
        f.send(Role::Server, 1);
        f.recv(Role::Client);
        f.exchange(8);
        assert_eq!(f.counts(Phase::Online).rounds, 3);
    }

    #[test]
    fn unmatched_messages_unbalance_the_formula() {
        let mut f = Formula::new();
        f.recv(Role::Client);
        assert!(!f.is_balanced());
        let mut f = Formula::new();
        f.send(Role::Server, 1);
        assert!(!f.is_balanced());
    }

    #[test]
    fn dealer_material_is_offline_at_depth_zero() {
        let mut f = Formula::new();
        f.triples(Ring::Z64, 10);
        f.random_ots(OtSpec { sender: Role::Server, count: 8, choice_bits: 1, msg_bits: 64 });
        let c = f.counts(Phase::Offline);
        assert_eq!((c.dealer_bytes_to_server, c.dealer_bytes_to_client, c.rounds), (240 + 128, 240 + 1 + 64, 1));
        assert_eq!(f.counts(Phase::Online), Counts::default());
    }
}
