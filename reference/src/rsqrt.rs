//! Reference for 1/√x: normalisation to [0.25, 1) by an even power of two, a quadratic initial
//! guess, Newton iterations y ← y·(3 − m·y²)/2, and the exponent restored.
//!
//! The input may carry `extra` fraction bits beyond the format's f (LayerNorm's variance does):
//! the thresholds are encoded with f + extra bits and the normalisation's shift removes them, so
//! small inputs keep their precision into the normalised x_n.

use dyad_sim::{FixedError, FixedPoint, Ring, RingTensor};

use super::Fx;
use super::normalize::ExponentRange;
use super::poly::{Coeff, coeffs, combine_scalar};
use crate::approx::Polynomial;

/// Least-squares quadratic for 1/√m on [0.25, 1] (relative error ≤ 4.7%).
pub const INITIAL: [f64; 3] = [2.557_987_803_150_685_7, -2.960_595_492_237_714_7, 1.428_465_747_550_908];

/// K'(j): the smallest even number ≥ j + 1, so that x·2^(−K') ∈ [0.25, 1).
pub fn even_exponent(j: i32) -> i32 {
    if (j + 1).rem_euclid(2) == 0 { j + 1 } else { j + 2 }
}

/// The encoded constants of the rsqrt.
#[derive(Clone, Debug)]
pub struct RsqrtConsts {
    /// Encoded thresholds 2^k.
    pub thresholds: Vec<u64>,
    /// N = 2^(E − K'(j)), the normaliser.
    pub norm: (u64, Vec<u64>),
    /// M = 2^((E − K'(j))/2), the result's scale.
    pub restore: (u64, Vec<u64>),
    /// E = K'(kmax).
    pub e: u32,
    /// Fraction bits of the input beyond f.
    pub extra: u32,
    /// Initial-guess coefficients.
    pub initial: Vec<Coeff>,
    /// Encoded 3.
    pub three: u64,
}

impl RsqrtConsts {
    /// Encodes the constants for `range` in `fx`, for inputs with `extra` more fraction bits.
    pub fn new(fx: FixedPoint, range: &ExponentRange, extra: u32) -> Result<Self, FixedError> {
        let ring: Ring = fx.ring();
        let e = even_exponent(range.kmax);
        Ok(RsqrtConsts {
            thresholds: range.encoded_thresholds(FixedPoint::new(ring, fx.frac() + extra)?)?,
            norm: range.step(ring, |j| 1i64 << (e - even_exponent(j))),
            restore: range.step(ring, |j| 1i64 << ((e - even_exponent(j)) / 2)),
            e: e as u32,
            extra,
            initial: coeffs(fx, &Polynomial::new(&INITIAL))?,
            three: fx.encode(3.0)?,
        })
    }
}

/// 2^(−K'(kmin)/2): the largest factor by which restoring the exponent multiplies the normalised
/// result's error (and, times 2, about the largest output).
pub fn restore_scale(range: &ExponentRange) -> f64 {
    f64::from(-even_exponent(range.kmin) / 2).exp2()
}

/// One element.
pub fn rsqrt_scalar(fx: Fx, x: u64, range: &ExponentRange, iterations: usize, c: &RsqrtConsts) -> u64 {
    let n = range.eval_step(fx, x, &c.thresholds, &c.norm);
    let m = range.eval_step(fx, x, &c.thresholds, &c.restore);
    let xn = fx.trunc(fx.mul_ring(x, n), c.e + c.extra);
    let xx = fx.mul(xn, xn);
    let mut y = combine_scalar(fx, fx.frac(), &[xn, xx], &c.initial);
    for _ in 0..iterations {
        let h = fx.mul(xn, fx.mul(y, y));
        y = fx.trunc(fx.mul_ring(y, fx.sub(c.three, h)), fx.frac() + 1);
    }
    fx.trunc(fx.mul_ring(y, m), c.e / 2)
}

/// Every element.
pub fn rsqrt(
    fx: FixedPoint,
    x: &RingTensor,
    range: &ExponentRange,
    iterations: usize,
) -> Result<RingTensor, FixedError> {
    let c = RsqrtConsts::new(fx, range, 0)?;
    let f = Fx::new(fx);
    Ok(x.map(|v| rsqrt_scalar(f, v, range, iterations, &c)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Below the range the output saturates: still within 1% down to 0.02 (the quadratic guess
    /// and Newton steps cope with x_n down to 0.08), then rising monotonically to 17.27 at 0 (a
    /// bounded value, never a wrap).
    #[test]
    fn below_the_range_the_output_saturates_smoothly() {
        let range = ExponentRange { kmin: -4, kmax: 12 };
        for ring in [Ring::Z64, Ring::Z32] {
            let fx = FixedPoint::default_for(ring);
            let xs: Vec<f64> = (0..=64).map(|i| 0.0625 * f64::from(i) / 64.0).collect();
            let t = fx.encode_tensor(&ndarray::Array1::from(xs.clone()).into_dyn()).unwrap();
            let y: Vec<f64> = fx.decode_tensor(&rsqrt(fx, &t, &range, 3).unwrap()).iter().copied().collect();
            for (i, (&x, &v)) in xs.iter().zip(&y).enumerate() {
                if x >= 0.02 {
                    assert!((v * x.sqrt() - 1.0).abs() < 0.01, "{ring}: rsqrt({x}) = {v}");
                } else {
                    assert!((7.0..=17.3).contains(&v), "{ring}: rsqrt({x}) = {v}");
                }
                if i > 0 {
                    assert!(v <= y[i - 1] + 4.0 * fx.ulp(), "{ring}: not monotone at {x}");
                }
            }
        }
    }

    /// From 10^−3 to 10^4, the range LayerNorm needs on BERT-base-width models, at ℓ = 64: within
    /// the stated (8·16 + 1) ULPs, and within 10^−4 relative on [0.01, 100] (above, the result
    /// is so small that one ULP is more).
    #[test]
    fn the_default_range_covers_variances_from_a_thousandth_to_ten_thousand() {
        let range = ExponentRange { kmin: -10, kmax: 13 };
        let fx = FixedPoint::default_for(Ring::Z64);
        let xs: Vec<f64> = (0..=140).map(|i| 10f64.powf(-3.0 + 7.0 * f64::from(i) / 140.0)).collect();
        let t = fx.encode_tensor(&ndarray::Array1::from(xs.clone()).into_dyn()).unwrap_or_else(|e| panic!("{e}"));
        let decoded = fx.decode_tensor(&t);
        let y = fx.decode_tensor(&rsqrt(fx, &t, &range, 3).unwrap_or_else(|e| panic!("{e}")));
        let bound = (8.0 * restore_scale(&range) + 1.0) * fx.ulp();
        for (&x, &v) in decoded.iter().zip(y.iter()) {
            let want = 1.0 / x.sqrt();
            assert!((v - want).abs() <= bound, "rsqrt({x}) = {v}, want {want}");
            if (0.01..=100.0).contains(&x) {
                assert!((v / want - 1.0).abs() < 1e-4, "rsqrt({x}) = {v}, want {want}");
            }
        }
    }

    /// An input with extra fraction bits keeps them into the normalisation: at a variance of
    /// 10^−3, 16 more bits take the error from 0.2% to 10^−5 relative.
    #[test]
    fn extra_input_bits_keep_small_inputs_precise() {
        let range = ExponentRange { kmin: -10, kmax: 13 };
        let fx = FixedPoint::default_for(Ring::Z64);
        let f = Fx::new(fx);
        let x = 1.0123e-3;
        let relative = |extra: u32| {
            let wide = FixedPoint::new(Ring::Z64, fx.frac() + extra).unwrap_or_else(|e| panic!("{e}"));
            let c = RsqrtConsts::new(fx, &range, extra).unwrap_or_else(|e| panic!("{e}"));
            let v = rsqrt_scalar(f, wide.encode(x).unwrap_or_default(), &range, 3, &c);
            (fx.decode(v) * x.sqrt() - 1.0).abs()
        };
        assert!(relative(16) < 2e-5, "{}", relative(16));
        assert!(relative(0) > 10.0 * relative(16), "{} vs {}", relative(0), relative(16));
    }

    #[test]
    fn even_exponents_normalise_into_a_quarter_to_one() {
        for j in -6..14 {
            let k = even_exponent(j);
            assert_eq!(k.rem_euclid(2), 0);
            let (lo, hi) = (f64::from(j - k).exp2(), f64::from(j + 1 - k).exp2());
            assert!(lo >= 0.25 && hi <= 1.0, "j = {j}");
        }
    }
}
