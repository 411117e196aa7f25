//! The secure MiniLM end to end: sentences from the vaderSentiment snippets through the whole
//! encoder under 2PC with a chosen suite, against the plaintext float64 model.
//!
//! Reported: the cost per layer and in total (setup once, online per sentence); the error of
//! every layer's hidden states; the cosine similarity of the mean-pooled final embeddings; and a
//! logistic-regression sentiment probe (label: sign of the mean rating, |rating| ≥ 0.5) trained
//! on plaintext embeddings of a training split and asked about plaintext and secure embeddings
//! of a disjoint test split.

use std::sync::Arc;

use dyad_distill::{DistillError, Student};
use dyad_model::bert::{BertError, Model, Tokenizer};
use dyad_model::encoder::{Encoder, EncoderWeights, PartyState, Precision, Suite, reference};
use dyad_model::layers::linear::LinearKind;
use dyad_model::probe::Probe;
use dyad_model::registry::Registry;
use dyad_protocols::blocks::share::share_input;
use dyad_protocols::harness::SmallRing;
use dyad_protocols::{ModelShape, ProtocolError, TruncMode};
use dyad_reference::metrics::{AbsErrors, cosine};
use dyad_sim::runner::{Correlations, Secrets};
use dyad_sim::{CostReport, Counts, FixedPoint, Party, Phase, RingTensor, Role, RunError, Share, SimConfig, simulate};
use dyad_vectors::Snippet;
use ndarray::{Array1, Array2, Axis};
use rand::SeedableRng;
use rand::seq::SliceRandom;
use serde::{Deserialize, Serialize};
use thiserror::Error;

pub mod apart;

/// What to run.
#[derive(Clone, Debug)]
pub struct E2eSpec {
    /// The suite.
    pub suite: Suite,
    /// Overrides the suite's linear protocol (the dealer, for runs over many sentences).
    pub linear: Option<LinearKind>,
    /// Test sentences run securely.
    pub sentences: usize,
    /// Training sentences for the probe (plaintext only).
    pub train: usize,
    /// The fixed-point format.
    pub fixed: FixedPoint,
    /// The truncation.
    pub trunc: TruncMode,
    /// Seeds the sentence split and the simulations.
    pub seed: u64,
    /// Where correlated randomness comes from.
    pub correlations: Correlations,
    /// Where the parties' private randomness comes from.
    pub secrets: Secrets,
    /// Bound on each wait for the other party.
    pub recv_timeout: Option<std::time::Duration>,
    /// A distilled student whose weights the secure run uses in place of the model's (only the
    /// party holding the weights has it).
    pub student: Option<Arc<Model>>,
    /// Snippets no sentence of the run may be (a student's training sentences), by id.
    pub exclude: Vec<u32>,
}

/// Why the run stopped.
#[derive(Debug, Error)]
pub enum E2eError {
    /// The model or tokenizer failed.
    #[error(transparent)]
    Bert(#[from] BertError),
    /// The suite's protocols could not be set up.
    #[error(transparent)]
    Protocol(#[from] ProtocolError),
    /// The other process of a run apart failed, left, stalled, or runs another job.
    #[error(transparent)]
    Apart(#[from] dyad_protocols::HarnessError),
    /// The plaintext student failed.
    #[error("the plaintext student: {0}")]
    Student(#[from] DistillError),
    /// A secure run failed.
    #[error("{what}: {source}")]
    Run {
        /// What was running.
        what: String,
        /// The failure.
        source: Box<RunError<ProtocolError>>,
    },
    /// Too few snippets qualify.
    #[error(
        "--sentences and --train: only {available} snippets have |rating| ≥ 0.5, at most 128 tokens and are not a student's training sentences; {wanted} were asked for, with at least one test sentence"
    )]
    Sentences {
        /// Qualifying snippets.
        available: usize,
        /// Test plus training sentences asked for.
        wanted: usize,
    },
    /// The suite's fixed-point reference truncates values at or beyond 2^(ℓ−2) on the test
    /// sentences, where the secure truncations stop being correct; found before any secure work.
    #[error(
        "Z_2^{ring_bits} with {frac_bits} fraction bits cannot hold the model: the suite's fixed-point reference \
         truncates {count} values at or beyond 2^{} on the test sentences, where the secure truncations stop \
         being correct; use ℓ = 64",
        ring_bits - 2
    )]
    Domain {
        /// ℓ.
        ring_bits: u32,
        /// f.
        frac_bits: u32,
        /// The truncations beyond 2^(ℓ−2).
        count: u64,
    },
}

/// The error of one layer's hidden states against the plaintext model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LayerError {
    /// The layer.
    pub layer: usize,
    /// Largest absolute error over every test sentence.
    pub max_abs: f64,
    /// Mean absolute error.
    pub mean_abs: f64,
}

/// Cosine similarity of pooled embeddings, secure against plaintext.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CosineStats {
    /// Smallest over the test sentences.
    pub min: f64,
    /// Mean.
    pub mean: f64,
    /// The 1st percentile (nearest rank).
    pub p1: f64,
    /// The median (nearest rank).
    pub median: f64,
    /// How many test sentences fall below 0.999, the target the Nimbus and BumbleBee suites are
    /// held to.
    pub below_0_999: usize,
    /// The lowest few, lowest first, so a minimum can be traced to its sentence.
    pub worst: Vec<WorstSentence>,
}

/// A test sentence and its pooled-embedding cosine.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WorstSentence {
    /// Its snippet id (the first field of the snippets file).
    pub id: u32,
    /// Its cosine against plaintext.
    pub cosine: f64,
}

/// How many of the lowest cosines the report names.
const WORST: usize = 3;

impl CosineStats {
    /// The statistics of `cosines`, one per test sentence, with their snippet ids.
    fn of(cosines: &[(u32, f64)]) -> Self {
        let mut sorted = cosines.to_vec();
        sorted.sort_by(|a, b| a.1.total_cmp(&b.1));
        let rank = |q: f64| -> f64 {
            let i = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len().max(1)) - 1;
            sorted.get(i).map_or(f64::NAN, |c| c.1)
        };
        CosineStats {
            min: sorted.first().map_or(f64::NAN, |c| c.1),
            mean: sorted.iter().map(|c| c.1).sum::<f64>() / sorted.len().max(1) as f64,
            p1: rank(0.01),
            median: rank(0.5),
            below_0_999: sorted.iter().filter(|c| c.1 < 0.999).count(),
            worst: sorted.iter().take(WORST).map(|&(id, cosine)| WorstSentence { id, cosine }).collect(),
        }
    }
}

/// The probe's agreement.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProbeStats {
    /// Training sentences.
    pub train: usize,
    /// The L2 penalty chosen on a validation split of them.
    pub l2: f64,
    /// Test sentences.
    pub test: usize,
    /// Accuracy on plaintext embeddings of the test split.
    pub accuracy_plaintext: f64,
    /// Accuracy on secure embeddings of the test split.
    pub accuracy_secure: f64,
    /// Secure minus plaintext, in points.
    pub difference_points: f64,
    /// Fraction of test sentences whose predicted label changes.
    pub flipped: f64,
}

/// Cost of the run.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct E2eCost {
    /// The one-time setup.
    pub setup: Counts,
    /// Online, summed over the test sentences.
    pub online_total: Counts,
    /// Online bytes per sentence, mean.
    pub online_bytes_per_sentence: f64,
    /// Online rounds per sentence, mean.
    pub online_rounds_per_sentence: f64,
    /// Online per layer, summed over the sentences.
    pub per_layer: Vec<Counts>,
    /// Offline material from the trusted dealer, summed (both parties).
    pub dealer_bytes: u64,
    /// Offline traffic between the parties (OT extension and triple generation under provider
    /// `ot`; nothing under the dealer), summed over the test sentences.
    pub offline_total: Counts,
    /// Measured compute per sentence, mean (seconds, larger party).
    pub compute_seconds_per_sentence: f64,
}

/// The end-to-end report.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct E2eReport {
    /// The suite.
    pub suite: String,
    /// The linear protocol used.
    pub linear: LinearKind,
    /// Whether the suite ran in the clear (plaintext-fixed).
    pub reference: bool,
    /// ℓ.
    pub ring_bits: u32,
    /// f.
    pub frac_bits: u32,
    /// Truncation.
    pub trunc: TruncMode,
    /// The correlation provider (`dealer` or `ot`).
    pub correlations: String,
    /// The slots that compute in a small ring, and its format.
    pub small_rings: Vec<SlotRing>,
    /// Per-layer hidden-state errors.
    pub layers: Vec<LayerError>,
    /// Pooled-embedding cosine.
    pub cosine: CosineStats,
    /// Sentiment probe.
    pub probe: ProbeStats,
    /// Cost.
    pub cost: E2eCost,
    /// The distilled student's comparisons, when its weights ran.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub student: Option<StudentReport>,
    /// The party whose process printed this report, in a run apart (the server computes it and
    /// sends it to the client).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub party: Option<Role>,
}

/// A distilled student against its teacher, so that distillation error and the secure run's
/// error show apart: the plaintext student (float64, the suite's functions, the distilled
/// weights) and the undistilled replacement (the same with the teacher's weights), each to the
/// teacher, and the secure run to the plaintext student.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StudentReport {
    /// Pooled-embedding cosine, plaintext student against the teacher.
    pub student_to_teacher: CosineStats,
    /// Pooled-embedding cosine, undistilled replacement against the teacher.
    pub undistilled_to_teacher: CosineStats,
    /// Pooled-embedding cosine, secure run against the plaintext student.
    pub secure_to_student: CosineStats,
    /// The probe's accuracy on the plaintext student's embeddings.
    pub accuracy_student: f64,
    /// The probe's accuracy on the undistilled replacement's embeddings.
    pub accuracy_undistilled: f64,
}

/// A suite slot's small ring.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SlotRing {
    /// `attention` or `gelu`.
    pub slot: String,
    /// The protocol filling it.
    pub protocol: String,
    /// Its small ring and f′.
    pub ring: SmallRing,
}

/// A snippet chosen for the run, tokenised.
pub(crate) struct Sentence {
    pub(crate) id: u32,
    pub(crate) ids: Vec<u32>,
    pub(crate) label: bool,
}

fn pick(
    snippets: &[Snippet],
    tok: &Tokenizer,
    seed: u64,
    test: usize,
    train: usize,
    exclude: &[u32],
) -> Result<(Vec<Sentence>, Vec<Sentence>), E2eError> {
    let mut ok: Vec<Sentence> = snippets
        .iter()
        .filter(|s| s.rating.abs() >= 0.5)
        .map(|s| Sentence { id: s.id, ids: tok.encode(&s.text), label: s.rating > 0.0 })
        .filter(|s| s.ids.len() <= dyad_model::encoder::secure::MAX_TOKENS && !exclude.contains(&s.id))
        .collect();
    let wanted = test.saturating_add(train);
    if test == 0 || ok.len() < wanted {
        return Err(E2eError::Sentences { available: ok.len(), wanted });
    }
    ok.shuffle(&mut rand_chacha::ChaCha20Rng::seed_from_u64(seed));
    let rest = ok.split_off(test);
    Ok((ok, rest.into_iter().take(train).collect()))
}

fn pooled(h: &Array2<f64>) -> Vec<f64> {
    h.mean_axis(Axis(0)).unwrap_or_else(|| Array1::zeros(h.ncols())).to_vec()
}

fn run_error(what: &str, e: RunError<ProtocolError>) -> E2eError {
    E2eError::Run { what: what.into(), source: Box::new(e) }
}

/// Runs the suite, its slots filled from `registry`, on `spec.sentences` test sentences and the
/// probe on `spec.train` others, both parties in this process. `progress(done, total)` is called
/// after each secure sentence.
pub fn run(
    model: &Model,
    tok: &Tokenizer,
    snippets: &[Snippet],
    spec: &E2eSpec,
    registry: &Registry,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<E2eReport, E2eError> {
    let job = Job::new(model, tok, snippets, spec, registry, true)?;
    job.evaluate(model, spec, &mut Together { states: None }, progress)
}

/// What both parties of a run agree on: the sentences, the suite and its encoder, the shapes;
/// and, for the party that holds them, the weights.
pub(crate) struct Job {
    pub(crate) test: Vec<Sentence>,
    pub(crate) train: Vec<Sentence>,
    pub(crate) suite: Suite,
    pub(crate) enc: Encoder,
    pub(crate) weights: Option<EncoderWeights>,
    pub(crate) shape: ModelShape,
    pub(crate) layers: usize,
    pub(crate) small_rings: Vec<SlotRing>,
}

impl Job {
    /// The job of `spec` on `model`; with `holds_weights`, the server's encoded weights too, and
    /// the check before any secure work that the suite's reference keeps its truncations inside
    /// 2^(ℓ−2) on every test sentence (it needs the weights and the sentences both).
    pub(crate) fn new(
        model: &Model,
        tok: &Tokenizer,
        snippets: &[Snippet],
        spec: &E2eSpec,
        registry: &Registry,
        holds_weights: bool,
    ) -> Result<Job, E2eError> {
        let fx = spec.fixed;
        let (test, train) = pick(snippets, tok, spec.seed, spec.sentences, spec.train, &spec.exclude)?;
        let mut suite = spec.suite.clone();
        if let Some(l) = spec.linear {
            suite.linear = l;
        }
        let c = &model.config;
        let shape =
            ModelShape { seq: 0, hidden: c.hidden_size, heads: c.num_attention_heads, ffn: c.intermediate_size };
        let holder = spec.student.as_deref().unwrap_or(model);
        let weights = if holds_weights { Some(EncoderWeights::from_model(holder, fx)?) } else { None };
        let eps = weights.as_ref().map_or(c.layer_norm_eps, |w| w.eps);
        let enc = Encoder::new(&suite, eps, registry)
            .map_err(|e| ProtocolError::Config { protocol: "encoder", reason: e.to_string() })?;
        let small_rings = [
            ("attention", enc.attention().small_ring(fx), enc.attention().name()),
            ("gelu", enc.gelu().small_ring(fx), enc.gelu().name()),
        ]
        .into_iter()
        .filter_map(|(slot, ring, protocol)| {
            ring.map(|r| SlotRing {
                slot: slot.into(),
                protocol: protocol.into(),
                ring: SmallRing { ring_bits: r.ring().bits(), frac_bits: r.frac() },
            })
        })
        .collect();
        // The weights' layers where this party holds them (a test may cut the model short), the
        // configuration's otherwise.
        let layers = weights.as_ref().map_or(c.num_hidden_layers, |w| w.layers.len());
        let job = Job { test, train, suite, enc, weights, shape, layers, small_rings };
        if let Some(w) = &job.weights {
            let mut beyond = 0;
            for s in &job.test {
                let input = fx.encode_tensor(&model.embed(&s.ids)?.into_dyn()).map_err(ProtocolError::from)?;
                let (clear, count) = dyad_reference::domain::counted(|| reference::forward(&job.enc, fx, w, &input));
                clear?;
                beyond += count;
            }
            if beyond > 0 {
                return Err(E2eError::Domain { ring_bits: fx.ring().bits(), frac_bits: fx.frac(), count: beyond });
            }
        }
        Ok(job)
    }

    /// The setup's simulation configuration, and sentence `i`'s.
    pub(crate) fn config(spec: &E2eSpec, sentence: Option<usize>) -> SimConfig {
        let seed = sentence.map_or(spec.seed, |i| spec.seed.wrapping_add(1 + i as u64));
        SimConfig {
            correlations: spec.correlations,
            secrets: spec.secrets,
            recv_timeout: spec.recv_timeout,
            ..SimConfig::with_seed(seed)
        }
    }

    /// The encoder's setup as `p`'s role: the server with the weights.
    pub(crate) fn setup(&self, p: &mut Party, fx: FixedPoint) -> Result<PartyState, ProtocolError> {
        let weights = if p.role() == Role::Server { self.weights.as_ref() } else { None };
        self.enc.setup(p, fx, weights, &self.shape, self.layers)
    }

    /// One sentence's forward pass as `p`'s role: the client shares `input` ([k, hidden]), the
    /// server computes with the weights.
    pub(crate) fn forward(
        &self,
        p: &mut Party,
        prec: Precision,
        state: &PartyState,
        input: Option<&RingTensor>,
        k: usize,
    ) -> Result<Vec<Share>, ProtocolError> {
        let ring = prec.fixed.ring();
        let x = p.scope("input", |p| share_input(p, Role::Client, input, ring, &[k, self.shape.hidden]))?;
        let weights = if p.role() == Role::Server { self.weights.as_ref() } else { None };
        self.enc.forward(p, prec, state, weights, &self.shape, &x)
    }

    /// Runs the secure steps through `secure` and checks them against `model` in the clear.
    pub(crate) fn evaluate(
        &self,
        model: &Model,
        spec: &E2eSpec,
        secure: &mut dyn SecureSteps,
        progress: &mut dyn FnMut(usize, usize),
    ) -> Result<E2eReport, E2eError> {
        let fx = spec.fixed;
        let layers = self.layers;
        let mut cost = E2eCost { per_layer: vec![Counts::default(); layers], ..E2eCost::default() };
        if !self.suite.reference {
            cost.setup = secure.setup(self, spec)?.phase_counts(Phase::Setup);
        }
        let mut layer_err = vec![AbsErrors::default(); layers];
        let (mut secure_pooled, mut plain_pooled) = (Vec::new(), Vec::new());
        // The plaintext student and the undistilled replacement, when a student runs.
        let networks = match &spec.student {
            Some(weights) => {
                let student = Student::named(&self.suite.name).ok_or_else(|| ProtocolError::Config {
                    protocol: "e2e",
                    reason: format!("suite {} has no distilled student", self.suite.name),
                })?;
                Some((student.plaintext(weights)?, student.plaintext(model)?))
            }
            None => None,
        };
        let (mut student_pooled, mut undistilled_pooled) = (Vec::new(), Vec::new());
        let mut compute = 0.0;
        for (i, s) in self.test.iter().enumerate() {
            let trace = model.forward(&s.ids)?;
            // What each layer's secure output should be: the plaintext student's where one runs.
            let expected: Vec<Array2<f64>> = match &networks {
                Some((student, undistilled)) => {
                    let states = student.hidden_states(&trace.embeddings)?;
                    student_pooled.push(states.last().map(pooled).unwrap_or_default());
                    let plain = undistilled.hidden_states(&trace.embeddings)?;
                    undistilled_pooled.push(plain.last().map(pooled).unwrap_or_default());
                    states
                }
                None => trace.layers.iter().map(|l| l.output.clone()).collect(),
            };
            let input = fx.encode_tensor(&trace.embeddings.clone().into_dyn()).map_err(ProtocolError::from)?;
            let outputs = match &self.weights {
                Some(w) if self.suite.reference => reference::forward(&self.enc, fx, w, &input)?,
                _ => {
                    let (outputs, run) = secure.sentence(self, spec, i, &input)?;
                    let online = run.phase_counts(Phase::Online);
                    cost.online_total.add_times(&online, 1);
                    cost.dealer_bytes += run.total.dealer_bytes();
                    cost.offline_total.add_times(&run.phase_counts(Phase::Offline), 1);
                    for (l, acc) in cost.per_layer.iter_mut().enumerate() {
                        acc.add_times(&run.label_counts(Phase::Online, &format!("layer{l}")), 1);
                    }
                    compute += run.compute.server_seconds.max(run.compute.client_seconds);
                    outputs
                }
            };
            let mut last = Vec::new();
            for (l, (out, plain)) in outputs.iter().zip(&expected).enumerate() {
                let got = fx.decode_tensor(out);
                layer_err[l].extend(got.iter(), plain.iter());
                if l + 1 == layers {
                    let shape = got.shape().to_vec();
                    let rows = got.into_dimensionality::<ndarray::Ix2>().map_err(|_| ProtocolError::Dims {
                        protocol: "e2e",
                        dims: shape,
                        expected: "the last layer's output as tokens,hidden".into(),
                    })?;
                    last = pooled(&rows);
                }
            }
            secure_pooled.push(last);
            plain_pooled.push(trace.pooled.to_vec());
            progress(i + 1, self.test.len());
        }
        let n = self.test.len().max(1) as f64;
        cost.online_bytes_per_sentence = cost.online_total.bytes() as f64 / n;
        cost.online_rounds_per_sentence = cost.online_total.rounds as f64 / n;
        cost.compute_seconds_per_sentence = compute / n;

        let cosines = |a: &[Vec<f64>], b: &[Vec<f64>]| -> CosineStats {
            let each: Vec<(u32, f64)> =
                self.test.iter().zip(a.iter().zip(b)).map(|(s, (a, b))| (s.id, cosine(a, b))).collect();
            CosineStats::of(&each)
        };
        let cos = cosines(&secure_pooled, &plain_pooled);

        let train_x: Vec<Vec<f64>> =
            self.train.iter().map(|s| model.forward(&s.ids).map(|t| t.pooled.to_vec())).collect::<Result<_, _>>()?;
        let train_y: Vec<bool> = self.train.iter().map(|s| s.label).collect();
        let (probe, l2) = Probe::fit(&train_x, &train_y);
        let test_y: Vec<bool> = self.test.iter().map(|s| s.label).collect();
        let (acc_plain, acc_secure) = (probe.accuracy(&plain_pooled, &test_y), probe.accuracy(&secure_pooled, &test_y));
        let flipped =
            secure_pooled.iter().zip(&plain_pooled).filter(|(a, b)| probe.predict(a) != probe.predict(b)).count()
                as f64
                / n;

        Ok(E2eReport {
            suite: self.suite.name.clone(),
            linear: self.suite.linear,
            reference: self.suite.reference,
            ring_bits: fx.ring().bits(),
            frac_bits: fx.frac(),
            trunc: spec.trunc,
            correlations: spec.correlations.name().into(),
            small_rings: self.small_rings.clone(),
            layers: layer_err
                .into_iter()
                .enumerate()
                .map(|(layer, e)| LayerError { layer, max_abs: e.max(), mean_abs: e.mean() })
                .collect(),
            cosine: cos,
            probe: ProbeStats {
                train: self.train.len(),
                l2,
                test: self.test.len(),
                accuracy_plaintext: acc_plain,
                accuracy_secure: acc_secure,
                difference_points: 100.0 * (acc_secure - acc_plain),
                flipped,
            },
            student: networks.map(|_| StudentReport {
                student_to_teacher: cosines(&student_pooled, &plain_pooled),
                undistilled_to_teacher: cosines(&undistilled_pooled, &plain_pooled),
                secure_to_student: cosines(&secure_pooled, &student_pooled),
                accuracy_student: probe.accuracy(&student_pooled, &test_y),
                accuracy_undistilled: probe.accuracy(&undistilled_pooled, &test_y),
            }),
            cost,
            party: None,
        })
    }
}

/// Where the secure steps of a run happen: both parties in this process ([`Together`]), or the
/// server here and the client in another process (`apart::ServerSide`).
pub(crate) trait SecureSteps {
    /// The encoder's one-time setup; its cost.
    fn setup(&mut self, job: &Job, spec: &E2eSpec) -> Result<CostReport, E2eError>;
    /// Sentence `i` (its embedding output `input`): every layer's output and the cost.
    fn sentence(
        &mut self,
        job: &Job,
        spec: &E2eSpec,
        i: usize,
        input: &RingTensor,
    ) -> Result<(Vec<RingTensor>, CostReport), E2eError>;
}

/// Both parties in this process, each sentence a simulation of its own.
struct Together {
    states: Option<(PartyState, PartyState)>,
}

impl SecureSteps for Together {
    fn setup(&mut self, job: &Job, spec: &E2eSpec) -> Result<CostReport, E2eError> {
        let fx = spec.fixed;
        let out = simulate(&Job::config(spec, None), |p| job.setup(p, fx), |p| job.setup(p, fx))
            .map_err(|e| run_error("setup", e))?;
        self.states = Some((out.server, out.client));
        Ok(out.cost)
    }

    fn sentence(
        &mut self,
        job: &Job,
        spec: &E2eSpec,
        i: usize,
        input: &RingTensor,
    ) -> Result<(Vec<RingTensor>, CostReport), E2eError> {
        let prec = Precision { fixed: spec.fixed, trunc: spec.trunc };
        let Some((server, client)) = &self.states else {
            return Err(ProtocolError::Config { protocol: "e2e", reason: "a sentence before the setup".into() }.into());
        };
        let k = input.shape()[0];
        let out = simulate(
            &Job::config(spec, Some(i)),
            |p| job.forward(p, prec, server, None, k),
            |p| job.forward(p, prec, client, Some(input), k),
        )
        .map_err(|e| run_error(&format!("sentence {i}"), e))?;
        let outputs = out
            .server
            .iter()
            .zip(&out.client)
            .map(|(a, b)| Share::reconstruct(a, b))
            .collect::<Result<Vec<_>, _>>()
            .map_err(ProtocolError::from)?;
        Ok((outputs, out.cost))
    }
}

/// The report as text.
pub fn render(r: &E2eReport) -> String {
    let mut out = format!(
        "secure all-MiniLM-L6-v2, suite {} ({} linear{}), ring Z_2^{}, {} fraction bits, {} truncation, \
         correlations from {}\n\n",
        r.suite,
        r.linear.name(),
        if r.reference { ", fixed-point reference in the clear" } else { "" },
        r.ring_bits,
        r.frac_bits,
        r.trunc.name(),
        match r.correlations.as_str() {
            "dealer" => "a trusted DEALER",
            "silent" => "silent OT (Ferret) between the parties",
            _ => "OT between the parties",
        }
    );
    for s in &r.small_rings {
        out.push_str(&format!(
            "{} slot: {} in the small ring Z_2^{} with f′ = {}\n",
            s.slot, s.protocol, s.ring.ring_bits, s.ring.frac_bits
        ));
    }
    if !r.small_rings.is_empty() {
        out.push('\n');
    }
    out.push_str(if r.student.is_some() {
        "hidden-state error against the float64 plaintext student, per layer:\n"
    } else {
        "hidden-state error against the float64 model, per layer:\n"
    });
    for (l, c) in r.layers.iter().zip(r.cost.per_layer.iter().chain(std::iter::repeat(&Counts::default()))) {
        out.push_str(&format!(
            "  layer {}: max {:.3e}  mean {:.3e}   online {:.2} MB, {} rounds (all sentences)\n",
            l.layer,
            l.max_abs,
            l.mean_abs,
            c.bytes() as f64 / 1e6,
            c.rounds
        ));
    }
    out.push_str(&format!(
        "\npooled-embedding cosine against plaintext: min {:.6}  1st percentile {:.6}  median {:.6}  mean {:.6}; {} of {} below 0.999; lowest: {}\n",
        r.cosine.min,
        r.cosine.p1,
        r.cosine.median,
        r.cosine.mean,
        r.cosine.below_0_999,
        r.probe.test,
        r.cosine.worst.iter().map(|w| format!("snippet {} ({:.6})", w.id, w.cosine)).collect::<Vec<_>>().join(", ")
    ));
    let p = &r.probe;
    out.push_str(&format!(
        "sentiment probe (trained on {} plaintext embeddings, L2 {:e}; {} test sentences): plaintext {:.1}%  secure {:.1}%  difference {:+.1} points  flipped {:.1}%\n",
        p.train,
        p.l2,
        p.test,
        100.0 * p.accuracy_plaintext,
        100.0 * p.accuracy_secure,
        p.difference_points,
        100.0 * p.flipped
    ));
    if let Some(st) = &r.student {
        let line = |what: &str, c: &CosineStats| {
            format!("  {what:<36} min {:.6}  median {:.6}  mean {:.6}\n", c.min, c.median, c.mean)
        };
        out.push_str("\ndistilled student (pooled-embedding cosine):\n");
        out.push_str(&line("undistilled replacement to teacher", &st.undistilled_to_teacher));
        out.push_str(&line("plaintext student to teacher", &st.student_to_teacher));
        out.push_str(&line("secure run to plaintext student", &st.secure_to_student));
        out.push_str(&line("secure run to teacher", &r.cosine));
        out.push_str(&format!(
            "  probe accuracy: teacher {:.1}%  undistilled {:.1}%  plaintext student {:.1}%  secure student {:.1}%\n",
            100.0 * p.accuracy_plaintext,
            100.0 * st.accuracy_undistilled,
            100.0 * st.accuracy_student,
            100.0 * p.accuracy_secure
        ));
    }
    let c = &r.cost;
    out.push_str(&format!(
        "\ncost: setup {:.2} MB once; online {:.2} MB and {:.0} rounds per sentence; compute {:.2} s per sentence (larger party)\n",
        c.setup.bytes() as f64 / 1e6,
        c.online_bytes_per_sentence / 1e6,
        c.online_rounds_per_sentence,
        c.compute_seconds_per_sentence
    ));
    if c.dealer_bytes > 0 {
        out.push_str(&format!(
            "correlated randomness from a trusted DEALER: {:.2} MB in all\n",
            c.dealer_bytes as f64 / 1e6
        ));
    }
    if c.offline_total.bytes() > 0 {
        out.push_str(&format!(
            "correlated randomness generated by the parties: {:.2} MB offline in all\n",
            c.offline_total.bytes() as f64 / 1e6
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cosine_statistics_rank_the_sentences_and_name_the_lowest() {
        // 200 sentences, snippet ids 1..=200, cosine falling with the id: 200 is the lowest.
        let c = |id: u32| 1.0 - f64::from(id) * 1e-5 - 5e-6;
        let cosines: Vec<(u32, f64)> = (1..=200u32).rev().map(|id| (id, c(id))).collect();
        let s = CosineStats::of(&cosines);
        assert_eq!(s.min, c(200));
        // Nearest rank: the 1st percentile of 200 is the 2nd lowest, the median the 100th.
        assert_eq!(s.p1, c(199));
        assert_eq!(s.median, c(101));
        assert!((s.mean - (1.0 - 100.5e-5 - 5e-6)).abs() < 1e-12);
        // Ids 100 to 200 fall below 0.999.
        assert_eq!(s.below_0_999, 101);
        let ids: Vec<u32> = s.worst.iter().map(|w| w.id).collect();
        assert_eq!(ids, [200, 199, 198]);
        let one = CosineStats::of(&[(7, 0.5)]);
        assert_eq!((one.min, one.p1, one.median, one.below_0_999), (0.5, 0.5, 0.5, 1));
    }
}
