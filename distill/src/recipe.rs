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
use dyad_reference::metrics::cosine;
use dyad_vectors::Snippet;
use rand::SeedableRng;
use rand::seq::SliceRandom;

use crate::encoder::{Encoder, tensor};
use crate::error::DistillError;
use crate::function::{Activation, Attention};
use crate::output::{Manifest, StageRecord};
use crate::prediction::Head;
use crate::trainer::{Stage, Trainer};
use crate::{layerwise, prediction};

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
    /// Steps of the layer-wise stage, one sentence each.
    pub layerwise_steps: usize,
    /// Steps of the prediction stage, one sentence each.
    pub prediction_steps: usize,
    /// Training sentences, drawn from the snippets by the seed.
    pub sentences: usize,
    /// Seeds the choice and order of the training sentences.
    pub seed: u64,
    /// The layer-wise stage's learning rate.
    pub layerwise_lr: f64,
    /// The prediction stage's learning rate.
    pub prediction_lr: f64,
}

/// The full run's layer-wise steps: with [`PREDICTION_STEPS`], both students side by side on
/// this 2-core machine in under 45 minutes.
pub const LAYERWISE_STEPS: usize = 9000;
/// The full run's prediction steps. The prediction stage raised the held-out cosine the most
/// per step (0.62 → 0.81 in 500 steps after 2000 layer-wise ones, Softmax freeDiv).
pub const PREDICTION_STEPS: usize = 7000;
/// The full run's training sentences.
pub const SENTENCES: usize = 4000;
/// The layer-wise stage's learning rate: twice MPCFormer's 5e-5, for a run this short; 1e-4
/// left a higher held-out cosine than 3e-4 (0.62 against 0.56 after 2000 steps).
pub const LAYERWISE_LR: f64 = 1e-4;
/// The prediction stage's learning rate, MPCFormer's. At 1e-4 the stage lowered the held-out
/// cosine (0.51 → 0.43).
pub const PREDICTION_LR: f64 = 1e-5;

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
    /// How it was made; the teacher's hash is left for [`crate::output::save`] to set.
    pub manifest: Manifest,
}

/// Sentences after the training ones in the seed's order, trained on by neither stage, on which
/// a run reports how close its student comes to the teacher.
pub const HELD_OUT: usize = 50;

/// The mean over `inputs` of the cosine between `a`'s and `b`'s mean-pooled last hidden states;
/// NaN for no inputs.
pub fn mean_pooled_cosine(a: &Encoder, b: &Encoder, inputs: &[Tensor]) -> Result<f64, DistillError> {
    let pooled = |e: &Encoder, x: &Tensor| -> Result<Vec<f64>, DistillError> {
        let last = e.forward(x)?.pop().ok_or_else(|| DistillError::Shape("a network without layers".into()))?;
        Ok(last.hidden.mean(0)?.to_dtype(DType::F64)?.to_vec1()?)
    };
    let mut sum = 0.0;
    for x in inputs {
        sum += cosine(&pooled(a, x)?, &pooled(b, x)?);
    }
    Ok(sum / inputs.len() as f64)
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
    pool.truncate(recipe.sentences + HELD_OUT);
    let held_out: Vec<Tensor> = pool
        .split_off(recipe.sentences.min(pool.len()))
        .iter()
        .map(|(_, ids)| tensor(&teacher.embed(ids)?, dtype, &Device::Cpu))
        .collect::<Result<_, _>>()?;
    if pool.is_empty() || recipe.layerwise_steps == 0 || recipe.prediction_steps == 0 {
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

    let teacher_net = Encoder::from_teacher(teacher, Attention::Softmax, Activation::Gelu, dtype, &Device::Cpu)?;
    let mut network = student.network(teacher, dtype)?;
    let mut held_out_cosine = vec![mean_pooled_cosine(&network, &teacher_net, &held_out)?];
    let stages = [
        (Stage::Layerwise, recipe.layerwise_steps, recipe.layerwise_lr),
        (Stage::Prediction(Head::new(&probe, dtype, &Device::Cpu)?), recipe.prediction_steps, recipe.prediction_lr),
    ];
    // The sentences follow the seed's order through both stages, the second going on where the
    // first stopped.
    let mut next = (0..inputs.len()).cycle();
    let mut records = Vec::new();
    for (i, (stage, steps, lr)) in stages.into_iter().enumerate() {
        let mut trainer = Trainer::new(network, teacher_net.clone(), lr)?;
        let mut last = Vec::new();
        for (step, s) in (0..steps).zip(&mut next) {
            let loss = trainer.step(&inputs[s], &stage)?;
            last.push(loss);
            progress(Progress { stage: i + 1, step: step + 1, steps, loss });
        }
        let w = window(steps);
        let mean = |s: &[f64]| s.iter().sum::<f64>() / s.len() as f64;
        records.push(StageRecord {
            loss: match stage {
                Stage::Layerwise => layerwise::DEFINITION,
                Stage::Prediction(_) => prediction::DEFINITION,
            }
            .into(),
            steps,
            lr,
            initial_loss: mean(&last[..w]),
            final_loss: mean(&last[last.len() - w..]),
        });
        network = trainer.into_student();
        held_out_cosine.push(mean_pooled_cosine(&network, &teacher_net, &held_out)?);
    }
    let manifest = Manifest {
        suite: student.name().into(),
        teacher_sha256: String::new(),
        stages: records,
        seed: recipe.seed,
        dtype: "f32".into(),
        held_out_cosine: [held_out_cosine[0], held_out_cosine[1], held_out_cosine[2]],
        probe_l2,
        constants: "fixed: κ and c are the registered protocols' public constants, which the secure run uses".into(),
        training_snippets: pool.iter().map(|(s, _)| s.id).collect(),
    };
    Ok(Distilled { student: network, manifest })
}
