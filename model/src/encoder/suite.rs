//! Protocol suites: which registered protocol fills each slot of an encoder layer, as YAML.

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::layers::linear::LinearKind;

/// A suite.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Suite {
    /// Its name.
    pub name: String,
    /// The linear-layer protocol.
    pub linear: LinearKind,
    /// The registered attention function (the Softmax slot).
    pub attention: String,
    /// The registered GELU (or its replacement).
    pub gelu: String,
    /// Run the fixed-point references in the clear instead of the protocols.
    #[serde(default)]
    pub reference: bool,
}

/// A suite file that cannot be used.
#[derive(Debug, Error)]
pub enum SuiteError {
    /// Unknown built-in name and no such file.
    #[error(
        "{0:?} is neither a built-in suite (nimbus, bumblebee, freediv-softmax, freediv-2quad, plaintext-fixed) nor a readable file: {1}"
    )]
    Unknown(String, String),
    /// Malformed YAML.
    #[error("{file}: expected name, linear (cop|sip|dealer), attention, gelu, optional reference: {reason}")]
    Parse {
        /// The file.
        file: String,
        /// Why.
        reason: String,
    },
    /// A slot names a protocol that cannot fill it.
    #[error("suite {suite}: slot {slot}: {reason}")]
    Slot {
        /// The suite.
        suite: String,
        /// The slot.
        slot: &'static str,
        /// Why.
        reason: String,
    },
}

const BUILTIN: [(&str, &str); 5] = [
    ("nimbus", include_str!("../../suites/nimbus.yaml")),
    ("bumblebee", include_str!("../../suites/bumblebee.yaml")),
    ("freediv-softmax", include_str!("../../suites/freediv-softmax.yaml")),
    ("freediv-2quad", include_str!("../../suites/freediv-2quad.yaml")),
    ("plaintext-fixed", include_str!("../../suites/plaintext-fixed.yaml")),
];

impl Suite {
    /// Parses a suite's YAML.
    pub fn from_yaml(text: &str, file: &str) -> Result<Self, SuiteError> {
        serde_saphyr::from_str(text).map_err(|e| SuiteError::Parse { file: file.into(), reason: e.to_string() })
    }

    /// A built-in suite by name, or a suite file by path.
    pub fn named(name: &str) -> Result<Self, SuiteError> {
        if let Some((_, text)) = BUILTIN.iter().find(|(n, _)| *n == name) {
            return Self::from_yaml(text, &format!("model/suites/{name}.yaml"));
        }
        let text = std::fs::read_to_string(name).map_err(|e| SuiteError::Unknown(name.into(), e.to_string()))?;
        Self::from_yaml(&text, name)
    }

    /// Every built-in suite.
    pub fn builtins() -> Result<Vec<Self>, SuiteError> {
        BUILTIN.iter().map(|(n, _)| Self::named(n)).collect()
    }
}
