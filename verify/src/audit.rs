//! The accuracy audit: every registered protocol with an activation kind, run inside the
//! simulator on the recorded inputs of every layer, with its error against the float ideal split
//! into approximation error (float approximation against the ideal) and fixed-point error
//! (secure output against the float approximation), and its cost per call.
//!
//! - **Element-wise** protocols (GELU, exp on x − max) run once per layer on the first
//!   `samples` recorded samples followed by the centres of every non-empty histogram bin. Max and
//!   mean absolute errors are over the samples (which follow the recorded distribution); the
//!   weighted RMS error is over the bin centres weighted by their counts, i.e. the whole
//!   recorded histogram.
//! - **Softmax** protocols (and their replacements) run on the first `rows` recorded rows of
//!   attention scores, one call per row length (rows are a sentence's keys, never padded, so
//!   every key is unmasked); errors are over all row entries, plus KL(ideal ‖ secure) per row
//!   and each row's largest probability error. The cost is that of all calls: bytes and
//!   messages add up, rounds are the most of any call (the calls are independent).
//! - **LayerNorm** protocols run on the first `rows` rows of both LayerNorms' inputs with γ = 1 and
//!   β = 0.
//!
//! Recorded inputs are used as they are: the fraction outside a protocol's documented domain is
//! reported, and such inputs may produce garbage (which the errors then show).

use dyad_protocols::harness::{self, RunSpec};
use dyad_protocols::{Activation, HarnessError, Protocol, TruncMode};
use dyad_reference::metrics::{ErrorStats, abs_errors, weighted_rms};
use dyad_sim::{FixedPoint, Phase};
use dyad_vectors::{Kind, VectorSet, VectorsError};
use std::collections::BTreeMap;

use ndarray::{ArrayD, IxDyn};
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

/// The whole audit.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct AuditReport {
    /// The vectors' model.
    pub model: String,
    /// Sentences the vectors were recorded from.
    pub sentences: usize,
    /// ℓ.
    pub ring_bits: u32,
    /// f.
    pub frac_bits: u32,
    /// Truncation used.
    pub trunc: TruncMode,
    /// The seed.
    pub seed: u64,
    /// One entry per protocol, layer (and LayerNorm kind).
    pub entries: Vec<AuditEntry>,
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
    cost: CallCost,
    /// The first input's documented domain.
    domain: (f64, f64),
}

fn outside(values: impl Iterator<Item = f64>, (lo, hi): (f64, f64)) -> f64 {
    let (mut out, mut n) = (0usize, 0usize);
    for v in values {
        n += 1;
        out += usize::from(!(lo..=hi).contains(&v));
    }
    out as f64 / n.max(1) as f64
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
        ..RunSpec { fixed: spec.fixed, ..RunSpec::new(spec.fixed.ring(), spec.seed) }
    };
    let checked = harness::run(p, &run).map_err(fail)?;
    let decoded: Vec<ArrayD<f64>> = checked.inputs.iter().map(|t| spec.fixed.decode_tensor(t)).collect();
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
        cost,
        domain,
    })
}

fn elementwise(
    p: &dyn Protocol,
    set: &VectorSet,
    spec: &AuditSpec,
    kind: Kind,
    layer: usize,
) -> Result<(AuditEntry, PlotData), AuditError> {
    let samples: Vec<f64> = set.samples(kind, layer)?.into_iter().take(spec.samples).collect();
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
        outside_domain: outside(samples.iter().copied(), o.domain),
        errors,
        softmax: None,
        cost: o.cost,
        jump: largest_jump(p),
        note: p.audit_note().map(str::to_owned),
    };
    Ok((entry, plot))
}

fn rowwise(
    p: &dyn Protocol,
    set: &VectorSet,
    spec: &AuditSpec,
    kind: Kind,
    layer: usize,
) -> Result<AuditEntry, AuditError> {
    let rows: Vec<Vec<f64>> = set.rows(kind, layer)?.into_iter().take(spec.rows).collect();
    let mut by_len: BTreeMap<usize, Vec<&[f64]>> = BTreeMap::new();
    for r in &rows {
        by_len.entry(r.len()).or_default().push(r);
    }
    let activation = p.activation().unwrap_or(Activation::Softmax);
    let real: usize = rows.iter().map(Vec::len).sum();
    let (mut s, mut i, mut a) = (Vec::with_capacity(real), Vec::with_capacity(real), Vec::with_capacity(real));
    let mut sm = SoftmaxErrors::default();
    let mut cost = CallCost::default();
    let mut domain = (f64::NEG_INFINITY, f64::INFINITY);
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
        domain = o.domain;
        cost.merge(&o.cost);
        s.extend_from_slice(&o.secure);
        i.extend_from_slice(&o.ideal);
        a.extend_from_slice(&o.approx);
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
    Ok(AuditEntry {
        protocol: p.name().into(),
        activation,
        kind: kind.name().into(),
        layer,
        inputs: real,
        outside_domain: outside(rows.iter().flatten().copied(), domain),
        errors: ErrorSplit {
            total: abs_errors(&s, &i),
            approximation: abs_errors(&a, &i),
            fixed_point: abs_errors(&s, &a),
        },
        softmax: (activation == Activation::Softmax).then_some(sm),
        cost,
        jump: None,
        note: p.audit_note().map(str::to_owned),
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
    let mut entries = Vec::new();
    let mut plots = Vec::new();
    for p in audited {
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
    let m = set.manifest();
    Ok((
        AuditReport {
            model: m.model.name.clone(),
            sentences: m.sentences.ids.len(),
            ring_bits: spec.fixed.ring().bits(),
            frac_bits: spec.fixed.frac(),
            trunc: spec.trunc,
            seed: spec.seed,
            entries,
        },
        plots,
    ))
}
