//! The in-memory transport: a pair of crossbeam channels between two threads.

use std::time::Duration;

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};

use super::{Frame, Transport};
use crate::error::ChannelError;
use crate::role::Role;
/// One end of an in-memory link.
#[derive(Debug)]
pub struct MemoryTransport {
    peer: Role,
    tx: Sender<Frame>,
    rx: Receiver<Frame>,
    timeout: Option<Duration>,
}

impl MemoryTransport {
    /// A connected pair: the server's end and the client's end. `timeout` bounds every receive.
    pub fn pair(timeout: Option<Duration>) -> (MemoryTransport, MemoryTransport) {
        let (to_client, from_server) = crossbeam_channel::unbounded();
        let (to_server, from_client) = crossbeam_channel::unbounded();
        (
            MemoryTransport { peer: Role::Client, tx: to_client, rx: from_client, timeout },
            MemoryTransport { peer: Role::Server, tx: to_server, rx: from_server, timeout },
        )
    }
}

impl Transport for MemoryTransport {
    fn send(&mut self, frame: Frame) -> Result<(), ChannelError> {
        self.tx.send(frame).map_err(|_| ChannelError::PeerGone { peer: self.peer })
    }

    fn recv(&mut self) -> Result<Frame, ChannelError> {
        let frame = match self.timeout {
            Some(after) => self.rx.recv_timeout(after).map_err(|e| match e {
                RecvTimeoutError::Timeout => ChannelError::Timeout { after, peer: self.peer },
                RecvTimeoutError::Disconnected => ChannelError::PeerGone { peer: self.peer },
            }),
            None => self.rx.recv().map_err(|_| ChannelError::PeerGone { peer: self.peer }),
        }?;
        frame.delivered(self.peer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::channel::Stream;

    #[test]
    fn frames_cross_and_a_dropped_end_is_peer_gone() {
        let (mut s, mut c) = MemoryTransport::pair(Some(Duration::from_millis(50)));
        s.send(Frame { clock: 1, stream: Stream::Protocol, payload: vec![7] }).unwrap();
        assert_eq!(c.recv().unwrap(), Frame { clock: 1, stream: Stream::Protocol, payload: vec![7] });
        assert_eq!(c.recv(), Err(ChannelError::Timeout { after: Duration::from_millis(50), peer: Role::Server }));
        s.send(Frame { clock: 2, stream: Stream::Protocol, payload: vec![] }).unwrap();
        drop(s);
        assert_eq!(c.recv().unwrap().clock, 2, "frames sent before the peer left still arrive");
        assert_eq!(c.recv(), Err(ChannelError::PeerGone { peer: Role::Server }));
        assert_eq!(
            c.send(Frame { clock: 3, stream: Stream::Protocol, payload: vec![] }),
            Err(ChannelError::PeerGone { peer: Role::Server })
        );
    }
}
