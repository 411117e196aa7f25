//! The distillation network against Dyad's own references: the teacher network against the
//! float64 plaintext model on real sentences, the students' functions against the protocols'
//! float forms, and a gradient for every parameter.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod common;

use candle_core::{DType, Device, Tensor};
use dyad_distill::{Activation, Attention, Encoder};
use dyad_protocols::Protocol;
use dyad_protocols::freediv::{quad_gelu, quad2_freediv, softmax_freediv};
use dyad_sim::testkit::config;
use ndarray::{Array2, ArrayD, IxDyn};
use proptest::prelude::*;
use proptest::test_runner::TestRunner;

fn array(t: &Tensor) -> Array2<f64> {
    let (r, c) = t.dims2().unwrap();
    Array2::from_shape_vec((r, c), t.to_dtype(DType::F64).unwrap().flatten_all().unwrap().to_vec1().unwrap()).unwrap()
}

fn max_abs(a: &Array2<f64>, b: &Array2<f64>) -> f64 {
    assert_eq!(a.dim(), b.dim());
    a.iter().zip(b).map(|(x, y)| (x - y).abs()).fold(0.0, f64::max)
}

#[test]
fn the_teacher_network_is_the_plaintext_model_to_1e_minus_5() {
    let Some((model, tok)) = common::model() else { return };
    let snippets = dyad_vectors::read_snippets(&dyad_vectors::bundled_snippets()).unwrap();
    let teacher =
        Encoder::from_teacher(&model, Attention::Softmax, Activation::Gelu, DType::F64, &Device::Cpu).unwrap();
    let mut worst: f64 = 0.0;
    for s in snippets.iter().take(8) {
        let trace = model.forward(&tok.encode(&s.text)).unwrap();
        let out = teacher.forward(&teacher.input(&trace.embeddings).unwrap()).unwrap();
        assert_eq!(out.len(), trace.layers.len());
        for (got, want) in out.iter().zip(&trace.layers) {
            worst = worst.max(max_abs(&array(&got.attention), &want.attention_output));
            worst = worst.max(max_abs(&array(&got.hidden), &want.output));
        }
    }
    eprintln!("largest |candle − plaintext| over 8 sentences, every layer: {worst:.3e}");
    assert!(worst <= 1e-5, "{worst}");
}

/// Rows of scores, [rows, n], in the range attention sees.
fn rows() -> impl Strategy<Value = (usize, Vec<f64>)> {
    (1usize..40, 1usize..5).prop_flat_map(|(n, r)| (Just(n), proptest::collection::vec(-20.0f64..10.0, n * r)))
}

#[test]
fn the_students_functions_are_the_protocols_float_forms() {
    let sfd = softmax_freediv();
    let q2 = quad2_freediv();
    let quad = quad_gelu().unwrap();
    let students: [(&dyn Protocol, StudentFn); 3] = [
        (&sfd, StudentFn::Attention(Attention::softmax_freediv(&sfd).unwrap())),
        (&q2, StudentFn::Attention(Attention::quad2_freediv(&q2).unwrap())),
        (&quad, StudentFn::Activation(Activation::Quad)),
    ];
    TestRunner::new(config(0xd1_0001, 64))
        .run(&rows(), |(n, values)| {
            let r = values.len() / n;
            let x = ArrayD::from_shape_vec(IxDyn(&[r, n]), values.clone()).unwrap();
            let t = Tensor::from_vec(values.clone(), (1, r, n), &Device::Cpu).unwrap();
            for (p, student) in &students {
                let want = p.approximation(std::slice::from_ref(&x)).unwrap();
                let got = student.apply(&t).flatten_all().unwrap().to_vec1::<f64>().unwrap();
                for (g, w) in got.iter().zip(want.iter()) {
                    prop_assert!((g - w).abs() <= 1e-9 * w.abs().max(1.0), "{}: {g} vs {w}", p.name());
                }
            }
            Ok(())
        })
        .unwrap();
}

/// A student function of either kind.
enum StudentFn {
    Attention(Attention),
    Activation(Activation),
}

impl StudentFn {
    fn apply(&self, t: &Tensor) -> Tensor {
        match self {
            StudentFn::Attention(a) => a.apply(t).unwrap(),
            StudentFn::Activation(a) => a.apply(t).unwrap(),
        }
    }
}

#[test]
fn every_parameter_of_both_students_gets_a_gradient() {
    let Some((model, tok)) = common::model() else { return };
    let ids = tok.encode("a gripping, funny and moving film");
    let x = model.embed(&ids).unwrap();
    for attention in [Attention::softmax_freediv(&softmax_freediv()), Attention::quad2_freediv(&quad2_freediv())] {
        let student =
            Encoder::from_teacher(&model, attention.unwrap(), Activation::Quad, DType::F32, &Device::Cpu).unwrap();
        let out = student.forward(&student.input(&x).unwrap()).unwrap();
        let loss = out.last().unwrap().hidden.sqr().unwrap().mean_all().unwrap();
        let grads = loss.backward().unwrap();
        let vars = student.named_vars();
        assert_eq!(vars.len(), 16 * model.layers.len());
        for (name, v) in vars {
            let g = grads.get(v.as_tensor()).unwrap_or_else(|| panic!("{name} has no gradient"));
            let norm = g.sqr().unwrap().sum_all().unwrap().to_scalar::<f32>().unwrap();
            assert!(norm.is_finite() && norm > 0.0, "{name}: |∇|² = {norm}");
        }
    }
}
