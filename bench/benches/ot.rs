//! Provider `ot`'s throughput, both parties in one process (two threads, one core each on this
//! machine): random 1-out-of-2 OTs with 64-bit messages (IKNP extension plus the TCCR hashes),
//! AND triples, and Beaver triples over Z_2^64 (Gilboa products). Each simulation first serves
//! one small request, so the base OTs are set up outside the timing; the server's wall time for
//! the measured requests is what is reported. And silent COTs (Ferret), 10^7 per request after
//! their setup (base OTs, IKNP, the bootstrapping iteration), the slower party's time.

#![allow(clippy::unwrap_used, clippy::expect_used)] // benchmarks fail loudly by design

use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use dyad_sim::correlation::OtSpec;
use dyad_sim::correlation::ot::silent::{self, SilentReceiver, SilentSender};
use dyad_sim::runner::Correlations;
use dyad_sim::{Party, Ring, Role, SimConfig, SimError, simulate};
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

/// The server's time for `iters` calls of `request`, after the base OTs.
fn timed(iters: u64, request: impl Fn(&mut Party) -> Result<(), SimError> + Sync) -> Duration {
    let config = SimConfig { correlations: Correlations::Ot, ..SimConfig::with_seed(1) };
    let f = |p: &mut Party| -> Result<Duration, SimError> {
        p.triples(Ring::Z2, 1)?;
        let start = Instant::now();
        for _ in 0..iters {
            request(p)?;
        }
        Ok(start.elapsed())
    };
    simulate(&config, f, f).unwrap().server
}

fn ot(c: &mut Criterion) {
    let mut group = c.benchmark_group("ot");
    group.sample_size(10);
    let count = 1 << 20;
    group.throughput(Throughput::Elements(count as u64));
    let spec = OtSpec { sender: Role::Server, count, choice_bits: 1, msg_bits: 64 };
    group.bench_function("random_ot_1_of_2", |b| b.iter_custom(|n| timed(n, |p| p.random_ots(spec).map(drop))));
    group.bench_function("and_triples", |b| b.iter_custom(|n| timed(n, |p| p.triples(Ring::Z2, count).map(drop))));
    let triples = 1 << 14;
    group.throughput(Throughput::Elements(triples as u64));
    group.bench_function("beaver_triples_z64", |b| {
        b.iter_custom(|n| timed(n, |p| p.triples(Ring::Z64, triples).map(drop)))
    });
    group.finish();
}

/// The slower party's time for `iters` extensions of `count` silent COTs, after setup.
fn silent_timed(iters: u64, count: usize) -> Duration {
    let out = simulate(
        &SimConfig::with_seed(1),
        |p| -> Result<Duration, SimError> {
            let mut rng = ChaCha20Rng::seed_from_u64(1);
            let mut s = SilentSender::setup(p, &mut rng, silent::MAIN)?;
            let start = Instant::now();
            for _ in 0..iters {
                s.extend(p, &mut rng, count)?;
            }
            Ok(start.elapsed())
        },
        |p| -> Result<Duration, SimError> {
            let mut rng = ChaCha20Rng::seed_from_u64(2);
            let mut r = SilentReceiver::setup(p, &mut rng, silent::MAIN)?;
            let start = Instant::now();
            for _ in 0..iters {
                r.extend(p, count)?;
            }
            Ok(start.elapsed())
        },
    )
    .unwrap();
    out.server.max(out.client)
}

fn silent_cot(c: &mut Criterion) {
    let mut group = c.benchmark_group("ot");
    group.sample_size(10);
    let count = 10_000_000;
    group.throughput(Throughput::Elements(count as u64));
    group.bench_function("silent_cot", |b| b.iter_custom(|n| silent_timed(n, count)));
    group.finish();
}

criterion_group!(benches, ot, silent_cot);
criterion_main!(benches);
