//! Sharing an input and opening a share: the only two ways a value crosses between the
//! secret-shared and the public world.

use dyad_sim::{Channel, FixedPoint, Formula, Party, Ring, RingTensor, Role, Share};
use ndarray::ArrayD;

use crate::error::ProtocolError;
use crate::protocol::TruncMode;
use crate::protocol::{Holder, InputSpec, Inputs, Protocol, elements, elementwise, shared, take};

/// Opens shares: both parties send theirs in one message and add the peer's. One round;
/// Σ n·ℓ/8 bytes each way.
pub fn open_many(p: &mut Party, xs: &[&Share]) -> Result<Vec<RingTensor>, ProtocolError> {
    let mut payload = Vec::new();
    for x in xs {
        payload.extend(x.tensor().to_bytes());
    }
    p.send_bytes(payload)?;
    let bytes = p.recv_bytes()?;
    let expected: usize = xs.iter().map(|x| x.ring().wire_bytes(x.len())).sum();
    if bytes.len() != expected {
        return Err(dyad_sim::ChannelError::Malformed { expected, got: bytes.len() }.into());
    }
    let mut out = Vec::with_capacity(xs.len());
    let mut rest = bytes.as_slice();
    for x in xs {
        let len = x.ring().wire_bytes(x.len());
        let (theirs, tail) =
            rest.split_at_checked(len).ok_or(dyad_sim::ChannelError::Malformed { expected, got: bytes.len() })?;
        out.push(x.tensor().add(&RingTensor::from_bytes(x.ring(), x.shape(), theirs)?)?);
        rest = tail;
    }
    Ok(out)
}

/// The formula of [`open_many`] for shares of `sizes` elements over `ring`.
pub fn open_many_cost(f: &mut Formula, ring: Ring, sizes: &[usize]) {
    f.exchange(sizes.iter().map(|&n| ring.wire_bytes(n)).sum());
}

/// Opens one share. One round; n·ℓ/8 bytes each way.
pub fn open(p: &mut Party, x: &Share) -> Result<RingTensor, ProtocolError> {
    let mut v = open_many(p, &[x])?;
    Ok(v.pop().unwrap_or_else(|| RingTensor::zeros(x.ring(), x.shape())))
}

/// The elements of several shares (of one ring) in one flat share.
pub fn concat(xs: &[&Share]) -> Result<Share, ProtocolError> {
    let ring = xs
        .first()
        .map(|x| x.ring())
        .ok_or(ProtocolError::Config { protocol: "concat", reason: "nothing to concatenate".into() })?;
    let mut values = Vec::with_capacity(xs.iter().map(|x| x.len()).sum());
    for x in xs {
        if x.ring() != ring {
            return Err(dyad_sim::TensorError::Ring { op: "concat", left: ring, right: x.ring() }.into());
        }
        values.extend(x.tensor().data().iter());
    }
    let n = values.len();
    Ok(Share::new(RingTensor::from_vec(ring, &[n], values)?))
}

/// The inverse of [`concat`]: consecutive pieces of a flat share, one per shape.
pub fn split(x: &Share, shapes: &[Vec<usize>]) -> Result<Vec<Share>, ProtocolError> {
    let values = x.tensor().to_vec();
    let total: usize = shapes.iter().map(|s| s.iter().product::<usize>()).sum();
    if total != values.len() {
        return Err(dyad_sim::TensorError::Shape { op: "split", left: x.shape().to_vec(), right: vec![total] }.into());
    }
    let mut out = Vec::with_capacity(shapes.len());
    let mut at = 0;
    for shape in shapes {
        let n: usize = shape.iter().product();
        out.push(Share::new(RingTensor::from_vec(x.ring(), shape, values[at..at + n].to_vec())?));
        at += n;
    }
    Ok(out)
}

/// Sums a share along its last axis (`[.., d]` → `[..]`), locally.
pub fn sum_last(x: &Share) -> Result<Share, ProtocolError> {
    let ring = x.ring();
    let shape = x.shape();
    let (d, outer) = shape.split_last().map(|(d, o)| (*d, o.to_vec())).unwrap_or((1, vec![]));
    let sums: Vec<u64> =
        x.tensor().to_vec().chunks(d.max(1)).map(|row| row.iter().fold(0, |a, &v| ring.add(a, v))).collect();
    Ok(Share::new(RingTensor::from_vec(ring, &outer, sums)?))
}

/// Repeats each element `d` times along a new last axis (`[..]` → `[.., d]`), locally.
pub fn repeat_last(x: &Share, d: usize) -> Result<Share, ProtocolError> {
    let mut shape = x.shape().to_vec();
    shape.push(d);
    let values: Vec<u64> = x.tensor().data().iter().flat_map(|&v| std::iter::repeat_n(v, d)).collect();
    Ok(Share::new(RingTensor::from_vec(x.ring(), &shape, values)?))
}

/// Repeats a `[d]` share as every row of a `[rows, d]` share, locally.
pub fn tile_rows(x: &Share, rows: usize) -> Result<Share, ProtocolError> {
    let row = x.tensor().to_vec();
    let values: Vec<u64> = (0..rows).flat_map(|_| row.iter().copied()).collect();
    Ok(Share::new(RingTensor::from_vec(x.ring(), &[rows, row.len()], values)?))
}

/// Secret-shares a plaintext held by `owner`: the owner keeps a random r and sends x − r.
/// One message of n·ℓ/8 bytes from the owner.
pub fn share_input(
    p: &mut Party,
    owner: Role,
    x: Option<&RingTensor>,
    ring: Ring,
    shape: &[usize],
) -> Result<Share, ProtocolError> {
    if p.role() == owner {
        let x =
            x.ok_or(ProtocolError::Config { protocol: "share", reason: "the owner has no value to share".into() })?;
        let (theirs, mine) = Share::split(x, p.rng());
        p.send_tensor(theirs.tensor())?;
        Ok(mine)
    } else {
        Ok(Share::new(p.recv_tensor(ring, shape)?))
    }
}

/// The formula of [`share_input`] for `n` elements over `ring`.
pub fn share_input_cost(f: &mut Formula, owner: Role, ring: Ring, n: usize) {
    f.send(owner, ring.wire_bytes(n));
    f.recv(owner.peer());
}

/// `share`: the client secret-shares its input.
#[derive(Clone, Copy, Debug, Default)]
pub struct ShareInput;

impl Protocol for ShareInput {
    fn name(&self) -> &'static str {
        "share"
    }
    fn paper(&self) -> &'static str {
        "additive secret sharing (folklore)"
    }
    fn computes(&self) -> &'static str {
        "the client's plaintext input, secret-shared"
    }
    fn default_dims(&self) -> Vec<usize> {
        vec![128, 768]
    }
    fn inputs(&self, dims: &[usize], _: FixedPoint) -> Result<Vec<InputSpec>, ProtocolError> {
        let shape = elementwise(self.name(), dims)?;
        Ok(vec![InputSpec { name: "x".into(), shape, holder: Holder::Client, range: (-8.0, 8.0) }])
    }
    fn run(&self, p: &mut Party, inputs: &Inputs) -> Result<Share, ProtocolError> {
        let shape = inputs.shape(self.name(), 0)?.to_vec();
        share_input(p, Role::Client, inputs.plain(self.name(), 0)?, inputs.fixed.ring(), &shape)
    }
    fn cost(&self, f: &mut Formula, dims: &[usize], fx: FixedPoint, _: TruncMode) -> Option<()> {
        share_input_cost(f, Role::Client, fx.ring(), elements(self.name(), dims)?);
        Some(())
    }
    fn reference(&self, _: FixedPoint, inputs: &[RingTensor]) -> Result<RingTensor, ProtocolError> {
        Ok(take::<_, 1>(self.name(), inputs)?[0].clone())
    }
    fn ideal(&self, inputs: &[ArrayD<f64>]) -> Result<ArrayD<f64>, ProtocolError> {
        Ok(take::<_, 1>(self.name(), inputs)?[0].clone())
    }
    fn tolerance_ulp(&self, _: FixedPoint, _: TruncMode) -> u64 {
        0
    }
    fn ideal_tolerance(&self, _: FixedPoint) -> f64 {
        0.0
    }
}

/// `reveal`: both parties open a shared value (the output is its trivial sharing).
#[derive(Clone, Copy, Debug, Default)]
pub struct Reveal;

impl Protocol for Reveal {
    fn name(&self) -> &'static str {
        "reveal"
    }
    fn paper(&self) -> &'static str {
        "additive secret sharing (folklore)"
    }
    fn computes(&self) -> &'static str {
        "a shared value, opened to both parties"
    }
    fn opens_output(&self) -> bool {
        true
    }
    fn default_dims(&self) -> Vec<usize> {
        vec![128, 768]
    }
    fn inputs(&self, dims: &[usize], _: FixedPoint) -> Result<Vec<InputSpec>, ProtocolError> {
        Ok(vec![shared("x", &elementwise(self.name(), dims)?, (-8.0, 8.0))])
    }
    fn run(&self, p: &mut Party, inputs: &Inputs) -> Result<Share, ProtocolError> {
        let x = open(p, inputs.share(self.name(), 0)?)?;
        Ok(Share::public(p.role(), &x))
    }
    fn cost(&self, f: &mut Formula, dims: &[usize], fx: FixedPoint, _: TruncMode) -> Option<()> {
        open_many_cost(f, fx.ring(), &[elements(self.name(), dims)?]);
        Some(())
    }
    fn reference(&self, _: FixedPoint, inputs: &[RingTensor]) -> Result<RingTensor, ProtocolError> {
        Ok(take::<_, 1>(self.name(), inputs)?[0].clone())
    }
    fn ideal(&self, inputs: &[ArrayD<f64>]) -> Result<ArrayD<f64>, ProtocolError> {
        Ok(take::<_, 1>(self.name(), inputs)?[0].clone())
    }
    fn tolerance_ulp(&self, _: FixedPoint, _: TruncMode) -> u64 {
        0
    }
    fn ideal_tolerance(&self, _: FixedPoint) -> f64 {
        0.0
    }
}
