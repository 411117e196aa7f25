//! Reference for LayerNorm: mean, variance, rsqrt, then the affine step γ·y + β.

use dyad_sim::{FixedError, FixedPoint, Ring, RingTensor, TensorError};
use thiserror::Error;

use super::Fx;
use super::normalize::ExponentRange;
use super::rsqrt::{RsqrtConsts, rsqrt_scalar};

/// Why the reference could not run.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum LayerNormError {
    /// A constant does not fit the format.
    #[error(transparent)]
    Fixed(#[from] FixedError),
    /// Shapes do not fit together.
    #[error(transparent)]
    Tensor(#[from] TensorError),
}

/// The LayerNorm parameters that are not weights.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LayerNormParams {
    /// ε added to the variance.
    pub eps: f64,
    /// Range of variances the rsqrt covers.
    pub range: ExponentRange,
    /// Newton iterations of the rsqrt.
    pub iterations: usize,
}

/// Extra fraction bits of the 1/d factors: at ℓ = 64 they are encoded with f + 8 fraction bits
/// and the products truncated by f + 8, so the mean and variance lose nothing that matters to
/// the encoding of 1/d (relative 2^−(f+9)·d); the mean of rows with |x| ≤ 256 then stays below
/// 2^52 at that scale, far inside the truncations' domain. At ℓ = 32 there is no room for them.
pub fn extra_bits(fx: FixedPoint) -> u32 {
    if fx.ring().bits() >= 64 { 8 } else { 0 }
}

/// How the variance is computed at a format: at ℓ = 64 the squared deviations stay exact (2f
/// fraction bits), their row sum is shifted right by [`VariancePlan::squares_shift`] bits before
/// the product with 1/d, and the variance keeps [`VariancePlan::extra`] fraction bits beyond f into
/// the rsqrt, so that a variance of 10^−3 is 1.7·10^7 units rather than 262: its rounding then
/// moves 1/√var by 10^−5 relative instead of 0.2%. At ℓ = 32 there is no room: each square is
/// truncated to f bits and the variance has f bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct VariancePlan {
    /// Whether the squares are kept at 2f bits (no truncation per element).
    pub exact_squares: bool,
    /// The right shift of the row sum of exact squares before the product with 1/d (0 when the
    /// squares are truncated).
    pub squares_shift: u32,
    /// The shift after the product with 1/d.
    pub variance_shift: u32,
    /// Fraction bits of the variance beyond f.
    pub extra: u32,
}

impl VariancePlan {
    /// The plan at `fx`. At ℓ = 64 and f = 18, for rows with d·var < 2^25 and var < 2^14 (the
    /// LayerNorm protocol's documented domain): Σ dev² is below 2^61 at scale 2^36, the sum shifted
    /// by 14 times 1/d (scale 2^(f+8)) is var·2^48 < 2^62, both inside the one-bit truncation's
    /// 2^62.
    pub fn at(fx: FixedPoint) -> Self {
        let (f, e1) = (fx.frac(), extra_bits(fx));
        if fx.ring().bits() < 64 {
            return VariancePlan { exact_squares: false, squares_shift: 0, variance_shift: f + e1, extra: 0 };
        }
        let squares_shift = 14;
        let extra = 16.min((2 * f + e1).saturating_sub(squares_shift + 1));
        VariancePlan { exact_squares: true, squares_shift, variance_shift: 2 * f + e1 - squares_shift - extra, extra }
    }
}

/// The encoding of 1/d with [`extra_bits`] more fraction bits.
pub fn inverse_of_width(fx: FixedPoint, d: usize) -> Result<u64, FixedError> {
    FixedPoint::new(fx.ring(), fx.frac() + extra_bits(fx))?.encode(1.0 / d as f64)
}

/// Rows of `x` ([rows, d]) normalised, scaled by γ and shifted by β (both [d]).
pub fn layernorm(
    fx: FixedPoint,
    x: &RingTensor,
    gamma: &RingTensor,
    beta: &RingTensor,
    params: &LayerNormParams,
) -> Result<RingTensor, LayerNormError> {
    let ring: Ring = fx.ring();
    let shape_err = || TensorError::Shape { op: "layernorm", left: x.shape().to_vec(), right: gamma.shape().to_vec() };
    let d = *x.shape().last().ok_or_else(shape_err)?;
    if gamma.shape() != [d] || beta.shape() != [d] {
        return Err(shape_err().into());
    }
    let f = Fx::new(fx);
    let inv_d = inverse_of_width(fx, d)?;
    let shift = fx.frac() + extra_bits(fx);
    let plan = VariancePlan::at(fx);
    let eps = FixedPoint::new(ring, fx.frac() + plan.extra)?.encode(params.eps)?;
    let c = RsqrtConsts::new(fx, &params.range, plan.extra)?;
    let (g, b) = (gamma.to_vec(), beta.to_vec());
    let mut out = Vec::with_capacity(x.len());
    for row in x.to_vec().chunks(d) {
        let sum = row.iter().fold(0, |a, &v| f.add(a, v));
        let mean = f.trunc(f.mul_ring(sum, inv_d), shift);
        let dev: Vec<u64> = row.iter().map(|&v| f.sub(v, mean)).collect();
        let sq = if plan.exact_squares {
            f.trunc(dev.iter().fold(0, |a, &v| f.add(a, f.mul_ring(v, v))), plan.squares_shift)
        } else {
            dev.iter().fold(0, |a, &v| f.add(a, f.mul(v, v)))
        };
        let var = f.add(f.trunc(f.mul_ring(sq, inv_d), plan.variance_shift), eps);
        let rs = rsqrt_scalar(f, var, &params.range, params.iterations, &c);
        out.extend(dev.iter().zip(g.iter().zip(&b)).map(|(&v, (&gj, &bj))| f.add(f.mul(f.mul(v, rs), gj), bj)));
    }
    Ok(RingTensor::from_vec(ring, x.shape(), out)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn float_layernorm(row: &[f64], eps: f64) -> Vec<f64> {
        let n = row.len() as f64;
        let mean = row.iter().sum::<f64>() / n;
        let var = row.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
        row.iter().map(|v| (v - mean) / (var + eps).sqrt()).collect()
    }

    /// Rows with variances of 10^−3 and 0.013 (which BERT-base-width models have in every layer)
    /// normalise within 10^−3 at ℓ = 64, where the old range saturated with errors of 0.27.
    #[test]
    fn small_variances_normalise_accurately() {
        let fx = FixedPoint::default_for(Ring::Z64);
        let params = LayerNormParams { eps: 1e-12, range: ExponentRange { kmin: -10, kmax: 13 }, iterations: 3 };
        let d = 384;
        for var in [1e-3f64, 0.013, 0.06, 2.0] {
            let row: Vec<f64> = (0..d).map(|i| var.sqrt() * ((i as f64 * 0.7).sin() * 1.41) + 0.3).collect();
            let x =
                fx.encode_tensor(&ndarray::Array2::from_shape_vec((1, d), row.clone()).unwrap_or_default().into_dyn());
            let x = x.unwrap_or_else(|e| panic!("{e}"));
            let decoded: Vec<f64> = fx.decode_tensor(&x).iter().copied().collect();
            let ones =
                fx.encode_tensor(&ndarray::Array1::from(vec![1.0; d]).into_dyn()).unwrap_or_else(|e| panic!("{e}"));
            let zeros = RingTensor::zeros(fx.ring(), &[d]);
            let got = fx.decode_tensor(&layernorm(fx, &x, &ones, &zeros, &params).unwrap_or_else(|e| panic!("{e}")));
            let want = float_layernorm(&decoded, params.eps);
            let err = got.iter().zip(&want).map(|(g, w)| (g - w).abs()).fold(0.0, f64::max);
            assert!(err < 1e-3, "variance {var}: max error {err}");
        }
    }
}
