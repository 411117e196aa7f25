//! The two-party world of Dyad.
//!
//! - [`ring`], [`fixed`], [`tensor`], [`share`], [`role`]: Z_2^ℓ, fixed point, ring tensors,
//!   additive shares and the two [`Role`]s.
//! - [`channel`]: the [`Channel`] trait protocols talk through and the in-memory transport.
//! - [`meter`] and [`report`]: exact bytes, messages and rounds per phase and label;
//!   [`formula`]: the same counts from a protocol's message pattern, without running it.
//! - [`party`] and [`runner`]: a party's context and [`simulate`], which runs both parties.
//! - [`correlation`]: the correlation-provider trait and the seeded dealer.
//! - [`table`]: the plain-text table renderer every report uses; [`file`]: bounded reads of the
//!   files commands are given.
//! - [`strategy`] and [`testkit`]: proptest strategies and fixed-seed configurations.
//!
//! Nothing here knows any protocol.

pub mod bits;
pub mod channel;
pub mod correlation;
pub mod error;
pub mod file;
pub mod fixed;
pub mod formula;
pub mod meter;
pub mod packed;
pub mod party;
pub mod report;
pub mod ring;
pub mod role;
pub mod runner;
pub mod share;
#[cfg(any(test, feature = "testing"))]
pub mod strategy;
pub mod table;
pub mod tensor;
#[cfg(any(test, feature = "testing"))]
pub mod testkit;
pub mod wire;

#[cfg(feature = "testing")]
pub mod arbitrary;

pub use bits::Bits;
pub use channel::Channel;
pub use error::{ChannelError, FixedError, SimError, TensorError};
pub use fixed::FixedPoint;
pub use formula::Formula;
pub use meter::Phase;
pub use packed::Packed;
pub use party::Party;
pub use report::{CostReport, Counts};
pub use ring::Ring;
pub use role::Role;
pub use runner::{RunError, Secrets, SimConfig, SimOutput, simulate};
pub use share::Share;
pub use tensor::RingTensor;
