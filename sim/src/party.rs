//! A party's view of the world: its role, its metered link, its correlation provider and its
//! private randomness. Protocol code receives a `&mut Party` and nothing else of the peer.

use std::any::{Any, TypeId};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;
use std::time::Duration;

use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use serde::{Deserialize, Serialize};

use crate::channel::{Channel, Stream, Transport};
use crate::correlation::{
    BitTriples, CorrelationProvider, MatDims, MatrixTriple, OtSpec, RandomOts, SquarePairs, Triples,
};
use crate::error::{ChannelError, SimError};
use crate::meter::{Link, Phase, Tally, TallyKey};
use crate::ring::Ring;
use crate::role::Role;
/// One party inside a simulation.
pub struct Party {
    link: Link,
    provider: Box<dyn CorrelationProvider>,
    rng: ChaCha20Rng,
    barrier: Barrier,
    /// What protocols keep for the rest of the run ([`Party::keep`]), by type.
    kept: HashMap<TypeId, Box<dyn Any + Send>>,
}

/// Where a party stands with the barrier at the end of setup ([`Party::sync_after_setup`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Barrier {
    /// No barrier (both parties in one process).
    Off,
    /// A barrier once the protocol has been in setup and then talks outside it.
    Armed,
    /// The protocol has been in setup: the barrier comes before its next exchange outside it.
    Due,
    /// Done.
    Met,
}

impl std::fmt::Debug for Party {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Party")
            .field("link", &self.link)
            .field("provider", &self.provider.name())
            .finish_non_exhaustive()
    }
}

/// What a party leaves behind when it finishes: its tallies and its correlation requests.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartyRecord {
    /// Everything the party's meter recorded.
    #[serde(with = "tally_list")]
    pub tallies: BTreeMap<TallyKey, Tally>,
    /// The correlation requests it made, in order.
    pub requests: Vec<String>,
    /// The provider's name.
    pub provider: String,
}

impl PartyRecord {
    /// This party's wall-clock time in `phase`: its compute there plus its waiting there.
    pub fn wall(&self, phase: Phase) -> Duration {
        self.tallies.iter().filter(|((p, _), _)| *p == phase).map(|(_, t)| t.compute + t.waiting).sum()
    }
}

/// Tallies as a list of `[phase, label, tally]`: their keys are pairs, which JSON maps cannot
/// hold.
mod tally_list {
    use std::collections::BTreeMap;

    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use crate::meter::{Phase, Tally, TallyKey};

    pub(super) fn serialize<S: Serializer>(map: &BTreeMap<TallyKey, Tally>, s: S) -> Result<S::Ok, S::Error> {
        map.iter().map(|((phase, label), tally)| (phase, label, tally)).collect::<Vec<_>>().serialize(s)
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<BTreeMap<TallyKey, Tally>, D::Error> {
        let list = Vec::<(Phase, String, Tally)>::deserialize(d)?;
        Ok(list.into_iter().map(|(phase, label, tally)| ((phase, label), tally)).collect())
    }
}

impl Party {
    /// A party over `transport`. Its private randomness is ChaCha20 keyed by `key`, which
    /// must be this party's own ([`crate::runner::Secrets::key`]).
    pub fn new(
        role: Role,
        transport: Box<dyn Transport>,
        provider: Box<dyn CorrelationProvider>,
        key: [u8; 32],
    ) -> Self {
        let rng = ChaCha20Rng::from_seed(key);
        Party { link: Link::new(role, transport), provider, rng, barrier: Barrier::Off, kept: HashMap::new() }
    }

    /// Meets the peer ([`Link::barrier`]) before the protocol's first exchange after its setup
    /// phase (or at the end, if there is none), so that the two processes of a run apart start
    /// their online work together and each one's online wall time is the query's, not the tail
    /// of the other's setup. The wait is charged nowhere, and no count or label changes. A party that fails
    /// makes no further exchange and so never waits here: its peer sees it gone.
    pub fn sync_after_setup(&mut self) {
        self.barrier = Barrier::Armed;
    }

    /// The barrier, if it is due and this party is outside setup.
    fn sync_if_due(&mut self) -> Result<(), ChannelError> {
        if self.barrier == Barrier::Due && self.phase() != Phase::Setup { self.meet() } else { Ok(()) }
    }

    /// The barrier.
    fn meet(&mut self) -> Result<(), ChannelError> {
        self.barrier = Barrier::Met;
        self.link.barrier()
    }

    /// This party's role.
    pub fn role(&self) -> Role {
        self.link.role()
    }

    /// Private randomness, never shared with the peer.
    pub fn rng(&mut self) -> &mut ChaCha20Rng {
        &mut self.rng
    }

    /// The current phase.
    pub fn phase(&self) -> Phase {
        self.link.meter().phase()
    }

    /// Switches phase for everything that follows.
    pub fn set_phase(&mut self, phase: Phase) {
        if phase == Phase::Setup && self.barrier == Barrier::Armed {
            self.barrier = Barrier::Due;
        }
        self.link.meter_mut().set_phase(phase);
    }

    /// Runs `f` in `phase`, then restores the previous phase.
    pub fn in_phase<T>(&mut self, phase: Phase, f: impl FnOnce(&mut Party) -> T) -> T {
        let before = self.phase();
        self.set_phase(phase);
        let out = f(self);
        self.set_phase(before);
        out
    }

    /// Runs `f` under `label`, so that its traffic is attributed to it.
    pub fn scope<T>(&mut self, label: &str, f: impl FnOnce(&mut Party) -> T) -> T {
        self.link.meter_mut().push_label(label);
        let out = f(self);
        self.link.meter_mut().pop_label();
        out
    }

    /// The current label path.
    pub fn label_path(&self) -> &str {
        self.link.meter().path()
    }

    /// True when this party's correlations come from the ideal dealer
    /// ([`CorrelationProvider::is_ideal`]), false when the parties generate them.
    pub fn ideal_correlations(&self) -> bool {
        self.provider.is_ideal()
    }

    /// True when this party makes ring triples and square pairs with HE rather than asking its
    /// provider ([`CorrelationProvider::he_products`]).
    pub fn he_products(&self) -> bool {
        self.provider.he_products()
    }

    /// Runs `f`, a protocol that makes correlations above this crate (HE matrix triples), as
    /// the provider runs its own: in the offline phase, on the correlation stream, whose clock
    /// is its own so that the protocol's rounds do not see it, under `label`.
    pub fn correlation_protocol<T>(&mut self, label: &str, f: impl FnOnce(&mut Party) -> T) -> T {
        self.in_phase(Phase::Offline, |p| {
            let stream = p.link.set_stream(Stream::Correlations);
            let out = p.scope(label, f);
            p.link.set_stream(stream);
            out
        })
    }

    /// The value of type `T` kept for the rest of the run ([`Party::keep`]), if any.
    pub fn kept<T: Any + Send + Sync>(&self) -> Option<Arc<T>> {
        self.kept.get(&TypeId::of::<T>()).and_then(|v| v.downcast_ref::<Arc<T>>()).cloned()
    }

    /// Keeps `value` for the rest of the run, one value per type, replacing any kept before:
    /// what a protocol sets up once and uses at every call, as the HE keys of matrix triples.
    pub fn keep<T: Any + Send + Sync>(&mut self, value: Arc<T>) {
        self.kept.insert(TypeId::of::<T>(), Box::new(value));
    }

    /// This party's half of `n` Beaver triples over `ring`.
    pub fn triples(&mut self, ring: Ring, n: usize) -> Result<Triples, SimError> {
        self.sync_if_due()?;
        self.provider.triples(&mut self.link, ring, n)
    }

    /// This party's half of `n` AND triples, packed.
    pub fn bit_triples(&mut self, n: usize) -> Result<BitTriples, SimError> {
        self.sync_if_due()?;
        self.provider.bit_triples(&mut self.link, n)
    }

    /// This party's half of `n` square pairs over `ring`.
    pub fn squares(&mut self, ring: Ring, n: usize) -> Result<SquarePairs, SimError> {
        self.sync_if_due()?;
        self.provider.squares(&mut self.link, ring, n)
    }

    /// This party's half of a matrix triple.
    pub fn matrix_triple(&mut self, ring: Ring, dims: MatDims) -> Result<MatrixTriple, SimError> {
        self.sync_if_due()?;
        self.provider.matrix_triple(&mut self.link, ring, dims)
    }

    /// This party's half of a batch of random OTs.
    pub fn random_ots(&mut self, spec: OtSpec) -> Result<RandomOts, SimError> {
        self.sync_if_due()?;
        self.provider.random_ots(&mut self.link, spec)
    }

    /// Ends the party: the transport closes (the peer's pending receive fails with peer gone)
    /// and the meter's records are returned.
    pub fn finish(self) -> PartyRecord {
        PartyRecord {
            requests: self.provider.requests().to_vec(),
            provider: self.provider.name().into(),
            tallies: self.link.finish(),
        }
    }

    /// Tells the peer why this party fails ([`Link::abort`]).
    pub fn abort(&mut self, reason: &str) {
        self.link.abort(reason);
    }

    /// Ends the party and returns its records with the transport, still open (for a check that
    /// is not charged to the protocol).
    /// A barrier still due (a protocol with nothing to say after its setup) is met first.
    pub fn finish_keeping_transport(mut self) -> Result<(PartyRecord, Box<dyn Transport>), ChannelError> {
        if self.barrier == Barrier::Due {
            self.meet()?;
        }
        let (tallies, transport) = self.link.into_parts()?;
        let record =
            PartyRecord { requests: self.provider.requests().to_vec(), provider: self.provider.name().into(), tallies };
        Ok((record, transport))
    }
}

impl Channel for Party {
    fn send_bytes(&mut self, payload: Vec<u8>) -> Result<(), ChannelError> {
        self.sync_if_due()?;
        self.link.send_bytes(payload)
    }

    fn recv_bytes(&mut self) -> Result<Vec<u8>, ChannelError> {
        self.sync_if_due()?;
        self.link.recv_bytes()
    }
}
