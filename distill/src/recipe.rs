//! A whole distillation, as `dyad distill` runs it: the training sentences, the probe whose
//! logit the prediction stage matches, the two stages of MPCFormer's recipe (Li et al., ICLR
//! 2023), one sentence per step.
//!
//! freeDiv's constants, κ (the public row scale) and c (2Quad's shift), stay fixed at the
//! values of the registered protocols ([`dyad_protocols::freediv`]): the secure run reads them
//! from there, so a trained κ or c would be a different protocol from the one Dyad costs and
//! audits. The weights around them are what learns to absorb them.

use candle_core::{DType, Device, Tensor};
use dyad_model::bert::{Model, Tokenizer};
use dyad_model::encoder::secure::MAX_TOKENS;
use dyad_model::probe::Probe;
use dyad_protocols::freediv::{quad2_freediv, softmax_freediv};
use dyad_vectors::Snippet;
use rand::SeedableRng;
use rand::seq::SliceRandom;

use crate::encoder::{Encoder, tensor};
use crate::error::DistillError;
use crate::function::{Activation, Attention};
use crate::prediction::Head;
use crate::trainer::{LAYERWISE_LR, PREDICTION_LR, Stage, Trainer};

/// A student to distil: freeDiv's attention with Quad GeLU.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Student {
    /// Softmax freeDiv attention.
    FreedivSoftmax,
    /// 2Quad freeDiv attention.
    Freediv2Quad,
}

impl Student {
    /// Every student, in listing order.
    pub const ALL: [Student; 2] = [Student::FreedivSoftmax, Student::Freediv2Quad];

    /// The name of the protocol suite that runs it under 2PC.
    pub fn name(self) -> &'static str {
        match self {
            Student::FreedivSoftmax => "freediv-softmax",
            Student::Freediv2Quad => "freediv-2quad",
        }
    }

    /// The student of suite `name`.
    pub fn named(name: &str) -> Option<Student> {
        Student::ALL.into_iter().find(|s| s.name() == name)
    }

    /// Its attention function, with the registered protocol's constants.
    pub fn attention(self) -> Result<Attention, DistillError> {
        match self {
            Student::FreedivSoftmax => Attention::softmax_freediv(&softmax_freediv()),
            Student::Freediv2Quad => Attention::quad2_freediv(&quad2_freediv()),
        }
        .ok_or_else(|| DistillError::Shape(format!("{}: the protocol has no division-free float form", self.name())))
    }

    /// Its network on `model`'s weights in float64: the plaintext student.
    pub fn plaintext(self, model: &Model) -> Result<Encoder, DistillError> {
        self.network(model, DType::F64)
    }

    /// Its network on `model`'s weights, in `dtype` on the CPU.
    pub fn network(self, model: &Model, dtype: DType) -> Result<Encoder, DistillError> {
        Encoder::from_teacher(model, self.attention()?, Activation::Quad, dtype, &Device::Cpu)
    }
}

/// How long and how fast to train.
#[derive(Clone, Debug, PartialEq)]
pub struct Recipe {
    /// Steps of each stage, one sentence each.
    pub steps: usize,
    /// Training sentences, drawn from the snippets by the seed.
    pub sentences: usize,
    /// Seeds the choice and order of the training sentences.
    pub seed: u64,
    /// The layer-wise stage's learning rate.
    pub layerwise_lr: f64,
    /// The prediction stage's learning rate.
    pub prediction_lr: f64,
}

impl Recipe {
    /// `steps` per stage at MPCFormer's learning rates, over 2,000 sentences chosen by `seed`.
    pub fn new(steps: usize, seed: u64) -> Recipe {
        Recipe { steps, sentences: 2000, seed, layerwise_lr: LAYERWISE_LR, prediction_lr: PREDICTION_LR }
    }
}

/// Where a run is: reported after every step.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Progress {
    /// 1 (layer-wise) or 2 (prediction).
    pub stage: usize,
    /// Steps done in this stage.
    pub step: usize,
    /// Steps of this stage.
    pub steps: usize,
    /// The loss of this step's sentence, before the step.
    pub loss: f64,
}

/// A finished distillation.
pub struct Distilled {
    /// The student, trained.
    pub student: Encoder,
    /// The snippets it was trained on, by id: an evaluation must leave them out.
    pub training_snippets: Vec<u32>,
    /// Each stage's mean loss over its first and its last [`window`] steps.
    pub losses: [(f64, f64); 2],
    /// The L2 penalty of the probe the prediction stage matches.
    pub probe_l2: f64,
}

/// How many steps a stage's first and final loss are averaged over, of its `steps`: a quarter,
/// at least one and at most 100, since one sentence's loss is noisy.
pub fn window(steps: usize) -> usize {
    (steps / 4).clamp(1, 100)
}

/// Distils `student` from `teacher` by `recipe` on sentences of `snippets`, in f32 on the CPU;
/// `progress` is called after every step.
pub fn distill(
    teacher: &Model,
    tok: &Tokenizer,
    snippets: &[Snippet],
    student: Student,
    recipe: &Recipe,
    progress: &mut dyn FnMut(Progress),
) -> Result<Distilled, DistillError> {
    let dtype = DType::F32;
    let mut pool: Vec<(&Snippet, Vec<u32>)> =
        snippets.iter().map(|s| (s, tok.encode(&s.text))).filter(|(_, ids)| ids.len() <= MAX_TOKENS).collect();
    pool.shuffle(&mut rand_chacha::ChaCha20Rng::seed_from_u64(recipe.seed));
    pool.truncate(recipe.sentences);
    if pool.is_empty() || recipe.steps == 0 {
        return Err(DistillError::Shape("a distillation needs at least one sentence and one step".into()));
    }
    let (mut x, mut y) = (Vec::new(), Vec::new());
    for (s, ids) in pool.iter().filter(|(s, _)| s.rating.abs() >= 0.5) {
        x.push(teacher.forward(ids)?.pooled.to_vec());
        y.push(s.rating > 0.0);
    }
    let (probe, probe_l2) = Probe::fit(&x, &y);
    let inputs: Vec<Tensor> =
        pool.iter().map(|(_, ids)| tensor(&teacher.embed(ids)?, dtype, &Device::Cpu)).collect::<Result<_, _>>()?;

    let mut network = student.network(teacher, dtype)?;
    let stages = [
        (Stage::Layerwise, recipe.layerwise_lr),
        (Stage::Prediction(Head::new(&probe, dtype, &Device::Cpu)?), recipe.prediction_lr),
    ];
    let mut losses = [(0.0, 0.0); 2];
    for (i, (stage, lr)) in stages.into_iter().enumerate() {
        let teacher_net = Encoder::from_teacher(teacher, Attention::Softmax, Activation::Gelu, dtype, &Device::Cpu)?;
        let mut trainer = Trainer::new(network, teacher_net, lr)?;
        let mut last = Vec::new();
        for step in 0..recipe.steps {
            let loss = trainer.step(&inputs[step % inputs.len()], &stage)?;
            last.push(loss);
            progress(Progress { stage: i + 1, step: step + 1, steps: recipe.steps, loss });
        }
        let w = window(recipe.steps);
        let mean = |s: &[f64]| s.iter().sum::<f64>() / s.len() as f64;
        losses[i] = (mean(&last[..w]), mean(&last[last.len() - w..]));
        network = trainer.into_student();
    }
    Ok(Distilled { student: network, training_snippets: pool.iter().map(|(s, _)| s.id).collect(), losses, probe_l2 })
}
