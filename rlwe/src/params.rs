//! RLWE parameters and the precomputed context: primes, NTT tables, Δ and the CRT constants
//! of every level.
//!
//! The sets follow the Nimbus code (secretflow/spu, branch `nimbus`): ℓ = 64 uses N = 8192 with
//! primes of 59, 55 and 49 bits (log Q ≈ 163); ℓ = 32 uses N = 4096 with 59 and 37 bits
//! (log Q ≈ 96). Flooded responses need a wider Q′: {59, 55, 50, 49} at ℓ = 64 (log Q ≈ 213)
//! and N = 8192 with {59, 55, 49} at ℓ = 32 ([`RlweParams::flooding`]). All are checked against
//! the HomomorphicEncryption.org standard's 128-bit
//! classical bound for ternary secrets (Albrecht et al., 2018, Table 1): 109 for N = 4096 and
//! 218 for N = 8192. The last prime is the one a modulus switch drops.

use dyad_sim::Ring;
use num_bigint::BigUint;
use thiserror::Error;

use super::modulus::{Modulus, ntt_prime};
use super::ntt::NttTable;

/// The largest log2 Q with 128-bit classical security for ternary secrets, per N
/// (HomomorphicEncryption.org security standard, 2018, Table 1).
pub fn he_standard_max_log_q(n: usize) -> Option<u32> {
    match n {
        1024 => Some(27),
        2048 => Some(54),
        4096 => Some(109),
        8192 => Some(218),
        16384 => Some(438),
        32768 => Some(881),
        _ => None,
    }
}

/// Why a parameter set is refused.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum ParamsError {
    /// N is not one of the standard's sizes.
    #[error("N = {n} is not a power of two between 1024 and 32768")]
    Degree {
        /// The degree.
        n: usize,
    },
    /// log Q exceeds the 128-bit bound.
    #[error("log2 Q = {log_q:.1} exceeds the HE standard's 128-bit bound {bound} for N = {n}")]
    Insecure {
        /// The degree.
        n: usize,
        /// log2 Q.
        log_q: f64,
        /// The bound.
        bound: u32,
    },
    /// No NTT-friendly prime of the requested size.
    #[error("no prime of {bits} bits is ≡ 1 mod {}", 2 * n)]
    NoPrime {
        /// Bits asked for.
        bits: u32,
        /// The degree.
        n: usize,
    },
    /// At least two primes are needed (one is dropped by the modulus switch).
    #[error("need at least two primes, got {0}")]
    TooFewPrimes(usize),
    /// A BFV plaintext modulus that is not a prime ≡ 1 (mod 2N) or leaves no room below Q.
    #[error("plaintext modulus t = {t} is not a prime ≡ 1 mod 2N = {} with t² < Q", 2 * n)]
    PlainModulus {
        /// t.
        t: u64,
        /// The degree.
        n: usize,
    },
    /// The plaintext ring is too wide for the modulus.
    #[error("Q must exceed 2^(2ℓ) = 2^{} for ℓ = {plain_bits}", 2 * plain_bits)]
    PlainTooWide {
        /// ℓ.
        plain_bits: u32,
    },
}

/// How a plaintext m ∈ Z_2^ℓ is scaled into Z_Q.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    /// round(Q·m/2^ℓ), as SPU's `ModulusSwitchHelper`: a product of plaintexts over the integers
    /// decodes to its value mod 2^ℓ whatever its size, so the offset before rounding is noise
    /// alone. Every protocol uses it.
    Round,
    /// Δ·m with Δ = ⌊Q/2^ℓ⌋, as the Cheetah and Nimbus code: a product P decodes to
    /// P − P·(Q mod 2^ℓ)/Q, an offset that grows with the plaintexts. Kept so that the leakage
    /// report can show that dependence next to [`Encoding::Round`]'s.
    Floor,
}

/// A parameter set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RlweParams {
    /// The ring degree N.
    pub n: usize,
    /// Bit sizes of the RNS primes, the last one dropped by the modulus switch.
    pub prime_bits: Vec<u32>,
    /// ℓ: plaintexts live in Z_2^ℓ.
    pub plain_bits: u32,
    /// The plaintext encoding.
    pub encoding: Encoding,
    /// Whether responses are flooded ([`crate::flood`]): Q′ is then wide enough for the flooding
    /// noise, and key switching keeps its own noise near the rounding's
    /// ([`crate::galois::decomposition`]).
    pub flooding: bool,
}

impl RlweParams {
    /// The Nimbus code's set for a ring: ℓ = 64 → N = 8192, {59, 55, 49}; otherwise N = 4096,
    /// {59, 37}.
    pub fn for_ring(ring: Ring) -> Self {
        let (n, prime_bits) = if ring.bits() > 32 { (8192, vec![59, 55, 49]) } else { (4096, vec![59, 37]) };
        RlweParams { n, prime_bits, plain_bits: ring.bits(), encoding: Encoding::Round, flooding: false }
    }

    /// The set for flooded responses: room below Q′ for 2^ℓ times the flooding noise
    /// ([`crate::flood`]). ℓ = 64 → N = 8192, {59, 55, 50, 49} (log Q ≈ 213 of the 218 allowed);
    /// otherwise N = 8192, {59, 55, 49}: at N = 4096 the standard's 109 bits leave no room.
    pub fn flooding(ring: Ring) -> Self {
        let prime_bits = if ring.bits() > 32 { vec![59, 55, 50, 49] } else { vec![59, 55, 49] };
        RlweParams { n: 8192, prime_bits, plain_bits: ring.bits(), encoding: Encoding::Round, flooding: true }
    }
}

/// Everything precomputed for one parameter set.
#[derive(Clone, Debug)]
pub struct RlweContext {
    params: RlweParams,
    moduli: Vec<Modulus>,
    ntt: Vec<NttTable>,
    /// Q of each level (level l uses the first l primes), index l − 1.
    q_level: Vec<BigUint>,
    /// Δ = ⌊Q_top / 2^ℓ⌋ reduced modulo each prime.
    delta: Vec<u64>,
    /// Q_top mod 2^ℓ.
    q_mod_plain: u64,
    /// Per level: (Q_l/q_i) mod Q_l and ((Q_l/q_i)^−1 mod q_i), for the CRT.
    crt: Vec<Vec<(BigUint, u64)>>,
}

impl RlweContext {
    /// Chooses the primes and precomputes; refuses sets outside the HE standard's bound.
    pub fn new(params: RlweParams) -> Result<Self, ParamsError> {
        let n = params.n;
        let bound = he_standard_max_log_q(n).ok_or(ParamsError::Degree { n })?;
        if params.prime_bits.len() < 2 {
            return Err(ParamsError::TooFewPrimes(params.prime_bits.len()));
        }
        let mut primes: Vec<u64> = Vec::new();
        for &bits in &params.prime_bits {
            primes.push(ntt_prime(bits, n, &primes).ok_or(ParamsError::NoPrime { bits, n })?);
        }
        let moduli: Vec<Modulus> = primes.iter().map(|&q| Modulus::new(q)).collect();
        let log_q: f64 = primes.iter().map(|&q| (q as f64).log2()).sum();
        if log_q > f64::from(bound) {
            return Err(ParamsError::Insecure { n, log_q, bound });
        }
        if log_q <= f64::from(2 * params.plain_bits) {
            return Err(ParamsError::PlainTooWide { plain_bits: params.plain_bits });
        }
        let ntt = moduli
            .iter()
            .map(|&m| NttTable::new(m, n).ok_or(ParamsError::NoPrime { bits: m.bits(), n }))
            .collect::<Result<_, _>>()?;
        let mut q_level = Vec::new();
        let mut acc = BigUint::from(1u32);
        for &q in &primes {
            acc *= q;
            q_level.push(acc.clone());
        }
        let delta_big = &acc >> params.plain_bits;
        let q_mod_plain = (&acc - (&delta_big << params.plain_bits)).to_u64_digits().first().copied().unwrap_or(0);
        let delta = primes.iter().map(|&q| (&delta_big % q).to_u64_digits().first().copied().unwrap_or(0)).collect();
        let crt = (1..=primes.len())
            .map(|l| {
                let ql = &q_level[l - 1];
                primes[..l]
                    .iter()
                    .zip(&moduli)
                    .map(|(&qi, m)| {
                        let hat = ql / qi;
                        let hat_mod = (&hat % qi).to_u64_digits().first().copied().unwrap_or(0);
                        (hat, m.inv(hat_mod))
                    })
                    .collect()
            })
            .collect();
        Ok(RlweContext { params, moduli, ntt, q_level, delta, q_mod_plain, crt })
    }

    /// The parameters.
    pub fn params(&self) -> &RlweParams {
        &self.params
    }

    /// N.
    pub fn n(&self) -> usize {
        self.params.n
    }

    /// The number of primes at the top level.
    pub fn top_level(&self) -> usize {
        self.moduli.len()
    }

    /// The primes.
    pub fn moduli(&self) -> &[Modulus] {
        &self.moduli
    }

    /// The NTT table of prime i.
    pub fn ntt(&self, i: usize) -> &NttTable {
        &self.ntt[i]
    }

    /// log2 Q at the top level.
    pub fn log_q(&self) -> f64 {
        self.moduli.iter().map(|m| (m.value() as f64).log2()).sum()
    }

    /// log2 Q at a level.
    pub fn log_q_at(&self, level: usize) -> f64 {
        self.moduli[..level].iter().map(|m| (m.value() as f64).log2()).sum()
    }

    /// Q at a level (the product of its first `level` primes).
    pub fn q(&self, level: usize) -> &BigUint {
        &self.q_level[level - 1]
    }

    /// Δ mod prime i.
    pub fn delta(&self, i: usize) -> u64 {
        self.delta[i]
    }

    /// CRT reconstruction of one coefficient from its residues at `level`: the integer in [0, Q).
    pub fn crt(&self, residues: &[u64]) -> BigUint {
        let level = residues.len();
        let mut v = BigUint::from(0u32);
        for ((r, m), (hat, inv)) in residues.iter().zip(&self.moduli).zip(&self.crt[level - 1]) {
            v += hat * m.mul(*r, *inv);
        }
        v % self.q(level)
    }

    /// Q_top mod 2^ℓ: what Δ·2^ℓ falls short of Q by.
    pub fn q_mod_plain(&self) -> u64 {
        self.q_mod_plain
    }

    /// Bytes of one polynomial at `level` on the wire: every residue at its prime's bit width.
    pub fn poly_bytes(&self, level: usize) -> usize {
        self.moduli[..level].iter().map(|m| dyad_sim::wire::packed_len(self.n(), m.bits())).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_parameter_set_meets_the_128_bit_bound() {
        for params in
            [Ring::Z64, Ring::Z32].into_iter().flat_map(|r| [RlweParams::for_ring(r), RlweParams::flooding(r)])
        {
            let bits = params.plain_bits;
            let ctx = RlweContext::new(params).unwrap();
            let bound = he_standard_max_log_q(ctx.n()).unwrap();
            assert!(ctx.log_q() <= f64::from(bound), "ℓ = {bits}: log Q = {} > {bound}", ctx.log_q());
            assert!(ctx.log_q() > f64::from(2 * bits), "room for the plaintext and its products");
        }
        let ctx = RlweContext::new(RlweParams::for_ring(Ring::Z64)).unwrap();
        assert!((ctx.log_q() - 163.0).abs() < 1.0);
    }

    #[test]
    fn insecure_or_malformed_sets_are_refused() {
        let too_big = RlweParams { n: 4096, prime_bits: vec![59, 59], ..RlweParams::for_ring(Ring::Z32) };
        assert!(matches!(RlweContext::new(too_big), Err(ParamsError::Insecure { .. })));
        let odd = RlweParams { n: 3000, prime_bits: vec![40, 40], ..RlweParams::for_ring(Ring::Z32) };
        assert!(matches!(RlweContext::new(odd), Err(ParamsError::Degree { .. })));
        let one = RlweParams { n: 4096, prime_bits: vec![59], plain_bits: 16, ..RlweParams::for_ring(Ring::Z32) };
        assert!(matches!(RlweContext::new(one), Err(ParamsError::TooFewPrimes(1))));
    }
}
