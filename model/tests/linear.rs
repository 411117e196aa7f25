//! The RLWE linear layers against the plaintext ring product, over random shapes (including
//! non-powers of two) at both rings, and their exact traffic.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use dyad_model::registry::Registry;
use dyad_protocols::bumblebee::linear::{self as sip, MAX_PACK, SipLayout};
use dyad_protocols::harness::{self, RunSpec};
use dyad_protocols::linear::{Noise, Zeros, context};
use dyad_protocols::nimbus::linear::{self as cop, CopLayout};
use dyad_protocols::{ProtocolError, TruncMode};
use dyad_rlwe::cipher::Ciphertext;
use dyad_rlwe::{RlweContext, RnsPoly};
use dyad_sim::channel::recording::Views;
use dyad_sim::testkit::config;
use dyad_sim::{Party, Phase, Ring, RingTensor, Role, Share, SimConfig, simulate};
use proptest::prelude::*;
use proptest::test_runner::TestRunner;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

/// The built-in protocols, built once for every test here.
static REGISTRY: std::sync::LazyLock<Registry> =
    std::sync::LazyLock::new(|| Registry::builtin().expect("the built-in protocols build"));

#[derive(Clone, Copy, Debug)]
enum Layer {
    Cop,
    Sip,
}

/// Shares of X·W at scale 2^(2f), before any truncation, from the layer's setup and online
/// steps alone.
fn online_product(
    layer: Layer,
    noise: Noise,
    p: &mut Party,
    w: Option<&RingTensor>,
    x: &Share,
    m: usize,
) -> Result<Share, ProtocolError> {
    let (k, n) = (x.shape()[0], x.shape()[1]);
    let ctx = context(x.ring(), noise)?;
    match layer {
        Layer::Cop => {
            let layout = CopLayout::new(ctx.n(), k, n, m);
            let state = cop::setup(p, &ctx, &layout, w)?;
            cop::online(p, &ctx, &layout, &state, Zeros::Fresh, w, x)
        }
        Layer::Sip => {
            let layout = SipLayout::choose(&ctx, k, n, m, MAX_PACK);
            let keys = sip::keys(p, &ctx)?;
            sip::online(p, &ctx, &layout, &keys, w, x)
        }
    }
}

/// The largest distance in the ring between the reconstructed output and the plaintext ring
/// product X·W (sim's own matmul), for X and W uniform over the whole ring.
fn raw_error(layer: Layer, noise: Noise, ring: Ring, (k, n, m): (usize, usize, usize), seed: u64) -> u64 {
    let mut rng = ChaCha20Rng::seed_from_u64(seed);
    let x = RingTensor::random(ring, &[k, n], &mut rng);
    let w = RingTensor::random(ring, &[n, m], &mut rng);
    let want = x.matmul(&w).unwrap();
    let (xs, xc) = Share::split(&x, &mut rng);
    let out = simulate(
        &SimConfig::with_seed(seed),
        |p| online_product(layer, noise, p, Some(&w), &xs, m),
        |p| online_product(layer, noise, p, None, &xc, m),
    )
    .unwrap();
    assert_eq!(out.client.shape(), [k, m]);
    let got = Share::reconstruct(&out.server, &out.client).unwrap();
    got.to_vec().iter().zip(want.to_vec()).map(|(&a, b)| ring.distance(a, b)).max().unwrap()
}

/// ±1 LSB of the exact ring product, before truncation, for weights anywhere in the ring (the
/// rounding encoding needs no bound on them), at shapes that take every code path: several COP
/// output blocks per response and several responses, m > N (two blocks of W's columns), several
/// SIP input blocks summed and several token blocks; flooded, at two of them.
#[test]
fn both_layers_are_within_one_lsb_of_the_ring_product_before_truncation() {
    let cases = [
        (Layer::Cop, Ring::Z32, (20, 100, 300)), // d0 = 512: 8 results per response, 3 responses
        (Layer::Cop, Ring::Z32, (3, 100, 5000)), // m > N = 4096: 2 column blocks
        (Layer::Cop, Ring::Z64, (9, 70, 1500)),  // d0 = 2048: 4 per response, 3 responses
        (Layer::Sip, Ring::Z32, (5, 130, 69)),   // 3 input blocks of 64
        (Layer::Sip, Ring::Z64, (20, 100, 300)),
        (Layer::Sip, Ring::Z32, (130, 70, 10)), // more tokens than a block holds
    ];
    let flooded = [
        (Layer::Cop, Ring::Z64, (9, 70, 1500)),
        (Layer::Sip, Ring::Z64, (20, 100, 300)),
        (Layer::Cop, Ring::Z32, (20, 100, 300)),
        (Layer::Sip, Ring::Z32, (5, 130, 69)),
    ];
    let all = cases.into_iter().map(|c| (Noise::AsIs, c)).chain(flooded.into_iter().map(|c| (Noise::Flooded, c)));
    for (i, (noise, (layer, ring, dims))) in all.enumerate() {
        let seed = 0x4c53_4200 + i as u64;
        let err = raw_error(layer, noise, ring, dims, seed);
        assert!(err <= 1, "{layer:?} {noise:?} {dims:?} at ℓ = {}: {err} LSB from X·W (seed {seed:#x})", ring.bits());
    }
}

/// The client's mask is fresh per response and per query: two queries of the same X give
/// different client shares, and the three responses of one query (tokens 0–7, 8–15 and 16–19)
/// have different masks.
#[test]
fn cop_responses_are_freshly_masked() {
    let ring = Ring::Z32;
    let (k, n, m) = (20, 8, 300);
    let mut rng = ChaCha20Rng::seed_from_u64(5);
    let x = RingTensor::random(ring, &[k, n], &mut rng);
    let ctx = context(ring, Noise::AsIs).unwrap();
    let w = RingTensor::random(ring, &[n, m], &mut rng);
    let (xs, xc) = Share::split(&x, &mut rng);
    let layout = CopLayout::new(ctx.n(), k, n, m);
    assert_eq!(layout.responses, 3);
    let out = simulate(
        &SimConfig::with_seed(1),
        |p| {
            let state = cop::setup(p, &ctx, &layout, Some(&w))?;
            let a = cop::online(p, &ctx, &layout, &state, Zeros::Fresh, Some(&w), &xs)?;
            let b = cop::online(p, &ctx, &layout, &state, Zeros::Fresh, Some(&w), &xs)?;
            Ok::<_, ProtocolError>((a, b))
        },
        |p| {
            assert_eq!(p.role(), Role::Client);
            let state = cop::setup(p, &ctx, &layout, None)?;
            let a = cop::online(p, &ctx, &layout, &state, Zeros::Fresh, None, &xc)?;
            let b = cop::online(p, &ctx, &layout, &state, Zeros::Fresh, None, &xc)?;
            Ok((a, b))
        },
    )
    .unwrap();
    let (c1, c2) = &out.client;
    assert_ne!(c1.tensor(), c2.tensor(), "the client's mask repeats across queries");
    let want = x.matmul(&w).unwrap();
    for (s, c) in [(&out.server.0, c1), (&out.server.1, c2)] {
        let got = Share::reconstruct(s, c).unwrap();
        assert!(got.to_vec().iter().zip(want.to_vec()).all(|(&a, b)| ring.distance(a, b) <= 1));
    }
    // Response g's mask covers tokens 8g..8g+7: row 8g is its first coefficient block.
    let rows: Vec<Vec<u64>> = c1.tensor().to_vec().chunks(m).map(<[u64]>::to_vec).collect();
    assert!(rows[0] != rows[8] && rows[8] != rows[16], "responses share a mask");
}

/// c1 of each response minus c1 of the same response rebuilt without re-randomisation: the
/// `a` half of the encryption of zero added to it (the mask touches only c0).
fn zero_halves(ctx: &RlweContext, sent: &[u8], rebuilt: Vec<Ciphertext>) -> Vec<RnsPoly> {
    let low = ctx.top_level() - 1;
    let len = Ciphertext::wire_bytes(ctx, low, false);
    assert_eq!(sent.len(), rebuilt.len() * len);
    sent.chunks_exact(len)
        .zip(rebuilt)
        .map(|(bytes, plain)| {
            let mut c1 = Ciphertext::from_bytes(ctx, low, false, bytes).unwrap().c1_poly(ctx);
            c1.sub_assign(ctx, &plain.c1_poly(ctx));
            c1
        })
        .collect()
}

/// Each response's re-randomising encryption of zero is its own: none is missing (zero) and no
/// two are the same, in both layers, over three responses each.
#[test]
fn every_response_is_rerandomised_with_its_own_encryption_of_zero() {
    let ring = Ring::Z32;
    let mut rng = ChaCha20Rng::seed_from_u64(6);
    let ctx = context(ring, Noise::AsIs).unwrap();
    let distinct = |halves: &[RnsPoly], layer: &str| {
        assert!(halves.len() >= 3, "{layer}: {} responses", halves.len());
        let zero = RnsPoly::zero(ctx.n(), ctx.top_level() - 1);
        for (i, h) in halves.iter().enumerate() {
            assert_ne!(h, &zero, "{layer}: response {i} is not re-randomised");
            assert!(halves[..i].iter().all(|o| o != h), "{layer}: response {i} reuses an encryption of zero");
        }
    };

    // COP: three responses of 8 tokens' results each, which the server receives.
    let (k, n, m) = (20, 8, 300);
    let x = RingTensor::random(ring, &[k, n], &mut rng);
    let w = RingTensor::random(ring, &[n, m], &mut rng);
    let (xs, xc) = Share::split(&x, &mut rng);
    let layout = CopLayout::new(ctx.n(), k, n, m);
    let views = Views::new();
    let out = simulate(
        &SimConfig { views: Some(views.clone()), ..SimConfig::with_seed(2) },
        |p| {
            let state = cop::setup(p, &ctx, &layout, Some(&w))?;
            cop::online(p, &ctx, &layout, &state, Zeros::Fresh, Some(&w), &xs)
        },
        |p| {
            let state = cop::setup(p, &ctx, &layout, None)?;
            cop::online(p, &ctx, &layout, &state, Zeros::Fresh, None, &xc).map(|_| state)
        },
    )
    .unwrap();
    let cop::CopState::Client { weights, .. } = out.client else { panic!("the client's state") };
    let results = cop::outer_products(&ctx, &layout, &weights, &xc.tensor().to_vec());
    let rebuilt = (0..layout.responses).map(|g| cop::packed(&ctx, &layout, &results, g).unwrap()).collect();
    let [server_view, _] = views.take();
    distinct(&zero_halves(&ctx, &server_view[0], rebuilt), "COP");

    // SIP: three token blocks of 8, one response each, which the client receives.
    let (k, n, m) = (20, 8, 6);
    let x = RingTensor::random(ring, &[k, n], &mut rng);
    let w = RingTensor::random(ring, &[n, m], &mut rng);
    let (xs, xc) = Share::split(&x, &mut rng);
    let layout = SipLayout { k, n, m, d0: 8, d1: 8, d2: 8, pack: 1 };
    let views = Views::new();
    let out = simulate(
        &SimConfig { views: Some(views.clone()), ..SimConfig::with_seed(3) },
        |p| {
            let keys = sip::keys(p, &ctx)?;
            sip::online(p, &ctx, &layout, &keys, Some(&w), &xs).map(|_| keys)
        },
        |p| {
            let keys = sip::keys(p, &ctx)?;
            sip::online(p, &ctx, &layout, &keys, None, &xc)
        },
    )
    .unwrap();
    let sip::SipKeys::Server { galois, .. } = out.server else { panic!("the server's keys") };
    let [server_view, client_view] = views.take();
    let in_len = Ciphertext::wire_bytes(&ctx, ctx.top_level(), true);
    let queries: Vec<Ciphertext> = server_view[1]
        .chunks_exact(in_len)
        .map(|c| Ciphertext::from_bytes(&ctx, ctx.top_level(), true, c).unwrap())
        .collect();
    let rebuilt = sip::respond(&ctx, &layout, &galois, &w.to_vec(), &sip::ntt_queries(&ctx, &queries)).unwrap();
    distinct(&zero_halves(&ctx, &client_view[0], rebuilt), "SIP");
}

fn check_shapes(name: &str, ring: Ring, seed: u64) {
    let p = REGISTRY.find(name).unwrap();
    let mut runner = TestRunner::new(config(seed, 12));
    runner
        .run(&(1usize..6, 1usize..40, 1usize..70, any::<u64>()), |(k, n, m, s)| {
            let spec = RunSpec::new(ring, s).with_dims(&[k, n, m]);
            let checked = harness::run(p, &spec).unwrap();
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
fn the_flooded_layers_match_the_ring_product_on_random_shapes() {
    check_shapes("nimbus.linear_flooded", Ring::Z64, 0x464c_4f64);
    check_shapes("nimbus.linear_flooded", Ring::Z32, 0x464c_4f32);
    check_shapes("bumblebee.linear_flooded", Ring::Z64, 0x464c_5364);
    check_shapes("bumblebee.linear_flooded", Ring::Z32, 0x464c_5332);
}

#[test]
fn cop_sends_one_message_of_the_packed_responses_and_nothing_back() {
    let ctx = context(Ring::Z64, Noise::AsIs).unwrap();
    let (k, n, m) = (5, 20, 300);
    // d0 = 512, one block; 8192/512 = 16 results per response: ⌈5/16⌉ = 1 response ciphertext at
    // Q′ = q0·q1: 2 × 8192 × (59 + 55) bits = 233,472 bytes.
    let l = CopLayout::new(ctx.n(), k, n, m);
    assert_eq!((l.d0, l.responses), (512, 1));
    let spec = RunSpec { trunc: Some(TruncMode::Probabilistic), ..RunSpec::new(Ring::Z64, 9).with_dims(&[k, n, m]) };
    let r = harness::run(REGISTRY.find("nimbus.linear").unwrap(), &spec).unwrap().report;
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
    let ctx = context(Ring::Z32, Noise::AsIs).unwrap();
    let (k, n, m) = (5, 39, 69);
    // ℓ = 32: N = 4096, primes of 59 and 37 bits. d1 = 64 inputs and d2 = 8 tokens per block
    // leave d0 = 8 outputs; the 9 output blocks pack into one response (g = 16).
    let l = SipLayout::choose(&ctx, k, n, m, MAX_PACK);
    assert_eq!((l.d0, l.d1, l.d2, l.pack, l.inputs(), l.outputs()), (8, 64, 8, 16, 1, 1));
    // Cheetah's truncation: at ℓ = 32 the local one is garbage for about |x|/2^32 of the outputs,
    // and sums of 39 products at 2f = 26 fraction bits make that likely.
    let spec = RunSpec { trunc: Some(TruncMode::OneBit), ..RunSpec::new(Ring::Z32, 9).with_dims(&[k, n, m]) };
    let r = harness::run(REGISTRY.find("bumblebee.linear").unwrap(), &spec).unwrap().report;
    assert!(r.passed, "{} ULP", r.error.vs_reference.max_ulp.unwrap_or(0));
    // Online, apart from the truncation: one seeded input ciphertext (4096 × 96 bits + 32 bytes)
    // and one response at Q′ = q0 (2 × 4096 × 59 bits).
    let online = r.cost.phase_counts(Phase::Online);
    let trunc = r.cost.label_counts(Phase::Online, "bumblebee.linear/trunc");
    assert_eq!(
        (
            online.bytes_client_to_server - trunc.bytes_client_to_server,
            online.bytes_server_to_client - trunc.bytes_server_to_client,
            online.messages() - trunc.messages(),
            online.rounds - trunc.rounds
        ),
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
    let ctx = context(Ring::Z64, Noise::AsIs).unwrap();
    let packed = SipLayout::choose(&ctx, 128, 768, 768, MAX_PACK);
    let unpacked = SipLayout::choose(&ctx, 128, 768, 768, 1);
    // 64 output blocks of one column each per response: 12 responses instead of 768.
    assert_eq!((packed.d0, packed.d1, packed.d2, packed.pack), (1, 64, 128, 64));
    assert_eq!((packed.inputs(), packed.outputs()), (12, 12));
    assert!(packed.bytes(&ctx) * 7 < unpacked.bytes(&ctx));
}
