//! Galois automorphisms, key switching with the last prime as the special prime, and the
//! packing of strided results that BumbleBee/SPU use to compress the server's responses
//! (PackLWEs, Chen, Dai, Kim & Song, ACNS 2021, generalised to results spread at a stride).
//!
//! **Key switching.** At level L′ (the primes q_0 … q_{L′−1}), a Galois key for τ_k holds, for
//! every RNS digit i and every w-bit sub-digit u of it, (b, a) = (−a·s + e + g_{i,u}·τ_k(s), a)
//! modulo Q′·P with g_{i,u} = P·2^(w·u)·(Q′/q_i)·[(Q′/q_i)^−1]_{q_i}, P the top level's last prime
//! and a given by a seed. Switching c1 (under τ_k(s)) multiplies its sub-digits by the keys and
//! divides by P with rounding; the added noise is about 2^w·√N·σ/P. w is the whole digit when P
//! is large enough (ℓ = 64: 59- and 55-bit digits over a 49-bit P), and smaller otherwise (ℓ = 32:
//! a 59-bit digit over a 37-bit P is split into sub-digits of at most 42 bits). When the context
//! floods, w is also capped at log P − 9 (see [`decomposition`]).
//!
//! **Packing.** Ciphertexts c_0 … c_{d−1} (d a power of two) whose useful coefficients sit at
//! multiples of d become one, Σ_j X^j·T_d(c_j), where T_d keeps the multiples of d (the trace to
//! Z[X^d], times d). Recursively, P(c) = (E + X^s·O) + τ_{N/s+1}(E − X^s·O) with E and O the
//! packings of the even and odd inputs one level down and s the level's shift (1, 2, 4, …):
//! d − 1 key switches in all, and keys for τ_{N+1}, τ_{N/2+1}, …, τ_{2N/d+1}. The inputs are
//! first multiplied by d^−1 mod Q′, so the d-fold sum leaves the plaintext unscaled.

use rand::Rng;

use super::RlweError;
use super::cipher::{Ciphertext, Mask, poly_from_bytes, poly_to_bytes};
use super::keys::{SecretKey, error_poly, expand_seed};
use super::params::RlweContext;
use super::poly::RnsPoly;

/// τ_k: X ↦ X^k (k odd) on a polynomial in coefficient form.
pub fn automorphism(ctx: &RlweContext, p: &RnsPoly, k: usize) -> RnsPoly {
    let n = ctx.n();
    let mut out = RnsPoly::zero(n, p.limbs());
    for l in 0..p.limbs() {
        let m = ctx.moduli()[l];
        let (src, dst) = (p.limb(l).to_vec(), out.limb_mut(l));
        for (i, &c) in src.iter().enumerate() {
            let j = (i * k) % (2 * n);
            if j < n {
                dst[j] = c;
            } else {
                dst[j - n] = m.neg(c);
            }
        }
    }
    out
}

/// The key of one automorphism: per (digit, sub-digit), b and a in NTT form at level L′ + 1, and
/// the seed a is expanded from (only the seed travels).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GaloisKey {
    /// The Galois element k.
    pub element: usize,
    digits: Vec<(RnsPoly, RnsPoly, [u8; 32])>,
}

/// a of a key digit, expanded from its seed, in NTT form.
fn expand_ntt(ctx: &RlweContext, limbs: usize, seed: &[u8; 32]) -> RnsPoly {
    let mut a = expand_seed(ctx, limbs, seed);
    a.to_ntt(ctx);
    a
}

/// The sub-digits (prime index, shift) a level's c1 is decomposed into, and their width: the
/// widest w with 2^w·2^11/P at most 2^−21 of Q′/2^ℓ. When the context floods, also
/// w ≤ log P − 9, so that the digits' noise, at most parts·N·2^w·η/P with 2·η·parts < 2^9 for up
/// to 12 parts, stays below the rounding's N/2 and the flood it needs stays small.
pub fn decomposition(ctx: &RlweContext, level: usize) -> (u32, Vec<(usize, u32)>) {
    let special = ctx.moduli()[level].bits();
    let headroom = ctx.log_q_at(level) - f64::from(ctx.params().plain_bits);
    let mut w = (f64::from(special) + headroom - 21.0).floor().clamp(8.0, 64.0) as u32;
    if ctx.params().flooding {
        w = w.min(special - 9);
    }
    let mut parts = Vec::new();
    for (i, m) in ctx.moduli()[..level].iter().enumerate() {
        let mut shift = 0;
        while shift < m.bits() {
            parts.push((i, shift));
            shift += w;
        }
    }
    (w, parts)
}

/// Galois keys for key switching at `level` (its special prime is the next one up).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GaloisKeys {
    /// The level of the ciphertexts switched.
    pub level: usize,
    /// One key per Galois element.
    pub keys: Vec<GaloisKey>,
}

/// The Galois elements the packing of `d` results needs: N/s + 1 for s = 1, 2, …, d/2.
pub fn packing_elements(n: usize, d: usize) -> Vec<usize> {
    (0..d.trailing_zeros()).map(|k| n / (1 << k) + 1).collect()
}

impl GaloisKeys {
    /// Keys of `sk` for `elements`, switching ciphertexts at `level` (< the top level).
    pub fn generate<R: Rng + ?Sized>(
        ctx: &RlweContext,
        sk: &SecretKey,
        level: usize,
        elements: &[usize],
        rng: &mut R,
    ) -> Self {
        let wide = level + 1;
        let mut s = sk.s_ntt.truncated(wide);
        s.from_ntt(ctx);
        let special = ctx.moduli()[level].value();
        let (_, parts) = decomposition(ctx, level);
        let keys = elements
            .iter()
            .map(|&k| {
                let sk_k = automorphism(ctx, &s, k);
                let digits = parts
                    .iter()
                    .map(|&(i, shift)| {
                        let mut seed = [0u8; 32];
                        rng.fill_bytes(&mut seed);
                        let a = expand_ntt(ctx, wide, &seed);
                        let mut s_ntt = s.clone();
                        s_ntt.to_ntt(ctx);
                        let mut b = a.clone();
                        b.mul_assign(ctx, &s_ntt);
                        b.from_ntt(ctx);
                        b.negate(ctx);
                        b.add_assign(ctx, &error_poly(ctx, wide, rng));
                        // The gadget P·2^shift·(Q′/q_i)·[(Q′/q_i)^−1]_{q_i} is P·2^shift mod q_i on digit
                        // i's prime and 0 on the others.
                        let mi = ctx.moduli()[i];
                        let p_mod = mi.mul(mi.reduce(special), mi.pow(2, u64::from(shift)));
                        let bi = b.limb_mut(i);
                        for (x, &y) in bi.iter_mut().zip(sk_k.limb(i)) {
                            *x = mi.add(*x, mi.mul(p_mod, y));
                        }
                        b.to_ntt(ctx);
                        (b, a, seed)
                    })
                    .collect();
                GaloisKey { element: k, digits }
            })
            .collect();
        GaloisKeys { level, keys }
    }

    /// Bytes on the wire: per key and sub-digit, b at level + 1 and a 32-byte seed.
    pub fn wire_bytes(ctx: &RlweContext, level: usize, count: usize) -> usize {
        count * decomposition(ctx, level).1.len() * (ctx.poly_bytes(level + 1) + 32)
    }

    /// The wire encoding (b in coefficient form); exactly [`GaloisKeys::wire_bytes`] long.
    pub fn to_bytes(&self, ctx: &RlweContext) -> Vec<u8> {
        let mut out = Vec::new();
        for key in &self.keys {
            for (b, _, seed) in &key.digits {
                let mut coeff = b.clone();
                coeff.from_ntt(ctx);
                out.extend(poly_to_bytes(ctx, &coeff));
                out.extend_from_slice(seed);
            }
        }
        out
    }

    /// Decodes keys for `elements` at `level`.
    pub fn from_bytes(ctx: &RlweContext, level: usize, elements: &[usize], bytes: &[u8]) -> Result<Self, RlweError> {
        let expected = Self::wire_bytes(ctx, level, elements.len());
        if bytes.len() != expected {
            return Err(RlweError::Size { what: "Galois keys", expected, got: bytes.len() });
        }
        let step = ctx.poly_bytes(level + 1);
        let mut chunks = bytes.chunks_exact(step + 32);
        let mut keys = Vec::with_capacity(elements.len());
        let parts = decomposition(ctx, level).1.len();
        for &k in elements {
            let mut digits = Vec::with_capacity(parts);
            for _ in 0..parts {
                let chunk = chunks.next().ok_or(RlweError::Size { what: "Galois key", expected, got: bytes.len() })?;
                let mut b = poly_from_bytes(ctx, level + 1, &chunk[..step])?;
                b.to_ntt(ctx);
                let mut seed = [0u8; 32];
                seed.copy_from_slice(&chunk[step..]);
                digits.push((b, expand_ntt(ctx, level + 1, &seed), seed));
            }
            keys.push(GaloisKey { element: k, digits });
        }
        Ok(GaloisKeys { level, keys })
    }

    fn key(&self, element: usize) -> Option<&GaloisKey> {
        self.keys.iter().find(|k| k.element == element)
    }
}

/// Applies τ_k to a ciphertext at the keys' level and switches it back to the secret key.
pub fn apply(ctx: &RlweContext, ct: &Ciphertext, keys: &GaloisKeys, k: usize) -> Result<Ciphertext, RlweError> {
    let key = keys.key(k).ok_or(RlweError::Size { what: "Galois key for this element", expected: 1, got: 0 })?;
    let level = keys.level;
    if ct.level() != level {
        return Err(RlweError::Size { what: "ciphertext level for the Galois keys", expected: level, got: ct.level() });
    }
    let c0 = automorphism(ctx, &ct.c0, k);
    let c1 = automorphism(ctx, &ct.c1_poly(ctx), k);
    let wide = level + 1;
    let mut acc0 = RnsPoly::zero(ctx.n(), wide);
    let mut acc1 = RnsPoly::zero(ctx.n(), wide);
    acc0.to_ntt(ctx);
    acc1.to_ntt(ctx);
    let (w, parts) = decomposition(ctx, level);
    let mask = if w >= 64 { u64::MAX } else { (1u64 << w) - 1 };
    for ((i, shift), (b, a, _)) in parts.into_iter().zip(&key.digits) {
        let digit = c1.limb(i);
        let mut d = RnsPoly::zero(ctx.n(), wide);
        for j in 0..wide {
            let mj = ctx.moduli()[j];
            for (x, &v) in d.limb_mut(j).iter_mut().zip(digit) {
                *x = mj.reduce((v >> shift) & mask);
            }
        }
        d.to_ntt(ctx);
        acc0.mul_add_assign(ctx, &d, b);
        acc1.mul_add_assign(ctx, &d, a);
    }
    acc0.from_ntt(ctx);
    acc1.from_ntt(ctx);
    acc0.drop_last_limb(ctx);
    acc1.drop_last_limb(ctx);
    acc0.add_assign(ctx, &c0);
    Ok(Ciphertext { c0: acc0, c1: Mask::Poly(acc1) })
}

fn negated(ctx: &RlweContext, ct: &Ciphertext) -> Ciphertext {
    let mut c0 = ct.c0.clone();
    c0.negate(ctx);
    let mut c1 = ct.c1_poly(ctx);
    c1.negate(ctx);
    Ciphertext { c0, c1: Mask::Poly(c1) }
}

fn pack_level(
    ctx: &RlweContext,
    cts: &[Option<Ciphertext>],
    keys: &GaloisKeys,
    shift: usize,
) -> Result<Option<Ciphertext>, RlweError> {
    if cts.len() <= 1 {
        return Ok(cts.first().cloned().flatten());
    }
    let even: Vec<Option<Ciphertext>> = cts.iter().step_by(2).cloned().collect();
    let odd: Vec<Option<Ciphertext>> = cts.iter().skip(1).step_by(2).cloned().collect();
    let e = pack_level(ctx, &even, keys, shift * 2)?;
    let o = pack_level(ctx, &odd, keys, shift * 2)?.map(|o| o.shifted(ctx, shift));
    let (sum, diff) = match (e, o) {
        (None, None) => return Ok(None),
        (Some(e), None) => (e.clone(), e),
        (None, Some(o)) => (o.clone(), negated(ctx, &o)),
        (Some(e), Some(o)) => {
            let mut sum = e.clone();
            sum.add_assign(ctx, &o);
            let mut diff = e;
            diff.add_assign(ctx, &negated(ctx, &o));
            (sum, diff)
        }
    };
    let mut out = sum;
    out.add_assign(ctx, &apply(ctx, &diff, keys, ctx.n() / shift + 1)?);
    Ok(Some(out))
}

/// Σ_j X^j·T_d(c_j) for `cts.len()` = d a power of two (`None` stands for an encryption of 0),
/// all at the keys' level, with useful coefficients at multiples of d.
pub fn pack_strided(
    ctx: &RlweContext,
    cts: &[Option<Ciphertext>],
    keys: &GaloisKeys,
) -> Result<Option<Ciphertext>, RlweError> {
    let d = cts.len() as u64;
    let scaled: Vec<Option<Ciphertext>> = cts
        .iter()
        .map(|c| {
            c.as_ref().map(|c| {
                let inv: Vec<u64> = ctx.moduli()[..c.level()].iter().map(|m| m.inv(m.reduce(d))).collect();
                let mut c0 = c.c0.clone();
                c0.scale_assign(ctx, &inv);
                let mut c1 = c.c1_poly(ctx);
                c1.scale_assign(ctx, &inv);
                Ciphertext { c0, c1: Mask::Poly(c1) }
            })
        })
        .collect();
    pack_level(ctx, &scaled, keys, 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cipher::{decrypt, encrypt_sk};
    use crate::params::RlweParams;
    use dyad_sim::Ring;
    use rand::SeedableRng;

    #[test]
    fn automorphisms_key_switch_and_strided_packing_decrypt_correctly() {
        for ring in [Ring::Z32, Ring::Z64] {
            let ctx = RlweContext::new(RlweParams::for_ring(ring)).unwrap();
            let n = ctx.n();
            let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(5);
            let sk = SecretKey::generate(&ctx, &mut rng);
            let low = ctx.top_level() - 1;
            let d = 8;
            let keys = GaloisKeys::generate(&ctx, &sk, low, &packing_elements(n, d), &mut rng);
            // τ_{N+1} on a plaintext: coefficient i picks up (−1)^i.
            let m: Vec<u64> = (0..n as u64).map(|i| ring.reduce(i * 977 + 5)).collect();
            let mut ct = encrypt_sk(&ctx, &sk, &m, &mut rng);
            ct.mod_switch(&ctx);
            let t = decrypt(&ctx, &sk, &apply(&ctx, &ct, &keys, n + 1).unwrap());
            for i in [0, 1, 2, 777, n - 1] {
                let want = if i % 2 == 0 { m[i] } else { ring.neg(m[i]) };
                assert_eq!(t[i], want, "{ring}: τ_(N+1) at {i}");
            }
            // Pack 8 ciphertexts with garbage everywhere; ct j's value at 8t lands at 8t + j. One
            // slot is empty (None) and must come out 0.
            let mut cts = Vec::new();
            let mut plains = Vec::new();
            for j in 0..d {
                let p: Vec<u64> = (0..n as u64).map(|i| ring.reduce(i * 31 + j as u64 * 1000 + 7)).collect();
                let mut c = encrypt_sk(&ctx, &sk, &p, &mut rng);
                c.mod_switch(&ctx);
                cts.push(if j == 5 { None } else { Some(c) });
                plains.push(p);
            }
            let packed = decrypt(&ctx, &sk, &pack_strided(&ctx, &cts, &keys).unwrap().unwrap());
            for t in [0, 1, 100, n / d - 1] {
                for j in 0..d {
                    let want = if j == 5 { 0 } else { plains[j][t * d] };
                    assert!(
                        ring.distance(packed[t * d + j], want) <= 1,
                        "{ring}: slot {t}, ct {j}: {} vs {want}",
                        packed[t * d + j]
                    );
                }
            }
            assert_eq!(keys.to_bytes(&ctx).len(), GaloisKeys::wire_bytes(&ctx, low, packing_elements(n, d).len()));
            assert_eq!(GaloisKeys::from_bytes(&ctx, low, &packing_elements(n, d), &keys.to_bytes(&ctx)).unwrap(), keys);
        }
    }
}
