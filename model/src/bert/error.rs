//! Why a BERT file could not be loaded or an input could not be encoded.

use std::path::PathBuf;

use thiserror::Error;

/// A failure to load the model or tokenizer, or an input the model cannot take. Errors about a
/// file name the file and, where there is one, the field or tensor.
#[derive(Debug, Error)]
pub enum BertError {
    /// A file could not be read.
    #[error("{}: cannot read: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// `config.json` is not valid JSON of the expected shape.
    #[error("{}: malformed model configuration: {message}", path.display())]
    ConfigSyntax {
        /// The configuration file.
        path: PathBuf,
        /// The parser's message (it names the field when one is missing or mistyped).
        message: String,
    },
    /// A field of `config.json` holds a value this implementation does not support.
    #[error("{}: field {field}: expected {expected}, got {got}", path.display())]
    ConfigField {
        /// The configuration file.
        path: PathBuf,
        /// The field.
        field: &'static str,
        /// What is supported.
        expected: String,
        /// What the file holds.
        got: String,
    },
    /// The weights file is not a valid safetensors file.
    #[error("{}: not a safetensors file: {message}", path.display())]
    Safetensors {
        /// The weights file.
        path: PathBuf,
        /// The parser's message.
        message: String,
    },
    /// A tensor the model needs is absent.
    #[error("{}: tensor {tensor} is missing", path.display())]
    MissingTensor {
        /// The weights file.
        path: PathBuf,
        /// The tensor's name.
        tensor: String,
    },
    /// A tensor has another element type than float32.
    #[error("{}: tensor {tensor} is {dtype}, expected F32", path.display())]
    Dtype {
        /// The weights file.
        path: PathBuf,
        /// The tensor's name.
        tensor: String,
        /// Its element type.
        dtype: String,
    },
    /// A tensor's shape does not match the configuration.
    #[error("{}: tensor {tensor} has shape {actual:?}, expected {expected:?}", path.display())]
    Shape {
        /// The weights file.
        path: PathBuf,
        /// The tensor's name.
        tensor: String,
        /// The shape the configuration implies.
        expected: Vec<usize>,
        /// The shape in the file.
        actual: Vec<usize>,
    },
    /// A tensor holds NaN or an infinity.
    #[error("{}: tensor {tensor} holds the non-finite value {value}", path.display())]
    NotFinite {
        /// The weights file.
        path: PathBuf,
        /// The tensor's name.
        tensor: String,
        /// The first non-finite value.
        value: f32,
    },
    /// The vocabulary file is unusable.
    #[error("{}: line {line}: {message}", path.display())]
    Vocab {
        /// The vocabulary file.
        path: PathBuf,
        /// The 1-based line (0 when the problem is the file as a whole).
        line: usize,
        /// What is wrong.
        message: String,
    },
    /// The vocabulary and the model disagree on the number of token ids.
    #[error("token id {id} at position {position} is outside the vocabulary of {vocab} entries")]
    TokenId {
        /// The id.
        id: u32,
        /// Its position in the input.
        position: usize,
        /// The vocabulary size.
        vocab: usize,
    },
    /// The input has no token.
    #[error("the input holds no token; it needs at least [CLS] and [SEP]")]
    Empty,
    /// The input is longer than the position embeddings.
    #[error("the input holds {tokens} tokens, more than the model's {max} positions")]
    TooLong {
        /// Its length.
        tokens: usize,
        /// The number of position embeddings.
        max: usize,
    },
    /// A layer index past the last layer.
    #[error("layer {layer} does not exist: the model has {layers} layers")]
    Layer {
        /// The index asked for.
        layer: usize,
        /// The number of layers.
        layers: usize,
    },
    /// A hidden state of the wrong width, or with no row.
    #[error("the hidden state has shape {actual:?}, expected [tokens ≥ 1, {hidden}]")]
    HiddenShape {
        /// The shape given.
        actual: Vec<usize>,
        /// The model's hidden size.
        hidden: usize,
    },
}
