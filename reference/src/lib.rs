//! The plaintext side of every protocol: what secure protocols are checked against.
//!
//! - Fixed-point references, one module per block family ([`arith`], [`cast`], [`exp`], [`layernorm`],
//!   [`normalize`], [`poly`], [`recip`], [`rsqrt`]), on ring elements.
//! - [`ideal`]: float64 ideal functions (exact erf-GELU, true exp, …); approximation error is
//!   always measured against these.
//! - [`approx`]: polynomial and piecewise approximations as data (the YAML files in `coeffs/`).
//! - [`metrics`]: error statistics.
//!
//! It may import `dyad-sim` only: protocols, the RLWE layer and the model sit above it.
//!
//! Each fixed-point reference performs the same sequence of fixed-point operations as its protocol, with
//! exact floor truncation and the same comparisons, on ring elements. A protocol using faithful
//! truncation reproduces its reference bit for bit; with probabilistic truncation each
//! truncation may add one ULP, and the protocol's tolerance bounds how that propagates.

pub mod approx;
pub mod arith;
pub mod cast;
pub mod domain;
pub mod exp;
pub mod ideal;
pub mod layernorm;
pub mod metrics;
pub mod normalize;
pub mod poly;
pub mod recip;
pub mod rsqrt;
mod scalar;

pub use scalar::Fx;
