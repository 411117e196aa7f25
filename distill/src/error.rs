//! Why distillation fails.

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
}
