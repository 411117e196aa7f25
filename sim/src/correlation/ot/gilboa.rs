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
//!
//! The same ℓ OTs serve a vector of sender values x_1..x_m against one receiver factor y (a
//! vector OLE): the pads are stretched to m values each and τ carries m values per position.
//! Matrix triples use it: an entry of B multiplies a whole column of A.

use super::fixed_key::{Prg, Tccr};
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

/// The pads of every correlated OT: `m` 64-bit values each, from H(first_tweak + c, row c) —
/// the hash itself when m = 1, else AES-CTR under it ([`Prg`]), as for a vector of products
/// that share the receiver's factor.
fn pads(hash: &Tccr, first_tweak: u128, rows: impl Iterator<Item = u128>, m: usize) -> Vec<u64> {
    let mut h: Vec<u128> = rows.collect();
    hash.hash_in_place(first_tweak, &mut h);
    if m == 1 {
        return h.into_iter().map(|v| v as u64).collect();
    }
    let mut out = Vec::with_capacity(h.len() * m);
    let mut blocks = vec![0u128; m.div_ceil(2)];
    for seed in h {
        Prg::new(seed).fill(&mut blocks);
        out.extend(blocks.iter().flat_map(|b| [*b as u64, (*b >> 64) as u64]).take(m));
    }
    out
}

/// The sender's side of `groups` vector products: group g multiplies the receiver's factor
/// y_g by the sender's `m` values `x[g·m..(g+1)·m]`, with the ℓ correlated OTs
/// `q[g·ℓ..(g+1)·ℓ]` under `delta`. Returns its message τ and its shares (group-major).
pub(crate) fn send(
    hash: &Tccr,
    ring: Ring,
    x: &[u64],
    m: usize,
    q: &[u128],
    delta: u128,
    first_tweak: u128,
) -> (Vec<u8>, Vec<u64>) {
    let l = ring.bits() as usize;
    let groups = q.len() / l;
    let x0 = pads(hash, first_tweak, q.iter().copied(), m);
    let x1 = pads(hash, first_tweak, q.iter().map(|v| v ^ delta), m);
    let mut shares = vec![0u64; groups * m];
    let mut message = Vec::with_capacity(message_bytes(ring, groups * m));
    for j in 0..l {
        let width = ring.bits() - j as u32;
        let mut tau = wire::Packer::new(groups * m, width);
        for g in 0..groups {
            let pad = (g * l + j) * m;
            for i in 0..m {
                let (p0, p1) = (x0[pad + i], x1[pad + i]);
                tau.push(p0.wrapping_sub(p1).wrapping_add(x[g * m + i]) & width_mask(width));
                let share = &mut shares[g * m + i];
                *share = share.wrapping_sub(p0 << j);
            }
        }
        message.extend_from_slice(&tau.finish());
    }
    (message, shares.into_iter().map(|s| ring.reduce(s)).collect())
}

/// The receiver's side with its choice bits `r` (ℓ per group: y_g = Σ_j r_j·2^j) and
/// correlated OTs `t`, given the sender's message: its shares of x·y_g, `m` per group.
pub(crate) fn receive(
    hash: &Tccr,
    ring: Ring,
    r: &[bool],
    m: usize,
    t: &[u128],
    first_tweak: u128,
    message: &[u8],
) -> Result<Vec<u64>, ChannelError> {
    let l = ring.bits() as usize;
    let groups = r.len() / l;
    let expected = message_bytes(ring, groups * m);
    if message.len() != expected {
        return Err(ChannelError::Malformed { expected, got: message.len() });
    }
    let y = pads(hash, first_tweak, t.iter().copied(), m);
    let mut shares = vec![0u64; groups * m];
    let mut offset = 0;
    for j in 0..l {
        let width = ring.bits() - j as u32;
        let part = &message[offset..offset + wire::packed_len(groups * m, width)];
        offset += part.len();
        for g in 0..groups {
            let chosen = r[g * l + j];
            for i in 0..m {
                let mut v = y[(g * l + j) * m + i];
                if chosen {
                    v = v.wrapping_add(wire::get(part, g * m + i, width));
                }
                let share = &mut shares[g * m + i];
                *share = share.wrapping_add(v << j);
            }
        }
    }
    Ok(shares.into_iter().map(|s| ring.reduce(s)).collect())
}
