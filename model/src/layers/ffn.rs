//! The feed-forward block: Y = GELU(X·W1)·W2 with a suite's linear protocol and GELU (or its
//! Quad replacement). Biases are left to the caller (adding a public or shared bias is local).

use std::sync::Arc;

use dyad_reference::arith as reference;
use dyad_sim::{FixedPoint, Formula, Party, RingTensor, Share};
use ndarray::{ArrayD, Ix2};

use crate::layers::linear::{LinearKind, linear, linear_cost};
use dyad_protocols::TruncMode;
use dyad_protocols::chunk::{self, CHUNK_ELEMENTS};
use dyad_protocols::error::ProtocolError;
use dyad_protocols::linear::{self as rlwe_linear, weight_bound};
use dyad_protocols::protocol::{Holder, InputSpec, Inputs, ModelShape, Protocol, matrix, shared, take};

/// A feed-forward block.
#[derive(Clone)]
pub struct FfnBlock {
    /// Registry name.
    pub name: &'static str,
    /// The linear protocol.
    pub linear: LinearKind,
    /// The GELU.
    pub gelu: Arc<dyn Protocol>,
}

impl std::fmt::Debug for FfnBlock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FfnBlock")
            .field("name", &self.name)
            .field("linear", &self.linear)
            .field("gelu", &self.gelu.name())
            .field("gelu_definition", &self.gelu.definition())
            .finish()
    }
}

/// The GELU protocol on a shared tensor, piece by piece when it is large ([`chunk`]).
pub fn apply(
    p: &mut Party,
    f: &dyn Protocol,
    fx: FixedPoint,
    trunc: TruncMode,
    x: &Share,
) -> Result<Share, ProtocolError> {
    let inputs = Inputs { fixed: fx, trunc, values: vec![dyad_protocols::protocol::Input::Share(x.clone())] };
    chunk::run(f, p, &inputs, CHUNK_ELEMENTS)
}

impl Protocol for FfnBlock {
    fn name(&self) -> &'static str {
        self.name
    }
    fn paper(&self) -> &'static str {
        "feed-forward block (Vaswani et al. 2017) with the linear layer and GELU of its name"
    }
    fn computes(&self) -> &'static str {
        "GELU(X·W1)·W2 for shared X [k,h] and the server's W1 [h,f], W2 [f,h] (dims k,h,f)"
    }
    fn model_dims(&self, m: &ModelShape) -> Vec<usize> {
        vec![m.seq, m.hidden, m.ffn]
    }
    fn default_dims(&self) -> Vec<usize> {
        vec![4, 16, 32]
    }
    fn inputs(&self, dims: &[usize], fx: FixedPoint) -> Result<Vec<InputSpec>, ProtocolError> {
        let (k, h, f) = match dims {
            [k, h, f] if *k > 0 && *h > 0 && *f > 0 => (*k, *h, *f),
            _ => {
                return Err(ProtocolError::Dims { protocol: self.name, dims: dims.to_vec(), expected: "k,h,f".into() });
            }
        };
        // Keep X·W1 inside the GELU's safe domain at this ring.
        let (lo, hi) = self.gelu.inputs(&[1], fx)?.first().map_or((-1.0, 1.0), |s| s.range);
        let b1 = weight_bound(fx, h).min(lo.abs().min(hi.abs()) / h as f64);
        let b2 = weight_bound(fx, f);
        Ok(vec![
            shared("x", &[k, h], (-1.0, 1.0)),
            InputSpec { name: "w1".into(), shape: vec![h, f], holder: Holder::Server, range: (-b1, b1) },
            InputSpec { name: "w2".into(), shape: vec![f, h], holder: Holder::Server, range: (-b2, b2) },
        ])
    }
    fn run(&self, p: &mut Party, inputs: &Inputs) -> Result<Share, ProtocolError> {
        let x = inputs.share(self.name, 0)?;
        let (_, f) = matrix(self.name, inputs.shape(self.name, 1)?)?;
        let (_, h) = matrix(self.name, x.shape())?;
        let (fx, trunc) = (inputs.fixed, inputs.trunc);
        let hidden = p.scope("ffn.up", |p| linear(p, self.linear, fx, trunc, inputs.plain(self.name, 1)?, x, f))?;
        let g = p.scope("ffn.gelu", |p| apply(p, self.gelu.as_ref(), fx, trunc, &hidden))?;
        p.scope("ffn.down", |p| linear(p, self.linear, fx, trunc, inputs.plain(self.name, 2)?, &g, h))
    }
    fn cost(&self, f: &mut Formula, dims: &[usize], fx: FixedPoint, trunc: TruncMode) -> Option<()> {
        let &[k, h, width] = dims else { return None };
        linear_cost(f, self.linear, fx, trunc, (k, h, width)).ok()?;
        chunk::cost(self.gelu.as_ref(), f, &[k, width], fx, trunc, CHUNK_ELEMENTS)?;
        linear_cost(f, self.linear, fx, trunc, (k, width, h)).ok()
    }
    fn reference(&self, fx: FixedPoint, inputs: &[RingTensor]) -> Result<RingTensor, ProtocolError> {
        let [x, w1, w2] = take(self.name, inputs)?;
        let hidden = reference::matmul(fx, x, w1)?;
        let g = self.gelu.reference(fx, std::slice::from_ref(&hidden))?;
        Ok(reference::matmul(fx, &g, w2)?)
    }
    fn ideal(&self, inputs: &[ArrayD<f64>]) -> Result<ArrayD<f64>, ProtocolError> {
        let [x, w1, w2] = take(self.name, inputs)?;
        let m = |a: &ArrayD<f64>| a.view().into_dimensionality::<Ix2>().map(|v| v.to_owned());
        let bad = |_| ProtocolError::Dims { protocol: self.name, dims: x.shape().to_vec(), expected: "2-D".into() };
        let hidden = m(x).map_err(bad)?.dot(&m(w1).map_err(bad)?);
        let g = hidden.mapv(dyad_reference::ideal::gelu);
        Ok(g.dot(&m(w2).map_err(bad)?).into_dyn())
    }
    fn approximation(&self, inputs: &[ArrayD<f64>]) -> Result<ArrayD<f64>, ProtocolError> {
        let [x, w1, w2] = take(self.name, inputs)?;
        let m = |a: &ArrayD<f64>| a.view().into_dimensionality::<Ix2>().map(|v| v.to_owned());
        let bad = |_| ProtocolError::Dims { protocol: self.name, dims: x.shape().to_vec(), expected: "2-D".into() };
        let hidden = m(x).map_err(bad)?.dot(&m(w1).map_err(bad)?).into_dyn();
        let g = self
            .gelu
            .approximation(&[hidden])?
            .into_dimensionality::<Ix2>()
            .map_err(|_| bad(ndarray::ShapeError::from_kind(ndarray::ErrorKind::IncompatibleShape)))?;
        Ok(g.dot(&m(w2).map_err(bad)?).into_dyn())
    }
    fn tolerance_ulp(&self, fx: FixedPoint, trunc: TruncMode) -> u64 {
        // The up-projection's error (1 or 2 ULPs, see the linear layers) passes through the GELU
        // (slope ≤ 1.2) beside the GELU's own; the down-projection weights f of them by W2 —
        // at most 64 in total for the documented weights — and adds its own.
        let lin = match self.linear {
            LinearKind::Dealer => trunc.tolerance(1),
            LinearKind::Cop | LinearKind::Sip => rlwe_linear::tolerance(trunc),
        };
        let g = self.gelu.tolerance_ulp(fx, trunc);
        64 * (2 * lin + g) + lin
    }
    fn generated_tolerance_ulp(&self, fx: FixedPoint, trunc: TruncMode) -> u64 {
        // As above, with the dealer layers' matrix products one ULP further off (HE triples).
        let lin = match self.linear {
            LinearKind::Dealer => trunc.tolerance(1) + 1,
            LinearKind::Cop | LinearKind::Sip => rlwe_linear::tolerance(trunc),
        };
        let g = self.gelu.generated_tolerance_ulp(fx, trunc);
        64 * (2 * lin + g) + lin
    }
    fn ideal_tolerance(&self, fx: FixedPoint) -> f64 {
        self.gelu.ideal_tolerance(fx) * 4.0
    }
}
