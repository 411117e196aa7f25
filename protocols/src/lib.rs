//! Dyad's secure protocols.
//!
//! - [`protocol`]: the [`Protocol`] trait every protocol implements;
//! - [`harness`]: runs a protocol in the simulator and checks it against its reference and ideal;
//! - [`registry`]: every protocol by its stable name;
//! - [`blocks`]: the two-party building blocks;
//! - [`rlwe`]: the RLWE layer under the linear-layer protocols;
//! - [`nimbus`]: Nimbus's protocols;
//! - [`bumblebee`]: the BumbleBee/Cheetah baselines;
//! - [`freediv`]: freeDiv's division-free attention and MPCFormer's replacements;
//! - [`layers`]: the attention and feed-forward blocks built from them;
//! - [`encoder`]: the secure encoder and its protocol suites;
//! - [`testing`]: property tests for any protocol.

pub mod blocks;
pub mod bumblebee;
pub mod encoder;
pub mod error;
pub mod freediv;
pub mod harness;
pub mod layers;
pub mod nimbus;
pub mod protocol;
pub mod registry;
pub mod rlwe;
pub mod testing;

pub use blocks::trunc::TruncMode;
pub use error::{HarnessError, ProtocolError};
pub use protocol::{Activation, Holder, Input, InputSpec, Inputs, ModelShape, OutputEncoding, Protocol};
