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

use dyad_sim::correlation::{OtMessages, OtSpec};
use dyad_sim::{Channel, ChannelError, Formula, Party, Role, wire};

use crate::error::ProtocolError;

fn config(reason: String) -> ProtocolError {
    ProtocolError::Config { protocol: "ot", reason }
}

/// The sender's side of a batch of OTs, between requesting the random OTs and answering.
#[derive(Debug)]
pub struct OtSender {
    spec: OtSpec,
    rot: OtMessages,
}

/// The receiver's side of a batch of OTs, after sending its offsets.
#[derive(Debug)]
pub struct OtReceiver {
    spec: OtSpec,
    choices: Vec<u64>,
    rot_messages: Vec<u64>,
}

/// Requests a batch of random OTs (both parties must call this, in the same order) and
/// returns this party's side: [`Side::Sender`] for the sender, [`Side::Receiver`] for the receiver, which has
/// already sent its offsets for `choices` (ignored on the sender's side).
pub fn start(p: &mut Party, spec: OtSpec, choices: Option<Vec<u64>>) -> Result<Side, ProtocolError> {
    let rot = p.random_ots(spec)?;
    if p.role() == spec.sender {
        return Ok(Side::Sender(OtSender { spec, rot: rot.into_sender()? }));
    }
    let choices = choices.ok_or_else(|| config("the OT receiver needs choices".into()))?;
    if choices.len() != spec.count {
        return Err(config(format!("{} choices for {} OTs", choices.len(), spec.count)));
    }
    let (rot_choices, rot_messages) = rot.into_receiver()?;
    let n_mask = spec.arity() as u64 - 1;
    let offsets: Vec<u64> = rot_choices.iter().zip(&choices).map(|(c, x)| c.wrapping_sub(*x) & n_mask).collect();
    p.send_packed(&offsets, spec.choice_bits)?;
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
        let OtSpec { count, choice_bits, msg_bits, .. } = self.spec;
        let arity = self.spec.arity();
        let offsets = p.recv_packed(count, choice_bits)?;
        let mut masked = wire::Packer::new(count * arity, msg_bits);
        let mut row = vec![0u64; arity];
        if self.rot.len() != count * arity {
            return Err(config(format!("{} random OT messages for {count} OTs of arity {arity}", self.rot.len())));
        }
        for (t, e) in offsets.iter().enumerate() {
            messages(t, &mut row);
            let e = *e as usize;
            for (i, m) in row.iter().enumerate() {
                masked.push(m ^ self.rot.get(t * arity + ((i + e) & (arity - 1))));
            }
        }
        p.send_bytes(masked.finish())?;
        Ok(())
    }
}

impl OtReceiver {
    /// Receives the masked messages and returns the chosen message of each instance.
    pub fn finish(self, p: &mut Party) -> Result<Vec<u64>, ProtocolError> {
        let OtSpec { count, msg_bits, .. } = self.spec;
        let arity = self.spec.arity();
        let masked = p.recv_bytes()?;
        let expected = wire::packed_len(count * arity, msg_bits);
        if masked.len() != expected {
            return Err(ChannelError::Malformed { expected, got: masked.len() }.into());
        }
        Ok(self
            .choices
            .iter()
            .zip(&self.rot_messages)
            .enumerate()
            .map(|(t, (&x, r))| wire::get(&masked, t * arity + x as usize, msg_bits) ^ r)
            .collect())
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
