//! Exact costs of the building blocks at small shapes, derived by hand in the comments.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use dyad_protocols::blocks::trunc::truncate_probabilistic;
use dyad_protocols::harness::{self, RunSpec};
use dyad_protocols::{TruncMode, registry};
use dyad_sim::{Counts, Phase, Ring, RingTensor, Role, Share};
use rand::SeedableRng;

fn online(name: &str, ring: Ring, trunc: TruncMode, dims: &[usize]) -> Counts {
    let p = registry::find(name).unwrap();
    let spec = RunSpec { trunc: Some(trunc), ..RunSpec::new(ring, 1).with_dims(dims) };
    let checked = harness::run(p.as_ref(), &spec).unwrap();
    assert!(checked.report.passed, "{name} failed its check");
    checked.report.cost.phase_counts(Phase::Online)
}

fn bytes_msgs_rounds(c: &Counts) -> (u64, u64, u64, u64, u64) {
    (
        c.bytes_server_to_client,
        c.bytes_client_to_server,
        c.messages_server_to_client,
        c.messages_client_to_server,
        c.rounds,
    )
}

#[test]
fn mul_is_one_beaver_round_plus_a_one_bit_truncation() {
    // n = 16, ℓ = 64, f = 18. Beaver: d and e, 2·16 elements of 8 bytes each way (256 B), one
    // message each way, round 1. One-bit truncation: the client sends 16 choice bits (2 B), the
    // server 16 × 2 messages of f = 18 bits (72 B): rounds 2 and 3.
    assert_eq!(bytes_msgs_rounds(&online("mul", Ring::Z64, TruncMode::OneBit, &[16])), (256 + 72, 256 + 2, 2, 2, 3));
    // Probabilistic truncation is local: only the Beaver round remains.
    assert_eq!(bytes_msgs_rounds(&online("mul", Ring::Z64, TruncMode::Probabilistic, &[16])), (256, 256, 1, 1, 1));
    // ℓ = 32, f = 13: Beaver 2·16·4 = 128 B each way; truncation 2 B and 16·2·13 bits = 52 B.
    assert_eq!(bytes_msgs_rounds(&online("mul", Ring::Z32, TruncMode::OneBit, &[16])), (128 + 52, 128 + 2, 2, 2, 3));
}

#[test]
fn square_and_matmul_open_one_masked_operand_each() {
    // square, n = 16, ℓ = 64, probabilistic: d = x − a only, 16·8 = 128 B each way.
    assert_eq!(bytes_msgs_rounds(&online("square", Ring::Z64, TruncMode::Probabilistic, &[16])), (128, 128, 1, 1, 1));
    // matmul [3,4]·[4,5], ℓ = 32, probabilistic: D (12 elements) and E (20) at 4 B each way.
    assert_eq!(
        bytes_msgs_rounds(&online("matmul", Ring::Z32, TruncMode::Probabilistic, &[3, 4, 5])),
        (128, 128, 1, 1, 1)
    );
}

#[test]
fn drelu_costs_what_the_millionaires_protocol_says() {
    // n = 8, ℓ = 64: the carry is a 63-bit millionaires' with m = 4: 15 chunks of 4 bits and one of 3.
    //   leaf OTs: client sends 8·15·4 bits = 60 B and 8·3 bits = 3 B; the server 8·15·16·2 bits =
    //   480 B and 8·8·2 bits = 16 B (2-bit messages, 2^m of them per chunk); rounds 1–2.
    //   AND tree over 16 chunks: 16, 8, 4 and 1 ANDs per element per level, 2 bits each way per
    //   AND: 32 + 16 + 8 + 2 = 58 B each way; rounds 3–6.
    //   B2A of the result: 8 choice bits (1 B) and 8·2 messages of 64 bits (128 B); rounds 7–8.
    let c = online("drelu", Ring::Z64, TruncMode::OneBit, &[8]);
    assert_eq!(bytes_msgs_rounds(&c), (480 + 16 + 58 + 128, 60 + 3 + 58 + 1, 2 + 4 + 1, 2 + 4 + 1, 8));
    //   Depths (Lamport): leaf e 1, Y 2; the server sends each AND level as soon as it has the
    //   client's previous one, the client after the server's: levels at (s 2, c 3), (s 4, c 3),
    //   (s 4, c 5), (s 6, c 5); B2A e 7, Y 8. Eight distinct depths.
    // ℓ = 32: 31 bits = 7 chunks of 4 and one of 3; leaf 8·7·4 bits = 28 B and 3 B up, 8·7·32
    //   bits = 224 B and 16 B down; tree over 8 chunks: 8, 4, 1 ANDs → 16 + 8 + 2 = 26 B each way;
    //   B2A 1 B up and 8·2·32 bits = 64 B down. Depths: leaf 1, 2; levels (s 2, c 3), (s 4, c 3),
    //   (s 4, c 5); B2A e 5 (the client has seen depth 4), Y 6. Six rounds: the tree's odd depth
    //   lets the B2A's first flight overlap its last level.
    let c = online("drelu", Ring::Z32, TruncMode::OneBit, &[8]);
    assert_eq!(bytes_msgs_rounds(&c), (224 + 16 + 26 + 64, 28 + 3 + 26 + 1, 2 + 3 + 1, 2 + 3 + 1, 6));
}

#[test]
fn relu_is_a_comparison_then_a_multiplexer() {
    // n = 8, ℓ = 64: the millionaires' as in drelu (496 B down, 63 B up, tree 58 B each way, 6
    // rounds), then the multiplexer: two OTs in opposite directions, each 8 choice bits (1 B) one
    // way and 8·2·64 bits (128 B) back, in rounds 7–8.
    let c = online("relu", Ring::Z64, TruncMode::OneBit, &[8]);
    assert_eq!(bytes_msgs_rounds(&c), (496 + 58 + 1 + 128, 63 + 58 + 1 + 128, 2 + 4 + 2, 2 + 4 + 2, 8));
}

#[test]
fn faithful_truncation_adds_a_short_comparison_to_the_one_bit_truncation() {
    // n = 8, ℓ = 64, k = 12 (trunc.* shift by 12): the carry is a 12-bit millionaires' (3 chunks of
    // 4 bits): leaf 8·3·4 bits = 12 B up, 8·3·32 bits = 96 B down; tree 3 → 2 → 1 with 2 and 1
    // ANDs: 4 + 2 = 6 B each way. Then two OT batches in one flight: B2A of the carry (1 B up,
    // 8·2·64 bits = 128 B down) and the wrap (1 B up, 8·2·12 bits = 24 B down).
    let c = online("trunc.faithful", Ring::Z64, TruncMode::OneBit, &[8]);
    assert_eq!(bytes_msgs_rounds(&c), (96 + 6 + 128 + 24, 12 + 6 + 1 + 1, 1 + 2 + 2, 1 + 2 + 2, 2 + 2 + 2));
    let c = online("trunc.one_bit", Ring::Z64, TruncMode::OneBit, &[8]);
    assert_eq!(bytes_msgs_rounds(&c), (24, 1, 1, 1, 2));
}

#[test]
fn the_max_tree_has_one_comparison_and_one_multiplexer_per_level() {
    // rows = 1, n = 4, ℓ = 32: level 1 compares 2 pairs, level 2 one pair. Each level is a 31-bit
    // millionaires' (2 leaf-OT messages and 3 AND levels each way) and a multiplexer (an offset and
    // an answer each way): 2 × (2 + 3 + 2) = 14 messages each way.
    // Depths, level 1: leaf 1, 2; ANDs (s 2, c 3), (s 4, c 3), (s 4, c 5); multiplexer offsets
    // c 5, s 6; answers s 6, c 7. Level 2 starts from the client's clock 6: leaf 7, 8; ANDs
    // (s 8, c 9), (s 10, c 9), (s 10, c 11); offsets c 11, s 12; answers s 12, c 13. Thirteen.
    let c = online("max", Ring::Z32, TruncMode::OneBit, &[1, 4]);
    assert_eq!((c.messages_server_to_client, c.messages_client_to_server, c.rounds), (14, 14, 13));
}

#[test]
fn probabilistic_truncation_fails_with_probability_x_over_2_to_the_ell() {
    // x = 2^27 ULPs at ℓ = 32: the shares wrap differently with probability 2^27/2^32 = 1/32.
    let ring = Ring::Z32;
    let n = 1 << 15;
    let x = RingTensor::filled(ring, &[n], 1 << 27);
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(0x7472_756e);
    let (s, c) = Share::split(&x, &mut rng);
    let out = Share::reconstruct(
        &truncate_probabilistic(Role::Server, &s, 12),
        &truncate_probabilistic(Role::Client, &c, 12),
    )
    .unwrap();
    let want = 1u64 << 15;
    let large = out.to_vec().iter().filter(|&&v| ring.distance(v, want) > 1).count();
    let small = out.to_vec().iter().filter(|&&v| ring.distance(v, want) <= 1).count();
    let expected = n as f64 / 32.0;
    assert!((large as f64 - expected).abs() < 0.15 * expected, "{large} large errors, expected about {expected}");
    assert_eq!(large + small, n);
}
