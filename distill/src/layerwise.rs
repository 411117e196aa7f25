//! The first stage of MPCFormer's distillation (Li et al., "MPCFormer: fast, performant and
//! private Transformer inference with MPC", ICLR 2023): the student learns to reproduce the
//! teacher layer by layer, by the mean squared error between their attention outputs and between
//! their hidden states, summed over the layers.
//!
//! MPCFormer, after TinyBERT, compares the attention scores QKᵀ/√d instead of the attention
//! block's output. The scores are computed before the function freeDiv replaces, so they would
//! tell the student nothing about the replacement; the block's output is what the replacement
//! changes, so that is what is compared.

use candle_core::Tensor;

use crate::encoder::LayerOutput;
use crate::error::DistillError;

/// What [`loss`] computes, for a manifest.
pub const DEFINITION: &str = "Σ over layers of MSE(attention outputs) + MSE(hidden states)";

/// Σ over layers of MSE(attention outputs) + MSE(hidden states); the teacher's side carries no
/// gradient.
pub fn loss(student: &[LayerOutput], teacher: &[LayerOutput]) -> Result<Tensor, DistillError> {
    let mut total: Option<Tensor> = None;
    for (s, t) in student.iter().zip(teacher) {
        for (a, b) in [(&s.attention, &t.attention), (&s.hidden, &t.hidden)] {
            let mse = a.sub(&b.detach())?.sqr()?.mean_all()?;
            total = Some(match total {
                Some(sum) => (sum + mse)?,
                None => mse,
            });
        }
    }
    total.ok_or_else(|| DistillError::Shape("a network without layers".into()))
}
