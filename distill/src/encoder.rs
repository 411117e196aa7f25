//! The encoder as a trainable candle network: the layers of
//! [`dyad_model::bert::Model::layer`] with the attention function and activation a student
//! names, every weight a [`Var`] initialised from the teacher so that distillation can move it.
//!
//! Its input is the embedding output, as under 2PC, where the client computes it and shares it:
//! the embedding tables are not part of the network and stay the teacher's.

use candle_core::{D, DType, Device, Tensor, Var};
use dyad_model::bert::{LayerNorm, Linear, Model};
use ndarray::{Array1, Array2};

use crate::error::DistillError;
use crate::function::{Activation, Attention};

/// A linear layer's trainable weight ([in, out]) and bias.
#[derive(Clone, Debug)]
struct Dense {
    weight: Var,
    bias: Var,
}

impl Dense {
    fn new(l: &Linear, dtype: DType, device: &Device) -> Result<Self, DistillError> {
        Ok(Dense { weight: var2(&l.weight, dtype, device)?, bias: var1(&l.bias, dtype, device)? })
    }

    fn apply(&self, x: &Tensor) -> Result<Tensor, DistillError> {
        Ok(x.matmul(self.weight.as_tensor())?.broadcast_add(self.bias.as_tensor())?)
    }
}

/// A LayerNorm's trainable γ and β, and its ε.
#[derive(Clone, Debug)]
struct Norm {
    gamma: Var,
    beta: Var,
    eps: f64,
}

impl Norm {
    fn new(n: &LayerNorm, dtype: DType, device: &Device) -> Result<Self, DistillError> {
        Ok(Norm { gamma: var1(&n.gamma, dtype, device)?, beta: var1(&n.beta, dtype, device)?, eps: n.eps })
    }

    /// (x − mean) / √(var + ε) · γ + β over the last axis, with the biased variance.
    fn apply(&self, x: &Tensor) -> Result<Tensor, DistillError> {
        let centred = x.broadcast_sub(&x.mean_keepdim(D::Minus1)?)?;
        let var = centred.sqr()?.mean_keepdim(D::Minus1)?;
        let normed = centred.broadcast_div(&(var + self.eps)?.sqrt()?)?;
        Ok(normed.broadcast_mul(self.gamma.as_tensor())?.broadcast_add(self.beta.as_tensor())?)
    }
}

/// One encoder layer's trainable parameters.
#[derive(Clone, Debug)]
struct LayerVars {
    query: Dense,
    key: Dense,
    value: Dense,
    attention_output: Dense,
    attention_norm: Norm,
    intermediate: Dense,
    output: Dense,
    output_norm: Norm,
}

/// What one layer computes on one sentence: what the distillation losses compare.
#[derive(Debug)]
pub struct LayerOutput {
    /// The attention block's output A, after its LayerNorm, [n, h].
    pub attention: Tensor,
    /// The layer's output hidden state, [n, h].
    pub hidden: Tensor,
}

/// A BERT encoder with the given attention function and activation, as a candle network. A
/// clone shares its parameters: training one trains both.
#[derive(Clone, Debug)]
pub struct Encoder {
    layers: Vec<LayerVars>,
    heads: usize,
    attention: Attention,
    activation: Activation,
    dtype: DType,
    device: Device,
}

impl Encoder {
    /// The network of `teacher`'s layers in `dtype` on `device`, each weight a fresh [`Var`] set
    /// to the teacher's, computing `attention` and `activation`.
    pub fn from_teacher(
        teacher: &Model,
        attention: Attention,
        activation: Activation,
        dtype: DType,
        device: &Device,
    ) -> Result<Self, DistillError> {
        let layers = teacher
            .layers
            .iter()
            .map(|l| {
                Ok(LayerVars {
                    query: Dense::new(&l.query, dtype, device)?,
                    key: Dense::new(&l.key, dtype, device)?,
                    value: Dense::new(&l.value, dtype, device)?,
                    attention_output: Dense::new(&l.attention_output, dtype, device)?,
                    attention_norm: Norm::new(&l.attention_norm, dtype, device)?,
                    intermediate: Dense::new(&l.intermediate, dtype, device)?,
                    output: Dense::new(&l.output, dtype, device)?,
                    output_norm: Norm::new(&l.output_norm, dtype, device)?,
                })
            })
            .collect::<Result<_, DistillError>>()?;
        let heads = teacher.config.num_attention_heads;
        Ok(Encoder { layers, heads, attention, activation, dtype, device: device.clone() })
    }

    /// Every trainable parameter, each with its Hugging Face name (`encoder.layer.{i}.…`); a
    /// linear layer's weight is held [in, out], the transpose of the checkpoint's.
    pub fn named_vars(&self) -> Vec<(String, Var)> {
        self.parameters().into_iter().map(|(name, v, _)| (name, v.clone())).collect()
    }

    /// Every parameter as a Hugging Face checkpoint holds it, by name: linear weights [out, in].
    pub fn checkpoint_tensors(&self) -> Result<Vec<(String, Tensor)>, DistillError> {
        self.parameters()
            .into_iter()
            .map(|(name, v, linear_weight)| {
                let t = v.as_tensor().detach();
                Ok((name, if linear_weight { t.t()?.contiguous()? } else { t }))
            })
            .collect()
    }

    /// Each parameter's name, its `Var`, and whether it is a linear layer's weight.
    fn parameters(&self) -> Vec<(String, &Var, bool)> {
        let mut out = Vec::new();
        for (i, l) in self.layers.iter().enumerate() {
            let p = format!("encoder.layer.{i}");
            let dense = [
                ("attention.self.query", &l.query),
                ("attention.self.key", &l.key),
                ("attention.self.value", &l.value),
                ("attention.output.dense", &l.attention_output),
                ("intermediate.dense", &l.intermediate),
                ("output.dense", &l.output),
            ];
            for (name, d) in dense {
                out.push((format!("{p}.{name}.weight"), &d.weight, true));
                out.push((format!("{p}.{name}.bias"), &d.bias, false));
            }
            for (name, n) in [("attention.output.LayerNorm", &l.attention_norm), ("output.LayerNorm", &l.output_norm)] {
                out.push((format!("{p}.{name}.weight"), &n.gamma, false));
                out.push((format!("{p}.{name}.bias"), &n.beta, false));
            }
        }
        out
    }

    /// The embedding output `x` ([n, h]) as a tensor of this network's dtype and device.
    pub fn input(&self, x: &Array2<f64>) -> Result<Tensor, DistillError> {
        tensor(x, self.dtype, &self.device)
    }

    /// Every layer's outputs for the embedding output `x` ([n, h]).
    pub fn forward(&self, x: &Tensor) -> Result<Vec<LayerOutput>, DistillError> {
        let mut hidden = x.clone();
        let mut out = Vec::with_capacity(self.layers.len());
        for l in &self.layers {
            let (n, h) = hidden.dims2()?;
            let d = h / self.heads;
            let split = |t: Tensor| -> Result<Tensor, DistillError> {
                Ok(t.reshape((n, self.heads, d))?.transpose(0, 1)?.contiguous()?)
            };
            let q = split(l.query.apply(&hidden)?)?;
            let k = split(l.key.apply(&hidden)?)?;
            let v = split(l.value.apply(&hidden)?)?;
            let scores = (q.matmul(&k.transpose(1, 2)?.contiguous()?)? / (d as f64).sqrt())?;
            let probs = self.attention.apply(&scores)?;
            let context = probs.matmul(&v)?.transpose(0, 1)?.contiguous()?.reshape((n, h))?;
            let attention = l.attention_norm.apply(&(l.attention_output.apply(&context)? + &hidden)?)?;
            let act = self.activation.apply(&l.intermediate.apply(&attention)?)?;
            hidden = l.output_norm.apply(&(l.output.apply(&act)? + &attention)?)?;
            out.push(LayerOutput { attention, hidden: hidden.clone() });
        }
        Ok(out)
    }
}

impl Encoder {
    /// Every layer's hidden state for the embedding output `x`, as arrays: the network as a
    /// plaintext model, for comparison with the secure run.
    pub fn hidden_states(&self, x: &Array2<f64>) -> Result<Vec<Array2<f64>>, DistillError> {
        self.forward(&self.input(x)?)?
            .into_iter()
            .map(|l| {
                let dims = l.hidden.dims2()?;
                let values = l.hidden.to_dtype(DType::F64)?.flatten_all()?.to_vec1::<f64>()?;
                Array2::from_shape_vec(dims, values).map_err(|e| DistillError::Shape(e.to_string()))
            })
            .collect()
    }
}

fn var1(a: &Array1<f64>, dtype: DType, device: &Device) -> Result<Var, DistillError> {
    Ok(Var::from_tensor(&Tensor::from_slice(&a.to_vec(), a.len(), device)?.to_dtype(dtype)?)?)
}

fn var2(a: &Array2<f64>, dtype: DType, device: &Device) -> Result<Var, DistillError> {
    Ok(Var::from_tensor(&tensor(a, dtype, device)?)?)
}

/// `a` as a tensor of `dtype` on `device`: an input such as the embedding output, for a network
/// of that dtype ([`Encoder::input`] for one at hand).
pub fn tensor(a: &Array2<f64>, dtype: DType, device: &Device) -> Result<Tensor, DistillError> {
    let values: Vec<f64> = a.iter().copied().collect();
    Ok(Tensor::from_vec(values, a.dim(), device)?.to_dtype(dtype)?)
}
