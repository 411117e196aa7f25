//! Distillation of MPC-friendly BERT students, for freeDiv's accuracy claim (Liu et al., J.
//! Computer Research and Development 2024(5)), after MPCFormer's recipe (Li et al., ICLR 2023):
//! the student is the teacher's network with freeDiv's attention function and Quad GeLU
//! ([`function`]), initialised from the teacher's weights ([`encoder`]), then trained to
//! reproduce the teacher layer by layer ([`layerwise`], MPCFormer's first stage) and then in
//! what it predicts ([`prediction`], the second) by a [`trainer`]. [`recipe`] runs both on real
//! sentences and [`output`] writes the student as a checkpoint the harness loads.
//!
//! The network is written in candle (`candle-core`), which runs the teacher in f64 on the CPU
//! and differentiates every operation the students use. This crate sits above `dyad-model`, whose
//! float64 forward pass stays the reference it is tested against, so that only the crates above
//! it pay candle's build.

pub mod encoder;
pub mod error;
pub mod function;
pub mod layerwise;
pub mod output;
pub mod prediction;
pub mod recipe;
pub mod trainer;

pub use encoder::{Encoder, LayerOutput};
pub use error::DistillError;
pub use function::{Activation, Attention};
pub use output::Manifest;
pub use recipe::{Distilled, Progress, Recipe, Student, distill};
pub use trainer::{Stage, Trainer};
