//! The blocks the non-linear protocols are made of, in elements per second (#15): the
//! comparison (millionaires' leaf OTs and AND tree), one level of ANDs (Beaver over Z_2), B2A,
//! the multiplexer, each truncation, the dealer's Beaver triples, and a whole GELU at BERT-base
//! FFN width. Both parties run in one process under the dealer; the time is the slower party's,
//! inputs split before the clock starts. `RAYON_NUM_THREADS` does not matter yet: the blocks are
//! single-threaded per party.

#![allow(clippy::unwrap_used, clippy::expect_used)] // benchmarks fail loudly by design

use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use dyad_model::registry::Registry;
use dyad_protocols::ProtocolError;
use dyad_protocols::blocks::{beaver, cmp, convert, select, trunc};
use dyad_protocols::harness::{self, RunSpec};
use dyad_sim::{Party, Ring, RingTensor, Share, SimConfig, simulate};
use rand::SeedableRng;

/// Elements per call of each block.
const N: usize = 1 << 16;

/// Shares of a random tensor of `n` elements over `ring`.
fn shares(ring: Ring, n: usize, seed: u64) -> (Share, Share) {
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(seed);
    Share::split(&RingTensor::random(ring, &[n], &mut rng), &mut rng)
}

/// The slower party's time for `iters` calls of `block` on its shares.
fn timed(
    iters: u64,
    (server, client): (&[Share], &[Share]),
    block: impl Fn(&mut Party, &[Share]) -> Result<Share, ProtocolError> + Sync,
) -> Duration {
    let run = |p: &mut Party, mine: &[Share]| -> Result<Duration, ProtocolError> {
        let start = Instant::now();
        for _ in 0..iters {
            block(p, mine)?;
        }
        Ok(start.elapsed())
    };
    let out = simulate(&SimConfig::with_seed(1), |p| run(p, server), |p| run(p, client)).unwrap();
    out.server.max(out.client)
}

fn blocks(c: &mut Criterion) {
    let mut group = c.benchmark_group("block");
    group.sample_size(10);
    group.throughput(Throughput::Elements(N as u64));
    let (xs, xc) = shares(Ring::Z64, N, 1);
    let (bs, bc) = shares(Ring::Z2, N, 2);
    let (ys, yc) = shares(Ring::Z2, N, 3);
    let arith = ([xs.clone()], [xc.clone()]);
    let boolean = ([bs.clone(), ys], [bc.clone(), yc]);
    let mixed = ([bs, xs], [bc, xc]);

    group.bench_function("compare_msb", |b| {
        b.iter_custom(|n| timed(n, (&arith.0, &arith.1), |p, s| cmp::msb(p, &s[0])));
    });
    group.bench_function("and_level_beaver_z2", |b| {
        b.iter_custom(|n| timed(n, (&boolean.0, &boolean.1), |p, s| beaver::mul_ring(p, &s[0], &s[1])));
    });
    group.bench_function("b2a", |b| {
        b.iter_custom(|n| timed(n, (&boolean.0, &boolean.1), |p, s| convert::b2a(p, &s[0], Ring::Z64)));
    });
    group.bench_function("mux", |b| {
        b.iter_custom(|n| timed(n, (&mixed.0, &mixed.1), |p, s| select::mux(p, &s[0], &s[1])));
    });
    group.bench_function("trunc_probabilistic", |b| {
        b.iter_custom(|n| {
            timed(n, (&arith.0, &arith.1), |p, s| Ok(trunc::truncate_probabilistic(p.role(), &s[0], 12)))
        });
    });
    group.bench_function("trunc_one_bit", |b| {
        b.iter_custom(|n| timed(n, (&arith.0, &arith.1), |p, s| trunc::truncate_one_bit(p, &s[0], 12)));
    });
    group.bench_function("trunc_faithful", |b| {
        b.iter_custom(|n| timed(n, (&arith.0, &arith.1), |p, s| trunc::truncate_faithful(p, &s[0], 12)));
    });
    group.bench_function("dealer_triples_z64", |b| {
        b.iter_custom(|n| timed(n, (&arith.0, &arith.1), |p, _| Ok(p.triples(Ring::Z64, N)?.c)));
    });
    group.finish();

    let registry = Registry::builtin().unwrap();
    let gelu = registry.find("bumblebee.gelu").unwrap();
    let mut whole = c.benchmark_group("activation");
    whole.sample_size(10);
    whole.throughput(Throughput::Elements(128 * 3072));
    let spec = RunSpec::new(Ring::Z64, 0).with_dims(&[128, 3072]);
    whole.bench_function("bumblebee_gelu_128x3072", |b| b.iter(|| harness::run(gelu, &spec).map(|c| c.report.passed)));
    whole.finish();
}

criterion_group!(benches, blocks);
criterion_main!(benches);
