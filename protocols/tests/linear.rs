//! The RLWE linear layers against the plaintext ring product, over random shapes (including
//! non-powers of two) at both rings, and their exact traffic.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use dyad_protocols::bumblebee::linear::{MAX_PACK, SipLayout};
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
fn sip_sends_the_encrypted_input_and_gets_packed_products_back() {
    let ctx = context(Ring::Z32).unwrap();
    let (k, n, m) = (5, 39, 69);
    // ℓ = 32: N = 4096, primes of 59 and 37 bits. d1 = 64 inputs and d2 = 8 tokens per block
    // leave d0 = 8 outputs; the 9 output blocks pack into one response (g = 16).
    let l = SipLayout::choose(&ctx, k, n, m, MAX_PACK);
    assert_eq!((l.d0, l.d1, l.d2, l.pack, l.inputs(), l.outputs()), (8, 64, 8, 16, 1, 1));
    let spec = RunSpec { trunc: Some(TruncMode::Probabilistic), ..RunSpec::new(Ring::Z32, 9).with_dims(&[k, n, m]) };
    let r = harness::run(registry::find("bumblebee.linear").unwrap().as_ref(), &spec).unwrap().report;
    assert!(r.passed, "{} ULP", r.error.vs_reference.max_ulp.unwrap_or(0));
    // Online: one seeded input ciphertext (4096 × 96 bits + 32 bytes) and one response at
    // Q′ = q0 (2 × 4096 × 59 bits).
    let online = r.cost.phase_counts(Phase::Online);
    assert_eq!(
        (online.bytes_client_to_server, online.bytes_server_to_client, online.messages(), online.rounds),
        (4096 * 96 / 8 + 32, 2 * 4096 * 59 / 8, 2, 2)
    );
    // Setup: the public key (4096 × 59 bits + seed) and log2 64 = 6 Galois keys, each two 43-bit
    // sub-digits of q0 (b at q0·q1: 4096 × 96 bits, + seed).
    let setup = r.cost.phase_counts(Phase::Setup);
    assert_eq!(
        (setup.bytes_client_to_server, setup.bytes_server_to_client),
        ((4096 * 59 / 8 + 32) + 6 * 2 * (4096 * 96 / 8 + 32), 0)
    );
}

#[test]
fn sip_packing_cuts_the_bert_base_response_by_the_packing_factor() {
    let ctx = context(Ring::Z64).unwrap();
    let packed = SipLayout::choose(&ctx, 128, 768, 768, MAX_PACK);
    let unpacked = SipLayout::choose(&ctx, 128, 768, 768, 1);
    // 64 output blocks of one column each per response: 12 responses instead of 768.
    assert_eq!((packed.d0, packed.d1, packed.d2, packed.pack), (1, 64, 128, 64));
    assert_eq!((packed.inputs(), packed.outputs()), (12, 12));
    assert!(packed.bytes(&ctx) * 7 < unpacked.bytes(&ctx));
}
