//! What the row-wise freeDiv functions share: the public constant that replaces a row's
//! normaliser, and the row shape of their inputs.

use crate::error::ProtocolError;

/// The public constant that replaces a row's normaliser.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum RowScale {
    /// 1/n for rows of n keys.
    InverseKeys,
    /// 1/(n·c²) for rows of n keys (2Quad with shift c).
    InverseKeysShift,
    /// A fixed constant.
    Constant(f64),
}

impl RowScale {
    /// The constant for rows of `n` keys and shift `c`.
    pub fn value(self, n: usize, c: f64) -> f64 {
        match self {
            RowScale::InverseKeys => 1.0 / n as f64,
            RowScale::InverseKeysShift => 1.0 / (n as f64 * c * c),
            RowScale::Constant(k) => k,
        }
    }
}

/// The row length of `rows,n` dimensions; an error for any other.
pub(crate) fn rows_dims(protocol: &'static str, dims: &[usize]) -> Result<usize, ProtocolError> {
    match dims {
        [rows, n] if *rows > 0 && *n > 0 => Ok(*n),
        _ => Err(ProtocolError::Dims { protocol, dims: dims.to_vec(), expected: "rows,n".into() }),
    }
}
