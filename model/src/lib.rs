//! Dyad's BERT, in the clear and under 2PC:
//!
//! - [`bert`]: the plaintext float64 model (all-MiniLM-L6-v2), its WordPiece tokenizer and
//!   weights, and a forward pass exposing every intermediate activation;
//! - [`layers`]: the attention and feed-forward blocks, composed of registered protocols;
//! - [`encoder`]: the secure encoder and its protocol suites (the YAML files in `suites/`);
//! - [`registry`]: every protocol by its stable name, with the blocks and layers.
//!
//! It may import `dyad-sim`, `dyad-reference`, `dyad-rlwe` and `dyad-protocols`; the audit, the
//! cost report and the command line sit above it.

pub mod bert;
pub mod encoder;
pub mod layers;
pub mod registry;
