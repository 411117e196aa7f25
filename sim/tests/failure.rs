//! A party that fails never leaves the other hanging.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use std::time::{Duration, Instant};

use dyad_sim::error::ChannelError;
use dyad_sim::{Channel, Party, Role, RunError, SimConfig, SimError, simulate};

/// A long receive timeout, so that only the peer-gone path can end the wait quickly.
fn patient() -> SimConfig {
    SimConfig { recv_timeout: Some(Duration::from_secs(60)), ..SimConfig::default() }
}

fn waits_forever(p: &mut Party) -> Result<(), SimError> {
    p.recv_bytes()?;
    Ok(())
}

#[test]
fn an_error_on_one_side_ends_the_other_within_a_second() {
    for failing in Role::BOTH {
        let start = Instant::now();
        let fail =
            |_: &mut Party| -> Result<(), SimError> { Err(ChannelError::Malformed { expected: 1, got: 2 }.into()) };
        let result = match failing {
            Role::Server => simulate(&patient(), fail, waits_forever),
            Role::Client => simulate(&patient(), waits_forever, fail),
        };
        assert!(start.elapsed() < Duration::from_secs(1), "took {:?}", start.elapsed());
        match result {
            Err(RunError::Party { role, error }) => {
                assert_eq!(role, failing, "the first failure is reported, not the peer-gone it caused");
                assert_eq!(error, SimError::Channel(ChannelError::Malformed { expected: 1, got: 2 }));
            }
            other => panic!("unexpected {other:?}"),
        }
    }
}

#[test]
fn a_panic_on_one_side_ends_the_other_within_a_second() {
    for failing in Role::BOTH {
        let start = Instant::now();
        let boom = |_: &mut Party| -> Result<(), SimError> { panic!("boom") };
        let result = match failing {
            Role::Server => simulate(&patient(), boom, waits_forever),
            Role::Client => simulate(&patient(), waits_forever, boom),
        };
        assert!(start.elapsed() < Duration::from_secs(1), "took {:?}", start.elapsed());
        match result {
            Err(RunError::Panic { role, message }) => {
                assert_eq!(role, failing);
                assert_eq!(message, "boom");
            }
            other => panic!("unexpected {other:?}"),
        }
    }
}

#[test]
fn the_peer_sees_a_typed_peer_gone_error() {
    let result = simulate(
        &patient(),
        |_: &mut Party| -> Result<(), SimError> { Err(ChannelError::Malformed { expected: 0, got: 0 }.into()) },
        |p: &mut Party| -> Result<(), SimError> {
            let err = p.recv_bytes().unwrap_err();
            assert_eq!(err, ChannelError::PeerGone { peer: Role::Server });
            Err(err.into())
        },
    );
    assert_eq!(result.unwrap_err().role(), Some(Role::Server));
}

#[test]
fn a_deadlock_becomes_a_timeout() {
    let config = SimConfig { recv_timeout: Some(Duration::from_millis(200)), ..SimConfig::default() };
    let start = Instant::now();
    let result = simulate(&config, waits_forever, waits_forever);
    assert!(start.elapsed() < Duration::from_secs(2));
    match result {
        Err(RunError::Party { error: SimError::Channel(ChannelError::Timeout { .. }), .. }) => {}
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn diverging_correlation_requests_are_reported() {
    let result = simulate(
        &SimConfig::default(),
        |p: &mut Party| -> Result<(), SimError> {
            p.triples(dyad_sim::Ring::Z64, 4)?;
            Ok(())
        },
        |p: &mut Party| -> Result<(), SimError> {
            p.triples(dyad_sim::Ring::Z64, 5)?;
            Ok(())
        },
    );
    assert!(matches!(result, Err(RunError::CorrelationMismatch { index: 0, .. })), "{result:?}");
}
