//! Plaintext fixed-point references, one module per block family.

pub mod arith;
