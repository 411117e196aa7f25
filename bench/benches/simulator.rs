//! The simulator's own overhead: a round trip of an empty message between the two parties, and
//! the bytes per second through the in-memory transport. Both time only the traffic: the
//! parties' threads are started, and the payload allocated, before the clock starts.

#![allow(clippy::unwrap_used, clippy::expect_used)] // benchmarks fail loudly by design

use std::time::{Duration, Instant};

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use dyad_sim::{Channel, Party, SimConfig, SimError, simulate};

/// Runs one simulation and returns how long the server took over its side of it.
fn timed(
    server: impl FnOnce(&mut Party) -> Result<(), SimError> + Send,
    client: impl FnOnce(&mut Party) -> Result<(), SimError> + Send,
) -> Duration {
    simulate(
        &SimConfig::default(),
        |p: &mut Party| -> Result<Duration, SimError> {
            let start = Instant::now();
            server(p)?;
            Ok(start.elapsed())
        },
        |p: &mut Party| -> Result<(), SimError> { client(p) },
    )
    .expect("the simulation runs")
    .server
}

fn round_trips(c: &mut Criterion) {
    let mut group = c.benchmark_group("simulator");
    group.throughput(Throughput::Elements(1));
    group.bench_function("empty_round_trip", |b| {
        b.iter_custom(|iters| {
            timed(
                |p| {
                    for _ in 0..iters {
                        p.send_bytes(Vec::new())?;
                        p.recv_bytes()?;
                    }
                    Ok(())
                },
                |p| {
                    for _ in 0..iters {
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
        b.iter_custom(|iters| {
            let payloads: Vec<Vec<u8>> = (0..iters).map(|i| vec![i as u8; size]).collect();
            timed(
                move |p| {
                    for payload in payloads {
                        p.send_bytes(payload)?;
                    }
                    // The last message is only through once the client says so.
                    p.recv_bytes()?;
                    Ok(())
                },
                |p| {
                    for _ in 0..iters {
                        p.recv_bytes()?;
                    }
                    p.send_bytes(Vec::new())?;
                    Ok(())
                },
            )
        })
    });
    group.finish();
}

criterion_group!(benches, round_trips);
criterion_main!(benches);
