//! Dyad's accuracy checks, on recorded activations and on real sentences:
//!
//! - [`audit`]: every protocol with an activation kind, run inside the simulator on the recorded
//!   activations of a real BERT, layer by layer; rendered as a table ([`render`]) or SVG plots
//!   ([`plot`]);
//! - [`fit`]: distribution-aware fitting of piecewise polynomials (after Nimbus), on the weighted
//!   points of [`points`];
//! - [`e2e`]: the secure MiniLM end to end, with its sentiment probe (`dyad_model::probe`).
//!
//! It may import `dyad-vectors`, `dyad-sim`, `dyad-reference`, `dyad-protocols` and `dyad-model`;
//! only the cost report and the command line sit above it.

pub mod audit;
pub mod e2e;
pub mod fit;
pub mod leakage;
pub mod plot;
pub mod points;
pub mod render;

pub use audit::{AuditEntry, AuditError, AuditReport, AuditSpec, audit};
