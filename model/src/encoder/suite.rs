//! Protocol suites: which registered protocol fills each slot of an encoder layer, as YAML.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use thiserror::Error;

use dyad_protocols::blocks::activation::AttentionFunction;
use dyad_protocols::protocol::{Activation, Protocol};

use crate::layers::linear::LinearKind;
use crate::registry::Registry;

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

/// A suite's slots, filled with registered protocols.
#[derive(Clone)]
pub struct Slots {
    /// The attention function.
    pub attention: Arc<dyn AttentionFunction>,
    /// The GELU (or its replacement).
    pub gelu: Arc<dyn Protocol>,
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

const BUILTIN: [(&str, &str); 6] = [
    ("nimbus", include_str!("../../suites/nimbus.yaml")),
    ("nimbus-small", include_str!("../../suites/nimbus-small.yaml")),
    ("bumblebee", include_str!("../../suites/bumblebee.yaml")),
    ("freediv-softmax", include_str!("../../suites/freediv-softmax.yaml")),
    ("freediv-2quad", include_str!("../../suites/freediv-2quad.yaml")),
    ("plaintext-fixed", include_str!("../../suites/plaintext-fixed.yaml")),
];

impl Suite {
    /// Parses a suite's YAML.
    pub fn from_yaml(text: &str, file: &str) -> Result<Self, SuiteError> {
        serde_saphyr::from_str(text)
            .map_err(|e| SuiteError::Parse { file: file.into(), reason: dyad_sim::file::yaml_error(&e, file) })
    }

    /// A built-in suite by name, or a suite file by path.
    pub fn named(name: &str) -> Result<Self, SuiteError> {
        if let Some((_, text)) = BUILTIN.iter().find(|(n, _)| *n == name) {
            return Self::from_yaml(text, &format!("model/suites/{name}.yaml"));
        }
        let text = std::fs::read_to_string(name).map_err(|e| SuiteError::Unknown(name.into(), e.to_string()))?;
        Self::from_yaml(&text, name)
    }

    /// The suite's attention function and GELU, resolved in `registry`; an error naming the slot
    /// when a name is unknown or of the wrong kind.
    pub fn resolve(&self, registry: &Registry) -> Result<Slots, SuiteError> {
        let slot_err = |slot: &'static str, reason: String| SuiteError::Slot { suite: self.name.clone(), slot, reason };
        let attention = registry.attention(&self.attention).map_err(|e| slot_err("attention", e.to_string()))?;
        let gelu = registry.get(&self.gelu).map_err(|e| slot_err("gelu", e.to_string()))?;
        if gelu.activation() != Some(Activation::Gelu) {
            return Err(slot_err("gelu", format!("{} is not a GELU", self.gelu)));
        }
        Ok(Slots { attention, gelu })
    }

    /// Every built-in suite.
    pub fn builtins() -> Result<Vec<Self>, SuiteError> {
        BUILTIN.iter().map(|(n, _)| Self::named(n)).collect()
    }
}
