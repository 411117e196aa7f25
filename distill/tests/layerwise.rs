//! A short layer-wise distillation of each freeDiv student on real sentences: the loss falls on
//! the training sentences, and on held-out sentences the student's pooled embedding comes closer
//! to the teacher's than the undistilled replacement's.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod common;

use candle_core::{DType, Device, Tensor};
use dyad_distill::encoder::tensor;
use dyad_distill::recipe::mean_pooled_cosine;
use dyad_distill::{Activation, Attention, Encoder, Stage, Trainer};
use dyad_protocols::freediv::{quad2_freediv, softmax_freediv};

/// Steps over the training sentences, each sentence once per step.
const EPOCHS: usize = 4;
/// A learning rate for a run this short: MPCFormer's 5e-5 would barely move in 4 epochs.
const LR: f64 = 1e-3;

#[test]
fn a_short_layerwise_distillation_lowers_the_loss_and_brings_each_student_closer() {
    let Some((model, tok)) = common::model() else { return };
    let snippets = dyad_vectors::read_snippets(&dyad_vectors::bundled_snippets()).unwrap();
    let device = Device::Cpu;
    let input = |text: &str| tensor(&model.embed(&tok.encode(text)).unwrap(), DType::F32, &device).unwrap();
    // Held-out sentences first, training sentences disjoint from them.
    let held_out: Vec<Tensor> = snippets[..4].iter().map(|s| input(&s.text)).collect();
    let train: Vec<Tensor> = snippets[100..108].iter().map(|s| input(&s.text)).collect();
    let students = [
        ("Softmax freeDiv", Attention::softmax_freediv(&softmax_freediv()).unwrap()),
        ("2Quad freeDiv", Attention::quad2_freediv(&quad2_freediv()).unwrap()),
    ];
    for (name, attention) in students {
        let teacher = Encoder::from_teacher(&model, Attention::Softmax, Activation::Gelu, DType::F32, &device).unwrap();
        let student = Encoder::from_teacher(&model, attention, Activation::Quad, DType::F32, &device).unwrap();
        let mut d = Trainer::new(student, teacher, LR).unwrap();
        let before: f64 = train.iter().map(|x| d.loss(x, &Stage::Layerwise).unwrap()).sum();
        let cos_before = mean_pooled_cosine(d.student(), d.teacher(), &held_out).unwrap();
        for _ in 0..EPOCHS {
            for x in &train {
                d.step(x, &Stage::Layerwise).unwrap();
            }
        }
        let after: f64 = train.iter().map(|x| d.loss(x, &Stage::Layerwise).unwrap()).sum();
        let cos_after = mean_pooled_cosine(d.student(), d.teacher(), &held_out).unwrap();
        eprintln!(
            "{name}: training loss {before:.4} → {after:.4}; held-out pooled cosine {cos_before:.4} → {cos_after:.4}"
        );
        assert!(after < 0.9 * before, "{name}: the loss did not fall: {before} → {after}");
        assert!(cos_after > cos_before, "{name}: held-out cosine {cos_before} → {cos_after}");
    }
}
