//! Exact costs of the building blocks at small shapes, derived by hand in the comments.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use dyad_model::registry::Registry;
use dyad_protocols::TruncMode;
use dyad_protocols::blocks::trunc::truncate_probabilistic;
use dyad_protocols::harness::{self, RunSpec};
use dyad_sim::{CostReport, Counts, Phase, Ring, RingTensor, Role, Share};
use rand::SeedableRng;

/// The built-in protocols, built once for every test here.
static REGISTRY: std::sync::LazyLock<Registry> =
    std::sync::LazyLock::new(|| Registry::builtin().expect("the built-in protocols build"));

/// The whole cost report of one checked run (every phase).
fn cost(name: &str, ring: Ring, trunc: TruncMode, dims: &[usize]) -> CostReport {
    let p = REGISTRY.find(name).unwrap();
    let spec = RunSpec { trunc: Some(trunc), ..RunSpec::new(ring, 1).with_dims(dims) };
    let checked = harness::run(p, &spec).unwrap();
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
// - A multiplexer from (D − 1, D): the server's flips D, the client's D + 1 (flight 1), then
//   the server's τ D + 2 and the client's D + 1 (flight 2): 2 new depths, ending at
//   (D + 1, D + 2).
// Component figures at ℓ = 64, f = 18 for n = 8 values, used throughout:
//   63-bit millionaires' (the MSB's carry): 496 + 58 = 554 B down, 63 + 58 = 121 B up, 2 leaf
//   messages and 4 AND levels each way (the drelu test). Every bit count in it is a multiple of 8
//   per 8 values, so k·8 values cost exactly k times as much.
//   B2A: 8 choice bits (1 B) up, 8 values of 64 bits (64 B) down.
//   Beaver product: d and e, 2·8·8 = 128 B each way; square pair: d only, 64 B each way.
//   One-bit truncation by k: 8 choice bits (1 B) up, 8·k bits down (k = 18: 18 B).
//   Multiplexer: per direction 8 flip bits (1 B) and 8·64 bits (64 B) of τ.

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
    // server 16 values of f = 18 bits (36 B): rounds 2 and 3.
    assert_eq!(bytes_msgs_rounds(&online("mul", Ring::Z64, TruncMode::OneBit, &[16])), (256 + 36, 256 + 2, 2, 2, 3));
    // Probabilistic truncation is local: only the Beaver round remains.
    assert_eq!(bytes_msgs_rounds(&online("mul", Ring::Z64, TruncMode::Probabilistic, &[16])), (256, 256, 1, 1, 1));
    // ℓ = 32, f = 13: Beaver 2·16·4 = 128 B each way; truncation 2 B and 16·13 bits = 26 B.
    assert_eq!(bytes_msgs_rounds(&online("mul", Ring::Z32, TruncMode::OneBit, &[16])), (128 + 26, 128 + 2, 2, 2, 3));
}

#[test]
fn square_and_matmul_open_one_masked_operand_each() {
    // square, n = 16, ℓ = 64, probabilistic: d = x − a only, 16·8 = 128 B each way.
    assert_eq!(bytes_msgs_rounds(&online("square", Ring::Z64, TruncMode::Probabilistic, &[16])), (128, 128, 1, 1, 1));
    // matmul [3,4]·[4,5], ℓ = 64, probabilistic: D (12 elements) and E (20) at 8 B each way. (At
    // ℓ = 32 SecureML's truncation wraps for a fair share of seeds at these values, and the run
    // would fail its check whatever its counts.)
    assert_eq!(
        bytes_msgs_rounds(&online("matmul", Ring::Z64, TruncMode::Probabilistic, &[3, 4, 5])),
        (256, 256, 1, 1, 1)
    );
    // Its matrix triple, from the dealer to each party: shares of A [3,4], B [4,5] and C = A·B
    // [3,5], 12 + 20 + 15 = 47 elements of 8 B, in one delivery each, all offline.
    let offline = cost("matmul", Ring::Z64, TruncMode::Probabilistic, &[3, 4, 5]).phase_counts(Phase::Offline);
    assert_eq!((offline.dealer_bytes_to_server, offline.dealer_bytes_to_client, offline.bytes()), (376, 376, 0));
}

#[test]
fn drelu_costs_what_the_millionaires_protocol_says() {
    // n = 8, ℓ = 64: the carry is a 63-bit millionaires' with m = 4: 15 chunks of 4 bits and one of 3.
    //   leaf OTs: client sends 8·15·4 bits = 60 B and 8·3 bits = 3 B; the server 8·15·16·2 bits =
    //   480 B and 8·8·2 bits = 16 B (2-bit messages, 2^m of them per chunk); rounds 1–2.
    //   AND tree over 16 chunks: 16, 8, 4 and 1 ANDs per element per level, 2 bits each way per
    //   AND: 32 + 16 + 8 + 2 = 58 B each way; rounds 3–6.
    //   B2A of the result: 8 choice bits (1 B) and 8 values of 64 bits (64 B); rounds 7–8.
    let c = online("drelu", Ring::Z64, TruncMode::OneBit, &[8]);
    assert_eq!(bytes_msgs_rounds(&c), (480 + 16 + 58 + 64, 60 + 3 + 58 + 1, 2 + 4 + 1, 2 + 4 + 1, 8));
    //   Depths (Lamport): leaf e 1, Y 2; the server sends each AND level as soon as it has the
    //   client's previous one, the client after the server's: levels at (s 2, c 3), (s 4, c 3),
    //   (s 4, c 5), (s 6, c 5); B2A flips 7, τ 8. Eight distinct depths.
    // ℓ = 32: 31 bits = 7 chunks of 4 and one of 3; leaf 8·7·4 bits = 28 B and 3 B up, 8·7·32
    //   bits = 224 B and 16 B down; tree over 8 chunks: 8, 4, 1 ANDs → 16 + 8 + 2 = 26 B each way;
    //   B2A 1 B up and 8·32 bits = 32 B down. Depths: leaf 1, 2; levels (s 2, c 3), (s 4, c 3),
    //   (s 4, c 5); B2A flips 5 (the client has seen depth 4), τ 6. Six rounds: the tree's odd depth
    //   lets the B2A's first flight overlap its last level.
    let c = online("drelu", Ring::Z32, TruncMode::OneBit, &[8]);
    assert_eq!(bytes_msgs_rounds(&c), (224 + 16 + 26 + 32, 28 + 3 + 26 + 1, 2 + 3 + 1, 2 + 3 + 1, 6));
}

#[test]
fn relu_is_a_comparison_then_a_multiplexer() {
    // n = 8, ℓ = 64: the millionaires' as in drelu (496 B down, 63 B up, tree 58 B each way, 6
    // rounds), then the multiplexer: two correlated OTs in opposite directions, each 8 flip bits
    // (1 B) one way and 8 values τ of 64 bits (64 B) back, in rounds 7–8.
    let c = online("relu", Ring::Z64, TruncMode::OneBit, &[8]);
    assert_eq!(bytes_msgs_rounds(&c), (496 + 58 + 1 + 64, 63 + 58 + 1 + 64, 2 + 4 + 2, 2 + 4 + 2, 8));
}

#[test]
fn faithful_truncation_adds_a_short_comparison_to_the_one_bit_truncation() {
    // n = 8, ℓ = 64, k = 12 (trunc.* shift by 12): the carry is a 12-bit millionaires' (3 chunks of
    // 4 bits): leaf 8·3·4 bits = 12 B up, 8·3·32 bits = 96 B down; tree 3 → 2 → 1 with 2 and 1
    // ANDs: 4 + 2 = 6 B each way. Then two OT batches in one flight: B2A of the carry (1 B up,
    // 8·64 bits = 64 B down) and the wrap (1 B up, 8·12 bits = 12 B down).
    let c = online("trunc.faithful", Ring::Z64, TruncMode::OneBit, &[8]);
    assert_eq!(bytes_msgs_rounds(&c), (96 + 6 + 64 + 12, 12 + 6 + 1 + 1, 1 + 2 + 2, 1 + 2 + 2, 2 + 2 + 2));
    // trunc.one_bit is the wrap alone: 1 B up, 8·12 bits = 12 B down.
    let c = online("trunc.one_bit", Ring::Z64, TruncMode::OneBit, &[8]);
    assert_eq!(bytes_msgs_rounds(&c), (12, 1, 1, 1, 2));
}

#[test]
fn the_max_tree_has_one_comparison_and_one_multiplexer_per_level() {
    // rows = 1, n = 4, ℓ = 32: level 1 compares 2 pairs, level 2 one pair. Each level is a 31-bit
    // millionaires' (2 leaf-OT messages and 3 AND levels each way) and a multiplexer (flips and
    // τ each way): 2 × (2 + 3 + 2) = 14 messages each way.
    // Depths, level 1: leaf 1, 2; ANDs (s 2, c 3), (s 4, c 3), (s 4, c 5); multiplexer flips
    // c 5, s 6; τ s 6, c 7. Level 2 starts from the client's clock 6: leaf 7, 8; ANDs
    // (s 8, c 9), (s 10, c 9), (s 10, c 11); flips c 11, s 12; τ s 12, c 13. Thirteen.
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
    // (2 B) up and 16·18 bits (36 B) down, rounds 1–2. Probabilistic truncation: nothing.
    assert_eq!(bytes_msgs_rounds(&online("scale", Ring::Z64, TruncMode::OneBit, &[16])), (36, 2, 1, 1, 2));
    assert_eq!(bytes_msgs_rounds(&online("scale", Ring::Z64, TruncMode::Probabilistic, &[16])), (0, 0, 0, 0, 0));
    // trunc.prob is local whatever the run's truncation mode.
    assert_eq!(bytes_msgs_rounds(&online("trunc.prob", Ring::Z64, TruncMode::OneBit, &[16])), (0, 0, 0, 0, 0));
}

#[test]
fn comparisons_cost_an_msb_and_a_b2a_like_drelu() {
    // lt.public is MSB(x − c) and lt is MSB(x − y): the same 63-bit millionaires' as drelu (which
    // only adds a public 1 to its Boolean share), then the same B2A. n = 8, ℓ = 64: leaf 496 B down
    // and 63 B up, AND tree 58 B each way, B2A 64 B down and 1 B up; depths 1–8 as in drelu.
    let drelu = (480 + 16 + 58 + 64, 60 + 3 + 58 + 1, 2 + 4 + 1, 2 + 4 + 1, 8);
    assert_eq!(bytes_msgs_rounds(&online("lt.public", Ring::Z64, TruncMode::OneBit, &[8])), drelu);
    assert_eq!(bytes_msgs_rounds(&online("lt", Ring::Z64, TruncMode::OneBit, &[8])), drelu);
}

#[test]
fn select_is_a_comparison_then_a_multiplexer_like_relu() {
    // select(x ≥ y, x, y): the millionaires' of MSB(x − y) (no B2A) and the multiplexer on x − y,
    // exactly relu's flights. n = 8, ℓ = 64: millionaires' 554 B down and 121 B up at depths 1–6,
    // ending at (s 5, c 6); multiplexer 1 + 64 B each way, flips at s 6 / c 7, τ c 7 / s 8.
    let c = online("select", Ring::Z64, TruncMode::OneBit, &[8]);
    assert_eq!(bytes_msgs_rounds(&c), (554 + 65, 121 + 65, 6 + 2, 6 + 2, 8));
}

#[test]
fn horner_is_one_truncation_then_sequential_products() {
    // PUMA's degree-6 GELU segment, n = 16, ℓ = 64, f = 18, one-bit truncation.
    // y = trunc(a6·x) + a5: a local product and one truncation; then 5 × (y·x: Beaver, truncation).
    //   Truncation of 16: 2 B up, 16·18 bits = 36 B down. Beaver of 16: 2·16·8 = 256 B each way.
    // Depths: the first truncation c 1, s 2; then each product 2 new depths (see above): 2 + 5·2.
    let trunc = (36, 2, 1, 1);
    let beaver = (256, 256, 1, 1);
    let want = sum(&[trunc, times(5, sum(&[beaver, trunc]))]);
    assert_eq!(want, (1496, 1292, 11, 11));
    let c = online("poly.horner", Ring::Z64, TruncMode::OneBit, &[16]);
    assert_eq!(bytes_msgs_rounds(&c), with_rounds(want, 12));
}

#[test]
fn the_power_basis_batches_powers_by_round() {
    // Same polynomial, n = 16, ℓ = 64, f = 18. It has no x³ or x⁵ term, so the powers it needs take
    // ⌈log2 6⌉ = 3 batches of 16 values, each one opening then a truncation: x² and x⁴ = x²·x² are
    // squares (d only, 16·8 = 128 B each way), x⁶ = x⁴·x² a Beaver product (d and e, 256 B). Then
    // Σ a_i·x^i at scale 2^(2f) (0.5, 0.36, −0.038 and 0.0018 are not integers) and one truncation
    // of 16. Truncation of m: m/8 B up, m·18/8 B down.
    let batch = |products: u64, squares: u64| {
        let m = products + squares;
        let opened = 8 * (2 * products + squares);
        sum(&[(opened, opened, 1, 1), (m * 18 / 8, m / 8, 1, 1)])
    };
    let want = sum(&[batch(0, 16), batch(0, 16), batch(16, 0), (36, 2, 1, 1)]);
    // Openings of 64 values where Horner opens 160, in 7 messages each way instead of 11.
    assert_eq!(want, (656, 520, 7, 7));
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
    // 2. The powers the pieces need, of 8 values, but no x⁵: the square x²; x³ = x²·x for the cubic
    //    (a Beaver product) and the square x⁴ in one opening; the product x⁶ = x⁴·x². Each batch
    //    one opening (8 B per square value, 16 B per product value, each way) and a truncation.
    let batch = |products: u64, squares: u64| {
        let m = products + squares;
        let opened = 8 * (2 * products + squares);
        sum(&[(opened, opened, 1, 1), (m * 18 / 8, m / 8, 1, 1)])
    };
    let powers = sum(&[batch(0, 8), batch(8, 8), batch(8, 0)]);
    // 3. Two pieces have real coefficients (the cubic and the segment; 0 and x need none): one
    //    truncation of 16 values, 2 B up, 36 B down.
    let combine = (36, 2, 1, 1);
    // 4. One multiplexer on the 3 differences of adjacent pieces, 24 values: 3 B of flips and
    //    24·64 bits = 192 B of τ each way.
    let mux = (3 + 192, 3 + 192, 2, 2);
    let want = sum(&[compare, powers, combine, mux]);
    assert_eq!(want, (2349, 948, 15, 15));
    // Depths: millionaires' 1–6, ending (s 5, c 6); powers (s 6, c 7), (c 7, s 8), (s 8, c 9),
    // (c 9, s 10), (s 10, c 11), (c 11, s 12); combination c 13, s 14; multiplexer flips s 14,
    // c 15, τ c 15, s 16. Sixteen.
    let c = online("poly.piecewise", Ring::Z64, TruncMode::OneBit, &[8]);
    assert_eq!(bytes_msgs_rounds(&c), with_rounds(want, 16));
}

#[test]
fn the_exp_baseline_squares_eight_times_between_a_comparison_and_a_multiplexer() {
    // bumblebee.exp, n = 8, ℓ = 64, f = 18: 1{x ≥ −14} is 1 ⊕ MSB(x + 14), a millionaires' with no
    // B2A; x/2^8 is a one-bit truncation by 8 (1 B up, 8·8 bits = 8 B down); 8 squarings, each a
    // square pair (64 B each way) and a truncation by f (1 B, 18 B); the multiplexer (65 B each
    // way).
    let millionaire = (554, 121, 6, 6);
    let shift = (8, 1, 1, 1);
    let squaring = sum(&[(64, 64, 1, 1), (18, 1, 1, 1)]);
    let mux = (65, 65, 2, 2);
    let want = sum(&[millionaire, shift, times(8, squaring), mux]);
    assert_eq!(want, (1283, 707, 25, 25));
    // Depths: millionaires' 1–6; shift c 7, s 8; 8 squarings with their truncations, 2 depths each
    // (9–24); multiplexer 25–26 (flips s 24, c 25; τ c 25, s 26).
    let c = online("bumblebee.exp", Ring::Z64, TruncMode::OneBit, &[8]);
    assert_eq!(bytes_msgs_rounds(&c), with_rounds(want, 26));
}

#[test]
fn goldschmidt_normalises_by_seven_comparisons_then_iterates_twice() {
    // recip.goldschmidt on [1, 256), n = 8, ℓ = 64, f = 18, 2 iterations.
    // 1. 1{x ≥ 2^k} for k = 1…7: one millionaires' of 56 values (7 × (554, 121)) and one B2A of 56
    //    (7 B up, 56·64 bits = 448 B down).
    let compare = times(7, (554, 121, 0, 0));
    let compare = (compare.0, compare.1, 6, 6);
    let b2a = (448, 7, 1, 1);
    // 2. x·F (F a shared integer): a Beaver product, then a one-bit truncation by kmax + 1 = 8 (1 B
    //    up, 8·8 bits = 8 B down).
    let beaver = (128, 128, 1, 1);
    let shift = (8, 1, 1, 1);
    // 3. e = 1 − x_n·r: a product (Beaver, truncation by f: 18 B down, 1 B up). Iteration 1:
    //    r·(1 + e) and e·e batched, 16 values (256 B each way; 36 B down, 2 B up); iteration 2:
    //    r·(1 + e) alone (8 values).
    let mul8 = sum(&[beaver, (18, 1, 1, 1)]);
    let mul16 = (256 + 36, 256 + 2, 2, 2);
    // 4. r·F: a Beaver product and a truncation by 8.
    let want = sum(&[compare, b2a, beaver, shift, mul8, mul16, mul8, beaver, shift]);
    assert_eq!(want, (5182, 1628, 17, 17));
    // Depths: millionaires' 1–6; B2A c 7, s 8; then five products with their truncations
    // (x·F, e, iteration 1, iteration 2, r·F), 2 new depths each: 8 + 5·2 = 18.
    let c = online("recip.goldschmidt", Ring::Z64, TruncMode::OneBit, &[8]);
    assert_eq!(bytes_msgs_rounds(&c), with_rounds(want, 18));
}

#[test]
fn newton_is_the_exp_baseline_then_twenty_sequential_products() {
    // recip.newton, n = 8, ℓ = 64, f = 18: y0 = 3·exp(1 − 2x) + 0.003 with the exp baseline (the
    // bumblebee.exp figures: (1283, 707, 25, 25), 26 rounds, ending after its multiplexer at
    // (s 25, c 26)); then 10 iterations of x·y and y·(2 − x·y), each a Beaver product (128 B each
    // way) and a truncation by f (18 B down, 1 B up).
    let exp = (1283, 707, 25, 25);
    let mul8 = sum(&[(128, 128, 1, 1), (18, 1, 1, 1)]);
    let want = sum(&[exp, times(20, mul8)]);
    assert_eq!(want, (4203, 3287, 65, 65));
    // Depths: exp 1–26; each product after it 2 new depths (the server's first opening rides at
    // 26 with its multiplexer τ): 26 + 20·2 = 66.
    let c = online("recip.newton", Ring::Z64, TruncMode::OneBit, &[8]);
    assert_eq!(bytes_msgs_rounds(&c), with_rounds(want, 66));
}

/// rsqrt of 8 values at ℓ = 64, f = 18 on [2^−10, 2^14) with 3 Newton steps, and its rounds.
const RSQRT_8: (Flow, u64) = ((15716, 4099, 32, 32), 34);

#[test]
fn rsqrt_normalises_by_twenty_three_comparisons_then_takes_three_newton_steps() {
    // rsqrt, n = 8, ℓ = 64, f = 18, range kmin = −10, kmax = 13, 3 Newton steps.
    // 1. 1{x ≥ 2^k} for k = −9…13: a millionaires' of 23·8 = 184 values (23 × (554, 121)) and a
    //    B2A of 184 (23 B up, 184·64 bits = 1472 B down).
    let compare = times(23, (554, 121, 0, 0));
    let compare = (compare.0, compare.1, 6, 6);
    let b2a = (1472, 23, 1, 1);
    // 2. x·N (N a shared integer): a Beaver product, then a truncation by E = K'(13) = 14
    //    (8·14 bits = 14 B down, 1 B up).
    let beaver = (128, 128, 1, 1);
    let trunc_e = (14, 1, 1, 1);
    let trunc_f = (18, 1, 1, 1);
    // 3. x_n²: a square pair (64 B each way) and a truncation by f; the quadratic guess: one
    //    truncation by f of the real-coefficient terms.
    let square = sum(&[(64, 64, 1, 1), trunc_f]);
    // 4. Each Newton step: y² (square pair, truncation), x_n·y² (Beaver, truncation), y·(3 − h)
    //    (Beaver) and a truncation by f + 1 = 19 (8·19 bits = 19 B down, 1 B up).
    let step = sum(&[square, beaver, trunc_f, beaver, (19, 1, 1, 1)]);
    // 5. y·M: a Beaver product and a truncation by E/2 = 7 (8·7 bits = 7 B down, 1 B up).
    let want = sum(&[compare, b2a, beaver, trunc_e, square, trunc_f, times(3, step), beaver, (7, 1, 1, 1)]);
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
    // 1. mean: Σx·(1/d) locally, a truncation of 8 by f + 8 = 26 (1 B up, 8·26 bits = 26 B).
    let trunc_rows = (26, 1, 1, 1);
    // 2. dev² exact, by a square pair (32·8 = 256 B each way) and no truncation; the 8 row sums
    //    shifted by 14 (1 B up, 8·14 bits = 14 B down); times 1/d, truncated by
    //    2f + 8 − 14 − 16 = 14 to a variance with f + 16 fraction bits (14 B down, 1 B up).
    let trunc_32 = (72, 4, 1, 1);
    let trunc_rows_14 = (14, 1, 1, 1);
    let square = (256, 256, 1, 1);
    // 3. rsqrt of the 8 variances (the rsqrt test), whose normalisation now also removes the
    //    variance's 16 extra bits: the truncation of x·N is by 14 + 16 = 30 (8·30 bits = 30 B
    //    down instead of 14).
    let rsqrt = sum(&[RSQRT_8.0, (30 - 14, 0, 0, 0)]);
    // 4. dev·rs and y·γ: each a Beaver product of 32 (512 B each way) and a truncation of 32 by f
    //    (4 B up, 32·18 bits = 72 B down).
    let mul32 = sum(&[(512, 512, 1, 1), trunc_32]);
    let want = sum(&[trunc_rows, square, trunc_rows_14, trunc_rows_14, rsqrt, mul32, mul32]);
    assert_eq!(want, (17210, 5390, 40, 40));
    // Depths: the client enters the online phase with clock 1 (it received γ and β at depth 1),
    // the server with 0, so everything sits one deeper than from (0, 0), and depth 1 has no online
    // message: the mean's truncation c 2, s 3; dev² (s 3, c 4) and the sums' truncation (c 4, s 5);
    // the variance's truncation c 6, s 7; rsqrt 34 depths, 8–41 (its leaf OTs start from (6, 7) as
    // from (0, 0)); the two products 42–43 and 44–45. 6 + 34 + 4 = 44 rounds, depths 2–45.
    let c = cost.phase_counts(Phase::Online);
    assert_eq!(bytes_msgs_rounds(&c), with_rounds(want, 6 + RSQRT_8.1 + 4));
}

/// Bytes of `bits` bits on the wire: every message (and each of d and e in an opening, which
/// `open_many` packs one tensor at a time) is rounded up to whole bytes on its own.
fn wire(bits: u64) -> u64 {
    bits.div_ceil(8)
}

/// The 63-bit millionaires' (the MSB's carry at ℓ = 64) of `m` values: 15 chunks of 4 bits and one
/// of 3, so two leaf-OT batches each way (the client's choices, m·15·4 and m·3 bits; the server's
/// answers, m·15·16·2 and m·8·2 bits), then the AND tree over 16 chunks with 16, 8, 4 and 1 ANDs
/// per value per level (d and e, one bit each, packed separately). At m = 8 it is the drelu test's
/// (554, 121), where every count is a multiple of 8 bits; at other m the roundings show.
fn millionaires_63(m: u64) -> Flow {
    let tree: u64 = [16, 8, 4, 1].iter().map(|a| 2 * wire(m * a)).sum();
    (wire(m * 15 * 16 * 2) + wire(m * 8 * 2) + tree, wire(m * 15 * 4) + wire(m * 3) + tree, 2 + 4, 2 + 4)
}

/// The multiplexer on `m` values at ℓ = 64: per direction m flip bits and m·64 bits of τ.
fn mux_64(m: u64) -> Flow {
    (wire(m) + wire(m * 64), wire(m) + wire(m * 64), 2, 2)
}

/// A one-bit truncation of `m` values by `k` bits: m choice bits up, m·k bits down.
fn trunc_by(m: u64, k: u64) -> Flow {
    (wire(m * k), wire(m), 1, 1)
}

/// A Beaver product of `m` values at ℓ = 64: d and e, 2·m·8 bytes each way.
fn beaver_64(m: u64) -> Flow {
    (16 * m, 16 * m, 1, 1)
}

#[test]
fn the_helpers_reproduce_the_component_figures_at_eight_values() {
    // The shared figures above, n = 8, ℓ = 64, f = 18.
    assert_eq!(millionaires_63(8), (554, 121, 6, 6));
    assert_eq!(mux_64(8), (65, 65, 2, 2));
    assert_eq!(trunc_by(8, 18), (18, 1, 1, 1));
    assert_eq!(beaver_64(8), (128, 128, 1, 1));
    // Smaller and larger batches, by hand:
    // m = 4: leaf 4·60·4 bits = 30 B and 4·3 bits → 2 B up, 4·60·32 bits = 240 B and 4·16 bits = 8 B
    //   down; tree 64, 32, 16, 4 ANDs: d and e of 8, 4, 2 and 1 B (4 bits rounded up) = 30 B each way.
    assert_eq!(millionaires_63(4), (248 + 30, 32 + 30, 6, 6));
    // m = 2: leaf 15 B and 6 bits → 1 B up, 120 B and 4 B down; tree 32, 16, 8, 2 ANDs: d and e of
    //   4, 2, 1 and 1 B (2 bits rounded up) = 16 B each way.
    assert_eq!(millionaires_63(2), (124 + 16, 16 + 16, 6, 6));
    // m = 34: leaf 34·60·4 bits = 255 B and 102 bits → 13 B up, 34·60·32 bits = 2040 B and 34·16
    //   bits = 68 B down; tree 544, 272, 136, 34 ANDs: d and e of 68, 34, 17 and 5 B (34 bits
    //   rounded up) = 248 B each way.
    assert_eq!(millionaires_63(34), (2108 + 248, 268 + 248, 6, 6));
    // Multiplexers of 4 and 2 values: the flips round up to 1 B; 4·64 bits = 32 B, 2·64 = 16 B.
    assert_eq!(mux_64(4), (33, 33, 2, 2));
    assert_eq!(mux_64(2), (17, 17, 2, 2));
}

#[test]
fn softmax_freediv_is_the_max_tree_the_exp_baseline_and_one_public_scaling() {
    // freediv.softmax_freediv, 2 rows of n = 4 keys, ℓ = 64, f = 18: m = max(x) per row, d = x − m
    // (local), e = exp(d) by the Taylor baseline on the 8 values, then e·κ with κ = 1/n public:
    // a local product with enc(0.25) and one truncation of 8 values by f.
    // 1. The max tree: level 1 compares 2 pairs per row (4 values: a millionaires' and a
    //    multiplexer of 4), level 2 the remaining pair (2 values).
    let level1 = sum(&[millionaires_63(4), mux_64(4)]);
    let level2 = sum(&[millionaires_63(2), mux_64(2)]);
    let max = sum(&[level1, level2]);
    assert_eq!(max, (468, 144, 16, 16));
    // 2. The exp baseline on 8 values: the bumblebee.exp figures (26 rounds from (0, 0)).
    let exp = (1283, 707, 25, 25);
    // 3. The scaling's truncation of 8 by f.
    let scale = trunc_by(8, 18);
    let want = sum(&[max, exp, scale]);
    assert_eq!(want, (1769, 852, 42, 42));
    // Depths: each max level is a millionaires' (4 AND levels, so it ends at (D − 1, D)) and a
    // multiplexer: level 1 leaf c 1, s 2; ANDs (s 2, c 3), (s 4, c 3), (s 4, c 5), (s 6, c 5);
    // flips s 6, c 7; τ c 7, s 8, ending at (s 7, c 8). Level 2 starts from the client's
    // clock 8: leaf 9, 10; ANDs up to 14; multiplexer 15–16, ending at (15, 16). The exp's
    // comparison starts from the client's clock as from (0, 0): its 26 depths are 17–42, ending at
    // (41, 42); the scaling's truncation c 43, s 44.
    let c = online("freediv.softmax_freediv", Ring::Z64, TruncMode::OneBit, &[2, 4]);
    assert_eq!(bytes_msgs_rounds(&c), with_rounds(want, 8 + 8 + 26 + 2));
}

#[test]
fn quad2_freediv_is_a_square_and_two_truncations() {
    // freediv.quad2_freediv, 2 rows of n = 4, ℓ = 64, f = 18: t = x + 5 (local), q = t² by a square
    // pair (d only, 8·8 = 64 B each way) and a truncation by f (18 B down, 1 B up), then q·κ with
    // κ = 1/(n·25) public: a local product and a second truncation of 8 by f. No comparison.
    let square = sum(&[(64, 64, 1, 1), trunc_by(8, 18)]);
    let want = sum(&[square, trunc_by(8, 18)]);
    assert_eq!(want, (100, 66, 3, 3));
    // Depths: the opening 1 (both); its truncation c 2, s 3; the scaling's truncation c 4, s 5.
    let c = online("freediv.quad2_freediv", Ring::Z64, TruncMode::OneBit, &[2, 4]);
    assert_eq!(bytes_msgs_rounds(&c), with_rounds(want, 5));
}

#[test]
fn mpcformer_quad2_divides_by_the_row_sum_with_goldschmidt() {
    // mpcformer.quad2, 2 rows of n = 4, ℓ = 64, f = 18: q = (x + 5)² as in quad2_freediv (square
    // pair and truncation of 8), s = Σq per row (local, 2 values), r = 1/s by Goldschmidt with 2
    // iterations, then q·r (r repeated along the row: a product of 8).
    let square = sum(&[(64, 64, 1, 1), trunc_by(8, 18)]);
    // The reciprocal's range is [2^−4, 2^(kmax+1)) with kmax = ⌈log2(n·(40 + 5)²)⌉ = ⌈log2 8100⌉ = 13:
    // thresholds 2^k for k = −3…13, 17 of them.
    // 1. 1{s ≥ 2^k}: one millionaires' of 17·2 = 34 values, then a B2A of 34 (34 bits → 5 B up,
    //    34·64 bits = 272 B down).
    let compare = millionaires_63(34);
    let b2a = (272, 5, 1, 1);
    // 2. s·F: a Beaver product of 2 (32 B each way), a truncation by kmax + 1 = 14 (2·14 bits →
    //    4 B down, 2 bits → 1 B up).
    let normalise = sum(&[beaver_64(2), trunc_by(2, 14)]);
    // 3. e = 1 − x_n·r (a product of 2 and a truncation by f: 2·18 bits → 5 B down); iteration 1
    //    batches r·(1 + e) and e·e, 4 values (64 B each way; 4·18 bits = 9 B down, 1 B up);
    //    iteration 2 is r·(1 + e) alone, 2 values.
    let mul2 = sum(&[beaver_64(2), trunc_by(2, 18)]);
    let mul4 = sum(&[beaver_64(4), trunc_by(4, 18)]);
    // 4. r·F: a Beaver product of 2 and a truncation by 14, as in 2.
    let recip = sum(&[compare, b2a, normalise, mul2, mul4, mul2, normalise]);
    assert_eq!(recip, (2847, 718, 17, 17));
    // 5. q·r: a Beaver product of 8 (128 B each way) and a truncation of 8 by f.
    let product = sum(&[beaver_64(8), trunc_by(8, 18)]);
    let want = sum(&[square, recip, product]);
    assert_eq!(want, (3075, 912, 21, 21));
    // Depths: the square's opening 1 (both), its truncation c 2, s 3, ending at (s 2, c 3); the
    // millionaires' from there as from (0, 0) shifted by 3: leaf 4, 5, AND levels 6–9, ending at
    // (8, 9); B2A c 10, s 11; then five products with their truncations (s·F, e, iteration 1,
    // iteration 2, r·F), 2 new depths each (the server's opening rides at the depth of its last
    // answer), 12–21; q·r 22–23. Twenty-three: the recip test's 18 plus 3 before and 2 after.
    let c = online("mpcformer.quad2", Ring::Z64, TruncMode::OneBit, &[2, 4]);
    assert_eq!(bytes_msgs_rounds(&c), with_rounds(want, 3 + 18 + 2));
    // The division is what freeDiv removes: the reciprocal and the product of 8 replace one
    // truncation of 8, (3075 − 100, 912 − 66) bytes and 23 − 5 = 18 rounds.
}

#[test]
fn quad_gelu_is_one_square_and_two_truncations() {
    // freediv.quad_gelu, n = 8, ℓ = 64, f = 18: 0.125·x² + 0.25·x + 0.5, one piece and no
    // breakpoints, so no comparison and no multiplexer. The power basis computes x² with a square
    // pair (d only, 8·8 = 64 B each way) and a truncation by f (18 B down, 1 B up);
    // both coefficients are real, so Σ a_i·x^i is summed at scale 2^(2f) and truncated once more.
    let x2 = sum(&[(64, 64, 1, 1), trunc_by(8, 18)]);
    let combine = trunc_by(8, 18);
    let want = sum(&[x2, combine]);
    assert_eq!(want, (100, 66, 3, 3));
    // Depths: the opening 1 (both); its truncation c 2, s 3; the combination's truncation c 4, s 5.
    let c = online("freediv.quad_gelu", Ring::Z64, TruncMode::OneBit, &[8]);
    assert_eq!(bytes_msgs_rounds(&c), with_rounds(want, 5));
}

#[test]
fn attention_is_two_matrix_products_a_scaling_and_the_function() {
    // attention.quad2_freediv, 2 heads, 4 tokens, d = 3, ℓ = 64, f = 18.
    // 1. S = Q·Kᵀ by a matrix triple: D = Q − A and E = Kᵀ − B, 2·4·3 = 24 elements each, 8 B
    //    apiece, in one message each way (384 B); the 2·4·4 = 32 products truncated by f.
    let scores = sum(&[(384, 384, 1, 1), trunc_by(32, 18)]);
    // 2. S/√3: a local product with the public constant and a truncation of 32.
    let scale = trunc_by(32, 18);
    // 3. (S + 5)²·κ on the 8 rows of 4: a square pair of 32 (256 B each way) and two truncations
    //    (the quad2_freediv test at 32 values).
    let function = sum(&[(256, 256, 1, 1), trunc_by(32, 18), trunc_by(32, 18)]);
    // 4. A·V: D = A − A′ (32 elements) and E = V − B′ (24), 448 B each way; 2·4·3 = 24 outputs
    //    truncated by f (24·18 bits = 54 B down, 3 B up).
    let context = sum(&[(448, 448, 1, 1), trunc_by(24, 18)]);
    let want = sum(&[scores, scale, function, context]);
    assert_eq!(want, (1430, 1107, 8, 8));
    // Depths: the scores' opening 1 (both), its truncation c 2, s 3; the scaling's truncation
    // c 4, s 5; the square's opening s 5 (its clock is 4), c 6; its truncation c 6 (the client's
    // clock is 5), s 7; κ's truncation c 8, s 9; the context's opening s 9, c 10 and its
    // truncation c 10, s 11. Eleven distinct depths.
    let c = online("attention.quad2_freediv", Ring::Z64, TruncMode::OneBit, &[2, 4, 3]);
    assert_eq!(bytes_msgs_rounds(&c), with_rounds(want, 11));
}

#[test]
fn a_feed_forward_block_is_two_linear_layers_around_its_gelu() {
    // ffn.* at k = 3, h = 8, f = 12: X·W1 (3×8·8×12), the GELU on 3×12, then ·W2 (3×12·12×8).
    // Bytes and messages are exactly those of the three protocols run alone; the linear layers'
    // setup (weights, keys) is in the setup phase, as when they run alone.
    for (block, linear, gelu) in [
        ("ffn.nimbus", "nimbus.linear", "nimbus.gelu"),
        ("ffn.bumblebee", "bumblebee.linear", "bumblebee.gelu"),
        ("ffn.freediv", "bumblebee.linear", "freediv.quad_gelu"),
    ] {
        let parts = [
            bytes_msgs_rounds(&online(linear, Ring::Z64, TruncMode::OneBit, &[3, 8, 12])),
            bytes_msgs_rounds(&online(gelu, Ring::Z64, TruncMode::OneBit, &[3, 12])),
            bytes_msgs_rounds(&online(linear, Ring::Z64, TruncMode::OneBit, &[3, 12, 8])),
        ];
        let want = sum(&parts.map(|p| (p.0, p.1, p.2, p.3)));
        let got = bytes_msgs_rounds(&online(block, Ring::Z64, TruncMode::OneBit, &[3, 8, 12]));
        assert_eq!((got.0, got.1, got.2, got.3), want, "{block}");
        // Rounds can only be fewer than the parts' sum, where a part's first flight rides on the
        // previous part's last.
        assert!(got.4 <= parts.iter().map(|p| p.4).sum::<u64>(), "{block}: {} rounds", got.4);
    }
}

#[test]
fn ring_casts_cost_one_correlated_ot_per_element_for_both_conversions() {
    // n = 16, ℓ = 64, f = 18, small ring Z_2^32 with t = 6. The truncating down-cast is local.
    // The round trip's up-cast rescales by 2^6: its wrap is needed modulo 2^(64 − 32 − 6), one
    // correlated OT of 26 bits: 16 flip bits (2 B) up, 16·26 bits (52 B) down, rounds 1–2.
    assert_eq!(bytes_msgs_rounds(&online("cast.round_trip", Ring::Z64, TruncMode::OneBit, &[16])), (52, 2, 1, 1, 2));
    // The square in Z_2^32: d = x − a, 16·4 B each way, round 1. The up-cast truncates by
    // f − 2t = 6: width 64 − 32 + 6 = 38, 2 B up and 16·38 bits = 76 B down, rounds 2–3.
    let c = cost("cast.square_small", Ring::Z64, TruncMode::OneBit, &[16]);
    assert_eq!(bytes_msgs_rounds(&c.phase_counts(Phase::Online)), (64 + 76, 64 + 2, 2, 2, 3));
    // The dealer: a square pair over Z_2^32 (16·4 B for a and for a²) to each party; 16 random
    // OTs of 38-bit messages, both messages (16·2·38 bits = 152 B) to the server, the choice
    // (2 B) and one message (76 B) to the client.
    let offline = c.phase_counts(Phase::Offline);
    assert_eq!((offline.dealer_bytes_to_server, offline.dealer_bytes_to_client), (128 + 152, 128 + 2 + 76));
}

#[test]
fn small_ring_conversions_cost_less_than_one_comparison_per_element() {
    // Nimbus's fused conversions around a small-ring activation: the down-cast is local, the
    // up-cast one correlated OT per element. At ℓ = 64 they must cost less online than one
    // 64-bit comparison (`lt`) per element, and the activation's comparisons run at 32 bits.
    let n = 64;
    let lt = online("lt", Ring::Z64, TruncMode::OneBit, &[n]).bytes();
    for (name, f_small) in [("nimbus.gelu_small", 11), ("nimbus.exp_small", 10), ("nimbus.gelu_example_small", 12)] {
        let c = cost(name, Ring::Z64, TruncMode::OneBit, &[n]);
        let upcast = c.label_counts(Phase::Online, &format!("{name}/upcast"));
        // One flip bit one way, 64 − 32 − (18 − f') bits the other per element, f' the most
        // fraction bits at which every piece is safe in Z_2^32 (its quartics, cubics, or x up to 30).
        let width = 64 - 32 - (18 - f_small);
        assert_eq!(upcast.bytes(), (n + n * width) as u64 / 8, "{name}");
        assert!(upcast.bytes() < lt, "{name}: the up-cast's {} B against one comparison's {lt} B", upcast.bytes());
    }
    // The same activation in Z_2^64 costs more online than in Z_2^32, conversions included.
    for (big, small) in [("nimbus.gelu", "nimbus.gelu_small"), ("nimbus.exp", "nimbus.exp_small")] {
        let (b, s) = (
            online(big, Ring::Z64, TruncMode::OneBit, &[n]).bytes(),
            online(small, Ring::Z64, TruncMode::OneBit, &[n]).bytes(),
        );
        assert!(s < b, "{small} {s} B, {big} {b} B");
    }
}
