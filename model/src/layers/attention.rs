//! The attention block: scores S = Q·Kᵀ/√d per head (secret × secret products by matrix
//! triples), any attention function on every row of S, then A·V.
//!
//! Q, K and V are shared `[heads, seq, d]` tensors (the outputs of the projections, which the
//! linear layers compute). The ideal is real attention, softmax(Q·Kᵀ/√d)·V, whatever function
//! is plugged in, so the error of a replacement (freeDiv, 2Quad) shows before distillation.

use std::sync::Arc;

use dyad_reference::arith as reference;
use dyad_sim::correlation::MatDims;
use dyad_sim::{FixedPoint, Formula, Party, RingTensor, Share};
use ndarray::{ArrayD, Axis, Ix3};

use dyad_protocols::TruncMode;
use dyad_protocols::blocks::activation::{AttentionFunction, softmax_rows};
use dyad_protocols::blocks::arith::scale_public;
use dyad_protocols::blocks::matmul::{matmul, matmul_cost};
use dyad_protocols::blocks::trunc::truncate_cost;
use dyad_protocols::chunk::{self, CHUNK_ELEMENTS};
use dyad_protocols::error::ProtocolError;
use dyad_protocols::protocol::{Input, InputSpec, Inputs, ModelShape, Protocol, shared, take};

/// An attention block with a chosen attention function.
#[derive(Clone)]
pub struct AttentionBlock {
    /// Registry name.
    pub name: &'static str,
    /// What fills the Softmax slot.
    pub function: Arc<dyn AttentionFunction>,
}

impl std::fmt::Debug for AttentionBlock {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AttentionBlock")
            .field("name", &self.name)
            .field("function", &self.function.name())
            .field("function_definition", &self.function.definition())
            .finish()
    }
}

fn dims3(protocol: &'static str, dims: &[usize]) -> Result<(usize, usize, usize), ProtocolError> {
    match dims {
        [h, s, d] if *h > 0 && *s > 0 && *d > 0 => Ok((*h, *s, *d)),
        _ => Err(ProtocolError::Dims { protocol, dims: dims.to_vec(), expected: "heads,seq,d".into() }),
    }
}

/// Attention of shared Q, K, V (`[h, s, d]`) with `function` in the Softmax slot.
pub fn attention(
    p: &mut Party,
    fx: FixedPoint,
    trunc: TruncMode,
    function: &dyn AttentionFunction,
    q: &Share,
    k: &Share,
    v: &Share,
) -> Result<Share, ProtocolError> {
    let (h, s, d) = match q.shape() {
        [h, s, d] => (*h, *s, *d),
        other => {
            return Err(ProtocolError::Dims {
                protocol: "attention",
                dims: other.to_vec(),
                expected: "Q as heads,seq,d".into(),
            });
        }
    };
    p.scope("attention", |p| {
        let kt = Share::new(k.tensor().transpose_last()?);
        let raw = p.scope("scores", |p| matmul(p, fx, q, &kt, trunc))?;
        let scores = scale_public(p, fx, &raw, 1.0 / (d as f64).sqrt(), trunc)?;
        let rows = Inputs { fixed: fx, trunc, values: vec![Input::Share(scores.reshape(&[h * s, s])?)] };
        let a = chunk::run(function, p, &rows, CHUNK_ELEMENTS)?;
        p.scope("context", |p| matmul(p, fx, &a.reshape(&[h, s, s])?, v, trunc))
    })
}

/// The formula of [`attention`] for dims (h, s, d): the scores' matrix product, their scaling,
/// the function on h·s rows of s (in pieces when they are many, [`chunk`]), the context's
/// matrix product.
pub fn attention_cost(
    f: &mut Formula,
    fx: FixedPoint,
    trunc: TruncMode,
    function: &dyn AttentionFunction,
    (h, s, d): (usize, usize, usize),
) -> Result<(), ProtocolError> {
    matmul_cost(f, fx, MatDims { batch: Some(h), m: s, k: d, n: s }, trunc);
    truncate_cost(f, fx.ring(), h * s * s, fx.frac(), trunc);
    chunk::cost(function, f, &[h * s, s], fx, trunc, CHUNK_ELEMENTS).ok_or_else(|| ProtocolError::Config {
        protocol: "attention",
        reason: format!("{} states no cost formula at {h}·{s} rows of {s}", function.name()),
    })?;
    matmul_cost(f, fx, MatDims { batch: Some(h), m: s, k: s, n: d }, trunc);
    Ok(())
}

fn float_attention(
    q: &ArrayD<f64>,
    k: &ArrayD<f64>,
    v: &ArrayD<f64>,
    rows: impl Fn(&ArrayD<f64>) -> ArrayD<f64>,
) -> Result<ArrayD<f64>, ProtocolError> {
    let bad =
        || ProtocolError::Dims { protocol: "attention", dims: q.shape().to_vec(), expected: "heads,seq,d".into() };
    let (q, k, v) = (
        q.view().into_dimensionality::<Ix3>().map_err(|_| bad())?,
        k.view().into_dimensionality::<Ix3>().map_err(|_| bad())?,
        v.view().into_dimensionality::<Ix3>().map_err(|_| bad())?,
    );
    let d = q.shape()[2] as f64;
    let mut outs = Vec::new();
    for ((qh, kh), vh) in q.outer_iter().zip(k.outer_iter()).zip(v.outer_iter()) {
        let scores = (qh.dot(&kh.t()) / d.sqrt()).into_dyn();
        let a = rows(&scores).into_dimensionality::<ndarray::Ix2>().map_err(|_| bad())?;
        outs.push(a.dot(&vh));
    }
    let views: Vec<_> = outs.iter().map(|o| o.view()).collect();
    Ok(ndarray::stack(Axis(0), &views).map_err(|_| bad())?.into_dyn())
}

impl Protocol for AttentionBlock {
    fn name(&self) -> &'static str {
        self.name
    }
    fn paper(&self) -> &'static str {
        "attention block (Vaswani et al. 2017) with the attention function of its name"
    }
    fn computes(&self) -> &'static str {
        "f(Q·Kᵀ/√d)·V per head for shared Q, K, V (dims heads,seq,d)"
    }
    fn model_dims(&self, m: &ModelShape) -> Vec<usize> {
        vec![m.heads, m.seq, m.head_dim()]
    }
    fn default_dims(&self) -> Vec<usize> {
        vec![2, 8, 4]
    }
    fn inputs(&self, dims: &[usize], fx: FixedPoint) -> Result<Vec<InputSpec>, ProtocolError> {
        let (h, s, d) = dims3(self.name, dims)?;
        // Keep every score inside the function's documented domain: |q·k|·d/√d ≤ its half-width.
        let specs = self.function.inputs(&[h * s, s], fx)?;
        let (lo, hi) = specs.first().map_or((-1.0, 1.0), |sp| sp.range);
        if !(lo < 0.0 && 0.0 < hi) {
            return Err(ProtocolError::Config {
                protocol: self.name,
                reason: format!(
                    "{} is only safe for scores in [{lo:.2}, {hi:.2}] at this ring, which excludes scores near 0; use ℓ = 64",
                    self.function.name()
                ),
            });
        }
        let half = lo.abs().min(hi.abs()).min(8.0);
        let b = (half / (d as f64).sqrt()).sqrt().min(1.0);
        let shape = [h, s, d];
        Ok(vec![shared("q", &shape, (-b, b)), shared("k", &shape, (-b, b)), shared("v", &shape, (-1.0, 1.0))])
    }
    fn run(&self, p: &mut Party, inputs: &Inputs) -> Result<Share, ProtocolError> {
        let (q, k, v) = (inputs.share(self.name, 0)?, inputs.share(self.name, 1)?, inputs.share(self.name, 2)?);
        attention(p, inputs.fixed, inputs.trunc, self.function.as_ref(), q, k, v)
    }
    fn cost(&self, f: &mut Formula, dims: &[usize], fx: FixedPoint, trunc: TruncMode) -> Option<()> {
        let dims = dims3(self.name, dims).ok()?;
        attention_cost(f, fx, trunc, self.function.as_ref(), dims).ok()
    }
    fn reference(&self, fx: FixedPoint, inputs: &[RingTensor]) -> Result<RingTensor, ProtocolError> {
        let [q, k, v] = take(self.name, inputs)?;
        let (h, s) = (q.shape()[0], q.shape()[1]);
        let d = q.shape()[2];
        let raw = reference::matmul(fx, q, &k.transpose_last()?)?;
        let scores = reference::scale(fx, &raw, fx.encode(1.0 / (d as f64).sqrt())?);
        let a = self.function.rows_reference(fx, &scores.reshape(&[h * s, s])?)?;
        Ok(reference::matmul(fx, &a.reshape(&[h, s, s])?, v)?)
    }
    fn ideal(&self, inputs: &[ArrayD<f64>]) -> Result<ArrayD<f64>, ProtocolError> {
        let [q, k, v] = take(self.name, inputs)?;
        float_attention(q, k, v, softmax_rows)
    }
    fn approximation(&self, inputs: &[ArrayD<f64>]) -> Result<ArrayD<f64>, ProtocolError> {
        let [q, k, v] = take(self.name, inputs)?;
        float_attention(q, k, v, |x| self.function.rows_float(x))
    }
    fn tolerance_ulp(&self, fx: FixedPoint, trunc: TruncMode) -> u64 {
        // Two truncations in the scores move each score by up to 2 ULPs, which moves an output of
        // the function by at most about as much; each entry of A·V sums seq such entries times
        // |V| ≤ 1, plus the function's own error and the final truncation.
        let f = self.function.tolerance_ulp(fx, trunc);
        trunc.tolerance((f + 4).saturating_mul(128) + 2)
    }
    fn generated_tolerance_ulp(&self, fx: FixedPoint, trunc: TruncMode) -> u64 {
        // As above, with each matrix product one ULP further off (its HE triple's error).
        let f = self.function.generated_tolerance_ulp(fx, trunc);
        (trunc.tolerance(f + 4) + 1).saturating_mul(128) + trunc.tolerance(2) + 1
    }
    fn ideal_tolerance(&self, fx: FixedPoint) -> f64 {
        self.function.ideal_tolerance(fx).min(f64::MAX / 128.0) * 128.0
    }
}
