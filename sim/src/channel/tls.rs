//! TLS 1.3 over the TCP transport (`rustls` with the `aws-lc-rs` provider, whose default key
//! exchange is the hybrid X25519MLKEM768), authenticated by a pinned
//! certificate.
//!
//! The listening party presents a certificate: one it generates at start (`rcgen`, self-signed,
//! ECDSA P-256), or one given as PEM files. The connecting party accepts exactly one certificate,
//! named by its SHA-256 [`Fingerprint`], the fingerprint the listener prints or of the file both
//! were given. There is no certificate authority and no name check: the pin is the trust anchor,
//! as in SSH. The handshake signature is still verified, so only the holder of the pinned key
//! can complete it. The connecting party presents no certificate; the parties' protocol
//! handshake above names the job, not who runs it.
//!
//! One rustls connection serves two threads: the protocol's receives (a [`TlsReader`]) and the
//! transport's writer thread (a [`TlsWriter`]). They share it under a mutex that is never held
//! across a socket read or write, so neither can hold the other up. Only the writer thread takes
//! records out of the connection (under the mutex) and writes them, so they leave in the order
//! their sequence numbers were assigned. What receiving leaves to send (rustls 0.23 holds a key
//! update's answer until the next record it seals) goes out with the next write or the
//! close_notify.
//!
//! Metering is unchanged: TLS records, like the frame headers, are transport bookkeeping, and the
//! meter counts payloads only.

use std::fmt;
use std::io::{self, ErrorKind, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{ClientConfig, ClientConnection, Connection, DigitallySignedStruct, ServerConfig, ServerConnection};
use sha2::{Digest, Sha256};

use super::tcp::Sink;

/// The name in a generated certificate. Nothing checks it: the pin does the authenticating.
const SERVER_NAME: &str = "dyad.invalid";

/// Bytes taken from the socket per read.
const SOCKET_READ: usize = 1 << 16;

/// A problem with a certificate, a key or a pin, before any connection.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A file could not be read.
    #[error("{}: {source}", path.display())]
    File {
        /// The file.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// A file holds no usable PEM item of the kind needed.
    #[error("{}: no {what} in PEM form: {reason}", path.display())]
    Pem {
        /// The file.
        path: PathBuf,
        /// "certificate" or "private key".
        what: &'static str,
        /// Why.
        reason: String,
    },
    /// A fingerprint that is not 32 bytes of hexadecimal.
    #[error("{value:?} is not a SHA-256 fingerprint (64 hexadecimal digits, colons allowed)")]
    Fingerprint {
        /// The text given.
        value: String,
    },
    /// The certificate and key do not make a usable TLS identity.
    #[error("the certificate and key: {reason}")]
    Identity {
        /// Why.
        reason: String,
    },
}

/// The SHA-256 digest of a certificate's DER encoding.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Fingerprint([u8; 32]);

impl Fingerprint {
    /// The fingerprint of a DER-encoded certificate.
    pub fn of(cert: &[u8]) -> Self {
        Fingerprint(Sha256::digest(cert).into())
    }

    /// The fingerprint of the first certificate in a PEM file.
    pub fn of_pem_file(path: &Path) -> Result<Self, TlsError> {
        Ok(Fingerprint::of(&read_cert(path)?))
    }
}

impl fmt::Display for Fingerprint {
    /// 64 lowercase hexadecimal digits.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|b| write!(f, "{b:02x}"))
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Fingerprint({self})")
    }
}

impl FromStr for Fingerprint {
    type Err = TlsError;

    /// 64 hexadecimal digits in either case; colons between them are ignored, as printed by
    /// `openssl x509 -fingerprint -sha256`.
    fn from_str(s: &str) -> Result<Self, TlsError> {
        let bad = || TlsError::Fingerprint { value: s.to_owned() };
        let digits: Vec<u8> = s.bytes().filter(|&b| b != b':').collect();
        if digits.len() != 64 {
            return Err(bad());
        }
        let mut out = [0u8; 32];
        for (byte, pair) in out.iter_mut().zip(digits.chunks(2)) {
            let text = std::str::from_utf8(pair).map_err(|_| bad())?;
            *byte = u8::from_str_radix(text, 16).map_err(|_| bad())?;
        }
        Ok(Fingerprint(out))
    }
}

/// What the listening party presents: a certificate and its private key.
#[derive(Debug)]
pub struct Identity {
    cert: CertificateDer<'static>,
    key: PrivateKeyDer<'static>,
}

impl Identity {
    /// A fresh self-signed certificate with a fresh ECDSA P-256 key, for this run only.
    pub fn generate() -> Result<Self, TlsError> {
        let made = rcgen::generate_simple_self_signed(vec![SERVER_NAME.to_owned()])
            .map_err(|e| TlsError::Identity { reason: e.to_string() })?;
        let key = PrivateKeyDer::try_from(made.signing_key.serialize_der())
            .map_err(|reason| TlsError::Identity { reason: reason.to_owned() })?;
        Ok(Identity { cert: made.cert.der().clone(), key })
    }

    /// The first certificate of `cert` and the first private key of `key`, both PEM files.
    pub fn from_pem_files(cert: &Path, key: &Path) -> Result<Self, TlsError> {
        let cert = read_cert(cert)?;
        let bytes = std::fs::read(key).map_err(|source| TlsError::File { path: key.to_owned(), source })?;
        let key = PrivateKeyDer::from_pem_slice(&bytes).map_err(|e| TlsError::Pem {
            path: key.to_owned(),
            what: "private key",
            reason: e.to_string(),
        })?;
        let identity = Identity { cert, key };
        identity.server_config()?;
        Ok(identity)
    }

    /// The certificate's fingerprint, which the connecting party pins.
    pub fn fingerprint(&self) -> Fingerprint {
        Fingerprint::of(&self.cert)
    }

    fn server_config(&self) -> Result<ServerConfig, TlsError> {
        let mut config = ServerConfig::builder_with_provider(provider())
            .with_protocol_versions(&[&rustls::version::TLS13])
            .map_err(|e| TlsError::Identity { reason: e.to_string() })?
            .with_no_client_auth()
            .with_single_cert(vec![self.cert.clone()], self.key.clone_key())
            .map_err(|e| TlsError::Identity { reason: e.to_string() })?;
        // One connection, never resumed: no tickets, so the client has nothing to read first.
        config.send_tls13_tickets = 0;
        Ok(config)
    }
}

fn read_cert(path: &Path) -> Result<CertificateDer<'static>, TlsError> {
    let bytes = std::fs::read(path).map_err(|source| TlsError::File { path: path.to_owned(), source })?;
    CertificateDer::from_pem_slice(&bytes).map_err(|e| TlsError::Pem {
        path: path.to_owned(),
        what: "certificate",
        reason: e.to_string(),
    })
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

/// Accepts the one certificate whose fingerprint is pinned, and checks its handshake signature.
#[derive(Debug)]
struct Pinned {
    pin: Fingerprint,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for Pinned {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let seen = Fingerprint::of(end_entity);
        if seen == self.pin {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::General(format!(
                "the peer's certificate has fingerprint {seen}, not the pinned {}",
                self.pin
            )))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(message, cert, dss, &self.provider.signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.provider.signature_verification_algorithms.supported_schemes()
    }
}

/// Which side of the TLS handshake this party takes.
#[derive(Debug)]
pub enum TlsSide<'a> {
    /// The listening party: presents this identity.
    Accepting(&'a Identity),
    /// The connecting party: accepts only the certificate with this fingerprint.
    Connecting(Fingerprint),
}

/// The rustls connection, shared by the two halves.
pub(super) type Shared = Arc<Mutex<Connection>>;

fn lock(shared: &Mutex<Connection>) -> io::Result<MutexGuard<'_, Connection>> {
    shared.lock().map_err(|_| io::Error::other("the TLS state was poisoned by a panic"))
}

/// Runs the TLS handshake on `stream`, each wait bounded by `timeout`; the connection is then
/// ready for application data.
pub(super) fn handshake(stream: &mut TcpStream, side: &TlsSide<'_>, timeout: Duration) -> io::Result<Shared> {
    let invalid = |e: rustls::Error| io::Error::new(ErrorKind::InvalidData, e);
    let mut conn: Connection = match side {
        TlsSide::Accepting(identity) => {
            let config = identity.server_config().map_err(io::Error::other)?;
            ServerConnection::new(Arc::new(config)).map_err(invalid)?.into()
        }
        TlsSide::Connecting(pin) => {
            let provider = provider();
            let config = ClientConfig::builder_with_provider(provider.clone())
                .with_protocol_versions(&[&rustls::version::TLS13])
                .map_err(invalid)?
                .dangerous()
                .with_custom_certificate_verifier(Arc::new(Pinned { pin: *pin, provider }))
                .with_no_client_auth();
            let name = ServerName::try_from(SERVER_NAME).map_err(|e| io::Error::new(ErrorKind::InvalidInput, e))?;
            ClientConnection::new(Arc::new(config), name).map_err(invalid)?.into()
        }
    };
    // The whole handshake, not each read, is bounded: a peer that trickles bytes is cut off.
    let deadline = Instant::now() + timeout;
    while conn.is_handshaking() || conn.wants_write() {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(io::Error::new(ErrorKind::TimedOut, "the TLS handshake did not finish in time"));
        }
        stream.set_read_timeout(Some(left))?;
        stream.set_write_timeout(Some(left))?;
        conn.complete_io(stream)?;
    }
    // From here on each wait is bounded by the timeout, and the writer thread writes: a busy
    // peer is not a stalled one.
    stream.set_read_timeout(Some(timeout))?;
    stream.set_write_timeout(None)?;
    Ok(Arc::new(Mutex::new(conn)))
}

/// The receiving half: plaintext out of the records the socket delivers.
#[derive(Debug)]
pub(super) struct TlsReader {
    socket: TcpStream,
    shared: Shared,
    /// Bytes read from the socket that the connection has not taken yet.
    pending: Vec<u8>,
    taken: usize,
}

impl TlsReader {
    pub(super) fn new(socket: TcpStream, shared: Shared) -> Self {
        TlsReader { socket, shared, pending: Vec::with_capacity(SOCKET_READ), taken: 0 }
    }
}

impl Read for TlsReader {
    /// Plaintext, as soon as any is decrypted; `Ok(0)` after the peer's close_notify, and
    /// [`ErrorKind::UnexpectedEof`] when the connection ends without one.
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        loop {
            {
                let mut conn = lock(&self.shared)?;
                match conn.reader().read(buf) {
                    Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                    done => return done,
                }
                if self.taken < self.pending.len() {
                    let mut rest = &self.pending[self.taken..];
                    self.taken += conn.read_tls(&mut rest)?;
                    conn.process_new_packets().map_err(|e| io::Error::new(ErrorKind::InvalidData, e))?;
                    continue;
                }
            }
            self.pending.resize(SOCKET_READ, 0);
            self.taken = 0;
            let n = match self.socket.read(&mut self.pending) {
                Ok(n) => n,
                Err(e) => {
                    self.pending.clear();
                    return Err(e);
                }
            };
            self.pending.truncate(n);
            if n == 0 {
                let mut conn = lock(&self.shared)?;
                conn.read_tls(&mut io::empty())?;
                conn.process_new_packets().map_err(|e| io::Error::new(ErrorKind::InvalidData, e))?;
                return match conn.reader().read(buf) {
                    Err(e) if e.kind() == ErrorKind::WouldBlock => Err(ErrorKind::UnexpectedEof.into()),
                    done => done,
                };
            }
        }
    }
}

/// The sending half: plaintext in, records out to the socket, on the writer thread.
#[derive(Debug)]
pub(super) struct TlsWriter {
    socket: TcpStream,
    shared: Shared,
    sealed: Vec<u8>,
}

impl TlsWriter {
    pub(super) fn new(socket: TcpStream, shared: Shared) -> Self {
        TlsWriter { socket, shared, sealed: Vec::new() }
    }

    /// Takes every record the connection has sealed, then writes them outside the lock.
    fn drain(&mut self, mut conn: MutexGuard<'_, Connection>) -> io::Result<()> {
        while conn.wants_write() {
            conn.write_tls(&mut self.sealed)?;
        }
        drop(conn);
        self.socket.write_all(&self.sealed)?;
        self.sealed.clear();
        Ok(())
    }
}

impl Sink for TlsWriter {
    /// Sends close_notify, so the peer can tell a finished connection from a cut one.
    fn close(&mut self) -> io::Result<()> {
        let shared = Arc::clone(&self.shared);
        let mut conn = lock(&shared)?;
        conn.send_close_notify();
        self.drain(conn)?;
        self.socket.shutdown(Shutdown::Write)
    }
}

impl Write for TlsWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let shared = Arc::clone(&self.shared);
        let mut conn = lock(&shared)?;
        let n = conn.writer().write(buf)?;
        self.drain(conn)?;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        let shared = Arc::clone(&self.shared);
        self.drain(lock(&shared)?)?;
        self.socket.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fingerprint_reads_back_as_printed_with_or_without_colons() {
        let f = Fingerprint::of(b"certificate");
        let printed = f.to_string();
        assert_eq!(printed.len(), 64);
        assert_eq!(printed.parse::<Fingerprint>().unwrap(), f);
        let colons =
            printed.as_bytes().chunks(2).map(|p| std::str::from_utf8(p).unwrap().to_uppercase()).collect::<Vec<_>>();
        assert_eq!(colons.join(":").parse::<Fingerprint>().unwrap(), f);
        for bad in ["", "abc", &printed[..62], &format!("{}zz", &printed[..62]), &format!("{printed}00")] {
            assert!(matches!(bad.parse::<Fingerprint>(), Err(TlsError::Fingerprint { .. })), "{bad:?}");
        }
    }

    #[test]
    fn an_identity_from_files_is_the_one_written_and_bad_files_are_named() {
        let dir = std::env::temp_dir().join(format!("dyad-tls-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let made = rcgen::generate_simple_self_signed(vec!["x".to_owned()]).unwrap();
        let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
        std::fs::write(&cert, made.cert.pem()).unwrap();
        std::fs::write(&key, made.signing_key.serialize_pem()).unwrap();
        let identity = Identity::from_pem_files(&cert, &key).unwrap();
        assert_eq!(identity.fingerprint(), Fingerprint::of(made.cert.der()));
        assert_eq!(Fingerprint::of_pem_file(&cert).unwrap(), identity.fingerprint());

        let missing = dir.join("missing.pem");
        assert!(
            matches!(Identity::from_pem_files(&missing, &key), Err(TlsError::File { path, .. }) if path == missing)
        );
        assert!(matches!(
            Identity::from_pem_files(&key, &key),
            Err(TlsError::Pem { what: "certificate", path, .. }) if path == key
        ));
        assert!(matches!(
            Identity::from_pem_files(&cert, &cert),
            Err(TlsError::Pem { what: "private key", path, .. }) if path == cert
        ));
        let stranger = dir.join("stranger.pem");
        std::fs::write(&stranger, rcgen::KeyPair::generate().unwrap().serialize_pem()).unwrap();
        assert!(
            matches!(Identity::from_pem_files(&cert, &stranger), Err(TlsError::Identity { .. })),
            "a key that is not the certificate's is refused"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
