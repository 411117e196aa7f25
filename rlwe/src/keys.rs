//! Keys and the distributions behind them: uniform ternary secrets and centred-binomial errors
//! (η = 21, standard deviation √10.5 ≈ 3.24, the HE standard's σ ≈ 3.2).

use rand::{Rng, RngExt, SeedableRng};
use rand_chacha::ChaCha20Rng;

use super::params::RlweContext;
use super::poly::RnsPoly;

/// Binomial parameter of the error distribution.
pub const ETA: u32 = 21;

/// A sample of the centred binomial distribution with parameter [`ETA`].
pub fn cbd<R: Rng + ?Sized>(rng: &mut R) -> i64 {
    let bits = rng.next_u64();
    let mask = (1u64 << ETA) - 1;
    i64::from((bits & mask).count_ones()) - i64::from(((bits >> ETA) & mask).count_ones())
}

/// An error polynomial at `limbs` limbs.
pub fn error_poly<R: Rng + ?Sized>(ctx: &RlweContext, limbs: usize, rng: &mut R) -> RnsPoly {
    let e: Vec<i64> = (0..ctx.n()).map(|_| cbd(rng)).collect();
    RnsPoly::from_signed(ctx, limbs, &e)
}

/// A uniform ternary polynomial at `limbs` limbs.
pub fn ternary_poly<R: Rng + ?Sized>(ctx: &RlweContext, limbs: usize, rng: &mut R) -> RnsPoly {
    let s: Vec<i64> = (0..ctx.n()).map(|_| rng.random_range(-1i64..=1)).collect();
    RnsPoly::from_signed(ctx, limbs, &s)
}

/// The uniform polynomial a seed stands for (the `a` half of seeded ciphertexts and keys).
pub fn expand_seed(ctx: &RlweContext, limbs: usize, seed: &[u8; 32]) -> RnsPoly {
    RnsPoly::uniform(ctx, limbs, &mut ChaCha20Rng::from_seed(*seed))
}

/// The secret key s, kept in NTT form at the top level.
#[derive(Clone, Debug)]
pub struct SecretKey {
    pub(crate) s_ntt: RnsPoly,
}

impl SecretKey {
    /// A fresh ternary secret.
    pub fn generate<R: Rng + ?Sized>(ctx: &RlweContext, rng: &mut R) -> Self {
        let mut s = ternary_poly(ctx, ctx.top_level(), rng);
        s.to_ntt(ctx);
        SecretKey { s_ntt: s }
    }
}

/// A public key (b, a) = (−a·s + e, a) at one level, with a given by a seed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicKey {
    /// b, in coefficient form.
    pub b: RnsPoly,
    /// The seed of a.
    pub seed: [u8; 32],
}

impl PublicKey {
    /// A public key for `sk` at `level`.
    pub fn generate<R: Rng + ?Sized>(ctx: &RlweContext, sk: &SecretKey, level: usize, rng: &mut R) -> Self {
        let mut seed = [0u8; 32];
        rng.fill_bytes(&mut seed);
        let mut a = expand_seed(ctx, level, &seed);
        a.to_ntt(ctx);
        let mut b = a;
        b.mul_assign(ctx, &sk.s_ntt);
        b.from_ntt(ctx);
        b.negate(ctx);
        b.add_assign(ctx, &error_poly(ctx, level, rng));
        PublicKey { b, seed }
    }

    /// The level.
    pub fn level(&self) -> usize {
        self.b.limbs()
    }

    /// Bytes on the wire: b and the 32-byte seed.
    pub fn wire_bytes(ctx: &RlweContext, level: usize) -> usize {
        ctx.poly_bytes(level) + 32
    }
}
