//! Plaintext fixed-point references, one module per block family.
//!
//! Each reference performs the same sequence of fixed-point operations as its protocol, with
//! exact floor truncation and the same comparisons, on ring elements. A protocol using faithful
//! truncation reproduces its reference bit for bit; with probabilistic truncation each
//! truncation may add one ULP, and the protocol's tolerance bounds how that propagates.

pub mod arith;
pub mod exp;
pub mod layernorm;
pub mod normalize;
pub mod poly;
pub mod recip;
pub mod rsqrt;
mod scalar;

pub use scalar::Fx;
