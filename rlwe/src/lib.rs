//! A thin RLWE layer for the linear-layer protocols: RNS polynomials with NTT, the plaintext
//! encoding round(Q·m/2^ℓ) for ℓ up to 64 (and the Cheetah/Nimbus Δ = ⌊Q/2^ℓ⌋ beside it),
//! seeded secret-key encryption,
//! public-key encryptions of zero, scalar products, negacyclic shifts, the modulus switch, Galois
//! automorphisms with key switching and the packing of strided results,
//! noise flooding, decryption with rounding to Z_2^ℓ, exact wire sizes, and BFV with a prime
//! plaintext modulus and SIMD slots for element-wise products ([`bfv`]).
//!
//! The ring arithmetic is written here rather than taken from `fhe-math` (fhe.rs): its `Poly`
//! allocates per operation and draws from rand 0.8 generators, while the client-side
//! accumulation kernel of Nimbus needs Shoup-precomputed scalars applied in place across tiles of
//! coefficients, and the decoding needs plaintext moduli of 2^64, which `fhe` 0.1.1's BFV does not
//! support. Everything below the scheme (primes, NTT) is small and tested against schoolbook
//! arithmetic.

pub mod bfv;
pub mod cipher;
pub mod flood;
pub mod galois;
pub mod kernel;
pub mod keys;
pub mod modulus;
pub mod ntt;
pub mod params;
pub mod poly;

use thiserror::Error;

pub use cipher::{Ciphertext, Mask};
pub use keys::{PublicKey, SecretKey};
pub use params::{RlweContext, RlweParams};
pub use poly::RnsPoly;

/// A malformed ciphertext or polynomial, or refused parameters.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum RlweError {
    /// Refused parameters.
    #[error(transparent)]
    Params(#[from] params::ParamsError),
    /// A message of the wrong size.
    #[error("malformed {what}: expected {expected} bytes, got {got}")]
    Size {
        /// What was being decoded.
        what: &'static str,
        /// Bytes expected.
        expected: usize,
        /// Bytes received.
        got: usize,
    },
    /// The modulus has no room for flooding noise of this size.
    #[error(
        "flooding noise of {noise_bits} bits with {stat_bits} statistical bits needs more room below Q/2^(ℓ+2) than its {room_bits} bits"
    )]
    Flooding {
        /// Bits of the noise bound.
        noise_bits: u32,
        /// Bits of Q_level/2^(ℓ+2).
        room_bits: u64,
        /// The statistical security asked for.
        stat_bits: u32,
    },
    /// A residue not below its prime.
    #[error("residue {value} of limb {limb} is not reduced")]
    Residue {
        /// The limb.
        limb: usize,
        /// The residue.
        value: u64,
    },
}

#[cfg(test)]
mod tests {
    use super::cipher::{decrypt, encrypt_sk, encrypt_zero_pk, scalar_mul};
    use super::*;
    use dyad_sim::Ring;
    use rand::{RngExt, SeedableRng};

    fn setup(ring: Ring) -> (RlweContext, SecretKey, rand_chacha::ChaCha20Rng) {
        let ctx = RlweContext::new(RlweParams::for_ring(ring)).unwrap();
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(ring.bits() as u64);
        let sk = SecretKey::generate(&ctx, &mut rng);
        (ctx, sk, rng)
    }

    #[test]
    fn encryption_round_trips_and_survives_every_operation() {
        for ring in [Ring::Z32, Ring::Z64] {
            let (ctx, sk, mut rng) = setup(ring);
            let n = ctx.n();
            let m: Vec<u64> = (0..n).map(|_| ring.random(&mut rng)).collect();
            let ct = encrypt_sk(&ctx, &sk, &m, &mut rng);
            assert_eq!(decrypt(&ctx, &sk, &ct), m, "{ring}: fresh");
            // Small plaintext times a full-range scalar, as in the linear layers.
            let w: Vec<u64> = (0..n).map(|_| ring.from_signed(rng.random_range(-1000i64..1000))).collect();
            let x = ring.random(&mut rng);
            let ctw = encrypt_sk(&ctx, &sk, &w, &mut rng);
            let prod = scalar_mul(&ctx, &ctw, x);
            let want: Vec<u64> = w.iter().map(|&v| ring.mul(v, x)).collect();
            let got = decrypt(&ctx, &sk, &prod);
            assert!(got.iter().zip(&want).all(|(a, b)| ring.distance(*a, *b) <= 1), "{ring}: scalar product");
            // Shift by X^3: coefficient j moves to j + 3, the top three wrap negated.
            let sh = decrypt(&ctx, &sk, &ctw.shifted(&ctx, 3));
            assert_eq!(sh[3], w[0]);
            assert_eq!(sh[0], ring.neg(w[n - 3]));
            // Modulus switch, then a public-key encryption of zero at the lower level.
            let mut low = prod.clone();
            low.mod_switch(&ctx);
            assert_eq!(low.level(), ctx.top_level() - 1);
            let pk = PublicKey::generate(&ctx, &sk, low.level(), &mut rng);
            low.add_assign(&ctx, &encrypt_zero_pk(&ctx, &pk, &mut rng));
            let got = decrypt(&ctx, &sk, &low);
            assert!(got.iter().zip(&want).all(|(a, b)| ring.distance(*a, *b) <= 1), "{ring}: after switch");
        }
    }

    /// Σ_j x_j·Enc(w_j) over ring-uniform x and w, as the COP layer computes it: the rounding
    /// encoding decodes within ±1; the floor encoding decodes P − P·(Q mod 2^ℓ)/Q, off by more
    /// than a quarter unit.
    #[test]
    fn round_encoding_decodes_full_range_products_and_floor_does_not() {
        use super::cipher::offsets;
        use super::params::Encoding;
        for ring in [Ring::Z32, Ring::Z64] {
            let mut worst = Vec::new();
            for encoding in [Encoding::Round, Encoding::Floor] {
                let ctx = RlweContext::new(RlweParams { encoding, ..RlweParams::for_ring(ring) }).unwrap();
                let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(11);
                let sk = SecretKey::generate(&ctx, &mut rng);
                let n = ctx.n();
                let mut acc: Option<Ciphertext> = None;
                let mut want = vec![0u64; n];
                for _ in 0..64 {
                    let w: Vec<u64> = (0..n).map(|_| ring.random(&mut rng)).collect();
                    let x = ring.random(&mut rng);
                    let term = scalar_mul(&ctx, &encrypt_sk(&ctx, &sk, &w, &mut rng), x);
                    for (acc, &w) in want.iter_mut().zip(&w) {
                        *acc = ring.add(*acc, ring.mul(w, x));
                    }
                    match acc.as_mut() {
                        Some(a) => a.add_assign(&ctx, &term),
                        None => acc = Some(term),
                    }
                }
                let mut ct = acc.unwrap();
                ct.mod_switch(&ctx);
                let got = decrypt(&ctx, &sk, &ct);
                let off = got.iter().zip(&want).map(|(a, b)| ring.distance(*a, *b)).max().unwrap();
                let delta = offsets(&ctx, &sk, &ct, &want).into_iter().fold(0.0, |m: f64, d| m.max(d.abs()));
                worst.push((off, delta));
            }
            let [(round_off, round_delta), (floor_off, floor_delta)] = worst[..] else { unreachable!() };
            assert!(round_off <= 1 && round_delta < 1e-3, "ℓ = {}: round {round_off} ({round_delta:e})", ring.bits());
            // At ℓ = 64 the floor's offset is about 2^29; at ℓ = 32 about one unit.
            assert!(floor_delta > 0.25, "ℓ = {}: floor {floor_off} ({floor_delta:e})", ring.bits());
        }
    }

    #[test]
    fn wire_sizes_are_exact_and_decoding_checks_them() {
        for ring in [Ring::Z32, Ring::Z64] {
            let (ctx, sk, mut rng) = setup(ring);
            let ct = encrypt_sk(&ctx, &sk, &[1, 2, 3], &mut rng);
            let top = ctx.top_level();
            let bytes = ct.to_bytes(&ctx);
            assert_eq!(bytes.len(), Ciphertext::wire_bytes(&ctx, top, true));
            assert_eq!(Ciphertext::from_bytes(&ctx, top, true, &bytes).unwrap(), ct);
            let mut low = ct.clone();
            low.mod_switch(&ctx);
            let bytes = low.to_bytes(&ctx);
            assert_eq!(bytes.len(), Ciphertext::wire_bytes(&ctx, top - 1, false));
            assert_eq!(Ciphertext::from_bytes(&ctx, top - 1, false, &bytes).unwrap(), low);
            assert!(matches!(Ciphertext::from_bytes(&ctx, top - 1, false, &bytes[1..]), Err(RlweError::Size { .. })));
        }
        // ℓ = 64 at Q' = q0·q1: 8192 coefficients × (59 + 55) bits, twice: 233,472 bytes.
        let ctx = RlweContext::new(RlweParams::for_ring(Ring::Z64)).unwrap();
        assert_eq!(Ciphertext::wire_bytes(&ctx, 2, false), 233_472);
        assert_eq!(Ciphertext::wire_bytes(&ctx, 3, true), 8192 * 163 / 8 + 32);
    }
}
