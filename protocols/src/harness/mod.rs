//! Runs a protocol inside the simulator on random (or given) inputs and checks it against its
//! reference and its ideal: both parties in this process ([`run`]), or one party whose peer is
//! another process ([`apart::Apart`]).
//!
//! Shared inputs arrive already secret-shared: the harness splits them with its own randomness,
//! outside the simulation, so sharing them is not charged. Everything the protocol does is run
//! under a label named after it.

use std::time::Duration;

use dyad_reference::metrics::{self, ErrorStats};
use dyad_sim::channel::recording::Views;
use dyad_sim::runner::{Correlations, Secrets};
use dyad_sim::{CostReport, FixedPoint, Formula, Phase, Ring, RingTensor, Role, Share, SimConfig, simulate};
use ndarray::{ArrayD, IxDyn};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha20Rng;
use serde::{Deserialize, Serialize};

pub mod apart;

use crate::chunk::{self, CHUNK_ELEMENTS};
use crate::error::HarnessError;
use crate::protocol::TruncMode;
use crate::protocol::{Holder, Input, InputSpec, Inputs, OutputEncoding, Protocol};

/// What to run.
#[derive(Clone, Debug)]
pub struct RunSpec {
    /// The protocol's dimensions; `None` for its defaults.
    pub dims: Option<Vec<usize>>,
    /// The fixed-point format.
    pub fixed: FixedPoint,
    /// The truncation after products; `None` for the ring's default.
    pub trunc: Option<TruncMode>,
    /// Seeds the inputs, the dealer and, under [`Secrets::FromSeed`], both parties.
    pub seed: u64,
    /// Where the parties' private randomness comes from.
    pub secrets: Secrets,
    /// Inputs to use instead of random ones, one real tensor per input.
    pub inputs: Option<Vec<ArrayD<f64>>>,
    /// Receive timeout inside the simulation.
    pub recv_timeout: Option<Duration>,
    /// Refuse given inputs outside the protocol's documented domain (the audit runs recorded
    /// inputs as they are and reports how many lie outside instead).
    pub enforce_domain: bool,
    /// Where correlated randomness comes from.
    pub correlations: Correlations,
    /// Where to record each party's view, for the leakage audit.
    pub views: Option<Views>,
    /// The most elements a piece holds when the protocol runs large tensors piece by piece
    /// ([`chunk`]); [`CHUNK_ELEMENTS`] but in tests of the pieces.
    pub chunk: usize,
}

impl RunSpec {
    /// Default dimensions, the default format of `ring`, and `seed`.
    pub fn new(ring: Ring, seed: u64) -> Self {
        RunSpec {
            dims: None,
            fixed: FixedPoint::default_for(ring),
            trunc: None,
            seed,
            secrets: Secrets::FromSeed,
            inputs: None,
            recv_timeout: SimConfig::default().recv_timeout,
            enforce_domain: true,
            correlations: Correlations::Dealer,
            views: None,
            chunk: CHUNK_ELEMENTS,
        }
    }

    /// The simulation's configuration.
    pub fn sim_config(&self) -> SimConfig {
        SimConfig {
            seed: self.seed,
            secrets: self.secrets,
            recv_timeout: self.recv_timeout,
            correlations: self.correlations,
            views: self.views.clone(),
        }
    }

    /// The same with explicit dimensions.
    pub fn with_dims(mut self, dims: &[usize]) -> Self {
        self.dims = Some(dims.to_vec());
        self
    }
}

/// Errors of one run, against the reference and against the ideal.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunErrors {
    /// Secure output against the plaintext fixed-point reference (with `max_ulp`).
    pub vs_reference: ErrorStats,
    /// Secure output against the float64 ideal.
    pub vs_ideal: ErrorStats,
    /// Reference against the ideal: the approximation error alone.
    pub reference_vs_ideal: ErrorStats,
}

/// The outcome of one checked run; its JSON/YAML form is the stable report schema.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunReport {
    /// Protocol name.
    pub protocol: String,
    /// Dimensions run.
    pub shape: Vec<usize>,
    /// ℓ.
    pub ring_bits: u32,
    /// f.
    pub frac_bits: u32,
    /// The truncation used.
    pub trunc: TruncMode,
    /// The smaller ring a mixed-ring protocol computes its non-linear part in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub small_ring: Option<SmallRing>,
    /// The seed.
    pub seed: u64,
    /// The party whose process printed this report, in a run apart; both parties' counts are in
    /// it all the same.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub party: Option<Role>,
    /// This party's measured wall-clock time per phase, in a run apart (its compute plus its
    /// waiting for the peer, which includes the network): what the cost model estimates.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wall: Option<PhaseWall>,
    /// Cost per phase and label.
    pub cost: CostReport,
    /// Errors.
    pub error: RunErrors,
    /// Allowed ring distance from the reference.
    pub tolerance_ulp: u64,
    /// True when the secure output is within tolerance of the reference everywhere.
    pub passed: bool,
}

/// One party's measured wall-clock seconds per phase.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct PhaseWall {
    /// Setup (keys, encrypted or shared weights, base OTs).
    pub setup_seconds: f64,
    /// Offline (correlations).
    pub offline_seconds: f64,
    /// Online.
    pub online_seconds: f64,
}

/// The format of a mixed-ring protocol's small ring ([`Protocol::small_ring`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SmallRing {
    /// ℓ′.
    pub ring_bits: u32,
    /// f′.
    pub frac_bits: u32,
}

/// The result of a run, with the outputs for callers that look further.
#[derive(Clone, Debug)]
pub struct Checked {
    /// The report.
    pub report: RunReport,
    /// The reconstructed secure output.
    pub secure: RingTensor,
    /// The reference output.
    pub reference: RingTensor,
    /// The encoded inputs.
    pub inputs: Vec<RingTensor>,
}

/// Decodes an output per the protocol's encoding.
pub fn decode_output(p: &dyn Protocol, fixed: FixedPoint, t: &RingTensor) -> ArrayD<f64> {
    match p.output() {
        OutputEncoding::Fixed => fixed.decode_tensor(t),
        OutputEncoding::Integer => t.data().mapv(|v| t.ring().signed(v) as f64),
    }
}

/// The inputs' random draws: input `i` from its own stream, so that a party drawing only the
/// inputs it holds (a run over TCP) draws what the in-memory run draws.
fn random_input(spec: &InputSpec, seed: u64, index: usize) -> ArrayD<f64> {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    rng.set_stream(0x1_0000 + index as u64);
    let (lo, hi) = spec.range;
    ArrayD::from_shape_simple_fn(IxDyn(&spec.shape), || lo + (hi - lo) * rng.random::<f64>())
}

/// The randomness that splits the shared inputs, in order (the client's, in a run over TCP).
fn sharing_rng(seed: u64) -> ChaCha20Rng {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    rng.set_stream(0x2_0000);
    rng
}

/// Checks, before any work, that `p` accepts `spec`'s dimensions and that its inputs fit in this
/// machine's memory ([`HarnessError::TooLarge`] otherwise).
pub fn check(p: &dyn Protocol, spec: &RunSpec) -> Result<(), HarnessError> {
    plan(p, spec).map(drop)
}

/// The protocol's dimensions and input specifications under `spec`, refused when too large for
/// this machine.
fn plan(p: &dyn Protocol, spec: &RunSpec) -> Result<(Vec<usize>, Vec<InputSpec>), HarnessError> {
    plan_within(p, spec, available_memory())
}

/// [`plan`] on a machine with `available` bytes free.
fn plan_within(p: &dyn Protocol, spec: &RunSpec, available: u64) -> Result<(Vec<usize>, Vec<InputSpec>), HarnessError> {
    let dims = spec.dims.clone().unwrap_or_else(|| p.default_dims());
    let too_large = |needs: Option<u128>| HarnessError::TooLarge {
        protocol: p.name().into(),
        dims: dims.clone(),
        needs: needs.map_or_else(|| "2^64 bytes".into(), gigabytes),
        available: gigabytes(available.into()),
        overflow: needs.is_none(),
    };
    // A protocol multiplies its dimensions to size its inputs: refuse a product that overflows
    // before it can.
    if dims.iter().try_fold(1u64, |acc, &d| acc.checked_mul(d as u64)).is_none() {
        return Err(too_large(None));
    }
    let specs = p.inputs(&dims, spec.fixed)?;
    let size = |s: &InputSpec| s.shape.iter().map(|&d| d as u128).product::<u128>();
    let elements: u128 = specs.iter().map(size).sum();
    let outputs = specs.first().map_or(0, size);
    let held = elements * BYTES_PER_INPUT_ELEMENT + outputs * BYTES_PER_OUTPUT_ELEMENT;
    if held > u128::from(available) {
        return Err(too_large(Some(held)));
    }
    let needs = held + working_set(p, &dims, spec);
    if needs > u128::from(available) {
        return Err(too_large(Some(needs)));
    }
    Ok((dims, specs))
}

/// Bytes the harness holds per input element: its real value, its encoding, both shares and
/// its decoding for the ideal, 8 bytes each.
const BYTES_PER_INPUT_ELEMENT: u128 = 40;

/// Bytes the harness holds per output element, taken to be as many as the first input's: both
/// parties' shares, the reconstruction, the reference, the ideal and the decodings of the first
/// two, 8 bytes each.
const BYTES_PER_OUTPUT_ELEMENT: u128 = 56;

/// The estimate of a run's working set beyond what the harness holds, from its cost formula and
/// computed without running it: every byte the dealer hands either party and every byte either
/// sends, in the largest piece the run is cut into ([`chunk`]). An element-wise protocol holds
/// a step's correlations and messages for all the elements of a piece at once, which makes this
/// an estimate near the peak, not a bound. With what the harness holds: 308 MB against a
/// measured peak of 251 MB for drelu at 10^6, 3.3 against 3.4 GB for drelu at 3.2·10^7 (in 31
/// pieces), 449 against 384 MB for bumblebee.gelu at 128×3072, 629 against 505 MB for
/// layer.freediv_softmax at BERT-base shape. Zero for a protocol without a formula.
fn working_set(p: &dyn Protocol, dims: &[usize], spec: &RunSpec) -> u128 {
    let Some(piece) = chunk::pieces(p.independence(), dims, spec.chunk).into_iter().next() else {
        return 0;
    };
    let mut f = Formula::new();
    if p.cost(&mut f, &piece.dims, spec.fixed, spec.trunc.unwrap_or_default()).is_none() {
        return 0;
    }
    Phase::ALL
        .into_iter()
        .map(|phase| {
            let c = f.counts(phase);
            u128::from(c.bytes()) + u128::from(c.dealer_bytes())
        })
        .sum()
}

/// Memory this process may still take: `MemAvailable` of /proc/meminfo, or no limit where that
/// cannot be read.
fn available_memory() -> u64 {
    std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|text| {
            let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
            let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
            kib.checked_mul(1024)
        })
        .unwrap_or(u64::MAX)
}

fn gigabytes(bytes: u128) -> String {
    format!("{:.1} GB", bytes as f64 / 1e9)
}

/// The real inputs at `wanted` (indices into `specs`): the given ones, checked for count, shape,
/// encoding and domain, or random ones.
fn real_inputs(
    p: &dyn Protocol,
    spec: &RunSpec,
    specs: &[InputSpec],
    wanted: &[usize],
    given: Option<&[ArrayD<f64>]>,
) -> Result<Vec<ArrayD<f64>>, HarnessError> {
    let Some(given) = given else {
        return Ok(wanted.iter().map(|&i| random_input(&specs[i], spec.seed, i)).collect());
    };
    if given.len() != wanted.len() {
        return Err(HarnessError::InputCount { protocol: p.name().into(), expected: wanted.len(), got: given.len() });
    }
    for (&i, g) in wanted.iter().zip(given) {
        let s = &specs[i];
        if g.shape() != s.shape.as_slice() {
            return Err(HarnessError::InputShape {
                protocol: p.name().into(),
                name: s.name.clone(),
                expected: s.shape.clone(),
                got: g.shape().to_vec(),
            });
        }
        spec.fixed.encode_tensor(g).map_err(|source| HarnessError::Encode {
            protocol: p.name().into(),
            name: s.name.clone(),
            source,
        })?;
        let (lo, hi) = s.range;
        if spec.enforce_domain
            && let Some((index, &value)) = g.iter().enumerate().find(|(_, v)| !(lo..=hi).contains(*v))
        {
            return Err(HarnessError::OutOfDomain {
                protocol: p.name().into(),
                name: s.name.clone(),
                index,
                value,
                range: s.range,
            });
        }
    }
    Ok(given.to_vec())
}

/// `reals` in the ring, each checked against the format.
fn encode(
    p: &dyn Protocol,
    spec: &RunSpec,
    specs: &[InputSpec],
    wanted: &[usize],
    reals: &[ArrayD<f64>],
) -> Result<Vec<RingTensor>, HarnessError> {
    wanted
        .iter()
        .zip(reals)
        .map(|(&i, x)| {
            spec.fixed.encode_tensor(x).map_err(|source| HarnessError::Encode {
                protocol: p.name().into(),
                name: specs[i].name.clone(),
                source,
            })
        })
        .collect()
}

/// Runs `p` once, both parties in this process, and checks it.
pub fn run(p: &dyn Protocol, spec: &RunSpec) -> Result<Checked, HarnessError> {
    let (dims, specs) = plan(p, spec)?;
    let all: Vec<usize> = (0..specs.len()).collect();
    let reals = real_inputs(p, spec, &specs, &all, spec.inputs.as_deref())?;
    let encoded = encode(p, spec, &specs, &all, &reals)?;
    // Under pinned secrets the pinned party's shares are the masks of a pinned sharing, so that
    // they too stay fixed while the inputs change.
    let (mut rng, pinned) = match spec.secrets {
        Secrets::Pinned { role, seed } => (sharing_rng(seed), Some(role)),
        _ => (sharing_rng(spec.seed), None),
    };
    let mut server = Vec::new();
    let mut client = Vec::new();
    for (s, t) in specs.iter().zip(&encoded) {
        let (a, b) = match s.holder {
            Holder::Shared => {
                let (rest, mask) = Share::split(t, &mut rng);
                let (a, b) = if pinned == Some(Role::Server) { (mask, rest) } else { (rest, mask) };
                (Input::Share(a), Input::Share(b))
            }
            Holder::Server => (Input::Plain(t.clone()), Input::Absent { shape: s.shape.clone() }),
            Holder::Client => (Input::Absent { shape: s.shape.clone() }, Input::Plain(t.clone())),
        };
        server.push(a);
        client.push(b);
    }
    let trunc = spec.trunc.unwrap_or_default();
    let server = Inputs { fixed: spec.fixed, trunc, values: server };
    let client = Inputs { fixed: spec.fixed, trunc, values: client };
    let config = spec.sim_config();
    let name = p.name();
    let out = simulate(
        &config,
        |party| party.scope(name, |party| chunk::run(p, party, &server, spec.chunk)),
        |party| party.scope(name, |party| chunk::run(p, party, &client, spec.chunk)),
    )?;
    let secure = Share::reconstruct(&out.server, &out.client)
        .map_err(|e| inconsistent(p, format!("the output shares do not reconstruct: {e}")))?;
    let server_shares = shares_of(&server);
    judge(p, spec, Outcome { dims, encoded, server_shares: &server_shares, secure, cost: out.cost })
}

fn inconsistent(p: &dyn Protocol, reason: String) -> HarnessError {
    HarnessError::Inconsistent { protocol: p.name().into(), reason }
}

/// The server's shares of the shared inputs, `None` at the others.
fn shares_of(server: &Inputs) -> Vec<Option<&RingTensor>> {
    server
        .values
        .iter()
        .map(|v| match v {
            Input::Share(s) => Some(s.tensor()),
            Input::Plain(_) | Input::Absent { .. } => None,
        })
        .collect()
}

/// What a finished run hands to [`judge`].
struct Outcome<'a> {
    dims: Vec<usize>,
    encoded: Vec<RingTensor>,
    server_shares: &'a [Option<&'a RingTensor>],
    secure: RingTensor,
    cost: CostReport,
}

/// Checks a finished run against the reference and the ideal.
fn judge(p: &dyn Protocol, spec: &RunSpec, run: Outcome<'_>) -> Result<Checked, HarnessError> {
    let Outcome { dims, encoded, server_shares, secure, cost } = run;
    let trunc = spec.trunc.unwrap_or_default();
    let name = p.name();
    let inconsistent = |reason: String| inconsistent(p, reason);
    let reference =
        p.reference_for_shares(spec.fixed, &encoded, server_shares).map_err(|e| inconsistent(e.to_string()))?;
    if reference.shape() != secure.shape() || reference.ring() != secure.ring() {
        return Err(inconsistent(format!(
            "secure output {:?} and reference {:?} differ in shape or ring",
            secure.shape(),
            reference.shape()
        )));
    }
    let decoded_inputs: Vec<ArrayD<f64>> = encoded.iter().map(|t| spec.fixed.decode_tensor(t)).collect();
    let ideal = p.ideal(&decoded_inputs).map_err(|e| inconsistent(e.to_string()))?;
    if ideal.shape() != secure.shape() {
        return Err(inconsistent(format!(
            "ideal {:?} and secure output {:?} differ in shape",
            ideal.shape(),
            secure.shape()
        )));
    }
    let secure_real = decode_output(p, spec.fixed, &secure);
    let reference_real = decode_output(p, spec.fixed, &reference);
    let max_ulp = metrics::max_ulp(&secure, &reference);
    let vs_reference = ErrorStats { max_ulp: Some(max_ulp), ..metrics::abs_error(&secure_real, &reference_real) };
    let tolerance_ulp = p.tolerance_under(spec.fixed, trunc, spec.correlations);
    let report = RunReport {
        protocol: name.into(),
        shape: dims,
        ring_bits: spec.fixed.ring().bits(),
        frac_bits: spec.fixed.frac(),
        trunc,
        small_ring: p.small_ring(spec.fixed).map(|s| SmallRing { ring_bits: s.ring().bits(), frac_bits: s.frac() }),
        seed: spec.seed,
        party: None,
        wall: None,
        cost,
        error: RunErrors {
            vs_reference,
            vs_ideal: metrics::abs_error(&secure_real, &ideal),
            reference_vs_ideal: metrics::abs_error(&reference_real, &ideal),
        },
        tolerance_ulp,
        passed: max_ulp <= tolerance_ulp,
    };
    Ok(Checked { report, secure, reference, inputs: encoded })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::blocks::cmp::Drelu;

    /// drelu at 10^6: 96 MB of inputs and outputs, about 211 MB of correlations and messages. A
    /// machine with 200 MB free refuses it by its working set, one with 1 GB runs it, one with
    /// 50 MB refuses it by its inputs and outputs already.
    #[test]
    fn a_shape_is_refused_when_its_working_set_exceeds_the_free_memory() {
        let spec = RunSpec::new(Ring::Z64, 1).with_dims(&[1_000_000]);
        let working = working_set(&Drelu, &[1_000_000], &spec);
        assert!((150_000_000..300_000_000).contains(&working), "{working}");
        let refused = |available: u64| match plan_within(&Drelu, &spec, available) {
            Err(HarnessError::TooLarge { needs, .. }) => Some(needs),
            _ => None,
        };
        assert_eq!(refused(200_000_000), Some(gigabytes(96_000_000 + working)));
        assert_eq!(refused(1_000_000_000), None);
        assert_eq!(refused(50_000_000), Some(gigabytes(96_000_000)));
    }

    /// Run in pieces, drelu's working set is that of one piece, whatever the element count: 16
    /// times the elements of a piece need no more than one piece beside their inputs.
    #[test]
    fn the_working_set_of_a_run_in_pieces_does_not_grow_with_its_elements() {
        let spec = RunSpec::new(Ring::Z64, 1);
        let one = working_set(&Drelu, &[CHUNK_ELEMENTS], &spec);
        let many = working_set(&Drelu, &[16 * CHUNK_ELEMENTS + 3], &spec);
        assert!(one > 100_000_000, "{one}");
        assert_eq!(many, one);
        let whole = working_set(&Drelu, &[16 * CHUNK_ELEMENTS + 3], &RunSpec { chunk: usize::MAX, ..spec });
        assert!(whole > 15 * one, "{whole} against {one}");
    }
}
