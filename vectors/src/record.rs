//! The recorder: per layer and kind, a histogram, a uniform sample of values and a uniform
//! sample of whole rows, from the activations of a model on a seeded choice of sentences.
//!
//! It knows nothing of the model: the caller runs the forward pass and hands over, per sentence,
//! each layer's activations as float64 arrays ([`LayerActivations`]). Everything it keeps is a
//! function of the seed and of those arrays in the order given, so recording the same sentences
//! from the same seed gives the same files, bit for bit.

use std::path::Path;

use ndarray::{ArrayView1, ArrayView2, ArrayView3, Axis};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

use crate::error::VectorsError;
use crate::kind::Kind;
use crate::manifest::{
    FORMAT, FileEntry, HIST_COUNTS, HIST_EDGES, KindEntry, LayerEntry, MANIFEST_FILE, Manifest, ModelInfo, POOLED,
    ROW_LENGTHS, ROW_ORIGIN, ROW_VALUES, RecordingInfo, SAMPLES, SentenceInfo, tensor_name,
};
use crate::snippets::below;
use crate::stats::{HistogramBuilder, Moments, RowMoments};
use crate::tensors::{Tensor, serialize, sha256_hex};

/// Samples kept per layer and kind unless asked otherwise.
pub const DEFAULT_SAMPLES: usize = 32_768;

/// Rows kept per layer and kind unless asked otherwise: a few hundred whole rows.
pub const DEFAULT_ROWS: usize = 256;

/// The histogram bin width of each kind: a power of two (so that every edge is exact), fine
/// enough for the bulk of the values and coarse enough for the outliers' range.
pub fn bin_width(kind: Kind) -> f64 {
    match kind {
        Kind::GeluInput => 1.0 / 64.0,
        Kind::SoftmaxInput => 1.0 / 32.0,
        Kind::LayerNormAttention | Kind::LayerNormFfn | Kind::Hidden => 1.0 / 16.0,
    }
}

/// How to record (which sentences is the caller's choice, by [`crate::select`] from the same
/// seed).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecordSpec {
    /// The seed of the choice of sentences, samples and rows.
    pub seed: u64,
    /// Samples to keep per layer and kind.
    pub samples: usize,
    /// Rows to keep per layer and kind with rows.
    pub rows: usize,
}

/// One layer's activations on one sentence of n tokens.
#[derive(Clone, Copy, Debug)]
pub struct LayerActivations<'a> {
    /// The scores entering Softmax, [heads, n, n].
    pub scores: ArrayView3<'a, f64>,
    /// The input of the attention LayerNorm, [n, hidden].
    pub attention_residual: ArrayView2<'a, f64>,
    /// The GELU input, [n, intermediate].
    pub gelu_input: ArrayView2<'a, f64>,
    /// The input of the feed-forward LayerNorm, [n, hidden].
    pub ffn_residual: ArrayView2<'a, f64>,
    /// The layer's output hidden state, [n, hidden].
    pub hidden: ArrayView2<'a, f64>,
}

/// Where the sentences come from, for the manifest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SentenceSource {
    /// A description of the source (package, archive, file).
    pub source: String,
    /// The sha256 of the source file.
    pub sha256: String,
    /// How many sentences it holds.
    pub available: usize,
}

/// A uniform sample without replacement of a stream of items (Vitter's algorithm R), drawing
/// from raw ChaCha20 output. Items are built only when kept.
#[derive(Clone, Debug)]
struct Reservoir<T> {
    capacity: usize,
    seen: u64,
    items: Vec<T>,
    rng: ChaCha20Rng,
}

impl<T> Reservoir<T> {
    fn new(capacity: usize, seed: u64, stream: u64) -> Reservoir<T> {
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        rng.set_stream(stream);
        Reservoir { capacity, seen: 0, items: Vec::new(), rng }
    }

    fn offer(&mut self, make: impl FnOnce() -> T) {
        if self.items.len() < self.capacity {
            self.items.push(make());
        } else {
            let j = below(&mut self.rng, self.seen + 1);
            if let Some(slot) = usize::try_from(j).ok().and_then(|j| self.items.get_mut(j)) {
                *slot = make();
            }
        }
        self.seen += 1;
    }
}

/// Where a kept row comes from: sentence position, head, token.
type Origin = [u32; 3];

/// Everything kept of one kind in one layer.
#[derive(Clone, Debug)]
struct KindRecorder {
    kind: Kind,
    moments: Moments,
    histogram: HistogramBuilder,
    samples: Reservoir<f64>,
    row_moments: RowMoments,
    rows: Reservoir<(Origin, Vec<f64>)>,
}

impl KindRecorder {
    fn new(spec: &RecordSpec, layer: usize, kind_index: usize, kind: Kind) -> KindRecorder {
        // Stream 0 chose the sentences; each layer and kind has two streams of its own.
        let stream = 1 + 2 * (layer * Kind::ALL.len() + kind_index) as u64;
        KindRecorder {
            kind,
            moments: Moments::new(),
            histogram: HistogramBuilder::new(bin_width(kind)),
            samples: Reservoir::new(spec.samples, spec.seed, stream),
            row_moments: RowMoments::new(),
            rows: Reservoir::new(if kind.has_rows() { spec.rows } else { 0 }, spec.seed, stream + 1),
        }
    }

    fn value(&mut self, x: f64) {
        self.moments.push(x);
        self.histogram.push(x);
        self.samples.offer(|| x);
    }

    /// A row, recorded whole, whose values are also recorded one by one.
    fn row(&mut self, origin: Origin, row: ArrayView1<'_, f64>) {
        let values: Vec<f64> = row.to_vec();
        values.iter().for_each(|&x| self.value(x));
        self.row_moments.push(&values);
        self.rows.offer(|| (origin, values));
    }

    /// A Softmax row: the histogram and samples see x − max(row), the row is kept as given.
    fn softmax_row(&mut self, origin: Origin, row: ArrayView1<'_, f64>) {
        let values: Vec<f64> = row.to_vec();
        let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        values.iter().for_each(|&x| self.value(x - max));
        self.row_moments.push(&values);
        self.rows.offer(|| (origin, values));
    }

    /// The kind's manifest entry and tensors.
    fn finish(self) -> Result<(KindEntry, Vec<(String, Tensor)>), VectorsError> {
        let kind = self.kind;
        let values = self
            .moments
            .stats()
            .ok_or(VectorsError::Spec { field: "sentences", message: format!("no {kind} value was recorded") })?;
        let histogram = self.histogram.finish();
        let name = |part: &str| tensor_name(kind, part);
        let mut tensors = vec![
            (name(HIST_EDGES), Tensor::f64(vec![histogram.edges.len()], &histogram.edges)),
            (name(HIST_COUNTS), Tensor::u64(vec![histogram.counts.len()], &histogram.counts)),
            (name(SAMPLES), Tensor::f32(vec![self.samples.items.len()], &self.samples.items)),
        ];
        let mut kept = self.rows.items;
        kept.sort_by_key(|a| a.0);
        let rows = if kind.has_rows() { self.row_moments.stats() } else { None };
        if rows.is_some() {
            let lengths: Vec<u32> = kept.iter().map(|(_, r)| r.len() as u32).collect();
            let origins: Vec<u32> = kept.iter().flat_map(|(o, _)| *o).collect();
            let flat: Vec<f64> = kept.iter().flat_map(|(_, r)| r.iter().copied()).collect();
            tensors.push((name(ROW_VALUES), Tensor::f32(vec![flat.len()], &flat)));
            tensors.push((name(ROW_LENGTHS), Tensor::u32(vec![lengths.len()], &lengths)));
            tensors.push((name(ROW_ORIGIN), Tensor::u32(vec![kept.len(), 3], &origins)));
        }
        let entry = KindEntry {
            kind,
            bin_width: bin_width(kind),
            values,
            kept_rows: if rows.is_some() { kept.len() } else { 0 },
            rows,
            samples: self.samples.items.len(),
        };
        Ok((entry, tensors))
    }
}

/// Records activations sentence by sentence, then writes the vector set.
#[derive(Clone, Debug)]
pub struct Recorder {
    spec: RecordSpec,
    model: ModelInfo,
    /// Per layer, per kind in the order of [`Kind::ALL`].
    kinds: Vec<Vec<KindRecorder>>,
    pooled: Vec<f64>,
    ids: Vec<u32>,
    tokens: u64,
    min_tokens: usize,
    max_tokens: usize,
}

impl Recorder {
    /// A recorder for activations of `model` (its shape is checked on every sentence).
    pub fn new(spec: RecordSpec, model: ModelInfo) -> Result<Recorder, VectorsError> {
        for (field, value) in [("samples", spec.samples), ("rows", spec.rows)] {
            if value == 0 {
                return Err(VectorsError::Spec { field, message: "must be at least 1".into() });
            }
        }
        let kinds = (0..model.layers)
            .map(|layer| Kind::ALL.iter().enumerate().map(|(i, &k)| KindRecorder::new(&spec, layer, i, k)).collect())
            .collect();
        Ok(Recorder {
            spec,
            model,
            kinds,
            pooled: Vec::new(),
            ids: Vec::new(),
            tokens: 0,
            min_tokens: usize::MAX,
            max_tokens: 0,
        })
    }

    /// Records sentence `id` (ids must increase from call to call): every layer's activations,
    /// first to last, and the mean-pooled final hidden state.
    pub fn add(
        &mut self,
        id: u32,
        layers: &[LayerActivations<'_>],
        pooled: ArrayView1<'_, f64>,
    ) -> Result<(), VectorsError> {
        let fail = |layer: usize, message: String| VectorsError::Activation { id, layer, message };
        if let Some(&last) = self.ids.last()
            && id <= last
        {
            return Err(fail(0, format!("ids must increase, and {id} comes after {last}")));
        }
        if layers.len() != self.model.layers {
            return Err(fail(0, format!("{} layers given, the model has {}", layers.len(), self.model.layers)));
        }
        let n = layers.first().map_or(0, |a| a.gelu_input.nrows());
        if n == 0 {
            return Err(fail(0, "no token".into()));
        }
        let m = &self.model;
        for (l, a) in layers.iter().enumerate() {
            let shapes = [
                ("scores", a.scores.shape(), vec![m.heads, n, n]),
                ("attention_residual", a.attention_residual.shape(), vec![n, m.hidden]),
                ("gelu_input", a.gelu_input.shape(), vec![n, m.intermediate]),
                ("ffn_residual", a.ffn_residual.shape(), vec![n, m.hidden]),
                ("hidden", a.hidden.shape(), vec![n, m.hidden]),
            ];
            for (name, got, want) in shapes {
                if got != want.as_slice() {
                    return Err(fail(l, format!("{name} has shape {got:?}, expected {want:?}")));
                }
            }
            let finite = a.scores.iter().all(|v| v.is_finite())
                && [a.attention_residual, a.gelu_input, a.ffn_residual, a.hidden]
                    .iter()
                    .all(|x| x.iter().all(|v| v.is_finite()));
            if !finite {
                return Err(fail(l, "holds NaN or an infinity".into()));
            }
        }
        if pooled.len() != m.hidden || !pooled.iter().all(|v| v.is_finite()) {
            return Err(fail(m.layers, format!("the pooled state must be {} finite values", m.hidden)));
        }
        let position = u32::try_from(self.ids.len()).map_err(|_| fail(0, "too many sentences".into()))?;
        for (a, recorders) in layers.iter().zip(self.kinds.iter_mut()) {
            for r in recorders.iter_mut() {
                match r.kind {
                    Kind::SoftmaxInput => {
                        for (head, scores) in a.scores.axis_iter(Axis(0)).enumerate() {
                            for (token, row) in scores.axis_iter(Axis(0)).enumerate() {
                                r.softmax_row([position, head as u32, token as u32], row);
                            }
                        }
                    }
                    Kind::GeluInput => a.gelu_input.iter().for_each(|&x| r.value(x)),
                    Kind::LayerNormAttention | Kind::LayerNormFfn | Kind::Hidden => {
                        let x = match r.kind {
                            Kind::LayerNormAttention => a.attention_residual,
                            Kind::LayerNormFfn => a.ffn_residual,
                            _ => a.hidden,
                        };
                        for (token, row) in x.axis_iter(Axis(0)).enumerate() {
                            r.row([position, 0, token as u32], row);
                        }
                    }
                }
            }
        }
        self.pooled.extend(pooled.iter());
        self.ids.push(id);
        self.tokens += n as u64;
        self.min_tokens = self.min_tokens.min(n);
        self.max_tokens = self.max_tokens.max(n);
        Ok(())
    }

    /// Number of sentences recorded so far.
    pub fn sentences(&self) -> usize {
        self.ids.len()
    }

    /// Writes the data files and `manifest.yaml` into `dir` (created if needed) and returns the
    /// manifest.
    pub fn finish(self, dir: &Path, source: SentenceSource) -> Result<Manifest, VectorsError> {
        if self.ids.is_empty() {
            return Err(VectorsError::Spec { field: "sentences", message: "no sentence was recorded".into() });
        }
        std::fs::create_dir_all(dir).map_err(|source| VectorsError::Io {
            path: dir.into(),
            field: "output".into(),
            action: "cannot create the directory",
            source,
        })?;
        let mut files = Vec::new();
        let mut layers = Vec::new();
        for (layer, recorders) in self.kinds.into_iter().enumerate() {
            let mut kinds = Vec::new();
            let mut tensors = Vec::new();
            for r in recorders {
                let (entry, t) = r.finish()?;
                kinds.push(entry);
                tensors.extend(t);
            }
            let file = format!("layer{layer}.safetensors");
            files.push(write(dir, &file, &tensors)?);
            layers.push(LayerEntry { layer, file, kinds });
        }
        let pooled_file = "pooled.safetensors".to_string();
        let pooled = vec![(POOLED.to_string(), Tensor::f32(vec![self.ids.len(), self.model.hidden], &self.pooled))];
        files.push(write(dir, &pooled_file, &pooled)?);
        let manifest = Manifest {
            format: FORMAT.into(),
            model: self.model,
            sentences: SentenceInfo {
                source: source.source,
                sha256: source.sha256,
                available: source.available,
                ids: self.ids,
                tokens: self.tokens,
                min_tokens: self.min_tokens,
                max_tokens: self.max_tokens,
            },
            recording: RecordingInfo {
                seed: self.spec.seed,
                samples: self.spec.samples,
                rows: self.spec.rows,
                recorder: "dyad vectors record".into(),
            },
            layers,
            pooled: pooled_file,
            files,
        };
        let path = dir.join(MANIFEST_FILE);
        let yaml = manifest.to_yaml(&path)?;
        // What is written must read back: the same checks as the loader's.
        Manifest::parse(&yaml, &path)?;
        std::fs::write(&path, yaml).map_err(|source| VectorsError::Io {
            path,
            field: "output".into(),
            action: "cannot write",
            source,
        })?;
        Ok(manifest)
    }
}

/// Writes one data file and returns its manifest entry.
fn write(dir: &Path, name: &str, tensors: &[(String, Tensor)]) -> Result<FileEntry, VectorsError> {
    let path = dir.join(name);
    let (bytes, entries) = serialize(tensors, &path)?;
    std::fs::write(&path, &bytes).map_err(|source| VectorsError::Io {
        path,
        field: "output".into(),
        action: "cannot write",
        source,
    })?;
    Ok(FileEntry { path: name.into(), sha256: sha256_hex(&bytes), bytes: bytes.len() as u64, tensors: entries })
}
