//! The two-party building blocks the non-linear layers of both papers are made of.

pub mod arith;
pub mod cmp;
pub mod convert;
pub mod matmul;
pub mod ot;
pub mod select;
pub mod share;
pub mod trunc;
