//! Why a vector set could not be read, checked or written.

use std::path::PathBuf;

use thiserror::Error;

use crate::kind::Kind;

/// A failure of the loader, the recorder or the snippet reader. Every error about a file names
/// the file and the field (a manifest path such as `files[2].sha256`, or a tensor name).
#[derive(Debug, Error)]
pub enum VectorsError {
    /// A file named by the manifest (or the manifest itself) is absent.
    #[error("{}: missing (named by {field})", path.display())]
    MissingFile {
        /// The absent file.
        path: PathBuf,
        /// The manifest field that names it (`manifest` for the manifest itself).
        field: String,
    },
    /// A file could not be read or written.
    #[error("{}: {action} ({field}): {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The manifest field that names it (`manifest`, `files[2].path`, `snippets`), or
        /// `output` for what the recorder writes.
        field: String,
        /// What was attempted.
        action: &'static str,
        /// What the operating system said.
        source: std::io::Error,
    },
    /// The manifest is not valid YAML, lacks a field, or holds a value out of its domain.
    #[error("{}: malformed manifest: field {field}: {message}", path.display())]
    Manifest {
        /// The manifest.
        path: PathBuf,
        /// The field (a path such as `layers[3].kinds[1].bin_width`; `document` when the YAML
        /// itself does not parse).
        field: String,
        /// What is wrong.
        message: String,
    },
    /// A data file's sha256 differs from the manifest's.
    #[error("{}: sha256 is {actual}, but {field} says {expected}", path.display())]
    Checksum {
        /// The data file.
        path: PathBuf,
        /// The manifest field holding the expected digest.
        field: String,
        /// The digest in the manifest.
        expected: String,
        /// The digest of the file.
        actual: String,
    },
    /// A data file is not a valid safetensors file.
    #[error("{}: not a safetensors file ({field}): {message}", path.display())]
    Safetensors {
        /// The data file.
        path: PathBuf,
        /// The manifest entry that names it (`files[2]`), or `output` when the recorder could
        /// not write it.
        field: String,
        /// The parser's message.
        message: String,
    },
    /// A tensor listed by the manifest is absent from its file, or the file holds one the
    /// manifest does not list.
    #[error("{}: tensor {tensor}: {message}", path.display())]
    Tensor {
        /// The data file.
        path: PathBuf,
        /// The tensor's name.
        tensor: String,
        /// What is wrong.
        message: String,
    },
    /// A tensor's shape or element type differs from what the manifest implies.
    #[error("{}: tensor {tensor} has {what} {actual}, expected {expected}", path.display())]
    Shape {
        /// The data file.
        path: PathBuf,
        /// The tensor's name.
        tensor: String,
        /// `shape` or `dtype`.
        what: &'static str,
        /// What the manifest implies.
        expected: String,
        /// What the file holds.
        actual: String,
    },
    /// A tensor's contents contradict the manifest or the format (a histogram whose counts do not
    /// add up, row lengths that do not cover the values, …).
    #[error("{}: tensor {tensor}: {message}", path.display())]
    Content {
        /// The data file.
        path: PathBuf,
        /// The tensor's name.
        tensor: String,
        /// What is wrong.
        message: String,
    },
    /// A layer index past the last layer.
    #[error("layer {layer} does not exist: the set has {layers} layers")]
    Layer {
        /// The index asked for.
        layer: usize,
        /// The number of layers.
        layers: usize,
    },
    /// Rows were asked of a kind that records none (GELU inputs are elementwise).
    #[error("{kind} records no rows: it is an elementwise input; use its samples or histogram")]
    NoRows {
        /// The kind.
        kind: Kind,
    },
    /// The snippets file has a malformed line.
    #[error("{}: line {line}: field {field}: {message}", path.display())]
    Snippets {
        /// The snippets file.
        path: PathBuf,
        /// The 1-based line.
        line: usize,
        /// `id`, `rating` or `text`.
        field: &'static str,
        /// What is wrong.
        message: String,
    },
    /// A recording parameter is out of its domain.
    #[error("recording parameter {field}: {message}")]
    Spec {
        /// The parameter.
        field: &'static str,
        /// What is wrong.
        message: String,
    },
    /// The activations given to the recorder do not have the model's shapes, or hold NaN or an
    /// infinity.
    #[error("activations of snippet {id}, layer {layer}: {message}")]
    Activation {
        /// The snippet's id.
        id: u32,
        /// The layer.
        layer: usize,
        /// What is wrong.
        message: String,
    },
}
