//! 1/√x for LayerNorm, over variances from 2^kmin to 2^(kmax+1): by default 2^−10 ≈ 9.8·10^−4
//! to 2^14 = 16384, which covers the 0.013 … 0.06 row variances that occur in every layer of
//! BERT-base-width models as well as MiniLM's 0.1 … 3000.
//!
//! Comparisons with every power of two in range give x's exponent; an even power 2^K' brings
//! x_n = x·2^(−K') into [0.25, 1) (the normaliser 2^(E−K') is an integer, so the product needs
//! no truncation before the shift by E). A least-squares quadratic gives 1/√x_n within 4.7%, and
//! each Newton step y ← y·(3 − x_n·y²)/2 squares the relative error (times 1.5): three steps
//! leave about 1e-10. Finally 1/√x = y·2^(−K'/2), again an integer factor and a shift.
//!
//! **Accuracy.** The normalised result y carries a few ULPs of error (the truncations of x_n and of
//! each Newton step; the approximation's own ~10^−10 relative is negligible), and restoring the
//! exponent multiplies it by at most 2^(−K'(kmin)/2) = 16 at the default range
//! ([`reference::restore_scale`]): at most (8·16 + 1) ULPs in all, which is 1.5·10^−5 relative
//! near 2^−10 at f = 18 (4.9·10^−4 at f = 13); at f = 18 the result is within 10^−4 relative on
//! [0.01, 100] (tested). An input with extra fraction bits (the variance inside LayerNorm) keeps
//! them up to the normalisation.
//!
//! Below 2^kmin the output saturates smoothly (a bounded value, never a wrap); above 2^(kmax+1) it
//! is garbage: the domain check of the harness and the audit's domain refuse such inputs.

use dyad_reference::normalize::ExponentRange;
use dyad_reference::rsqrt as reference;
use dyad_sim::{FixedPoint, Formula, Party, RingTensor, Share};
use ndarray::ArrayD;

use crate::blocks::arith::{mul, mul_cost, square, square_cost};

use crate::blocks::beaver::{mul_ring, mul_ring_cost};

use crate::blocks::normalize::{exponent_bits, exponent_bits_cost, step};
use crate::blocks::poly::{combine, combine_cost};
use crate::blocks::trunc::{truncate, truncate_cost};
use crate::error::ProtocolError;
use crate::protocol::Independence;
use crate::protocol::TruncMode;
use crate::protocol::{InputSpec, Inputs, ModelShape, Protocol, elements, elementwise, shared, take};

/// The variances the LayerNorm rsqrt covers by default: [2^−10, 2^14), about 10^−3 to 1.6·10^4.
pub const DEFAULT_RANGE: ExponentRange = ExponentRange { kmin: -10, kmax: 13 };
/// Newton steps after the quadratic guess.
pub const DEFAULT_ITERATIONS: usize = 3;

/// 1/√x on shares.
pub fn rsqrt(
    p: &mut Party,
    fx: FixedPoint,
    x: &Share,
    range: &ExponentRange,
    iterations: usize,
    mode: TruncMode,
    extra: u32,
) -> Result<Share, ProtocolError> {
    let c = reference::RsqrtConsts::new(fx, range, extra)?;
    let input = FixedPoint::new(fx.ring(), fx.frac() + extra)?;
    p.scope("rsqrt", |p| {
        let ring = x.ring();
        let n = x.len();
        let flat = x.reshape(&[n])?;
        let bits = exponent_bits(p, input, &flat, range)?;
        let norm = step(p.role(), &bits, &c.norm, n, ring)?;
        let restore = step(p.role(), &bits, &c.restore, n, ring)?;
        let xs = mul_ring(p, &flat, &norm)?;
        let xn = truncate(p, &xs, c.e + c.extra, mode)?;
        let xx = square(p, fx, &xn, mode)?;
        let mut y = combine(p, fx, &[Some(xn.clone()), Some(xx)], &c.initial, mode)?;
        for _ in 0..iterations {
            let yy = square(p, fx, &y, mode)?;
            let h = mul(p, fx, &xn, &yy, mode)?;
            let t = mul_ring(p, &y, &h.neg().add_scalar(p.role(), c.three))?;
            y = truncate(p, &t, fx.frac() + 1, mode)?;
        }
        let out = mul_ring(p, &y, &restore)?;
        Ok(truncate(p, &out, c.e / 2, mode)?.reshape(x.shape())?)
    })
}

/// The formula of [`rsqrt`] for `n` elements: the normalisation, the normalised input, the
/// quadratic guess, per Newton step a square, a product and a ring product with its
/// truncation, then the restoring scale.
pub fn rsqrt_cost(
    f: &mut Formula,
    fx: FixedPoint,
    n: usize,
    range: &ExponentRange,
    iterations: usize,
    mode: TruncMode,
    extra: u32,
) -> Result<(), ProtocolError> {
    let c = reference::RsqrtConsts::new(fx, range, extra)?;
    let ring = fx.ring();
    exponent_bits_cost(f, FixedPoint::new(ring, fx.frac() + extra)?, n, range)?;
    mul_ring_cost(f, ring, n);
    truncate_cost(f, ring, n, c.e + c.extra, mode);
    square_cost(f, fx, n, mode);
    combine_cost(f, fx, n, &c.initial, mode);
    f.repeat(iterations, |f| {
        square_cost(f, fx, n, mode);
        mul_cost(f, fx, n, mode);
        mul_ring_cost(f, ring, n);
        truncate_cost(f, ring, n, fx.frac() + 1, mode);
    });
    mul_ring_cost(f, ring, n);
    truncate_cost(f, ring, n, c.e / 2, mode);
    Ok(())
}

/// `rsqrt`: 1/√x on [2^−10, 2^14).
#[derive(Clone, Copy, Debug)]
pub struct Rsqrt {
    /// Inputs covered.
    pub range: ExponentRange,
    /// Newton steps.
    pub iterations: usize,
}

impl Default for Rsqrt {
    fn default() -> Self {
        Rsqrt { range: DEFAULT_RANGE, iterations: DEFAULT_ITERATIONS }
    }
}

impl Protocol for Rsqrt {
    fn independence(&self) -> Independence {
        Independence::Elements
    }
    fn name(&self) -> &'static str {
        "rsqrt"
    }
    fn paper(&self) -> &'static str {
        "normalisation by exponent + Newton (as SPU's rsqrt), for LayerNorm"
    }
    fn computes(&self) -> &'static str {
        "1/√x for x in [2^−10, 2^14) ≈ [0.001, 16384)"
    }
    fn model_dims(&self, m: &ModelShape) -> Vec<usize> {
        vec![m.seq]
    }
    fn default_dims(&self) -> Vec<usize> {
        vec![1024]
    }
    fn inputs(&self, dims: &[usize], _: FixedPoint) -> Result<Vec<InputSpec>, ProtocolError> {
        let (lo, hi) = self.range.bounds();
        Ok(vec![shared("x", &elementwise(self.name(), dims)?, (lo, hi * 0.999))])
    }
    fn run(&self, p: &mut Party, inputs: &Inputs) -> Result<Share, ProtocolError> {
        let mode = inputs.trunc;
        rsqrt(p, inputs.fixed, inputs.share(self.name(), 0)?, &self.range, self.iterations, mode, 0)
    }
    fn cost(&self, f: &mut Formula, dims: &[usize], fx: FixedPoint, trunc: TruncMode) -> Option<()> {
        let n = elements(self.name(), dims)?;
        rsqrt_cost(f, fx, n, &self.range, self.iterations, trunc, 0).ok()?;
        Some(())
    }
    fn reference(&self, fx: FixedPoint, inputs: &[RingTensor]) -> Result<RingTensor, ProtocolError> {
        let [x] = take(self.name(), inputs)?;
        Ok(reference::rsqrt(fx, x, &self.range, self.iterations)?)
    }
    fn ideal(&self, inputs: &[ArrayD<f64>]) -> Result<ArrayD<f64>, ProtocolError> {
        let [x] = take(self.name(), inputs)?;
        Ok(x.mapv(|v| 1.0 / v.sqrt()))
    }
    fn tolerance_ulp(&self, _: FixedPoint, trunc: TruncMode) -> u64 {
        // A one-ULP difference in x_n moves y by at most ½·x_n^(−3/2) ≤ 4 ULPs, the Newton steps'
        // own truncations by about 2 more; restoring the exponent multiplies that by at most the
        // restore scale, and its shift adds one.
        trunc.tolerance(6 * reference::restore_scale(&self.range) as u64 + 1)
    }
    fn ideal_tolerance(&self, fx: FixedPoint) -> f64 {
        // After three Newton steps from 4.7% the relative error is ~1e-10 of a result at most
        // twice the restore scale; the floor truncations leave a few ULPs of y, scaled likewise.
        let scale = reference::restore_scale(&self.range);
        1e-9 * 2.0 * scale + (8.0 * scale + 1.0) * fx.ulp()
    }
}
