//! Ciphertexts: a plaintext m ∈ Z_2^ℓ[X]/(X^N + 1) is encrypted as (c0, c1) with
//! c0 + c1·s = round(Q·m/2^ℓ) + e (mod Q), coefficients of m lifted to their centred
//! representatives ([`Encoding`]; the Cheetah and Nimbus code scale by Δ = ⌊Q/2^ℓ⌋ instead).
//! Decryption at any level Q_l computes round(2^ℓ·v/Q_l) mod 2^ℓ: the modulus switch keeps
//! v/Q_l, so the top-level encoding decodes correctly at every level.

use num_bigint::BigUint;
use rand::Rng;

use super::RlweError;
use super::keys::{PublicKey, SecretKey, error_poly, expand_seed, ternary_poly};
use super::modulus::Modulus;
use super::params::{Encoding, RlweContext};
use super::poly::RnsPoly;
use dyad_sim::wire;

/// The c1 half: a 32-byte seed until it is expanded or changed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Mask {
    /// c1 = the uniform polynomial of this seed, at the ciphertext's level.
    Seed([u8; 32]),
    /// c1 explicitly, in coefficient form.
    Poly(RnsPoly),
}

/// An RLWE ciphertext.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ciphertext {
    /// c0, in coefficient form.
    pub c0: RnsPoly,
    /// c1.
    pub c1: Mask,
}

/// The centred lift of x ∈ Z_2^ℓ: the integer in (−2^(ℓ−1), 2^(ℓ−1)] congruent to it.
pub fn centred(x: u64, plain_bits: u32) -> i128 {
    let x = x as i128 & ((1i128 << plain_bits) - 1);
    if x > 1i128 << (plain_bits - 1) { x - (1i128 << plain_bits) } else { x }
}

/// Residues of the centred lift of x modulo each prime of the first `limbs`.
pub fn lift(ctx: &RlweContext, x: u64, limbs: usize) -> Vec<u64> {
    residues(ctx, centred(x, ctx.params().plain_bits), limbs)
}

/// The residues of a signed integer modulo each prime of the first `limbs`.
pub fn residues(ctx: &RlweContext, c: i128, limbs: usize) -> Vec<u64> {
    ctx.moduli()[..limbs].iter().map(|m| residue(m, c)).collect()
}

/// The residue of a signed integer modulo one prime.
pub fn residue(m: &Modulus, c: i128) -> u64 {
    let r = m.reduce_u128(c.unsigned_abs());
    if c < 0 { m.neg(r) } else { r }
}

/// The plaintext coefficients m (at most N of them) scaled into Z_Q at the top level, by the
/// context's [`Encoding`]. round(Q·m/2^ℓ) = Δ·m + round(r·m/2^ℓ) with r = Q mod 2^ℓ; the second
/// term fits an i128 since |r·m| < 2^ℓ·2^(ℓ−1).
pub fn encode(ctx: &RlweContext, m: &[u64]) -> RnsPoly {
    let (n, limbs) = (ctx.n(), ctx.top_level());
    let bits = ctx.params().plain_bits;
    let r = i128::from(ctx.q_mod_plain());
    let mut p = RnsPoly::zero(n, limbs);
    for (j, &x) in m.iter().enumerate().take(n) {
        let c = centred(x, bits);
        let correction = match ctx.params().encoding {
            Encoding::Floor => 0,
            Encoding::Round => {
                let t = r * c;
                (t >> bits) + ((t >> (bits - 1)) & 1)
            }
        };
        for (i, md) in ctx.moduli().iter().enumerate() {
            p.limb_mut(i)[j] = md.add(md.mul(residue(md, c), ctx.delta(i)), residue(md, correction));
        }
    }
    p
}

impl Ciphertext {
    /// The level (number of primes).
    pub fn level(&self) -> usize {
        self.c0.limbs()
    }

    /// c1 as a polynomial.
    pub fn c1_poly(&self, ctx: &RlweContext) -> RnsPoly {
        match &self.c1 {
            Mask::Seed(seed) => expand_seed(ctx, self.level(), seed),
            Mask::Poly(p) => p.clone(),
        }
    }

    /// Replaces a seeded c1 by the polynomial it stands for.
    pub fn expand(&mut self, ctx: &RlweContext) {
        if let Mask::Seed(seed) = &self.c1 {
            self.c1 = Mask::Poly(expand_seed(ctx, self.level(), seed));
        }
    }

    /// self += other (both at the same level).
    pub fn add_assign(&mut self, ctx: &RlweContext, other: &Ciphertext) {
        self.c0.add_assign(ctx, &other.c0);
        let mut c1 = self.c1_poly(ctx);
        c1.add_assign(ctx, &other.c1_poly(ctx));
        self.c1 = Mask::Poly(c1);
    }

    /// X^k · self for 0 ≤ k < 2N: multiplies the plaintext by X^k (a negacyclic shift).
    pub fn shifted(&self, ctx: &RlweContext, k: usize) -> Ciphertext {
        Ciphertext { c0: self.c0.shifted(ctx, k), c1: Mask::Poly(self.c1_poly(ctx).shifted(ctx, k)) }
    }

    /// The modulus switch: drops the last prime, dividing and rounding.
    pub fn mod_switch(&mut self, ctx: &RlweContext) {
        let mut c1 = self.c1_poly(ctx);
        c1.drop_last_limb(ctx);
        self.c0.drop_last_limb(ctx);
        self.c1 = Mask::Poly(c1);
    }

    /// Bytes on the wire at `level`: c0 at its primes' widths, then a 32-byte seed or c1.
    pub fn wire_bytes(ctx: &RlweContext, level: usize, seeded: bool) -> usize {
        ctx.poly_bytes(level) + if seeded { 32 } else { ctx.poly_bytes(level) }
    }

    /// The wire encoding; exactly [`Ciphertext::wire_bytes`] long.
    pub fn to_bytes(&self, ctx: &RlweContext) -> Vec<u8> {
        let mut out = poly_to_bytes(ctx, &self.c0);
        match &self.c1 {
            Mask::Seed(seed) => out.extend_from_slice(seed),
            Mask::Poly(p) => out.extend(poly_to_bytes(ctx, p)),
        }
        out
    }

    /// Decodes a ciphertext of a known level and form; wrong sizes and out-of-range residues are
    /// errors.
    pub fn from_bytes(ctx: &RlweContext, level: usize, seeded: bool, bytes: &[u8]) -> Result<Self, RlweError> {
        let expected = Self::wire_bytes(ctx, level, seeded);
        if bytes.len() != expected {
            return Err(RlweError::Size { what: "ciphertext", expected, got: bytes.len() });
        }
        let p = ctx.poly_bytes(level);
        let c0 = poly_from_bytes(ctx, level, &bytes[..p])?;
        let c1 = if seeded {
            let mut seed = [0u8; 32];
            seed.copy_from_slice(&bytes[p..]);
            Mask::Seed(seed)
        } else {
            Mask::Poly(poly_from_bytes(ctx, level, &bytes[p..])?)
        };
        Ok(Ciphertext { c0, c1 })
    }
}

/// A polynomial's residues packed at each prime's bit width.
pub fn poly_to_bytes(ctx: &RlweContext, p: &RnsPoly) -> Vec<u8> {
    let mut out = Vec::with_capacity(ctx.poly_bytes(p.limbs()));
    for i in 0..p.limbs() {
        out.extend(wire::pack(p.limb(i), ctx.moduli()[i].bits()));
    }
    out
}

/// The inverse of [`poly_to_bytes`].
pub fn poly_from_bytes(ctx: &RlweContext, level: usize, bytes: &[u8]) -> Result<RnsPoly, RlweError> {
    let expected = ctx.poly_bytes(level);
    if bytes.len() != expected {
        return Err(RlweError::Size { what: "polynomial", expected, got: bytes.len() });
    }
    let n = ctx.n();
    let mut data = Vec::with_capacity(n * level);
    let mut at = 0;
    for (i, m) in ctx.moduli()[..level].iter().enumerate() {
        let len = wire::packed_len(n, m.bits());
        let limb = wire::unpack(&bytes[at..at + len], n, m.bits()).map_err(|_| RlweError::Size {
            what: "limb",
            expected: len,
            got: 0,
        })?;
        if let Some(&bad) = limb.iter().find(|&&r| r >= m.value()) {
            return Err(RlweError::Residue { limb: i, value: bad });
        }
        data.extend(limb);
        at += len;
    }
    Ok(RnsPoly::from_data(n, data))
}

/// Secret-key encryption of `m` at the top level; c1 is the expansion of a fresh seed, so only
/// the seed travels.
pub fn encrypt_sk<R: Rng + ?Sized>(ctx: &RlweContext, sk: &SecretKey, m: &[u64], rng: &mut R) -> Ciphertext {
    encrypt_sk_encoded(ctx, sk, encode(ctx, m), rng)
}

/// Secret-key encryption of a plaintext already scaled into Z_Q at the top level (coefficient
/// form), as [`encrypt_sk`] does after [`encode`]: c0 = encoded − a·s + e, c1 seeded.
pub fn encrypt_sk_encoded<R: Rng + ?Sized>(
    ctx: &RlweContext,
    sk: &SecretKey,
    encoded: RnsPoly,
    rng: &mut R,
) -> Ciphertext {
    let mut seed = [0u8; 32];
    rng.fill_bytes(&mut seed);
    let level = ctx.top_level();
    let mut a = expand_seed(ctx, level, &seed);
    a.to_ntt(ctx);
    a.mul_assign(ctx, &sk.s_ntt);
    a.from_ntt(ctx);
    let mut c0 = encoded;
    c0.sub_assign(ctx, &a);
    c0.add_assign(ctx, &error_poly(ctx, level, rng));
    Ciphertext { c0, c1: Mask::Seed(seed) }
}

/// A fresh public-key encryption of zero at the key's level: (b·u + e0, a·u + e1), u ternary.
pub fn encrypt_zero_pk<R: Rng + ?Sized>(ctx: &RlweContext, pk: &PublicKey, rng: &mut R) -> Ciphertext {
    let level = pk.level();
    let mut u = ternary_poly(ctx, level, rng);
    u.to_ntt(ctx);
    let mut b = pk.b.clone();
    b.to_ntt(ctx);
    b.mul_assign(ctx, &u);
    b.from_ntt(ctx);
    b.add_assign(ctx, &error_poly(ctx, level, rng));
    let mut a = expand_seed(ctx, level, &pk.seed);
    a.to_ntt(ctx);
    a.mul_assign(ctx, &u);
    a.from_ntt(ctx);
    a.add_assign(ctx, &error_poly(ctx, level, rng));
    Ciphertext { c0: b, c1: Mask::Poly(a) }
}

/// c0 + c1·s at the ciphertext's level, coefficient form.
pub fn phase(ctx: &RlweContext, sk: &SecretKey, ct: &Ciphertext) -> RnsPoly {
    let level = ct.level();
    let mut c1 = ct.c1_poly(ctx);
    c1.to_ntt(ctx);
    c1.mul_assign(ctx, &sk.s_ntt.truncated(level));
    c1.from_ntt(ctx);
    c1.add_assign(ctx, &ct.c0);
    c1
}

/// round(2^ℓ·v/Q_l) mod 2^ℓ for every coefficient of v (coefficient form, level l).
pub fn decode_scaled(ctx: &RlweContext, v: &RnsPoly) -> Vec<u64> {
    let level = v.limbs();
    let q = ctx.q(level);
    let half = q >> 1u32;
    let bits = ctx.params().plain_bits;
    let mask = BigUint::from(u64::MAX) >> (64 - bits);
    let mut residues = vec![0u64; level];
    (0..ctx.n())
        .map(|j| {
            for (i, r) in residues.iter_mut().enumerate() {
                *r = v.limb(i)[j];
            }
            let x = ctx.crt(&residues);
            let scaled = ((x << bits) + &half) / q;
            (scaled & &mask).to_u64_digits().first().copied().unwrap_or(0)
        })
        .collect()
}

/// The exact offset δ = 2^ℓ·v/Q_l − m of every coefficient of `ct` from the plaintext `want`
/// (centred modulo 2^ℓ), v its phase: what the decryptor's rounding and the two output shares'
/// err ∈ {−1, 0, 1} depend on (Pr[err ≠ 0] = |δ| under a uniform mask, for |δ| < 1/2).
pub fn offsets(ctx: &RlweContext, sk: &SecretKey, ct: &Ciphertext, want: &[u64]) -> Vec<f64> {
    let v = phase(ctx, sk, ct);
    let level = v.limbs();
    let q = ctx.q(level);
    let bits = ctx.params().plain_bits;
    let modulus = q << bits;
    let mut residues = vec![0u64; level];
    (0..ctx.n())
        .map(|j| {
            for (i, r) in residues.iter_mut().enumerate() {
                *r = v.limb(i)[j];
            }
            // (2^ℓ·v − m·Q_l) mod 2^ℓ·Q_l, centred, over Q_l.
            let m = want.get(j).copied().unwrap_or(0) & (u64::MAX >> (64 - bits));
            let t = ((ctx.crt(&residues) << bits) + &modulus - q * m) % &modulus;
            let (negative, t) = if t > (&modulus >> 1u32) { (true, &modulus - t) } else { (false, t) };
            let d = ratio(&t, q);
            if negative { -d } else { d }
        })
        .collect()
}

/// t/q as an f64 to full precision, however small: the quotient is taken with about 64
/// significant bits before scaling back.
fn ratio(t: &BigUint, q: &BigUint) -> f64 {
    let shift = (q.bits() + 64).saturating_sub(t.bits());
    let quotient = (t << shift) / q;
    let value = quotient.to_u64_digits().iter().rev().fold(0.0, |acc, &d| acc * 2f64.powi(64) + d as f64);
    value * 2f64.powi(-i32::try_from(shift).unwrap_or(i32::MAX))
}

/// self·x for a plaintext scalar x ∈ Z_2^ℓ lifted to its centred representative.
pub fn scalar_mul(ctx: &RlweContext, ct: &Ciphertext, x: u64) -> Ciphertext {
    let r = lift(ctx, x, ct.level());
    let mut c0 = ct.c0.clone();
    c0.scale_assign(ctx, &r);
    let mut c1 = ct.c1_poly(ctx);
    c1.scale_assign(ctx, &r);
    Ciphertext { c0, c1: Mask::Poly(c1) }
}

/// Decrypts to the plaintext coefficients in Z_2^ℓ.
pub fn decrypt(ctx: &RlweContext, sk: &SecretKey, ct: &Ciphertext) -> Vec<u64> {
    decode_scaled(ctx, &phase(ctx, sk, ct))
}
