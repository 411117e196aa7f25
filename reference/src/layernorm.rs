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
/// the encoding of 1/d (relative 2^−(f+9)·d); the variance of rows with |x| ≤ 40 then stays below
/// 2^55 at that scale, far inside the truncations' domain. At ℓ = 32 there is no room for them.
pub fn extra_bits(fx: FixedPoint) -> u32 {
    if fx.ring().bits() >= 64 { 8 } else { 0 }
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
    let eps = fx.encode(params.eps)?;
    let c = RsqrtConsts::new(fx, &params.range)?;
    let (g, b) = (gamma.to_vec(), beta.to_vec());
    let mut out = Vec::with_capacity(x.len());
    for row in x.to_vec().chunks(d) {
        let sum = row.iter().fold(0, |a, &v| f.add(a, v));
        let mean = f.trunc(f.mul_ring(sum, inv_d), shift);
        let dev: Vec<u64> = row.iter().map(|&v| f.sub(v, mean)).collect();
        let sq = dev.iter().fold(0, |a, &v| f.add(a, f.mul(v, v)));
        let var = f.add(f.trunc(f.mul_ring(sq, inv_d), shift), eps);
        let rs = rsqrt_scalar(f, var, &params.range, params.iterations, &c);
        out.extend(dev.iter().zip(g.iter().zip(&b)).map(|(&v, (&gj, &bj))| f.add(f.mul(f.mul(v, rs), gj), bj)));
    }
    Ok(RingTensor::from_vec(ring, x.shape(), out)?)
}
