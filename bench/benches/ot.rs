//! Provider `ot`'s throughput, both parties in one process (two threads, one core each on this
//! machine): random 1-out-of-2 OTs with 64-bit messages (IKNP extension plus the TCCR hashes),
//! AND triples, and Beaver triples over Z_2^64 (Gilboa products). The base OTs run once per
//! simulation and are included; at these batch sizes they are a small part.

#![allow(clippy::unwrap_used, clippy::expect_used)] // benchmarks fail loudly by design

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use dyad_sim::correlation::OtSpec;
use dyad_sim::runner::Correlations;
use dyad_sim::{Party, Ring, Role, SimConfig, SimError, simulate};

fn run(f: impl Fn(&mut Party) -> Result<(), SimError> + Sync) {
    let config = SimConfig { correlations: Correlations::Ot, ..SimConfig::with_seed(1) };
    simulate(&config, &f, &f).unwrap();
}

fn ot(c: &mut Criterion) {
    let mut group = c.benchmark_group("ot");
    group.sample_size(10);
    let count = 1 << 20;
    group.throughput(Throughput::Elements(count as u64));
    let spec = OtSpec { sender: Role::Server, count, choice_bits: 1, msg_bits: 64 };
    group.bench_function("random_ot_1_of_2", |b| b.iter(|| run(|p| p.random_ots(spec).map(drop))));
    group.bench_function("and_triples", |b| b.iter(|| run(|p| p.triples(Ring::Z2, count).map(drop))));
    let triples = 1 << 14;
    group.throughput(Throughput::Elements(triples as u64));
    group.bench_function("beaver_triples_z64", |b| b.iter(|| run(|p| p.triples(Ring::Z64, triples).map(drop))));
    group.finish();
}

criterion_group!(benches, ot);
criterion_main!(benches);
