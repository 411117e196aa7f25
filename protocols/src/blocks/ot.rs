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
        if self.rot.len() != count * arity {
            return Err(config(format!("{} random OT messages for {count} OTs of arity {arity}", self.rot.len())));
        }
        let mut row = vec![0u64; arity];
        // An instance's N messages that fit in one word of the random OT messages are masked
        // as one value: the rotation by e messages is a rotation of that word.
        let width = arity * msg_bits as usize;
        if width <= 64 && self.rot.run(0, arity).is_some() {
            let width = width as u32;
            let mask = if width == 64 { u64::MAX } else { (1u64 << width) - 1 };
            let msg_mask = (1u64 << msg_bits) - 1;
            let mut masked = wire::Packer::new(count, width);
            for (t, e) in offsets.iter().enumerate() {
                messages(t, &mut row);
                let m = row.iter().rev().fold(0u64, |acc, &v| acc << msg_bits | (v & msg_mask));
                let r = self.rot.run(t * arity, arity).ok_or_else(|| config(format!("no random OT {t}")))?;
                let shift = *e as u32 * msg_bits;
                let rotated = if shift == 0 { r } else { (r >> shift) | (r << (width - shift)) };
                masked.push(m ^ (rotated & mask));
            }
            p.send_bytes(masked.finish())?;
            return Ok(());
        }
        let mut masked = wire::Packer::new(count * arity, msg_bits);
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
            let run = |p: &mut Party| -> Result<Vec<u64>, ProtocolError> {
                match start(p, spec, Some(choices.clone()))? {
                    Side::Sender(s) => s.respond(p, &messages).map(|()| Vec::new()),
                    Side::Receiver(r) => r.finish(p),
                }
            };
            let out = simulate(&SimConfig::with_seed(seed), run, run).unwrap_or_else(|e| panic!("{e}"));
            let want: Vec<u64> =
                choices.iter().enumerate().map(|(t, &x)| messages[t * spec.arity() + x as usize]).collect();
            assert_eq!(out.client, want, "1-of-2^{choice_bits} OT of {msg_bits}-bit messages, seed {seed}");
        }
    }
}
