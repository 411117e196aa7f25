//! The second stage of MPCFormer's distillation (Li et al., ICLR 2023), on what the model
//! predicts: here the mean-pooled sentence embedding, which is all-MiniLM-L6-v2's output, and the
//! sentiment probe's prediction on it ([`dyad_model::probe::Probe`]), the task head the
//! end-to-end run asks.
//!
//! The loss is 1 − cos(student's pooled embedding, teacher's), what the end-to-end run reports,
//! plus MPCFormer's soft cross-entropy on the probe's prediction less the teacher's entropy, the
//! Kullback–Leibler divergence of the two Bernoulli predictions. Both are 0 at a perfect match
//! and of order 1 apart. A squared error would not do: the pooled embedding is a mean over
//! tokens whose errors partly cancel, so its squared error is small beside a logit's, and the
//! logit's term alone drove the embedding away from the teacher's (measured: pooled cosine 0.22
//! after 2 × 1000 steps).

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

    /// The logit of `pooled` ([1, h]), as a [1, 1] tensor.
    fn logit(&self, pooled: &Tensor) -> Result<Tensor, DistillError> {
        Ok(pooled.matmul(&self.w)?.affine(1.0, self.b)?)
    }
}

/// log(1 + eˣ), element-wise, without overflow: max(x, 0) + log(1 + e^−|x|).
fn softplus(x: &Tensor) -> Result<Tensor, DistillError> {
    Ok((x.relu()? + (x.abs()?.neg()?.exp()? + 1.0)?.log()?)?)
}

/// The cosine of two [1, h] rows, as a scalar tensor.
fn cosine(a: &Tensor, b: &Tensor) -> Result<Tensor, DistillError> {
    let dot = (a * b)?.sum_all()?;
    let norms = (a.sqr()?.sum_all()?.sqrt()? * b.sqr()?.sum_all()?.sqrt()?)?;
    Ok(dot.div(&norms)?)
}

/// What [`loss`] computes, for a manifest.
pub const DEFINITION: &str = "1 − cos(mean-pooled embeddings) + KL(teacher's probe prediction ‖ student's)";

/// 1 − cos(pooled embeddings) + KL(teacher's prediction ‖ student's), given each network's last
/// hidden state; the teacher's side carries no gradient.
pub fn loss(student_last: &Tensor, teacher_last: &Tensor, head: &Head) -> Result<Tensor, DistillError> {
    let s_pooled = student_last.mean_keepdim(0)?;
    let t_pooled = teacher_last.detach().mean_keepdim(0)?;
    let distance = cosine(&s_pooled, &t_pooled)?.affine(-1.0, 1.0)?;
    let z_s = head.logit(&s_pooled)?;
    let z_t = head.logit(&t_pooled)?.to_dtype(DType::F64)?.flatten_all()?.to_vec1::<f64>()?[0];
    let p = 1.0 / (1.0 + (-z_t).exp());
    // Cross-entropy −p·log q − (1 − p)·log(1 − q) with q = σ(z_s), less the teacher's entropy.
    let cross = (softplus(&z_s.neg()?)?.affine(p, 0.0)? + softplus(&z_s)?.affine(1.0 - p, 0.0)?)?;
    let entropy = [p, 1.0 - p].iter().filter(|&&x| x > 0.0).map(|x| -x * x.ln()).sum::<f64>();
    let kl = cross.affine(1.0, -entropy)?.sum_all()?;
    Ok((distance + kl)?)
}
