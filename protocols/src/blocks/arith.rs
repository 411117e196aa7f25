//! Multiplication by Beaver triples (Beaver, CRYPTO 1991) and addition.
//!
//! For x·y the parties hold a triple (a, b, c = a·b) from the correlation provider, open
//! d = x − a and e = y − b together in one round, and compute
//! x·y = c + d·b + e·a + d·e locally (the server adds d·e). Online cost for n elements:
//! one message each way of 2n·ℓ/8 bytes, one round. The fixed-point product then truncates by f.

use dyad_sim::{FixedPoint, Party, RingTensor, Share};
use dyad_verify::reference;
use ndarray::ArrayD;

use crate::blocks::share::open_many;
use crate::blocks::trunc::{TruncMode, truncate_probabilistic};
use crate::error::ProtocolError;
use crate::protocol::{InputSpec, Inputs, Protocol, elementwise, shared, take};

/// The ring product x·y, element-wise, by Beaver triples (no truncation).
pub fn mul_ring(p: &mut Party, x: &Share, y: &Share) -> Result<Share, ProtocolError> {
    if x.shape() != y.shape() {
        return Err(
            dyad_sim::TensorError::Shape { op: "mul", left: x.shape().to_vec(), right: y.shape().to_vec() }.into()
        );
    }
    p.scope("beaver", |p| {
        let shape = x.shape().to_vec();
        let t = p.triples(x.ring(), x.len())?;
        let (a, b, c) = (t.a.reshape(&shape)?, t.b.reshape(&shape)?, t.c.reshape(&shape)?);
        let opened = open_many(p, &[&x.sub(&a)?, &y.sub(&b)?])?;
        let (d, e) = match opened.as_slice() {
            [d, e] => (d, e),
            _ => return Err(ProtocolError::Config { protocol: "mul", reason: "open returned the wrong count".into() }),
        };
        let z = c.add(&b.mul_public(d)?)?.add(&a.mul_public(e)?)?;
        Ok(z.add_public(p.role(), &d.mul(e)?)?)
    })
}

/// Truncates by `k` bits with `mode`.
pub fn truncate(p: &mut Party, x: &Share, k: u32, mode: TruncMode) -> Result<Share, ProtocolError> {
    p.scope("trunc", |p| match mode {
        TruncMode::Probabilistic => Ok(truncate_probabilistic(p.role(), x, k)),
    })
}

/// The fixed-point product ⌊x·y / 2^f⌋ (up to the truncation's error).
pub fn mul(p: &mut Party, fx: FixedPoint, x: &Share, y: &Share, mode: TruncMode) -> Result<Share, ProtocolError> {
    let z = mul_ring(p, x, y)?;
    truncate(p, &z, fx.frac(), mode)
}

/// `add`: x + y on shares, with no communication.
#[derive(Clone, Copy, Debug, Default)]
pub struct Add;

impl Protocol for Add {
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
    fn reference(&self, _: FixedPoint, inputs: &[RingTensor]) -> Result<RingTensor, ProtocolError> {
        let [x, y] = take(self.name(), inputs)?;
        Ok(x.add(y)?)
    }
    fn ideal(&self, inputs: &[ArrayD<f64>]) -> Result<ArrayD<f64>, ProtocolError> {
        let [x, y] = take(self.name(), inputs)?;
        Ok(x + y)
    }
    fn tolerance_ulp(&self, _: FixedPoint) -> u64 {
        0
    }
}

/// `mul`: the fixed-point product by a Beaver triple, then truncation.
#[derive(Clone, Copy, Debug, Default)]
pub struct Mul {
    /// The truncation; `None` for the ring's default.
    pub trunc: Option<TruncMode>,
}

impl Protocol for Mul {
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
    fn inputs(&self, dims: &[usize], _: FixedPoint) -> Result<Vec<InputSpec>, ProtocolError> {
        let shape = elementwise(self.name(), dims)?;
        Ok(vec![shared("x", &shape, (-8.0, 8.0)), shared("y", &shape, (-8.0, 8.0))])
    }
    fn run(&self, p: &mut Party, inputs: &Inputs) -> Result<Share, ProtocolError> {
        let mode = self.trunc.unwrap_or(TruncMode::default_for(inputs.fixed.ring()));
        mul(p, inputs.fixed, inputs.share(self.name(), 0)?, inputs.share(self.name(), 1)?, mode)
    }
    fn reference(&self, fx: FixedPoint, inputs: &[RingTensor]) -> Result<RingTensor, ProtocolError> {
        let [x, y] = take(self.name(), inputs)?;
        Ok(reference::arith::mul(fx, x, y)?)
    }
    fn ideal(&self, inputs: &[ArrayD<f64>]) -> Result<ArrayD<f64>, ProtocolError> {
        let [x, y] = take(self.name(), inputs)?;
        Ok(x * y)
    }
    fn tolerance_ulp(&self, _: FixedPoint) -> u64 {
        1
    }
}
