//! Input files for `dyad run --input`.

use std::path::{Path, PathBuf};

use ndarray::{ArrayD, IxDyn};
use serde::Deserialize;
use thiserror::Error;

#[derive(Deserialize)]
struct InputFile {
    inputs: Vec<TensorEntry>,
}

#[derive(Deserialize)]
struct TensorEntry {
    shape: Vec<usize>,
    data: Vec<f64>,
}

/// A bad input file.
#[derive(Debug, Error)]
pub(crate) enum InputError {
    /// The file could not be read.
    #[error("{path}: cannot read: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not valid JSON/YAML of the expected form.
    #[error("{path}: expected `inputs: [{{shape: [...], data: [...]}}, ...]`: {reason}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// The parser's message.
        reason: String,
    },
    /// A tensor whose data does not fill its shape.
    #[error("{path}: inputs[{index}].data has {got} values but shape {shape:?} needs {expected}")]
    Size {
        /// The file.
        path: PathBuf,
        /// Which input.
        index: usize,
        /// Its shape.
        shape: Vec<usize>,
        /// Values needed.
        expected: usize,
        /// Values given.
        got: usize,
    },
}

/// Loads the real tensors of an input file (JSON when it ends in `.json`, YAML otherwise).
pub(crate) fn load(path: &Path) -> Result<Vec<ArrayD<f64>>, InputError> {
    let text = std::fs::read_to_string(path).map_err(|source| InputError::Read { path: path.into(), source })?;
    let parsed: InputFile = if path.extension().is_some_and(|e| e == "json") {
        serde_json::from_str(&text).map_err(|e| InputError::Parse { path: path.into(), reason: e.to_string() })?
    } else {
        serde_saphyr::from_str(&text).map_err(|e| InputError::Parse { path: path.into(), reason: e.to_string() })?
    };
    parsed
        .inputs
        .into_iter()
        .enumerate()
        .map(|(index, t)| {
            let expected =
                t.shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d)).ok_or_else(|| InputError::Parse {
                    path: path.into(),
                    reason: format!("inputs[{index}].shape {:?} has more elements than memory can address", t.shape),
                })?;
            let got = t.data.len();
            ArrayD::from_shape_vec(IxDyn(&t.shape), t.data).map_err(|_| InputError::Size {
                path: path.into(),
                index,
                shape: t.shape.clone(),
                expected,
                got,
            })
        })
        .collect()
}
