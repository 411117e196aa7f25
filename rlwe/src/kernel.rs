//! The client-side accumulation kernel of Nimbus's outer product: for every output column t,
//! acc_t = Σ_j x[j][t] · w_j, where w_j are polynomials (the halves of the weight ciphertexts)
//! and x[j][t] scalars already reduced modulo each prime.
//!
//! It is the client's whole online cost, so it is tiled: for one prime and one block of B
//! coefficients, the accumulators of all k columns (k·B 128-bit words, in L2) stay in cache
//! while the weights stream past once, so each coefficient loaded from memory serves all k
//! columns. Products of two residues are summed in 128 bits without reduction and reduced by
//! Barrett once per 2^(128 − 2·bits) terms (1024 for 59-bit primes). The (prime, block) tiles are
//! split between two threads.

use super::modulus::Modulus;
use super::params::RlweContext;
use super::poly::RnsPoly;
use rayon::prelude::*;

/// Coefficients per tile.
const BLOCK: usize = 64;

/// Scalars for the kernel: `residues[l][j·k + t]` is x[j][t] mod prime l.
#[derive(Clone, Debug)]
pub struct Scalars {
    k: usize,
    residues: Vec<Vec<u64>>,
}

impl Scalars {
    /// Builds the table from a function giving the residues of x[j][t] for every prime.
    pub fn new(limbs: usize, n: usize, k: usize, lift: impl Fn(usize, usize) -> Vec<u64>) -> Self {
        let mut residues = vec![vec![0u64; n * k]; limbs];
        for j in 0..n {
            for t in 0..k {
                for (l, r) in lift(j, t).into_iter().enumerate().take(limbs) {
                    residues[l][j * k + t] = r;
                }
            }
        }
        Scalars { k, residues }
    }
}

/// How many 128-bit products of residues of `m` can be summed before a reduction.
fn headroom(m: &Modulus) -> usize {
    let spare = 128u32.saturating_sub(2 * m.bits());
    if spare >= 20 { 1 << 20 } else { (1usize << spare).max(1) }
}

fn tile(
    m: &Modulus,
    weights: &[&RnsPoly],
    limb: usize,
    start: usize,
    len: usize,
    scalars: &[u64],
    k: usize,
) -> Vec<u64> {
    let mut acc = vec![0u128; k * len];
    let room = headroom(m);
    for (j, w) in weights.iter().enumerate() {
        let wl = &w.limb(limb)[start..start + len];
        let xs = &scalars[j * k..(j + 1) * k];
        for (row, &x) in acc.chunks_exact_mut(len).zip(xs) {
            let x = x as u128;
            for (a, &c) in row.iter_mut().zip(wl) {
                *a += c as u128 * x;
            }
        }
        if (j + 1) % room == 0 {
            for a in acc.iter_mut() {
                *a = m.reduce_u128(*a) as u128;
            }
        }
    }
    acc.iter().map(|&a| m.reduce_u128(a)).collect()
}

/// acc_t = Σ_j scalars[j][t] · weights[j] for t < k, at the weights' level (coefficient or NTT
/// representation, preserved).
pub fn accumulate(ctx: &RlweContext, weights: &[&RnsPoly], scalars: &Scalars) -> Vec<RnsPoly> {
    let n = ctx.n();
    let k = scalars.k;
    let limbs = weights.first().map_or(0, |w| w.limbs());
    let tasks: Vec<(usize, usize)> = (0..limbs).flat_map(|l| (0..n).step_by(BLOCK).map(move |s| (l, s))).collect();
    let results: Vec<(usize, usize, Vec<u64>)> = tasks
        .par_iter()
        .map(|&(l, s)| (l, s, tile(&ctx.moduli()[l], weights, l, s, BLOCK.min(n - s), &scalars.residues[l], k)))
        .collect();
    let mut out = vec![RnsPoly::zero(n, limbs); k];
    for (l, s, values) in results {
        let len = values.len() / k.max(1);
        for (t, chunk) in values.chunks_exact(len.max(1)).enumerate() {
            out[t].limb_mut(l)[s..s + len].copy_from_slice(chunk);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::params::RlweParams;
    use dyad_sim::Ring;
    use rand::SeedableRng;

    #[test]
    fn the_kernel_matches_one_scalar_product_at_a_time() {
        let ctx = RlweContext::new(RlweParams::for_ring(Ring::Z32)).unwrap();
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(3);
        let (n, k) = (5, 3);
        let w: Vec<RnsPoly> = (0..n).map(|_| RnsPoly::uniform(&ctx, 2, &mut rng)).collect();
        let refs: Vec<&RnsPoly> = w.iter().collect();
        let xs: Vec<Vec<u64>> = (0..n * k).map(|_| RnsPoly::uniform(&ctx, 2, &mut rng).data()[..1].to_vec()).collect();
        let scalars = Scalars::new(2, n, k, |j, t| {
            let x = xs[j * k + t][0];
            ctx.moduli().iter().map(|m| m.reduce(x)).collect()
        });
        let got = accumulate(&ctx, &refs, &scalars);
        for t in 0..k {
            let mut want = RnsPoly::zero(ctx.n(), 2);
            for j in 0..n {
                let mut term = w[j].clone();
                let x = xs[j * k + t][0];
                term.scale_assign(&ctx, &ctx.moduli().iter().map(|m| m.reduce(x)).collect::<Vec<_>>());
                want.add_assign(&ctx, &term);
            }
            assert_eq!(got[t], want, "column {t}");
        }
    }
}
