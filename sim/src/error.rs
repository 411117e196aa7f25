//! Typed errors of the two-party world.

use std::time::Duration;

use thiserror::Error;

use crate::ring::Ring;
pub use crate::ring::RingError;
use crate::role::Role;

/// A value that cannot be represented in fixed point.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum FixedError {
    /// The value is outside the representable range.
    #[error("{value} does not fit in fixed point over {ring} with {frac} fraction bits (range [{min}, {max}])")]
    OutOfRange {
        /// The value to encode.
        value: f64,
        /// The ring.
        ring: Ring,
        /// Fraction bits.
        frac: u32,
        /// Smallest representable value.
        min: f64,
        /// Largest representable value.
        max: f64,
    },
    /// NaN or infinity.
    #[error("cannot encode the non-finite value {value}")]
    NotFinite {
        /// The value to encode.
        value: f64,
    },
    /// Too many fraction bits for the ring.
    #[error("{frac} fraction bits leave no integer bits in {ring} (need frac ≤ ℓ − 2)")]
    Frac {
        /// Fraction bits asked for.
        frac: u32,
        /// The ring.
        ring: Ring,
    },
}

/// Two tensors that an operation cannot combine.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TensorError {
    /// Shapes differ.
    #[error("{op}: shape {left:?} does not match shape {right:?}")]
    Shape {
        /// The operation.
        op: &'static str,
        /// Left operand's shape.
        left: Vec<usize>,
        /// Right operand's shape.
        right: Vec<usize>,
    },
    /// Rings differ.
    #[error("{op}: ring {left} does not match ring {right}")]
    Ring {
        /// The operation.
        op: &'static str,
        /// Left operand's ring.
        left: Ring,
        /// Right operand's ring.
        right: Ring,
    },
}

/// A failed send or receive.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ChannelError {
    /// The other party has stopped (returned, failed or panicked) and will send nothing more.
    #[error("peer gone: the {peer} stopped before this message arrived")]
    PeerGone {
        /// The party that went away.
        peer: Role,
    },
    /// The other party failed, and said why before it stopped.
    #[error("the {peer} failed: {reason}")]
    PeerFailed {
        /// The party that failed.
        peer: Role,
        /// Its error, as it reported it.
        reason: String,
    },
    /// Nothing arrived within the configured receive timeout: most likely a protocol deadlock.
    #[error("receive timed out after {after:?} waiting for the {peer} (a deadlock, or a stalled peer?)")]
    Timeout {
        /// The configured timeout.
        after: Duration,
        /// The party that was expected to send.
        peer: Role,
    },
    /// A message of the right size whose content cannot be what the peer's protocol sends (an
    /// unreduced residue in a ciphertext, say).
    #[error("malformed {what} from the peer: {reason}")]
    Invalid {
        /// What was being decoded.
        what: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// A frame whose header announces more than the transport accepts; refused before reading it.
    #[error("the peer announced a {size}-byte message, above the limit of {limit} bytes")]
    TooLarge {
        /// Bytes announced.
        size: u64,
        /// The limit.
        limit: u64,
    },
    /// The transport failed for a reason other than the peer leaving or a timeout.
    #[error("transport error: {reason}")]
    Io {
        /// The operating system's message.
        reason: String,
    },
    /// A message of the wrong size.
    #[error("malformed message: expected {expected} bytes, got {got}")]
    Malformed {
        /// Bytes expected.
        expected: usize,
        /// Bytes received.
        got: usize,
    },
}

/// A correlation request a provider cannot serve.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum CorrelationError {
    /// A parameter out of range (for example a 1-out-of-N OT with N above 2^16).
    #[error("correlation request {request}: {reason}")]
    Unsupported {
        /// The request.
        request: String,
        /// Why it cannot be served.
        reason: String,
    },
}

/// Any error of the two-party world, as protocols see it.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum SimError {
    /// See [`RingError`].
    #[error(transparent)]
    Ring(#[from] RingError),
    /// See [`FixedError`].
    #[error(transparent)]
    Fixed(#[from] FixedError),
    /// See [`TensorError`].
    #[error(transparent)]
    Tensor(#[from] TensorError),
    /// See [`ChannelError`].
    #[error(transparent)]
    Channel(#[from] ChannelError),
    /// See [`CorrelationError`].
    #[error(transparent)]
    Correlation(#[from] CorrelationError),
}
