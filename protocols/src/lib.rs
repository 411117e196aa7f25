//! Dyad's secure protocols.
//!
//! - [`protocol`]: the [`Protocol`] trait every protocol implements;
//! - [`harness`]: runs a protocol in the simulator and checks it against its reference and ideal;
//! - [`blocks`]: the two-party building blocks;
//! - [`chunk`]: large element-wise and row-wise runs, piece by piece;
//! - [`linear`]: what the two RLWE linear layers share (Nimbus's COP, the baselines' SIP);
//! - [`nimbus`]: Nimbus's protocols;
//! - [`bumblebee`]: the BumbleBee/Cheetah baselines;
//! - [`freediv`]: freeDiv's division-free attention and MPCFormer's replacements;
//! - [`testing`]: property tests for any protocol.
//!
//! It may import `dyad-sim`, `dyad-reference` and `dyad-rlwe`; the model, its layers and the
//! registry sit above it (`dyad-model`).

pub mod blocks;
pub mod bumblebee;
pub mod chunk;
pub mod error;
pub mod freediv;
pub mod harness;
pub mod linear;
pub mod nimbus;
pub mod protocol;
#[cfg(feature = "testing")]
pub mod testing;

pub use error::{HarnessError, ProtocolError};
pub use protocol::TruncMode;
pub use protocol::{Activation, Holder, Independence, Input, InputSpec, Inputs, ModelShape, OutputEncoding, Protocol};
