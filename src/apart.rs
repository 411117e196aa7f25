//! The flags of a run apart (`--party`, `--listen`, `--connect`), shared by `dyad run` and
//! `dyad e2e`, and the TCP connection they ask for.

use std::time::Duration;

use clap::ValueEnum;
use dyad_sim::Role;
use dyad_sim::channel::Transport;
use dyad_sim::channel::tcp::{ConnectError, Listening, TcpConfig, TcpTransport};

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

/// `--party` with `--listen` or `--connect`.
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
}

impl ApartArgs {
    /// The TCP connection to the other party, listening or connecting as the flags say; `role`
    /// is this party's.
    pub(crate) fn connect(&self, role: Role, timeout: Duration) -> Result<Box<dyn Transport>, CliError> {
        let config = TcpConfig::new(timeout);
        let failed = |e: ConnectError| match e {
            ConnectError::Address { .. } => CliError::usage(e),
            ConnectError::Socket { .. } | ConnectError::Timeout { .. } => CliError::Failed(e.to_string()),
        };
        let transport = match (&self.listen, &self.connect) {
            (Some(addr), _) => {
                let listening = Listening::bind(addr).map_err(failed)?;
                let bound = listening.local_addr().map_err(failed)?;
                eprintln!("dyad: the {role} listens on {bound}");
                listening.accept(role.peer(), config).map_err(failed)?
            }
            (None, Some(addr)) => TcpTransport::connect(addr, role.peer(), config).map_err(failed)?,
            (None, None) => return Err(CliError::Usage("--party needs --listen ADDR or --connect ADDR".into())),
        };
        eprintln!("dyad: the {role} is connected to the {}", role.peer());
        Ok(Box::new(transport))
    }
}
