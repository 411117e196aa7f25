//! The exp baseline of BumbleBee, SPU and CrypTen: exp(x) ≈ (1 + x/2^n)^(2^n), n squarings,
//! and 0 below a clipping point (−14 by default, where exp(x) < 1e-6).
//!
//! The division by 2^n is a truncation, then n fixed-point squarings, then a multiplexer by
//! 1{x ≥ clip}. The truncation's ULP error is amplified 2^n-fold by the squarings: at f = 18 the
//! result carries about 2^(n−f) ≈ 1e-3 absolute error near 0, at f = 13 about 3e-2. With
//! probabilistic truncation each of the n + 1 truncations adds up to 1 ULP, amplified by the
//! squarings that follow (y ≤ 1 on x ≤ 0): at most 2^(n+1) ULPs from the reference.
//! Domain: x ≤ 0 (Softmax inputs after subtracting the row maximum); tested on [−80, 0].

use dyad_reference::exp as reference;
use dyad_sim::{FixedPoint, Formula, Party, RingTensor, Share};
use ndarray::ArrayD;

use crate::blocks::arith::{square, square_cost};

use crate::blocks::cmp::{lt_public, msb_cost};
use crate::blocks::select::{mux, mux_cost};
use crate::blocks::trunc::{truncate, truncate_cost};
use crate::error::ProtocolError;
use crate::protocol::TruncMode;
use crate::protocol::{InputSpec, Inputs, ModelShape, Protocol, elements, elementwise, shared, take};

/// (1 + x/2^n)^(2^n) where x ≥ clip, 0 below.
pub fn exp_taylor(
    p: &mut Party,
    fx: FixedPoint,
    x: &Share,
    n: u32,
    clip: f64,
    mode: TruncMode,
) -> Result<Share, ProtocolError> {
    let (c, one) = (fx.encode(clip)?, fx.encode(1.0)?);
    p.scope("exp_taylor", |p| {
        let flat = x.reshape(&[x.len()])?;
        let keep = p.scope("clip", |p| Ok::<_, ProtocolError>(lt_public(p, &flat, c)?.add_scalar(p.role(), 1)))?;
        let mut y = truncate(p, &flat, n, mode)?.add_scalar(p.role(), one);
        for _ in 0..n {
            y = square(p, fx, &y, mode)?;
        }
        Ok(p.scope("clip", |p| mux(p, &keep, &y))?.reshape(x.shape())?)
    })
}

/// The formula of [`exp_taylor`] with `squarings` squarings for `n` elements: the clipping
/// comparison, the truncation by 2^n, the squarings, the multiplexer.
pub fn exp_taylor_cost(f: &mut Formula, fx: FixedPoint, n: usize, squarings: u32, mode: TruncMode) {
    msb_cost(f, fx.ring(), n);
    truncate_cost(f, fx.ring(), n, squarings, mode);
    f.repeat(squarings as usize, |f| square_cost(f, fx, n, mode));
    mux_cost(f, fx.ring(), n);
}

/// `bumblebee.exp`: the BumbleBee/SPU/CrypTen exp baseline, (1 + x/256)^256, 0 below −14.
#[derive(Clone, Copy, Debug)]
pub struct ExpTaylor {
    /// Squarings n.
    pub n: u32,
    /// Clipping point.
    pub clip: f64,
}

impl Default for ExpTaylor {
    fn default() -> Self {
        ExpTaylor { n: 8, clip: -14.0 }
    }
}

impl Protocol for ExpTaylor {
    fn name(&self) -> &'static str {
        "bumblebee.exp"
    }
    fn paper(&self) -> &'static str {
        "BumbleBee (NDSS 2025) / SPU / CrypTen: exp as (1 + x/2^n)^(2^n)"
    }
    fn computes(&self) -> &'static str {
        "exp(x) for x ≤ 0 as (1 + x/256)^256, 0 below −14"
    }
    fn model_dims(&self, m: &ModelShape) -> Vec<usize> {
        vec![m.heads * m.seq, m.seq]
    }
    fn default_dims(&self) -> Vec<usize> {
        vec![1024]
    }
    fn inputs(&self, dims: &[usize], _: FixedPoint) -> Result<Vec<InputSpec>, ProtocolError> {
        Ok(vec![shared("x", &elementwise(self.name(), dims)?, (-80.0, 0.0))])
    }
    fn run(&self, p: &mut Party, inputs: &Inputs) -> Result<Share, ProtocolError> {
        let mode = inputs.trunc;
        exp_taylor(p, inputs.fixed, inputs.share(self.name(), 0)?, self.n, self.clip, mode)
    }
    fn cost(&self, f: &mut Formula, dims: &[usize], fx: FixedPoint, trunc: TruncMode) -> Option<()> {
        let n = elements(self.name(), dims)?;
        exp_taylor_cost(f, fx, n, self.n, trunc);
        Some(())
    }
    fn reference(&self, fx: FixedPoint, inputs: &[RingTensor]) -> Result<RingTensor, ProtocolError> {
        let [x] = take(self.name(), inputs)?;
        Ok(reference::taylor(fx, x, self.n, self.clip)?)
    }
    fn ideal(&self, inputs: &[ArrayD<f64>]) -> Result<ArrayD<f64>, ProtocolError> {
        let [x] = take(self.name(), inputs)?;
        Ok(x.mapv(f64::exp))
    }
    fn approximation(&self, inputs: &[ArrayD<f64>]) -> Result<ArrayD<f64>, ProtocolError> {
        let [x] = take(self.name(), inputs)?;
        let scale = f64::from(self.n).exp2();
        Ok(x.mapv(|v| if v < self.clip { 0.0 } else { (1.0 + v / scale).powi(1 << self.n) }))
    }
    fn activation(&self) -> Option<crate::protocol::Activation> {
        Some(crate::protocol::Activation::Exp)
    }
    fn tolerance_ulp(&self, _: FixedPoint, trunc: TruncMode) -> u64 {
        trunc.tolerance(1 << (self.n + 1))
    }
    fn ideal_tolerance(&self, fx: FixedPoint) -> f64 {
        // (1 + x/2^n)^(2^n) is within e^x·x²/2^(n+1) ≤ 2.2e-3 (n = 8) of exp on x ≤ 0; the
        // truncation of x/2^n costs up to 2^n ULPs after the squarings.
        2.2e-3 * 256.0 / f64::from(1u32 << self.n) + f64::from(1u32 << (self.n + 1)) * fx.ulp()
    }
}
