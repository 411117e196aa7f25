//! BFV with a prime plaintext modulus t ≡ 1 (mod 2N), whose plaintexts are N slots of Z_t
//! (Brakerski, CRYPTO 2012; Fan and Vercauteren, eprint 2012/144; slots as in Smart and
//! Vercauteren, eprint 2011/133): a product of a ciphertext by a plaintext multiplies slot by
//! slot. It is the HE under element-wise Beaver triples, as SPU's Cheetah back end makes them
//! (`libspu/mpc/cheetah/arith/cheetah_mul.cc`), with a plaintext wider than one prime split over
//! several t by the CRT ([`Crt`]).
//!
//! The ciphertext side is an [`RlweContext`]'s: its primes, keys, seeded encryption, modulus
//! switch and wire format. Only the plaintext differs: slot values become coefficients by the
//! inverse negacyclic NTT modulo t, and are scaled by round(Q·m/t) ([`PlainModulus::scaled`]),
//! the encoding under which a product by a plaintext of any size decodes to its value modulo t
//! with noise (e + ε)·p alone, as [`crate::params::Encoding::Round`] does for 2^ℓ.

use num_bigint::BigUint;
use rand::Rng;

use super::cipher::{Ciphertext, encrypt_sk_encoded, phase, residue};
use super::keys::SecretKey;
use super::modulus::{Modulus, is_prime};
use super::ntt::NttTable;
use super::params::{ParamsError, RlweContext};
use super::poly::RnsPoly;

/// A prime plaintext modulus over an RLWE context: its slot transform and, per level, the
/// scaling constants ⌊Q_l/t⌋ (mod each prime) and Q_l mod t.
#[derive(Clone, Debug)]
pub struct PlainModulus {
    t: Modulus,
    slots: NttTable,
    scale: Vec<(Vec<u64>, u64)>,
}

impl PlainModulus {
    /// The plaintext modulus t for `ctx`: a prime ≡ 1 (mod 2N) with t² < Q, so that a product
    /// of a fresh ciphertext by a plaintext has room (the noise budget of a given use is its
    /// caller's to check).
    pub fn new(ctx: &RlweContext, t: u64) -> Result<Self, ParamsError> {
        let n = ctx.n();
        let refused = ParamsError::PlainModulus { t, n };
        if !(3..1 << 62).contains(&t) || !is_prime(t) {
            return Err(refused);
        }
        let m = Modulus::new(t);
        let slots = NttTable::new(m, n).ok_or(refused.clone())?;
        let scale = (1..=ctx.top_level())
            .map(|l| {
                let q = ctx.q(l);
                let delta = q / t;
                let r = word(&(q % t));
                (ctx.moduli()[..l].iter().map(|qi| word(&(&delta % qi.value()))).collect(), r)
            })
            .collect();
        if ctx.log_q() <= 2.0 * (t as f64).log2() {
            return Err(refused);
        }
        Ok(PlainModulus { t: m, slots, scale })
    }

    /// t.
    pub fn value(&self) -> u64 {
        self.t.value()
    }

    /// t as a modulus.
    pub fn modulus(&self) -> &Modulus {
        &self.t
    }

    /// Slot values (reduced modulo t) to the plaintext polynomial's coefficients, in place.
    pub fn to_coefficients(&self, values: &mut [u64]) {
        self.slots.inverse(values);
    }

    /// Coefficients (reduced modulo t) to slot values, in place.
    pub fn to_slots(&self, coeffs: &mut [u64]) {
        self.slots.forward(coeffs);
    }

    /// The centred lift c ∈ (−t/2, t/2] of a residue.
    fn centred(&self, x: u64) -> i128 {
        let t = self.t.value();
        if x > t / 2 { i128::from(x) - i128::from(t) } else { i128::from(x) }
    }

    /// round(Q_l·m/t) at `level`, coefficient form, for coefficients m reduced modulo t and
    /// lifted to their centred representatives: ⌊Q_l/t⌋·m + round((Q_l mod t)·m/t), where the
    /// second product is below 2^(2·62) and fits an i128.
    pub fn scaled(&self, ctx: &RlweContext, coeffs: &[u64], level: usize) -> RnsPoly {
        let (delta, r) = &self.scale[level - 1];
        let t = i128::from(self.t.value());
        let mut p = RnsPoly::zero(ctx.n(), level);
        for (j, &x) in coeffs.iter().enumerate().take(ctx.n()) {
            let c = self.centred(x);
            let correction = (2 * i128::from(*r) * c + t).div_euclid(2 * t);
            for (i, m) in ctx.moduli()[..level].iter().enumerate() {
                p.limb_mut(i)[j] = m.add(m.mul(residue(m, c), delta[i]), residue(m, correction));
            }
        }
        p
    }

    /// The centred lift of coefficients reduced modulo t, at `level`, coefficient form: the
    /// plaintext operand of a product.
    pub fn lifted(&self, ctx: &RlweContext, coeffs: &[u64], level: usize) -> RnsPoly {
        let mut p = RnsPoly::zero(ctx.n(), level);
        for (i, m) in ctx.moduli()[..level].iter().enumerate() {
            for (d, &x) in p.limb_mut(i).iter_mut().zip(coeffs) {
                *d = residue(m, self.centred(x));
            }
        }
        p
    }

    /// A seeded secret-key encryption of slot values (reduced modulo t) at the top level.
    pub fn encrypt_sk<R: Rng + ?Sized>(
        &self,
        ctx: &RlweContext,
        sk: &SecretKey,
        values: &[u64],
        rng: &mut R,
    ) -> Ciphertext {
        let mut coeffs = vec![0u64; ctx.n()];
        coeffs[..values.len()].copy_from_slice(values);
        self.to_coefficients(&mut coeffs);
        encrypt_sk_encoded(ctx, sk, self.scaled(ctx, &coeffs, ctx.top_level()), rng)
    }

    /// The slot values of a ciphertext at any level: round(t·v/Q_l) mod t of its phase v, then
    /// the forward transform.
    pub fn decrypt(&self, ctx: &RlweContext, sk: &SecretKey, ct: &Ciphertext) -> Vec<u64> {
        let v = phase(ctx, sk, ct);
        let level = v.limbs();
        let mut residues = vec![0u64; level];
        let scaling = Scaling::new(ctx, level);
        let mut coeffs: Vec<u64> = (0..ctx.n())
            .map(|j| {
                for (i, r) in residues.iter_mut().enumerate() {
                    *r = v.limb(i)[j];
                }
                match &scaling {
                    Some(s) => s.round(ctx, &self.t, &residues),
                    None => {
                        let (q, t) = (ctx.q(level), self.t.value());
                        word(&((((ctx.crt(&residues) * t) << 1u32) + q) / (q << 1u32) % t))
                    }
                }
            })
            .collect();
        self.to_slots(&mut coeffs);
        coeffs
    }
}

/// round(t·x/Q) mod t from the residues x_i of x ∈ [0, Q) in word arithmetic, for
/// (2·level + 1)·Q < 2^127.
/// With x ≡ Σ_i x′_i·(Q/q_i) (mod Q), x′_i = x_i·(Q/q_i)^−1 mod q_i, t·x/Q is congruent to
/// Σ_i x′_i·t/q_i modulo t; each x′_i·t = a_i·q_i + r_i in u128, so the rounded value is
/// Σ a_i + round(Σ r_i·(Q/q_i) / Q), whose numerator stays below level·Q.
struct Scaling {
    q: u128,
    /// Per prime: Q/q_i and (Q/q_i)^−1 mod q_i.
    hats: Vec<(u128, u64)>,
}

impl Scaling {
    fn new(ctx: &RlweContext, level: usize) -> Option<Self> {
        if ctx.log_q_at(level) + ((2 * level + 1) as f64).log2() >= 127.0 {
            return None;
        }
        let q = ctx.moduli()[..level].iter().map(|m| u128::from(m.value())).product::<u128>();
        let hats = ctx.moduli()[..level]
            .iter()
            .map(|m| {
                let hat = q / u128::from(m.value());
                (hat, m.inv(m.reduce_u128(hat)))
            })
            .collect();
        Some(Scaling { q, hats })
    }

    fn round(&self, ctx: &RlweContext, t: &Modulus, residues: &[u64]) -> u64 {
        let (mut whole, mut numerator) = (0u64, 0u128);
        for ((m, &x), &(hat, inv)) in ctx.moduli().iter().zip(residues).zip(&self.hats) {
            let product = u128::from(m.mul(x, inv)) * u128::from(t.value());
            let q = u128::from(m.value());
            whole = t.add(whole, t.reduce_u128(product / q));
            numerator += (product % q) * hat;
        }
        t.add(whole, t.reduce_u128((2 * numerator + self.q) / (2 * self.q)))
    }
}

/// The low word of a non-negative integer.
fn word(x: &BigUint) -> u64 {
    x.to_u64_digits().first().copied().unwrap_or(0)
}

/// Reconstruction from residues modulo pairwise coprime t_0, …, t_(k−1) by Garner's
/// mixed-radix algorithm: the integer v ∈ [0, T), T = ∏ t_i, is x_0 + x_1·t_0 + x_2·t_0·t_1 + …
/// with digits x_i < t_i found modulo the small primes, so that v modulo 2^64 follows in
/// wrapping word arithmetic without a wide integer.
#[derive(Clone, Debug)]
pub struct Crt {
    primes: Vec<Modulus>,
    /// inverses[i][j] = t_j^−1 mod t_i for j < i.
    inverses: Vec<Vec<u64>>,
    /// ∏_(j<i) t_j modulo 2^64.
    radices: Vec<u64>,
}

impl Crt {
    /// The reconstruction for distinct primes.
    pub fn new(primes: &[u64]) -> Self {
        let primes: Vec<Modulus> = primes.iter().map(|&t| Modulus::new(t)).collect();
        let inverses = primes
            .iter()
            .enumerate()
            .map(|(i, ti)| primes[..i].iter().map(|tj| ti.inv(ti.reduce(tj.value()))).collect())
            .collect();
        let radices = primes
            .iter()
            .scan(1u64, |acc, t| {
                let r = *acc;
                *acc = acc.wrapping_mul(t.value());
                Some(r)
            })
            .collect();
        Crt { primes, inverses, radices }
    }

    /// The primes.
    pub fn primes(&self) -> &[Modulus] {
        &self.primes
    }

    /// log2 T.
    pub fn log_product(&self) -> f64 {
        self.primes.iter().map(|t| (t.value() as f64).log2()).sum()
    }

    /// v mod 2^64 for the v ∈ [0, T) with v ≡ residues[i] (mod t_i).
    pub fn low_word(&self, residues: &[u64]) -> u64 {
        let mut digits = Vec::with_capacity(self.primes.len());
        let mut v = 0u64;
        for (i, (ti, &ri)) in self.primes.iter().zip(residues).enumerate() {
            let mut y = ri;
            for (&xj, &inv) in digits.iter().zip(&self.inverses[i]) {
                y = ti.mul(ti.sub(y, ti.reduce(xj)), inv);
            }
            v = v.wrapping_add(y.wrapping_mul(self.radices[i]));
            digits.push(y);
        }
        v
    }
}

#[cfg(test)]
mod tests {
    use super::super::modulus::ntt_prime;
    use super::super::params::{Encoding, RlweParams};
    use super::*;
    use dyad_sim::testkit::config;
    use proptest::prelude::*;
    use rand::{RngExt, SeedableRng};
    use rand_chacha::ChaCha20Rng;

    fn context() -> (RlweContext, PlainModulus) {
        let params = RlweParams {
            n: 4096,
            prime_bits: vec![50, 30, 25],
            plain_bits: 20,
            encoding: Encoding::Round,
            flooding: false,
        };
        let ctx = RlweContext::new(params).unwrap();
        let t = ntt_prime(20, 4096, &[]).unwrap();
        let plain = PlainModulus::new(&ctx, t).unwrap();
        (ctx, plain)
    }

    proptest! {
        #![proptest_config(config(0x4246_5631, 8))]

        /// Enc(x)·y + Enc(u)·v, switched down a level, decrypts slot by slot to x·y + u·v mod t:
        /// checked against the products in u128.
        #[test]
        fn slot_products_decrypt_to_the_products_modulo_t(seed in any::<u64>()) {
            let (ctx, plain) = context();
            let (n, t) = (ctx.n(), plain.value());
            let mut rng = ChaCha20Rng::seed_from_u64(seed);
            let sk = SecretKey::generate(&ctx, &mut rng);
            let draw = |rng: &mut ChaCha20Rng| -> Vec<u64> { (0..n).map(|_| rng.random_range(0..t)).collect() };
            let (x, y, u, v) = (draw(&mut rng), draw(&mut rng), draw(&mut rng), draw(&mut rng));
            let top = ctx.top_level();
            let operand = |values: &[u64]| {
                let mut c = values.to_vec();
                plain.to_coefficients(&mut c);
                let mut p = plain.lifted(&ctx, &c, top);
                p.to_ntt(&ctx);
                p
            };
            let ntt = |ct: &Ciphertext| {
                let (mut c0, mut c1) = (ct.c0.clone(), ct.c1_poly(&ctx));
                c0.to_ntt(&ctx);
                c1.to_ntt(&ctx);
                (c0, c1)
            };
            let (ex, eu) = (ntt(&plain.encrypt_sk(&ctx, &sk, &x, &mut rng)), ntt(&plain.encrypt_sk(&ctx, &sk, &u, &mut rng)));
            let (py, pv) = (operand(&y), operand(&v));
            let mut c0 = RnsPoly::dot(&ctx, &[(&ex.0, &py), (&eu.0, &pv)]);
            let mut c1 = RnsPoly::dot(&ctx, &[(&ex.1, &py), (&eu.1, &pv)]);
            c0.from_ntt(&ctx);
            c1.from_ntt(&ctx);
            let mut ct = Ciphertext { c0, c1: crate::Mask::Poly(c1) };
            ct.mod_switch(&ctx);
            let got = plain.decrypt(&ctx, &sk, &ct);
            let want: Vec<u64> = (0..n)
                .map(|i| ((x[i] as u128 * y[i] as u128 + u[i] as u128 * v[i] as u128) % t as u128) as u64)
                .collect();
            prop_assert_eq!(got, want);
        }

        #[test]
        fn garner_recovers_the_integer_modulo_two_to_the_64(hi in any::<u64>(), mid in any::<u64>(), lo in any::<u64>()) {
            let primes = [ntt_prime(58, 8192, &[]).unwrap(), ntt_prime(57, 8192, &[]).unwrap(), ntt_prime(56, 8192, &[]).unwrap()];
            let crt = Crt::new(&primes);
            // v < 2^168 < T, as three words.
            let v = (BigUint::from(hi >> 24) << 128u32) + (BigUint::from(mid) << 64u32) + BigUint::from(lo);
            let residues: Vec<u64> = primes.iter().map(|&t| word(&(&v % t))).collect();
            prop_assert_eq!(crt.low_word(&residues), lo);
        }
    }

    proptest! {
        #![proptest_config(config(0x4246_5632, 256))]

        /// The word-arithmetic rounding against round(t·x/Q) mod t in BigUint, for x anywhere in
        /// [0, Q), at two and three primes.
        #[test]
        fn scaling_in_words_matches_the_wide_integer(seed in any::<u64>()) {
            let (ctx, plain) = context();
            let mut rng = ChaCha20Rng::seed_from_u64(seed);
            let t = plain.value();
            for level in [2, 3] {
                let scaling = Scaling::new(&ctx, level).unwrap();
                let residues: Vec<u64> = ctx.moduli()[..level].iter().map(|m| rng.random_range(0..m.value())).collect();
                let (x, q) = (ctx.crt(&residues), ctx.q(level));
                let want = word(&((((x * t) << 1u32) + q) / (q << 1u32) % t));
                prop_assert_eq!(scaling.round(&ctx, plain.modulus(), &residues), want);
            }
        }
    }

    #[test]
    fn a_modulus_that_is_not_an_ntt_prime_or_too_wide_is_refused() {
        let (ctx, plain) = context();
        assert!(plain.value() % 8192 == 1);
        assert!(matches!(PlainModulus::new(&ctx, plain.value() + 2), Err(ParamsError::PlainModulus { .. })));
        let wide = ntt_prime(53, 4096, &[]).unwrap();
        assert!(matches!(PlainModulus::new(&ctx, wide), Err(ParamsError::PlainModulus { .. })));
    }
}
