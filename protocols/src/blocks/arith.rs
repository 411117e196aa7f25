//! Fixed-point arithmetic on shares: addition (local), products and squares (a ring product by
//! [`beaver`](crate::blocks::beaver), then a truncation by f), and products with a public real.

use dyad_reference as reference;
use dyad_sim::{FixedPoint, Formula, Party, RingTensor, Share};
use ndarray::ArrayD;

use crate::blocks::beaver::{mul_ring, mul_ring_cost, square_ring, square_ring_cost};
use crate::blocks::trunc::{truncate, truncate_cost};
use crate::error::ProtocolError;
use crate::protocol::Independence;
use crate::protocol::TruncMode;
use crate::protocol::{InputSpec, Inputs, Protocol, elements, elementwise, shared, take};

/// x·c for a public real c: the local product with enc(c), then truncation.
pub fn scale_public(p: &mut Party, fx: FixedPoint, x: &Share, c: f64, mode: TruncMode) -> Result<Share, ProtocolError> {
    let z = x.scale(fx.encode(c)?);
    truncate(p, &z, fx.frac(), mode)
}

/// The fixed-point square ⌊x² / 2^f⌋.
pub fn square(p: &mut Party, fx: FixedPoint, x: &Share, mode: TruncMode) -> Result<Share, ProtocolError> {
    let z = square_ring(p, x)?;
    truncate(p, &z, fx.frac(), mode)
}

/// The fixed-point product ⌊x·y / 2^f⌋ (up to the truncation's error).
pub fn mul(p: &mut Party, fx: FixedPoint, x: &Share, y: &Share, mode: TruncMode) -> Result<Share, ProtocolError> {
    let z = mul_ring(p, x, y)?;
    truncate(p, &z, fx.frac(), mode)
}

/// The formula of [`mul`] for `n` elements: the ring product, then the truncation by f.
pub fn mul_cost(f: &mut Formula, fx: FixedPoint, n: usize, mode: TruncMode) {
    mul_ring_cost(f, fx.ring(), n);
    truncate_cost(f, fx.ring(), n, fx.frac(), mode);
}

/// The formula of [`square`] for `n` elements.
pub fn square_cost(f: &mut Formula, fx: FixedPoint, n: usize, mode: TruncMode) {
    square_ring_cost(f, fx.ring(), n);
    truncate_cost(f, fx.ring(), n, fx.frac(), mode);
}

/// `add`: x + y on shares, with no communication.
#[derive(Clone, Copy, Debug, Default)]
pub struct Add;

impl Protocol for Add {
    fn independence(&self) -> Independence {
        Independence::Elements
    }
    fn name(&self) -> &'static str {
        "add"
    }
    fn paper(&self) -> &'static str {
        "additive secret sharing (folklore)"
    }
    fn computes(&self) -> &'static str {
        "x + y, locally"
    }
    fn default_dims(&self) -> Vec<usize> {
        vec![128, 768]
    }
    fn inputs(&self, dims: &[usize], _: FixedPoint) -> Result<Vec<InputSpec>, ProtocolError> {
        let shape = elementwise(self.name(), dims)?;
        Ok(vec![shared("x", &shape, (-100.0, 100.0)), shared("y", &shape, (-100.0, 100.0))])
    }
    fn run(&self, _: &mut Party, inputs: &Inputs) -> Result<Share, ProtocolError> {
        Ok(inputs.share(self.name(), 0)?.add(inputs.share(self.name(), 1)?)?)
    }
    fn cost(&self, _: &mut Formula, dims: &[usize], _: FixedPoint, _: TruncMode) -> Option<()> {
        elements(self.name(), dims)?;
        Some(())
    }
    fn reference(&self, _: FixedPoint, inputs: &[RingTensor]) -> Result<RingTensor, ProtocolError> {
        let [x, y] = take(self.name(), inputs)?;
        Ok(x.add(y)?)
    }
    fn ideal(&self, inputs: &[ArrayD<f64>]) -> Result<ArrayD<f64>, ProtocolError> {
        let [x, y] = take(self.name(), inputs)?;
        Ok(x + y)
    }
    fn tolerance_ulp(&self, _: FixedPoint, _: TruncMode) -> u64 {
        0
    }
    fn ideal_tolerance(&self, _: FixedPoint) -> f64 {
        0.0
    }
}

/// `mul`: the fixed-point product by a Beaver triple, then truncation.
#[derive(Clone, Copy, Debug, Default)]
pub struct Mul;

impl Protocol for Mul {
    fn independence(&self) -> Independence {
        Independence::Elements
    }
    fn name(&self) -> &'static str {
        "mul"
    }
    fn paper(&self) -> &'static str {
        "Beaver triples (Beaver, CRYPTO 1991); truncation per the trunc block"
    }
    fn computes(&self) -> &'static str {
        "x·y in fixed point (Beaver triple, then truncation by f)"
    }
    fn default_dims(&self) -> Vec<usize> {
        vec![1024]
    }
    fn inputs(&self, dims: &[usize], fx: FixedPoint) -> Result<Vec<InputSpec>, ProtocolError> {
        let shape = elementwise(self.name(), dims)?;
        let b = product_bound(fx, 8.0);
        Ok(vec![shared("x", &shape, (-b, b)), shared("y", &shape, (-b, b))])
    }
    fn run(&self, p: &mut Party, inputs: &Inputs) -> Result<Share, ProtocolError> {
        let mode = inputs.trunc;
        mul(p, inputs.fixed, inputs.share(self.name(), 0)?, inputs.share(self.name(), 1)?, mode)
    }
    fn cost(&self, f: &mut Formula, dims: &[usize], fx: FixedPoint, trunc: TruncMode) -> Option<()> {
        let n = elements(self.name(), dims)?;
        mul_cost(f, fx, n, trunc);
        Some(())
    }
    fn reference(&self, fx: FixedPoint, inputs: &[RingTensor]) -> Result<RingTensor, ProtocolError> {
        let [x, y] = take(self.name(), inputs)?;
        Ok(reference::arith::mul(fx, x, y)?)
    }
    fn ideal(&self, inputs: &[ArrayD<f64>]) -> Result<ArrayD<f64>, ProtocolError> {
        let [x, y] = take(self.name(), inputs)?;
        Ok(x * y)
    }
    fn tolerance_ulp(&self, _: FixedPoint, trunc: TruncMode) -> u64 {
        trunc.tolerance(1)
    }
    fn ideal_tolerance(&self, fx: FixedPoint) -> f64 {
        fx.ulp()
    }
}

/// The largest |x| (at most `cap`) such that products of two such values stay within the
/// faithful truncation's domain, |x·y·2^(2f)| < 2^(ℓ−3).
pub fn product_bound(fx: FixedPoint, cap: f64) -> f64 {
    let bits = fx.ring().bits() as f64 - 3.0 - 2.0 * fx.frac() as f64;
    (bits / 2.0).exp2().min(cap)
}

fn one_real(protocol: &'static str, inputs: &[ArrayD<f64>]) -> Result<ArrayD<f64>, ProtocolError> {
    Ok(take::<_, 1>(protocol, inputs)?[0].clone())
}

/// `square`: x² in fixed point by a square pair, then truncation.
#[derive(Clone, Copy, Debug, Default)]
pub struct Square;

impl Protocol for Square {
    fn independence(&self) -> Independence {
        Independence::Elements
    }
    fn name(&self) -> &'static str {
        "square"
    }
    fn paper(&self) -> &'static str {
        "Beaver-style square pairs (folklore); truncation per the trunc block"
    }
    fn computes(&self) -> &'static str {
        "x² in fixed point (square pair, then truncation by f)"
    }
    fn default_dims(&self) -> Vec<usize> {
        vec![1024]
    }
    fn inputs(&self, dims: &[usize], fx: FixedPoint) -> Result<Vec<InputSpec>, ProtocolError> {
        let b = product_bound(fx, 8.0);
        Ok(vec![shared("x", &elementwise(self.name(), dims)?, (-b, b))])
    }
    fn run(&self, p: &mut Party, inputs: &Inputs) -> Result<Share, ProtocolError> {
        let mode = inputs.trunc;
        square(p, inputs.fixed, inputs.share(self.name(), 0)?, mode)
    }
    fn cost(&self, f: &mut Formula, dims: &[usize], fx: FixedPoint, trunc: TruncMode) -> Option<()> {
        let n = elements(self.name(), dims)?;
        square_cost(f, fx, n, trunc);
        Some(())
    }
    fn reference(&self, fx: FixedPoint, inputs: &[RingTensor]) -> Result<RingTensor, ProtocolError> {
        let [x] = take(self.name(), inputs)?;
        Ok(reference::arith::square(fx, x))
    }
    fn ideal(&self, inputs: &[ArrayD<f64>]) -> Result<ArrayD<f64>, ProtocolError> {
        Ok(one_real(self.name(), inputs)?.mapv(|v| v * v))
    }
    fn tolerance_ulp(&self, _: FixedPoint, trunc: TruncMode) -> u64 {
        trunc.tolerance(1)
    }
    fn ideal_tolerance(&self, fx: FixedPoint) -> f64 {
        fx.ulp()
    }
}

/// `scale`: x·c for a public real c (default 1/√2): local product, then truncation.
#[derive(Clone, Copy, Debug)]
pub struct Scale {
    /// The constant.
    pub c: f64,
}

impl Default for Scale {
    fn default() -> Self {
        Scale { c: std::f64::consts::FRAC_1_SQRT_2 }
    }
}

impl Protocol for Scale {
    fn independence(&self) -> Independence {
        Independence::Elements
    }
    fn name(&self) -> &'static str {
        "scale"
    }
    fn paper(&self) -> &'static str {
        "multiplication by a public constant (folklore); truncation per the trunc block"
    }
    fn computes(&self) -> &'static str {
        "x·c for a public c (default 1/√2)"
    }
    fn default_dims(&self) -> Vec<usize> {
        vec![1024]
    }
    fn inputs(&self, dims: &[usize], fx: FixedPoint) -> Result<Vec<InputSpec>, ProtocolError> {
        let b = product_bound(fx, 64.0);
        Ok(vec![shared("x", &elementwise(self.name(), dims)?, (-b, b))])
    }
    fn run(&self, p: &mut Party, inputs: &Inputs) -> Result<Share, ProtocolError> {
        let mode = inputs.trunc;
        scale_public(p, inputs.fixed, inputs.share(self.name(), 0)?, self.c, mode)
    }
    fn cost(&self, f: &mut Formula, dims: &[usize], fx: FixedPoint, trunc: TruncMode) -> Option<()> {
        let n = elements(self.name(), dims)?;
        truncate_cost(f, fx.ring(), n, fx.frac(), trunc);
        Some(())
    }
    fn reference(&self, fx: FixedPoint, inputs: &[RingTensor]) -> Result<RingTensor, ProtocolError> {
        let [x] = take(self.name(), inputs)?;
        Ok(reference::arith::scale(fx, x, fx.encode(self.c)?))
    }
    fn ideal(&self, inputs: &[ArrayD<f64>]) -> Result<ArrayD<f64>, ProtocolError> {
        Ok(one_real(self.name(), inputs)?.mapv(|v| v * self.c))
    }
    fn tolerance_ulp(&self, _: FixedPoint, trunc: TruncMode) -> u64 {
        trunc.tolerance(1)
    }
    fn ideal_tolerance(&self, fx: FixedPoint) -> f64 {
        (product_bound(fx, 64.0) / 2.0 + 1.0) * fx.ulp()
    }
}
