//! Input files for `dyad run --input`.

use std::path::{Path, PathBuf};

use ndarray::{ArrayD, IxDyn};
use serde::Deserialize;
use thiserror::Error;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct InputFile {
    inputs: Vec<TensorEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
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

/// The most values an input file may hold: a BERT-large activation of 512 tokens × 1024 is
/// 524,288, four times that fits.
pub(crate) const MAX_VALUES: usize = 1 << 21;

/// Loads the real tensors of an input file (JSON when it ends in `.json`, YAML otherwise): a
/// regular file of up to [`MAX_VALUES`] values (the YAML parser's node budget is raised to match;
/// its default of 250,000 nodes would refuse a 512 × 768 input).
pub(crate) fn load(path: &Path) -> Result<Vec<ArrayD<f64>>, InputError> {
    // A decimal value takes at least 2 bytes ("0,"); 32 per value is generous for any format.
    let text = dyad_sim::file::read_regular_text(path, 32 * MAX_VALUES as u64)
        .map_err(|source| InputError::Read { path: path.into(), source })?;
    parse(&text, path, path.extension().is_some_and(|e| e == "json"))
}

/// The real tensors of an input file's text (JSON when `json`, YAML otherwise); `path` names it
/// in errors.
pub(crate) fn parse(text: &str, path: &Path, json: bool) -> Result<Vec<ArrayD<f64>>, InputError> {
    let parsed: InputFile = if json {
        serde_json::from_str(text).map_err(|e| InputError::Parse { path: path.into(), reason: e.to_string() })?
    } else {
        let mut budget = serde_saphyr::Budget::default();
        budget.max_nodes = 2 * MAX_VALUES;
        budget.max_events = 4 * MAX_VALUES;
        let mut options = serde_saphyr::Options::default();
        options.budget = Some(budget);
        serde_saphyr::from_str_with_options(text, options).map_err(|e| InputError::Parse {
            path: path.into(),
            reason: dyad_sim::file::yaml_error(&e, &path.display().to_string()),
        })?
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

#[cfg(test)]
mod tests {
    use super::*;
    use dyad_sim::strategy::{byte_edits, mutate};
    use proptest::prelude::*;
    use proptest::test_runner::TestRunner;

    const GOOD: &str = "inputs:\n  - shape: [2, 3]\n    data: [0.5, -1.0, 2.0, 0.0, 1.5, -0.25]\n  - shape: [3]\n    data: [1, 2, 3]\n";

    /// Input files (YAML and JSON): mutated valid files and garbage give tensors or a typed error
    /// naming the file, never a panic or a hang.
    #[test]
    fn fuzz_input_files_give_tensors_or_typed_errors() {
        let path = Path::new("fuzz.yaml");
        assert_eq!(parse(GOOD, path, false).map(|t| t.len()).unwrap_or(0), 2);
        let json = r#"{"inputs": [{"shape": [2], "data": [0.5, 1.0]}]}"#;
        assert_eq!(parse(json, path, true).map(|t| t.len()).unwrap_or(0), 1);
        let mut runner = TestRunner::new(dyad_sim::testkit::fuzz_config(0x5eed_0101, 2048));
        let cases = prop_oneof![
            byte_edits(GOOD.len(), 8).prop_map(|e| (mutate(GOOD.as_bytes(), &e), false)),
            byte_edits(json.len(), 8).prop_map(move |e| (mutate(json.as_bytes(), &e), true)),
            any::<Vec<u8>>().prop_map(|b| (b, false)),
        ];
        runner
            .run(&cases, |(bytes, json)| {
                let text = String::from_utf8_lossy(&bytes);
                if let Err(e) = parse(&text, path, json) {
                    prop_assert!(e.to_string().starts_with("fuzz.yaml"), "{e}");
                }
                Ok(())
            })
            .unwrap_or_else(|e| panic!("{e}"));
    }
}
