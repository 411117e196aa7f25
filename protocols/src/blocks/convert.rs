//! Products of values held by different parties, by 1-out-of-2 OT, and the Boolean-to-arithmetic
//! conversion built on them (CrypTFlow2, Rathee et al., CCS 2020; Cheetah's B2A).
//!
//! For a value v known to the server and a bit b known to the client, one correlated OT
//! ([`crate::blocks::cot`]) with correlation v and choice b leaves them shares of b·v: per
//! element 1 bit client→server, ℓ bits server→client, two rounds.
//!
//! B2A of a Boolean share b = b0 ⊕ b1: b = b0 + b1 − 2·b0·b1, the product from one such OT.

use dyad_sim::{Formula, Party, Ring, RingTensor, Role, Share};

use crate::blocks::cot::{self, CotSide};
use crate::error::ProtocolError;

/// Shares of v_i·b_i over `ring`, where the server passes its values `v` and the client its bits
/// `b` (each party passes its own; the other slice is ignored).
pub fn cross_products(p: &mut Party, mine: &[u64], ring: Ring) -> Result<Share, ProtocolError> {
    let n = mine.len();
    let choices = (p.role() == Role::Client).then(|| mine.iter().map(|b| b & 1).collect());
    let out = match cot::start(p, Role::Server, n, ring.bits(), choices)? {
        CotSide::Sender(s) => s.respond(p, mine)?,
        CotSide::Receiver(r) => r.finish(p)?,
    };
    Ok(Share::new(RingTensor::from_vec(ring, &[n], out)?))
}

/// Converts a Boolean share (shape `[n]`) to an arithmetic share of the same bits over `ring`.
pub fn b2a(p: &mut Party, b: &Share, ring: Ring) -> Result<Share, ProtocolError> {
    p.scope("b2a", |p| {
        let bits = b.tensor().to_vec();
        let prod = cross_products(p, &bits, ring)?;
        let mine = RingTensor::from_vec(ring, &[bits.len()], bits)?;
        Ok(Share::new(mine).sub(&prod.scale(2))?)
    })
}

/// The formula of [`cross_products`] and of [`b2a`] for `n` elements over `ring`.
pub fn b2a_cost(f: &mut Formula, ring: Ring, n: usize) {
    cot::batches_cost(f, &[(Role::Server, n, ring.bits())]);
}
