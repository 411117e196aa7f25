//! Noise flooding: the party that computed a response adds to it noise far wider than anything
//! its inputs left there, so that the decryptor learns nothing from the noise it sees.
//!
//! Cheetah and Nimbus both decrypt responses whose noise carries the computing party's inputs:
//! X_c·e and the encoding's rounding in the COP layer, W·e, the modulus switch's rounding and key
//! switching in the SIP layer. Masking hides the value, not the noise, and the noise moves the
//! rounding of the two output shares (err ∈ {−1, 0, 1}) with the inputs. Flooding adds to c0 a
//! polynomial whose coefficients are uniform in [−F, F]: for noise t of magnitude at most B, the
//! distributions of t + U[−F, F] for any two such t differ by at most 2B/(2F + 1) < B/F in
//! statistical distance per coefficient (the smudging lemma: Asharov, Jain, López-Alt, Tromer,
//! Vaikuntanathan and Wichs, EUROCRYPT 2012). With F = B·N·2^40 a whole ciphertext is within 2^−40
//! of input-independent, and r responses within r·2^−40.
//!
//! The flooded offset |δ| ≤ 2^ℓ·F/Q′ must stay below 1/2 for the shares to add up within ±1
//! ([`width`] keeps it below 1/4): with B up to about 2^33 at BERT-base shapes that needs
//! log Q′ ≥ ℓ + 88, which [`RlweParams::flooding`](crate::params::RlweParams::flooding) provides.

use rand::{Rng, RngExt};

use super::RlweError;
use super::cipher::{Ciphertext, residue};
use super::params::RlweContext;
use super::poly::RnsPoly;

/// The statistical security of one flooded ciphertext, in bits.
pub const STATISTICAL_BITS: u32 = 40;

/// F for noise of magnitude at most `noise` at `level`: noise·N·2^40, or an error when the
/// flooded offset 2^ℓ·F/Q_level could exceed 1/4 (leaving the rest of the half-unit to the
/// noise itself and the fresh encryption of zero), or F does not fit an i128.
pub fn width(ctx: &RlweContext, level: usize, noise: u128) -> Result<i128, RlweError> {
    let need = noise.max(1).checked_mul(ctx.n() as u128).and_then(|v| v.checked_mul(1u128 << STATISTICAL_BITS));
    let room = ctx.q(level) >> (ctx.params().plain_bits + 2);
    match need.and_then(|f| i128::try_from(f).ok()) {
        Some(f) if num_bigint::BigUint::from(f.unsigned_abs()) <= room => Ok(f),
        _ => Err(RlweError::Flooding {
            noise_bits: 128 - noise.leading_zeros(),
            room_bits: room.bits(),
            stat_bits: STATISTICAL_BITS,
        }),
    }
}

/// Adds uniform noise in [−F, F] to every coefficient of `ct`'s c0, F = [`width`] of `noise`.
pub fn flood<R: Rng + ?Sized>(
    ctx: &RlweContext,
    ct: &mut Ciphertext,
    noise: u128,
    rng: &mut R,
) -> Result<(), RlweError> {
    let level = ct.level();
    let f = width(ctx, level, noise)?;
    let mut e = RnsPoly::zero(ctx.n(), level);
    for j in 0..ctx.n() {
        let v = rng.random_range(-f..=f);
        for (i, m) in ctx.moduli()[..level].iter().enumerate() {
            e.limb_mut(i)[j] = residue(m, v);
        }
    }
    ct.c0.add_assign(ctx, &e);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cipher::{decrypt, encrypt_sk, offsets};
    use crate::keys::SecretKey;
    use crate::params::RlweParams;
    use dyad_sim::Ring;
    use rand::SeedableRng;

    #[test]
    fn a_flooded_ciphertext_still_decrypts_and_its_offset_is_the_flood_s() {
        for ring in [Ring::Z64, Ring::Z32] {
            let ctx = RlweContext::new(RlweParams::flooding(ring)).unwrap();
            let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(7);
            let sk = SecretKey::generate(&ctx, &mut rng);
            let m: Vec<u64> = (0..ctx.n()).map(|_| ring.random(&mut rng)).collect();
            let mut ct = encrypt_sk(&ctx, &sk, &m, &mut rng);
            ct.mod_switch(&ctx);
            let noise = if ring.bits() > 32 { 1 << 37 } else { 1 << 20 };
            flood(&ctx, &mut ct, noise, &mut rng).unwrap();
            assert_eq!(decrypt(&ctx, &sk, &ct), m, "ℓ = {}", ring.bits());
            // Offsets spread over ±2^ℓ·F/Q′: their mean magnitude is half of that.
            let f = width(&ctx, ct.level(), noise).unwrap() as f64;
            let spread = (f.log2() + f64::from(ring.bits()) - ctx.log_q_at(ct.level())).exp2();
            let mean = offsets(&ctx, &sk, &ct, &m).iter().map(|d| d.abs()).sum::<f64>() / ctx.n() as f64;
            assert!(mean > spread / 4.0 && mean < spread, "ℓ = {}: mean |δ| {mean:e}, spread {spread:e}", ring.bits());
        }
    }

    #[test]
    fn a_modulus_without_room_for_the_flood_is_refused() {
        let ctx = RlweContext::new(RlweParams::for_ring(Ring::Z32)).unwrap();
        let err = width(&ctx, 1, 1 << 20).unwrap_err();
        assert!(matches!(err, RlweError::Flooding { noise_bits: 21, stat_bits: 40, .. }), "{err:?}");
        let ctx = RlweContext::new(RlweParams::flooding(Ring::Z64)).unwrap();
        assert!(width(&ctx, 3, 1 << 37).is_ok());
        assert!(width(&ctx, 3, u128::MAX).is_err(), "overflow is a refusal");
    }
}
