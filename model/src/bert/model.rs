//! The forward pass of a BERT encoder in float64, with every intermediate activation.
//!
//! It is Hugging Face's `BertModel` in inference mode for one unpadded sentence of token type 0:
//! embeddings (word + position + token type, then LayerNorm), then per layer
//!
//! ```text
//! Q, K, V   = X·Wq + bq, X·Wk + bk, X·Wv + bv            split into heads of d columns
//! S_h       = Q_h·K_hᵀ / √d  (+ mask)                     scores, the Softmax input
//! C         = concat_h softmax(S_h)·V_h
//! A         = LayerNorm(C·Wo + bo + X)                    attention block
//! G         = A·W1 + b1                                   the GELU input
//! X'        = LayerNorm(GELU(G)·W2 + b2 + A)              feed-forward block
//! ```
//!
//! and finally the mean of the last hidden state's rows (sentence-transformers' mean pooling,
//! before its normalisation). For one unpadded sentence the additive attention mask is zero
//! everywhere, so the scores are exactly Q_h·K_hᵀ / √d. GELU is exact (erf), as in
//! [`dyad_reference::ideal::gelu`].

use std::path::Path;

use ndarray::{Array1, Array2, Array3, Axis, Slice};

use super::config::Config;
use super::error::BertError;
use super::weights::{Embeddings, Layer, TensorFile, mean_rows};
use dyad_reference::ideal;

/// A BERT encoder's configuration and weights.
#[derive(Clone, Debug, PartialEq)]
pub struct Model {
    /// The hyper-parameters, from `config.json`.
    pub config: Config,
    /// The embedding tables and their LayerNorm.
    pub embeddings: Embeddings,
    /// The encoder layers, first to last.
    pub layers: Vec<Layer>,
}

/// Every intermediate activation of one encoder layer on one sentence of n tokens (h = hidden
/// size, f = intermediate size, H heads).
#[derive(Clone, Debug, PartialEq)]
pub struct LayerTrace {
    /// Q = X·Wq + bq, [n, h].
    pub query: Array2<f64>,
    /// K = X·Wk + bk, [n, h].
    pub key: Array2<f64>,
    /// V = X·Wv + bv, [n, h].
    pub value: Array2<f64>,
    /// The attention scores entering Softmax, Q_h·K_hᵀ/√d plus the (zero) mask, [H, n, n]:
    /// `scores[[h, i, j]]` is how much query token i of head h attends to key token j, and each
    /// row `scores[[h, i, ..]]` is one Softmax input.
    pub scores: Array3<f64>,
    /// Softmax of each row of `scores`, [H, n, n].
    pub probs: Array3<f64>,
    /// The heads' outputs softmax(S_h)·V_h, concatenated, [n, h].
    pub context: Array2<f64>,
    /// The input of the attention LayerNorm: C·Wo + bo + X (the residual sum), [n, h].
    pub attention_residual: Array2<f64>,
    /// The output of the attention LayerNorm, A, [n, h].
    pub attention_output: Array2<f64>,
    /// The GELU input A·W1 + b1 (the output of `intermediate.dense`), [n, f].
    pub gelu_input: Array2<f64>,
    /// GELU of `gelu_input`, [n, f].
    pub gelu_output: Array2<f64>,
    /// The input of the feed-forward LayerNorm: GELU(G)·W2 + b2 + A (the residual sum), [n, h].
    pub ffn_residual: Array2<f64>,
    /// The layer's output hidden state, [n, h].
    pub output: Array2<f64>,
}

/// The forward pass of one sentence.
#[derive(Clone, Debug, PartialEq)]
pub struct Trace {
    /// The token ids, `[CLS]` … `[SEP]`.
    pub ids: Vec<u32>,
    /// The sum of word, position and token-type embeddings: the input of the embedding
    /// LayerNorm, [n, h].
    pub embedding_sum: Array2<f64>,
    /// The embedding output, the first layer's input, [n, h].
    pub embeddings: Array2<f64>,
    /// One trace per layer, first to last.
    pub layers: Vec<LayerTrace>,
    /// The mean of the last hidden state's rows, [h].
    pub pooled: Array1<f64>,
}

impl Trace {
    /// The last hidden state, [n, h] (the embeddings when the model has no layer).
    pub fn last_hidden(&self) -> &Array2<f64> {
        self.layers.last().map_or(&self.embeddings, |l| &l.output)
    }
}

impl Model {
    /// Loads `dir/config.json` and `dir/model.safetensors`.
    pub fn load(dir: &Path) -> Result<Model, BertError> {
        let config = Config::load(&dir.join("config.json"))?;
        let path = dir.join("model.safetensors");
        let bytes = std::fs::read(&path).map_err(|source| BertError::Io { path: path.clone(), source })?;
        Model::from_safetensors(config, &bytes, &path)
    }

    /// Loads `dir/config.json` and builds only the embedding tables of `dir/model.safetensors`,
    /// leaving `layers` empty: what the client of a run apart holds, whose input is the embedding
    /// output. (The file is read whole; a deployment's client would hold a file of its own.)
    pub fn load_embeddings(dir: &Path) -> Result<Model, BertError> {
        let config = Config::load(&dir.join("config.json"))?;
        let path = dir.join("model.safetensors");
        let bytes = std::fs::read(&path).map_err(|source| BertError::Io { path: path.clone(), source })?;
        let embeddings = TensorFile::parse(&bytes, &path)?.embeddings(&config)?;
        Ok(Model { config, embeddings, layers: Vec::new() })
    }

    /// Builds the model from `config` and the bytes of a safetensors file; `path` only names it
    /// in errors.
    pub fn from_safetensors(config: Config, bytes: &[u8], path: &Path) -> Result<Model, BertError> {
        let file = TensorFile::parse(bytes, path)?;
        let embeddings = file.embeddings(&config)?;
        let layers = (0..config.num_hidden_layers).map(|i| file.layer(&config, i)).collect::<Result<_, _>>()?;
        Ok(Model { config, embeddings, layers })
    }

    /// The input of the embedding LayerNorm: word + position + token-type-0 embeddings, [n, h].
    pub fn embedding_sum(&self, ids: &[u32]) -> Result<Array2<f64>, BertError> {
        let e = &self.embeddings;
        if ids.is_empty() {
            return Err(BertError::Empty);
        }
        if ids.len() > e.position.nrows() {
            return Err(BertError::TooLong { tokens: ids.len(), max: e.position.nrows() });
        }
        let mut sum = Array2::zeros((ids.len(), self.config.hidden_size));
        for (position, (&id, mut row)) in ids.iter().zip(sum.axis_iter_mut(Axis(0))).enumerate() {
            if id as usize >= e.word.nrows() {
                return Err(BertError::TokenId { id, position, vocab: e.word.nrows() });
            }
            row.assign(&(&e.word.row(id as usize) + &e.position.row(position) + e.token_type.row(0)));
        }
        Ok(sum)
    }

    /// The embedding output for `ids`: the first layer's input, [n, h].
    pub fn embed(&self, ids: &[u32]) -> Result<Array2<f64>, BertError> {
        Ok(self.embeddings.norm.apply(&self.embedding_sum(ids)?))
    }

    /// Runs layer `index` on the hidden state `hidden` ([n, h]).
    pub fn layer(&self, index: usize, hidden: &Array2<f64>) -> Result<LayerTrace, BertError> {
        let layer = self.layers.get(index).ok_or(BertError::Layer { layer: index, layers: self.layers.len() })?;
        let h = self.config.hidden_size;
        if hidden.ncols() != h || hidden.nrows() == 0 {
            return Err(BertError::HiddenShape { actual: hidden.shape().to_vec(), hidden: h });
        }
        let n = hidden.nrows();
        let (heads, d) = (self.config.num_attention_heads, self.config.head_dim());
        let scale = 1.0 / (d as f64).sqrt();

        let query = layer.query.apply(hidden);
        let key = layer.key.apply(hidden);
        let value = layer.value.apply(hidden);
        let mut scores = Array3::zeros((heads, n, n));
        let mut probs = Array3::zeros((heads, n, n));
        let mut context = Array2::zeros((n, h));
        for head in 0..heads {
            let cols = Slice::from(head * d..(head + 1) * d);
            let s_h = query.slice_axis(Axis(1), cols).dot(&key.slice_axis(Axis(1), cols).t()) * scale;
            let mut p_h = Array2::zeros((n, n));
            for (mut p_row, s_row) in p_h.axis_iter_mut(Axis(0)).zip(s_h.axis_iter(Axis(0))) {
                let row: Vec<f64> = s_row.to_vec();
                p_row.assign(&Array1::from(ideal::softmax(&row)));
            }
            context.slice_axis_mut(Axis(1), cols).assign(&p_h.dot(&value.slice_axis(Axis(1), cols)));
            scores.index_axis_mut(Axis(0), head).assign(&s_h);
            probs.index_axis_mut(Axis(0), head).assign(&p_h);
        }
        let attention_residual = layer.attention_output.apply(&context) + hidden;
        let attention_output = layer.attention_norm.apply(&attention_residual);
        let gelu_input = layer.intermediate.apply(&attention_output);
        let gelu_output = gelu_input.mapv(ideal::gelu);
        let ffn_residual = layer.output.apply(&gelu_output) + &attention_output;
        let output = layer.output_norm.apply(&ffn_residual);
        Ok(LayerTrace {
            query,
            key,
            value,
            scores,
            probs,
            context,
            attention_residual,
            attention_output,
            gelu_input,
            gelu_output,
            ffn_residual,
            output,
        })
    }

    /// The whole forward pass of one sentence's token ids (`[CLS]` … `[SEP]`).
    pub fn forward(&self, ids: &[u32]) -> Result<Trace, BertError> {
        let embedding_sum = self.embedding_sum(ids)?;
        let embeddings = self.embeddings.norm.apply(&embedding_sum);
        let mut layers: Vec<LayerTrace> = Vec::with_capacity(self.layers.len());
        for index in 0..self.layers.len() {
            let input = layers.last().map_or(&embeddings, |l| &l.output);
            let trace = self.layer(index, input)?;
            layers.push(trace);
        }
        let pooled = mean_rows(layers.last().map_or(&embeddings, |l| &l.output));
        Ok(Trace { ids: ids.to_vec(), embedding_sum, embeddings, layers, pooled })
    }
}
