//! The leakage audit: does a party's view depend on the other party's input?
//!
//! In the semi-honest model a protocol is secure when each party's view — everything it
//! receives — can be simulated from its own input and output alone (Goldreich, *Foundations of
//! Cryptography* II, §7.2.2; Lindell, "How to simulate it", 2017, §4). Every protocol here ends
//! with the output secret-shared, so a party's output share is uniform whatever the inputs, and
//! its view must then be distributed the same way whatever the *other* party's input is. This
//! audit tests exactly that, empirically: for party P it fixes P's own inputs, runs the protocol
//! many times with the other inputs (the other party's and the secret-shared ones) at a low
//! setting A and a high setting B of their domain, and compares the two distributions of P's
//! view. P's random tape and its shares of the secret-shared inputs are held fixed too
//! ([`Secrets::Pinned`]): a view must be simulatable given them, so conditioning on them is
//! allowed, and it makes visible what P's own randomness lets it compute (a difference of two
//! ciphertexts under keys it made, say). Everything else is fresh in every run: the other party's
//! randomness and the dealer's material, P's half of it included (pinning that half would need
//! the dealer to draw it apart from the other's, which it does not: a leak P could compute only
//! from its own dealer material goes unseen).
//!
//! Beside the view's bits the audit tests what the protocol says to derive from it
//! ([`Protocol::view_features`]): for the RLWE linear layers, the differences of consecutive
//! responses' `a` halves, where an encryption of zero shared between responses cancels.
//!
//! **The test.** Views are compared bit by bit: message i, byte j, bit k is one position. A
//! position whose bit never changes over all runs of both settings carries no information and is
//! not tested (that choice ignores which setting a run belongs to, so it keeps the test valid).
//! Every other position gets a two-proportion test (the χ² test of a 2×2 table, one degree of
//! freedom, in its normal form) of "bit set" under A against B. With M positions tested, the
//! protocol leaks when the smallest p-value is below α/M (Bonferroni), so the chance of calling a
//! clean protocol leaky is at most α per protocol and party ([`DEFAULT_ALPHA`]). A view whose
//! message count or sizes differ between the settings, or vary from run to run (no registered
//! protocol's do), is reported as leaking: conservative, since sizes are then not compared.
//! Power: with n runs per setting, a bit set about half the time whose frequency differs by d
//! between the settings is found with probability 0.9 when d ≥ (z + 1.28)/√(2n), z the critical
//! value for α/M; each report states that d ([`PartyLeakage::detectable`]). At n = 100 it is
//! about 0.52 for M ≈ 10⁵ bits and 0.56 for the HE layers' M ≈ 10⁷. Gross leaks (a value masked
//! by a narrow random range, an unmasked one) show at any n; a small bias does not, and a clean
//! verdict is evidence, not proof.
//!
//! A protocol that opens its output by design ([`Protocol::opens_output`]) is reported as such:
//! its views depend on the output, which the simulator is given.

pub mod fixtures;
pub mod he_error;
mod stats;

use dyad_protocols::harness::{self, RunSpec};
use dyad_protocols::{HarnessError, Holder, InputSpec, Protocol};
use dyad_sim::channel::recording::Views;
use dyad_sim::runner::{Correlations, Secrets};
use dyad_sim::{FixedPoint, Role};
use ndarray::{ArrayD, IxDyn};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha20Rng;
use serde::Serialize;

pub use stats::{BitCounts, Comparison};

/// The family-wise false-positive rate per protocol and party.
pub const DEFAULT_ALPHA: f64 = 1e-4;

/// The default number of runs per setting.
pub const DEFAULT_RUNS: usize = 100;

/// How to audit.
#[derive(Clone, Debug)]
pub struct LeakageSpec {
    /// Runs per setting (each party's view is compared over `runs` runs at each of two settings).
    pub runs: usize,
    /// The first seed; run r of setting s uses its own seed derived from it.
    pub seed: u64,
    /// The family-wise false-positive rate per protocol and party.
    pub alpha: f64,
    /// The fixed-point format.
    pub fixed: FixedPoint,
    /// The correlation provider.
    pub correlations: Correlations,
}

/// What one party's view reveals.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct PartyLeakage {
    /// The party whose view is tested.
    pub party: Role,
    /// Messages in its view (of the first run).
    pub messages: usize,
    /// Bytes in its view (of the first run).
    pub bytes: usize,
    /// The comparison of the two settings.
    pub comparison: Comparison,
    /// The smallest difference in a bit's frequency between the settings found with
    /// probability 0.9 (see the module docs).
    pub detectable: f64,
    /// Whether the view depends on the other party's input.
    pub leaks: bool,
}

/// The audit of one protocol.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct ProtocolLeakage {
    /// The protocol.
    pub protocol: String,
    /// Its dimensions.
    pub shape: Vec<usize>,
    /// Runs per setting.
    pub runs: usize,
    /// The false-positive rate per party.
    pub alpha: f64,
    /// The provider.
    pub correlations: &'static str,
    /// Whether the protocol opens its output by design, so its views may depend on it.
    pub opens_output: bool,
    /// Each party's result.
    pub parties: Vec<PartyLeakage>,
    /// "clean", "leaks" or "opens its output".
    pub verdict: &'static str,
}

impl ProtocolLeakage {
    /// Whether this protocol fails the audit.
    pub fn failed(&self) -> bool {
        self.verdict == "leaks"
    }
}

/// Audits `p` at `dims` (its defaults when `None`).
pub fn audit(p: &dyn Protocol, dims: Option<&[usize]>, spec: &LeakageSpec) -> Result<ProtocolLeakage, HarnessError> {
    if spec.runs < 2 {
        return Err(dyad_protocols::ProtocolError::Config {
            protocol: "leakage",
            reason: format!("{} runs per setting: the comparison needs at least 2", spec.runs),
        }
        .into());
    }
    let dims = dims.map_or_else(|| p.default_dims(), <[usize]>::to_vec);
    let specs = p.inputs(&dims, spec.fixed)?;
    let mut parties = Vec::new();
    for party in [Role::Server, Role::Client] {
        parties.push(audit_party(p, &dims, &specs, party, spec)?);
    }
    let opens_output = p.opens_output();
    let verdict = match (opens_output, parties.iter().any(|r| r.leaks)) {
        (true, _) => "opens its output",
        (false, true) => "leaks",
        (false, false) => "clean",
    };
    Ok(ProtocolLeakage {
        protocol: p.name().into(),
        shape: dims,
        runs: spec.runs,
        alpha: spec.alpha,
        correlations: spec.correlations.name(),
        opens_output,
        parties,
        verdict,
    })
}

/// The inputs `party` holds itself: these stay fixed while the others change.
fn own(holder: Holder, party: Role) -> bool {
    matches!((holder, party), (Holder::Server, Role::Server) | (Holder::Client, Role::Client))
}

/// One tensor of `shape` drawn from `[lo, hi]`.
fn draw(shape: &[usize], (lo, hi): (f64, f64), rng: &mut ChaCha20Rng) -> ArrayD<f64> {
    ArrayD::from_shape_simple_fn(IxDyn(shape), || lo + (hi - lo) * rng.random::<f64>())
}

/// The inputs of setting `high` (false: the low tenth of each domain, true: the high tenth) for
/// `party`'s view: its own drawn once from its whole domain, the others from the setting's tenth.
/// Each setting's values are drawn once, so every run of it computes on the same inputs.
fn setting(specs: &[InputSpec], party: Role, high: bool, seed: u64) -> Vec<ArrayD<f64>> {
    let mut own_rng = ChaCha20Rng::seed_from_u64(seed);
    let mut other_rng = ChaCha20Rng::seed_from_u64(seed ^ (1 + u64::from(high)));
    specs
        .iter()
        .map(|s| {
            let (lo, hi) = s.range;
            let tenth = (hi - lo) / 10.0;
            if own(s.holder, party) {
                draw(&s.shape, s.range, &mut own_rng)
            } else if high {
                draw(&s.shape, (hi - tenth, hi), &mut other_rng)
            } else {
                draw(&s.shape, (lo, lo + tenth), &mut other_rng)
            }
        })
        .collect()
}

/// `party`'s view in each run of both settings, reduced to bit counts, and the comparison.
fn audit_party(
    p: &dyn Protocol,
    dims: &[usize],
    specs: &[InputSpec],
    party: Role,
    spec: &LeakageSpec,
) -> Result<PartyLeakage, HarnessError> {
    let views = Views::new();
    let mut counts = [BitCounts::default(), BitCounts::default()];
    let mut first = None;
    for (s, high) in [false, true].into_iter().enumerate() {
        let inputs = setting(specs, party, high, spec.seed);
        for r in 0..spec.runs {
            let run = RunSpec {
                dims: Some(dims.to_vec()),
                inputs: Some(inputs.clone()),
                enforce_domain: false,
                correlations: spec.correlations,
                secrets: Secrets::Pinned { role: party, seed: spec.seed },
                views: Some(views.clone()),
                fixed: spec.fixed,
                ..RunSpec::new(spec.fixed.ring(), run_seed(spec.seed, party, s, r))
            };
            harness::run(p, &run)?;
            let [server, client] = views.take();
            let mut view = if party == Role::Server { server } else { client };
            first.get_or_insert_with(|| (view.len(), view.iter().map(Vec::len).sum::<usize>()));
            let features = p.view_features(dims, spec.fixed, party, &view);
            view.extend(features);
            counts[s].add(&view);
        }
    }
    let (messages, bytes) = first.unwrap_or_default();
    let comparison = Comparison::of(&counts[0], &counts[1]);
    let leaks = comparison.leaks(spec.alpha);
    let detectable = comparison.detectable(spec.alpha, spec.runs);
    Ok(PartyLeakage { party, messages, bytes, comparison, detectable, leaks })
}

/// The seed of run `r` of setting `s` for `party`'s view: distinct for every run.
fn run_seed(seed: u64, party: Role, s: usize, r: usize) -> u64 {
    let index = ((r as u64) << 2) | ((s as u64) << 1) | party.index() as u64;
    seed.wrapping_mul(0x9E37_79B9_7F4A_7C15).wrapping_add(index)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_party_s_own_inputs_stay_fixed_and_the_others_take_the_low_or_the_high_tenth() {
        let spec = |name: &str, holder| InputSpec { name: name.into(), shape: vec![50], holder, range: (-10.0, 10.0) };
        let specs = [spec("w", Holder::Server), spec("x", Holder::Client), spec("s", Holder::Shared)];
        for party in [Role::Server, Role::Client] {
            let (low, high) = (setting(&specs, party, false, 9), setting(&specs, party, true, 9));
            for (i, s) in specs.iter().enumerate() {
                if own(s.holder, party) {
                    assert_eq!(low[i], high[i], "{party}'s own {}", s.name);
                    assert!(
                        low[i].iter().any(|&v| v < -2.0) && low[i].iter().any(|&v| v > 2.0),
                        "drawn from the whole domain"
                    );
                } else {
                    assert!(low[i].iter().all(|&v| (-10.0..=-8.0).contains(&v)), "{party}: {}'s low setting", s.name);
                    assert!(high[i].iter().all(|&v| (8.0..=10.0).contains(&v)), "{party}: {}'s high setting", s.name);
                }
            }
        }
    }
}
