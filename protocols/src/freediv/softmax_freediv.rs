//! Softmax freeDiv (freeDiv, JCRD 2024; inferred, see [`crate::freediv`]): exp(S − max) scaled
//! by a public constant instead of divided by the secret row sum.

use dyad_reference::Fx;
use dyad_sim::{FixedPoint, Formula, Party, RingTensor, Share};
use ndarray::{ArrayD, Axis};

use super::BEFORE_DISTILLATION;
use super::rows::{RowScale, rows_dims};
use crate::blocks::activation::{AttentionFunction, ExpMethod, softmax_rows};
use crate::blocks::arith::scale_public;
use crate::blocks::max::{max_cost, max_last};
use crate::blocks::share::repeat_last;
use crate::blocks::trunc::truncate_cost;
use crate::error::ProtocolError;
use crate::protocol::TruncMode;
use crate::protocol::{Activation, InputSpec, Inputs, ModelShape, Protocol, matrix, row_len, shared, take};

/// Softmax freeDiv: exp(x − max)·κ.
#[derive(Clone, Debug)]
pub struct SoftmaxFreeDiv {
    /// Registry name.
    pub name: &'static str,
    /// The exp.
    pub exp: ExpMethod,
    /// κ.
    pub scale: RowScale,
}

impl AttentionFunction for SoftmaxFreeDiv {
    fn rows(&self, p: &mut Party, fx: FixedPoint, x: &Share, trunc: TruncMode) -> Result<Share, ProtocolError> {
        let n = row_len(self.name, x.shape())?;
        p.scope("softmax_freediv", |p| {
            let m = max_last(p, x)?;
            let d = x.sub(&repeat_last(&m, n)?)?;
            let e = self.exp.secure(p, fx, &d, trunc)?;
            scale_public(p, fx, &e, self.scale.value(n, 0.0), trunc)
        })
    }
    fn rows_reference(&self, fx: FixedPoint, x: &RingTensor) -> Result<RingTensor, ProtocolError> {
        let n = row_len(self.name, x.shape())?;
        let (f, ring) = (Fx::new(fx), fx.ring());
        let k = fx.encode(self.scale.value(n, 0.0))?;
        let mut out = Vec::with_capacity(x.len());
        for row in x.to_vec().chunks(n) {
            let m = row.iter().copied().max_by_key(|&v| ring.signed(v)).unwrap_or(0);
            let d = RingTensor::from_vec(ring, &[n], row.iter().map(|&v| f.sub(v, m)).collect())?;
            out.extend(self.exp.reference(fx, &d)?.to_vec().into_iter().map(|e| f.mul(e, k)));
        }
        Ok(RingTensor::from_vec(ring, x.shape(), out)?)
    }
    fn rows_cost(
        &self,
        f: &mut Formula,
        fx: FixedPoint,
        (rows, n): (usize, usize),
        trunc: TruncMode,
    ) -> Result<(), ProtocolError> {
        max_cost(f, fx.ring(), rows, n);
        self.exp.cost(f, fx, rows * n, trunc)?;
        truncate_cost(f, fx.ring(), rows * n, fx.frac(), trunc);
        Ok(())
    }
    fn rows_float(&self, x: &ArrayD<f64>) -> ArrayD<f64> {
        let mut out = x.clone();
        for mut row in out.lanes_mut(Axis(x.ndim() - 1)) {
            let n = row.len();
            let m = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let k = self.scale.value(n, 0.0);
            row.mapv_inplace(|v| self.exp.float(v - m) * k);
        }
        out
    }
}

impl Protocol for SoftmaxFreeDiv {
    fn name(&self) -> &'static str {
        self.name
    }
    fn paper(&self) -> &'static str {
        "freeDiv (JCRD 2024): Softmax freeDiv attention (inferred, see freediv docs)"
    }
    fn computes(&self) -> &'static str {
        "exp(x − max)·κ per row, κ = 1/n: Softmax without the secret division"
    }
    fn model_dims(&self, m: &ModelShape) -> Vec<usize> {
        vec![m.heads * m.seq, m.seq]
    }
    fn default_dims(&self) -> Vec<usize> {
        vec![12, 128]
    }
    fn inputs(&self, dims: &[usize], fx: FixedPoint) -> Result<Vec<InputSpec>, ProtocolError> {
        rows_dims(self.name, dims)?;
        let half = self.exp.safe_span(fx) / 2.0;
        Ok(vec![shared("x", dims, (-half, half))])
    }
    fn run(&self, p: &mut Party, inputs: &Inputs) -> Result<Share, ProtocolError> {
        self.rows(p, inputs.fixed, inputs.share(self.name, 0)?, inputs.trunc)
    }
    fn cost(&self, f: &mut Formula, dims: &[usize], fx: FixedPoint, trunc: TruncMode) -> Option<()> {
        let shape = matrix(self.name, dims).ok()?;
        self.rows_cost(f, fx, shape, trunc).ok()?;
        Some(())
    }
    fn reference(&self, fx: FixedPoint, inputs: &[RingTensor]) -> Result<RingTensor, ProtocolError> {
        let [x] = take(self.name, inputs)?;
        self.rows_reference(fx, x)
    }
    fn ideal(&self, inputs: &[ArrayD<f64>]) -> Result<ArrayD<f64>, ProtocolError> {
        let [x] = take(self.name, inputs)?;
        Ok(softmax_rows(x))
    }
    fn approximation(&self, inputs: &[ArrayD<f64>]) -> Result<ArrayD<f64>, ProtocolError> {
        let [x] = take(self.name, inputs)?;
        Ok(self.rows_float(x))
    }
    fn tolerance_ulp(&self, _: FixedPoint, trunc: TruncMode) -> u64 {
        trunc.tolerance(self.exp.tolerance() + 2)
    }
    fn ideal_tolerance(&self, _: FixedPoint) -> f64 {
        // Not an approximation of Softmax: only the trivial bound holds (both lie in [0, 1]).
        1.0
    }
    fn activation(&self) -> Option<Activation> {
        Some(Activation::Softmax)
    }
    fn audit_note(&self) -> Option<&'static str> {
        Some(BEFORE_DISTILLATION)
    }
}
