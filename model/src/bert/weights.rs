//! The weights of a BERT encoder, loaded from safetensors (float32) into float64 arrays.

use std::path::Path;

use ndarray::{Array1, Array2, Axis};
use safetensors::{Dtype, SafeTensors};

use super::config::Config;
use super::error::BertError;

/// An affine map y = x·W + b applied to each row x.
#[derive(Clone, Debug, PartialEq)]
pub struct Linear {
    /// W, of shape [inputs, outputs]: the transpose of PyTorch's `weight` ([outputs, inputs]), so
    /// that a batch of rows X maps to X·W.
    pub weight: Array2<f64>,
    /// b, of length `outputs`.
    pub bias: Array1<f64>,
}

impl Linear {
    /// X·W + b for the rows of `x`.
    pub fn apply(&self, x: &Array2<f64>) -> Array2<f64> {
        x.dot(&self.weight) + &self.bias
    }
}

/// LayerNorm over the last axis: (x − mean) / √(var + ε) · γ + β, with the biased variance.
#[derive(Clone, Debug, PartialEq)]
pub struct LayerNorm {
    /// γ, the scale.
    pub gamma: Array1<f64>,
    /// β, the shift.
    pub beta: Array1<f64>,
    /// ε.
    pub eps: f64,
}

impl LayerNorm {
    /// Normalises each row of `x`.
    pub fn apply(&self, x: &Array2<f64>) -> Array2<f64> {
        let mut out = x.clone();
        for mut row in out.axis_iter_mut(Axis(0)) {
            let n = row.len() as f64;
            let mean = row.sum() / n;
            let var = row.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / n;
            let inv = 1.0 / (var + self.eps).sqrt();
            row.iter_mut().zip(self.gamma.iter().zip(self.beta.iter())).for_each(|(v, (g, b))| {
                *v = (*v - mean) * inv * g + b;
            });
        }
        out
    }
}

/// The embedding tables and their LayerNorm.
#[derive(Clone, Debug, PartialEq)]
pub struct Embeddings {
    /// One row per token id: [vocab_size, hidden_size].
    pub word: Array2<f64>,
    /// One row per position: [max_position_embeddings, hidden_size].
    pub position: Array2<f64>,
    /// One row per token type: [type_vocab_size, hidden_size]. A single sentence uses row 0.
    pub token_type: Array2<f64>,
    /// The LayerNorm applied to the sum of the three embeddings.
    pub norm: LayerNorm,
}

/// The weights of one encoder layer.
#[derive(Clone, Debug, PartialEq)]
pub struct Layer {
    /// Query projection, [hidden, hidden]; head h uses output columns h·d … (h+1)·d − 1.
    pub query: Linear,
    /// Key projection, [hidden, hidden].
    pub key: Linear,
    /// Value projection, [hidden, hidden].
    pub value: Linear,
    /// The projection of the concatenated heads (`attention.output.dense`), [hidden, hidden].
    pub attention_output: Linear,
    /// The LayerNorm after attention and its residual (`attention.output.LayerNorm`).
    pub attention_norm: LayerNorm,
    /// The feed-forward block's first projection (`intermediate.dense`), [hidden, intermediate];
    /// its output is the GELU input.
    pub intermediate: Linear,
    /// The feed-forward block's second projection (`output.dense`), [intermediate, hidden].
    pub output: Linear,
    /// The LayerNorm after the feed-forward block and its residual (`output.LayerNorm`).
    pub output_norm: LayerNorm,
}

/// Reads named float32 tensors of one safetensors file, checking shapes against the config.
pub(super) struct TensorFile<'a> {
    path: &'a Path,
    tensors: SafeTensors<'a>,
}

impl<'a> TensorFile<'a> {
    pub(super) fn parse(bytes: &'a [u8], path: &'a Path) -> Result<TensorFile<'a>, BertError> {
        let tensors = SafeTensors::deserialize(bytes)
            .map_err(|e| BertError::Safetensors { path: path.into(), message: e.to_string() })?;
        Ok(TensorFile { path, tensors })
    }

    /// The tensor `name`, which must be float32 of shape `shape`, as float64 values in order.
    fn values(&self, name: &str, shape: &[usize]) -> Result<Vec<f64>, BertError> {
        let view = self
            .tensors
            .tensor(name)
            .map_err(|_| BertError::MissingTensor { path: self.path.into(), tensor: name.into() })?;
        if view.dtype() != Dtype::F32 {
            return Err(BertError::Dtype {
                path: self.path.into(),
                tensor: name.into(),
                dtype: format!("{:?}", view.dtype()),
            });
        }
        if view.shape() != shape {
            return Err(BertError::Shape {
                path: self.path.into(),
                tensor: name.into(),
                expected: shape.to_vec(),
                actual: view.shape().to_vec(),
            });
        }
        let mut out = Vec::with_capacity(view.data().len() / 4);
        for chunk in view.data().chunks_exact(4) {
            let v = f32::from_le_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
            if !v.is_finite() {
                return Err(BertError::NotFinite { path: self.path.into(), tensor: name.into(), value: v });
            }
            out.push(f64::from(v));
        }
        Ok(out)
    }

    fn vector(&self, name: &str, len: usize) -> Result<Array1<f64>, BertError> {
        Ok(Array1::from(self.values(name, &[len])?))
    }

    fn matrix(&self, name: &str, rows: usize, cols: usize) -> Result<Array2<f64>, BertError> {
        let values = self.values(name, &[rows, cols])?;
        Array2::from_shape_vec((rows, cols), values)
            .map_err(|e| BertError::Safetensors { path: self.path.into(), message: format!("tensor {name}: {e}") })
    }

    /// A PyTorch `Linear` named `prefix` mapping `inputs` to `outputs` features.
    fn linear(&self, prefix: &str, inputs: usize, outputs: usize) -> Result<Linear, BertError> {
        let weight = self.matrix(&format!("{prefix}.weight"), outputs, inputs)?;
        Ok(Linear {
            weight: weight.reversed_axes().as_standard_layout().into_owned(),
            bias: self.vector(&format!("{prefix}.bias"), outputs)?,
        })
    }

    fn layer_norm(&self, prefix: &str, width: usize, eps: f64) -> Result<LayerNorm, BertError> {
        Ok(LayerNorm {
            gamma: self.vector(&format!("{prefix}.weight"), width)?,
            beta: self.vector(&format!("{prefix}.bias"), width)?,
            eps,
        })
    }

    /// The embeddings, named as in Hugging Face's `BertModel` (with or without a `bert.` prefix).
    pub(super) fn embeddings(&self, c: &Config) -> Result<Embeddings, BertError> {
        let p = self.prefix();
        let h = c.hidden_size;
        Ok(Embeddings {
            word: self.matrix(&format!("{p}embeddings.word_embeddings.weight"), c.vocab_size, h)?,
            position: self.matrix(
                &format!("{p}embeddings.position_embeddings.weight"),
                c.max_position_embeddings,
                h,
            )?,
            token_type: self.matrix(&format!("{p}embeddings.token_type_embeddings.weight"), c.type_vocab_size, h)?,
            norm: self.layer_norm(&format!("{p}embeddings.LayerNorm"), h, c.layer_norm_eps)?,
        })
    }

    /// Encoder layer `i`.
    pub(super) fn layer(&self, c: &Config, i: usize) -> Result<Layer, BertError> {
        let p = format!("{}encoder.layer.{i}", self.prefix());
        let (h, f, eps) = (c.hidden_size, c.intermediate_size, c.layer_norm_eps);
        Ok(Layer {
            query: self.linear(&format!("{p}.attention.self.query"), h, h)?,
            key: self.linear(&format!("{p}.attention.self.key"), h, h)?,
            value: self.linear(&format!("{p}.attention.self.value"), h, h)?,
            attention_output: self.linear(&format!("{p}.attention.output.dense"), h, h)?,
            attention_norm: self.layer_norm(&format!("{p}.attention.output.LayerNorm"), h, eps)?,
            intermediate: self.linear(&format!("{p}.intermediate.dense"), h, f)?,
            output: self.linear(&format!("{p}.output.dense"), f, h)?,
            output_norm: self.layer_norm(&format!("{p}.output.LayerNorm"), h, eps)?,
        })
    }

    /// `bert.` when the checkpoint was saved from a model with a head, else nothing.
    fn prefix(&self) -> &'static str {
        if self.tensors.names().iter().any(|n| n.starts_with("bert.")) { "bert." } else { "" }
    }
}

/// The mean of the rows of `x`.
pub(super) fn mean_rows(x: &Array2<f64>) -> Array1<f64> {
    let n = x.nrows().max(1) as f64;
    x.sum_axis(Axis(0)).mapv(|v| v / n)
}
