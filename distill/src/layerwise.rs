//! The first stage of MPCFormer's distillation (Li et al., "MPCFormer: fast, performant and
//! private Transformer inference with MPC", ICLR 2023): the student learns to reproduce the
//! teacher layer by layer, by the mean squared error between their attention
//! outputs and between their hidden states, summed over the layers, with AdamW.

use candle_core::Tensor;
use candle_nn::{AdamW, Optimizer, ParamsAdamW};

use crate::encoder::{Encoder, LayerOutput};
use crate::error::DistillError;

/// Stage 1's learning rate in MPCFormer's recipe.
pub const LEARNING_RATE: f64 = 5e-5;

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

/// A student being distilled from a teacher, layer by layer.
pub struct Layerwise {
    student: Encoder,
    teacher: Encoder,
    optimizer: AdamW,
}

impl Layerwise {
    /// Distils `student` towards `teacher` with AdamW at learning rate `lr` (PyTorch's other
    /// defaults).
    pub fn new(student: Encoder, teacher: Encoder, lr: f64) -> Result<Self, DistillError> {
        let vars = student.named_vars().into_iter().map(|(_, v)| v).collect();
        let optimizer = AdamW::new(vars, ParamsAdamW { lr, ..ParamsAdamW::default() })?;
        Ok(Layerwise { student, teacher, optimizer })
    }

    /// The loss on the embedding output `x`, without training.
    pub fn loss(&self, x: &Tensor) -> Result<f64, DistillError> {
        let s = self.student.forward(x)?;
        let t = self.teacher.forward(x)?;
        Ok(loss(&s, &t)?.to_dtype(candle_core::DType::F64)?.to_scalar::<f64>()?)
    }

    /// One AdamW step on the embedding output `x`; the loss before it.
    pub fn step(&mut self, x: &Tensor) -> Result<f64, DistillError> {
        let l = loss(&self.student.forward(x)?, &self.teacher.forward(x)?)?;
        self.optimizer.backward_step(&l)?;
        Ok(l.to_dtype(candle_core::DType::F64)?.to_scalar::<f64>()?)
    }

    /// The student.
    pub fn student(&self) -> &Encoder {
        &self.student
    }

    /// The teacher.
    pub fn teacher(&self) -> &Encoder {
        &self.teacher
    }
}
