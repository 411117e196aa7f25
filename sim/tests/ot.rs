//! Providers `ot` and `silent` against the dealer, their ideal functionality: the same
//! correlations hold, over many random batches (printed seeds), and their traffic is what the
//! protocols' papers say.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use dyad_sim::correlation::ot::{OT_LABEL, base_ot_bytes, extension_bytes, product_bytes};
use dyad_sim::correlation::{MatDims, OtSpec};
use dyad_sim::meter::Phase;
use dyad_sim::runner::Correlations;
use dyad_sim::testkit::config;
use dyad_sim::{Channel, CostReport, Party, Ring, RingTensor, Role, Share, SimConfig, SimError, simulate};
use proptest::prelude::*;
use proptest::test_runner::TestRunner;

fn ot(seed: u64) -> SimConfig {
    SimConfig { correlations: Correlations::Ot, ..SimConfig::with_seed(seed) }
}

fn both<T: Send>(seed: u64, f: impl Fn(&mut Party) -> Result<T, SimError> + Sync) -> (T, T, CostReport) {
    under(Correlations::Ot, seed, f)
}

fn under<T: Send>(
    correlations: Correlations,
    seed: u64,
    f: impl Fn(&mut Party) -> Result<T, SimError> + Sync,
) -> (T, T, CostReport) {
    let out = simulate(&SimConfig { correlations, ..SimConfig::with_seed(seed) }, &f, &f).unwrap();
    (out.server, out.client, out.cost)
}

/// The providers whose parties generate correlations themselves, `ot` and `silent`.
fn generated() -> impl Strategy<Value = Correlations> {
    prop_oneof![Just(Correlations::Ot), Just(Correlations::Silent)]
}

fn open(a: &Share, b: &Share) -> RingTensor {
    Share::reconstruct(a, b).unwrap()
}

#[test]
fn random_ots_give_the_receiver_the_message_at_its_choice_and_no_other() {
    let strategy = (any::<bool>(), 1usize..300, 1u32..=5, 1u32..=64, any::<u64>(), generated());
    TestRunner::new(config(0x07_0001, 48))
        .run(&strategy, |(server_sends, count, choice_bits, msg_bits, seed, provider)| {
            let sender = if server_sends { Role::Server } else { Role::Client };
            let spec = OtSpec { sender, count, choice_bits, msg_bits };
            let (s, c, cost) = under(provider, seed, |p| p.random_ots(spec));
            let (send, recv) = if server_sends { (s, c) } else { (c, s) };
            let messages = send.into_sender().unwrap().to_vec();
            let (choices, chosen) = recv.into_receiver().map(|(c, m)| (c.to_vec(), m.to_vec())).unwrap();
            let arity = spec.arity();
            prop_assert_eq!(messages.len(), count * arity);
            let mask = Ring::new(msg_bits).unwrap().mask();
            let mut other_equal = 0usize;
            for (i, (&x, &m)) in choices.iter().zip(&chosen).enumerate() {
                prop_assert!(x < arity as u64 && m <= mask);
                prop_assert_eq!(messages[i * arity + x as usize], m, "instance {}", i);
                // A wrong choice gives another message, except by chance (2^−msg_bits).
                let wrong = (x as usize + 1) % arity;
                other_equal += usize::from(messages[i * arity + wrong] == m);
            }
            if msg_bits >= 32 {
                prop_assert_eq!(other_equal, 0);
            }
            prop_assert_eq!(cost.correlations.as_str(), provider.name());
            prop_assert!(!cost.dealer_used);
            Ok(())
        })
        .unwrap();
}

#[test]
fn triples_and_square_pairs_multiply_at_every_ring_width() {
    let strategy = (1u32..=64, 1usize..200, any::<u64>(), generated());
    TestRunner::new(config(0x07_0002, 40))
        .run(&strategy, |(bits, n, seed, provider)| {
            let ring = Ring::new(bits).unwrap();
            let (s, c, _) =
                under(provider, seed, |p| Ok((p.triples(ring, n)?, p.squares(ring, n)?, p.bit_triples(n)?)));
            let (a, b) = (open(&s.0.a, &c.0.a), open(&s.0.b, &c.0.b));
            prop_assert_eq!(a.mul(&b).unwrap(), open(&s.0.c, &c.0.c));
            let a = open(&s.1.a, &c.1.a);
            prop_assert_eq!(a.mul(&a).unwrap(), open(&s.1.aa, &c.1.aa));
            let (a, b) = (s.2.a.xor(&c.2.a).unwrap(), s.2.b.xor(&c.2.b).unwrap());
            prop_assert_eq!(a.and(&b).unwrap(), s.2.c.xor(&c.2.c).unwrap());
            Ok(())
        })
        .unwrap();
}

#[test]
fn a_tampered_share_breaks_the_triple_check() {
    // The check above can fail: one flipped bit of a correct triple is caught.
    let (s, c, _) = both(5, |p| p.triples(Ring::Z64, 64));
    let (a, b) = (open(&s.a, &c.a), open(&s.b, &c.b));
    let flipped = Share::new(s.c.tensor().map(|v| v ^ 1));
    assert_ne!(a.mul(&b).unwrap(), open(&flipped, &c.c));
}

/// One request's traffic under the `ot` label, both directions, setup and offline.
fn traffic(cost: &CostReport, label: &str) -> (u64, u64, u64, u64) {
    let setup = cost.label_counts(Phase::Setup, label);
    let offline = cost.label_counts(Phase::Offline, label);
    (
        setup.bytes_server_to_client,
        setup.bytes_client_to_server,
        offline.bytes_server_to_client,
        offline.bytes_client_to_server,
    )
}

#[test]
fn the_traffic_is_the_papers_hand_derived() {
    let label = format!("req/{OT_LABEL}");
    // Base OTs, per direction: the Chou–Orlandi sender's point (32 bytes), then the
    // receiver's 128 points (4096 bytes); IKNP's receiver is the base-OT sender.
    assert_eq!(base_ot_bytes(), [32, 4096]);
    // Both directions: each party sends one A and 128 B's.
    let setup = (32 + 4096) as u64;
    // 1000 random 1-out-of-2 OTs from the server: the client sends 128 columns of ⌈1000/8⌉
    // bytes, nothing more.
    let spec = OtSpec { sender: Role::Server, count: 1000, choice_bits: 1, msg_bits: 64 };
    let (_, _, cost) = both(1, |p| p.scope("req", |p| p.random_ots(spec)));
    assert_eq!(extension_bytes(1000), 128 * 125);
    assert_eq!(traffic(&cost, &label), (setup, setup, 0, 128 * 125));
    let offline = cost.label_counts(Phase::Offline, &label);
    assert_eq!((offline.rounds, offline.dealer_bytes_to_server, offline.dealer_bytes_to_client), (1, 0, 0));
    // 1-out-of-16: four 1-out-of-2 per instance.
    let spec = OtSpec { sender: Role::Client, count: 100, choice_bits: 4, msg_bits: 2 };
    let (_, _, cost) = both(1, |p| p.scope("req", |p| p.random_ots(spec)));
    assert_eq!(traffic(&cost, &label).2, 128 * 50, "the server receives: it extends 400");
    // 10 triples over Z_2^64: 640 OTs each way, and τ of Σ_j (64 − j) bits per product each way.
    let (_, _, cost) = both(1, |p| p.scope("req", |p| p.triples(Ring::Z64, 10)));
    let tau: usize = (1..=64).map(|w| (10 * w as usize).div_ceil(8)).sum();
    assert_eq!(product_bytes(Ring::Z64, 10), tau);
    let each_way = (128 * 80 + tau) as u64;
    assert_eq!(traffic(&cost, &label), (setup, setup, each_way, each_way));
    let offline = cost.label_counts(Phase::Offline, &label);
    assert_eq!(offline.rounds, 2, "extension, then τ, each in one flight both ways");
    // AND triples: one random OT each way, no τ.
    let (_, _, cost) = both(1, |p| p.scope("req", |p| p.triples(Ring::Z2, 1000)));
    assert_eq!(traffic(&cost, &label).2, 128 * 125);
    assert_eq!(traffic(&cost, &label).3, 128 * 125);
    // A square pair: one product, from the server.
    let (_, _, cost) = both(1, |p| p.scope("req", |p| p.squares(Ring::Z32, 8)));
    let tau: usize = (1..=32).map(|w| w as usize).sum();
    assert_eq!(traffic(&cost, &label).2, tau as u64);
    assert_eq!(traffic(&cost, &label).3, 128 * 32);
}

#[test]
fn online_rounds_do_not_see_the_offline_traffic() {
    let run = |correlations| {
        let f = |p: &mut Party| -> Result<(), SimError> {
            p.send_bytes(vec![1])?;
            p.triples(Ring::Z64, 4)?;
            p.recv_bytes()?;
            p.send_bytes(vec![2])?;
            p.recv_bytes()?;
            Ok(())
        };
        simulate(&SimConfig { correlations, ..SimConfig::with_seed(1) }, f, f).unwrap().cost.phase_counts(Phase::Online)
    };
    assert_eq!(run(Correlations::Ot), run(Correlations::Dealer));
}

#[test]
fn matrix_triples_are_left_to_he() {
    // BERT-base's QKᵀ: 12 heads of [128×64]·[64×128], which Gilboa products would make from
    // 6.5 GB of τ each way.
    let dims = MatDims { batch: Some(12), m: 128, k: 64, n: 128 };
    for config in [ot(1), SimConfig { correlations: Correlations::Silent, ..SimConfig::with_seed(1) }] {
        let f = |p: &mut Party| p.matrix_triple(Ring::Z64, dims);
        let err = simulate(&config, f, f).err().map(|e| e.to_string()).unwrap_or_default();
        assert!(err.contains("with HE") && err.contains("bumblebee::matrix_triple"), "{err}");
    }
}

/// Under `silent`, silent OT's setup (base OTs, IKNP for the bootstrapping iteration's 47 709
/// inputs, that iteration's message) is in the setup phase; a request the bootstrapping output
/// covers sends nothing offline, and one beyond it sends one iteration's message.
#[test]
fn silent_ot_traffic_is_ferrets() {
    use dyad_sim::correlation::ot::silent::{BOOTSTRAP, MAIN};
    let iteration = |p: dyad_sim::correlation::ot::silent::LpnParams| (p.t * (2 * p.h + 1) * 16) as u64;
    let spec = |count| OtSpec { sender: Role::Server, count, choice_bits: 1, msg_bits: 1 };
    let left = BOOTSTRAP.n - MAIN.reserved();
    // Each party, once per direction: its side of the base OTs (one point or 128), and either
    // IKNP's extension (as its receiver) or the bootstrapping iteration's message (as sender).
    let [point, points] = base_ot_bytes().map(|b| b as u64);
    let setup = point + points + extension_bytes(BOOTSTRAP.reserved()) as u64 + iteration(BOOTSTRAP);
    for (count, offline) in [(left, 0), (left + 1, iteration(BOOTSTRAP))] {
        let (_, _, cost) = under(Correlations::Silent, 1, |p| p.scope("req", |p| p.random_ots(spec(count))));
        let label = format!("req/{OT_LABEL}");
        assert_eq!(traffic(&cost, &label), (setup, setup, offline, 0), "{count} COTs");
    }
}
