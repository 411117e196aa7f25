//! The dealer's correlations hold, and its traffic shows in the report.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use dyad_sim::correlation::{MatDims, OtSpec};
use dyad_sim::meter::Phase;
use dyad_sim::{Bits, Party, Ring, RingTensor, Role, Share, SimConfig, SimError, simulate};

fn both<T: Send>(f: impl Fn(&mut Party) -> Result<T, SimError> + Sync) -> (T, T, dyad_sim::CostReport) {
    let out = simulate(&SimConfig::with_seed(42), &f, &f).unwrap();
    (out.server, out.client, out.cost)
}

fn open(a: &Share, b: &Share) -> RingTensor {
    Share::reconstruct(a, b).unwrap()
}

#[test]
fn beaver_triples_multiply_at_both_rings_and_over_z2() {
    for ring in [Ring::Z32, Ring::Z64, Ring::Z2] {
        let (s, c, cost) = both(|p| p.scope("mul", |p| p.triples(ring, 1000)));
        let (a, b, ab) = (open(&s.a, &c.a), open(&s.b, &c.b), open(&s.c, &c.c));
        assert_eq!(a.mul(&b).unwrap(), ab);
        assert_ne!(s.a, c.a, "the halves differ");
        let d = cost.label_counts(Phase::Offline, "mul/dealer");
        assert_eq!(d.dealer_bytes_to_server, 3 * ring.wire_bytes(1000) as u64);
        assert_eq!(d.dealer_bytes_to_client, 3 * ring.wire_bytes(1000) as u64);
        assert_eq!(d.rounds, 1);
        assert!(cost.dealer_used);
        assert_eq!(cost.correlations, "dealer");
    }
}

#[test]
fn packed_and_triples_are_the_z2_triples_of_the_same_request() {
    let (s, c, cost) = both(|p| p.scope("and", |p| p.bit_triples(1000)));
    let (us, uc, _) = both(|p| p.triples(Ring::Z2, 1000));
    for (packed, unpacked) in [(&s, &us), (&c, &uc)] {
        assert_eq!(packed.a, Bits::from_share(&unpacked.a));
        assert_eq!(packed.b, Bits::from_share(&unpacked.b));
        assert_eq!(packed.c, Bits::from_share(&unpacked.c));
    }
    let (a, b) = (s.a.xor(&c.a).unwrap(), s.b.xor(&c.b).unwrap());
    assert_eq!(a.and(&b).unwrap(), s.c.xor(&c.c).unwrap());
    assert_ne!(s.a, c.a, "the halves differ");
    let d = cost.label_counts(Phase::Offline, "and/dealer");
    assert_eq!(d.dealer_bytes_to_server, 3 * Ring::Z2.wire_bytes(1000) as u64);
}

#[test]
fn square_pairs_square() {
    let (s, c, _) = both(|p| p.squares(Ring::Z64, 100));
    let a = open(&s.a, &c.a);
    assert_eq!(a.mul(&a).unwrap(), open(&s.aa, &c.aa));
}

#[test]
fn matrix_triples_multiply_batched_and_not() {
    for batch in [None, Some(3)] {
        let dims = MatDims { batch, m: 4, k: 5, n: 2 };
        let (s, c, _) = both(|p| p.matrix_triple(Ring::Z32, dims));
        let (a, b) = (open(&s.a, &c.a), open(&s.b, &c.b));
        assert_eq!(a.shape(), dims.a_shape().as_slice());
        assert_eq!(a.matmul(&b).unwrap(), open(&s.c, &c.c));
    }
}

#[test]
fn random_ots_give_the_receiver_the_chosen_message_only() {
    // 2-bit messages pack 32 to a draw (the millionaires'); 33 and 64 bits take a draw each.
    for (sender, msg_bits) in Role::BOTH.into_iter().flat_map(|r| [(r, 2), (r, 33), (r, 64)]) {
        let spec = OtSpec { sender, count: 200, choice_bits: 4, msg_bits };
        let (s, c, _) = both(|p| p.random_ots(spec));
        let (send, recv) = match sender {
            Role::Server => (s, c),
            Role::Client => (c, s),
        };
        let packed = send.into_sender().unwrap();
        let messages = packed.to_vec();
        for t in 0..200 {
            let run = packed.run(t * 16, 16);
            let want = messages[t * 16..(t + 1) * 16].iter().rev().fold(0u64, |acc, &m| acc << msg_bits | m);
            assert_eq!(run, (msg_bits == 2).then_some(want), "instance {t}'s messages as one value");
        }
        let (choices, chosen) = recv.into_receiver().map(|(c, m)| (c.to_vec(), m.to_vec())).unwrap();
        assert_eq!(messages.len(), 200 * 16);
        for (i, (&ch, &m)) in choices.iter().zip(&chosen).enumerate() {
            assert!(ch < 16 && m <= Ring::new(msg_bits).unwrap().mask());
            assert_eq!(messages[i * 16 + ch as usize], m);
        }
        let distinct: std::collections::BTreeSet<_> = choices.iter().collect();
        assert_eq!(distinct.len(), 16, "choices are spread over all 16 values");
        let distinct: std::collections::BTreeSet<_> = chosen.iter().collect();
        assert!(distinct.len() > 1, "the chosen messages are not constant");
    }
}

#[test]
fn oversized_ot_requests_are_typed_errors() {
    let result = simulate(
        &SimConfig::default(),
        |p: &mut Party| p.random_ots(OtSpec { sender: Role::Server, count: 1, choice_bits: 17, msg_bits: 1 }),
        |p: &mut Party| p.random_ots(OtSpec { sender: Role::Server, count: 1, choice_bits: 17, msg_bits: 1 }),
    );
    assert!(matches!(result, Err(dyad_sim::RunError::Party { error: SimError::Correlation(_), .. })));
}
