//! The RLWE kernels: Nimbus's accumulation kernel (throughput in limb multiply-adds), NTT,
//! encryption, decryption, one Galois key switch and the packing of 64 responses (the SIP
//! server's online work per returned ciphertext), and both linear protocols at 128×768·768×768.

#![allow(clippy::unwrap_used, clippy::expect_used)] // benchmarks fail loudly by design

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use dyad_protocols::harness::{self, RunSpec};
use dyad_protocols::registry;
use dyad_protocols::rlwe::cipher::{decrypt, encrypt_sk};
use dyad_protocols::rlwe::galois::{GaloisKeys, apply, pack_strided, packing_elements};
use dyad_protocols::rlwe::kernel::{Scalars, accumulate};
use dyad_protocols::rlwe::{RlweContext, RlweParams, RnsPoly, SecretKey};
use dyad_sim::Ring;
use rand::SeedableRng;

fn kernel(c: &mut Criterion) {
    let ctx = RlweContext::new(RlweParams::for_ring(Ring::Z64)).expect("parameters");
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(1);
    let (n, k) = (64, 128);
    let limbs = ctx.top_level();
    let weights: Vec<RnsPoly> = (0..n).map(|_| RnsPoly::uniform(&ctx, limbs, &mut rng)).collect();
    let refs: Vec<&RnsPoly> = weights.iter().collect();
    let scalars = Scalars::new(limbs, n, k, |j, t| {
        ctx.moduli().iter().map(|m| m.reduce((j * 7919 + t * 104729) as u64 * 0x9e37_79b9)).collect()
    });
    let mut group = c.benchmark_group("rlwe");
    group.sample_size(10);
    group.throughput(Throughput::Elements((n * k * limbs * ctx.n()) as u64));
    group.bench_function("cop_kernel_limb_macs", |b| b.iter(|| accumulate(&ctx, &refs, &scalars)));
    group.throughput(Throughput::Elements(1));
    let sk = SecretKey::generate(&ctx, &mut rng);
    let m: Vec<u64> = (0..ctx.n() as u64).collect();
    group.bench_function("encrypt_sk", |b| b.iter(|| encrypt_sk(&ctx, &sk, &m, &mut rng)));
    let ct = encrypt_sk(&ctx, &sk, &m, &mut rng);
    group.bench_function("decrypt", |b| b.iter(|| decrypt(&ctx, &sk, &ct)));
    let mut poly = RnsPoly::uniform(&ctx, limbs, &mut rng);
    group.bench_function("ntt_forward_inverse", |b| {
        b.iter(|| {
            poly.to_ntt(&ctx);
            poly.from_ntt(&ctx);
        })
    });
    let low = ctx.top_level() - 1;
    let keys = GaloisKeys::generate(&ctx, &sk, low, &packing_elements(ctx.n(), 64), &mut rng);
    let mut low_ct = ct.clone();
    low_ct.mod_switch(&ctx);
    group.bench_function("galois_key_switch", |b| b.iter(|| apply(&ctx, &low_ct, &keys, ctx.n() + 1)));
    let cts = vec![Some(low_ct.clone()); 64];
    group.bench_function("pack_64", |b| b.iter(|| pack_strided(&ctx, &cts, &keys)));
    for name in ["nimbus.linear", "bumblebee.linear"] {
        let p = registry::find(name).expect("registered");
        let spec = RunSpec::new(Ring::Z64, 0).with_dims(&[128, 768, 768]);
        group.bench_with_input(BenchmarkId::new(name, "128x768x768"), &spec, |b, spec| {
            b.iter(|| harness::run(p.as_ref(), spec).map(|c| c.report.passed))
        });
    }
    group.finish();
}

criterion_group!(benches, kernel);
criterion_main!(benches);
