//! Every building block, at ℓ = 32 and ℓ = 64 and with two truncations each: the secure output
//! against its fixed-point reference on 256 proptest cases, and the reference against the float
//! ideal over the block's documented domain. With faithful truncation the output must be
//! bit-exact; with the one-bit-error and probabilistic truncations it must stay within the
//! block's stated tolerance. ℓ = 32 runs faithful and one-bit truncation, ℓ = 64 one-bit and
//! probabilistic.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use dyad_model::registry::Registry;
use dyad_protocols::TruncMode;
use dyad_protocols::testing::{
    check_against_reference, check_against_reference_at, check_reference_against_approximation,
    check_reference_against_ideal,
};
use dyad_sim::Ring;

/// The built-in protocols, built once for every test here.
static REGISTRY: std::sync::LazyLock<Registry> =
    std::sync::LazyLock::new(|| Registry::builtin().expect("the built-in protocols build"));

fn both_rings(name: &str, dims: &[usize], seed: u64) {
    rings(name, dims, seed, &[Ring::Z32, Ring::Z64], 256);
}

fn rings(name: &str, dims: &[usize], seed: u64, which: &[Ring], cases: u32) {
    let p = REGISTRY.find(name).unwrap();
    for ring in which {
        // Probabilistic truncation fails with probability |x|/2^ℓ per element: at ℓ = 32 a
        // product at scale 2^(2f) = 2^26 makes that a few percent, so it is tested at ℓ = 64.
        let modes = match *ring {
            Ring::Z32 => [TruncMode::Faithful, TruncMode::OneBit],
            _ => [TruncMode::OneBit, TruncMode::Probabilistic],
        };
        for trunc in modes {
            let case_seed = seed ^ u64::from(ring.bits()) ^ (trunc as u64) << 40;
            check_against_reference(p, *ring, trunc, dims, case_seed, cases).unwrap();
        }
        check_reference_against_ideal(p, *ring, dims, seed.rotate_left(17) ^ u64::from(ring.bits()), 64).unwrap();
    }
}

macro_rules! block {
    ($test:ident, $name:literal, $dims:expr, $seed:literal) => {
        #[test]
        fn $test() {
            both_rings($name, &$dims, $seed);
        }
    };
}

block!(share_matches_reference, "share", [3, 2], 0xB10C_0001);
block!(reveal_matches_reference, "reveal", [5], 0xB10C_0002);
block!(add_matches_reference, "add", [5], 0xB10C_0003);
block!(mul_matches_reference, "mul", [6], 0xB10C_0004);
block!(square_matches_reference, "square", [6], 0xB10C_0005);
block!(scale_matches_reference, "scale", [6], 0xB10C_0006);
block!(matmul_matches_reference, "matmul", [2, 3, 4, 2], 0xB10C_0007);
block!(trunc_prob_matches_reference, "trunc.prob", [6], 0xB10C_0008);
block!(trunc_one_bit_matches_reference, "trunc.one_bit", [6], 0xB10C_0018);
block!(cast_round_trip_matches_reference, "cast.round_trip", [6], 0xB10C_00C1);
block!(cast_square_small_matches_reference, "cast.square_small", [6], 0xB10C_00C2);
block!(trunc_faithful_matches_reference, "trunc.faithful", [6], 0xB10C_0009);
block!(drelu_matches_reference, "drelu", [6], 0xB10C_000A);
block!(lt_public_matches_reference, "lt.public", [6], 0xB10C_000B);
block!(lt_matches_reference, "lt", [6], 0xB10C_000C);
block!(relu_matches_reference, "relu", [6], 0xB10C_000D);
block!(select_matches_reference, "select", [6], 0xB10C_000E);
block!(poly_horner_matches_reference, "poly.horner", [4], 0xB10C_000F);
block!(poly_powers_matches_reference, "poly.powers", [4], 0xB10C_0010);
block!(poly_piecewise_matches_reference, "poly.piecewise", [4], 0xB10C_0011);
block!(max_matches_reference, "max", [2, 5], 0xB10C_0012);
block!(bumblebee_exp_matches_reference, "bumblebee.exp", [4], 0xB10C_0013);
block!(recip_goldschmidt_matches_reference, "recip.goldschmidt", [4], 0xB10C_0014);
block!(recip_newton_matches_reference, "recip.newton", [4], 0xB10C_0015);
block!(rsqrt_matches_reference, "rsqrt", [4], 0xB10C_0016);
block!(layernorm_matches_reference, "layernorm", [2, 8], 0xB10C_0017);
block!(nimbus_gelu_matches_reference, "nimbus.gelu", [6], 0xB10C_0019);
block!(nimbus_gelu_example_matches_reference, "nimbus.gelu_example", [6], 0xB10C_001A);
block!(bumblebee_gelu_matches_reference, "bumblebee.gelu", [6], 0xB10C_001B);
block!(nimbus_exp_matches_reference, "nimbus.exp", [6], 0xB10C_001C);
block!(nimbus_exp_example_matches_reference, "nimbus.exp_example", [6], 0xB10C_001D);
block!(nimbus_softmax_matches_reference, "nimbus.softmax", [2, 5], 0xB10C_001E);
block!(nimbus_softmax_example_matches_reference, "nimbus.softmax_example", [2, 5], 0xB10C_001F);
block!(bumblebee_softmax_matches_reference, "bumblebee.softmax", [2, 5], 0xB10C_0020);
block!(softmax_freediv_matches_reference, "freediv.softmax_freediv", [2, 5], 0xB10C_0021);
block!(quad2_freediv_matches_reference, "freediv.quad2_freediv", [2, 5], 0xB10C_0022);
block!(quad2_mpcformer_matches_reference, "mpcformer.quad2", [2, 5], 0xB10C_0023);
block!(quad_gelu_matches_reference, "freediv.quad_gelu", [6], 0xB10C_0024);
block!(attention_bumblebee_matches_reference, "attention.bumblebee", [2, 4, 3], 0xB10C_0025);
block!(attention_nimbus_matches_reference, "attention.nimbus", [2, 4, 3], 0xB10C_0026);
block!(attention_softmax_freediv_matches_reference, "attention.softmax_freediv", [2, 4, 3], 0xB10C_0027);

/// Nimbus's small-ring activations compute in Z_2^32 between the fused conversions, so they run
/// at ℓ = 64 only: bit-exact against the share-aware reference with faithful truncation, within
/// tolerance with one-bit truncation; at ℓ = 32 they refuse with a typed error.
#[test]
fn small_ring_activations_match_their_reference_at_64_bits_and_refuse_32() {
    for (i, (name, dims)) in [
        ("nimbus.gelu_small", &[6][..]),
        ("nimbus.gelu_example_small", &[6]),
        ("nimbus.exp_small", &[6]),
        ("nimbus.exp_example_small", &[6]),
        ("nimbus.softmax_small", &[2, 5]),
        ("nimbus.softmax_example_small", &[2, 5]),
    ]
    .into_iter()
    .enumerate()
    {
        let p = REGISTRY.find(name).unwrap();
        let seed = 0xB10C_00D0 + i as u64;
        for trunc in [TruncMode::Faithful, TruncMode::OneBit] {
            check_against_reference(p, Ring::Z64, trunc, dims, seed ^ (trunc as u64) << 40, 256).unwrap();
        }
        check_reference_against_ideal(p, Ring::Z64, dims, seed.rotate_left(17), 64).unwrap();
        let e = p.inputs(dims, dyad_sim::FixedPoint::default_for(Ring::Z32)).unwrap_err().to_string();
        assert!(e.contains("larger run ring"), "{name}: {e}");
    }
}

/// (S + 5)² overflows Z_2^32 at f = 13 for any score near 0: the 2Quad blocks run at ℓ = 64 only,
/// and refuse ℓ = 32 with a typed error.
#[test]
fn quad2_attention_blocks_match_their_reference_at_64_bits_and_refuse_32() {
    for (name, seed) in [("attention.quad2_freediv", 0xB10C_0028), ("attention.quad2", 0xB10C_0029)] {
        rings(name, &[2, 4, 3], seed, &[Ring::Z64], 256);
        let p = REGISTRY.find(name).unwrap();
        let err = p.inputs(&[2, 4, 3], dyad_sim::FixedPoint::default_for(Ring::Z32)).unwrap_err();
        assert!(err.to_string().contains("use ℓ = 64"), "{err}");
    }
}

/// A whole encoder layer per suite, with its real RLWE linear layers: ℓ = 64 only (a layer's
/// LayerNorm and products overflow Z_2^32 at f = 13, which `inputs` refuses), few cases.
#[test]
fn encoder_layers_match_their_reference() {
    for (name, seed) in [
        ("layer.nimbus", 0xB10C_0030),
        ("layer.bumblebee", 0xB10C_0031),
        ("layer.freediv_softmax", 0xB10C_0032),
        ("layer.freediv_2quad", 0xB10C_0033),
    ] {
        rings(name, &[3, 64, 64], seed, &[Ring::Z64], 4);
        rings(name, &[3, 64, 64, 4], seed ^ 4, &[Ring::Z64], 1);
        let p = REGISTRY.find(name).unwrap();
        assert!(p.inputs(&[3, 64, 64], dyad_sim::FixedPoint::default_for(Ring::Z32)).is_err());
    }
}

/// The feed-forward blocks run real RLWE linear layers: fewer cases.
#[test]
fn ffn_blocks_match_their_reference() {
    for (name, seed) in [("ffn.bumblebee", 0xB10C_002A), ("ffn.nimbus", 0xB10C_002B), ("ffn.freediv", 0xB10C_002C)] {
        rings(name, &[3, 8, 12], seed, &[Ring::Z32, Ring::Z64], 12);
    }
}

/// The freeDiv replacements are not approximations of Softmax or GELU, so their ideal bound is
/// loose by nature; their references are held to the function they do compute instead. The
/// bounds are in ULPs relative to max(1, |output|): the Taylor exp's eight squarings amplify the
/// rounding of x/2^8; a public κ = 1/(25n) holds few significant bits; and the reciprocal of a
/// row sum of (x + 5)² (up to n·45²) holds even fewer, which the product with (x + 5)² then
/// scales back up.
#[test]
fn freediv_references_match_their_float_functions() {
    // (ULPs at ℓ = 32, at ℓ = 64): the 64-bit domain reaches far larger scores.
    for (name, dims, seed, ulps) in [
        ("freediv.softmax_freediv", [2usize, 5], 0xB10C_0040u64, (64.0, 64.0)),
        ("freediv.quad2_freediv", [2, 5], 0xB10C_0041, (8.0, 128.0)),
        ("mpcformer.quad2", [2, 5], 0xB10C_0042, (16.0, 2048.0)),
        ("freediv.quad_gelu", [6, 1], 0xB10C_0043, (2.0, 2.0)),
    ] {
        let p = REGISTRY.find(name).unwrap();
        for (ring, ulps) in [(Ring::Z32, ulps.0), (Ring::Z64, ulps.1)] {
            let bound = ulps * dyad_sim::FixedPoint::default_for(ring).ulp();
            let worst = check_reference_against_approximation(p, ring, &dims, seed, 256, bound).unwrap();
            println!("{name} at ℓ = {}: worst {worst:e} (bound {bound:e})", ring.bits());
        }
    }
}

/// Near-constant rows take the rsqrt below its range, where it saturates: the secure LayerNorm
/// still follows its reference there, and stays bounded.
#[test]
fn layernorm_on_near_constant_rows_follows_its_saturating_reference() {
    let p = REGISTRY.find("layernorm").unwrap();
    let d = 8;
    let x: Vec<f64> = (0..2 * d).map(|i| 3.0 + 1e-3 * f64::from(i as u8 % 3)).collect();
    let inputs = vec![
        ndarray::ArrayD::from_shape_vec(ndarray::IxDyn(&[2, d]), x).unwrap(),
        ndarray::ArrayD::from_elem(ndarray::IxDyn(&[d]), 1.0),
        ndarray::ArrayD::zeros(ndarray::IxDyn(&[d])),
    ];
    let spec = dyad_protocols::harness::RunSpec {
        inputs: Some(inputs),
        ..dyad_protocols::harness::RunSpec::new(Ring::Z64, 5).with_dims(&[2, d])
    };
    let checked = dyad_protocols::harness::run(p, &spec).unwrap();
    let r = &checked.report;
    assert!(r.passed, "{} ULP from the reference", r.error.vs_reference.max_ulp.unwrap_or(0));
    // At 0 the normalised guess is INITIAL[0] = 2.558 and each Newton step multiplies it by 3/2, so
    // the saturated rsqrt is 2.558·1.5³ = 8.63 times the restore scale (16 at the default range),
    // 138, and a little more for a variance that truncation leaves a few ULPs below 0: with γ = 1
    // and β = 0 no output exceeds 1.02 times that times the largest deviation from its row's mean
    // (plus the products' few ULPs).
    let range = dyad_protocols::blocks::rsqrt::DEFAULT_RANGE;
    let saturated = dyad_reference::rsqrt::INITIAL[0] * 1.5f64.powi(3) * dyad_reference::rsqrt::restore_scale(&range);
    let fx = dyad_sim::FixedPoint::default_for(Ring::Z64);
    let x = fx.decode_tensor(&checked.inputs[0]);
    let dev = x
        .rows()
        .into_iter()
        .map(|row| {
            let mean = row.sum() / row.len() as f64;
            row.iter().fold(0.0f64, |m, v| m.max((v - mean).abs()))
        })
        .fold(0.0f64, f64::max);
    let out = dyad_protocols::harness::decode_output(p, fx, &checked.secure);
    let largest = out.iter().fold(0.0f64, |m, v| m.max(v.abs()));
    assert!(
        largest <= 1.02 * saturated * dev + 8.0 * fx.ulp(),
        "saturated LayerNorm output {largest}, deviations {dev}"
    );
}

/// Comparisons exactly at and one ULP either side of their boundaries (x = 0 for DReLU, x = c for
/// x < c, x = y for x < y), which uniform draws almost never hit, against the plain indicator.
#[test]
fn comparisons_are_exact_at_their_boundaries() {
    for ring in [Ring::Z32, Ring::Z64] {
        let fx = dyad_sim::FixedPoint::default_for(ring);
        let u = fx.ulp();
        let around = |c: f64| vec![c - u, c, c + u, c - 2.0 * u, c + 2.0 * u];
        let arr = |v: Vec<f64>| ndarray::ArrayD::from_shape_vec(ndarray::IxDyn(&[v.len()]), v).unwrap();
        let cases = [
            ("drelu", vec![arr(around(0.0))], [0.0f64, 1.0, 1.0, 0.0, 1.0]),
            ("lt.public", vec![arr(around(0.5))], [1.0, 0.0, 0.0, 1.0, 0.0]),
            ("lt", vec![arr(around(1.25)), arr(vec![1.25; 5])], [1.0, 0.0, 0.0, 1.0, 0.0]),
        ];
        for (name, inputs, want) in cases {
            let p = REGISTRY.find(name).unwrap();
            let spec = dyad_protocols::harness::RunSpec {
                inputs: Some(inputs),
                ..dyad_protocols::harness::RunSpec::new(ring, 13).with_dims(&[5])
            };
            let checked = dyad_protocols::harness::run(p, &spec).unwrap();
            let got: Vec<f64> =
                dyad_protocols::harness::decode_output(p, fx, &checked.secure).iter().copied().collect();
            assert_eq!(got, want, "{name} at ℓ = {}", ring.bits());
        }
    }
}

/// LayerNorm's rsqrt on the variances recorded MiniLM/MPNet rows have, 0.1 to 3000 (which the
/// uniform draws of the property test rarely reach at the low end): the secure output within
/// 0.1% of 1/√x at both rings.
#[test]
fn rsqrt_covers_the_recorded_variances_from_a_tenth_to_three_thousand() {
    let p = REGISTRY.find("rsqrt").unwrap();
    let xs = [0.1, 0.15, 0.3, 0.5, 1.0, 2.0, 10.0, 130.0, 1000.0, 3000.0];
    for ring in [Ring::Z32, Ring::Z64] {
        let input = ndarray::ArrayD::from_shape_vec(ndarray::IxDyn(&[xs.len()]), xs.to_vec()).unwrap();
        let spec = dyad_protocols::harness::RunSpec {
            inputs: Some(vec![input]),
            ..dyad_protocols::harness::RunSpec::new(ring, 11).with_dims(&[xs.len()])
        };
        let checked = dyad_protocols::harness::run(p, &spec).unwrap();
        assert!(checked.report.passed, "ℓ = {}: not within tolerance of the reference", ring.bits());
        let fx = dyad_sim::FixedPoint::default_for(ring);
        let got = dyad_protocols::harness::decode_output(p, fx, &checked.secure);
        for (x, y) in xs.iter().zip(got.iter()) {
            let want = 1.0 / x.sqrt();
            assert!(
                (y - want).abs() <= 1e-3 * want + 2.0 * fx.ulp(),
                "ℓ = {}: rsqrt({x}) = {y}, want {want}",
                ring.bits()
            );
        }
    }
}

/// At ℓ = 32 and f = 13 the high-degree pieces confine the domain to the middle piece (PUMA's
/// degree 6 to |x| < 1.41); at SPU's ℓ = 32 default of f = 8 the domain reaches past every
/// breakpoint, so segment selection itself is tested in the 32-bit ring.
#[test]
fn piecewise_activations_select_every_segment_at_32_bits() {
    let fx = dyad_sim::FixedPoint::new(Ring::Z32, 8).unwrap();
    for (i, name) in ["nimbus.gelu", "nimbus.gelu_example", "bumblebee.gelu", "nimbus.exp", "nimbus.exp_example"]
        .into_iter()
        .enumerate()
    {
        let p = REGISTRY.find(name).unwrap();
        let (lo, hi) = p.inputs(&[64], fx).unwrap()[0].range;
        assert!(!p.breakpoints().is_empty(), "{name} has no breakpoints");
        for b in p.breakpoints() {
            assert!(lo < b && b < hi, "{name}: breakpoint {b} outside the 32-bit domain [{lo}, {hi}]");
        }
        for trunc in [TruncMode::Faithful, TruncMode::OneBit] {
            check_against_reference_at(p, fx, trunc, &[64], 0xB10C_0050 + i as u64, 64).unwrap();
        }
    }
}

#[test]
fn every_registered_block_has_a_property_test() {
    let tested = [
        "share",
        "reveal",
        "add",
        "mul",
        "square",
        "scale",
        "matmul",
        "trunc.prob",
        "trunc.one_bit",
        "trunc.faithful",
        "cast.round_trip",
        "cast.square_small",
        "drelu",
        "lt.public",
        "lt",
        "relu",
        "select",
        "poly.horner",
        "poly.powers",
        "poly.piecewise",
        "max",
        "bumblebee.exp",
        "recip.goldschmidt",
        "recip.newton",
        "rsqrt",
        "layernorm",
        "nimbus.gelu",
        "nimbus.gelu_example",
        "bumblebee.gelu",
        "nimbus.exp",
        "nimbus.exp_example",
        "nimbus.softmax",
        "nimbus.softmax_example",
        "nimbus.gelu_small",
        "nimbus.gelu_example_small",
        "nimbus.exp_small",
        "nimbus.exp_example_small",
        "nimbus.softmax_small",
        "nimbus.softmax_example_small",
        "bumblebee.softmax",
        "freediv.softmax_freediv",
        "freediv.quad2_freediv",
        "mpcformer.quad2",
        "freediv.quad_gelu",
        "attention.bumblebee",
        "attention.nimbus",
        "attention.softmax_freediv",
        "attention.quad2_freediv",
        "attention.quad2",
        "ffn.bumblebee",
        "ffn.nimbus",
        "ffn.freediv",
        "layer.nimbus",
        "layer.bumblebee",
        "layer.freediv_softmax",
        "layer.freediv_2quad",
    ];
    // The RLWE linear layers have their own shape-varying property tests in tests/linear.rs.
    let elsewhere = ["nimbus.linear", "bumblebee.linear", "nimbus.linear_flooded", "bumblebee.linear_flooded"];
    for p in REGISTRY.all() {
        assert!(tested.contains(&p.name()) || elsewhere.contains(&p.name()), "{} has no property test", p.name());
    }
}
