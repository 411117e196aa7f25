//! The linear-layer protocol of a suite: Nimbus's COP, the BumbleBee/Cheetah SIP, or matrix
//! triples from the trusted dealer.
//!
//! The dealer variant secret-shares the server's weights once (setup) and multiplies with a
//! matrix Beaver triple: the same ±1-ULP result as the HE protocols for a fraction of the
//! simulation time, which keeps runs over hundreds of sentences feasible. Its cost is a
//! dealer's, and reports say so.

use dyad_sim::correlation::MatDims;
use dyad_sim::{FixedPoint, Formula, Party, Phase, RingTensor, Role, Share};
use serde::{Deserialize, Serialize};

use dyad_protocols::TruncMode;
use dyad_protocols::blocks::matmul::{matmul, matmul_cost};
use dyad_protocols::blocks::share::{share_input, share_input_cost};
use dyad_protocols::bumblebee::linear::SipLinear;
use dyad_protocols::error::ProtocolError;
use dyad_protocols::linear as rlwe_linear;
use dyad_protocols::nimbus::linear::NimbusLinear;

/// Which protocol computes X·W.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LinearKind {
    /// Nimbus's client-side outer product over RLWE.
    Cop,
    /// Cheetah/BumbleBee's server-side inner product over RLWE.
    Sip,
    /// Matrix triples from the dealer, on the server's secret-shared weights.
    Dealer,
}

impl LinearKind {
    /// The name in reports.
    pub fn name(self) -> &'static str {
        match self {
            LinearKind::Cop => "nimbus.linear",
            LinearKind::Sip => "bumblebee.linear",
            LinearKind::Dealer => "dealer.linear",
        }
    }
}

/// X·W for shared X (`[k, n]`) and the server's W (`[n, m]`; `None` on the client), truncated.
pub fn linear(
    p: &mut Party,
    kind: LinearKind,
    fx: FixedPoint,
    trunc: TruncMode,
    w: Option<&RingTensor>,
    x: &Share,
    m: usize,
) -> Result<Share, ProtocolError> {
    match kind {
        LinearKind::Cop => rlwe_linear::linear(&NimbusLinear::default(), p, fx, trunc, w, x, m),
        LinearKind::Sip => rlwe_linear::linear(&SipLinear::default(), p, fx, trunc, w, x, m),
        LinearKind::Dealer => {
            let (_, n) = dyad_protocols::protocol::matrix("dealer.linear", x.shape())?;
            let ws = p.in_phase(Phase::Setup, |p| {
                p.scope("share_weights", |p| share_input(p, Role::Server, w, x.ring(), &[n, m]))
            })?;
            p.scope("dealer.linear", |p| matmul(p, fx, x, &ws, trunc))
        }
    }
}

/// The formula of [`linear`] for dims (k, n, m).
pub fn linear_cost(
    f: &mut Formula,
    kind: LinearKind,
    fx: FixedPoint,
    trunc: TruncMode,
    (k, n, m): (usize, usize, usize),
) -> Result<(), ProtocolError> {
    match kind {
        LinearKind::Cop => rlwe_linear::linear_cost(&NimbusLinear::default(), f, fx, trunc, (k, n, m)),
        LinearKind::Sip => rlwe_linear::linear_cost(&SipLinear::default(), f, fx, trunc, (k, n, m)),
        LinearKind::Dealer => {
            f.in_phase(Phase::Setup, |f| share_input_cost(f, Role::Server, fx.ring(), n * m));
            matmul_cost(f, fx, MatDims { batch: None, m: k, k: n, n: m }, trunc);
            Ok(())
        }
    }
}
