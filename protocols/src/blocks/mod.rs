//! The two-party building blocks the non-linear layers of both papers are made of.

pub mod arith;
pub mod share;
pub mod trunc;
