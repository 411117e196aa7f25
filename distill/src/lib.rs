//! Distillation of MPC-friendly BERT students, for freeDiv's accuracy claim (Liu et al., J.
//! Computer Research and Development 2024(5)), after MPCFormer's recipe (Li et al., ICLR 2023):
//! the student is the teacher's network with freeDiv's attention function and Quad GeLU
//! ([`function`]), initialised from the teacher's weights ([`encoder`]), then trained to
//! reproduce the teacher layer by layer ([`layerwise`], MPCFormer's first stage).
//!
//! The network is written in candle (`candle-core`), which runs the teacher in f64 on the CPU
//! and differentiates every operation the students use. This crate sits above `dyad-model`, whose
//! float64 forward pass stays the reference it is tested against, so that only the crates above
//! it pay candle's build.

pub mod encoder;
pub mod error;
pub mod function;
pub mod layerwise;

pub use encoder::{Encoder, LayerOutput};
pub use error::DistillError;
pub use function::{Activation, Attention};
pub use layerwise::Layerwise;
