//! Printing a report in the format asked for.

use std::io::Write;

use crate::args::Format;
use crate::error::CliError;

/// Prints `value` as JSON or YAML, or the `table` rendering of it.
pub(crate) fn emit<T: serde::Serialize>(
    format: Format,
    value: &T,
    table: impl FnOnce() -> String,
) -> Result<(), CliError> {
    let text = match format {
        Format::Table => table(),
        Format::Json => serde_json::to_string_pretty(value).map_err(|e| CliError::Failed(e.to_string()))? + "\n",
        Format::Yaml => serde_saphyr::to_string(value).map_err(|e| CliError::Failed(e.to_string()))?,
    };
    std::io::stdout().write_all(text.as_bytes()).map_err(|e| CliError::Failed(format!("cannot write to stdout: {e}")))
}
