//! The server's plaintext weights of an encoder, encoded in fixed point.

use crate::bert::{Layer, Model};
use dyad_sim::{FixedPoint, RingTensor};
use ndarray::{Array1, Array2, ArrayD, IxDyn};
use rand::{RngExt, SeedableRng};

use dyad_protocols::error::ProtocolError;
use dyad_protocols::protocol::ModelShape;

/// y = x·W + b.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinearWeights {
    /// W, `[inputs, outputs]`.
    pub w: RingTensor,
    /// b, `[outputs]`.
    pub b: RingTensor,
}

/// LayerNorm's γ and β.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NormWeights {
    /// γ.
    pub gamma: RingTensor,
    /// β.
    pub beta: RingTensor,
}

/// One encoder layer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LayerWeights {
    /// The six linear layers: query, key, value, attention output, FFN up, FFN down.
    pub linears: [LinearWeights; 6],
    /// The LayerNorms after attention and after the FFN.
    pub norms: [NormWeights; 2],
}

/// Index of each linear layer in [`LayerWeights::linears`].
pub mod slot {
    /// Query projection.
    pub const QUERY: usize = 0;
    /// Key projection.
    pub const KEY: usize = 1;
    /// Value projection.
    pub const VALUE: usize = 2;
    /// Attention output projection.
    pub const ATTENTION_OUT: usize = 3;
    /// FFN up-projection (its output is the GELU input).
    pub const UP: usize = 4;
    /// FFN down-projection.
    pub const DOWN: usize = 5;
}

/// The encoder's weights and shape.
#[derive(Clone, Debug, PartialEq)]
pub struct EncoderWeights {
    /// Hidden size, heads and FFN size (the sequence length is the sentence's).
    pub shape: ModelShape,
    /// LayerNorm ε.
    pub eps: f64,
    /// The layers.
    pub layers: Vec<LayerWeights>,
}

fn encode(fx: FixedPoint, values: &ArrayD<f64>, what: &str) -> Result<RingTensor, ProtocolError> {
    fx.encode_tensor(values).map_err(|e| ProtocolError::Config { protocol: "encoder", reason: format!("{what}: {e}") })
}

fn linear(fx: FixedPoint, w: &Array2<f64>, b: &Array1<f64>, what: &str) -> Result<LinearWeights, ProtocolError> {
    Ok(LinearWeights { w: encode(fx, &w.clone().into_dyn(), what)?, b: encode(fx, &b.clone().into_dyn(), what)? })
}

fn layer(fx: FixedPoint, l: &Layer) -> Result<LayerWeights, ProtocolError> {
    let lin = |x: &crate::bert::Linear, what: &str| linear(fx, &x.weight, &x.bias, what);
    let norm = |n: &crate::bert::LayerNorm, what: &str| -> Result<NormWeights, ProtocolError> {
        Ok(NormWeights {
            gamma: encode(fx, &n.gamma.clone().into_dyn(), what)?,
            beta: encode(fx, &n.beta.clone().into_dyn(), what)?,
        })
    };
    Ok(LayerWeights {
        linears: [
            lin(&l.query, "query")?,
            lin(&l.key, "key")?,
            lin(&l.value, "value")?,
            lin(&l.attention_output, "attention output")?,
            lin(&l.intermediate, "intermediate")?,
            lin(&l.output, "output")?,
        ],
        norms: [norm(&l.attention_norm, "attention norm")?, norm(&l.output_norm, "output norm")?],
    })
}

impl EncoderWeights {
    /// The weights of a loaded BERT, encoded in `fx`.
    pub fn from_model(model: &Model, fx: FixedPoint) -> Result<Self, ProtocolError> {
        let c = &model.config;
        let shape =
            ModelShape { seq: 0, hidden: c.hidden_size, heads: c.num_attention_heads, ffn: c.intermediate_size };
        let layers = model.layers.iter().map(|l| layer(fx, l)).collect::<Result<_, _>>()?;
        Ok(EncoderWeights { shape, eps: model.layers.first().map_or(1e-12, |l| l.attention_norm.eps), layers })
    }

    /// Random weights of BERT's scale at `shape` (weights of standard deviation 0.02, unit γ),
    /// for measuring cost at shapes without a model.
    pub fn random(shape: ModelShape, layers: usize, fx: FixedPoint, seed: u64) -> Result<Self, ProtocolError> {
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(seed);
        let mut mat = |r: usize, c: usize, scale: f64| -> ArrayD<f64> {
            ArrayD::from_shape_simple_fn(IxDyn(&[r, c]), || scale * (rng.random::<f64>() - 0.5))
        };
        let (h, f) = (shape.hidden, shape.ffn);
        let zeros = |n: usize| ArrayD::<f64>::zeros(IxDyn(&[n]));
        let ones = |n: usize| ArrayD::<f64>::from_elem(IxDyn(&[n]), 1.0);
        let mut out = Vec::with_capacity(layers);
        for _ in 0..layers {
            let mut lin = |n: usize, m: usize| -> Result<LinearWeights, ProtocolError> {
                Ok(LinearWeights { w: encode(fx, &mat(n, m, 0.07), "random")?, b: encode(fx, &zeros(m), "random")? })
            };
            let linears = [lin(h, h)?, lin(h, h)?, lin(h, h)?, lin(h, h)?, lin(h, f)?, lin(f, h)?];
            let norm = || -> Result<NormWeights, ProtocolError> {
                Ok(NormWeights { gamma: encode(fx, &ones(h), "random")?, beta: encode(fx, &zeros(h), "random")? })
            };
            out.push(LayerWeights { linears, norms: [norm()?, norm()?] });
        }
        Ok(EncoderWeights { shape, eps: 1e-12, layers: out })
    }
}
