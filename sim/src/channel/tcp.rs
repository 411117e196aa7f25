//! The TCP transport: the two parties in separate processes (or machines), one connection.
//!
//! A frame on the wire is a 17-byte header — the clock (u64), the stream (u8: 0 protocol,
//! 1 correlations, 2 sync, 3 abort) and the payload length (u64), all little-endian — then the payload. The header
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

use super::tls::{self, Fingerprint, Identity, TlsReader, TlsSide, TlsWriter};
use super::{ABORT_REASON_BYTES, Frame, Stream, Transport};
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

/// One end of a TCP connection between the parties, in the clear or under TLS.
pub struct TcpTransport {
    peer: Role,
    socket: TcpStream,
    reader: Box<dyn Read + Send>,
    writer: Option<(Sender<Frame>, JoinHandle<io::Result<()>>)>,
    config: TcpConfig,
}

impl std::fmt::Debug for TcpTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TcpTransport").field("peer", &self.peer).field("socket", &self.socket).finish_non_exhaustive()
    }
}

/// Where the writer thread writes: the socket, or TLS over it.
pub(super) trait Sink: Write + Send {
    /// Ends the sending direction once everything queued is written.
    fn close(&mut self) -> io::Result<()>;
}

impl Sink for TcpStream {
    fn close(&mut self) -> io::Result<()> {
        self.shutdown(Shutdown::Write)
    }
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
    /// The TLS handshake failed: a certificate that is not the pinned one, or a peer that
    /// refused ours or speaks no TLS.
    #[error("{addr}: the TLS handshake failed: {reason}")]
    Tls {
        /// The address.
        addr: String,
        /// Why, as rustls says it.
        reason: String,
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

impl ConnectError {
    /// What a failure to set up a connected stream means: a timeout, a TLS handshake that
    /// failed (rustls reports it as invalid data), or the socket.
    fn of(addr: &str, peer: Role, config: TcpConfig, e: io::Error) -> Self {
        let addr = addr.to_owned();
        match e.kind() {
            ErrorKind::WouldBlock | ErrorKind::TimedOut => {
                ConnectError::Timeout { addr, peer, after: config.timeout, last: Some(e) }
            }
            ErrorKind::InvalidData => ConnectError::Tls { addr, reason: e.to_string() },
            _ => ConnectError::Socket { addr, source: e },
        }
    }
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
        self.accept_secured(peer, config, None)
    }

    /// [`Listening::accept`], then the TLS handshake, presenting `identity`.
    pub fn accept_tls(self, peer: Role, config: TcpConfig, identity: &Identity) -> Result<TcpTransport, ConnectError> {
        self.accept_secured(peer, config, Some(&TlsSide::Accepting(identity)))
    }

    fn accept_secured(
        self,
        peer: Role,
        config: TcpConfig,
        tls: Option<&TlsSide<'_>>,
    ) -> Result<TcpTransport, ConnectError> {
        let addr = self.addr.clone();
        match accept_within(&self.listener, config.timeout) {
            Ok(stream) => {
                TcpTransport::secured(stream, peer, config, tls).map_err(|e| ConnectError::of(&addr, peer, config, e))
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
        TcpTransport::connect_secured(addr, peer, config, None)
    }

    /// [`TcpTransport::connect`], then the TLS handshake, accepting only the certificate with
    /// fingerprint `pin`.
    pub fn connect_tls(addr: &str, peer: Role, config: TcpConfig, pin: Fingerprint) -> Result<Self, ConnectError> {
        TcpTransport::connect_secured(addr, peer, config, Some(&TlsSide::Connecting(pin)))
    }

    fn connect_secured(
        addr: &str,
        peer: Role,
        config: TcpConfig,
        tls: Option<&TlsSide<'_>>,
    ) -> Result<Self, ConnectError> {
        let deadline = Instant::now() + config.timeout;
        let targets: Vec<SocketAddr> =
            addr.to_socket_addrs().map_err(|source| ConnectError::Address { addr: addr.to_owned(), source })?.collect();
        let mut last = None;
        loop {
            for target in &targets {
                let left = deadline.saturating_duration_since(Instant::now()).max(Duration::from_millis(1));
                match TcpStream::connect_timeout(target, left) {
                    Ok(stream) => {
                        return TcpTransport::secured(stream, peer, config, tls)
                            .map_err(|e| ConnectError::of(addr, peer, config, e));
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

    /// A transport over a connected `stream`, in the clear.
    pub fn over(stream: TcpStream, peer: Role, config: TcpConfig) -> io::Result<Self> {
        TcpTransport::secured(stream, peer, config, None)
    }

    /// A transport over a connected `stream`, under TLS when `tls` says which side this is.
    fn secured(mut stream: TcpStream, peer: Role, config: TcpConfig, tls: Option<&TlsSide<'_>>) -> io::Result<Self> {
        stream.set_nodelay(true)?;
        stream.set_read_timeout(Some(config.timeout))?;
        let (tx, rx) = crossbeam_channel::unbounded::<Frame>();
        let (reader, sink): (Box<dyn Read + Send>, Box<dyn Sink>) = match tls {
            None => (Box::new(stream.try_clone()?), Box::new(stream.try_clone()?)),
            Some(side) => {
                let shared = tls::handshake(&mut stream, side, config.timeout)?;
                (
                    Box::new(TlsReader::new(stream.try_clone()?, shared.clone())),
                    Box::new(TlsWriter::new(stream.try_clone()?, shared)),
                )
            }
        };
        let writer = std::thread::Builder::new().name("dyad-tcp-writer".into()).spawn(move || {
            // A write error means the peer is gone or stalled: the queue is dropped with this
            // thread, so the next send fails and reads the error from its result. Either way
            // the peer then reads end of stream.
            let mut out = BufWriter::with_capacity(1 << 16, sink);
            let written = pump(&rx, &mut out);
            drop(rx);
            match out.into_inner() {
                Ok(mut sink) => written.and(sink.close()),
                Err(e) => written.and(Err(e.into_error())),
            }
        })?;
        Ok(TcpTransport { peer, socket: stream, reader, writer: Some((tx, writer)), config })
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
            ErrorKind::InvalidData => ChannelError::Invalid { what: "TLS record", reason: e.to_string() },
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
                reason: format!("stream {} is not 0 (protocol), 1 (correlations), 2 (sync) or 3 (abort)", header[8]),
            });
        };
        let len = word(9..17);
        let limit = if stream == Stream::Abort { ABORT_REASON_BYTES as u64 } else { self.config.max_frame };
        if len > limit {
            return Err(ChannelError::TooLarge { size: len, limit });
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
        Frame { clock, stream, payload }.delivered(self.peer)
    }
}

impl TcpTransport {
    /// Reads and discards until the peer closes, for at most [`LINGER`] (or the timeout, if
    /// shorter). A socket closed with unread bytes waiting is reset, not closed, and a reset
    /// discards what the peer has not read yet: the last frames sent (an abort's reason) would
    /// be lost whenever this party stops with the peer's data unread, as a failing party does.
    fn linger(&mut self) {
        let deadline = Instant::now() + self.config.timeout.min(LINGER);
        let mut sink = vec![0u8; 1 << 14];
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() || self.socket.set_read_timeout(Some(left)).is_err() {
                return;
            }
            match self.socket.read(&mut sink) {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    }
}

/// How long a closing transport waits for the peer to close after its own last frame.
const LINGER: Duration = Duration::from_secs(2);

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
            if writer.is_finished() {
                self.linger();
            }
            let _ = self.socket.shutdown(Shutdown::Both);
            let _ = writer.join();
        }
        let _ = self.socket.shutdown(Shutdown::Both);
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

    fn tls_pair(config: TcpConfig) -> (TcpTransport, TcpTransport) {
        let identity = Identity::generate().unwrap();
        let pin = identity.fingerprint();
        let listening = Listening::bind("127.0.0.1:0").unwrap();
        let addr = listening.local_addr().unwrap().to_string();
        let client = std::thread::spawn(move || TcpTransport::connect_tls(&addr, Role::Server, config, pin).unwrap());
        let server = listening.accept_tls(Role::Client, config, &identity).unwrap();
        (server, client.join().unwrap())
    }

    #[test]
    fn frames_cross_in_order_on_both_streams_and_both_may_send_first() {
        let config = TcpConfig::new(Duration::from_secs(5));
        for (s, c) in [pair(config.timeout, DEFAULT_MAX_FRAME), tls_pair(config)] {
            let (mut s, mut c) = (s, c);
            let big: Vec<u8> = (0..8u32 << 20).map(|i| (i % 251) as u8).collect();
            // Both send a flight larger than any socket buffer before either receives.
            for end in [&mut s, &mut c] {
                end.send(Frame { clock: 1, stream: Stream::Correlations, payload: big.clone() }).unwrap();
                end.send(Frame { clock: 2, stream: Stream::Protocol, payload: vec![] }).unwrap();
                end.send(Frame { clock: 3, stream: Stream::Sync, payload: vec![7] }).unwrap();
            }
            for end in [&mut s, &mut c] {
                assert_eq!(end.recv().unwrap(), Frame { clock: 1, stream: Stream::Correlations, payload: big.clone() });
                assert_eq!(end.recv().unwrap(), Frame { clock: 2, stream: Stream::Protocol, payload: vec![] });
                assert_eq!(end.recv().unwrap(), Frame { clock: 3, stream: Stream::Sync, payload: vec![7] });
            }
            drop(s);
            assert_eq!(c.recv(), Err(ChannelError::PeerGone { peer: Role::Server }), "a closed peer is gone");
        }
    }

    #[test]
    fn an_abort_reaches_a_peer_whose_data_was_left_unread_and_its_reason_is_bounded_and_escaped() {
        let (s, c) = pair(Duration::from_secs(5), DEFAULT_MAX_FRAME);
        let (mut s, mut c) = (s, c);
        // Both send flights larger than the socket buffers; the server fails without reading the
        // client's. Closed with those bytes unread, its socket would be reset, and a reset drops
        // what the kernel has not sent yet: the tail of its flight and its abort.
        c.send(Frame { clock: 1, stream: Stream::Protocol, payload: vec![1; 16 << 20] }).unwrap();
        let big = vec![2; 16 << 20];
        let server = std::thread::spawn(move || {
            s.send(Frame { clock: 1, stream: Stream::Protocol, payload: big }).unwrap();
            s.send(Frame::abort("the server failed\x1b[2J")).unwrap();
            drop(s);
        });
        std::thread::sleep(Duration::from_millis(300));
        assert_eq!(c.recv().map(|f| f.payload.len()), Ok(16 << 20), "the server's flight arrives whole");
        assert_eq!(
            c.recv(),
            Err(ChannelError::PeerFailed { peer: Role::Server, reason: "the server failed\\u{1b}[2J".into() })
        );
        drop(c);
        server.join().unwrap();

        let (mut s, mut raw) = raw_pair();
        let mut header = vec![0u8; HEADER_BYTES];
        header[8] = 3;
        header[9..].copy_from_slice(&(ABORT_REASON_BYTES as u64 + 1).to_le_bytes());
        raw.write_all(&header).unwrap();
        assert_eq!(s.recv(), Err(ChannelError::TooLarge { size: ABORT_REASON_BYTES as u64 + 1, limit: 4096 }));
    }

    #[test]
    fn tls_refuses_a_certificate_that_is_not_the_pinned_one_on_both_sides() {
        let config = TcpConfig::new(Duration::from_secs(5));
        let identity = Identity::generate().unwrap();
        let other = Identity::generate().unwrap().fingerprint();
        assert_ne!(identity.fingerprint(), other, "fresh keys give fresh certificates");
        let listening = Listening::bind("127.0.0.1:0").unwrap();
        let addr = listening.local_addr().unwrap().to_string();
        let client = std::thread::spawn(move || TcpTransport::connect_tls(&addr, Role::Server, config, other));
        let server = listening.accept_tls(Role::Client, config, &identity);
        let client = client.join().unwrap();
        match client {
            Err(ConnectError::Tls { reason, .. }) => {
                assert!(reason.contains(&format!("not the pinned {other}")), "{reason}");
            }
            other => panic!("the client accepted another certificate: {other:?}"),
        }
        assert!(matches!(server, Err(ConnectError::Tls { .. })), "the server hears the refusal: {server:?}");
    }

    #[test]
    fn tls_refuses_a_peer_that_speaks_none_and_a_record_altered_on_the_way() {
        let config = TcpConfig::new(Duration::from_secs(5));
        let identity = Identity::generate().unwrap();
        let listening = Listening::bind("127.0.0.1:0").unwrap();
        let addr = listening.local_addr().unwrap();
        let mut raw = TcpStream::connect(addr).unwrap();
        raw.write_all(&[0u8; HEADER_BYTES]).unwrap();
        let refused = listening.accept_tls(Role::Client, config, &identity);
        assert!(matches!(refused, Err(ConnectError::Tls { .. })), "{refused:?}");

        // A relay that flips one bit of the client's stream, well after the handshake.
        let listening = Listening::bind("127.0.0.1:0").unwrap();
        let server_addr = listening.local_addr().unwrap();
        let relay = TcpListener::bind("127.0.0.1:0").unwrap();
        let relay_addr = relay.local_addr().unwrap().to_string();
        std::thread::spawn(move || {
            let (mut from_client, _) = relay.accept().unwrap();
            let mut to_server = TcpStream::connect(server_addr).unwrap();
            let (mut back_from, mut back_to) = (to_server.try_clone().unwrap(), from_client.try_clone().unwrap());
            std::thread::spawn(move || io::copy(&mut back_from, &mut back_to));
            let mut seen = 0usize;
            let mut buf = vec![0u8; 4096];
            while let Ok(n @ 1..) = from_client.read(&mut buf) {
                if (seen..seen + n).contains(&50_000) {
                    buf[50_000 - seen] ^= 1;
                }
                seen += n;
                if to_server.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
        });
        let pin = identity.fingerprint();
        let client = std::thread::spawn(move || {
            let mut c = TcpTransport::connect_tls(&relay_addr, Role::Server, config, pin).unwrap();
            c.send(Frame { clock: 1, stream: Stream::Protocol, payload: vec![3; 100_000] }).unwrap();
            c
        });
        let mut server = listening.accept_tls(Role::Client, config, &identity).unwrap();
        let _client = client.join().unwrap();
        assert!(
            matches!(server.recv(), Err(ChannelError::Invalid { what: "TLS record", .. })),
            "an altered record is refused, not delivered"
        );
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
