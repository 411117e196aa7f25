//! Chosen-message 1-out-of-N OT from random OT, the way OT-extension protocols consume
//! precomputed random OTs (Beaver, "Precomputing oblivious transfer", CRYPTO 1995).
//!
//! With a random OT the sender holds R_0..R_{N−1} and the receiver (c, R_c). To receive message
//! x of M_0..M_{N−1}, the receiver sends e = c − x mod N (log N bits); the sender answers
//! Y_i = M_i ⊕ R_{(i+e) mod N} for every i (N message-width strings); the receiver outputs
//! Y_x ⊕ R_c = M_x. Two flights: receiver→sender, then sender→receiver.
//!
//! The steps are split ([`start`], [`OtSender::respond`], [`OtReceiver::finish`])
//! so that OTs in both directions can share flights.

use dyad_sim::correlation::OtSpec;
use dyad_sim::{Channel, Formula, Packed, Party, Ring, Role, wire};

use crate::error::ProtocolError;

fn config(reason: String) -> ProtocolError {
    ProtocolError::Config { protocol: "ot", reason }
}

/// The sender's side of a batch of OTs, between requesting the random OTs and answering.
#[derive(Debug)]
pub struct OtSender {
    spec: OtSpec,
    rot: Packed,
}

/// The receiver's side of a batch of OTs, after sending its offsets.
#[derive(Debug)]
pub struct OtReceiver {
    spec: OtSpec,
    choices: Packed,
    rot_messages: Packed,
}

/// Requests a batch of random OTs (both parties must call this, in the same order) and
/// returns this party's side: [`Side::Sender`] for the sender, [`Side::Receiver`] for the receiver, which has
/// already sent its offsets for `choices` (ignored on the sender's side), one per instance in
/// Z_N.
pub fn start(p: &mut Party, spec: OtSpec, choices: Option<Packed>) -> Result<Side, ProtocolError> {
    let rot = p.random_ots(spec)?;
    if p.role() == spec.sender {
        return Ok(Side::Sender(OtSender { spec, rot: rot.into_sender()? }));
    }
    let choices = choices.ok_or_else(|| config("the OT receiver needs choices".into()))?;
    if choices.len() != spec.count || choices.ring().bits() != spec.choice_bits {
        return Err(config(format!("{} choices in {} for {spec:?}", choices.len(), choices.ring())));
    }
    let (rot_choices, rot_messages) = rot.into_receiver()?;
    let ring = choices.ring();
    let offsets = Packed::from_fn(ring, spec.count, |t| ring.sub(rot_choices.get(t), choices.get(t)));
    p.send_bytes(offsets.to_wire())?;
    Ok(Side::Receiver(OtReceiver { spec, choices, rot_messages }))
}

/// One party's side of a batch of OTs.
#[derive(Debug)]
pub enum Side {
    /// This party sends.
    Sender(OtSender),
    /// This party receives.
    Receiver(OtReceiver),
}

impl OtSender {
    /// Receives the offsets and sends the masked messages: `messages` holds N per instance,
    /// instance-major, each below 2^msg_bits.
    pub fn respond(self, p: &mut Party, messages: &[u64]) -> Result<(), ProtocolError> {
        let arity = self.spec.arity();
        if messages.len() != self.spec.count * arity {
            return Err(config(format!("{} messages for {} OTs of arity {arity}", messages.len(), self.spec.count)));
        }
        // t < count, so the slice is in range: the length is checked above.
        self.respond_with(p, |t, row| row.copy_from_slice(&messages[t * arity..(t + 1) * arity]))
    }

    /// [`OtSender::respond`] with the N messages of instance t written into `row` by
    /// `messages(t, row)`, so that the N·count messages are packed as they are masked and never
    /// held unpacked.
    pub fn respond_with(self, p: &mut Party, mut messages: impl FnMut(usize, &mut [u64])) -> Result<(), ProtocolError> {
        let OtSpec { msg_bits, .. } = self.spec;
        let arity = self.spec.arity();
        let mut row = vec![0u64; arity];
        if self.fits_a_word() {
            let mask = (1u64 << msg_bits) - 1;
            return self.respond_words(p, |t| {
                messages(t, &mut row);
                row.iter().rev().fold(0u64, |acc, &v| acc << msg_bits | (v & mask))
            });
        }
        let offsets = self.offsets(p)?;
        let mut masked = wire::Packer::new(self.spec.count * arity, msg_bits);
        for t in 0..self.spec.count {
            messages(t, &mut row);
            let e = offsets.get(t) as usize;
            for (i, m) in row.iter().enumerate() {
                masked.push(m ^ self.rot.get(t * arity + ((i + e) & (arity - 1))));
            }
        }
        p.send_bytes(masked.finish())?;
        Ok(())
    }

    /// Whether an instance's N messages fit one word: N·ℓ ≤ 64, with ℓ dividing 64.
    pub fn fits_a_word(&self) -> bool {
        self.spec.arity() * self.spec.msg_bits as usize <= 64 && self.rot.run(0, self.spec.arity()).is_some()
    }

    /// [`OtSender::respond`] for batches whose N messages fit one word ([`OtSender::fits_a_word`]):
    /// `messages(t)` gives instance t's N messages as one value, message i in bits [iℓ, (i + 1)ℓ),
    /// and is called for t = 0, 1, … in order. The rotation by the receiver's offset is then a
    /// rotation of that word.
    pub fn respond_words(self, p: &mut Party, mut messages: impl FnMut(usize) -> u64) -> Result<(), ProtocolError> {
        if !self.fits_a_word() {
            return Err(config(format!("the messages of {:?} do not fit a word", self.spec)));
        }
        let (arity, msg_bits) = (self.spec.arity(), self.spec.msg_bits);
        let width = arity as u32 * msg_bits;
        let mask = if width == 64 { u64::MAX } else { (1u64 << width) - 1 };
        let offsets = self.offsets(p)?;
        let mut masked = wire::Packer::new(self.spec.count, width);
        for t in 0..self.spec.count {
            // In range: offsets() checked there are N messages for each of the count instances.
            let r = self.rot.run(t * arity, arity).unwrap_or(0);
            let shift = offsets.get(t) as u32 * msg_bits;
            let rotated = if shift == 0 { r } else { (r >> shift) | (r << (width - shift)) };
            masked.push(messages(t) ^ (rotated & mask));
        }
        p.send_bytes(masked.finish())?;
        Ok(())
    }

    /// Receives the receiver's offsets, after checking the random OTs cover the batch.
    fn offsets(&self, p: &mut Party) -> Result<Packed, ProtocolError> {
        let OtSpec { count, choice_bits, .. } = self.spec;
        let arity = self.spec.arity();
        if self.rot.len() != count * arity {
            return Err(config(format!("{} random OT messages for {count} OTs of arity {arity}", self.rot.len())));
        }
        Ok(Packed::from_wire(Ring::new(choice_bits)?, count, &p.recv_bytes()?)?)
    }
}

impl OtReceiver {
    /// Receives the masked messages and returns the chosen message of each instance.
    pub fn finish(self, p: &mut Party) -> Result<Packed, ProtocolError> {
        let OtSpec { count, msg_bits, .. } = self.spec;
        let arity = self.spec.arity();
        let ring = Ring::new(msg_bits)?;
        let masked = Packed::from_wire(ring, count * arity, &p.recv_bytes()?)?;
        let (choices, pads) = (&self.choices, &self.rot_messages);
        Ok(Packed::from_fn(ring, count, |t| masked.get(t * arity + choices.get(t) as usize) ^ pads.get(t)))
    }
}

/// The spec of `count` 1-out-of-2 OTs of `msg_bits`-bit messages sent by `sender`.
pub fn one_of_two(sender: Role, count: usize, msg_bits: u32) -> OtSpec {
    OtSpec { sender, count, choice_bits: 1, msg_bits }
}

/// The formula of [`start`]: the random OTs, then the receiver's offsets (one message).
pub fn start_cost(f: &mut Formula, spec: OtSpec) {
    f.random_ots(spec);
    f.send_packed(spec.sender.peer(), spec.count, spec.choice_bits);
}

/// The formula of [`OtSender::respond`]: the sender receives the offsets and answers with N
/// masked messages per instance.
pub fn respond_cost(f: &mut Formula, spec: OtSpec) {
    f.recv(spec.sender);
    f.send_packed(spec.sender, spec.count * spec.arity(), spec.msg_bits);
}

/// The formula of [`OtReceiver::finish`]: the receiver receives the answers.
pub fn finish_cost(f: &mut Formula, spec: OtSpec) {
    f.recv(spec.sender.peer());
}

/// The formula of batches of OTs that all start before any is answered, answered in order
/// two flights however many batches.
pub fn batches_cost(f: &mut Formula, specs: &[OtSpec]) {
    for &spec in specs {
        start_cost(f, spec);
    }
    for &spec in specs {
        respond_cost(f, spec);
        finish_cost(f, spec);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dyad_sim::{SimConfig, simulate};
    use rand::{RngExt, SeedableRng};

    /// The receiver gets M_x, at widths whose N messages fit one word (masked as one value) and
    /// at widths that do not (3 bits, 33 bits), against messages and choices drawn here.
    #[test]
    fn chosen_ot_delivers_the_chosen_message_at_every_width() {
        for (choice_bits, msg_bits) in
            [(1, 1), (2, 2), (4, 2), (4, 4), (3, 8), (1, 32), (5, 2), (2, 3), (4, 33), (1, 64)]
        {
            let seed = u64::from(choice_bits * 100 + msg_bits);
            let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
            let spec = OtSpec { sender: Role::Server, count: 77, choice_bits, msg_bits };
            let mask = if msg_bits == 64 { u64::MAX } else { (1u64 << msg_bits) - 1 };
            let messages: Vec<u64> = (0..spec.count * spec.arity()).map(|_| rng.random::<u64>() & mask).collect();
            let choices: Vec<u64> = (0..spec.count).map(|_| rng.random::<u64>() % spec.arity() as u64).collect();
            let packed = Packed::from_values(Ring::new(choice_bits).unwrap_or(Ring::Z2), choices.iter().copied());
            let run = |p: &mut Party| -> Result<Vec<u64>, ProtocolError> {
                match start(p, spec, Some(packed.clone()))? {
                    Side::Sender(s) => s.respond(p, &messages).map(|()| Vec::new()),
                    Side::Receiver(r) => r.finish(p).map(|m| m.to_vec()),
                }
            };
            let out = simulate(&SimConfig::with_seed(seed), run, run).unwrap_or_else(|e| panic!("{e}"));
            let want: Vec<u64> =
                choices.iter().enumerate().map(|(t, &x)| messages[t * spec.arity() + x as usize]).collect();
            assert_eq!(out.client, want, "1-of-2^{choice_bits} OT of {msg_bits}-bit messages, seed {seed}");
        }
    }
}
