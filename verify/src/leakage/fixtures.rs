//! The self-test's fixtures: two sharings of the client's input that leak by construction,
//! grossly and barely, which the audit must catch. The clean fixture is the registered Beaver
//! product, `mul`.

use dyad_protocols::{Holder, InputSpec, Inputs, Protocol, ProtocolError, TruncMode};
use dyad_sim::{Channel, FixedPoint, Party, RingTensor, Role, Share};
use ndarray::ArrayD;
use rand::RngExt;

/// How a [`LeakyShare`] leaks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Leak {
    /// The client sends x + r with r drawn from [0, 2^8) rather than from the whole ring: the
    /// server's view shows x's high bits.
    NarrowMask,
    /// The client shares x properly, then sends one byte per element whose lowest bit is x's
    /// sign flipped with probability 1/5 (the other bits uniform): a bit whose frequency is 0.2
    /// under one setting and 0.8 under the other, a difference of 0.6, just above what the
    /// audit finds at its default run count (about 0.52).
    BiasedBit,
}

/// The client's input, secret-shared with the output right and the server's view leaking as
/// [`Leak`] says.
#[derive(Clone, Copy, Debug)]
pub struct LeakyShare(pub Leak);

impl Protocol for LeakyShare {
    fn name(&self) -> &'static str {
        match self.0 {
            Leak::NarrowMask => "fixture.narrow_mask",
            Leak::BiasedBit => "fixture.biased_bit",
        }
    }
    fn paper(&self) -> &'static str {
        "none: a deliberately leaky sharing, for `dyad leakage --self-test`"
    }
    fn computes(&self) -> &'static str {
        match self.0 {
            Leak::NarrowMask => "the client's input, shared as x + r with r < 2^8",
            Leak::BiasedBit => "the client's input, shared, plus a noisy copy of its sign",
        }
    }
    fn default_dims(&self) -> Vec<usize> {
        vec![8]
    }
    fn inputs(&self, dims: &[usize], _: FixedPoint) -> Result<Vec<InputSpec>, ProtocolError> {
        Ok(vec![InputSpec { name: "x".into(), shape: dims.to_vec(), holder: Holder::Client, range: (-8.0, 8.0) }])
    }
    fn run(&self, p: &mut Party, inputs: &Inputs) -> Result<Share, ProtocolError> {
        let shape = inputs.shape(self.name(), 0)?.to_vec();
        let ring = inputs.fixed.ring();
        if p.role() == Role::Server {
            let share = Share::new(p.recv_tensor(ring, &shape)?);
            if self.0 == Leak::BiasedBit {
                p.recv_bytes()?;
            }
            return Ok(share);
        }
        let x = inputs
            .plain(self.name(), 0)?
            .ok_or(ProtocolError::Config { protocol: self.name(), reason: "the client has no input".into() })?;
        match self.0 {
            Leak::NarrowMask => {
                let narrow = (0..x.len()).map(|_| p.rng().random_range(0..256u64)).collect();
                let r = RingTensor::from_vec(ring, &shape, narrow)?;
                p.send_tensor(&x.add(&r)?)?;
                Ok(Share::new(r.neg()))
            }
            Leak::BiasedBit => {
                let (theirs, mine) = Share::split(x, p.rng());
                p.send_tensor(theirs.tensor())?;
                let top = ring.bits() - 1;
                let side: Vec<u8> = x
                    .to_vec()
                    .into_iter()
                    .map(|v| {
                        let flip = u8::from(p.rng().random_range(0..5) == 0);
                        let sign = u8::from((v >> top) & 1 == 1);
                        (p.rng().random::<u8>() & 0xFE) | (sign ^ flip)
                    })
                    .collect();
                p.send_bytes(side)?;
                Ok(mine)
            }
        }
    }
    fn reference(&self, _: FixedPoint, inputs: &[RingTensor]) -> Result<RingTensor, ProtocolError> {
        Ok(inputs[0].clone())
    }
    fn ideal(&self, inputs: &[ArrayD<f64>]) -> Result<ArrayD<f64>, ProtocolError> {
        Ok(inputs[0].clone())
    }
    fn tolerance_ulp(&self, _: FixedPoint, _: TruncMode) -> u64 {
        0
    }
    fn ideal_tolerance(&self, fx: FixedPoint) -> f64 {
        fx.ulp()
    }
}
