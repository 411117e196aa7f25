//! The plaintext side of Dyad: what secure protocols are checked against.
//!
//! - [`reference`]: plaintext fixed-point references. Each runs the same fixed-point algorithm as
//!   its protocol, in the clear, on ring elements; a protocol's output must lie within its
//!   stated tolerance of its reference.
//! - [`ideal`]: float64 ideal functions (exact erf-GELU, true exp, …); approximation error is
//!   always measured against these.
//! - [`approx`]: polynomial and piecewise approximations as data.
//! - [`bert`]: a plaintext float64 BERT (all-MiniLM-L6-v2): its WordPiece tokenizer, its weights,
//!   and a forward pass exposing every intermediate activation.
//! - [`fit`]: distribution-aware fitting of piecewise polynomials (Nimbus §4.2).
//! - [`metrics`]: error statistics.

pub mod approx;
pub mod bert;
pub mod fit;
pub mod ideal;
pub mod metrics;
pub mod reference;
