//! `layer.<suite>`: one encoder layer of a suite as a registered protocol, so that `dyad cost`,
//! the regression gate and the claims view measure whole layers (at BERT-base shape with
//! random weights, say) exactly as they measure blocks.

use dyad_sim::{FixedPoint, Formula, Party, Phase, RingTensor, Share};
use ndarray::{Array2, ArrayD, Axis, Ix1, Ix2, IxDyn};

use super::reference;
use super::secure::{Encoder, Precision};
use super::suite::Suite;
use super::weights::{EncoderWeights, LayerWeights, LinearWeights, NormWeights};
use crate::registry::Registry;
use dyad_protocols::TruncMode;
use dyad_protocols::error::ProtocolError;
use dyad_protocols::linear::weight_bound;
use dyad_protocols::protocol::{Holder, InputSpec, Inputs, ModelShape, Protocol, matrix, shared};

/// Names of the server's inputs after x, in order.
const WEIGHTS: [&str; 16] =
    ["wq", "bq", "wk", "bk", "wv", "bv", "wo", "bo", "g1", "b1", "w_up", "b_up", "w_down", "b_down", "g2", "b2"];

/// One encoder layer of a suite.
#[derive(Clone, Debug)]
pub struct EncoderLayer {
    /// Registry name.
    pub name: &'static str,
    /// The suite.
    pub encoder: Encoder,
}

/// Heads for a hidden size, as in BERT-base (64 per head from 768 up) and MiniLM (32 per head
/// below): 12 for both, one head for hidden sizes under 32.
pub fn heads_for(hidden: usize) -> usize {
    let d = if hidden >= 768 { 64 } else { 32 };
    (hidden / d).max(1)
}

fn shape_of(protocol: &'static str, dims: &[usize]) -> Result<ModelShape, ProtocolError> {
    let (k, h, f, heads) = match *dims {
        [k, h, f] => (k, h, f, heads_for(h)),
        [k, h, f, heads] => (k, h, f, heads),
        _ => (0, 0, 0, 0),
    };
    if k > 0 && h > 0 && f > 0 && heads > 0 && h % heads == 0 {
        Ok(ModelShape { seq: k, hidden: h, heads, ffn: f })
    } else {
        Err(ProtocolError::Dims {
            protocol,
            dims: dims.to_vec(),
            expected: "seq,hidden,ffn[,heads] with heads dividing hidden (heads by default: hidden/64 from 768 \
                       up, hidden/32 below)"
                .into(),
        })
    }
}

/// W_Q comes per head, `[hidden, heads, hidden/heads]` (the architecture is public): the head
/// count a layer's inputs carry.
fn heads_of(protocol: &'static str, w_q: Option<&[usize]>) -> Result<usize, ProtocolError> {
    match w_q {
        Some([_, heads, _]) if *heads > 0 => Ok(*heads),
        _ => Err(ProtocolError::Input { protocol, index: 1, expected: "W_Q as [hidden, heads, hidden/heads]".into() }),
    }
}

fn weights_from(inputs: &[RingTensor], shape: ModelShape, eps: f64) -> Option<EncoderWeights> {
    let h = shape.hidden;
    let t = |i: usize| match i {
        0 => inputs.first()?.reshape(&[h, h]).ok(),
        _ => inputs.get(i).cloned(),
    };
    let lin = |w: usize| Some(LinearWeights { w: t(w)?, b: t(w + 1)? });
    let norm = |g: usize| Some(NormWeights { gamma: t(g)?, beta: t(g + 1)? });
    Some(EncoderWeights {
        shape,
        eps,
        layers: vec![LayerWeights {
            linears: [lin(0)?, lin(2)?, lin(4)?, lin(6)?, lin(10)?, lin(12)?],
            norms: [norm(8)?, norm(14)?],
        }],
    })
}

fn float_linear(x: &Array2<f64>, w: &ArrayD<f64>, b: &ArrayD<f64>) -> Option<Array2<f64>> {
    let w = w.view().into_dimensionality::<Ix2>().ok()?;
    let b = b.view().into_dimensionality::<Ix1>().ok()?;
    Some(x.dot(&w) + b)
}

fn float_norm(x: &Array2<f64>, g: &ArrayD<f64>, b: &ArrayD<f64>, eps: f64) -> Option<Array2<f64>> {
    let (g, b) = (g.view().into_dimensionality::<Ix1>().ok()?, b.view().into_dimensionality::<Ix1>().ok()?);
    let mut out = x.clone();
    for mut row in out.axis_iter_mut(Axis(0)) {
        let n = row.len() as f64;
        let mean = row.sum() / n;
        let var = row.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
        let rs = 1.0 / (var + eps).sqrt();
        row.iter_mut().zip(g.iter().zip(b.iter())).for_each(|(v, (gj, bj))| *v = (*v - mean) * rs * gj + bj);
    }
    Some(out)
}

impl EncoderLayer {
    /// The layer of `suite` (with LayerNorm ε = 1e-12), its slots filled from `registry`.
    pub fn new(name: &'static str, suite: &Suite, registry: &Registry) -> Result<Self, ProtocolError> {
        let encoder = Encoder::new(suite, 1e-12, registry)
            .map_err(|e| ProtocolError::Config { protocol: name, reason: e.to_string() })?;
        Ok(EncoderLayer { name, encoder })
    }

    /// The float64 layer with `rows` in the Softmax slot and `gelu` in the GELU slot.
    fn float(&self, inputs: &[ArrayD<f64>], heads: usize, exact: bool) -> Option<ArrayD<f64>> {
        let x = inputs.first()?.view().into_dimensionality::<Ix2>().ok()?.to_owned();
        let w = |i: usize| inputs.get(i);
        let (s, h) = (x.nrows(), x.ncols());
        let w_q = w(1)?.to_shape(IxDyn(&[h, h])).ok()?.to_owned();
        let (q, k, v) =
            (float_linear(&x, &w_q, w(2)?)?, float_linear(&x, w(3)?, w(4)?)?, float_linear(&x, w(5)?, w(6)?)?);
        let d = h / heads;
        let mut ctx = Array2::<f64>::zeros((s, h));
        for hd in 0..heads {
            let cols = ndarray::s![.., hd * d..(hd + 1) * d];
            let scores = (q.slice(cols).dot(&k.slice(cols).t()) / (d as f64).sqrt()).into_dyn();
            let a = if exact {
                dyad_protocols::blocks::activation::softmax_rows(&scores)
            } else {
                self.encoder.attention().rows_float(&scores)
            };
            let a = a.into_dimensionality::<Ix2>().ok()?;
            ctx.slice_mut(cols).assign(&a.dot(&v.slice(cols)));
        }
        let attn = float_linear(&ctx, w(7)?, w(8)?)?;
        let h1 = float_norm(&(attn + &x), w(9)?, w(10)?, 1e-12)?;
        let up = float_linear(&h1, w(11)?, w(12)?)?;
        let g = if exact {
            up.mapv(dyad_reference::ideal::gelu).into_dyn()
        } else {
            self.encoder.gelu().approximation(&[up.into_dyn()]).ok()?
        };
        let down = float_linear(&g.into_dimensionality::<Ix2>().ok()?, w(13)?, w(14)?)?;
        Some(float_norm(&(down + &h1), w(15)?, w(16)?, 1e-12)?.into_dyn())
    }
}

impl Protocol for EncoderLayer {
    fn name(&self) -> &'static str {
        self.name
    }
    fn paper(&self) -> &'static str {
        "one BERT encoder layer with the suite of its name (see `dyad e2e`)"
    }
    fn computes(&self) -> &'static str {
        "a whole encoder layer: QKV, attention, output, LayerNorm, FFN with GELU, LayerNorm (dims seq,hidden,ffn[,heads])"
    }
    fn default_dims(&self) -> Vec<usize> {
        vec![4, 64, 64]
    }
    fn model_dims(&self, m: &ModelShape) -> Vec<usize> {
        vec![m.seq, m.hidden, m.ffn, m.heads]
    }
    fn inputs(&self, dims: &[usize], fx: FixedPoint) -> Result<Vec<InputSpec>, ProtocolError> {
        let m = shape_of(self.name, dims)?;
        if fx.ring().bits() < 64 {
            return Err(ProtocolError::Config {
                protocol: self.name,
                reason: "a whole layer's LayerNorm and products overflow Z_2^32 at f = 13; use ℓ = 64".into(),
            });
        }
        let (h, f) = (m.hidden, m.ffn);
        let (bh, bf) =
            (weight_bound(fx, h).min(1.0 / (h as f64).sqrt()), weight_bound(fx, f).min(1.0 / (f as f64).sqrt()));
        let server = |name: &str, shape: Vec<usize>, range: (f64, f64)| InputSpec {
            name: name.into(),
            shape,
            holder: Holder::Server,
            range,
        };
        let mut specs = vec![shared("x", &[m.seq, h], (-2.0, 2.0))];
        for (i, name) in WEIGHTS.iter().enumerate() {
            specs.push(match i {
                0 => server(name, vec![h, m.heads, h / m.heads], (-bh, bh)),
                2 | 4 | 6 => server(name, vec![h, h], (-bh, bh)),
                10 => server(name, vec![h, f], (-bh, bh)),
                12 => server(name, vec![f, h], (-bf, bf)),
                8 | 14 => server(name, vec![h], (0.5, 1.5)),
                11 => server(name, vec![f], (-0.1, 0.1)),
                _ => server(name, vec![h], (-0.1, 0.1)),
            });
        }
        Ok(specs)
    }
    fn run(&self, p: &mut Party, inputs: &Inputs) -> Result<Share, ProtocolError> {
        let x = inputs.share(self.name, 0)?;
        let (seq, hidden) = matrix(self.name, x.shape())?;
        let &[ffn] = inputs.shape(self.name, 12)? else {
            return Err(ProtocolError::Input {
                protocol: self.name,
                index: 12,
                expected: "the FFN bias b1 [ffn]".into(),
            });
        };
        let shape = ModelShape { seq, hidden, heads: heads_of(self.name, Some(inputs.shape(self.name, 1)?))?, ffn };
        let plain: Option<Vec<RingTensor>> =
            (1..=WEIGHTS.len()).map(|i| inputs.plain(self.name, i).ok().flatten().cloned()).collect();
        let prec = Precision { fixed: inputs.fixed, trunc: inputs.trunc };
        let weights = plain.and_then(|w| weights_from(&w, shape, 1e-12));
        let state = p.in_phase(Phase::Setup, |p| self.encoder.setup(p, inputs.fixed, weights.as_ref(), &shape, 1))?;
        let mut out = self.encoder.forward(p, prec, &state, weights.as_ref(), &shape, x)?;
        out.pop().ok_or(ProtocolError::Config { protocol: self.name, reason: "no layer output".into() })
    }
    fn cost(&self, f: &mut Formula, dims: &[usize], fx: FixedPoint, trunc: TruncMode) -> Option<()> {
        let shape = shape_of(self.name, dims).ok()?;
        (fx.ring().bits() >= 64).then_some(())?;
        self.encoder.cost(f, Precision { fixed: fx, trunc }, &shape, 1).ok()
    }
    fn reference(&self, fx: FixedPoint, inputs: &[RingTensor]) -> Result<RingTensor, ProtocolError> {
        let x = inputs.first().ok_or(ProtocolError::Input { protocol: self.name, index: 0, expected: "x".into() })?;
        let (seq, hidden) = matrix(self.name, x.shape())?;
        let &[_, ffn] = inputs.get(11).map(RingTensor::shape).unwrap_or_default() else {
            return Err(ProtocolError::Input {
                protocol: self.name,
                index: 11,
                expected: "W_up as [hidden, ffn]".into(),
            });
        };
        let shape = ModelShape { seq, hidden, heads: heads_of(self.name, inputs.get(1).map(RingTensor::shape))?, ffn };
        let w = weights_from(&inputs[1..], shape, 1e-12).ok_or(ProtocolError::Input {
            protocol: self.name,
            index: 1,
            expected: "16 weight tensors".into(),
        })?;
        reference::forward(&self.encoder, fx, &w, x)?
            .pop()
            .ok_or(ProtocolError::Config { protocol: self.name, reason: "no layer".into() })
    }
    fn ideal(&self, inputs: &[ArrayD<f64>]) -> Result<ArrayD<f64>, ProtocolError> {
        self.float(inputs, heads_of(self.name, inputs.get(1).map(ArrayD::shape))?, true).ok_or(ProtocolError::Input {
            protocol: self.name,
            index: 0,
            expected: "x and 16 weight tensors".into(),
        })
    }
    fn approximation(&self, inputs: &[ArrayD<f64>]) -> Result<ArrayD<f64>, ProtocolError> {
        self.float(inputs, heads_of(self.name, inputs.get(1).map(ArrayD::shape))?, false).ok_or(ProtocolError::Input {
            protocol: self.name,
            index: 0,
            expected: "x and 16 weight tensors".into(),
        })
    }
    fn tolerance_ulp(&self, _: FixedPoint, trunc: TruncMode) -> u64 {
        // A composite: each block's tolerance passes through the later ones (LayerNorm divides by
        // the row's deviation, the FFN sums a row of errors). 2^12 ULPs bounds what the blocks'
        // own tolerances compose to at the documented inputs.
        trunc.tolerance(4096).max(64)
    }
    fn generated_tolerance_ulp(&self, _: FixedPoint, _: TruncMode) -> u64 {
        // Attention's HE matrix products alone may be 129 ULPs off under faithful truncation.
        4096
    }
    fn ideal_tolerance(&self, _: FixedPoint) -> f64 {
        // Replacement functions (freeDiv, 2Quad, Quad GeLU) are not approximations of the layer.
        f64::MAX
    }
}
