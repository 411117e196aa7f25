//! Products of values held by different parties, by 1-out-of-2 OT, and the Boolean-to-arithmetic
//! conversion built on them (CrypTFlow2, Rathee et al., CCS 2020; Cheetah's B2A).
//!
//! For a value v known to the server and a bit b known to the client, the server offers
//! (−r, v − r) and the client chooses b: the client gets b·v − r, the server keeps r. One
//! 1-out-of-2 OT with ℓ-bit messages per element: 1 bit client→server, 2ℓ bits server→client,
//! two rounds.
//!
//! B2A of a Boolean share b = b0 ⊕ b1: b = b0 + b1 − 2·b0·b1, the product from one such OT.

use dyad_sim::{Formula, Party, Ring, RingTensor, Role, Share};

use crate::blocks::ot::{batches_cost, one_of_two, transfer};
use crate::error::ProtocolError;

/// Shares of v_i·b_i over `ring`, where the server passes its values `v` and the client its bits
/// `b` (each party passes its own; the other slice is ignored).
pub fn cross_products(p: &mut Party, mine: &[u64], ring: Ring) -> Result<Share, ProtocolError> {
    let n = mine.len();
    let spec = one_of_two(Role::Server, n, ring.bits());
    let out = match p.role() {
        Role::Server => {
            let r: Vec<u64> = (0..n).map(|_| ring.random(p.rng())).collect();
            let messages: Vec<u64> = mine.iter().zip(&r).flat_map(|(&v, &r)| [ring.neg(r), ring.sub(v, r)]).collect();
            transfer(p, spec, Some(&messages), None)?;
            r
        }
        Role::Client => {
            transfer(p, spec, None, Some(mine.iter().map(|b| b & 1).collect()))?.ok_or(ProtocolError::Config {
                protocol: "cross_products",
                reason: "the OT receiver got no messages".into(),
            })?
        }
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
    batches_cost(f, &[one_of_two(Role::Server, n, ring.bits())]);
}
