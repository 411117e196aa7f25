//! Exact costs of the building blocks at small shapes, derived by hand in the comments.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use dyad_protocols::blocks::trunc::truncate_probabilistic;
use dyad_protocols::harness::{self, RunSpec};
use dyad_protocols::{TruncMode, registry};
use dyad_sim::{CostReport, Counts, Phase, Ring, RingTensor, Role, Share};
use rand::SeedableRng;

/// The whole cost report of one checked run (every phase).
fn cost(name: &str, ring: Ring, trunc: TruncMode, dims: &[usize]) -> CostReport {
    let p = registry::find(name).unwrap();
    let spec = RunSpec { trunc: Some(trunc), ..RunSpec::new(ring, 1).with_dims(dims) };
    let checked = harness::run(p.as_ref(), &spec).unwrap();
    assert!(checked.report.passed, "{name} failed its check");
    checked.report.cost
}

fn online(name: &str, ring: Ring, trunc: TruncMode, dims: &[usize]) -> Counts {
    cost(name, ring, trunc, dims).phase_counts(Phase::Online)
}

/// Bytes server→client, bytes client→server, messages server→client, messages client→server of
/// one component.
type Flow = (u64, u64, u64, u64);

/// Components run one after another: their bytes and messages add up (rounds do not; they are
/// derived separately in each test).
fn sum(parts: &[Flow]) -> Flow {
    parts.iter().fold((0, 0, 0, 0), |a, p| (a.0 + p.0, a.1 + p.1, a.2 + p.2, a.3 + p.3))
}

/// `k` runs of a component.
fn times(k: u64, p: Flow) -> Flow {
    (k * p.0, k * p.1, k * p.2, k * p.3)
}

/// A sum of components with its rounds, in the order of [`bytes_msgs_rounds`].
fn with_rounds(f: Flow, rounds: u64) -> (u64, u64, u64, u64, u64) {
    (f.0, f.1, f.2, f.3, rounds)
}

// Depth bookkeeping for the compound blocks below. Write (s, c) for the two clocks (the deepest
// message each party has received); a party's next message has depth clock + 1.
// - An opening (Beaver, square pair) from (s, c): the server sends s + 1, the client c + 1, in
//   one flight, then both receive: (max(s, c + 1), max(c, s + 1)).
// - A one-bit truncation, a B2A or the leaf OTs (client → server, then server → client) from
//   (s, c) with s ≤ c: the client sends c + 1, the server answers c + 2, ending at (c + 1, c + 2).
//   Two new depths, and the server is left one behind the client.
// - So an opening right after such a flight, from (d − 1, d), is sent by the server at depth d,
//   the depth of its own last answer, and by the client at d + 1, ending at (d + 1, d): a Beaver
//   product with its truncation (an opening, then a truncation: c d + 1, s d + 2) costs 2 new
//   depths, not 3, and leaves (d + 1, d + 2) again.
// - A millionaires' from (d − 1, d) (or (0, 0), d = 0): leaf OTs d + 1, d + 2; each AND level is
//   an opening and adds one depth (see the drelu test); after an even number of levels the state
//   is (D − 1, D) with D the deepest depth, after an odd number (D, D − 1).
// - A multiplexer from (D − 1, D): the server's offsets D, the client's D + 1 (flight 1), then
//   the server's answers D + 2 and the client's D + 1 (flight 2): 2 new depths, ending at
//   (D + 1, D + 2).
// Component figures at ℓ = 64, f = 18 for n = 8 values, used throughout:
//   63-bit millionaires' (the MSB's carry): 496 + 58 = 554 B down, 63 + 58 = 121 B up, 2 leaf
//   messages and 4 AND levels each way (the drelu test). Every bit count in it is a multiple of 8
//   per 8 values, so k·8 values cost exactly k times as much.
//   B2A: 8 choice bits (1 B) up, 8·2 messages of 64 bits (128 B) down.
//   Beaver product: d and e, 2·8·8 = 128 B each way; square pair: d only, 64 B each way.
//   One-bit truncation by k: 8 choice bits (1 B) up, 8·2·k bits down (k = 18: 36 B).
//   Multiplexer: per direction 8 offset bits (1 B) and 8·2·64 bits (128 B) of answers.

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

#[test]
fn share_reveal_and_add_cost_one_message_one_opening_and_nothing() {
    // share, n = 16, ℓ = 64: the client sends x − r, 16·8 = 128 B, in one message at depth 1; the
    // server sends nothing.
    assert_eq!(bytes_msgs_rounds(&online("share", Ring::Z64, TruncMode::OneBit, &[16])), (0, 128, 0, 1, 1));
    // ℓ = 32: 16·4 = 64 B.
    assert_eq!(bytes_msgs_rounds(&online("share", Ring::Z32, TruncMode::OneBit, &[16])), (0, 64, 0, 1, 1));
    // reveal, n = 16, ℓ = 64: both send their share, 128 B each way, in one flight.
    assert_eq!(bytes_msgs_rounds(&online("reveal", Ring::Z64, TruncMode::OneBit, &[16])), (128, 128, 1, 1, 1));
    // add is local.
    assert_eq!(bytes_msgs_rounds(&online("add", Ring::Z64, TruncMode::OneBit, &[16])), (0, 0, 0, 0, 0));
}

#[test]
fn scale_is_a_local_product_and_a_truncation() {
    // n = 16, ℓ = 64, f = 18: x·enc(c) is local; the one-bit truncation by f costs 16 choice bits
    // (2 B) up and 16·2·18 bits (72 B) down, rounds 1–2. Probabilistic truncation: nothing.
    assert_eq!(bytes_msgs_rounds(&online("scale", Ring::Z64, TruncMode::OneBit, &[16])), (72, 2, 1, 1, 2));
    assert_eq!(bytes_msgs_rounds(&online("scale", Ring::Z64, TruncMode::Probabilistic, &[16])), (0, 0, 0, 0, 0));
    // trunc.prob is local whatever the run's truncation mode.
    assert_eq!(bytes_msgs_rounds(&online("trunc.prob", Ring::Z64, TruncMode::OneBit, &[16])), (0, 0, 0, 0, 0));
}

#[test]
fn comparisons_cost_an_msb_and_a_b2a_like_drelu() {
    // lt.public is MSB(x − c) and lt is MSB(x − y): the same 63-bit millionaires' as drelu (which
    // only adds a public 1 to its Boolean share), then the same B2A. n = 8, ℓ = 64: leaf 496 B down
    // and 63 B up, AND tree 58 B each way, B2A 128 B down and 1 B up; depths 1–8 as in drelu.
    let drelu = (480 + 16 + 58 + 128, 60 + 3 + 58 + 1, 2 + 4 + 1, 2 + 4 + 1, 8);
    assert_eq!(bytes_msgs_rounds(&online("lt.public", Ring::Z64, TruncMode::OneBit, &[8])), drelu);
    assert_eq!(bytes_msgs_rounds(&online("lt", Ring::Z64, TruncMode::OneBit, &[8])), drelu);
}

#[test]
fn select_is_a_comparison_then_a_multiplexer_like_relu() {
    // select(x ≥ y, x, y): the millionaires' of MSB(x − y) (no B2A) and the multiplexer on x − y,
    // exactly relu's flights. n = 8, ℓ = 64: millionaires' 554 B down and 121 B up at depths 1–6,
    // ending at (s 5, c 6); multiplexer 1 + 128 B each way, offsets at s 6 / c 7, answers c 7 / s 8.
    let c = online("select", Ring::Z64, TruncMode::OneBit, &[8]);
    assert_eq!(bytes_msgs_rounds(&c), (554 + 129, 121 + 129, 6 + 2, 6 + 2, 8));
}

#[test]
fn horner_is_one_truncation_then_sequential_products() {
    // PUMA's degree-6 GELU segment, n = 16, ℓ = 64, f = 18, one-bit truncation.
    // y = trunc(a6·x) + a5: a local product and one truncation; then 5 × (y·x: Beaver, truncation).
    //   Truncation of 16: 2 B up, 16·2·18 bits = 72 B down. Beaver of 16: 2·16·8 = 256 B each way.
    // Depths: the first truncation c 1, s 2; then each product 2 new depths (see above): 2 + 5·2.
    let trunc = (72, 2, 1, 1);
    let beaver = (256, 256, 1, 1);
    let want = sum(&[trunc, times(5, sum(&[beaver, trunc]))]);
    assert_eq!(want, (1712, 1292, 11, 11));
    let c = online("poly.horner", Ring::Z64, TruncMode::OneBit, &[16]);
    assert_eq!(bytes_msgs_rounds(&c), with_rounds(want, 12));
}

#[test]
fn the_power_basis_batches_powers_by_round() {
    // Same polynomial, n = 16, ℓ = 64, f = 18. It has no x³ or x⁵ term, so the powers it needs, x²,
    // x⁴ = x²·x² and x⁶ = x⁴·x², take ⌈log2 6⌉ = 3 batches of 16 values, each a Beaver product then
    // a truncation. Then Σ a_i·x^i at scale 2^(2f) (0.5, 0.36, −0.038 and 0.0018 are not integers)
    // and one truncation of 16. Beaver of m values: 2·m·8 B each way; truncation of m: m/8 B up,
    // m·2·18/8 B down.
    let batch = |m: u64| sum(&[(16 * m, 16 * m, 1, 1), (m * 36 / 8, m / 8, 1, 1)]);
    let want = sum(&[batch(16), batch(16), batch(16), (72, 2, 1, 1)]);
    // Three products of 16 where Horner takes five, in 7 messages each way instead of 11.
    assert_eq!(want, (1056, 776, 7, 7));
    // Depths: batch 1 opening 1 (both); its truncation c 2, s 3; batch 2 (s 3, c 4), (c 4, s 5);
    // batch 3 (s 5, c 6), (c 6, s 7); the combination's truncation c 8, s 9. Nine.
    let c = online("poly.powers", Ring::Z64, TruncMode::OneBit, &[16]);
    assert_eq!(bytes_msgs_rounds(&c), with_rounds(want, 9));
}

#[test]
fn piecewise_compares_once_computes_powers_once_and_multiplexes_once() {
    // PUMA's GELU, n = 8, ℓ = 64, f = 18: breaks −4, −1.95, 3; pieces 0, a cubic, the degree-6
    // segment, x.
    // 1. 1{x ≥ b_i} for the 3 breaks in one 63-bit millionaires' of 24 values: 3 × (554, 121).
    let compare = times(3, (554, 121, 0, 0));
    let compare = (compare.0, compare.1, 2 + 4, 2 + 4);
    // 2. The powers the pieces need, of 8 values: x² (8 values); x³ for the cubic and x⁴ (16);
    //    x⁶ (8), but no x⁵. Each batch a Beaver product and a truncation (as poly.powers).
    let batch = |m: u64| sum(&[(16 * m, 16 * m, 1, 1), (m * 36 / 8, m / 8, 1, 1)]);
    let powers = sum(&[batch(8), batch(16), batch(8)]);
    // 3. Two pieces have real coefficients (the cubic and the segment; 0 and x need none): one
    //    truncation of 16 values, 2 B up, 72 B down.
    let combine = (72, 2, 1, 1);
    // 4. One multiplexer on the 3 differences of adjacent pieces, 24 values: 3 B of offsets and
    //    24·2·64 bits = 384 B of answers each way.
    let mux = (3 + 384, 3 + 384, 2, 2);
    let want = sum(&[compare, powers, combine, mux]);
    assert_eq!(want, (2777, 1268, 15, 15));
    // Depths: millionaires' 1–6, ending (s 5, c 6); powers (s 6, c 7), (c 7, s 8), (s 8, c 9),
    // (c 9, s 10), (s 10, c 11), (c 11, s 12); combination c 13, s 14; multiplexer offsets s 14,
    // c 15, answers c 15, s 16. Sixteen.
    let c = online("poly.piecewise", Ring::Z64, TruncMode::OneBit, &[8]);
    assert_eq!(bytes_msgs_rounds(&c), with_rounds(want, 16));
}

#[test]
fn the_exp_baseline_squares_eight_times_between_a_comparison_and_a_multiplexer() {
    // bumblebee.exp, n = 8, ℓ = 64, f = 18: 1{x ≥ −14} is 1 ⊕ MSB(x + 14), a millionaires' with no
    // B2A; x/2^8 is a one-bit truncation by 8 (1 B up, 8·2·8 bits = 16 B down); 8 squarings, each a
    // square pair (64 B each way) and a truncation by f (1 B, 36 B); the multiplexer (129 B each
    // way).
    let millionaire = (554, 121, 6, 6);
    let shift = (16, 1, 1, 1);
    let squaring = sum(&[(64, 64, 1, 1), (36, 1, 1, 1)]);
    let mux = (129, 129, 2, 2);
    let want = sum(&[millionaire, shift, times(8, squaring), mux]);
    assert_eq!(want, (1499, 771, 25, 25));
    // Depths: millionaires' 1–6; shift c 7, s 8; 8 squarings with their truncations, 2 depths each
    // (9–24); multiplexer 25–26 (offsets s 24, c 25; answers c 25, s 26).
    let c = online("bumblebee.exp", Ring::Z64, TruncMode::OneBit, &[8]);
    assert_eq!(bytes_msgs_rounds(&c), with_rounds(want, 26));
}

#[test]
fn goldschmidt_normalises_by_seven_comparisons_then_iterates_twice() {
    // recip.goldschmidt on [1, 256), n = 8, ℓ = 64, f = 18, 2 iterations.
    // 1. 1{x ≥ 2^k} for k = 1…7: one millionaires' of 56 values (7 × (554, 121)) and one B2A of 56
    //    (7 B up, 56·2·64 bits = 896 B down).
    let compare = times(7, (554, 121, 0, 0));
    let compare = (compare.0, compare.1, 6, 6);
    let b2a = (896, 7, 1, 1);
    // 2. x·F (F a shared integer): a Beaver product, then a one-bit truncation by kmax + 1 = 8 (1 B
    //    up, 8·2·8 bits = 16 B down).
    let beaver = (128, 128, 1, 1);
    let shift = (16, 1, 1, 1);
    // 3. e = 1 − x_n·r: a product (Beaver, truncation by f: 36 B down, 1 B up). Iteration 1:
    //    r·(1 + e) and e·e batched, 16 values (256 B each way; 72 B down, 2 B up); iteration 2:
    //    r·(1 + e) alone (8 values).
    let mul8 = sum(&[beaver, (36, 1, 1, 1)]);
    let mul16 = (256 + 72, 256 + 2, 2, 2);
    // 4. r·F: a Beaver product and a truncation by 8.
    let want = sum(&[compare, b2a, beaver, shift, mul8, mul16, mul8, beaver, shift]);
    assert_eq!(want, (5718, 1628, 17, 17));
    // Depths: millionaires' 1–6; B2A c 7, s 8; then five products with their truncations
    // (x·F, e, iteration 1, iteration 2, r·F), 2 new depths each: 8 + 5·2 = 18.
    let c = online("recip.goldschmidt", Ring::Z64, TruncMode::OneBit, &[8]);
    assert_eq!(bytes_msgs_rounds(&c), with_rounds(want, 18));
}

#[test]
fn newton_is_the_exp_baseline_then_twenty_sequential_products() {
    // recip.newton, n = 8, ℓ = 64, f = 18: y0 = 3·exp(1 − 2x) + 0.003 with the exp baseline (the
    // bumblebee.exp figures: (1499, 771, 25, 25), 26 rounds, ending after its multiplexer at
    // (s 25, c 26)); then 10 iterations of x·y and y·(2 − x·y), each a Beaver product (128 B each
    // way) and a truncation by f (36 B down, 1 B up).
    let exp = (1499, 771, 25, 25);
    let mul8 = sum(&[(128, 128, 1, 1), (36, 1, 1, 1)]);
    let want = sum(&[exp, times(20, mul8)]);
    assert_eq!(want, (4779, 3351, 65, 65));
    // Depths: exp 1–26; each product after it 2 new depths (the server's first opening rides at
    // 26 with its multiplexer answers): 26 + 20·2 = 66.
    let c = online("recip.newton", Ring::Z64, TruncMode::OneBit, &[8]);
    assert_eq!(bytes_msgs_rounds(&c), with_rounds(want, 66));
}

/// rsqrt of 8 values at ℓ = 64, f = 18 on [2^−4, 2^13) with 3 Newton steps, and its rounds.
const RSQRT_8: (Flow, u64) = ((12636, 3245, 32, 32), 34);

#[test]
fn rsqrt_normalises_by_sixteen_comparisons_then_takes_three_newton_steps() {
    // rsqrt, n = 8, ℓ = 64, f = 18, range kmin = −4, kmax = 12, 3 Newton steps.
    // 1. 1{x ≥ 2^k} for k = −3…12: a millionaires' of 16·8 = 128 values (16 × (554, 121)) and a B2A
    //    of 128 (16 B up, 128·2·64 bits = 2048 B down).
    let compare = times(16, (554, 121, 0, 0));
    let compare = (compare.0, compare.1, 6, 6);
    let b2a = (2048, 16, 1, 1);
    // 2. x·N (N a shared integer): a Beaver product, then a truncation by E = K'(12) = 14
    //    (8·2·14 bits = 28 B down, 1 B up).
    let beaver = (128, 128, 1, 1);
    let trunc_e = (28, 1, 1, 1);
    let trunc_f = (36, 1, 1, 1);
    // 3. x_n²: a square pair (64 B each way) and a truncation by f; the quadratic guess: one
    //    truncation by f of the real-coefficient terms.
    let square = sum(&[(64, 64, 1, 1), trunc_f]);
    // 4. Each Newton step: y² (square pair, truncation), x_n·y² (Beaver, truncation), y·(3 − h)
    //    (Beaver) and a truncation by f + 1 = 19 (8·2·19 bits = 38 B down, 1 B up).
    let step = sum(&[square, beaver, trunc_f, beaver, (38, 1, 1, 1)]);
    // 5. y·M: a Beaver product and a truncation by E/2 = 7 (8·2·7 bits = 14 B down, 1 B up).
    let want = sum(&[compare, b2a, beaver, trunc_e, square, trunc_f, times(3, step), beaver, (14, 1, 1, 1)]);
    assert_eq!(want, RSQRT_8.0);
    // Depths: millionaires' 1–6; B2A c 7, s 8; x·N and its truncation 9–10; x_n² 11–12; the
    // guess's truncation alone c 13, s 14; each step three product/truncation pairs (y²
    // with its truncation; x_n·y² with its; y·(3 − h) with the shift by f + 1), 6 new depths:
    // 14 + 3·6 = 32; y·M 33–34.
    let c = online("rsqrt", Ring::Z64, TruncMode::OneBit, &[8]);
    assert_eq!(bytes_msgs_rounds(&c), with_rounds(want, RSQRT_8.1));
}

#[test]
fn layernorm_is_mean_variance_rsqrt_and_two_products() {
    // layernorm, 8 rows of d = 4, ℓ = 64, f = 18.
    let cost = cost("layernorm", Ring::Z64, TruncMode::OneBit, &[8, 4]);
    // Setup: the server shares γ and β, two messages of 4·8 = 32 B, both at depth 1.
    assert_eq!(bytes_msgs_rounds(&cost.phase_counts(Phase::Setup)), (64, 0, 2, 0, 1));
    // Online, n = 32 values, 8 rows:
    // 1. mean: Σx·(1/d) locally, a truncation of 8 by f + 16 = 34 (1 B up, 8·2·34 bits = 68 B).
    let trunc_rows = (68, 1, 1, 1);
    // 2. dev² by a square pair (32·8 = 256 B each way) and a truncation of 32 by f (4 B up,
    //    32·2·18 bits = 144 B down); the variance like the mean.
    let trunc_32 = (144, 4, 1, 1);
    let square = sum(&[(256, 256, 1, 1), trunc_32]);
    // 3. rsqrt of the 8 variances (the rsqrt test).
    let rsqrt = RSQRT_8.0;
    // 4. dev·rs and y·γ: each a Beaver product of 32 (512 B each way) and a truncation of 32.
    let mul32 = sum(&[(512, 512, 1, 1), trunc_32]);
    let want = sum(&[trunc_rows, square, trunc_rows, rsqrt, mul32, mul32]);
    assert_eq!(want, (14484, 4539, 40, 40));
    // Depths: the client enters the online phase with clock 1 (it received γ and β at depth 1),
    // the server with 0, so everything sits one deeper than from (0, 0), and depth 1 has no online
    // message: the mean's truncation c 2, s 3; dev² (s 3, c 4) and its truncation (c 4, s 5); the
    // variance's truncation c 6, s 7; rsqrt 34 depths, 8–41 (its leaf OTs start from (6, 7) as from
    // (0, 0)); the two products 42–43 and 44–45. 6 + 34 + 4 = 44 rounds, depths 2–45.
    let c = cost.phase_counts(Phase::Online);
    assert_eq!(bytes_msgs_rounds(&c), with_rounds(want, 6 + RSQRT_8.1 + 4));
}
