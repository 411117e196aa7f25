//! Metering against hand-derived counts.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use dyad_sim::meter::Phase;
use dyad_sim::{Channel, Party, Ring, RingTensor, SimConfig, SimError, simulate};

fn zeros(ring: Ring, n: usize) -> RingTensor {
    RingTensor::zeros(ring, &[n])
}

#[test]
fn k_ping_pong_messages_are_k_rounds() {
    for k in 1..=7u64 {
        let out = simulate(
            &SimConfig::default(),
            |p: &mut Party| -> Result<(), SimError> {
                for i in 0..k {
                    if i % 2 == 0 {
                        p.send_bytes(vec![0; 3])?;
                    } else {
                        p.recv_bytes()?;
                    }
                }
                Ok(())
            },
            |p: &mut Party| -> Result<(), SimError> {
                for i in 0..k {
                    if i % 2 == 0 {
                        p.recv_bytes()?;
                    } else {
                        p.send_bytes(vec![0; 5])?;
                    }
                }
                Ok(())
            },
        )
        .unwrap();
        let c = &out.cost.total;
        assert_eq!(c.rounds, k, "k = {k}");
        assert_eq!(c.messages(), k);
        assert_eq!(c.bytes_server_to_client, 3 * k.div_ceil(2));
        assert_eq!(c.bytes_client_to_server, 5 * (k / 2));
    }
}

#[test]
fn two_messages_sent_in_parallel_are_one_round() {
    let both = |p: &mut Party| -> Result<(), SimError> {
        p.send_bytes(vec![1; 8])?;
        p.recv_bytes()?;
        Ok(())
    };
    let out = simulate(&SimConfig::default(), both, both).unwrap();
    assert_eq!(out.cost.total.rounds, 1);
    assert_eq!(out.cost.total.messages(), 2);
    assert_eq!(out.cost.total.bytes(), 16);
}

#[test]
fn back_to_back_sends_travel_in_one_flight() {
    let out = simulate(
        &SimConfig::default(),
        |p: &mut Party| -> Result<(), SimError> {
            p.send_bytes(vec![0; 1])?;
            p.send_bytes(vec![0; 1])?;
            p.recv_bytes()?;
            Ok(())
        },
        |p: &mut Party| -> Result<(), SimError> {
            p.recv_bytes()?;
            p.recv_bytes()?;
            p.send_bytes(vec![])?;
            Ok(())
        },
    )
    .unwrap();
    assert_eq!(out.cost.total.rounds, 2);
    assert_eq!(out.cost.total.messages(), 3);
}

#[test]
fn ring_elements_cost_ell_over_eight_bytes() {
    for (ring, per) in [(Ring::Z32, 4u64), (Ring::Z64, 8)] {
        let out = simulate(
            &SimConfig::default(),
            |p: &mut Party| -> Result<(), SimError> { Ok(p.send_tensor(&zeros(ring, 100))?) },
            |p: &mut Party| -> Result<RingTensor, SimError> { Ok(p.recv_tensor(ring, &[100])?) },
        )
        .unwrap();
        assert_eq!(out.cost.total.bytes_server_to_client, 100 * per);
        assert_eq!(out.cost.total.bytes_client_to_server, 0);
        assert_eq!(out.client, zeros(ring, 100));
    }
}

#[test]
fn costs_are_split_by_phase_and_nested_label() {
    let server = |p: &mut Party| -> Result<(), SimError> {
        p.in_phase(Phase::Setup, |p| p.send_bytes(vec![0; 100]))?;
        p.scope("proto", |p| {
            p.send_bytes(vec![0; 10])?;
            p.scope("step", |p| {
                p.recv_bytes()?;
                p.send_bytes(vec![0; 1])
            })
        })?;
        Ok(())
    };
    let client = |p: &mut Party| -> Result<(), SimError> {
        p.in_phase(Phase::Setup, |p| p.recv_bytes())?;
        p.scope("proto", |p| {
            p.recv_bytes()?;
            p.scope("step", |p| {
                p.send_bytes(vec![0; 20])?;
                p.recv_bytes()
            })
        })?;
        Ok(())
    };
    let cost = simulate(&SimConfig::default(), server, client).unwrap().cost;
    let setup = cost.phase_counts(Phase::Setup);
    assert_eq!((setup.bytes_server_to_client, setup.rounds), (100, 1));
    let proto = cost.label_counts(Phase::Online, "proto");
    assert_eq!(
        (proto.bytes_server_to_client, proto.bytes_client_to_server, proto.messages(), proto.rounds),
        (11, 20, 3, 3)
    );
    let step = cost.label_counts(Phase::Online, "proto/step");
    assert_eq!((step.bytes_server_to_client, step.bytes_client_to_server, step.messages(), step.rounds), (1, 20, 2, 2));
    assert_eq!(cost.phase_counts(Phase::Online).rounds, 3);
    // The setup message and the first online message leave the server in the same flight.
    assert_eq!(cost.total.rounds, 3);
    assert!(!cost.dealer_used);
}

#[test]
fn identical_runs_give_identical_counts() {
    let run = || {
        simulate(
            &SimConfig::with_seed(9),
            |p: &mut Party| -> Result<(), SimError> {
                let t = p.triples(Ring::Z64, 10)?;
                p.send_tensor(t.a.tensor())?;
                Ok(())
            },
            |p: &mut Party| -> Result<(), SimError> {
                p.triples(Ring::Z64, 10)?;
                p.recv_tensor(Ring::Z64, &[10])?;
                Ok(())
            },
        )
        .unwrap()
        .cost
    };
    let (a, b) = (run(), run());
    assert_eq!(a.total, b.total);
    assert_eq!(
        a.phases.iter().map(|p| (p.phase, p.counts.clone())).collect::<Vec<_>>(),
        b.phases.iter().map(|p| (p.phase, p.counts.clone())).collect::<Vec<_>>()
    );
}
