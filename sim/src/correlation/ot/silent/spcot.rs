//! Single-point correlated OT, many at once: Ferret's SPCOT (Yang, Weng, Lan, Zhang and Wang,
//! CCS 2020, §3.1 and Figure 6), semi-honest, without its consistency check.
//!
//! Each of `trees` instances gives the sender v ∈ F_{2^128}^{2^h} and the receiver a random
//! point α and w = v ⊕ Δ·e_α. The sender expands a random GGM tree ([`super::ggm`]) to v; the
//! receiver learns, per level, the sum of the nodes off its path through one correlated OT: with
//! the COT's q (the sender's, Δ its correlation) and the receiver's choice c and t = q ⊕ c·Δ,
//! the sender sends K₀ ⊕ H(q) and K₁ ⊕ H(q ⊕ Δ), and the receiver opens K_c — the level's
//! path then takes side 1 − c, so α's bits are the complements of the COTs' choices and the
//! receiver sends nothing. Last, the sender sends φ = Δ ⊕ ⊕_j v_j, from which the receiver
//! completes w_α = φ ⊕ ⊕_{j≠α} w_j = v_α ⊕ Δ. One message, h·32 + 16 bytes per tree.

use rand::RngExt as _;
use rand_chacha::ChaCha20Rng;

use super::super::fixed_key::Tccr;
use super::ggm::{self, Doubler};
use crate::channel::Channel;
use crate::error::{ChannelError, SimError};

/// Bytes the sender sends for `trees` trees of depth `h`.
pub(crate) fn message_bytes(trees: usize, h: usize) -> usize {
    trees * (2 * h + 1) * 16
}

/// The sender's side of `q.len() / h` trees of depth `h`: their leaves, tree after tree, into
/// `v`. `q` holds the sender's h COTs of each tree, hashed under tweaks from `tweak` on.
#[allow(clippy::too_many_arguments)] // the COTs, their hash and where the leaves go
pub(crate) fn send<C: Channel>(
    ch: &mut C,
    rng: &mut ChaCha20Rng,
    hash: &Tccr,
    delta: u128,
    q: &[u128],
    tweak: u128,
    h: usize,
    v: &mut [u128],
) -> Result<(), SimError> {
    let g = Doubler::new();
    let trees = q.len() / h;
    debug_assert_eq!(v.len(), trees << h);
    let mut zero = q.to_vec();
    hash.hash_in_place(tweak, &mut zero);
    let mut one: Vec<u128> = q.iter().map(|q| q ^ delta).collect();
    hash.hash_in_place(tweak, &mut one);
    let mut message = Vec::with_capacity(message_bytes(trees, h));
    let mut sums = vec![[0u128; 2]; h];
    for (tree, leaves) in v.chunks_exact_mut(1 << h).enumerate() {
        ggm::expand(&g, rng.random(), leaves, &mut sums);
        for (level, [k0, k1]) in sums.iter().enumerate() {
            let i = tree * h + level;
            message.extend_from_slice(&(k0 ^ zero[i]).to_le_bytes());
            message.extend_from_slice(&(k1 ^ one[i]).to_le_bytes());
        }
        let phi = leaves.iter().fold(delta, |acc, v| acc ^ v);
        message.extend_from_slice(&phi.to_le_bytes());
    }
    ch.send_bytes(message)?;
    Ok(())
}

/// The receiver's side: with its COTs' choices `c` and blocks `t` (h per tree), the punctured
/// points α (one per tree, within its tree) and w, tree after tree, into `w`.
pub(crate) fn receive<C: Channel>(
    ch: &mut C,
    hash: &Tccr,
    c: &[bool],
    t: &[u128],
    tweak: u128,
    h: usize,
    w: &mut [u128],
) -> Result<Vec<usize>, SimError> {
    let g = Doubler::new();
    let trees = t.len() / h;
    debug_assert_eq!(w.len(), trees << h);
    let message = ch.recv_bytes()?;
    let expected = message_bytes(trees, h);
    if message.len() != expected {
        return Err(ChannelError::Malformed { expected, got: message.len() }.into());
    }
    let block = |i: usize| {
        let mut b = [0u8; 16];
        b.copy_from_slice(&message[16 * i..16 * (i + 1)]);
        u128::from_le_bytes(b)
    };
    let mut pads = t.to_vec();
    hash.hash_in_place(tweak, &mut pads);
    let mut alphas = Vec::with_capacity(trees);
    let mut siblings = vec![0u128; h];
    for (tree, leaves) in w.chunks_exact_mut(1 << h).enumerate() {
        let base = tree * (2 * h + 1);
        let mut alpha = 0;
        for (level, sibling) in siblings.iter_mut().enumerate() {
            let choice = c[tree * h + level];
            *sibling = block(base + 2 * level + usize::from(choice)) ^ pads[tree * h + level];
            alpha = alpha << 1 | usize::from(!choice);
        }
        ggm::punctured(&g, alpha, &siblings, leaves);
        leaves[alpha] = leaves.iter().fold(block(base + 2 * h), |acc, v| acc ^ v);
        alphas.push(alpha);
    }
    Ok(alphas)
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;
    use crate::{SimConfig, simulate};

    /// Ideal COTs for the test: the sender's q and Δ, the receiver's choices and t = q ⊕ c·Δ.
    fn cots(n: usize, seed: u64) -> (u128, Vec<u128>, Vec<bool>, Vec<u128>) {
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        let delta: u128 = rng.random();
        let q: Vec<u128> = (0..n).map(|_| rng.random()).collect();
        let c: Vec<bool> = (0..n).map(|_| rng.random()).collect();
        let t = q.iter().zip(&c).map(|(q, c)| if *c { q ^ delta } else { *q }).collect();
        (delta, q, c, t)
    }

    #[test]
    fn each_tree_gives_w_equal_to_v_but_at_alpha_where_they_differ_by_delta() {
        for (trees, h, seed) in [(1, 1, 1), (3, 4, 2), (17, 9, 3)] {
            eprintln!("spcot: {trees} trees of depth {h}, seed {seed}");
            let (delta, q, c, t) = cots(trees * h, seed);
            let out = simulate(
                &SimConfig::with_seed(seed),
                |p| -> Result<_, SimError> {
                    let mut rng = ChaCha20Rng::seed_from_u64(seed ^ 0xff);
                    let mut v = vec![0u128; trees << h];
                    send(p, &mut rng, &Tccr::new(), delta, &q, 5, h, &mut v)?;
                    Ok(v)
                },
                |p| -> Result<_, SimError> {
                    let mut w = vec![0u128; trees << h];
                    let alphas = receive(p, &Tccr::new(), &c, &t, 5, h, &mut w)?;
                    Ok((alphas, w))
                },
            )
            .expect("the run");
            let (v, (alphas, w)) = (out.server, out.client);
            assert_eq!(
                out.cost.phase_counts(crate::Phase::Online).bytes_server_to_client,
                message_bytes(trees, h) as u64
            );
            for (tree, alpha) in alphas.iter().enumerate() {
                let expected: usize = (0..h).fold(0, |a, l| a << 1 | usize::from(!c[tree * h + l]));
                assert_eq!(*alpha, expected, "tree {tree}: α is the complement of the choices");
                for j in 0..1 << h {
                    let i = (tree << h) + j;
                    assert_eq!(v[i] ^ w[i], if j == *alpha { delta } else { 0 }, "tree {tree}, leaf {j}");
                }
            }
        }
    }
}
