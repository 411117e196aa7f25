//! The simulator's own overhead: a round trip of an empty message between the two parties, and
//! the bytes per second through the in-memory transport.

#![allow(clippy::unwrap_used, clippy::expect_used)] // benchmarks fail loudly by design

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use dyad_sim::{Channel, Party, SimConfig, SimError, simulate};

fn round_trips(c: &mut Criterion) {
    let mut group = c.benchmark_group("simulator");
    let trips = 1000u64;
    group.throughput(Throughput::Elements(trips));
    group.bench_function("empty_round_trips", |b| {
        b.iter(|| {
            simulate(
                &SimConfig::default(),
                |p: &mut Party| -> Result<(), SimError> {
                    for _ in 0..trips {
                        p.send_bytes(Vec::new())?;
                        p.recv_bytes()?;
                    }
                    Ok(())
                },
                |p: &mut Party| -> Result<(), SimError> {
                    for _ in 0..trips {
                        p.recv_bytes()?;
                        p.send_bytes(Vec::new())?;
                    }
                    Ok(())
                },
            )
        })
    });
    let size = 64 << 20;
    group.throughput(Throughput::Bytes(size as u64));
    group.sample_size(10);
    group.bench_function("transport_bytes", |b| {
        b.iter(|| {
            simulate(
                &SimConfig::default(),
                |p: &mut Party| -> Result<(), SimError> { Ok(p.send_bytes(vec![7u8; size])?) },
                |p: &mut Party| -> Result<usize, SimError> { Ok(p.recv_bytes()?.len()) },
            )
        })
    });
    group.finish();
}

criterion_group!(benches, round_trips);
criterion_main!(benches);
