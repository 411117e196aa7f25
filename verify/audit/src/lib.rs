//! Dyad's accuracy audit: every protocol with an activation kind, run inside the simulator on
//! the recorded activations of a real BERT model, layer by layer ([`audit`]), rendered as a table
//! ([`render`]) or SVG plots ([`plot`]); and the weighted points the distribution-aware fitter
//! works on ([`points`]); and the secure MiniLM end to end with its sentiment probe ([`e2e`],
//! [`probe`]).

pub mod audit;
pub mod e2e;
pub mod plot;
pub mod points;
pub mod probe;
pub mod render;

pub use audit::{AuditEntry, AuditError, AuditReport, AuditSpec, audit};
