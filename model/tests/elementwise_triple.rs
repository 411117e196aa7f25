//! Element-wise triples and square pairs made with HE against the ring products of their opened
//! factors, and their exact traffic.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use dyad_protocols::bumblebee::elementwise_triple::{squares, triples};
use dyad_protocols::bumblebee::matrix_triple::LABEL;
use dyad_sim::correlation::{SquarePairs, Triples};
use dyad_sim::runner::Correlations;
use dyad_sim::testkit::config;
use dyad_sim::{CostReport, Phase, Ring, Share, SimConfig, simulate};
use proptest::prelude::*;
use proptest::test_runner::TestRunner;

fn open(ring: Ring, a: &Share, b: &Share) -> Vec<u64> {
    a.tensor().to_vec().iter().zip(b.tensor().to_vec()).map(|(&x, y)| ring.add(x, y)).collect()
}

/// Both halves of `n` triples and `n` square pairs over `ring`, made in one run, and its cost.
fn made(seed: u64, ring: Ring, n: usize) -> ([(Triples, SquarePairs); 2], CostReport) {
    let config = SimConfig { correlations: Correlations::Silent, ..SimConfig::with_seed(seed) };
    let f = |p: &mut dyad_sim::Party| -> Result<_, dyad_protocols::ProtocolError> {
        let t = p.scope("triples", |p| triples(p, ring, n))?;
        let s = p.scope("squares", |p| squares(p, ring, n))?;
        Ok((t, s))
    };
    let out = simulate(&config, f, f).unwrap();
    ([out.server, out.client], out.cost)
}

#[test]
fn c_is_the_product_and_aa_the_square_of_the_opened_factors_exactly() {
    let rings = prop_oneof![Just(2u32), Just(17), Just(32), Just(37), Just(64)];
    // Up to three ciphertexts' worth of slots, so that chunks and their partial last one are met.
    TestRunner::new(config(0x0e_0001, 10))
        .run(&(rings, 1usize..20_000, any::<u64>()), |(bits, n, seed)| {
            let ring = Ring::new(bits).unwrap();
            let ([(ts, ss), (tc, sc)], _) = made(seed, ring, n);
            let (a, b, c) = (open(ring, &ts.a, &tc.a), open(ring, &ts.b, &tc.b), open(ring, &ts.c, &tc.c));
            prop_assert_eq!(c.len(), n);
            prop_assert!(a.iter().any(|&v| v != 0) || n < 4);
            for i in 0..n {
                // The product of the integers, in u128, then reduced: independent of the ring code.
                let want = ((u128::from(a[i]) * u128::from(b[i])) & ((1u128 << bits) - 1)) as u64;
                prop_assert_eq!(c[i], want, "ℓ = {}, n = {}: element {}", bits, n, i);
            }
            let (a, aa) = (open(ring, &ss.a, &sc.a), open(ring, &ss.aa, &sc.aa));
            for i in 0..n {
                let want = ((u128::from(a[i]) * u128::from(a[i])) & ((1u128 << bits) - 1)) as u64;
                prop_assert_eq!(aa[i], want, "ℓ = {}, n = {}: square {}", bits, n, i);
            }
            // The client's share of the cross term is masked: its c is not its own a·b.
            let own: Vec<u64> =
                (0..n).map(|i| ring.mul(tc.a.tensor().to_vec()[i], tc.b.tensor().to_vec()[i])).collect();
            prop_assert!(n < 4 || own != tc.c.tensor().to_vec());
            Ok(())
        })
        .unwrap();
}

#[test]
fn the_key_goes_once_and_each_request_takes_one_message_each_way_of_known_size() {
    // ℓ = 64: T needs 2·64 + 2 + 40 = 170 bits, three 58-bit primes. A query is c0 at the top
    // level, 8192·(50 + 42 + 42 + 60)/8 bytes, and a 32-byte seed; an answer is c0 and c1 after
    // the switch, 2·8192·(50 + 42 + 42)/8 bytes. 10 000 elements take two ciphertexts of slots.
    let (query, answer, chunks, primes) = (8192 * 194 / 8 + 32, 2 * 8192 * 134 / 8, 2, 3);
    let (_, cost) = made(3, Ring::Z64, 10_000);
    for (label, factors) in [("triples", 2), ("squares", 1)] {
        let offline = cost.label_counts(Phase::Offline, &format!("{label}/{LABEL}"));
        assert_eq!(offline.bytes_client_to_server, (chunks * primes * factors * query) as u64, "{label}");
        assert_eq!(offline.bytes_server_to_client, (chunks * primes * answer) as u64, "{label}");
        assert_eq!((offline.messages(), offline.rounds), (2, 2), "{label}: one message each way");
    }
    let setup = cost.phase_counts(Phase::Setup);
    // The public key at the top level: b, 8192·194/8 bytes, and the seed of a.
    assert_eq!(
        (setup.messages(), setup.bytes_client_to_server, setup.bytes_server_to_client),
        (1, 8192 * 194 / 8 + 32, 0)
    );
    assert_eq!(cost.phase_counts(Phase::Online).messages(), 0);
}

/// A peer whose messages cannot be what the protocol sends makes the honest party fail with a
/// typed error naming what is wrong, never a panic.
#[test]
fn a_malformed_answer_or_query_is_refused_with_a_typed_error() {
    use dyad_protocols::ProtocolError;
    use dyad_sim::{Channel, Party, RunError};
    let (ring, n) = (Ring::Z64, 100);
    let config = SimConfig { correlations: Correlations::Silent, ..SimConfig::with_seed(1) };
    let fails = |err: RunError<ProtocolError>, who: &str, says: &str| {
        let text = err.to_string();
        assert!(text.contains(who) && text.contains(says), "{text}");
    };
    // A fake server: reads the key and the query, then answers `answer`. One chunk of three
    // primes is 3·274 432 bytes; 0xff bytes are no residue of any prime.
    for (answer, says) in [(vec![0u8; 10], "expected 823296 bytes, got 10"), (vec![0xff; 823_296], "residue")] {
        let fake = move |p: &mut Party| -> Result<(), ProtocolError> {
            p.correlation_protocol(LABEL, |p| {
                p.recv_bytes()?;
                p.recv_bytes()?;
                Ok(p.send_bytes(answer)?)
            })
        };
        let honest = |p: &mut Party| squares(p, ring, n).map(|_| ());
        fails(simulate(&config, fake, honest).unwrap_err(), "client", says);
    }
    // A fake client: a zero public key of the right size, then a query of the wrong size.
    let fake = |p: &mut Party| -> Result<(), ProtocolError> {
        p.correlation_protocol(LABEL, |p| {
            p.send_bytes(vec![0; 8192 * 194 / 8 + 32])?;
            Ok(p.send_bytes(vec![0; 7])?)
        })
    };
    let honest = |p: &mut Party| squares(p, ring, n).map(|_| ());
    fails(simulate(&config, honest, fake).unwrap_err(), "server", "expected 596064 bytes, got 7");
}
