//! Normalisation by binary exponent, shared by the reciprocal and rsqrt: comparisons of x with
//! 2^k give bits c_k = 1{x ≥ 2^k}, and any function g of the exponent j (x ∈ [2^j, 2^(j+1)))
//! is the linear combination g(kmin) + Σ_k c_k·(g(k) − g(k−1)) of those bits, computed locally
//! on shares once the bits are arithmetic.

use dyad_sim::{FixedError, FixedPoint, Ring};
use serde::{Deserialize, Serialize};

use super::Fx;

/// The inputs a normalisation covers: [2^kmin, 2^(kmax+1)).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExponentRange {
    /// Smallest exponent covered.
    pub kmin: i32,
    /// Largest exponent covered.
    pub kmax: i32,
}

impl ExponentRange {
    /// The exponents whose thresholds 2^k are compared with: kmin+1 ..= kmax.
    pub fn thresholds(&self) -> Vec<i32> {
        (self.kmin + 1..=self.kmax).collect()
    }

    /// The encoded thresholds; an error when 2^k is not representable.
    pub fn encoded_thresholds(&self, fx: FixedPoint) -> Result<Vec<u64>, FixedError> {
        self.thresholds().into_iter().map(|k| fx.encode(f64::from(k).exp2())).collect()
    }

    /// The smallest and largest inputs covered.
    pub fn bounds(&self) -> (f64, f64) {
        (f64::from(self.kmin).exp2(), f64::from(self.kmax + 1).exp2())
    }

    /// (base, deltas) such that g(j) = base + Σ_k c_k·delta_k, as ring elements.
    pub fn step(&self, ring: Ring, g: impl Fn(i32) -> i64) -> (u64, Vec<u64>) {
        let base = ring.from_signed(g(self.kmin));
        let deltas = self.thresholds().into_iter().map(|k| ring.from_signed(g(k) - g(k - 1))).collect();
        (base, deltas)
    }

    /// The step function at the encoded `x`, as the protocol computes it.
    pub fn eval_step(&self, fx: Fx, x: u64, thresholds: &[u64], step: &(u64, Vec<u64>)) -> u64 {
        let mut h = step.0;
        for (t, d) in thresholds.iter().zip(&step.1) {
            if !fx.lt(x, *t) {
                h = fx.add(h, *d);
            }
        }
        h
    }
}
