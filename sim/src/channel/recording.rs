//! A transport that keeps what its party receives: the party's view of a run, which the leakage
//! audit compares across inputs.

use std::sync::{Arc, Mutex, PoisonError};

use super::{Frame, Stream, Transport};
use crate::error::ChannelError;
use crate::role::Role;

/// Every payload each party received in a run, in the order received: the protocol's messages
/// and, interleaved, the correlation provider's (a dealer's material is not received, and
/// bookkeeping frames are not part of a view). Clones share the record.
#[derive(Clone, Debug, Default)]
pub struct Views(Arc<Mutex<[Vec<Vec<u8>>; 2]>>);

impl PartialEq for Views {
    /// Two handles on one record.
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for Views {}

impl Views {
    /// An empty record.
    pub fn new() -> Self {
        Views::default()
    }

    /// The views recorded so far, the server's then the client's, leaving the record empty.
    pub fn take(&self) -> [Vec<Vec<u8>>; 2] {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// `inner`, with what `role` receives through it recorded here.
    pub fn record(&self, role: Role, inner: Box<dyn Transport>) -> Box<dyn Transport> {
        Box::new(Recording { role, inner, views: self.clone() })
    }
}

/// A transport whose received payloads go to a [`Views`].
struct Recording {
    role: Role,
    inner: Box<dyn Transport>,
    views: Views,
}

impl Transport for Recording {
    fn send(&mut self, frame: Frame) -> Result<(), ChannelError> {
        self.inner.send(frame)
    }

    fn recv(&mut self) -> Result<Frame, ChannelError> {
        let frame = self.inner.recv()?;
        if matches!(frame.stream, Stream::Protocol | Stream::Correlations) {
            let mut views = self.views.0.lock().unwrap_or_else(PoisonError::into_inner);
            views[self.role.index()].push(frame.payload.clone());
        }
        Ok(frame)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::channel::memory::MemoryTransport;

    #[test]
    fn each_party_s_received_payloads_are_recorded_in_order_and_bookkeeping_is_not() {
        let views = Views::new();
        let (s, c) = MemoryTransport::pair(None);
        let (mut s, mut c) = (views.record(Role::Server, Box::new(s)), views.record(Role::Client, Box::new(c)));
        for (stream, payload) in
            [(Stream::Protocol, vec![1]), (Stream::Sync, vec![]), (Stream::Correlations, vec![2, 3])]
        {
            s.send(Frame { clock: 1, stream, payload }).unwrap();
            c.recv().unwrap();
        }
        c.send(Frame { clock: 1, stream: Stream::Protocol, payload: vec![9] }).unwrap();
        s.recv().unwrap();
        assert_eq!(views.take(), [vec![vec![9]], vec![vec![1], vec![2, 3]]]);
        assert_eq!(views.take(), [Vec::<Vec<u8>>::new(), Vec::new()], "taken");
    }
}
