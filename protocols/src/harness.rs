//! Runs a protocol inside the simulator on random (or given) inputs and checks it against its
//! reference and its ideal.
//!
//! Shared inputs arrive already secret-shared: the harness splits them with its own randomness,
//! outside the simulation, so sharing them is not charged. Everything the protocol does is run
//! under a label named after it.

use std::time::Duration;

use dyad_reference::metrics::{self, ErrorStats};
use dyad_sim::runner::Correlations;
use dyad_sim::{CostReport, FixedPoint, Ring, RingTensor, Share, SimConfig, simulate};
use ndarray::{ArrayD, IxDyn};
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha20Rng;
use serde::{Deserialize, Serialize};

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
    /// Seeds the inputs, the dealer and both parties.
    pub seed: u64,
    /// Inputs to use instead of random ones, one real tensor per input.
    pub inputs: Option<Vec<ArrayD<f64>>>,
    /// Receive timeout inside the simulation.
    pub recv_timeout: Option<Duration>,
    /// Refuse given inputs outside the protocol's documented domain (the audit runs recorded
    /// inputs as they are and reports how many lie outside instead).
    pub enforce_domain: bool,
    /// Where correlated randomness comes from.
    pub correlations: Correlations,
}

impl RunSpec {
    /// Default dimensions, the default format of `ring`, and `seed`.
    pub fn new(ring: Ring, seed: u64) -> Self {
        RunSpec {
            dims: None,
            fixed: FixedPoint::default_for(ring),
            trunc: None,
            seed,
            inputs: None,
            recv_timeout: SimConfig::default().recv_timeout,
            enforce_domain: true,
            correlations: Correlations::Dealer,
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
    /// Cost per phase and label.
    pub cost: CostReport,
    /// Errors.
    pub error: RunErrors,
    /// Allowed ring distance from the reference.
    pub tolerance_ulp: u64,
    /// True when the secure output is within tolerance of the reference everywhere.
    pub passed: bool,
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

fn random_input(spec: &InputSpec, rng: &mut ChaCha20Rng) -> ArrayD<f64> {
    let (lo, hi) = spec.range;
    ArrayD::from_shape_simple_fn(IxDyn(&spec.shape), || lo + (hi - lo) * rng.random::<f64>())
}

/// Decodes an output per the protocol's encoding.
pub fn decode_output(p: &dyn Protocol, fixed: FixedPoint, t: &RingTensor) -> ArrayD<f64> {
    match p.output() {
        OutputEncoding::Fixed => fixed.decode_tensor(t),
        OutputEncoding::Integer => t.data().mapv(|v| t.ring().signed(v) as f64),
    }
}

/// Runs `p` once and checks it.
pub fn run(p: &dyn Protocol, spec: &RunSpec) -> Result<Checked, HarnessError> {
    let dims = spec.dims.clone().unwrap_or_else(|| p.default_dims());
    let specs = p.inputs(&dims, spec.fixed)?;
    let mut rng = ChaCha20Rng::seed_from_u64(spec.seed);
    rng.set_stream(0x1_0000);
    let reals: Vec<ArrayD<f64>> = match &spec.inputs {
        Some(given) => {
            if given.len() != specs.len() {
                return Err(HarnessError::InputCount {
                    protocol: p.name().into(),
                    expected: specs.len(),
                    got: given.len(),
                });
            }
            for (s, g) in specs.iter().zip(given) {
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
            given.clone()
        }
        None => specs.iter().map(|s| random_input(s, &mut rng)).collect(),
    };
    let mut encoded = Vec::with_capacity(specs.len());
    for (s, x) in specs.iter().zip(&reals) {
        let t = spec.fixed.encode_tensor(x).map_err(|source| HarnessError::Encode {
            protocol: p.name().into(),
            name: s.name.clone(),
            source,
        })?;
        encoded.push(t);
    }
    let mut server = Vec::new();
    let mut client = Vec::new();
    for (s, t) in specs.iter().zip(&encoded) {
        let (a, b) = match s.holder {
            Holder::Shared => {
                let (a, b) = Share::split(t, &mut rng);
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
    let config = SimConfig { seed: spec.seed, recv_timeout: spec.recv_timeout, correlations: spec.correlations };
    let name = p.name();
    let out = simulate(
        &config,
        |party| party.scope(name, |party| p.run(party, &server)),
        |party| party.scope(name, |party| p.run(party, &client)),
    )?;
    let inconsistent = |reason: String| HarnessError::Inconsistent { protocol: name.into(), reason };
    let secure = Share::reconstruct(&out.server, &out.client)
        .map_err(|e| inconsistent(format!("the output shares do not reconstruct: {e}")))?;
    let server_shares: Vec<Option<&RingTensor>> = server
        .values
        .iter()
        .map(|v| match v {
            Input::Share(s) => Some(s.tensor()),
            Input::Plain(_) | Input::Absent { .. } => None,
        })
        .collect();
    let reference =
        p.reference_for_shares(spec.fixed, &encoded, &server_shares).map_err(|e| inconsistent(e.to_string()))?;
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
    let tolerance_ulp = p.tolerance_ulp(spec.fixed, trunc);
    let report = RunReport {
        protocol: name.into(),
        shape: dims,
        ring_bits: spec.fixed.ring().bits(),
        frac_bits: spec.fixed.frac(),
        trunc,
        small_ring: p.small_ring(spec.fixed).map(|s| SmallRing { ring_bits: s.ring().bits(), frac_bits: s.frac() }),
        seed: spec.seed,
        cost: out.cost,
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
