//! The runner: both parties on their own threads, their outputs and the cost report back.
//!
//! A party that fails (returns an error or panics) closes its end of the transport at once, so
//! the other party's pending receive fails promptly with [`ChannelError::PeerGone`]
//! rather than hanging. The runner returns the error of whichever party failed first.
//!
//! [`ChannelError::PeerGone`]: crate::error::ChannelError::PeerGone

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use thiserror::Error;

use crate::channel::memory::MemoryTransport;
use crate::correlation::CorrelationProvider;
use crate::correlation::dealer::Dealer;
use crate::party::{Party, PartyRecord};
use crate::report::CostReport;
use crate::role::Role;
/// Where correlated randomness comes from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Correlations {
    /// The seeded trusted dealer ([`Dealer`]).
    #[default]
    Dealer,
}

impl Correlations {
    fn provider(self, role: Role, seed: u64) -> Box<dyn CorrelationProvider> {
        match self {
            Correlations::Dealer => Box::new(Dealer::new(role, seed)),
        }
    }
}

/// How to run a simulation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SimConfig {
    /// Seeds the dealer and both parties' private randomness.
    pub seed: u64,
    /// Bound on every receive; a protocol deadlock becomes [`ChannelError::Timeout`].
    ///
    /// [`ChannelError::Timeout`]: crate::error::ChannelError::Timeout
    pub recv_timeout: Option<Duration>,
    /// The correlation provider.
    pub correlations: Correlations,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig { seed: 0, recv_timeout: Some(Duration::from_secs(600)), correlations: Correlations::Dealer }
    }
}

impl SimConfig {
    /// The default configuration with another seed.
    pub fn with_seed(seed: u64) -> Self {
        SimConfig { seed, ..Self::default() }
    }
}

/// Both parties' outputs and what the run cost.
#[derive(Debug)]
pub struct SimOutput<S, C> {
    /// The server's output.
    pub server: S,
    /// The client's output.
    pub client: C,
    /// The merged cost report.
    pub cost: CostReport,
}

/// Why a simulation failed.
#[derive(Debug, Error)]
pub enum RunError<E> {
    /// A party's function returned an error.
    #[error("the {role} failed: {error}")]
    Party {
        /// Who failed first.
        role: Role,
        /// The error it returned.
        error: E,
    },
    /// A party's function panicked.
    #[error("the {role} panicked: {message}")]
    Panic {
        /// Who panicked.
        role: Role,
        /// The panic message.
        message: String,
    },
    /// The parties asked the correlation provider for different things, so their correlations
    /// do not match.
    #[error("correlation request {index} differs: the server asked for {server:?}, the client for {client:?}")]
    CorrelationMismatch {
        /// Position of the first differing request.
        index: usize,
        /// The server's request there.
        server: Option<String>,
        /// The client's request there.
        client: Option<String>,
    },
}

impl<E> RunError<E> {
    /// The party that failed, if one did.
    pub fn role(&self) -> Option<Role> {
        match self {
            RunError::Party { role, .. } | RunError::Panic { role, .. } => Some(*role),
            RunError::CorrelationMismatch { .. } => None,
        }
    }
}

enum Outcome<T, E> {
    Done(T),
    Failed(E),
    Panicked(String),
}

fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "non-string panic payload".to_owned()
    }
}

fn run_party<T, E>(
    role: Role,
    transport: MemoryTransport,
    config: &SimConfig,
    first_failure: &AtomicUsize,
    f: impl FnOnce(&mut Party) -> Result<T, E>,
) -> (Outcome<T, E>, PartyRecord) {
    let mut party = Party::new(role, Box::new(transport), config.correlations.provider(role, config.seed), config.seed);
    let outcome = match catch_unwind(AssertUnwindSafe(|| f(&mut party))) {
        Ok(Ok(v)) => Outcome::Done(v),
        Ok(Err(e)) => Outcome::Failed(e),
        Err(payload) => Outcome::Panicked(panic_message(payload.as_ref())),
    };
    if !matches!(outcome, Outcome::Done(_)) {
        // Claimed before the transport closes, so a failure caused by this one never wins.
        let _ = first_failure.compare_exchange(0, 1 + role.index(), Ordering::SeqCst, Ordering::SeqCst);
    }
    (outcome, party.finish())
}

/// Runs `server` as P0 and `client` as P1 on their own threads over an in-memory transport and
/// returns both outputs with the cost report.
pub fn simulate<S, C, E, FS, FC>(config: &SimConfig, server: FS, client: FC) -> Result<SimOutput<S, C>, RunError<E>>
where
    S: Send,
    C: Send,
    E: Send,
    FS: FnOnce(&mut Party) -> Result<S, E> + Send,
    FC: FnOnce(&mut Party) -> Result<C, E> + Send,
{
    let (server_end, client_end) = MemoryTransport::pair(config.recv_timeout);
    let first_failure = AtomicUsize::new(0);
    let ((s_out, s_rec), (c_out, c_rec)) = std::thread::scope(|scope| {
        let first = &first_failure;
        let s = std::thread::Builder::new()
            .name(PARTY_THREADS[0].into())
            .spawn_scoped(scope, move || run_party(Role::Server, server_end, config, first, server));
        let c = std::thread::Builder::new()
            .name(PARTY_THREADS[1].into())
            .spawn_scoped(scope, move || run_party(Role::Client, client_end, config, first, client));
        (join(s, Role::Server), join(c, Role::Client))
    });

    let first = match first_failure.load(Ordering::SeqCst) {
        2 => Role::Client,
        _ => Role::Server,
    };
    let mut failures = Vec::new();
    let mut outputs = (None, None);
    match s_out {
        Outcome::Done(v) => outputs.0 = Some(v),
        Outcome::Failed(e) => failures.push(RunError::Party { role: Role::Server, error: e }),
        Outcome::Panicked(message) => failures.push(RunError::Panic { role: Role::Server, message }),
    }
    match c_out {
        Outcome::Done(v) => outputs.1 = Some(v),
        Outcome::Failed(e) => failures.push(RunError::Party { role: Role::Client, error: e }),
        Outcome::Panicked(message) => failures.push(RunError::Panic { role: Role::Client, message }),
    }
    if let Some(pos) = failures.iter().position(|f| f.role() == Some(first)) {
        return Err(failures.swap_remove(pos));
    }
    if let Some(f) = failures.pop() {
        return Err(f);
    }
    if let Some(index) =
        (0..s_rec.requests.len().max(c_rec.requests.len())).find(|&i| s_rec.requests.get(i) != c_rec.requests.get(i))
    {
        return Err(RunError::CorrelationMismatch {
            index,
            server: s_rec.requests.get(index).cloned(),
            client: c_rec.requests.get(index).cloned(),
        });
    }
    let cost = CostReport::from_tallies(s_rec.provider, &s_rec.tallies, &c_rec.tallies);
    match outputs {
        (Some(server), Some(client)) => Ok(SimOutput { server, client, cost }),
        _ => Err(RunError::Panic { role: first, message: "a party produced no output".into() }),
    }
}

/// The names of the server's and the client's threads.
const PARTY_THREADS: [&str; 2] = ["dyad-server", "dyad-client"];

/// Whether the calling thread is one of [`simulate`]'s parties, whose panics [`simulate`]
/// catches and returns as [`RunError::Panic`] (a panic hook may leave them to it).
pub fn is_party_thread() -> bool {
    std::thread::current().name().is_some_and(|n| PARTY_THREADS.contains(&n))
}

type Joined<T, E> = (Outcome<T, E>, PartyRecord);

fn join<T, E>(handle: std::io::Result<std::thread::ScopedJoinHandle<'_, Joined<T, E>>>, role: Role) -> Joined<T, E> {
    match handle {
        Ok(h) => h.join().unwrap_or_else(|p| (Outcome::Panicked(panic_message(p.as_ref())), empty_record())),
        Err(e) => (Outcome::Panicked(format!("could not start the {role} thread: {e}")), empty_record()),
    }
}

fn empty_record() -> PartyRecord {
    PartyRecord { tallies: Default::default(), requests: Vec::new(), provider: "none" }
}
