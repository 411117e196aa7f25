//! Arithmetic modulo a word-sized NTT-friendly prime: Barrett reduction of 128-bit products
//! (the algorithm of SEAL's `barrett_reduce_128`), Shoup multiplication by precomputed
//! constants, and the deterministic choice of primes q ≡ 1 (mod 2N).

/// A prime modulus q < 2^62 with its reduction constants.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Modulus {
    q: u64,
    bits: u32,
    /// ⌊2^128 / q⌋ as (high, low) words.
    ratio: (u64, u64),
}

#[inline]
fn mulhi(a: u64, b: u64) -> u64 {
    ((a as u128 * b as u128) >> 64) as u64
}

impl Modulus {
    /// The modulus q (which must be below 2^62).
    pub fn new(q: u64) -> Self {
        let ratio = u128::MAX / q as u128;
        // ⌊(2^128 − 1)/q⌋ equals ⌊2^128/q⌋ unless q divides 2^128, impossible for odd q > 1.
        Modulus { q, bits: 64 - q.leading_zeros(), ratio: ((ratio >> 64) as u64, ratio as u64) }
    }

    /// q.
    #[inline]
    pub fn value(&self) -> u64 {
        self.q
    }

    /// ⌈log2 q⌉: the bits a residue occupies on the wire.
    #[inline]
    pub fn bits(&self) -> u32 {
        self.bits
    }

    /// x mod q for any 128-bit x.
    #[inline]
    pub fn reduce_u128(&self, x: u128) -> u64 {
        let (x1, x0) = ((x >> 64) as u64, x as u64);
        let (r1, r0) = self.ratio;
        let carry = mulhi(x0, r0);
        let t = x0 as u128 * r1 as u128;
        let (lo, c1) = (t as u64).overflowing_add(carry);
        let hi = ((t >> 64) as u64).wrapping_add(c1 as u64);
        let t2 = x1 as u128 * r0 as u128;
        let (_, c2) = (t2 as u64).overflowing_add(lo);
        let carry2 = ((t2 >> 64) as u64).wrapping_add(c2 as u64);
        let quotient = x1.wrapping_mul(r1).wrapping_add(hi).wrapping_add(carry2);
        let r = x0.wrapping_sub(quotient.wrapping_mul(self.q));
        if r >= self.q { r - self.q } else { r }
    }

    /// x mod q.
    #[inline]
    pub fn reduce(&self, x: u64) -> u64 {
        if x >= self.q { self.reduce_u128(x as u128) } else { x }
    }

    /// The residue of a signed integer.
    #[inline]
    pub fn from_i64(&self, x: i64) -> u64 {
        let r = self.reduce(x.unsigned_abs());
        if x < 0 && r != 0 { self.q - r } else { r }
    }

    /// a·b mod q.
    #[inline]
    pub fn mul(&self, a: u64, b: u64) -> u64 {
        self.reduce_u128(a as u128 * b as u128)
    }

    /// a + b mod q for reduced a, b.
    #[inline]
    pub fn add(&self, a: u64, b: u64) -> u64 {
        let s = a + b;
        if s >= self.q { s - self.q } else { s }
    }

    /// a − b mod q for reduced a, b.
    #[inline]
    pub fn sub(&self, a: u64, b: u64) -> u64 {
        if a >= b { a - b } else { a + self.q - b }
    }

    /// −a mod q for reduced a.
    #[inline]
    pub fn neg(&self, a: u64) -> u64 {
        if a == 0 { 0 } else { self.q - a }
    }

    /// The Shoup companion ⌊w·2^64/q⌋ of a fixed multiplicand w < q.
    #[inline]
    pub fn shoup(&self, w: u64) -> u64 {
        (((w as u128) << 64) / self.q as u128) as u64
    }

    /// a·w mod q in [0, 2q), with w's Shoup companion: one high and two low multiplications.
    #[inline]
    pub fn mul_shoup_lazy(&self, a: u64, w: u64, w_shoup: u64) -> u64 {
        a.wrapping_mul(w).wrapping_sub(mulhi(a, w_shoup).wrapping_mul(self.q))
    }

    /// a·w mod q with w's Shoup companion.
    #[inline]
    pub fn mul_shoup(&self, a: u64, w: u64, w_shoup: u64) -> u64 {
        let r = self.mul_shoup_lazy(a, w, w_shoup);
        if r >= self.q { r - self.q } else { r }
    }

    /// a^e mod q.
    pub fn pow(&self, mut a: u64, mut e: u64) -> u64 {
        let mut r = 1u64;
        a = self.reduce(a);
        while e > 0 {
            if e & 1 == 1 {
                r = self.mul(r, a);
            }
            a = self.mul(a, a);
            e >>= 1;
        }
        r
    }

    /// a^−1 mod q (q prime, a ≠ 0).
    pub fn inv(&self, a: u64) -> u64 {
        self.pow(a, self.q - 2)
    }
}

/// Deterministic Miller–Rabin for 64-bit integers (the first twelve primes as witnesses suffice).
pub fn is_prime(n: u64) -> bool {
    if n < 2 {
        return false;
    }
    const WITNESSES: [u64; 12] = [2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37];
    for p in WITNESSES {
        if n.is_multiple_of(p) {
            return n == p;
        }
    }
    let m = Modulus::new(n);
    let (mut d, mut s) = (n - 1, 0);
    while d.is_multiple_of(2) {
        d /= 2;
        s += 1;
    }
    'witness: for a in WITNESSES {
        let mut x = m.pow(a, d);
        if x == 1 || x == n - 1 {
            continue;
        }
        for _ in 1..s {
            x = m.mul(x, x);
            if x == n - 1 {
                continue 'witness;
            }
        }
        return false;
    }
    true
}

/// The largest prime below 2^bits that is ≡ 1 (mod 2n) and not in `taken`.
pub fn ntt_prime(bits: u32, n: usize, taken: &[u64]) -> Option<u64> {
    let step = 2 * n as u64;
    let mut p = ((1u64 << bits) - 1) / step * step + 1;
    while p > step {
        if !taken.contains(&p) && is_prime(p) {
            return Some(p);
        }
        p -= step;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use dyad_sim::testkit::config;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(config(0x4d4f_4455, 1024))]

        #[test]
        fn barrett_and_shoup_agree_with_u128_remainder(a in any::<u64>(), b in any::<u64>(), which in 0usize..3) {
            let q = [0x7ff_ffff_ffe0_0001u64, (1 << 61) - 1, 12289][which];
            let m = Modulus::new(q);
            let (a, b) = (a % q, b % q);
            let want = ((a as u128 * b as u128) % q as u128) as u64;
            prop_assert_eq!(m.mul(a, b), want);
            prop_assert_eq!(m.mul_shoup(a, b, m.shoup(b)), want);
            prop_assert_eq!(m.reduce_u128(u128::MAX), (u128::MAX % q as u128) as u64);
        }
    }

    #[test]
    fn primes_are_ntt_friendly_and_checked() {
        assert!(is_prime(12289) && !is_prime(12287 * 3) && is_prime((1 << 61) - 1));
        let p = ntt_prime(59, 8192, &[]).unwrap();
        assert!(is_prime(p) && p % 16384 == 1 && p < 1 << 59 && p > 1 << 58);
        let q = ntt_prime(59, 8192, &[p]).unwrap();
        assert!(q < p && q % 16384 == 1);
    }
}
