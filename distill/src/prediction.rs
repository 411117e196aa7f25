//! The second stage of MPCFormer's distillation (Li et al., ICLR 2023), on what the model
//! predicts: here the mean-pooled sentence embedding, which is all-MiniLM-L6-v2's output, and the
//! logit of the sentiment probe on it ([`dyad_model::probe::Probe`]), the task head the end-to-end
//! run asks.
//!
//! MPCFormer matches a classifier's logits with a soft cross-entropy; with one logit the squared
//! difference does the same work, and it is added to the embedding's MSE so that the student
//! keeps the whole embedding, not only its projection on the probe.

use candle_core::{DType, Device, Tensor};
use dyad_model::probe::Probe;

use crate::error::DistillError;

/// The probe as a linear map of the pooled embedding: logit = pooled·w + b.
#[derive(Clone, Debug)]
pub struct Head {
    w: Tensor,
    b: f64,
}

impl Head {
    /// `probe`'s logit, in `dtype` on `device`.
    pub fn new(probe: &Probe, dtype: DType, device: &Device) -> Result<Self, DistillError> {
        let (w, b) = probe.affine();
        let n = w.len();
        Ok(Head { w: Tensor::from_vec(w, (n, 1), device)?.to_dtype(dtype)?, b })
    }

    /// The logit of the mean over the rows of `last` ([n, h]), as a [1, 1] tensor, and that mean.
    fn apply(&self, last: &Tensor) -> Result<(Tensor, Tensor), DistillError> {
        let pooled = last.mean_keepdim(0)?;
        Ok((pooled.matmul(&self.w)?.affine(1.0, self.b)?, pooled))
    }
}

/// MSE(pooled embeddings) + (student's logit − teacher's logit)², given each network's last
/// hidden state; the teacher's side carries no gradient.
pub fn loss(student_last: &Tensor, teacher_last: &Tensor, head: &Head) -> Result<Tensor, DistillError> {
    let (s_logit, s_pooled) = head.apply(student_last)?;
    let (t_logit, t_pooled) = head.apply(&teacher_last.detach())?;
    let embedding = s_pooled.sub(&t_pooled)?.sqr()?.mean_all()?;
    let logit = s_logit.sub(&t_logit)?.sqr()?.mean_all()?;
    Ok((embedding + logit)?)
}
