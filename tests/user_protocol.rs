//! A user's own protocol on the whole command line, in-process through `dyad::cli::run_args`:
//! implementing `Protocol` is all it takes for `run`, `cost` and `regress` to reach it, and a
//! protocol that misses its reference, or does not fit it at all, exits 1.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use dyad::protocols::blocks::beaver::mul_ring;

use dyad::protocols::blocks::trunc::truncate;
use dyad::protocols::{Holder, InputSpec, Inputs, Protocol, ProtocolError, TruncMode};
use dyad::sim::{FixedPoint, Party, RingTensor, Share};
use ndarray::ArrayD;

/// What a test protocol's reference gets wrong.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Fault {
    None,
    /// Off by 16 ULPs everywhere: far outside the tolerance.
    Values,
    /// One element short: not even the output's shape.
    Shape,
}

/// x², with its reference as wrong as `fault` says.
#[derive(Debug)]
struct Square {
    fault: Fault,
}

impl Protocol for Square {
    fn name(&self) -> &'static str {
        match self.fault {
            Fault::None => "user.square",
            Fault::Values => "user.square_wrong",
            Fault::Shape => "user.square_misshapen",
        }
    }
    fn paper(&self) -> &'static str {
        "a user's test protocol"
    }
    fn computes(&self) -> &'static str {
        "x²"
    }
    fn default_dims(&self) -> Vec<usize> {
        vec![16]
    }
    fn inputs(&self, dims: &[usize], _: FixedPoint) -> Result<Vec<InputSpec>, ProtocolError> {
        Ok(vec![InputSpec { name: "x".into(), shape: dims.to_vec(), holder: Holder::Shared, range: (-4.0, 4.0) }])
    }
    fn run(&self, p: &mut Party, inputs: &Inputs) -> Result<Share, ProtocolError> {
        let x = inputs.share(self.name(), 0)?;
        let xx = mul_ring(p, x, x)?;
        truncate(p, &xx, inputs.fixed.frac(), inputs.trunc)
    }
    fn reference(&self, fx: FixedPoint, inputs: &[RingTensor]) -> Result<RingTensor, ProtocolError> {
        let exact = dyad::reference::arith::square(fx, &inputs[0]);
        Ok(match self.fault {
            Fault::None => exact,
            Fault::Values => exact.offset(16),
            Fault::Shape => {
                let v = exact.to_vec();
                RingTensor::from_vec(fx.ring(), &[v.len() - 1], v[1..].to_vec())?
            }
        })
    }
    fn ideal(&self, inputs: &[ArrayD<f64>]) -> Result<ArrayD<f64>, ProtocolError> {
        Ok(inputs[0].mapv(|v| v * v))
    }
    fn tolerance_ulp(&self, _: FixedPoint, trunc: TruncMode) -> u64 {
        trunc.tolerance(1)
    }
    fn ideal_tolerance(&self, fx: FixedPoint) -> f64 {
        fx.ulp()
    }
}

fn users() -> Vec<Box<dyn Protocol>> {
    [Fault::None, Fault::Values, Fault::Shape].map(|fault| Box::new(Square { fault }) as Box<dyn Protocol>).into()
}

fn dyad(args: &[&str]) -> u8 {
    dyad::cli::run_args(std::iter::once("dyad").chain(args.iter().copied()), users())
}

#[test]
fn a_user_protocol_runs_and_costs_beside_the_built_in_ones() {
    assert_eq!(dyad(&["list"]), 0);
    assert_eq!(dyad(&["run", "user.square", "--format", "json"]), 0);
    assert_eq!(dyad(&["run", "user.square", "--ring", "32", "--trunc", "faithful"]), 0);
    assert_eq!(dyad(&["cost", "user.square", "--shapes", "ci"]), 0);
}

#[test]
fn a_protocol_that_misses_its_reference_exits_1_and_bad_usage_exits_2() {
    assert_eq!(dyad(&["run", "user.square_wrong"]), 1);
    assert_eq!(dyad(&["run", "user.square_misshapen"]), 1, "a reference of another shape is the protocol's bug");
    assert_eq!(dyad(&["run", "user.nope"]), 2);
    assert_eq!(dyad(&["run", "user.square", "--ring", "48"]), 2);
    let taken = dyad::cli::run_args(
        ["dyad", "list"],
        vec![Box::new(Square { fault: Fault::None }), Box::new(Square { fault: Fault::None })],
    );
    assert_eq!(taken, 2, "a name registered twice is refused");
}
