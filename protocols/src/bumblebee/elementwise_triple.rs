//! Element-wise Beaver triples and square pairs over Z_2^ℓ made with HE, under the providers
//! whose ring products are HE's ([`Party::he_products`]): an oblivious linear evaluation in BFV
//! slots over CRT primes (Rathee, Schneider and Shukla, "Improved Multiplication Triple Generation
//! over Rings via RLWE-based AHE", CANS 2019, eprint 2019/577), as SPU's Cheetah back end makes its
//! triples (`libspu/mpc/cheetah/arith/cheetah_mul.cc`) beside its silent OT.
//!
//! Each party draws its shares a_i, b_i ∈ Z_2^ℓ, and c = a·b is a_s·b_s + a_c·b_c plus the cross
//! term a_c·b_s + a_s·b_c, which the parties share through HE, only the client holding keys:
//!
//! - **Setup**, at a run's first request over a ring: the client's public key at the top level.
//! - **Offline**, one message each way per request: the client encrypts a_c and b_c, read as
//!   integers in [0, 2^ℓ), slot by slot under BFV with each plaintext prime t_i ([`OleParams`]);
//!   the server multiplies by its b_s and a_s, adds the two, re-randomises with an encryption of
//!   zero, adds a mask r drawn uniformly from [0, 2^(2ℓ+1+σ)), switches the modulus down a level,
//!   floods and answers; its share of the cross term is −r mod 2^ℓ. The client decrypts
//!   a_c·b_s + a_s·b_c + r < 2^(2ℓ+2+σ) ≤ T = ∏ t_i modulo each t_i, recovers the integer by the
//!   CRT ([`Crt`]) and keeps it modulo 2^ℓ. The integer it sees is within statistical distance
//!   2^−σ of uniform whatever the server's shares; the triple is exact.
//! - A square pair's cross term 2·a_c·a_s takes one query per element and the server's 2·a_s.
//!
//! The answers are flooded after the switch ([`dyad_rlwe::flood`], 40 statistical bits), as
//! SPU floods its own: the noise the decryptor sees would otherwise depend on the server's
//! shares, and through the openings x − a on the server's inputs.
//!
//! Bit triples (ℓ = 1) stay with the provider's OT.

use std::sync::Arc;

use dyad_rlwe::bfv::{Crt, PlainModulus};
use dyad_rlwe::cipher::{Ciphertext, encrypt_zero_pk, poly_from_bytes, poly_to_bytes};
use dyad_rlwe::flood;
use dyad_rlwe::keys::ETA;
use dyad_rlwe::modulus::ntt_prime;
use dyad_rlwe::params::{Encoding, ParamsError};
use dyad_rlwe::{Mask, PublicKey, RlweContext, RlweError, RlweParams, RnsPoly, SecretKey};
use dyad_sim::correlation::{SquarePairs, Triples};
use dyad_sim::{Channel, ChannelError, Party, Phase, Ring, RingTensor, Role, Share};
use rand::{Rng, RngExt, SeedableRng};
use rand_chacha::ChaCha20Rng;
use rayon::prelude::*;

use super::matrix_triple::LABEL;
use crate::error::{ProtocolError, expect_len, from_peer};

/// σ: the statistical distance of the client's view from uniform is at most 2^−σ.
pub const STATISTICAL_BITS: u32 = 40;

/// The ring degree: the slots per ciphertext.
pub const DEGREE: usize = 8192;

/// Bits of the ciphertext primes, the last dropped by the modulus switch before answering:
/// log Q = 194 of the 218 the HE standard allows at N = 8192. The answers' 134 bits leave room
/// for the flooding noise.
pub const CIPHER_PRIMES: [u32; 4] = [50, 42, 42, 60];

/// Bits of each plaintext prime t_i.
pub const PLAIN_PRIME_BITS: u32 = 58;

/// The HE parameters of products over one ring: the ciphertext context, the plaintext primes
/// and their CRT.
#[derive(Debug)]
pub struct OleParams {
    ring: Ring,
    ctx: RlweContext,
    plains: Vec<PlainModulus>,
    crt: Crt,
}

impl OleParams {
    /// The parameters for `ring`: as many [`PLAIN_PRIME_BITS`]-bit primes as make
    /// T > 2^(2ℓ+2+σ); refused when the worst-case noise of an answer would not decode.
    pub fn new(ring: Ring) -> Result<Self, ProtocolError> {
        let params = RlweParams {
            n: DEGREE,
            prime_bits: CIPHER_PRIMES.to_vec(),
            plain_bits: PLAIN_PRIME_BITS,
            encoding: Encoding::Round,
            flooding: false,
        };
        let ctx = RlweContext::new(params).map_err(RlweError::from)?;
        let mut taken: Vec<u64> = ctx.moduli().iter().map(|m| m.value()).collect();
        let mut plains = Vec::new();
        while plains.iter().map(|t: &PlainModulus| (t.value() as f64).log2()).sum::<f64>()
            <= f64::from(mask_bits(ring) + 1)
        {
            let t = ntt_prime(PLAIN_PRIME_BITS, DEGREE, &taken)
                .ok_or(ParamsError::NoPrime { bits: PLAIN_PRIME_BITS, n: DEGREE })
                .map_err(RlweError::from)?;
            taken.push(t);
            plains.push(PlainModulus::new(&ctx, t).map_err(RlweError::from)?);
        }
        let crt = Crt::new(&plains.iter().map(PlainModulus::value).collect::<Vec<_>>());
        let made = OleParams { ring, ctx, plains, crt };
        let (bound, budget) = made.noise()?;
        if bound >= budget {
            return Err(RlweError::Params(ParamsError::PlainModulus { t: made.plains[0].value(), n: DEGREE }).into());
        }
        Ok(made)
    }

    /// The plaintext primes.
    pub fn plain_primes(&self) -> Vec<u64> {
        self.plains.iter().map(PlainModulus::value).collect()
    }

    /// log2 T, T the product of the plaintext primes.
    pub fn log_plain_product(&self) -> f64 {
        self.crt.log_product()
    }

    /// The ciphertext context.
    pub fn context(&self) -> &RlweContext {
        &self.ctx
    }

    /// The worst-case noise B of an answer after the modulus switch, before flooding: two
    /// products of a fresh encryption's noise and rounding (η + 1/2) by centred plaintexts below
    /// t/2 (N·(2η + 1)·t/2 together), the encryption of zero ((2N + 1)·η) and the mask's
    /// rounding, divided by the dropped prime, plus the switch's rounding (N + 1)/2.
    pub fn switched_noise(&self) -> u128 {
        let n = DEGREE as u128;
        let t = self.plains.iter().map(|p| u128::from(p.value())).max().unwrap_or(0);
        let eta = u128::from(ETA);
        let top = n * (2 * eta + 1) * (t / 2) + (2 * n + 1) * eta + 1;
        let last = u128::from(self.ctx.moduli()[self.ctx.top_level() - 1].value());
        top.div_ceil(last) + (n + 1).div_ceil(2)
    }

    /// log2 of the worst-case noise of a flooded answer, B + F with F = B·N·2^40
    /// ([`dyad_rlwe::flood::width`]), and log2 of what decodes, Q′/(2t); an error when the
    /// answers' modulus has no room for F.
    pub fn noise(&self) -> Result<(f64, f64), ProtocolError> {
        let low = self.ctx.top_level() - 1;
        let b = self.switched_noise();
        let f = flood::width(&self.ctx, low, b)?;
        let t = self.plains.iter().map(|p| p.value()).max().unwrap_or(0) as f64;
        Ok(((f as f64 + b as f64).log2(), self.ctx.log_q_at(low) - (2.0 * t).log2()))
    }

    /// Bytes of the client's query for `n` elements and `factors` factors each.
    pub fn query_bytes(&self, n: usize, factors: usize) -> usize {
        n.div_ceil(DEGREE) * self.plains.len() * factors * Ciphertext::wire_bytes(&self.ctx, self.ctx.top_level(), true)
    }

    /// Bytes of the server's answer for `n` elements.
    pub fn answer_bytes(&self, n: usize) -> usize {
        n.div_ceil(DEGREE) * self.plains.len() * Ciphertext::wire_bytes(&self.ctx, self.ctx.top_level() - 1, false)
    }
}

/// Bits of the mask r: 2ℓ + 1 + σ.
fn mask_bits(ring: Ring) -> u32 {
    2 * ring.bits() + 1 + STATISTICAL_BITS
}

/// The parameters and this party's key of one ring.
#[derive(Debug)]
struct Keyed {
    params: OleParams,
    key: Key,
}

/// The client's secret key or the server's copy of the public key.
#[derive(Debug)]
enum Key {
    Client(SecretKey),
    Server(PublicKey),
}

/// What a run has set up, per ring.
#[derive(Debug, Default)]
struct Kept(Vec<Arc<Keyed>>);

/// The parameters and keys for `ring`: set up at the first request over it, then kept.
fn setup(p: &mut Party, ring: Ring) -> Result<Arc<Keyed>, ProtocolError> {
    let kept = p.kept::<Kept>().unwrap_or_default();
    if let Some(found) = kept.0.iter().find(|k| k.params.ring == ring) {
        return Ok(Arc::clone(found));
    }
    let params = OleParams::new(ring)?;
    let ctx = &params.ctx;
    let top = ctx.top_level();
    let key = p.in_phase(Phase::Setup, |p| {
        p.scope("keys", |p| -> Result<Key, ProtocolError> {
            match p.role() {
                Role::Client => {
                    let sk = SecretKey::generate(ctx, p.rng());
                    let pk = PublicKey::generate(ctx, &sk, top, p.rng());
                    let mut msg = poly_to_bytes(ctx, &pk.b);
                    msg.extend_from_slice(&pk.seed);
                    p.send_bytes(msg)?;
                    Ok(Key::Client(sk))
                }
                Role::Server => {
                    let bytes = p.recv_bytes()?;
                    expect_len(&bytes, PublicKey::wire_bytes(ctx, top))?;
                    let (b, seed) = bytes.split_at(bytes.len() - 32);
                    let b = poly_from_bytes(ctx, top, b).map_err(|e| from_peer("public key", e))?;
                    let seed =
                        seed.try_into().map_err(|_| ChannelError::Malformed { expected: 32, got: seed.len() })?;
                    Ok(Key::Server(PublicKey { b, seed }))
                }
            }
        })
    })?;
    let made = Arc::new(Keyed { params, key });
    let mut all = kept.0.clone();
    all.push(Arc::clone(&made));
    p.keep(Arc::new(Kept(all)));
    Ok(made)
}

/// This party's half of `n` Beaver triples over `ring` (ℓ > 1), made with HE.
pub fn triples(p: &mut Party, ring: Ring, n: usize) -> Result<Triples, ProtocolError> {
    if n == 0 {
        return Ok(Triples { a: share(ring, vec![])?, b: share(ring, vec![])?, c: share(ring, vec![])? });
    }
    p.correlation_protocol(LABEL, |p| {
        let keyed = setup(p, ring)?;
        let a = ring.random_vec(n, p.rng());
        let b = ring.random_vec(n, p.rng());
        let cross = match &keyed.key {
            Key::Client(sk) => ask(p, &keyed.params, sk, &[&a, &b], n)?,
            Key::Server(pk) => answer(p, &keyed.params, pk, n, 2, |i| [u128::from(b[i]), u128::from(a[i])])?,
        };
        let c = (0..n).map(|i| ring.add(ring.mul(a[i], b[i]), cross[i])).collect();
        Ok(Triples { a: share(ring, a)?, b: share(ring, b)?, c: share(ring, c)? })
    })
}

/// This party's half of `n` square pairs over `ring` (ℓ > 1), made with HE.
pub fn squares(p: &mut Party, ring: Ring, n: usize) -> Result<SquarePairs, ProtocolError> {
    if n == 0 {
        return Ok(SquarePairs { a: share(ring, vec![])?, aa: share(ring, vec![])? });
    }
    p.correlation_protocol(LABEL, |p| {
        let keyed = setup(p, ring)?;
        let a = ring.random_vec(n, p.rng());
        let cross = match &keyed.key {
            Key::Client(sk) => ask(p, &keyed.params, sk, &[&a], n)?,
            Key::Server(pk) => answer(p, &keyed.params, pk, n, 1, |i| [2 * u128::from(a[i]), 0])?,
        };
        let aa = (0..n).map(|i| ring.add(ring.mul(a[i], a[i]), cross[i])).collect();
        Ok(SquarePairs { a: share(ring, a)?, aa: share(ring, aa)? })
    })
}

fn share(ring: Ring, v: Vec<u64>) -> Result<Share, ProtocolError> {
    Ok(Share::new(RingTensor::from_vec(ring, &[v.len()], v)?))
}

/// The client's side: encrypts each factor chunk by chunk under every plaintext prime, sends
/// them, and decrypts the answer into its share of the cross term.
fn ask(
    p: &mut Party,
    params: &OleParams,
    sk: &SecretKey,
    factors: &[&[u64]],
    n: usize,
) -> Result<Vec<u64>, ProtocolError> {
    let (ctx, ring) = (&params.ctx, params.ring);
    let mut msg = Vec::with_capacity(params.query_bytes(n, factors.len()));
    for chunk in 0..n.div_ceil(DEGREE) {
        let range = chunk * DEGREE..((chunk + 1) * DEGREE).min(n);
        for plain in &params.plains {
            for factor in factors {
                let t = plain.modulus();
                let values: Vec<u64> = factor[range.clone()].iter().map(|&x| t.reduce(x)).collect();
                msg.extend(plain.encrypt_sk(ctx, sk, &values, p.rng()).to_bytes(ctx));
            }
        }
    }
    p.send_bytes(msg)?;
    let bytes = p.recv_bytes()?;
    expect_len(&bytes, params.answer_bytes(n))?;
    let low = ctx.top_level() - 1;
    let len = Ciphertext::wire_bytes(ctx, low, false);
    let answers = bytes
        .chunks_exact(len)
        .map(|c| Ciphertext::from_bytes(ctx, low, false, c).map_err(|e| from_peer("product answer", e)))
        .collect::<Result<Vec<_>, _>>()?;
    let slots: Vec<Vec<u64>> = p.scope("decrypt", |_| {
        answers
            .par_iter()
            .enumerate()
            .map(|(i, ct)| params.plains[i % params.plains.len()].decrypt(ctx, sk, ct))
            .collect()
    });
    let k = params.plains.len();
    let mut residues = vec![0u64; k];
    Ok((0..n)
        .map(|i| {
            let (chunk, slot) = (i / DEGREE, i % DEGREE);
            for (j, r) in residues.iter_mut().enumerate() {
                *r = slots[chunk * k + j][slot];
            }
            ring.reduce(params.crt.low_word(&residues))
        })
        .collect())
}

/// The server's side: reads the client's `factors` ciphertexts per chunk and prime, multiplies
/// each by its own operand (`operands(i)` gives element i's in the query's order), adds
/// them, re-randomises, masks and switches; returns its share −r of the cross term.
fn answer(
    p: &mut Party,
    params: &OleParams,
    pk: &PublicKey,
    n: usize,
    factors: usize,
    operands: impl Fn(usize) -> [u128; 2] + Sync,
) -> Result<Vec<u64>, ProtocolError> {
    let (ctx, ring) = (&params.ctx, params.ring);
    let (top, k, chunks) = (ctx.top_level(), params.plains.len(), n.div_ceil(DEGREE));
    let bytes = p.recv_bytes()?;
    expect_len(&bytes, params.query_bytes(n, factors))?;
    let len = Ciphertext::wire_bytes(ctx, top, true);
    let queries = bytes
        .chunks_exact(len)
        .map(|c| Ciphertext::from_bytes(ctx, top, true, c).map_err(|e| from_peer("product query", e)))
        .collect::<Result<Vec<_>, _>>()?;
    let masks: Vec<[u64; 3]> = (0..n).map(|_| draw_mask(ring, p.rng())).collect();
    // Per chunk and prime: the zero and the flooding's seed drawn here, in order, so that
    // counts and results do not depend on the thread schedule.
    let zeros: Vec<Ciphertext> = (0..chunks * k).map(|_| encrypt_zero_pk(ctx, pk, p.rng())).collect();
    let floods: Vec<[u8; 32]> = (0..chunks * k).map(|_| p.rng().random()).collect();
    let noise = params.switched_noise();
    let answers = p.scope("multiply_and_mask", |_| {
        (0..chunks * k)
            .into_par_iter()
            .map(|job| {
                let (chunk, j) = (job / k, job % k);
                let plain = &params.plains[j];
                let t = plain.modulus();
                let used = (n - chunk * DEGREE).min(DEGREE);
                let mut pairs = Vec::with_capacity(factors);
                for f in 0..factors {
                    let mut values: Vec<u64> = vec![0; DEGREE];
                    for (slot, v) in values.iter_mut().enumerate().take(used) {
                        *v = t.reduce_u128(operands(chunk * DEGREE + slot)[f]);
                    }
                    plain.to_coefficients(&mut values);
                    let mut operand = plain.lifted(ctx, &values, top);
                    operand.to_ntt(ctx);
                    let query = &queries[(chunk * k + j) * factors + f];
                    let (mut c0, mut c1) = (query.c0.clone(), query.c1_poly(ctx));
                    c0.to_ntt(ctx);
                    c1.to_ntt(ctx);
                    pairs.push((c0, c1, operand));
                }
                let mut c0 = RnsPoly::dot(ctx, &pairs.iter().map(|(c0, _, o)| (c0, o)).collect::<Vec<_>>());
                let mut c1 = RnsPoly::dot(ctx, &pairs.iter().map(|(_, c1, o)| (c1, o)).collect::<Vec<_>>());
                c0.from_ntt(ctx);
                c1.from_ntt(ctx);
                let mut ct = Ciphertext { c0, c1: Mask::Poly(c1) };
                ct.add_assign(ctx, &zeros[job]);
                let mut r: Vec<u64> = vec![0; DEGREE];
                for (slot, v) in r.iter_mut().enumerate().take(used) {
                    *v = residue(t, &masks[chunk * DEGREE + slot]);
                }
                plain.to_coefficients(&mut r);
                ct.c0.add_assign(ctx, &plain.scaled(ctx, &r, top));
                ct.mod_switch(ctx);
                flood::flood(ctx, &mut ct, noise, &mut ChaCha20Rng::from_seed(floods[job]))?;
                Ok(ct.to_bytes(ctx))
            })
            .collect::<Result<Vec<_>, RlweError>>()
    })?;
    p.send_bytes(answers.concat())?;
    Ok(masks.iter().map(|m| ring.neg(ring.reduce(m[0]))).collect())
}

/// A mask uniform in [0, 2^(2ℓ+1+σ)), as three little-endian words.
fn draw_mask<R: Rng + ?Sized>(ring: Ring, rng: &mut R) -> [u64; 3] {
    let bits = mask_bits(ring);
    let mut w = [rng.next_u64(), rng.next_u64(), rng.next_u64()];
    for (i, word) in w.iter_mut().enumerate() {
        let below = bits.saturating_sub(64 * i as u32).min(64);
        *word &= if below == 64 { u64::MAX } else { (1u64 << below) - 1 };
    }
    w
}

/// A three-word integer modulo t, by Horner's rule on 64-bit words.
fn residue(t: &dyad_rlwe::modulus::Modulus, w: &[u64; 3]) -> u64 {
    w.iter().rev().fold(0u64, |acc, &word| t.reduce_u128((u128::from(acc) << 64) | u128::from(word)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_meet_the_mask_bound_and_decode_at_the_worst_case_noise() {
        for bits in [8, 16, 32, 37, 64] {
            let ring = Ring::new(bits).unwrap();
            let params = OleParams::new(ring).unwrap();
            let log_t = params.crt.log_product();
            assert!(log_t > f64::from(2 * bits + 2 + STATISTICAL_BITS), "ℓ = {bits}: log T = {log_t}");
            let (bound, budget) = params.noise().unwrap();
            assert!(bound < budget, "ℓ = {bits}: noise 2^{bound:.1} against 2^{budget:.1}");
            assert!(params.ctx.log_q() <= 218.0);
        }
        assert_eq!(OleParams::new(Ring::Z64).unwrap().plains.len(), 3);
    }
}
