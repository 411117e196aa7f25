//! The RLWE kernels: Nimbus's accumulation kernel (throughput in limb multiply-adds, with the
//! weights of 64 inputs in cache and of a 768-input layer beyond it), NTT, encryption,
//! decryption, one Galois key switch and the packing of 64 responses (the SIP server's online
//! work per returned ciphertext), and both linear protocols at 128×768·768×768: the online phase
//! alone (keys and weights set up once, outside the timing) and a whole checked run.

#![allow(clippy::unwrap_used, clippy::expect_used)] // benchmarks fail loudly by design

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use std::time::{Duration, Instant};

use dyad_model::registry::Registry;
use dyad_protocols::ProtocolError;
use dyad_protocols::bumblebee::linear::{self as sip, SipLayout};
use dyad_protocols::harness::{self, RunSpec};
use dyad_protocols::linear::Zeros;
use dyad_protocols::nimbus::linear::{self as cop, CopLayout};
use dyad_rlwe::cipher::{decrypt, encrypt_sk};
use dyad_rlwe::galois::{GaloisKeys, apply, pack_strided, packing_elements};
use dyad_rlwe::kernel::{Scalars, accumulate};
use dyad_rlwe::{RlweContext, RlweParams, RnsPoly, SecretKey};
use dyad_sim::{Party, Ring, RingTensor, Share, SimConfig, simulate};
use rand::SeedableRng;

/// The built-in protocols, built once for every test here.
static REGISTRY: std::sync::LazyLock<Registry> =
    std::sync::LazyLock::new(|| Registry::builtin().expect("the built-in protocols build"));

/// Times `iters` online COP or SIP products of X [k, n] by the server's W [n, m], after one
/// setup outside the timing; the slower party's time.
fn online_only(name: &str, (k, n, m): (usize, usize, usize), iters: u64) -> Duration {
    let ring = Ring::Z64;
    let ctx = dyad_protocols::linear::context(ring, dyad_protocols::linear::Noise::AsIs).expect("parameters");
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(2);
    let x = RingTensor::random(ring, &[k, n], &mut rng);
    let w = RingTensor::random(ring, &[n, m], &mut rng);
    let (xs, xc) = Share::split(&x, &mut rng);
    let party = |p: &mut Party, w: Option<&RingTensor>, x: &Share| -> Result<Duration, ProtocolError> {
        if name == "nimbus.linear" {
            let layout = CopLayout::new(ctx.n(), k, n, m);
            let state = cop::setup(p, &ctx, &layout, w)?;
            let start = Instant::now();
            for _ in 0..iters {
                cop::online(p, &ctx, &layout, &state, Zeros::Fresh, w, x)?;
            }
            Ok(start.elapsed())
        } else {
            let layout = SipLayout::choose(&ctx, k, n, m, sip::MAX_PACK);
            let keys = sip::keys(p, &ctx)?;
            let start = Instant::now();
            for _ in 0..iters {
                sip::online(p, &ctx, &layout, &keys, w, x)?;
            }
            Ok(start.elapsed())
        }
    };
    let out = simulate(&SimConfig::with_seed(3), |p| party(p, Some(&w), &xs), |p| party(p, None, &xc))
        .expect("the layer runs");
    out.server.max(out.client)
}

fn kernel(c: &mut Criterion) {
    let ctx = RlweContext::new(RlweParams::for_ring(Ring::Z64)).expect("parameters");
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(1);
    let k = 128;
    let limbs = ctx.top_level();
    let mut group = c.benchmark_group("rlwe");
    group.sample_size(10);
    for n in [64, 768] {
        let weights: Vec<RnsPoly> = (0..n).map(|_| RnsPoly::uniform(&ctx, limbs, &mut rng)).collect();
        let refs: Vec<&RnsPoly> = weights.iter().collect();
        let scalars = Scalars::new(limbs, n, k, |j, t| {
            ctx.moduli().iter().map(|m| m.reduce((j * 7919 + t * 104729) as u64 * 0x9e37_79b9)).collect()
        });
        group.throughput(Throughput::Elements((n * k * limbs * ctx.n()) as u64));
        group.bench_with_input(BenchmarkId::new("cop_kernel_limb_macs", format!("{n}_inputs")), &n, |b, _| {
            b.iter(|| accumulate(&ctx, &refs, &scalars))
        });
    }
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
        group.bench_function(BenchmarkId::new(format!("{name}_online"), "128x768x768"), |b| {
            b.iter_custom(|iters| online_only(name, (128, 768, 768), iters))
        });
        let p = REGISTRY.find(name).expect("registered");
        let spec = RunSpec::new(Ring::Z64, 0).with_dims(&[128, 768, 768]);
        group.bench_with_input(BenchmarkId::new(format!("{name}_checked_run"), "128x768x768"), &spec, |b, spec| {
            b.iter(|| harness::run(p, spec).map(|c| c.report.passed))
        });
    }
    group.finish();
}

criterion_group!(benches, kernel);
criterion_main!(benches);
