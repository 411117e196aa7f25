//! The multiplexer: b·x for a Boolean-shared bit b and an arithmetic share x (CrypTFlow2,
//! Rathee et al., CCS 2020), and select(b, x, y) = y + b·(x − y).
//!
//! With b = b0 ⊕ b1 and x = x0 + x1, each party is the sender of a correlated OT
//! ([`crate::blocks::cot`]) for its own share of x: party i with (b_i, x_i) uses the
//! correlation (1 − 2b_i)·x_i and the peer chooses with its bit b_j, so that
//! b_i·x_i + u + v = (b_i ⊕ b_j)·x_i. The two batches run in the same flights: per element
//! 1 bit and ℓ bits each way, two rounds (Cheetah's multiplexer; CrypTFlow2 sends both
//! messages of a 1-out-of-2 OT, 2ℓ bits).

use dyad_sim::{FixedPoint, Formula, Party, Ring, RingTensor, Role, Share};
use ndarray::ArrayD;

use crate::blocks::cmp::{drelu, msb_cost};
use crate::blocks::cot::{self, CotSide};
use crate::error::ProtocolError;
use crate::protocol::Independence;
use crate::protocol::TruncMode;
use crate::protocol::{InputSpec, Inputs, Protocol, elements, elementwise, shared, take};

/// Share of b·x, for a Boolean share `b` and an arithmetic share `x` with the same number of
/// elements (the output has x's shape).
pub fn mux(p: &mut Party, b: &Share, x: &Share) -> Result<Share, ProtocolError> {
    if b.len() != x.len() {
        return Err(
            dyad_sim::TensorError::Shape { op: "mux", left: b.shape().to_vec(), right: x.shape().to_vec() }.into()
        );
    }
    p.scope("mux", |p| {
        let ring = x.ring();
        let n = x.len();
        let bits: Vec<u64> = b.tensor().to_vec().iter().map(|v| v & 1).collect();
        let xs = x.tensor().to_vec();
        let d: Vec<u64> = bits.iter().zip(&xs).map(|(&bi, &xi)| if bi == 1 { ring.neg(xi) } else { xi }).collect();
        // One batch per direction; each party sends for its own x share and receives for the peer's.
        let side_a = cot::start(p, Role::Server, n, ring.bits(), Some(bits.clone()))?;
        let side_b = cot::start(p, Role::Client, n, ring.bits(), Some(bits.clone()))?;
        let (sent, received) = match (side_a, side_b) {
            (CotSide::Sender(s), CotSide::Receiver(r)) | (CotSide::Receiver(r), CotSide::Sender(s)) => {
                let u = s.respond(p, &d)?;
                (u, r.finish(p)?)
            }
            _ => return Err(ProtocolError::Config { protocol: "mux", reason: "OT roles do not pair up".into() }),
        };
        let out: Vec<u64> =
            (0..n).map(|i| ring.add(ring.add(if bits[i] == 1 { xs[i] } else { 0 }, sent[i]), received[i])).collect();
        Ok(Share::new(RingTensor::from_vec(ring, x.shape(), out)?))
    })
}

/// The formula of [`mux`] and of [`select`] for `n` elements over `ring`: a batch each way,
/// started together, so both directions share two flights.
pub fn mux_cost(f: &mut Formula, ring: Ring, n: usize) {
    cot::batches_cost(f, &[(Role::Server, n, ring.bits()), (Role::Client, n, ring.bits())]);
}

/// Share of `x` where b = 1 and `y` where b = 0.
pub fn select(p: &mut Party, b: &Share, x: &Share, y: &Share) -> Result<Share, ProtocolError> {
    Ok(y.add(&mux(p, b, &x.sub(y)?)?)?)
}

/// `relu`: max(x, 0) = DReLU(x)·x, the comparison and the multiplexer together.
#[derive(Clone, Copy, Debug, Default)]
pub struct Relu;

impl Protocol for Relu {
    fn independence(&self) -> Independence {
        Independence::Elements
    }
    fn name(&self) -> &'static str {
        "relu"
    }
    fn paper(&self) -> &'static str {
        "CrypTFlow2 (CCS 2020): DReLU (§3) then multiplexer"
    }
    fn computes(&self) -> &'static str {
        "max(x, 0) = select(x ≥ 0, x, 0)"
    }
    fn default_dims(&self) -> Vec<usize> {
        vec![1024]
    }
    fn inputs(&self, dims: &[usize], _: FixedPoint) -> Result<Vec<InputSpec>, ProtocolError> {
        Ok(vec![shared("x", &elementwise(self.name(), dims)?, (-8.0, 8.0))])
    }
    fn run(&self, p: &mut Party, inputs: &Inputs) -> Result<Share, ProtocolError> {
        let x = inputs.share(self.name(), 0)?;
        let b = drelu(p, &x.reshape(&[x.len()])?)?;
        mux(p, &b, x)
    }
    fn cost(&self, f: &mut Formula, dims: &[usize], fx: FixedPoint, _: TruncMode) -> Option<()> {
        let n = elements(self.name(), dims)?;
        msb_cost(f, fx.ring(), n);
        mux_cost(f, fx.ring(), n);
        Some(())
    }
    fn reference(&self, _: FixedPoint, inputs: &[RingTensor]) -> Result<RingTensor, ProtocolError> {
        let [x] = take(self.name(), inputs)?;
        let r = x.ring();
        Ok(x.map(|v| if r.signed(v) >= 0 { v } else { 0 }))
    }
    fn ideal(&self, inputs: &[ArrayD<f64>]) -> Result<ArrayD<f64>, ProtocolError> {
        let [x] = take(self.name(), inputs)?;
        Ok(x.mapv(|v| v.max(0.0)))
    }
    fn tolerance_ulp(&self, _: FixedPoint, _: TruncMode) -> u64 {
        0
    }
    fn ideal_tolerance(&self, _: FixedPoint) -> f64 {
        0.0
    }
}

/// `select`: b ? x : y for a shared condition x ≥ y, i.e. max(x, y), exercising select on two
/// shared values.
#[derive(Clone, Copy, Debug, Default)]
pub struct Select;

impl Protocol for Select {
    fn independence(&self) -> Independence {
        Independence::Elements
    }
    fn name(&self) -> &'static str {
        "select"
    }
    fn paper(&self) -> &'static str {
        "CrypTFlow2 (CCS 2020): multiplexer"
    }
    fn computes(&self) -> &'static str {
        "select(x ≥ y, x, y) = max(x, y)"
    }
    fn default_dims(&self) -> Vec<usize> {
        vec![1024]
    }
    fn inputs(&self, dims: &[usize], _: FixedPoint) -> Result<Vec<InputSpec>, ProtocolError> {
        let shape = elementwise(self.name(), dims)?;
        Ok(vec![shared("x", &shape, (-8.0, 8.0)), shared("y", &shape, (-8.0, 8.0))])
    }
    fn run(&self, p: &mut Party, inputs: &Inputs) -> Result<Share, ProtocolError> {
        let x = inputs.share(self.name(), 0)?;
        let y = inputs.share(self.name(), 1)?;
        let b = drelu(p, &x.sub(y)?.reshape(&[x.len()])?)?;
        select(p, &b, x, y)
    }
    fn cost(&self, f: &mut Formula, dims: &[usize], fx: FixedPoint, _: TruncMode) -> Option<()> {
        let n = elements(self.name(), dims)?;
        msb_cost(f, fx.ring(), n);
        mux_cost(f, fx.ring(), n);
        Some(())
    }
    fn reference(&self, _: FixedPoint, inputs: &[RingTensor]) -> Result<RingTensor, ProtocolError> {
        let [x, y] = take(self.name(), inputs)?;
        let r = x.ring();
        Ok(x.zip_map(y, "select", |a, b| if r.signed(a) >= r.signed(b) { a } else { b })?)
    }
    fn ideal(&self, inputs: &[ArrayD<f64>]) -> Result<ArrayD<f64>, ProtocolError> {
        let [x, y] = take(self.name(), inputs)?;
        Ok(ndarray::Zip::from(x).and(y).map_collect(|a, b| a.max(*b)))
    }
    fn tolerance_ulp(&self, _: FixedPoint, _: TruncMode) -> u64 {
        0
    }
    fn ideal_tolerance(&self, _: FixedPoint) -> f64 {
        0.0
    }
}
