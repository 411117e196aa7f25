//! A student trained against a teacher, one sentence per AdamW step, in either stage of
//! MPCFormer's recipe.

use candle_core::{DType, Tensor};
use candle_nn::{AdamW, Optimizer, ParamsAdamW};

use crate::encoder::Encoder;
use crate::error::DistillError;
use crate::prediction::Head;
use crate::{layerwise, prediction};

/// What the loss compares.
#[derive(Clone, Debug)]
pub enum Stage {
    /// Every layer's attention output and hidden state ([`layerwise::loss`]).
    Layerwise,
    /// The pooled embedding and the probe's logit ([`prediction::loss`]).
    Prediction(Head),
}

/// A student being distilled from a teacher.
pub struct Trainer {
    student: Encoder,
    teacher: Encoder,
    optimizer: AdamW,
}

impl Trainer {
    /// Distils `student` towards `teacher` with AdamW at learning rate `lr` (PyTorch's other
    /// defaults).
    pub fn new(student: Encoder, teacher: Encoder, lr: f64) -> Result<Self, DistillError> {
        let vars = student.named_vars().into_iter().map(|(_, v)| v).collect();
        let optimizer = AdamW::new(vars, ParamsAdamW { lr, ..ParamsAdamW::default() })?;
        Ok(Trainer { student, teacher, optimizer })
    }

    fn loss_tensor(&self, x: &Tensor, stage: &Stage) -> Result<Tensor, DistillError> {
        let s = self.student.forward(x)?;
        let t = self.teacher.forward(x)?;
        match stage {
            Stage::Layerwise => layerwise::loss(&s, &t),
            Stage::Prediction(head) => match (s.last(), t.last()) {
                (Some(s), Some(t)) => prediction::loss(&s.hidden, &t.hidden, head),
                _ => Err(DistillError::Shape("a network without layers".into())),
            },
        }
    }

    /// The loss of `stage` on the embedding output `x`, without training.
    pub fn loss(&self, x: &Tensor, stage: &Stage) -> Result<f64, DistillError> {
        Ok(self.loss_tensor(x, stage)?.to_dtype(DType::F64)?.to_scalar::<f64>()?)
    }

    /// One AdamW step of `stage` on the embedding output `x`; the loss before it.
    pub fn step(&mut self, x: &Tensor, stage: &Stage) -> Result<f64, DistillError> {
        let l = self.loss_tensor(x, stage)?;
        self.optimizer.backward_step(&l)?;
        Ok(l.to_dtype(DType::F64)?.to_scalar::<f64>()?)
    }

    /// The student.
    pub fn student(&self) -> &Encoder {
        &self.student
    }

    /// The student, its training over.
    pub fn into_student(self) -> Encoder {
        self.student
    }

    /// The teacher.
    pub fn teacher(&self) -> &Encoder {
        &self.teacher
    }
}
