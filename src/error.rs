//! Why a command failed, and its exit code.

use dyad_protocols::HarnessError;
use thiserror::Error;

/// Why a command failed.
#[derive(Debug, Error)]
pub(crate) enum CliError {
    /// Bad usage or input: exit code 2.
    #[error("{0}")]
    Usage(String),
    /// The protocol failed while running: exit code 1.
    #[error("{0}")]
    Failed(String),
}

impl CliError {
    /// Bad usage or input, with the message of `e` (which names the file, field or value).
    pub(crate) fn usage(e: impl std::fmt::Display) -> Self {
        CliError::Usage(e.to_string())
    }

    /// The process exit code.
    pub(crate) fn exit_code(&self) -> u8 {
        match self {
            CliError::Usage(_) => 2,
            CliError::Failed(_) => 1,
        }
    }
}

impl From<HarnessError> for CliError {
    fn from(e: HarnessError) -> Self {
        // A correlation the chosen provider cannot serve is a choice of flags, not a failure.
        if e.unsupported_correlation().is_some() {
            return CliError::Usage(e.to_string());
        }
        match e {
            HarnessError::Run(_) | HarnessError::Inconsistent { .. } | HarnessError::Peer { .. } => {
                CliError::Failed(e.to_string())
            }
            _ => CliError::Usage(e.to_string()),
        }
    }
}
