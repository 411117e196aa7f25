//! Errors of protocols and of the harness that runs them.

use dyad_rlwe::RlweError;
use dyad_sim::error::CorrelationError;
use dyad_sim::{ChannelError, FixedError, RunError, SimError, TensorError};
use thiserror::Error;

/// Why a protocol could not run.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum ProtocolError {
    /// The two-party world failed (channel, correlations, tensor shapes).
    #[error(transparent)]
    Sim(#[from] SimError),
    /// Dimensions the protocol cannot work with.
    #[error("{protocol}: bad dimensions {dims:?}: {expected}")]
    Dims {
        /// The protocol.
        protocol: &'static str,
        /// The dimensions given.
        dims: Vec<usize>,
        /// What was expected.
        expected: String,
    },
    /// An input of the wrong kind (a share where a plaintext was expected, a missing input, …).
    #[error("{protocol}: input {index}: {expected}")]
    Input {
        /// The protocol.
        protocol: &'static str,
        /// Position of the input.
        index: usize,
        /// What was expected.
        expected: String,
    },
    /// The RLWE layer refused its parameters or an operation.
    #[error(transparent)]
    Rlwe(#[from] RlweError),
    /// A parameter that does not fit the ring or the protocol.
    #[error("{protocol}: {reason}")]
    Config {
        /// The protocol.
        protocol: &'static str,
        /// What is wrong.
        reason: String,
    },
}

impl From<ChannelError> for ProtocolError {
    fn from(e: ChannelError) -> Self {
        ProtocolError::Sim(e.into())
    }
}

impl From<dyad_sim::error::RingError> for ProtocolError {
    fn from(e: dyad_sim::error::RingError) -> Self {
        ProtocolError::Sim(e.into())
    }
}

impl From<TensorError> for ProtocolError {
    fn from(e: TensorError) -> Self {
        ProtocolError::Sim(e.into())
    }
}

impl From<FixedError> for ProtocolError {
    fn from(e: FixedError) -> Self {
        ProtocolError::Sim(e.into())
    }
}

/// A peer's message of the wrong length: its fault, found before reading it.
pub fn expect_len(bytes: &[u8], expected: usize) -> Result<(), ProtocolError> {
    if bytes.len() == expected { Ok(()) } else { Err(ChannelError::Malformed { expected, got: bytes.len() }.into()) }
}

/// A message from the peer that the RLWE layer could not decode (`what` names it): a channel
/// error, never a configuration error.
pub fn from_peer(what: &'static str, e: RlweError) -> ProtocolError {
    match e {
        RlweError::Size { expected, got, .. } => ChannelError::Malformed { expected, got }.into(),
        other => ChannelError::Invalid { what, reason: other.to_string() }.into(),
    }
}

/// Why the harness could not check a protocol.
#[derive(Debug, Error)]
pub enum HarnessError {
    /// No protocol has this name.
    #[error("no protocol named {name:?}; `dyad list` shows them all")]
    Unknown {
        /// The name asked for.
        name: String,
    },
    /// A protocol of the wrong kind for where it was named (a GELU in an attention slot, say).
    #[error("{name:?} is not {expected}")]
    Kind {
        /// The name given.
        name: String,
        /// What the slot takes.
        expected: &'static str,
    },
    /// A protocol added to a registry under a name it already holds.
    #[error("a protocol named {name:?} is already registered")]
    Duplicate {
        /// The name.
        name: String,
    },
    /// Wrong number of inputs supplied.
    #[error("{protocol} takes {expected} inputs, {got} were given")]
    InputCount {
        /// The protocol.
        protocol: String,
        /// Inputs it takes.
        expected: usize,
        /// Inputs supplied.
        got: usize,
    },
    /// A supplied input of the wrong shape.
    #[error("{protocol}: input {name:?} must have shape {expected:?}, got {got:?}")]
    InputShape {
        /// The protocol.
        protocol: String,
        /// The input's name.
        name: String,
        /// Its expected shape.
        expected: Vec<usize>,
        /// The shape supplied.
        got: Vec<usize>,
    },
    /// A supplied input outside the protocol's documented domain, where its output would be garbage.
    #[error("{protocol}: input {name:?} element {index} is {value}, outside the documented domain [{}, {}]", range.0, range.1)]
    OutOfDomain {
        /// The protocol.
        protocol: String,
        /// The input's name.
        name: String,
        /// Flat index of the first offending element.
        index: usize,
        /// Its value.
        value: f64,
        /// The documented domain.
        range: (f64, f64),
    },
    /// A supplied input that does not fit the fixed-point format.
    #[error("{protocol}: input {name:?}: {source}")]
    Encode {
        /// The protocol.
        protocol: String,
        /// The input's name.
        name: String,
        /// The encoding error.
        source: FixedError,
    },
    /// A shape too large for this machine, refused before anything is allocated.
    #[error("{protocol} at {dims:?} needs an estimated {needs} (its inputs and their shares, or every correlation and message its cost formula counts), more than the {available} available{}", if *overflow { " (its size overflows 64 bits)" } else { "" })]
    TooLarge {
        /// The protocol.
        protocol: String,
        /// The dimensions asked for.
        dims: Vec<usize>,
        /// The estimate of the memory needed, for display ("12.0 GB").
        needs: String,
        /// The memory available, for display.
        available: String,
        /// Whether the element count itself overflowed.
        overflow: bool,
    },
    /// The protocol rejected its configuration or dimensions before running.
    #[error(transparent)]
    Setup(#[from] ProtocolError),
    /// The protocol failed while running.
    #[error(transparent)]
    Run(#[from] RunError<ProtocolError>),
    /// The peer process runs something else: another protocol, shape, format, provider, seed or
    /// version, or the same role.
    #[error("the peer does not run the same job: {field} is {ours} here and {theirs} there")]
    Handshake {
        /// What differs.
        field: String,
        /// This party's value.
        ours: String,
        /// The peer's.
        theirs: String,
    },
    /// The peer process failed, left or stalled outside the protocol (in the handshake, the
    /// dealing of shared inputs or the check).
    #[error("{stage}: {source}")]
    Peer {
        /// Where.
        stage: &'static str,
        /// The channel's error.
        source: ChannelError,
    },
    /// The protocol ran, but its output does not fit its own reference or ideal (a shape or
    /// ring mismatch, shares that do not reconstruct, a reference that fails on the inputs the
    /// protocol accepted): a bug in the protocol, not bad input.
    #[error("{protocol}: inconsistent with its reference: {reason}")]
    Inconsistent {
        /// The protocol.
        protocol: String,
        /// What did not fit.
        reason: String,
    },
}

impl HarnessError {
    /// The correlation request the provider could not serve, when that is why the run failed
    /// (a protocol that needs matrix triples under provider `ot`, say).
    pub fn unsupported_correlation(&self) -> Option<&CorrelationError> {
        match self {
            HarnessError::Run(RunError::Party { error: ProtocolError::Sim(SimError::Correlation(e)), .. }) => Some(e),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_peer_message_the_rlwe_layer_cannot_decode_is_a_channel_error() {
        let size = from_peer("COP response", RlweError::Size { what: "ciphertext", expected: 8, got: 7 });
        assert_eq!(size, ProtocolError::Sim(SimError::Channel(ChannelError::Malformed { expected: 8, got: 7 })));
        let residue = from_peer("SIP query", RlweError::Residue { limb: 1, value: 5 });
        assert!(
            matches!(&residue, ProtocolError::Sim(SimError::Channel(ChannelError::Invalid { what: "SIP query", .. }))),
            "{residue:?}"
        );
        let params = dyad_rlwe::RlweContext::new(dyad_rlwe::RlweParams {
            n: 3,
            ..dyad_rlwe::RlweParams::for_ring(dyad_sim::Ring::Z64)
        });
        let local: ProtocolError = RlweError::from(params.err().unwrap()).into();
        assert!(matches!(local, ProtocolError::Rlwe(RlweError::Params(_))), "{local:?}");
    }
}
