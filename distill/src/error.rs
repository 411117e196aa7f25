//! Why distillation fails.

use std::path::PathBuf;

use dyad_model::bert::BertError;
use thiserror::Error;

/// A failure of the distillation network.
#[derive(Debug, Error)]
pub enum DistillError {
    /// A tensor operation failed (a shape or dtype the network did not expect).
    #[error("tensor: {0}")]
    Tensor(#[from] candle_core::Error),
    /// A network or input of a shape distillation cannot use.
    #[error("shape: {0}")]
    Shape(String),
    /// The teacher's forward pass failed.
    #[error(transparent)]
    Bert(#[from] BertError),
    /// A file of the output could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The failure.
        source: std::io::Error,
    },
    /// A student's manifest is not one this version reads.
    #[error("{}: {reason}", path.display())]
    Manifest {
        /// The manifest.
        path: PathBuf,
        /// What is wrong, naming the field.
        reason: String,
    },
}
