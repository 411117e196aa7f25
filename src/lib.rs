#![doc = include_str!("../README.md")]

mod apart;
mod args;
mod audit_cmd;
pub mod cli;
mod cost_cmd;
mod distill_cmd;
mod e2e_cmd;
mod error;
mod input;
mod leakage_cmd;
mod output;
mod run_cmd;
mod table;
mod vectors_cmd;

pub use dyad_model as model;
pub use dyad_protocols as protocols;
pub use dyad_reference as reference;
pub use dyad_rlwe as rlwe;
pub use dyad_sim as sim;
pub use dyad_vectors as vectors;
pub use dyad_verify as verify;
