//! Multiplication by Beaver triples (Beaver, CRYPTO 1991) and addition.
//!
//! For x·y the parties hold a triple (a, b, c = a·b) from the correlation provider, open
//! d = x − a and e = y − b together in one round, and compute
//! x·y = c + d·b + e·a + d·e locally (the server adds d·e). Online cost for n elements:
//! one message each way of 2n·ℓ/8 bytes, one round. The fixed-point product then truncates by f.

use dyad_reference as reference;
use dyad_sim::{FixedPoint, Party, RingTensor, Role, Share};
use ndarray::ArrayD;

use crate::blocks::share::{open, open_many};
use crate::blocks::trunc::TruncMode;
pub use crate::blocks::trunc::truncate;
use crate::error::ProtocolError;
use crate::protocol::{InputSpec, Inputs, Protocol, elementwise, shared, take};

/// The ring product x·y, element-wise, by Beaver triples (no truncation). Over Z_2 this is the
/// AND of XOR-shared bits. One pass over the elements on each side of the opening.
pub fn mul_ring(p: &mut Party, x: &Share, y: &Share) -> Result<Share, ProtocolError> {
    if x.shape() != y.shape() {
        return Err(
            dyad_sim::TensorError::Shape { op: "mul", left: x.shape().to_vec(), right: y.shape().to_vec() }.into()
        );
    }
    let ring = x.ring();
    if y.ring() != ring {
        return Err(dyad_sim::TensorError::Ring { op: "mul", left: ring, right: y.ring() }.into());
    }
    p.scope("beaver", |p| {
        let t = p.triples(ring, x.len())?;
        let [a, b, c] = [&t.a, &t.b, &t.c].map(|s| s.tensor().to_vec());
        let masked = |v: &Share, mask: &[u64]| -> Result<Share, ProtocolError> {
            let values = v.tensor().to_vec().iter().zip(mask).map(|(&v, &m)| ring.sub(v, m)).collect();
            Ok(Share::new(RingTensor::from_vec(ring, x.shape(), values)?))
        };
        let opened = open_many(p, &[&masked(x, &a)?, &masked(y, &b)?])?;
        let [d, e] = take("mul", &opened)?;
        let (d, e) = (d.to_vec(), e.to_vec());
        let server = p.role() == Role::Server;
        let z = (0..a.len())
            .map(|i| {
                let z = ring.add(c[i], ring.add(ring.mul(d[i], b[i]), ring.mul(e[i], a[i])));
                if server { ring.add(z, ring.mul(d[i], e[i])) } else { z }
            })
            .collect();
        Ok(Share::new(RingTensor::from_vec(ring, x.shape(), z)?))
    })
}

/// The ring square x², element-wise, by square pairs (a, a²): open d = x − a, then
/// x² = a² + 2·d·a + d². Online: n·ℓ/8 bytes each way, one round.
pub fn square_ring(p: &mut Party, x: &Share) -> Result<Share, ProtocolError> {
    p.scope("square", |p| {
        let shape = x.shape().to_vec();
        let s = p.squares(x.ring(), x.len())?;
        let (a, aa) = (s.a.reshape(&shape)?, s.aa.reshape(&shape)?);
        let d = open(p, &x.sub(&a)?)?;
        let z = aa.add(&a.mul_public(&d)?.scale(2))?;
        Ok(z.add_public(p.role(), &d.mul(&d)?)?)
    })
}

/// x² by a square pair and u·v by a Beaver triple in one opening (d = x − a, then u − b′ and
/// v − c′ in the same message): the batch a power basis needs per round, where x^(2h) is a
/// square and the other powers are products. Online: (|x| + 2|u|)·ℓ/8 bytes each way, one round.
pub fn square_and_mul_ring(p: &mut Party, x: &Share, u: &Share, v: &Share) -> Result<(Share, Share), ProtocolError> {
    if u.shape() != v.shape() {
        return Err(
            dyad_sim::TensorError::Shape { op: "mul", left: u.shape().to_vec(), right: v.shape().to_vec() }.into()
        );
    }
    p.scope("square_and_beaver", |p| {
        let s = p.squares(x.ring(), x.len())?;
        let t = p.triples(u.ring(), u.len())?;
        let (sa, saa) = (s.a.reshape(x.shape())?, s.aa.reshape(x.shape())?);
        let (a, b, c) = (t.a.reshape(u.shape())?, t.b.reshape(u.shape())?, t.c.reshape(u.shape())?);
        let opened = open_many(p, &[&x.sub(&sa)?, &u.sub(&a)?, &v.sub(&b)?])?;
        let [ds, d, e] = take("square_and_mul", &opened)?;
        let sq = saa.add(&sa.mul_public(ds)?.scale(2))?.add_public(p.role(), &ds.mul(ds)?)?;
        let z = c.add(&b.mul_public(d)?)?.add(&a.mul_public(e)?)?;
        Ok((sq, z.add_public(p.role(), &d.mul(e)?)?))
    })
}

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
