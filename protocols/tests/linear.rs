//! The RLWE linear layers against the plaintext ring product, over random shapes (including
//! non-powers of two) at both rings, and their exact traffic.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use dyad_protocols::bumblebee::linear::SipLayout;
use dyad_protocols::harness::{self, RunSpec};
use dyad_protocols::nimbus::linear::{CopLayout, context};
use dyad_protocols::{TruncMode, registry};
use dyad_sim::testkit::config;
use dyad_sim::{Phase, Ring};
use proptest::prelude::*;
use proptest::test_runner::TestRunner;

fn check_shapes(name: &str, ring: Ring, seed: u64) {
    let p = registry::find(name).unwrap();
    let mut runner = TestRunner::new(config(seed, 12));
    runner
        .run(&(1usize..6, 1usize..40, 1usize..70, any::<u64>()), |(k, n, m, s)| {
            let spec = RunSpec::new(ring, s).with_dims(&[k, n, m]);
            let checked = harness::run(p.as_ref(), &spec).unwrap();
            let r = &checked.report;
            prop_assert!(
                r.passed,
                "{name} {k}x{n}x{m} at ℓ = {}: {} ULP",
                ring.bits(),
                r.error.vs_reference.max_ulp.unwrap_or(0)
            );
            Ok(())
        })
        .unwrap();
}

#[test]
fn nimbus_cop_matches_the_ring_product_on_random_shapes() {
    check_shapes("nimbus.linear", Ring::Z64, 0x434f_5064);
    check_shapes("nimbus.linear", Ring::Z32, 0x434f_5032);
}

#[test]
fn sip_matches_the_ring_product_on_random_shapes() {
    check_shapes("bumblebee.linear", Ring::Z64, 0x5349_5064);
    check_shapes("bumblebee.linear", Ring::Z32, 0x5349_5032);
}

#[test]
fn cop_sends_one_message_of_the_packed_responses_and_nothing_back() {
    let ctx = context(Ring::Z64).unwrap();
    let (k, n, m) = (5, 20, 300);
    // d0 = 512, one block; 8192/512 = 16 results per response: ⌈5/16⌉ = 1 response ciphertext at
    // Q′ = q0·q1: 2 × 8192 × (59 + 55) bits = 233,472 bytes.
    let l = CopLayout::new(ctx.n(), k, n, m);
    assert_eq!((l.d0, l.responses), (512, 1));
    let spec = RunSpec { trunc: Some(TruncMode::Probabilistic), ..RunSpec::new(Ring::Z64, 9).with_dims(&[k, n, m]) };
    let r = harness::run(registry::find("nimbus.linear").unwrap().as_ref(), &spec).unwrap().report;
    let online = r.cost.phase_counts(Phase::Online);
    assert_eq!(
        (online.bytes_client_to_server, online.bytes_server_to_client, online.messages(), online.rounds),
        (233_472, 0, 1, 1)
    );
    // Setup: the public key (b at Q′ plus a 32-byte seed) and n seeded weight ciphertexts at Q
    // (8192 × 163 bits + 32 bytes each).
    let setup = r.cost.phase_counts(Phase::Setup);
    assert_eq!(setup.bytes_server_to_client, (8192 * 114 / 8 + 32) + 20 * (8192 * 163 / 8 + 32));
}

#[test]
fn sip_sends_the_encrypted_input_and_gets_the_products_back() {
    let ctx = context(Ring::Z32).unwrap();
    let (k, n, m) = (4, 10, 6);
    let l = SipLayout::choose(&ctx, k, n, m);
    let spec = RunSpec { trunc: Some(TruncMode::Probabilistic), ..RunSpec::new(Ring::Z32, 9).with_dims(&[k, n, m]) };
    let r = harness::run(registry::find("bumblebee.linear").unwrap().as_ref(), &spec).unwrap().report;
    let online = r.cost.phase_counts(Phase::Online);
    // ℓ = 32: N = 4096, primes of 59 and 37 bits. A seeded input ciphertext is 4096 × 96 bits
    // + 32 bytes; a returned one is 2 × 4096 × 59 bits at Q′.
    assert_eq!(online.bytes_client_to_server as usize, l.inputs() * (4096 * 96 / 8 + 32));
    assert_eq!(online.bytes_server_to_client as usize, l.outputs() * (2 * 4096 * 59 / 8));
    assert_eq!((online.messages(), online.rounds), (2, 2));
    assert!(l.d0 * l.d1 * l.d2 <= 4096);
}
