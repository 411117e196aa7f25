//! Chosen-choice correlated OT over Z_2^w with one message each way, from a random 1-out-of-2
//! OT: the form in which Cheetah (Huang et al., USENIX Security 2022) and SPU's cheetah backend
//! spend their OTs on products of a value and a bit. Correlated OT is that of Asharov, Lindell,
//! Schneider and Zohner, "More Efficient Oblivious Transfer and Extensions for Faster Secure
//! Computation" (CCS 2013).
//!
//! The sender holds d, the receiver a bit c; afterwards they hold u and v with
//! u + v = c·d mod 2^w. From a random OT — the sender holds (R₀, R₁), the receiver (e, R_e) —
//! the receiver sends f = e ⊕ c (1 bit); the sender keeps u = −R_f and sends
//! τ = d + R_f − R_{1⊕f} (w bits); the receiver outputs v = R_e + c·τ. If c = 0 then e = f and
//! u + v = 0; if c = 1 then e = 1 ⊕ f and u + v = τ − R_f + R_{1⊕f} = d. A chosen-message OT of
//! the pair (−r, d − r) sends both messages, 2w bits; this sends w.
//!
//! The steps are split ([`start`], [`CotSender::respond`], [`CotReceiver::finish`]) so that
//! batches in both directions share flights.

use dyad_sim::correlation::OtSpec;
use dyad_sim::{Bits, Channel, ChannelError, Formula, Packed, Party, Ring, Role, wire};

use crate::blocks::ot::one_of_two;
use crate::error::ProtocolError;

fn config(reason: String) -> ProtocolError {
    ProtocolError::Config { protocol: "cot", reason }
}

/// The sender's side of a batch, between requesting the random OTs and answering.
#[derive(Debug)]
pub struct CotSender {
    ring: Ring,
    count: usize,
    rot: Packed,
}

/// The receiver's side of a batch, after sending its flips.
#[derive(Debug)]
pub struct CotReceiver {
    ring: Ring,
    choices: Vec<u64>,
    pads: Packed,
}

/// One party's side of a batch of correlated OTs.
#[derive(Debug)]
pub enum CotSide {
    /// This party holds the correlations d.
    Sender(CotSender),
    /// This party holds the choice bits c.
    Receiver(CotReceiver),
}

/// The random OTs a batch of `count` correlated OTs over Z_2^`width` from `sender` consumes.
pub fn spec(sender: Role, count: usize, width: u32) -> OtSpec {
    one_of_two(sender, count, width)
}

/// Requests the random OTs of `count` correlated OTs over Z_2^`width` sent by `sender` (both
/// parties call this, in the same order); the receiver passes its choice bits and sends its
/// flips.
pub fn start(
    p: &mut Party,
    sender: Role,
    count: usize,
    width: u32,
    choices: Option<Vec<u64>>,
) -> Result<CotSide, ProtocolError> {
    let ring = Ring::new(width)?;
    let rot = p.random_ots(spec(sender, count, width))?;
    if p.role() == sender {
        return Ok(CotSide::Sender(CotSender { ring, count, rot: rot.into_sender()? }));
    }
    let choices = choices.ok_or_else(|| config("the receiver needs choice bits".into()))?;
    if choices.len() != count {
        return Err(config(format!("{} choices for {count} correlated OTs", choices.len())));
    }
    let (e, pads) = rot.into_receiver()?;
    let mut e = e.iter();
    let flips = Bits::from_fn(count, |t| (e.next().unwrap_or(0) ^ choices[t]) & 1 == 1);
    p.send_bytes(flips.to_bytes())?;
    Ok(CotSide::Receiver(CotReceiver { ring, choices, pads }))
}

impl CotSender {
    /// Receives the flips and sends τ for the correlations `d` (one per OT); returns the
    /// sender's shares u.
    pub fn respond(self, p: &mut Party, d: &[u64]) -> Result<Vec<u64>, ProtocolError> {
        if d.len() != self.count {
            return Err(config(format!("{} correlations for {} OTs", d.len(), self.count)));
        }
        let ring = self.ring;
        let flips = Bits::from_bytes(&p.recv_bytes()?, self.count)?;
        let mut tau = wire::Packer::new(self.count, ring.bits());
        let mut u = Vec::with_capacity(self.count);
        if self.rot.len() != 2 * self.count {
            return Err(config(format!("{} random OT messages for {} OTs", self.rot.len(), self.count)));
        }
        let mut rot = self.rot.iter();
        for (t, d) in d.iter().enumerate() {
            let pair = [rot.next().unwrap_or(0), rot.next().unwrap_or(0)];
            let (kept, other) = if flips.get(t) { (pair[1], pair[0]) } else { (pair[0], pair[1]) };
            u.push(ring.neg(kept));
            tau.push(ring.sub(ring.add(ring.reduce(*d), kept), other));
        }
        p.send_bytes(tau.finish())?;
        Ok(u)
    }
}

impl CotReceiver {
    /// Receives τ and returns the receiver's shares v.
    pub fn finish(self, p: &mut Party) -> Result<Vec<u64>, ProtocolError> {
        let ring = self.ring;
        let bytes = p.recv_bytes()?;
        let expected = wire::packed_len(self.choices.len(), ring.bits());
        if bytes.len() != expected {
            return Err(ChannelError::Malformed { expected, got: bytes.len() }.into());
        }
        Ok(self
            .choices
            .iter()
            .zip(self.pads.iter())
            .enumerate()
            .map(|(i, (c, r))| if c & 1 == 1 { ring.add(r, wire::get(&bytes, i, ring.bits())) } else { r })
            .collect())
    }
}

/// The formula of [`start`]: the receiver sends one flip bit per OT.
pub fn start_cost(f: &mut Formula, sender: Role, count: usize, width: u32) {
    f.random_ots(spec(sender, count, width));
    f.send_packed(sender.peer(), count, 1);
}

/// The formula of [`CotSender::respond`]: the sender receives the flips and sends τ.
pub fn respond_cost(f: &mut Formula, sender: Role, count: usize, width: u32) {
    f.recv(sender);
    f.send_packed(sender, count, width);
}

/// The formula of [`CotReceiver::finish`]: the receiver receives τ.
pub fn finish_cost(f: &mut Formula, sender: Role) {
    f.recv(sender.peer());
}

/// The formula of batches `(sender, count, width)` that all start before any is answered, then
/// are all answered, then all finished, in order: two flights. (Each party answers the batches
/// it sends before finishing those it receives, as [`crate::blocks::select::mux`] does.)
pub fn batches_cost(f: &mut Formula, batches: &[(Role, usize, u32)]) {
    for &(sender, count, width) in batches {
        start_cost(f, sender, count, width);
    }
    for &(sender, count, width) in batches {
        respond_cost(f, sender, count, width);
    }
    for &(sender, _, _) in batches {
        finish_cost(f, sender);
    }
}
