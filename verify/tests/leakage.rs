//! The leakage audit against protocols whose views are known: a shared encryption of zero in the
//! COP layer must be found, the fresh one must not; the pinned sharing keeps the observer's shares.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use dyad_model::registry::Registry;
use dyad_protocols::harness::{self, RunSpec};
use dyad_protocols::linear::{RlweLinear, Zeros};
use dyad_protocols::nimbus::linear::NimbusLinear;
use dyad_sim::channel::recording::Views;
use dyad_sim::runner::{Correlations, Secrets};
use dyad_sim::{FixedPoint, Ring, Role};
use dyad_verify::leakage::{LeakageSpec, audit};
use ndarray::{ArrayD, IxDyn};

fn spec(runs: usize) -> LeakageSpec {
    LeakageSpec {
        runs,
        seed: 0x1eaf,
        alpha: 1e-4,
        fixed: FixedPoint::default_for(Ring::Z64),
        correlations: Correlations::Dealer,
    }
}

/// Two responses under one encryption of zero: their `a` halves' difference is a fixed function
/// of the client's share, which the pinned server's view shows; with fresh ones it is uniform.
#[test]
fn a_shared_encryption_of_zero_is_caught_in_the_server_s_view_and_fresh_ones_are_not() {
    let dims = [8, 4, 2048];
    for (zeros, leaks) in [(Zeros::PerChunk(8), true), (Zeros::Fresh, false)] {
        let p = RlweLinear(NimbusLinear { zeros, ..NimbusLinear::default() });
        let r = audit(&p, Some(&dims), &spec(30)).unwrap();
        let server = &r.parties[0];
        assert_eq!(server.party, Role::Server);
        assert_eq!(server.leaks, leaks, "{zeros:?}: {server:?}");
        assert!(!r.parties[1].leaks, "{zeros:?}: the client's view {:?}", r.parties[1]);
        if leaks {
            let worst = server.comparison.worst.as_ref().unwrap();
            assert_eq!(worst.message, 2, "found in the derived difference, after the two received messages");
        }
    }
}

/// Under pinned secrets the pinned party's share of a shared input is the same whatever the run
/// seed: `reveal` sends each party the other's share, x minus the pinned one, which then follows
/// the input alone; unpinned, it follows the seed too.
#[test]
fn a_pinned_party_s_shares_stay_fixed_while_the_run_seed_changes() {
    let registry = Registry::builtin().unwrap();
    let reveal = registry.find("reveal").unwrap();
    let view = |secrets, seed: u64, value: f64| {
        let views = Views::new();
        let run = RunSpec {
            inputs: Some(vec![ArrayD::from_elem(IxDyn(&[4]), value)]),
            secrets,
            views: Some(views.clone()),
            ..RunSpec::new(Ring::Z64, seed).with_dims(&[4])
        };
        assert!(harness::run(reveal, &run).unwrap().report.passed);
        views.take()
    };
    for role in [Role::Server, Role::Client] {
        let pinned = Secrets::Pinned { role, seed: 7 };
        let i = role.index();
        assert_eq!(view(pinned, 1, 0.5)[i], view(pinned, 2, 0.5)[i], "{role}: the same input, another run seed");
        assert_ne!(view(pinned, 1, 0.5)[i], view(pinned, 1, -0.25)[i], "{role}: another input");
        assert_ne!(view(Secrets::FromSeed, 1, 0.5)[i], view(Secrets::FromSeed, 2, 0.5)[i], "{role}: unpinned");
    }
}
