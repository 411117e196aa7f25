//! Matrix triples made with HE against the plaintext ring product of their opened factors, and
//! their exact traffic.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use dyad_protocols::bumblebee::linear::{MAX_PACK, SipLayout};
use dyad_protocols::bumblebee::matrix_triple::{LABEL, matrix_triple};
use dyad_protocols::linear::{Noise, context};
use dyad_reference::metrics::max_ulp;
use dyad_rlwe::cipher::Ciphertext;
use dyad_sim::correlation::{MatDims, MatrixTriple};
use dyad_sim::runner::Correlations;
use dyad_sim::testkit::config;
use dyad_sim::{CostReport, Phase, Ring, RingTensor, Share, SimConfig, simulate};
use proptest::prelude::*;
use proptest::test_runner::TestRunner;

fn open(a: &Share, b: &Share) -> RingTensor {
    a.tensor().add(b.tensor()).unwrap()
}

/// Both halves of `requests` triples over `ring` made in one run, and its cost.
fn made(seed: u64, ring: Ring, requests: &[MatDims]) -> (Vec<(MatrixTriple, MatrixTriple)>, CostReport) {
    let config = SimConfig { correlations: Correlations::Silent, ..SimConfig::with_seed(seed) };
    let f = |p: &mut dyad_sim::Party| {
        requests.iter().map(|&d| p.scope("req", |p| matrix_triple(p, ring, d))).collect::<Result<Vec<_>, _>>()
    };
    let out = simulate(&config, f, f).unwrap();
    (out.server.into_iter().zip(out.client).collect(), out.cost)
}

#[test]
fn c_is_the_product_of_the_opened_factors_within_two_in_the_last_place() {
    let dims = (prop_oneof![Just(None), (1usize..4).prop_map(Some)], 1usize..20, 1usize..20, 1usize..20);
    let strategy = (dims, prop_oneof![Just(Ring::Z64), Just(Ring::Z32)], any::<u64>());
    TestRunner::new(config(0x0b_0001, 12))
        .run(&strategy, |((batch, m, k, n), ring, seed)| {
            let dims = MatDims { batch, m, k, n };
            let (triples, _) = made(seed, ring, &[dims]);
            let (s, c) = &triples[0];
            let (a, b) = (open(&s.a, &c.a), open(&s.b, &c.b));
            prop_assert_eq!(a.shape().to_vec(), dims.a_shape());
            prop_assert_eq!(b.shape().to_vec(), dims.b_shape());
            prop_assert!(a.to_vec().iter().any(|&v| v != 0) && b.to_vec().iter().any(|&v| v != 0));
            let want = a.matmul(&b).unwrap();
            let got = open(&s.c, &c.c);
            prop_assert_eq!(got.shape().to_vec(), dims.c_shape());
            prop_assert!(max_ulp(&got, &want) <= 2, "C is {} from A·B", max_ulp(&got, &want));
            Ok(())
        })
        .unwrap();
}

#[test]
fn the_keys_go_once_per_run_and_each_triple_takes_one_message_each_way() {
    let ring = Ring::Z64;
    let requests = [MatDims { batch: Some(3), m: 16, k: 8, n: 16 }, MatDims { batch: None, m: 5, k: 7, n: 3 }];
    let (_, cost) = made(7, ring, &requests);
    let ctx = context(ring, Noise::AsIs).unwrap();
    let (query, answer) =
        (Ciphertext::wire_bytes(&ctx, ctx.top_level(), true), Ciphertext::wire_bytes(&ctx, ctx.top_level() - 1, false));
    let (mut up, mut down) = (0, 0);
    for d in requests {
        let layouts =
            [SipLayout::choose(&ctx, d.m, d.k, d.n, MAX_PACK), SipLayout::choose(&ctx, d.n, d.k, d.m, MAX_PACK)];
        let batch = d.batch.unwrap_or(1);
        up += batch * layouts.iter().map(|l| l.inputs() * query).sum::<usize>();
        down += batch * layouts.iter().map(|l| l.outputs() * answer).sum::<usize>();
    }
    let label = format!("req/{LABEL}");
    let offline = cost.label_counts(Phase::Offline, &label);
    assert_eq!((offline.bytes_client_to_server, offline.bytes_server_to_client), (up as u64, down as u64));
    assert_eq!((offline.messages(), offline.rounds), (4, 4), "two messages per triple, one triple after the other");
    let setup = cost.label_counts(Phase::Setup, &format!("{label}/keys"));
    assert_eq!((setup.messages(), setup.bytes_server_to_client), (1, 0), "the client's keys, once");
    assert_eq!(cost.phase_counts(Phase::Online).messages(), 0);
}
