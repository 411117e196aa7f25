//! The accuracy audit: every registered protocol with an activation kind, run inside the
//! simulator on the recorded inputs of every layer, with its error against the float ideal split
//! into approximation error (float approximation against the ideal) and fixed-point error
//! (secure output against the float approximation), and its cost per call.
//!
//! - **Element-wise** protocols (GELU, exp on x − max) run once per layer on `samples` recorded
//!   samples, drawn uniformly with the run's seed, followed by the centres of every non-empty
//!   histogram bin. Max and
//!   mean absolute errors are over the samples (which follow the recorded distribution); the
//!   weighted RMS error is over the bin centres weighted by their counts, i.e. the whole
//!   recorded histogram.
//! - **Softmax** protocols (and their replacements) run on `rows` recorded rows of attention
//!   scores, drawn uniformly with the run's seed (the recorder keeps rows in sentence order), one call per row length (rows are a sentence's keys, never padded, so
//!   every key is unmasked); errors are over all row entries, plus KL(ideal ‖ secure) per row
//!   and each row's largest probability error. The cost is that of all calls: bytes and
//!   messages add up, rounds are the most of any call (the calls are independent).
//! - **LayerNorm** protocols run on `rows` rows of both LayerNorms' inputs, drawn the same way,
//!   with γ = 1 and β = 0.
//!
//! Recorded inputs are used as they are: the fraction outside a protocol's documented domain
//! ([`Protocol::in_domain`]; for LayerNorm the row variance too) is reported, and such inputs
//! may produce garbage (which the errors then show).
//!
//! **Verdict.** On the inputs inside the domain every entry must keep the protocol's own stated
//! bounds: the secure output within [`Protocol::tolerance_ulp`] of the fixed-point reference,
//! and within [`Protocol::ideal_tolerance`] plus that tolerance of the float ideal. An entry that
//! misses either fails, and so does the audit ([`AuditReport::passed`]; `dyad audit` exits 1).

use dyad_protocols::harness::{self, RunSpec};
use dyad_protocols::{Activation, HarnessError, Protocol, TruncMode};
use dyad_reference::metrics::{self, ErrorStats, abs_errors, weighted_rms};
use dyad_sim::runner::Correlations;
use dyad_sim::{FixedPoint, Phase};
use dyad_vectors::{Kind, VectorSet, VectorsError};
use std::collections::BTreeMap;

use ndarray::{ArrayD, IxDyn};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::points::histogram_points;

/// How to audit.
#[derive(Clone, Debug)]
pub struct AuditSpec {
    /// The fixed-point format.
    pub fixed: FixedPoint,
    /// The truncation after products.
    pub trunc: TruncMode,
    /// Seeds the shares and correlations.
    pub seed: u64,
    /// Recorded samples per layer for element-wise protocols.
    pub samples: usize,
    /// Recorded rows per layer for row-wise protocols.
    pub rows: usize,
    /// Layers to audit (all when `None`).
    pub layers: Option<Vec<usize>>,
    /// Where correlated randomness comes from.
    pub correlations: Correlations,
    /// The largest fraction of an entry's inputs that may lie outside the protocol's documented
    /// domain, and of its elements whose reference truncates a value at or beyond 2^(ℓ−2), before
    /// the entry fails (0 by default: a computation outside the domain is wrong, not approximate).
    pub max_outside: f64,
}

/// Why the audit stopped.
#[derive(Debug, Error)]
pub enum AuditError {
    /// The recorded vectors could not be read.
    #[error(transparent)]
    Vectors(#[from] VectorsError),
    /// A protocol could not run on the recorded inputs.
    #[error("{protocol}, layer {layer}: {source}")]
    Run {
        /// The protocol.
        protocol: String,
        /// The layer.
        layer: usize,
        /// What failed.
        source: Box<HarnessError>,
    },
    /// An audit that would check nothing.
    #[error("{0}")]
    Spec(String),
    /// Recorded inputs outside a protocol's documented domain at this format, found before any
    /// secure work.
    #[error(
        "{protocol} in Z_2^{ring_bits} with {frac_bits} fraction bits: {:.2}% of layer {layer}'s recorded {kind} lie \
         outside its domain {domain} (at most {:.2}% allowed by --max-outside); use ℓ = 64 or audit other protocols",
        100.0 * fraction,
        100.0 * max_outside
    )]
    OutsideDomain {
        /// The protocol.
        protocol: String,
        /// The layer.
        layer: usize,
        /// The recorded kind.
        kind: String,
        /// The fraction outside.
        fraction: f64,
        /// The allowed fraction.
        max_outside: f64,
        /// The protocol's documented domain, in words.
        domain: String,
        /// ℓ.
        ring_bits: u32,
        /// f.
        frac_bits: u32,
    },
    /// A layer that the vectors do not have.
    #[error("layer {layer} is not recorded (the vectors have {layers})")]
    Layer {
        /// The layer asked for.
        layer: usize,
        /// Layers recorded.
        layers: usize,
    },
}

/// The error split.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ErrorSplit {
    /// Secure output against the ideal.
    pub total: ErrorStats,
    /// Float approximation against the ideal.
    pub approximation: ErrorStats,
    /// Secure output against the float approximation.
    pub fixed_point: ErrorStats,
}

/// Softmax-specific errors. KL(ideal ‖ secure) takes secure probabilities below one ULP as one
/// ULP, the smallest positive value the format holds: an approximation that returns 0 where the
/// ideal does not (a clipped exp) is charged p·log(p/2^−f) there, rather than infinity.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SoftmaxErrors {
    /// Mean over rows of KL(ideal ‖ secure).
    pub kl_mean: f64,
    /// Largest KL over rows.
    pub kl_max: f64,
    /// Largest absolute probability error of any row.
    pub row_max_abs: f64,
    /// Mean over rows of each row's largest absolute probability error.
    pub row_max_abs_mean: f64,
}

/// The cost of one audited call (for row-wise protocols, of one call per row length).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CallCost {
    /// Elements (or row entries) in the call.
    pub elements: usize,
    /// Online bytes server → client.
    pub bytes_server_to_client: u64,
    /// Online bytes client → server.
    pub bytes_client_to_server: u64,
    /// Online bytes per element, both ways.
    pub bytes_per_element: f64,
    /// Online messages.
    pub messages: u64,
    /// Online rounds.
    pub rounds: u64,
    /// Whether correlations came from the trusted dealer.
    pub dealer: bool,
}

impl CallCost {
    /// Adds an independent call that could run beside this one: elements, bytes and messages add
    /// up, rounds are the larger.
    fn merge(&mut self, other: &CallCost) {
        self.elements += other.elements;
        self.bytes_server_to_client += other.bytes_server_to_client;
        self.bytes_client_to_server += other.bytes_client_to_server;
        self.messages += other.messages;
        self.rounds = self.rounds.max(other.rounds);
        self.dealer |= other.dealer;
        self.bytes_per_element =
            (self.bytes_server_to_client + self.bytes_client_to_server) as f64 / self.elements.max(1) as f64;
    }
}

/// The protocol's stated bounds, checked on the audited inputs inside its documented domain.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    /// The domain tested: the first input's documented range at this format.
    pub domain: (f64, f64),
    /// Inputs inside it (the bounds are checked on these).
    pub inputs_in_domain: usize,
    /// Largest ring distance of the secure output from the fixed-point reference.
    pub max_ulp: u64,
    /// The protocol's tolerance against its reference.
    pub tolerance_ulp: u64,
    /// Largest |secure − ideal|.
    pub max_abs: f64,
    /// The documented accuracy plus the tolerance: ideal_tolerance + tolerance_ulp·2^−f.
    pub bound: f64,
    /// Truncations of a value at or beyond 2^(ℓ−2) in the reference's run on these inputs (all
    /// of them, inside the domain or not), where the secure truncation is no longer correct.
    pub beyond_truncation_domain: u64,
    /// Both bounds held, and the truncations beyond 2^(ℓ−2) stayed within the audit's
    /// `max_outside` fraction of the elements.
    pub passed: bool,
}

impl Verdict {
    /// The verdict on the elements of `o` inside the domain; the truncations beyond 2^(ℓ−2) per
    /// element may be at most `max_outside`.
    fn new(o: &Outcome, bound: f64, max_outside: f64) -> Self {
        let (mut max_ulp, mut max_abs, mut inputs) = (0u64, 0f64, 0usize);
        for (i, _) in o.in_domain.iter().enumerate().filter(|(_, ok)| **ok) {
            inputs += 1;
            max_ulp = max_ulp.max(o.ulps[i]);
            // NaN counts as an infinite error, as everywhere in Dyad.
            let err = (o.secure[i] - o.ideal[i]).abs();
            max_abs = max_abs.max(if err.is_nan() { f64::INFINITY } else { err });
        }
        Verdict {
            domain: o.domain,
            inputs_in_domain: inputs,
            max_ulp,
            tolerance_ulp: o.tolerance_ulp,
            max_abs,
            bound,
            beyond_truncation_domain: o.beyond,
            passed: max_ulp <= o.tolerance_ulp
                && max_abs <= bound
                && o.beyond as f64 <= max_outside * o.in_domain.len() as f64,
        }
    }
}

/// One protocol on one layer's recorded activations.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// Protocol name.
    pub protocol: String,
    /// Its activation.
    pub activation: Activation,
    /// The recorded kind it ran on.
    pub kind: String,
    /// The layer.
    pub layer: usize,
    /// Inputs audited (samples, or real row entries).
    pub inputs: usize,
    /// Fraction of them outside the protocol's documented domain.
    pub outside_domain: f64,
    /// The stated bounds, checked.
    pub verdict: Verdict,
    /// Errors.
    pub errors: ErrorSplit,
    /// Softmax errors.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub softmax: Option<SoftmaxErrors>,
    /// Cost of the call.
    pub cost: CallCost,
    /// The largest jump of the float approximation at a breakpoint (piecewise protocols).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jump: Option<Jump>,
    /// A caveat (for example "before distillation").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// A discontinuity of a piecewise approximation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Jump {
    /// Where.
    pub at: f64,
    /// |left limit − right value|.
    pub size: f64,
}

/// The largest jump of `p`'s float approximation across its breakpoints, if it has any.
pub fn largest_jump(p: &dyn Protocol) -> Option<Jump> {
    p.breakpoints()
        .into_iter()
        .filter_map(|b| {
            let x = ArrayD::from_shape_vec(IxDyn(&[2]), vec![b - 1e-9, b]).ok()?;
            let y = p.approximation(&[x]).ok()?;
            let v: Vec<f64> = y.iter().copied().collect();
            Some(Jump { at: b, size: (v.get(1)? - v.first()?).abs() })
        })
        .max_by(|a, b| a.size.total_cmp(&b.size))
}

/// What a plot of one element-wise entry needs.
#[derive(Clone, Debug, PartialEq)]
pub struct PlotData {
    /// Protocol name.
    pub protocol: String,
    /// The layer.
    pub layer: usize,
    /// Bin centres.
    pub x: Vec<f64>,
    /// Bin counts.
    pub weight: Vec<f64>,
    /// Ideal at the centres.
    pub ideal: Vec<f64>,
    /// Float approximation at the centres.
    pub approximation: Vec<f64>,
    /// Secure output at the centres.
    pub secure: Vec<f64>,
}

/// What the audit ran on.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Provenance {
    /// The vector set's directory.
    pub vectors: String,
    /// The model the activations come from, with its package.
    pub model: String,
    /// The sha256 of the model's weights.
    pub weights_sha256: String,
    /// Sentences the activations were recorded from.
    pub sentences: usize,
    /// Where they come from, and the sha256 of that file.
    pub sentence_source: String,
    /// The sha256 of the sentence source.
    pub sentence_source_sha256: String,
    /// The seed the recorder chose sentences, samples and rows with.
    pub recording_seed: u64,
    /// The model's LayerNorm ε, which LayerNorm protocols were audited with.
    pub layer_norm_eps: f64,
}

impl Provenance {
    /// The provenance of `set`.
    pub fn of(set: &VectorSet) -> Self {
        let m = set.manifest();
        Provenance {
            vectors: set.dir().display().to_string(),
            model: format!("{} ({})", m.model.name, m.model.package),
            weights_sha256: m.model.weights_sha256.clone(),
            sentences: m.sentences.ids.len(),
            sentence_source: m.sentences.source.clone(),
            sentence_source_sha256: m.sentences.sha256.clone(),
            recording_seed: m.recording.seed,
            layer_norm_eps: m.model.layer_norm_eps,
        }
    }
}

/// The whole audit.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuditReport {
    /// What it ran on.
    pub provenance: Provenance,
    /// True when every entry kept its protocol's stated bounds.
    pub passed: bool,
    /// ℓ.
    pub ring_bits: u32,
    /// f.
    pub frac_bits: u32,
    /// Truncation used.
    pub trunc: TruncMode,
    /// The seed.
    pub seed: u64,
    /// The correlation provider (`dealer` or `ot`).
    pub correlations: String,
    /// One entry per protocol, layer (and LayerNorm kind).
    pub entries: Vec<AuditEntry>,
    /// Why protocols of the default selection were not audited (mixed-ring protocols whose small
    /// ring the run's ring cannot hold).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_audited: Vec<String>,
}

fn kind_of(a: Activation) -> Vec<Kind> {
    match a {
        Activation::Gelu => vec![Kind::GeluInput],
        Activation::Exp | Activation::Softmax => vec![Kind::SoftmaxInput],
        Activation::LayerNorm => vec![Kind::LayerNormAttention, Kind::LayerNormFfn],
    }
}

struct Outcome {
    secure: Vec<f64>,
    ideal: Vec<f64>,
    approx: Vec<f64>,
    /// Ring distance of each secure output element from the reference.
    ulps: Vec<u64>,
    /// Whether each element's input lies in the documented domain.
    in_domain: Vec<bool>,
    tolerance_ulp: u64,
    cost: CallCost,
    /// The first input's documented domain.
    domain: (f64, f64),
    /// Truncations at or beyond 2^(ℓ−2) in the reference.
    beyond: u64,
}

fn fraction_outside(in_domain: &[bool]) -> f64 {
    in_domain.iter().filter(|ok| !**ok).count() as f64 / in_domain.len().max(1) as f64
}

/// `n` of `len` indices, uniformly without replacement, in increasing order, from the run's seed
/// on a stream of their own per layer and kind.
fn sample_indices(len: usize, n: usize, seed: u64, layer: usize, kind: Kind) -> Vec<usize> {
    if n >= len {
        return (0..len).collect();
    }
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    rng.set_stream(0xA0D1_7000 + 16 * layer as u64 + kind as u64);
    let mut picked = rand::seq::index::sample(&mut rng, len, n).into_vec();
    picked.sort_unstable();
    picked
}

fn run_once(
    p: &dyn Protocol,
    spec: &AuditSpec,
    layer: usize,
    dims: &[usize],
    inputs: Vec<ArrayD<f64>>,
) -> Result<Outcome, AuditError> {
    let fail = |source: HarnessError| AuditError::Run { protocol: p.name().into(), layer, source: Box::new(source) };
    let specs = p.inputs(dims, spec.fixed).map_err(|e| fail(e.into()))?;
    let domain = specs.first().map_or((f64::NEG_INFINITY, f64::INFINITY), |s| s.range);
    let run = RunSpec {
        dims: Some(dims.to_vec()),
        trunc: Some(spec.trunc),
        inputs: Some(inputs.clone()),
        enforce_domain: false,
        correlations: spec.correlations,
        ..RunSpec { fixed: spec.fixed, ..RunSpec::new(spec.fixed.ring(), spec.seed) }
    };
    let (checked, beyond) = dyad_reference::domain::counted(|| harness::run(p, &run));
    let checked = checked.map_err(fail)?;
    let decoded: Vec<ArrayD<f64>> = checked.inputs.iter().map(|t| spec.fixed.decode_tensor(t)).collect();
    let in_domain = p.in_domain(spec.fixed, &decoded).map_err(|e| fail(e.into()))?;
    let ideal = p.ideal(&decoded).map_err(|e| fail(e.into()))?;
    let approx = p.approximation(&decoded).map_err(|e| fail(e.into()))?;
    let secure = harness::decode_output(p, spec.fixed, &checked.secure);
    let online = checked.report.cost.phase_counts(Phase::Online);
    let cost = CallCost {
        elements: secure.len(),
        bytes_server_to_client: online.bytes_server_to_client,
        bytes_client_to_server: online.bytes_client_to_server,
        bytes_per_element: online.bytes() as f64 / secure.len().max(1) as f64,
        messages: online.messages(),
        rounds: online.rounds,
        dealer: checked.report.cost.dealer_used,
    };
    Ok(Outcome {
        secure: secure.iter().copied().collect(),
        ideal: ideal.iter().copied().collect(),
        approx: approx.iter().copied().collect(),
        ulps: metrics::ulps(&checked.secure, &checked.reference),
        in_domain: in_domain.iter().copied().collect(),
        tolerance_ulp: checked.report.tolerance_ulp,
        cost,
        domain,
        beyond,
    })
}

/// The recorded samples of `kind` in `layer` the audit draws.
fn sampled(set: &VectorSet, spec: &AuditSpec, kind: Kind, layer: usize) -> Result<Vec<f64>, AuditError> {
    let recorded = set.samples(kind, layer)?;
    Ok(sample_indices(recorded.len(), spec.samples, spec.seed, layer, kind).into_iter().map(|i| recorded[i]).collect())
}

/// The recorded rows of `kind` in `layer` the audit draws.
fn sampled_rows(set: &VectorSet, spec: &AuditSpec, kind: Kind, layer: usize) -> Result<Vec<Vec<f64>>, AuditError> {
    let mut recorded = set.rows(kind, layer)?;
    let picked = sample_indices(recorded.len(), spec.rows, spec.seed, layer, kind);
    Ok(picked.into_iter().map(|i| std::mem::take(&mut recorded[i])).collect())
}

/// Rows grouped by length (each group runs as one call, never padded).
fn by_length(rows: &[Vec<f64>]) -> BTreeMap<usize, Vec<&[f64]>> {
    let mut by_len: BTreeMap<usize, Vec<&[f64]>> = BTreeMap::new();
    for r in rows {
        by_len.entry(r.len()).or_default().push(r.as_slice());
    }
    by_len
}

/// The fraction of the inputs the audit draws for `p` on `kind` in `layer` that lie outside
/// `p`'s documented domain (a row counts whole), computed in the clear before any secure work.
fn outside_fraction(
    p: &dyn Protocol,
    set: &VectorSet,
    spec: &AuditSpec,
    kind: Kind,
    layer: usize,
) -> Result<f64, AuditError> {
    let fail = |e: dyad_protocols::ProtocolError| AuditError::Run {
        protocol: p.name().into(),
        layer,
        source: Box::new(e.into()),
    };
    let flags: Vec<bool> = match p.activation() {
        Some(Activation::Gelu | Activation::Exp) => {
            let x = sampled(set, spec, kind, layer)?;
            let x = ArrayD::from_shape_vec(IxDyn(&[x.len()]), x).unwrap_or_else(|_| ArrayD::zeros(IxDyn(&[0])));
            p.in_domain(spec.fixed, &[x]).map_err(fail)?.iter().copied().collect()
        }
        _ => {
            let rows = sampled_rows(set, spec, kind, layer)?;
            let mut flags = Vec::new();
            for (&width, group) in &by_length(&rows) {
                let flat: Vec<f64> = group.iter().flat_map(|r| r.iter().copied()).collect();
                let x = ArrayD::from_shape_vec(IxDyn(&[group.len(), width]), flat)
                    .unwrap_or_else(|_| ArrayD::zeros(IxDyn(&[0, 0])));
                let f = p.in_domain(spec.fixed, &[x]).map_err(fail)?;
                flags.extend(f.lanes(ndarray::Axis(1)).into_iter().map(|row| row.iter().all(|&b| b)));
            }
            flags
        }
    };
    Ok(fraction_outside(&flags))
}

fn elementwise(
    p: &dyn Protocol,
    set: &VectorSet,
    spec: &AuditSpec,
    kind: Kind,
    layer: usize,
) -> Result<(AuditEntry, PlotData), AuditError> {
    let samples = sampled(set, spec, kind, layer)?;
    let points = histogram_points(&set.histogram(kind, layer)?);
    let mut values = samples.clone();
    values.extend(points.iter().map(|q| q.x));
    let n = values.len();
    let input = ArrayD::from_shape_vec(IxDyn(&[n]), values).unwrap_or_else(|_| ArrayD::zeros(IxDyn(&[0])));
    let o = run_once(p, spec, layer, &[n], vec![input])?;
    let s = samples.len();
    let w: Vec<f64> = points.iter().map(|q| q.w).collect();
    let split = |got: &[f64], want: &[f64]| ErrorStats {
        weighted_rms: Some(weighted_rms(got[s..].iter().zip(&want[s..]).zip(&w).map(|((&g, &t), &w)| (g, t, w)))),
        ..abs_errors(&got[..s], &want[..s])
    };
    let errors = ErrorSplit {
        total: split(&o.secure, &o.ideal),
        approximation: split(&o.approx, &o.ideal),
        fixed_point: split(&o.secure, &o.approx),
    };
    let plot = PlotData {
        protocol: p.name().into(),
        layer,
        x: points.iter().map(|q| q.x).collect(),
        weight: w,
        ideal: o.ideal[s..].to_vec(),
        approximation: o.approx[s..].to_vec(),
        secure: o.secure[s..].to_vec(),
    };
    let entry = AuditEntry {
        protocol: p.name().into(),
        activation: p.activation().unwrap_or(Activation::Gelu),
        kind: kind.name().into(),
        layer,
        inputs: s,
        outside_domain: fraction_outside(&o.in_domain[..s]),
        verdict: Verdict::new(&o, bound(p, spec), spec.max_outside),
        errors,
        softmax: None,
        cost: o.cost,
        jump: largest_jump(p),
        note: note(p, spec.fixed),
    };
    Ok((entry, plot))
}

/// The protocol's caveat, and the small ring it computes in if any (ℓ′ and f′ belong in every
/// report of a mixed-ring protocol).
fn note(p: &dyn Protocol, fixed: FixedPoint) -> Option<String> {
    let ring = p.small_ring(fixed).map(|s| format!("in Z_2^{} with f′ = {}", s.ring().bits(), s.frac()));
    match (ring, p.audit_note()) {
        (Some(r), Some(n)) => Some(format!("{r}; {n}")),
        (r, n) => r.or(n.map(str::to_owned)),
    }
}

/// The documented accuracy against the ideal plus the tolerance against the reference.
fn bound(p: &dyn Protocol, spec: &AuditSpec) -> f64 {
    p.ideal_tolerance(spec.fixed)
        + p.tolerance_under(spec.fixed, spec.trunc, spec.correlations) as f64 * spec.fixed.ulp()
}

fn rowwise(
    p: &dyn Protocol,
    set: &VectorSet,
    spec: &AuditSpec,
    kind: Kind,
    layer: usize,
) -> Result<AuditEntry, AuditError> {
    let rows = sampled_rows(set, spec, kind, layer)?;
    let by_len = by_length(&rows);
    let activation = p.activation().unwrap_or(Activation::Softmax);
    let real: usize = rows.iter().map(|r| r.len()).sum();
    // Every call's outcome, one after another.
    let mut all = Outcome {
        secure: Vec::with_capacity(real),
        ideal: Vec::with_capacity(real),
        approx: Vec::with_capacity(real),
        ulps: Vec::with_capacity(real),
        in_domain: Vec::with_capacity(real),
        tolerance_ulp: 0,
        cost: CallCost::default(),
        domain: (f64::NEG_INFINITY, f64::INFINITY),
        beyond: 0,
    };
    let mut sm = SoftmaxErrors::default();
    let ulp = spec.fixed.ulp();
    for (&width, group) in &by_len {
        let count = group.len();
        let flat: Vec<f64> = group.iter().flat_map(|r| r.iter().copied()).collect();
        let x = ArrayD::from_shape_vec(IxDyn(&[count, width]), flat).unwrap_or_else(|_| ArrayD::zeros(IxDyn(&[0, 0])));
        let mut inputs = vec![x];
        if activation == Activation::LayerNorm {
            inputs.push(ArrayD::from_elem(IxDyn(&[width]), 1.0));
            inputs.push(ArrayD::zeros(IxDyn(&[width])));
        }
        let o = run_once(p, spec, layer, &[count, width], inputs)?;
        all.domain = o.domain;
        all.tolerance_ulp = o.tolerance_ulp;
        all.cost.merge(&o.cost);
        all.beyond += o.beyond;
        all.ulps.extend_from_slice(&o.ulps);
        // A row is in the domain when all of it is: its outputs depend on every entry.
        for row in o.in_domain.chunks(width) {
            let ok = row.iter().all(|&b| b);
            all.in_domain.extend(row.iter().map(|_| ok));
        }
        all.secure.extend_from_slice(&o.secure);
        all.ideal.extend_from_slice(&o.ideal);
        all.approx.extend_from_slice(&o.approx);
        if activation == Activation::Softmax {
            for (ideal, secure) in o.ideal.chunks(width).zip(o.secure.chunks(width)) {
                let kl: f64 = ideal
                    .iter()
                    .zip(secure)
                    .filter(|(pi, _)| **pi > 0.0)
                    .map(|(pi, qi)| if qi.is_nan() { f64::INFINITY } else { pi * (pi / qi.max(ulp)).ln() })
                    .sum();
                sm.kl_mean += kl / rows.len().max(1) as f64;
                sm.kl_max = sm.kl_max.max(kl);
                let row_err = abs_errors(ideal, secure).max_abs;
                sm.row_max_abs = sm.row_max_abs.max(row_err);
                sm.row_max_abs_mean += row_err / rows.len().max(1) as f64;
            }
        }
    }
    let (s, i, a) = (&all.secure, &all.ideal, &all.approx);
    Ok(AuditEntry {
        protocol: p.name().into(),
        activation,
        kind: kind.name().into(),
        layer,
        inputs: real,
        outside_domain: fraction_outside(&all.in_domain),
        verdict: Verdict::new(&all, bound(p, spec), spec.max_outside),
        errors: ErrorSplit { total: abs_errors(s, i), approximation: abs_errors(a, i), fixed_point: abs_errors(s, a) },
        softmax: (activation == Activation::Softmax).then_some(sm),
        cost: all.cost.clone(),
        jump: None,
        note: note(p, spec.fixed),
    })
}

/// Audits `protocols` (those with an activation kind) on `set`. `progress` is told each step
/// and the number of steps (protocol × layer × kind).
pub fn audit(
    set: &VectorSet,
    protocols: &[&dyn Protocol],
    spec: &AuditSpec,
    progress: &mut dyn FnMut(usize, &str),
) -> Result<(AuditReport, Vec<PlotData>), AuditError> {
    if spec.samples == 0 || spec.rows == 0 {
        return Err(AuditError::Spec(format!(
            "--samples {} --rows {}: an audit of no inputs checks nothing; give at least one of each",
            spec.samples, spec.rows
        )));
    }
    let layers = match &spec.layers {
        Some(l) => {
            if let Some(&bad) = l.iter().find(|&&x| x >= set.layers()) {
                return Err(AuditError::Layer { layer: bad, layers: set.layers() });
            }
            l.clone()
        }
        None => (0..set.layers()).collect(),
    };
    let audited: Vec<&dyn Protocol> = protocols.iter().copied().filter(|p| p.activation().is_some()).collect();
    let steps: usize =
        audited.iter().map(|p| kind_of(p.activation().unwrap_or(Activation::Gelu)).len() * layers.len()).sum();
    let eps = set.manifest().model.layer_norm_eps;
    for &p in &audited {
        let for_model = p.with_layer_norm_eps(eps);
        let p = for_model.as_deref().unwrap_or(p);
        for &layer in &layers {
            for kind in kind_of(p.activation().unwrap_or(Activation::Gelu)) {
                let fraction = outside_fraction(p, set, spec, kind, layer)?;
                if fraction > spec.max_outside {
                    return Err(AuditError::OutsideDomain {
                        protocol: p.name().into(),
                        layer,
                        kind: kind.name().into(),
                        fraction,
                        max_outside: spec.max_outside,
                        domain: match p.activation() {
                            Some(Activation::Gelu | Activation::Exp) => p
                                .inputs(&p.default_dims(), spec.fixed)
                                .ok()
                                .and_then(|s| s.first().map(|s| format!("[{:.3}, {:.3}]", s.range.0, s.range.1)))
                                .unwrap_or_default(),
                            _ => "(bounds on each row's values and variance)".into(),
                        },
                        ring_bits: spec.fixed.ring().bits(),
                        frac_bits: spec.fixed.frac(),
                    });
                }
            }
        }
    }
    let mut entries = Vec::new();
    let mut plots = Vec::new();
    for p in audited {
        let for_model = p.with_layer_norm_eps(eps);
        let p = for_model.as_deref().unwrap_or(p);
        let activation = p.activation().unwrap_or(Activation::Gelu);
        for &layer in &layers {
            for kind in kind_of(activation) {
                progress(steps, &format!("{} layer {layer} {kind}", p.name()));
                match activation {
                    Activation::Gelu | Activation::Exp => {
                        let (e, plot) = elementwise(p, set, spec, kind, layer)?;
                        entries.push(e);
                        plots.push(plot);
                    }
                    Activation::Softmax | Activation::LayerNorm => entries.push(rowwise(p, set, spec, kind, layer)?),
                }
            }
        }
    }
    Ok((
        AuditReport {
            provenance: Provenance::of(set),
            passed: entries.iter().all(|e| e.verdict.passed),
            ring_bits: spec.fixed.ring().bits(),
            frac_bits: spec.fixed.frac(),
            trunc: spec.trunc,
            seed: spec.seed,
            correlations: spec.correlations.name().into(),
            entries,
            not_audited: Vec::new(),
        },
        plots,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn samples_are_drawn_uniformly_from_the_whole_recording_by_seed() {
        // The recorder keeps rows in sentence order, so taking the first rows would audit the
        // first sentences only.
        let a = sample_indices(1000, 64, 7, 2, Kind::LayerNormFfn);
        assert_eq!(a.len(), 64);
        assert!(a.windows(2).all(|w| w[0] < w[1]), "sorted and distinct");
        assert!(*a.last().unwrap_or(&0) >= 750 && a[0] < 250, "{a:?} covers the whole range");
        assert_eq!(a, sample_indices(1000, 64, 7, 2, Kind::LayerNormFfn), "deterministic per seed");
        assert_ne!(a, sample_indices(1000, 64, 8, 2, Kind::LayerNormFfn));
        assert_ne!(a, sample_indices(1000, 64, 7, 3, Kind::LayerNormFfn), "a stream per layer");
        assert_eq!(sample_indices(10, 64, 7, 2, Kind::LayerNormFfn), (0..10).collect::<Vec<_>>());
    }
}
