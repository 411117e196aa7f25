//! Sharing an input and opening a share: the only two ways a value crosses between the
//! secret-shared and the public world.

use dyad_sim::{Channel, FixedPoint, Party, Ring, RingTensor, Role, Share};
use ndarray::ArrayD;

use crate::error::ProtocolError;
use crate::protocol::{Holder, InputSpec, Inputs, Protocol, elementwise, shared, take};

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
    let mut at = 0;
    for x in xs {
        let len = x.ring().wire_bytes(x.len());
        let theirs = RingTensor::from_bytes(x.ring(), x.shape(), bytes.get(at..at + len).unwrap_or_default())?;
        out.push(x.tensor().add(&theirs)?);
        at += len;
    }
    Ok(out)
}

/// Opens one share. One round; n·ℓ/8 bytes each way.
pub fn open(p: &mut Party, x: &Share) -> Result<RingTensor, ProtocolError> {
    let mut v = open_many(p, &[x])?;
    Ok(v.pop().unwrap_or_else(|| RingTensor::zeros(x.ring(), x.shape())))
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
    fn reference(&self, _: FixedPoint, inputs: &[RingTensor]) -> Result<RingTensor, ProtocolError> {
        Ok(take::<_, 1>(self.name(), inputs)?[0].clone())
    }
    fn ideal(&self, inputs: &[ArrayD<f64>]) -> Result<ArrayD<f64>, ProtocolError> {
        Ok(take::<_, 1>(self.name(), inputs)?[0].clone())
    }
    fn tolerance_ulp(&self, _: FixedPoint) -> u64 {
        0
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
    fn reference(&self, _: FixedPoint, inputs: &[RingTensor]) -> Result<RingTensor, ProtocolError> {
        Ok(take::<_, 1>(self.name(), inputs)?[0].clone())
    }
    fn ideal(&self, inputs: &[ArrayD<f64>]) -> Result<ArrayD<f64>, ProtocolError> {
        Ok(take::<_, 1>(self.name(), inputs)?[0].clone())
    }
    fn tolerance_ulp(&self, _: FixedPoint) -> u64 {
        0
    }
}
