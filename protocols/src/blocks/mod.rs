//! The two-party building blocks the non-linear layers of both papers are made of.

pub mod activation;
pub mod arith;
pub mod beaver;
pub mod cast;
pub mod cmp;
pub mod convert;
pub mod cot;
pub mod exp;
pub mod layernorm;
pub mod matmul;
pub mod max;
pub mod normalize;
pub mod ot;
pub mod poly;
pub mod recip;
pub mod rsqrt;
pub mod select;
pub mod share;
pub mod trunc;
