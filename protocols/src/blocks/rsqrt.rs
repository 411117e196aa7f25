//! 1/√x for LayerNorm, over variances from 2^kmin to 2^(kmax+1) (default 0.0625 to 8192, which
//! covers the 0.1 … 3000 seen in MiniLM and MPNet LayerNorm inputs).
//!
//! Comparisons with every power of two in range give x's exponent; an even power 2^K' brings
//! x_n = x·2^(−K') into [0.25, 1) (the normaliser 2^(E−K') is an integer, so the product needs
//! no truncation before the shift by E). A least-squares quadratic gives 1/√x_n within 4.7%, and
//! each Newton step y ← y·(3 − x_n·y²)/2 squares the relative error (times 1.5): three steps
//! leave about 1e-10. Finally 1/√x = y·2^(−K'/2), again an integer factor and a shift.
//!
//! Below 2^kmin the output saturates: at the default range it is within 1% of 1/√x down to
//! 0.02, then rises monotonically to 17.27 at x = 0, a little more for the few-ULP negative
//! values that truncating a zero variance can leave (bounded; never a wrap). Above 2^(kmax+1) it
//! is garbage: the domain check of the harness refuses such inputs.

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
use crate::protocol::TruncMode;
use crate::protocol::{InputSpec, Inputs, ModelShape, Protocol, elements, elementwise, shared, take};

/// The variances the LayerNorm rsqrt covers by default: [2^−4, 2^13).
pub const DEFAULT_RANGE: ExponentRange = ExponentRange { kmin: -4, kmax: 12 };
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
) -> Result<Share, ProtocolError> {
    let c = reference::RsqrtConsts::new(fx, range)?;
    p.scope("rsqrt", |p| {
        let ring = x.ring();
        let n = x.len();
        let flat = x.reshape(&[n])?;
        let bits = exponent_bits(p, fx, &flat, range)?;
        let norm = step(p.role(), &bits, &c.norm, n, ring)?;
        let restore = step(p.role(), &bits, &c.restore, n, ring)?;
        let xs = mul_ring(p, &flat, &norm)?;
        let xn = truncate(p, &xs, c.e, mode)?;
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
) -> Result<(), ProtocolError> {
    let c = reference::RsqrtConsts::new(fx, range)?;
    let ring = fx.ring();
    exponent_bits_cost(f, fx, n, range)?;
    mul_ring_cost(f, ring, n);
    truncate_cost(f, ring, n, c.e, mode);
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

/// `rsqrt`: 1/√x on [2^−4, 2^13).
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
    fn name(&self) -> &'static str {
        "rsqrt"
    }
    fn paper(&self) -> &'static str {
        "normalisation by exponent + Newton (as SPU's rsqrt), for LayerNorm"
    }
    fn computes(&self) -> &'static str {
        "1/√x for x in [0.0625, 8192)"
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
        rsqrt(p, inputs.fixed, inputs.share(self.name(), 0)?, &self.range, self.iterations, mode)
    }
    fn cost(&self, f: &mut Formula, dims: &[usize], fx: FixedPoint, trunc: TruncMode) -> Option<()> {
        let n = elements(self.name(), dims)?;
        rsqrt_cost(f, fx, n, &self.range, self.iterations, trunc).ok()?;
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
        // Newton's step is self-correcting; the final integer scale (up to 2^8) multiplies the
        // remaining ULP error of y before the shift by E/2 divides it again.
        trunc.tolerance(8)
    }
    fn ideal_tolerance(&self, fx: FixedPoint) -> f64 {
        // After three Newton steps from 4.7% the relative error is ~1e-10; the result (≤ 4) is
        // within a few ULPs of the floor-truncated computation.
        1e-9 + 8.0 * fx.ulp()
    }
}
