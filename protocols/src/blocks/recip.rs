//! The reciprocal 1/x for positive x, two ways.
//!
//! **Goldschmidt with normalisation** (SPU's `reciprocal`): the exponent j of x (x ∈ [2^j, 2^(j+1)))
//! is found by comparisons with every power of two in range, giving the integer F = 2^(kmax − j);
//! x_n = x·F / 2^(kmax+1) lies in [0.5, 1). From r = 2.9142 − 2·x_n and e = 1 − x_n·r, each
//! iteration sets r ← r·(1 + e), e ← e² (one batched round), and 1/x = r·F / 2^(kmax+1). The
//! initial error is at most 0.086, so t iterations leave about 0.086^(2^t): 5e-5 for SPU's t = 2.
//!
//! **Newton** (CrypTen's `reciprocal`): y0 = 3·exp(1 − 2x) + 0.003 with the exp baseline, then
//! y ← y·(2 − x·y) ten times (two sequential products each). It needs no comparisons for the
//! normalisation but 20 rounds of products and the exp's 8 squarings.
//!
//! Domain: [2^kmin, 2^(kmax+1)), by default [1, 256), enough for Softmax row sums of up to 255
//! keys. Below it the normalisation saturates and accuracy degrades; the harness refuses such
//! inputs.

use dyad_reference::normalize::ExponentRange;
use dyad_reference::recip as reference;
use dyad_sim::{FixedPoint, Formula, Party, RingTensor, Share};
use ndarray::ArrayD;

use crate::blocks::arith::{mul, mul_cost};

use crate::blocks::beaver::{mul_ring, mul_ring_cost};

use crate::blocks::exp::{exp_taylor, exp_taylor_cost};
use crate::blocks::normalize::{exponent_bits, exponent_bits_cost, step};
use crate::blocks::share::{concat, split};
use crate::blocks::trunc::{truncate, truncate_cost};
use crate::error::ProtocolError;
use crate::protocol::Independence;
use crate::protocol::TruncMode;
use crate::protocol::{InputSpec, Inputs, ModelShape, Protocol, elements, elementwise, shared, take};

/// Goldschmidt's reciprocal with SPU's normalisation.
pub fn goldschmidt(
    p: &mut Party,
    fx: FixedPoint,
    x: &Share,
    range: &ExponentRange,
    iterations: usize,
    mode: TruncMode,
) -> Result<Share, ProtocolError> {
    let c = reference::GoldschmidtConsts::new(fx, range)?;
    p.scope("recip", |p| {
        let ring = x.ring();
        let n = x.len();
        let flat = x.reshape(&[n])?;
        let shift = (range.kmax + 1) as u32;
        let bits = exponent_bits(p, fx, &flat, range)?;
        let scale = step(p.role(), &bits, &c.scale, n, ring)?;
        let xs = mul_ring(p, &flat, &scale)?;
        let xn = truncate(p, &xs, shift, mode)?;
        let mut r = xn.scale(2).neg().add_scalar(p.role(), c.init);
        let mut e = mul(p, fx, &xn, &r, mode)?.neg().add_scalar(p.role(), c.one);
        for i in 0..iterations {
            let one_plus_e = e.add_scalar(p.role(), c.one);
            if i + 1 < iterations {
                let both = mul(p, fx, &concat(&[&r, &e])?, &concat(&[&one_plus_e, &e])?, mode)?;
                let mut parts = split(&both, &[vec![n], vec![n]])?.into_iter();
                r = parts.next().unwrap_or_else(|| Share::zeros(ring, &[n]));
                e = parts.next().unwrap_or_else(|| Share::zeros(ring, &[n]));
            } else {
                r = mul(p, fx, &r, &one_plus_e, mode)?;
            }
        }
        let rs = mul_ring(p, &r, &scale)?;
        Ok(truncate(p, &rs, shift, mode)?.reshape(x.shape())?)
    })
}

/// The formula of [`goldschmidt`] for `n` elements: the normalisation, the scaled input, the
/// initial error, one batched pair of products per iteration (one product in the last), the
/// final scale.
pub fn goldschmidt_cost(
    f: &mut Formula,
    fx: FixedPoint,
    n: usize,
    range: &ExponentRange,
    iterations: usize,
    mode: TruncMode,
) -> Result<(), ProtocolError> {
    let shift = (range.kmax + 1) as u32;
    exponent_bits_cost(f, fx, n, range)?;
    mul_ring_cost(f, fx.ring(), n);
    truncate_cost(f, fx.ring(), n, shift, mode);
    mul_cost(f, fx, n, mode);
    for i in 0..iterations {
        mul_cost(f, fx, if i + 1 < iterations { 2 * n } else { n }, mode);
    }
    mul_ring_cost(f, fx.ring(), n);
    truncate_cost(f, fx.ring(), n, shift, mode);
    Ok(())
}

/// The formula of [`newton`] for `n` elements: the exp of the initial guess, then two sequential
/// products per iteration.
pub fn newton_cost(f: &mut Formula, fx: FixedPoint, n: usize, iterations: usize, mode: TruncMode) {
    exp_taylor_cost(f, fx, n, NEWTON_EXP_SQUARINGS, mode);
    f.repeat(2 * iterations, |f| mul_cost(f, fx, n, mode));
}

/// CrypTen's Newton reciprocal.
pub fn newton(
    p: &mut Party,
    fx: FixedPoint,
    x: &Share,
    iterations: usize,
    mode: TruncMode,
) -> Result<Share, ProtocolError> {
    let (one, two, offset) = (fx.encode(1.0)?, fx.encode(2.0)?, fx.encode(reference::NEWTON_OFFSET)?);
    p.scope("recip", |p| {
        let t = x.scale(2).neg().add_scalar(p.role(), one);
        let ex = exp_taylor(p, fx, &t, NEWTON_EXP_SQUARINGS, NEWTON_EXP_CLIP, mode)?;
        let mut y = ex.scale(3).add_scalar(p.role(), offset);
        for _ in 0..iterations {
            let xy = mul(p, fx, x, &y, mode)?;
            y = mul(p, fx, &y, &xy.neg().add_scalar(p.role(), two), mode)?;
        }
        Ok(y)
    })
}

/// The exp inside CrypTen's initial guess: 8 squarings.
pub const NEWTON_EXP_SQUARINGS: u32 = 8;
/// …and clipped like the exp baseline.
pub const NEWTON_EXP_CLIP: f64 = -14.0;

/// Which reciprocal a [`Reciprocal`] runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// SPU's Goldschmidt with normalisation.
    Goldschmidt,
    /// CrypTen's Newton.
    Newton,
}

/// `recip.goldschmidt` and `recip.newton`.
#[derive(Clone, Copy, Debug)]
pub struct Reciprocal {
    /// The method.
    pub method: Method,
    /// Inputs covered.
    pub range: ExponentRange,
    /// Iterations (SPU: 2 for Goldschmidt; CrypTen: 10 for Newton).
    pub iterations: usize,
}

impl Reciprocal {
    /// The registered instance of `method` on [1, 256).
    pub fn new(method: Method) -> Self {
        let iterations = match method {
            Method::Goldschmidt => 2,
            Method::Newton => 10,
        };
        Reciprocal { method, range: ExponentRange { kmin: 0, kmax: 7 }, iterations }
    }
}

impl Protocol for Reciprocal {
    fn independence(&self) -> Independence {
        Independence::Elements
    }
    fn name(&self) -> &'static str {
        match self.method {
            Method::Goldschmidt => "recip.goldschmidt",
            Method::Newton => "recip.newton",
        }
    }
    fn paper(&self) -> &'static str {
        match self.method {
            Method::Goldschmidt => "SPU fxp reciprocal: normalisation + Goldschmidt (2 iterations)",
            Method::Newton => "CrypTen reciprocal: y0 = 3·exp(1−2x)+0.003, 10 Newton iterations",
        }
    }
    fn computes(&self) -> &'static str {
        match self.method {
            Method::Goldschmidt => "1/x on [1, 256) by Goldschmidt after normalising to [0.5, 1)",
            Method::Newton => "1/x on [1, 256) by Newton from CrypTen's exp-based guess",
        }
    }
    fn model_dims(&self, m: &ModelShape) -> Vec<usize> {
        vec![m.heads * m.seq]
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
        let x = inputs.share(self.name(), 0)?;
        match self.method {
            Method::Goldschmidt => goldschmidt(p, inputs.fixed, x, &self.range, self.iterations, mode),
            Method::Newton => newton(p, inputs.fixed, x, self.iterations, mode),
        }
    }
    fn cost(&self, f: &mut Formula, dims: &[usize], fx: FixedPoint, trunc: TruncMode) -> Option<()> {
        let n = elements(self.name(), dims)?;
        match self.method {
            Method::Goldschmidt => goldschmidt_cost(f, fx, n, &self.range, self.iterations, trunc).ok()?,
            Method::Newton => newton_cost(f, fx, n, self.iterations, trunc),
        }
        Some(())
    }
    fn reference(&self, fx: FixedPoint, inputs: &[RingTensor]) -> Result<RingTensor, ProtocolError> {
        let [x] = take(self.name(), inputs)?;
        Ok(match self.method {
            Method::Goldschmidt => reference::goldschmidt(fx, x, &self.range, self.iterations)?,
            Method::Newton => reference::newton(fx, x, self.iterations, NEWTON_EXP_SQUARINGS, NEWTON_EXP_CLIP)?,
        })
    }
    fn ideal(&self, inputs: &[ArrayD<f64>]) -> Result<ArrayD<f64>, ProtocolError> {
        let [x] = take(self.name(), inputs)?;
        Ok(x.mapv(f64::recip))
    }
    fn tolerance_ulp(&self, _: FixedPoint, trunc: TruncMode) -> u64 {
        // Newton's iteration is self-correcting and Goldschmidt's error shrinks quadratically, so
        // ±1-ULP truncation errors stay within a few ULPs of the reference.
        trunc.tolerance(8)
    }
    fn ideal_tolerance(&self, fx: FixedPoint) -> f64 {
        // Goldschmidt from a 0.086 initial error: 0.086^(2^t) relative; Newton converges fully.
        let converged = match self.method {
            Method::Goldschmidt => 0.086f64.powi(1 << self.iterations),
            Method::Newton => 1e-9,
        };
        converged + 16.0 * fx.ulp()
    }
}
