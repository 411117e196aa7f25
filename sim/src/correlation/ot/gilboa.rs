//! Shares of a product x·y over Z_2^ℓ from ℓ correlated OTs: Gilboa, "Two Party RSA Key
//! Generation" (CRYPTO 1999), on IKNP's correlated OTs as in Demmler, Schneider and Zohner,
//! "ABY" (NDSS 2015).
//!
//! The receiver's factor y is given by its ℓ random choice bits r_j (y = Σ r_j·2^j); the
//! sender holds x. For bit j, the pads x_j⁰ = H(q_j) and x_j¹ = H(q_j ⊕ Δ), cut to ℓ − j bits,
//! are the two messages of a random OT. The sender sends τ_j = x_j⁰ − x_j¹ + x mod 2^(ℓ−j) and
//! keeps −x_j⁰; the receiver computes H(t_j) + r_j·τ_j = x_j⁰ + r_j·x. Scaled by 2^j and
//! summed, the two results add up to x·y mod 2^ℓ. Position j needs only ℓ − j bits, since
//! 2^j·(anything) forgets the top j: ℓ(ℓ+1)/2 bits per product instead of ℓ².

use super::fixed_key::Tccr;
use crate::error::ChannelError;
use crate::ring::Ring;
use crate::wire;

/// Bytes of the sender's message for `n` products over `ring`: τ at ℓ − j bits for each
/// position j, packed position by position.
pub(crate) fn message_bytes(ring: Ring, n: usize) -> usize {
    (0..ring.bits()).map(|j| wire::packed_len(n, ring.bits() - j)).sum()
}

fn width_mask(width: u32) -> u64 {
    if width == 64 { u64::MAX } else { (1 << width) - 1 }
}

/// The pads of every correlated OT: H(first_tweak + c, row c), cut to 64 bits.
fn pads(hash: &Tccr, first_tweak: u128, rows: impl Iterator<Item = u128>) -> Vec<u64> {
    let mut h: Vec<u128> = rows.collect();
    hash.hash_in_place(first_tweak, &mut h);
    h.into_iter().map(|v| v as u64).collect()
}

/// The sender's side of n products: product g multiplies the receiver's factor y_g by the
/// sender's `x[g]`, with the ℓ correlated OTs `q[g·ℓ..(g+1)·ℓ]` under `delta`. Returns its
/// message τ and its shares.
pub(crate) fn send(
    hash: &Tccr,
    ring: Ring,
    x: &[u64],
    q: &[u128],
    delta: u128,
    first_tweak: u128,
) -> (Vec<u8>, Vec<u64>) {
    let l = ring.bits() as usize;
    let n = q.len() / l;
    let x0 = pads(hash, first_tweak, q.iter().copied());
    let x1 = pads(hash, first_tweak, q.iter().map(|v| v ^ delta));
    let mut shares = vec![0u64; n];
    let mut message = Vec::with_capacity(message_bytes(ring, n));
    for j in 0..l {
        let width = ring.bits() - j as u32;
        let mut tau = wire::Packer::new(n, width);
        for (g, share) in shares.iter_mut().enumerate() {
            let (p0, p1) = (x0[g * l + j], x1[g * l + j]);
            tau.push(p0.wrapping_sub(p1).wrapping_add(x[g]) & width_mask(width));
            *share = share.wrapping_sub(p0 << j);
        }
        message.extend_from_slice(&tau.finish());
    }
    (message, shares.into_iter().map(|s| ring.reduce(s)).collect())
}

/// The receiver's side with its choice bits `r` (ℓ per group: y_g = Σ_j r_j·2^j) and
/// correlated OTs `t`, given the sender's message: its shares of x_g·y_g.
pub(crate) fn receive(
    hash: &Tccr,
    ring: Ring,
    r: &[bool],
    t: &[u128],
    first_tweak: u128,
    message: &[u8],
) -> Result<Vec<u64>, ChannelError> {
    let l = ring.bits() as usize;
    let n = r.len() / l;
    let expected = message_bytes(ring, n);
    if message.len() != expected {
        return Err(ChannelError::Malformed { expected, got: message.len() });
    }
    let y = pads(hash, first_tweak, t.iter().copied());
    let mut shares = vec![0u64; n];
    let mut offset = 0;
    for j in 0..l {
        let width = ring.bits() - j as u32;
        let part = &message[offset..offset + wire::packed_len(n, width)];
        offset += part.len();
        for (g, share) in shares.iter_mut().enumerate() {
            let mut v = y[g * l + j];
            if r[g * l + j] {
                v = v.wrapping_add(wire::get(part, g, width));
            }
            *share = share.wrapping_add(v << j);
        }
    }
    Ok(shares.into_iter().map(|s| ring.reduce(s)).collect())
}
