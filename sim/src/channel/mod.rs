//! The channel between the two parties.
//!
//! Two layers, as in swanky's `AbstractChannel` and its transports: a [`Transport`] moves
//! [`Frame`]s and knows nothing of cost; the metered [`Link`](crate::meter::Link) wraps any
//! transport, stamps each frame with the sender's Lamport clock and counts what passes.
//! Protocols only see the [`Channel`] trait.

pub mod memory;
pub mod recording;
pub mod tcp;
pub mod tls;

use crate::error::ChannelError;
use crate::ring::Ring;
use crate::role::Role;
use crate::tensor::RingTensor;
use crate::wire;

/// The logical streams one transport carries, each first in, first out: the protocol's
/// messages, a correlation provider's (OT extension runs between protocol messages, so the
/// two must not be mixed up, as a deployment runs OT on its own connection), the
/// synchronisation of two processes, and a failing party's last word.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Stream {
    /// The protocol's messages.
    #[default]
    Protocol,
    /// The correlation provider's messages.
    Correlations,
    /// Empty frames that synchronise two processes at the end of setup
    /// ([`Link::barrier`](crate::meter::Link::barrier)); bookkeeping, never charged.
    Sync,
    /// One frame a party sends as it fails, holding why (UTF-8), so that the other reports the
    /// cause rather than a connection that ended; bookkeeping, never charged.
    Abort,
}

impl Stream {
    /// Every stream, in index order.
    pub const ALL: [Stream; 4] = [Stream::Protocol, Stream::Correlations, Stream::Sync, Stream::Abort];

    /// 0 for the protocol, 1 for the provider, 2 for synchronisation, 3 for a failure.
    pub const fn index(self) -> usize {
        match self {
            Stream::Protocol => 0,
            Stream::Correlations => 1,
            Stream::Sync => 2,
            Stream::Abort => 3,
        }
    }
}

/// One message as a transport carries it. `clock` is the causal depth of the message, read by
/// the receiver's meter, and `stream` the logical stream it belongs to; both are bookkeeping of
/// the simulation and are not charged as traffic.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    /// Depth of the message in the causal chain (1 for a message that depends on nothing).
    pub clock: u64,
    /// The stream it belongs to.
    pub stream: Stream,
    /// The bytes the protocol sent; these, and only these, are charged.
    pub payload: Vec<u8>,
}

/// The longest reason an abort frame carries, in bytes; a transport refuses a longer one from
/// its header.
pub const ABORT_REASON_BYTES: usize = 4096;

impl Frame {
    /// The frame that tells the peer why this party fails (at most 4 KiB of it).
    pub fn abort(reason: &str) -> Frame {
        let mut end = reason.len().min(ABORT_REASON_BYTES);
        while !reason.is_char_boundary(end) {
            end -= 1;
        }
        Frame { clock: 0, stream: Stream::Abort, payload: reason.as_bytes()[..end].to_vec() }
    }

    /// This frame as a transport delivers it: the peer's abort becomes
    /// [`ChannelError::PeerFailed`], its control characters (but line breaks) escaped, since the
    /// reason reaches a terminal.
    fn delivered(self, peer: Role) -> Result<Frame, ChannelError> {
        if self.stream != Stream::Abort {
            return Ok(self);
        }
        let text = &self.payload[..self.payload.len().min(ABORT_REASON_BYTES)];
        let reason = String::from_utf8_lossy(text)
            .chars()
            .flat_map(|c| if c.is_control() && c != '\n' { c.escape_default().collect() } else { vec![c] })
            .collect();
        Err(ChannelError::PeerFailed { peer, reason })
    }
}

/// Moves frames to the other party. Implementations: [`memory::MemoryTransport`] (both parties
/// in one process) and [`tcp::TcpTransport`] (one party per process).
pub trait Transport: Send {
    /// Sends one frame. Fails with [`ChannelError::PeerGone`] once the other end is gone.
    fn send(&mut self, frame: Frame) -> Result<(), ChannelError>;
    /// Waits for the next frame. Fails with [`ChannelError::PeerGone`] when the other end is
    /// gone and no frame is pending, with [`ChannelError::PeerFailed`] when the next frame is
    /// the peer's [abort](Frame::abort), and with [`ChannelError::Timeout`] after the configured
    /// receive timeout.
    fn recv(&mut self) -> Result<Frame, ChannelError>;
}

/// What protocol code uses to talk to the other party: one call to a `send_*` method is one
/// message.
pub trait Channel {
    /// Sends one message.
    fn send_bytes(&mut self, payload: Vec<u8>) -> Result<(), ChannelError>;

    /// Receives one message.
    fn recv_bytes(&mut self) -> Result<Vec<u8>, ChannelError>;

    /// Sends a ring tensor at ℓ/8 bytes per element (packed for other widths).
    fn send_tensor(&mut self, t: &RingTensor) -> Result<(), ChannelError> {
        self.send_bytes(t.to_bytes())
    }

    /// Receives a ring tensor of a known ring and shape; a message of the wrong size is an error.
    fn recv_tensor(&mut self, ring: Ring, shape: &[usize]) -> Result<RingTensor, ChannelError> {
        let bytes = self.recv_bytes()?;
        RingTensor::from_bytes(ring, shape, &bytes)
    }

    /// Sends values of `width` bits each, packed.
    fn send_packed(&mut self, values: &[u64], width: u32) -> Result<(), ChannelError> {
        self.send_bytes(wire::pack(values, width))
    }

    /// Receives `n` values of `width` bits each.
    fn recv_packed(&mut self, n: usize, width: u32) -> Result<Vec<u64>, ChannelError> {
        let bytes = self.recv_bytes()?;
        wire::unpack(&bytes, n, width)
    }
}
