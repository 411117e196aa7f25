//! Dyad's BERT, in the clear and under 2PC:
//!
//! - [`bert`]: the plaintext float64 model (all-MiniLM-L6-v2), its WordPiece tokenizer and
//!   weights, and a forward pass exposing every intermediate activation;
//! - [`layers`]: the attention and feed-forward blocks, composed of registered protocols;
//! - [`encoder`]: the secure encoder and its protocol suites (the YAML files in `suites/`);
//! - [`probe`]: the sentiment probe, a logistic regression on pooled sentence embeddings;
//! - [`registry`]: every protocol by its stable name, built once and passed down;
//! - [`builtin`]: the built-in protocols, blocks and layers, registered in listing order.
//!
//! It may import `dyad-sim`, `dyad-reference`, `dyad-rlwe` and `dyad-protocols`; the audit, the
//! cost report and the command line sit above it.

pub mod bert;
pub mod builtin;
pub mod encoder;
pub mod layers;
pub mod probe;
pub mod registry;
