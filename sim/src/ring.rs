//! The ring Z_2^ℓ with wrapping arithmetic.
//!
//! Elements are stored in a `u64` whose bits above ℓ are always zero. The ring width is a
//! runtime value so that one protocol implementation serves ℓ = 32 and ℓ = 64 (and the small
//! rings Z_2^m that comparison protocols use internally).

use rand::{Rng, RngExt};
use serde::{Deserialize, Serialize};
use thiserror::Error;

/// A ring of an unsupported width.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RingError {
    /// The width is outside 1..=64.
    #[error("ring width must be between 1 and 64 bits, got {bits}")]
    Width {
        /// The width asked for.
        bits: u32,
    },
}

/// The ring Z_2^ℓ for 1 ≤ ℓ ≤ 64.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "u32", into = "u32")]
pub struct Ring {
    bits: u32,
}

impl Ring {
    /// Z_2^32.
    pub const Z32: Ring = Ring { bits: 32 };
    /// Z_2^64.
    pub const Z64: Ring = Ring { bits: 64 };
    /// Z_2, where addition is XOR and multiplication is AND.
    pub const Z2: Ring = Ring { bits: 1 };

    /// The ring of width `bits`; any width from 1 to 64 is accepted.
    pub fn new(bits: u32) -> Result<Self, RingError> {
        if (1..=64).contains(&bits) { Ok(Ring { bits }) } else { Err(RingError::Width { bits }) }
    }

    /// ℓ, the number of bits of an element.
    pub const fn bits(self) -> u32 {
        self.bits
    }

    /// 2^ℓ − 1: the bits an element may occupy.
    pub const fn mask(self) -> u64 {
        if self.bits == 64 { u64::MAX } else { (1u64 << self.bits) - 1 }
    }

    /// Bytes that `n` elements occupy on the wire when packed at ℓ bits each.
    pub const fn wire_bytes(self, n: usize) -> usize {
        (n * self.bits as usize).div_ceil(8)
    }

    /// Reduces any `u64` into the ring.
    #[inline]
    pub const fn reduce(self, x: u64) -> u64 {
        x & self.mask()
    }

    /// a + b.
    #[inline]
    pub const fn add(self, a: u64, b: u64) -> u64 {
        a.wrapping_add(b) & self.mask()
    }

    /// a − b.
    #[inline]
    pub const fn sub(self, a: u64, b: u64) -> u64 {
        a.wrapping_sub(b) & self.mask()
    }

    /// a · b.
    #[inline]
    pub const fn mul(self, a: u64, b: u64) -> u64 {
        a.wrapping_mul(b) & self.mask()
    }

    /// −a.
    #[inline]
    pub const fn neg(self, a: u64) -> u64 {
        a.wrapping_neg() & self.mask()
    }

    /// The signed two's-complement reading of `x`, in [−2^(ℓ−1), 2^(ℓ−1)).
    #[inline]
    pub const fn signed(self, x: u64) -> i64 {
        let shift = 64 - self.bits;
        ((x << shift) as i64) >> shift
    }

    /// The ring element whose signed reading is `v` (taken modulo 2^ℓ).
    #[inline]
    pub const fn from_signed(self, v: i64) -> u64 {
        (v as u64) & self.mask()
    }

    /// The most significant bit (the sign in the signed reading).
    #[inline]
    pub const fn msb(self, x: u64) -> bool {
        (x >> (self.bits - 1)) & 1 == 1
    }

    /// Arithmetic right shift of the signed reading by `k < ℓ` bits.
    #[inline]
    pub const fn shr_signed(self, x: u64, k: u32) -> u64 {
        self.from_signed(self.signed(x) >> k)
    }

    /// The signed distance |a − b| read in the ring: how far apart two elements are.
    #[inline]
    pub const fn distance(self, a: u64, b: u64) -> u64 {
        self.signed(self.sub(a, b)).unsigned_abs()
    }

    /// A uniformly random element.
    pub fn random<R: Rng + ?Sized>(self, rng: &mut R) -> u64 {
        rng.random::<u64>() & self.mask()
    }

    /// `n` uniformly random elements. Narrow rings take several elements from each 64-bit draw
    /// (a 2-bit ring, 32 per draw), which makes the dealer's bulk randomness cheap.
    pub fn random_vec<R: Rng + ?Sized>(self, n: usize, rng: &mut R) -> Vec<u64> {
        let mut draws = self.random_draws(n, rng);
        let per = self.per_draw();
        if per == 1 {
            draws.iter_mut().for_each(|w| *w &= self.mask());
            return draws;
        }
        let mut out = vec![0u64; n];
        for (slots, &word) in out.chunks_mut(per).zip(&draws) {
            for (k, slot) in slots.iter_mut().enumerate() {
                *slot = (word >> (k as u32 * self.bits)) & self.mask();
            }
        }
        out
    }

    /// Elements taken from one 64-bit draw by [`Ring::random_vec`].
    pub(crate) fn per_draw(self) -> usize {
        (64 / self.bits).max(1) as usize
    }

    /// The 64-bit draws from which [`Ring::random_vec`] takes `n` elements, for a party that
    /// needs only a few of them (see [`Ring::element_of_draws`]).
    pub fn random_draws<R: Rng + ?Sized>(self, n: usize, rng: &mut R) -> Vec<u64> {
        (0..n.div_ceil(self.per_draw())).map(|_| rng.random::<u64>()).collect()
    }

    /// Element `i` of what [`Ring::random_vec`] makes of `draws` (zero past the end).
    pub fn element_of_draws(self, draws: &[u64], i: usize) -> u64 {
        let per = self.per_draw();
        let shift = (i % per) as u32 * self.bits;
        draws.get(i / per).map_or(0, |w| w.checked_shr(shift).unwrap_or(0) & self.mask())
    }
}

impl TryFrom<u32> for Ring {
    type Error = RingError;
    fn try_from(bits: u32) -> Result<Self, RingError> {
        Ring::new(bits)
    }
}

impl From<Ring> for u32 {
    fn from(r: Ring) -> u32 {
        r.bits
    }
}

impl std::fmt::Display for Ring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Z_2^{}", self.bits)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::config;
    use proptest::prelude::*;

    fn ring_and_three() -> impl Strategy<Value = (Ring, u64, u64, u64)> {
        prop_oneof![Just(Ring::Z32), Just(Ring::Z64), (1u32..=64).prop_map(|b| Ring::new(b).unwrap())]
            .prop_flat_map(|r| (Just(r), any::<u64>(), any::<u64>(), any::<u64>()))
            .prop_map(|(r, a, b, c)| (r, r.reduce(a), r.reduce(b), r.reduce(c)))
    }

    proptest! {
        #![proptest_config(config(0x5249_4e47, 512))]

        #[test]
        fn ring_laws_hold((r, a, b, c) in ring_and_three()) {
            prop_assert_eq!(r.add(a, b), r.add(b, a));
            prop_assert_eq!(r.add(r.add(a, b), c), r.add(a, r.add(b, c)));
            prop_assert_eq!(r.mul(r.mul(a, b), c), r.mul(a, r.mul(b, c)));
            prop_assert_eq!(r.mul(a, r.add(b, c)), r.add(r.mul(a, b), r.mul(a, c)));
            prop_assert_eq!(r.add(a, r.neg(a)), 0);
            prop_assert_eq!(r.sub(a, b), r.add(a, r.neg(b)));
            prop_assert_eq!(r.mul(a, 1), a);
            prop_assert!(r.add(a, b) <= r.mask());
            prop_assert!(r.mul(a, b) <= r.mask());
        }

        #[test]
        fn an_element_read_from_the_draws_is_the_one_random_vec_makes(bits in 1u32..=64, n in 0usize..300, seed: u64) {
            use rand::SeedableRng;
            let r = Ring::new(bits).unwrap();
            let all = r.random_vec(n, &mut rand_chacha::ChaCha20Rng::seed_from_u64(seed));
            let draws = r.random_draws(n, &mut rand_chacha::ChaCha20Rng::seed_from_u64(seed));
            prop_assert_eq!(all.len(), n);
            for (i, v) in all.iter().enumerate() {
                prop_assert!(*v <= r.mask());
                prop_assert_eq!(r.element_of_draws(&draws, i), *v);
            }
        }

        #[test]
        fn signed_reading_round_trips((r, a, _b, _c) in ring_and_three()) {
            let s = r.signed(a);
            prop_assert_eq!(r.from_signed(s), a);
            if r.bits() < 64 {
                prop_assert!(s >= -(1i64 << (r.bits() - 1)) && s < (1i64 << (r.bits() - 1)));
            }
            prop_assert_eq!(r.msb(a), s < 0);
        }
    }

    #[test]
    fn arithmetic_matches_native_wrapping_at_both_widths() {
        assert_eq!(Ring::Z32.add(u32::MAX as u64, 1), 0);
        assert_eq!(Ring::Z32.mul(1 << 31, 2), 0);
        assert_eq!(Ring::Z64.sub(0, 1), u64::MAX);
        assert_eq!(Ring::Z32.signed(0xFFFF_FFFF), -1);
        assert_eq!(Ring::Z32.shr_signed(Ring::Z32.from_signed(-8), 2), Ring::Z32.from_signed(-2));
    }

    #[test]
    fn wire_size_is_ell_over_eight_bytes() {
        assert_eq!(Ring::Z32.wire_bytes(10), 40);
        assert_eq!(Ring::Z64.wire_bytes(10), 80);
        assert_eq!(Ring::Z2.wire_bytes(10), 2);
        assert_eq!(Ring::new(65), Err(RingError::Width { bits: 65 }));
        assert_eq!(Ring::new(0), Err(RingError::Width { bits: 0 }));
    }
}
