//! The TCP transport: the two parties in separate processes (or machines), one connection.
//!
//! A frame on the wire is a 17-byte header — the clock (u64), the stream (u8: 0 protocol,
//! 1 correlations, 2 sync) and the payload length (u64), all little-endian — then the payload. The header
//! is transport bookkeeping, as the in-memory transport's frame fields are, and is not charged:
//! the meter above counts payload bytes only, so a run over TCP reports the counts of the same run
//! in memory.
//!
//! Sends never block the protocol: a writer thread owns the socket's write half and drains a
//! queue, as the in-memory transport's unbounded channel does. Both parties may therefore send a
//! whole flight before either receives (the OT provider does) without filling the socket buffers
//! into a deadlock. Receives read the socket directly.
//!
//! **Faults.** A peer that closes the connection, mid-frame or between frames, is
//! [`ChannelError::PeerGone`]; one that sends nothing for the timeout (while a frame is awaited
//! or in the middle of one: a slow link that keeps delivering is waited for) is
//! [`ChannelError::Timeout`]; an unknown stream byte is [`ChannelError::Invalid`]; a length above
//! [`TcpConfig::max_frame`] is [`ChannelError::TooLarge`], refused from the header alone. The
//! payload buffer grows with the bytes that actually arrive, never to a length the header merely
//! claims.

use std::io::{self, BufWriter, ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender};

use super::{Frame, Stream, Transport};
use crate::error::ChannelError;
use crate::role::Role;

/// Bytes of a frame's header on the wire.
pub const HEADER_BYTES: usize = 17;

/// The default [`TcpConfig::max_frame`]: 4 GiB, above the largest single message of any
/// registered protocol at BERT-base shape.
pub const DEFAULT_MAX_FRAME: u64 = 1 << 32;

/// The payload is read in pieces of at most this many bytes, so memory follows what arrives.
const READ_CHUNK: usize = 1 << 20;

/// How a TCP transport behaves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TcpConfig {
    /// Bound on each wait for bytes from the peer, on connecting, and on delivering what is
    /// queued when the transport closes.
    pub timeout: Duration,
    /// The largest payload accepted; a header announcing more is refused.
    pub max_frame: u64,
}

impl TcpConfig {
    /// `timeout` with the default frame limit.
    pub fn new(timeout: Duration) -> Self {
        TcpConfig { timeout, max_frame: DEFAULT_MAX_FRAME }
    }
}

/// One end of a TCP connection between the parties.
#[derive(Debug)]
pub struct TcpTransport {
    peer: Role,
    reader: TcpStream,
    writer: Option<(Sender<Frame>, JoinHandle<io::Result<()>>)>,
    config: TcpConfig,
}

/// A connection that could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// The address could not be bound or resolved.
    #[error("{addr}: {source}")]
    Address {
        /// The address as given.
        addr: String,
        /// Why.
        source: io::Error,
    },
    /// The socket failed while connecting or accepting.
    #[error("{addr}: {source}")]
    Socket {
        /// The address.
        addr: String,
        /// Why.
        source: io::Error,
    },
    /// No peer connected, or the peer could not be reached, within the timeout.
    #[error("no connection with the {peer} at {addr} within {after:?}{}", last.as_ref().map(|e| format!(" (last error: {e})")).unwrap_or_default())]
    Timeout {
        /// The address.
        addr: String,
        /// The party expected there.
        peer: Role,
        /// The timeout.
        after: Duration,
        /// The last error seen while retrying.
        last: Option<io::Error>,
    },
}

/// A bound address waiting for the peer to connect.
#[derive(Debug)]
pub struct Listening {
    listener: TcpListener,
    addr: String,
}

impl Listening {
    /// Binds `addr` (port 0 picks a free port; [`Listening::local_addr`] tells which).
    pub fn bind(addr: &str) -> Result<Self, ConnectError> {
        let listener =
            TcpListener::bind(addr).map_err(|source| ConnectError::Address { addr: addr.to_owned(), source })?;
        Ok(Listening { listener, addr: addr.to_owned() })
    }

    /// The address actually bound.
    pub fn local_addr(&self) -> Result<SocketAddr, ConnectError> {
        self.listener.local_addr().map_err(|source| ConnectError::Address { addr: self.addr.clone(), source })
    }

    /// Accepts the first connection within `config.timeout`; the peer is `peer`.
    pub fn accept(self, peer: Role, config: TcpConfig) -> Result<TcpTransport, ConnectError> {
        let addr = self.addr.clone();
        match accept_within(&self.listener, config.timeout) {
            Ok(stream) => {
                TcpTransport::over(stream, peer, config).map_err(|source| ConnectError::Socket { addr, source })
            }
            Err(e) if e.kind() == ErrorKind::TimedOut => {
                Err(ConnectError::Timeout { addr, peer, after: config.timeout, last: None })
            }
            Err(source) => Err(ConnectError::Socket { addr, source }),
        }
    }
}

/// The first connection `listener` accepts within `timeout`, as a blocking stream; an error of
/// kind [`ErrorKind::TimedOut`] when none comes.
pub fn accept_within(listener: &TcpListener, timeout: Duration) -> io::Result<TcpStream> {
    listener.set_nonblocking(true)?;
    let deadline = Instant::now() + timeout;
    loop {
        match listener.accept() {
            Ok((stream, _)) => {
                stream.set_nonblocking(false)?;
                return Ok(stream);
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock && Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(5));
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => {
                return Err(io::Error::new(ErrorKind::TimedOut, "no connection came"));
            }
            Err(e) => return Err(e),
        }
    }
}

impl TcpTransport {
    /// Connects to `addr`, where `peer` listens, retrying until `config.timeout` (the peer may
    /// start a moment later).
    pub fn connect(addr: &str, peer: Role, config: TcpConfig) -> Result<Self, ConnectError> {
        let deadline = Instant::now() + config.timeout;
        let targets: Vec<SocketAddr> =
            addr.to_socket_addrs().map_err(|source| ConnectError::Address { addr: addr.to_owned(), source })?.collect();
        let mut last = None;
        loop {
            for target in &targets {
                let left = deadline.saturating_duration_since(Instant::now()).max(Duration::from_millis(1));
                match TcpStream::connect_timeout(target, left) {
                    Ok(stream) => {
                        return TcpTransport::over(stream, peer, config)
                            .map_err(|source| ConnectError::Socket { addr: addr.to_owned(), source });
                    }
                    Err(e) => last = Some(e),
                }
            }
            if Instant::now() >= deadline {
                return Err(ConnectError::Timeout { addr: addr.to_owned(), peer, after: config.timeout, last });
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// A transport over a connected `stream`.
    pub fn over(stream: TcpStream, peer: Role, config: TcpConfig) -> io::Result<Self> {
        stream.set_nodelay(true)?;
        stream.set_read_timeout(Some(config.timeout))?;
        let write_half = stream.try_clone()?;
        let (tx, rx) = crossbeam_channel::unbounded::<Frame>();
        let writer = std::thread::Builder::new().name("dyad-tcp-writer".into()).spawn(move || {
            // A write error means the peer is gone or stalled: the queue is dropped with this
            // thread, so the next send fails and reads the error from its result. Either way
            // the peer then reads end of stream.
            let written = pump(&rx, &mut BufWriter::with_capacity(1 << 16, &write_half));
            drop(rx);
            let _ = write_half.shutdown(Shutdown::Write);
            written
        })?;
        Ok(TcpTransport { peer, reader: stream, writer: Some((tx, writer)), config })
    }

    /// Fills `buf`; the timeout bounds each wait for more bytes, so a slow link that keeps
    /// delivering is waited for and a silent one is not.
    fn read_exact(&mut self, buf: &mut [u8]) -> Result<(), ChannelError> {
        let mut filled = 0;
        while filled < buf.len() {
            match self.reader.read(&mut buf[filled..]) {
                Ok(0) => return Err(ChannelError::PeerGone { peer: self.peer }),
                Ok(n) => filled += n,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(self.io_error(&e)),
            }
        }
        Ok(())
    }

    fn io_error(&self, e: &io::Error) -> ChannelError {
        match e.kind() {
            ErrorKind::WouldBlock | ErrorKind::TimedOut => {
                ChannelError::Timeout { after: self.config.timeout, peer: self.peer }
            }
            ErrorKind::UnexpectedEof
            | ErrorKind::ConnectionReset
            | ErrorKind::ConnectionAborted
            | ErrorKind::BrokenPipe
            | ErrorKind::NotConnected => ChannelError::PeerGone { peer: self.peer },
            _ => ChannelError::Io { reason: e.to_string() },
        }
    }
}

/// Writes queued frames until the queue closes, flushing whenever it runs empty.
fn pump(rx: &Receiver<Frame>, out: &mut impl Write) -> io::Result<()> {
    while let Ok(frame) = rx.recv() {
        write_frame(out, &frame)?;
        if rx.is_empty() {
            out.flush()?;
        }
    }
    out.flush()
}

fn write_frame(out: &mut impl Write, frame: &Frame) -> io::Result<()> {
    let mut header = [0u8; HEADER_BYTES];
    header[..8].copy_from_slice(&frame.clock.to_le_bytes());
    header[8] = frame.stream.index() as u8;
    header[9..].copy_from_slice(&(frame.payload.len() as u64).to_le_bytes());
    out.write_all(&header)?;
    out.write_all(&frame.payload)
}

impl Transport for TcpTransport {
    fn send(&mut self, frame: Frame) -> Result<(), ChannelError> {
        let gone = ChannelError::PeerGone { peer: self.peer };
        match &self.writer {
            Some((tx, _)) if tx.send(frame).is_ok() => Ok(()),
            Some(_) => match self.writer.take().map(|(_, writer)| writer.join()) {
                Some(Ok(Err(e))) => Err(self.io_error(&e)),
                _ => Err(gone),
            },
            None => Err(gone),
        }
    }

    fn recv(&mut self) -> Result<Frame, ChannelError> {
        let mut header = [0u8; HEADER_BYTES];
        self.read_exact(&mut header)?;
        let word = |range: std::ops::Range<usize>| {
            let mut w = [0u8; 8];
            w.copy_from_slice(&header[range]);
            u64::from_le_bytes(w)
        };
        let clock = word(0..8);
        let Some(&stream) = Stream::ALL.get(usize::from(header[8])) else {
            return Err(ChannelError::Invalid {
                what: "frame header",
                reason: format!("stream {} is not 0 (protocol), 1 (correlations) or 2 (sync)", header[8]),
            });
        };
        let len = word(9..17);
        if len > self.config.max_frame {
            return Err(ChannelError::TooLarge { size: len, limit: self.config.max_frame });
        }
        let len = usize::try_from(len).map_err(|_| ChannelError::TooLarge { size: len, limit: usize::MAX as u64 })?;
        let mut payload = Vec::new();
        while payload.len() < len {
            let start = payload.len();
            let chunk = (len - start).min(READ_CHUNK);
            payload.reserve_exact(chunk);
            payload.resize(start + chunk, 0);
            self.read_exact(&mut payload[start..])?;
        }
        Ok(Frame { clock, stream, payload })
    }
}

impl Drop for TcpTransport {
    /// Sends what is queued, then closes: the peer reads every frame sent before end of stream.
    /// A peer that reads nothing for the timeout is cut off, which ends the writer.
    fn drop(&mut self) {
        if let Some((tx, writer)) = self.writer.take() {
            drop(tx);
            let deadline = Instant::now() + self.config.timeout;
            while !writer.is_finished() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(2));
            }
            let _ = self.reader.shutdown(Shutdown::Both);
            let _ = writer.join();
        }
        let _ = self.reader.shutdown(Shutdown::Both);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair(timeout: Duration, max_frame: u64) -> (TcpTransport, TcpTransport) {
        let listening = Listening::bind("127.0.0.1:0").unwrap();
        let addr = listening.local_addr().unwrap().to_string();
        let config = TcpConfig { timeout, max_frame };
        let client = std::thread::spawn(move || TcpTransport::connect(&addr, Role::Server, config).unwrap());
        let server = listening.accept(Role::Client, config).unwrap();
        (server, client.join().unwrap())
    }

    fn raw_pair() -> (TcpTransport, TcpStream) {
        let listening = Listening::bind("127.0.0.1:0").unwrap();
        let addr = listening.local_addr().unwrap();
        let raw = TcpStream::connect(addr).unwrap();
        let server =
            listening.accept(Role::Client, TcpConfig { timeout: Duration::from_secs(5), max_frame: 1000 }).unwrap();
        (server, raw)
    }

    #[test]
    fn frames_cross_in_order_on_both_streams_and_both_may_send_first() {
        let (mut s, mut c) = pair(Duration::from_secs(5), DEFAULT_MAX_FRAME);
        let big = vec![0xA5u8; 8 << 20];
        // Both send a flight larger than any socket buffer before either receives.
        for end in [&mut s, &mut c] {
            end.send(Frame { clock: 1, stream: Stream::Correlations, payload: big.clone() }).unwrap();
            end.send(Frame { clock: 2, stream: Stream::Protocol, payload: vec![] }).unwrap();
        }
        for end in [&mut s, &mut c] {
            assert_eq!(end.recv().unwrap(), Frame { clock: 1, stream: Stream::Correlations, payload: big.clone() });
            assert_eq!(end.recv().unwrap(), Frame { clock: 2, stream: Stream::Protocol, payload: vec![] });
        }
    }

    #[test]
    fn a_closed_peer_is_peer_gone_after_its_last_frame_and_silence_is_a_timeout() {
        let (mut s, mut c) = pair(Duration::from_millis(200), DEFAULT_MAX_FRAME);
        let started = Instant::now();
        assert_eq!(c.recv(), Err(ChannelError::Timeout { after: Duration::from_millis(200), peer: Role::Server }));
        assert!(started.elapsed() < Duration::from_secs(2), "the timeout holds: {:?}", started.elapsed());
        s.send(Frame { clock: 7, stream: Stream::Protocol, payload: vec![1, 2, 3] }).unwrap();
        drop(s);
        assert_eq!(c.recv().unwrap().payload, vec![1, 2, 3]);
        assert_eq!(c.recv(), Err(ChannelError::PeerGone { peer: Role::Server }));
    }

    #[test]
    fn an_oversized_or_malformed_header_is_refused_and_a_cut_frame_is_peer_gone() {
        let header = |stream: u8, len: u64| {
            let mut h = vec![0u8; HEADER_BYTES];
            h[8] = stream;
            h[9..].copy_from_slice(&len.to_le_bytes());
            h
        };
        let (mut s, mut raw) = raw_pair();
        raw.write_all(&header(0, u64::MAX)).unwrap();
        assert_eq!(s.recv(), Err(ChannelError::TooLarge { size: u64::MAX, limit: 1000 }));

        let (mut s, mut raw) = raw_pair();
        raw.write_all(&header(9, 4)).unwrap();
        assert!(matches!(s.recv(), Err(ChannelError::Invalid { what: "frame header", .. })));

        let (mut s, mut raw) = raw_pair();
        raw.write_all(&header(1, 1000)).unwrap();
        raw.write_all(&[0u8; 10]).unwrap();
        drop(raw);
        assert_eq!(s.recv(), Err(ChannelError::PeerGone { peer: Role::Client }));
    }
}
