//! The prediction stage's loss against its definition computed by hand in float64: 1 − cosine of
//! the mean-pooled rows plus the Kullback–Leibler divergence of the probe's two Bernoulli
//! predictions; 0 when the student is the teacher.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use candle_core::{DType, Device, Tensor};
use dyad_distill::prediction::{Head, loss};
use dyad_model::probe::Probe;
use dyad_sim::testkit::config;
use proptest::prelude::*;
use proptest::test_runner::TestRunner;

const H: usize = 4;

/// A probe on H features, trained on a fixed toy set so that its weights are not zero.
fn probe() -> Probe {
    let x: Vec<Vec<f64>> = (0..40).map(|i| (0..H).map(|j| ((i * (j + 3)) % 7) as f64 - 3.0).collect()).collect();
    let y: Vec<bool> = x.iter().map(|r| r[0] + 0.5 * r[2] > 0.0).collect();
    Probe::train(&x, &y, 1e-3, 1.0, 100)
}

fn by_hand(student: &[f64], teacher: &[f64], n: usize, probe: &Probe) -> f64 {
    let pool =
        |x: &[f64]| -> Vec<f64> { (0..H).map(|j| (0..n).map(|i| x[i * H + j]).sum::<f64>() / n as f64).collect() };
    let (s, t) = (pool(student), pool(teacher));
    let dot: f64 = s.iter().zip(&t).map(|(a, b)| a * b).sum();
    let norm = |v: &[f64]| v.iter().map(|a| a * a).sum::<f64>().sqrt();
    let sigma = |z: f64| 1.0 / (1.0 + (-z).exp());
    let (p, q) = (sigma(probe.logit(&t)), sigma(probe.logit(&s)));
    let kl = p * (p / q).ln() + (1.0 - p) * ((1.0 - p) / (1.0 - q)).ln();
    1.0 - dot / (norm(&s) * norm(&t)) + kl
}

#[test]
fn the_prediction_loss_is_its_definition_and_zero_at_the_teacher() {
    let probe = probe();
    let head = Head::new(&probe, DType::F64, &Device::Cpu).unwrap();
    let rows = (1usize..6).prop_flat_map(|n| {
        (Just(n), proptest::collection::vec(-2.0f64..2.0, n * H), proptest::collection::vec(-2.0f64..2.0, n * H))
    });
    TestRunner::new(config(0xd1_0003, 64))
        .run(&rows, |(n, s, t)| {
            let tensor = |v: &[f64]| Tensor::from_vec(v.to_vec(), (n, H), &Device::Cpu).unwrap();
            let got = loss(&tensor(&s), &tensor(&t), &head).unwrap().to_scalar::<f64>().unwrap();
            let want = by_hand(&s, &t, n, &probe);
            prop_assert!((got - want).abs() <= 1e-9 * want.abs().max(1.0), "{got} vs {want}");
            let same = loss(&tensor(&t), &tensor(&t), &head).unwrap().to_scalar::<f64>().unwrap();
            prop_assert!(same.abs() <= 1e-12, "the teacher against itself: {same}");
            Ok(())
        })
        .unwrap();
}
