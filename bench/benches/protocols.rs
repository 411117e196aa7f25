//! Every registered protocol at its small default dimensions and at MiniLM's dimensions
//! (wall time of one checked simulated run, both parties).

#![allow(clippy::unwrap_used, clippy::expect_used)] // benchmarks fail loudly by design

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use dyad_model::registry::Registry;
use dyad_protocols::ModelShape;
use dyad_protocols::harness::{self, RunSpec};
use dyad_sim::Ring;

/// The built-in protocols, built once for every test here.
static REGISTRY: std::sync::LazyLock<Registry> =
    std::sync::LazyLock::new(|| Registry::builtin().expect("the built-in protocols build"));

fn protocols(c: &mut Criterion) {
    let mut group = c.benchmark_group("protocol");
    group.sample_size(10);
    for p in REGISTRY.all() {
        let small = p.default_dims();
        let realistic = p.model_dims(&ModelShape::MINILM);
        for (label, dims) in [("small", small), ("minilm", realistic)] {
            let spec = RunSpec::new(Ring::Z64, 0).with_dims(&dims);
            group.bench_with_input(BenchmarkId::new(p.name(), label), &spec, |b, spec| {
                b.iter(|| harness::run(p, spec).map(|c| c.report.passed))
            });
        }
    }
    group.finish();
}

criterion_group!(benches, protocols);
criterion_main!(benches);
