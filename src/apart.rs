//! The flags of a run apart (`--party`, `--listen`, `--connect`), shared by `dyad run` and
//! `dyad e2e`, with TLS (`--tls`, `--tls-cert`, `--tls-key`, `--tls-pin`), and the TCP
//! connection they ask for.

use std::path::PathBuf;
use std::time::Duration;

use clap::ValueEnum;
use dyad_sim::Role;
use dyad_sim::channel::Transport;
use dyad_sim::channel::tcp::{ConnectError, Listening, TcpConfig, TcpTransport};
use dyad_sim::channel::tls::{Fingerprint, Identity};

use crate::error::CliError;

/// Which party this process runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum PartyArg {
    /// P0, who holds the weights.
    Server,
    /// P1, who holds the input (and deals the shared inputs).
    Client,
}

impl From<PartyArg> for Role {
    fn from(p: PartyArg) -> Self {
        match p {
            PartyArg::Server => Role::Server,
            PartyArg::Client => Role::Client,
        }
    }
}

/// `--party` with `--listen` or `--connect`, and TLS.
#[derive(Debug, clap::Args)]
pub(crate) struct ApartArgs {
    /// Run only this party; the other runs in another process with the same command and flags,
    /// which this one listens for or connects to.
    #[arg(long, value_enum, requires = "endpoint")]
    pub(crate) party: Option<PartyArg>,
    /// With `--party`: wait for the other party's connection on ADDR (host:port; port 0 picks
    /// one, printed on standard error).
    #[arg(long, value_name = "ADDR", group = "endpoint", requires = "party")]
    listen: Option<String>,
    /// With `--party`: connect to the other party at ADDR, retrying until the timeout.
    #[arg(long, value_name = "ADDR", group = "endpoint", requires = "party")]
    connect: Option<String>,
    /// Secure the connection with TLS 1.3. The listening party presents a certificate (a fresh
    /// self-signed one unless `--tls-cert` and `--tls-key` name one) and prints its SHA-256
    /// fingerprint; the connecting party accepts only the certificate that `--tls-pin` or
    /// `--tls-cert` names.
    #[arg(long, requires = "party")]
    tls: bool,
    /// With `--tls`: a PEM certificate. Listening, the one to present (with `--tls-key`);
    /// connecting, the one to accept, pinned by its fingerprint.
    #[arg(long, value_name = "FILE", requires = "tls")]
    tls_cert: Option<PathBuf>,
    /// With `--tls`, listening: the PEM private key of `--tls-cert`.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// With `--tls`, connecting: the SHA-256 fingerprint of the certificate to accept (64
    /// hexadecimal digits, colons allowed), as the listening party prints it.
    #[arg(long, value_name = "SHA256", requires = "tls", conflicts_with = "tls_cert")]
    tls_pin: Option<String>,
}

/// This party's role, where the other party is, and how the connection is secured: checked,
/// and the TLS files read, before any work.
#[derive(Debug)]
pub(crate) struct Endpoint {
    /// The party this process runs.
    pub(crate) role: Role,
    way: Way,
}

/// How the connection is made.
#[derive(Debug)]
enum Way {
    /// Listen on the address, presenting the identity under TLS.
    Listen(String, Option<Identity>),
    /// Connect to the address, accepting only the pinned certificate under TLS.
    Connect(String, Option<Fingerprint>),
}

impl ApartArgs {
    /// The endpoint the flags name, `None` without `--party`; contradictory TLS flags and
    /// unreadable files are usage errors.
    pub(crate) fn endpoint(&self) -> Result<Option<Endpoint>, CliError> {
        let Some(party) = self.party else {
            return Ok(None);
        };
        let way = match (&self.listen, &self.connect) {
            (Some(addr), _) => {
                if self.tls_pin.is_some() {
                    return Err(CliError::Usage(
                        "--tls-pin: the listening party presents a certificate; the connecting party pins it".into(),
                    ));
                }
                let identity = match (&self.tls_cert, &self.tls_key) {
                    _ if !self.tls => None,
                    (Some(cert), Some(key)) => Some(Identity::from_pem_files(cert, key).map_err(CliError::usage)?),
                    (Some(_), None) => {
                        return Err(CliError::Usage("--tls-cert: the listening party needs its --tls-key too".into()));
                    }
                    (None, _) => Some(Identity::generate().map_err(CliError::usage)?),
                };
                Way::Listen(addr.clone(), identity)
            }
            (None, Some(addr)) => {
                if self.tls_key.is_some() {
                    return Err(CliError::Usage(
                        "--tls-key: the connecting party presents no certificate; give it --tls-pin or --tls-cert"
                            .into(),
                    ));
                }
                let pin = match (&self.tls_pin, &self.tls_cert) {
                    _ if !self.tls => None,
                    (Some(pin), _) => Some(pin.parse().map_err(|e| CliError::Usage(format!("--tls-pin: {e}")))?),
                    (None, Some(cert)) => Some(Fingerprint::of_pem_file(cert).map_err(CliError::usage)?),
                    (None, None) => {
                        return Err(CliError::Usage(
                            "--tls: the connecting party needs --tls-pin SHA256 or --tls-cert FILE to know whom it talks to"
                                .into(),
                        ));
                    }
                };
                Way::Connect(addr.clone(), pin)
            }
            (None, None) => return Err(CliError::Usage("--party needs --listen ADDR or --connect ADDR".into())),
        };
        Ok(Some(Endpoint { role: party.into(), way }))
    }
}

impl Endpoint {
    /// The connection to the other party.
    pub(crate) fn connect(&self, timeout: Duration) -> Result<Box<dyn Transport>, CliError> {
        let (role, config) = (self.role, TcpConfig::new(timeout));
        let hint = match self.way {
            Way::Listen(..) => "does the other party's --tls-pin or --tls-cert name this certificate?",
            Way::Connect(..) => "check --tls-pin or --tls-cert",
        };
        let failed = |e: ConnectError| match e {
            ConnectError::Address { .. } => CliError::usage(e),
            ConnectError::Tls { .. } => CliError::Usage(format!("{e} ({hint})")),
            ConnectError::Socket { .. } | ConnectError::Timeout { .. } => CliError::Failed(e.to_string()),
        };
        let transport = match &self.way {
            Way::Listen(addr, identity) => {
                let listening = Listening::bind(addr).map_err(failed)?;
                let bound = listening.local_addr().map_err(failed)?;
                eprintln!("dyad: the {role} listens on {bound}");
                match identity {
                    None => listening.accept(role.peer(), config),
                    Some(identity) => {
                        eprintln!("dyad: TLS certificate fingerprint (SHA-256) {}", identity.fingerprint());
                        listening.accept_tls(role.peer(), config, identity)
                    }
                }
                .map_err(failed)?
            }
            Way::Connect(addr, None) => TcpTransport::connect(addr, role.peer(), config).map_err(failed)?,
            Way::Connect(addr, Some(pin)) => {
                TcpTransport::connect_tls(addr, role.peer(), config, *pin).map_err(failed)?
            }
        };
        let secured =
            if matches!(self.way, Way::Listen(_, Some(_)) | Way::Connect(_, Some(_))) { " over TLS" } else { "" };
        eprintln!("dyad: the {role} is connected to the {}{secured}", role.peer());
        Ok(Box::new(transport))
    }
}
