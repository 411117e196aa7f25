#![doc = include_str!("../README.md")]

pub use dyad_protocols as protocols;
pub use dyad_sim as sim;
pub use dyad_verify as verify;
