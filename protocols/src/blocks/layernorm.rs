//! LayerNorm on shares: mean, variance, rsqrt, then the affine step (Ba et al. 2016; the
//! BumbleBee/PUMA recipe).
//!
//! Per row of d values: mean = Σx·(1/d); deviations x − mean; variance = Σ dev²·(1/d) + ε;
//! y = dev·rsqrt(variance); out = γ·y + β. γ and β are the server's weights: it secret-shares
//! them once in the setup phase, and the online products with them are Beaver products. The two
//! per-row truncations of the mean and the variance are one-bit even when the run truncates
//! probabilistically: their values reach 2^55, where probabilistic truncation would fail with
//! probability 2^−9 per row.
//! **Variance.** At ℓ = 64 the squared deviations are kept exact (2f fraction bits, no truncation
//! per element), their row sum is shifted right by 14 bits, multiplied by 1/d and truncated to a
//! variance with f + 16 fraction bits, which the rsqrt takes as is
//! ([`dyad_reference::layernorm::VariancePlan`]): a variance of 10^−3 then rounds by 10^−5 relative
//! instead of 0.2%. At ℓ = 32 each square is truncated to f bits and the variance has f bits.
//! The rsqrt covers variances in [2^−10, 2^14) and saturates smoothly below (see
//! [`crate::blocks::rsqrt`]); the documented domain is that range at ℓ = 64 (BERT-base-width
//! models have rows with variances of 0.013–0.06 in every layer) and [1/4, 2^14) at ℓ = 32, and
//! [`Protocol::in_domain`] checks each row's variance, d·var (the row sum of squares, which must
//! stay inside the truncations' domain: d·var < 2^25 at ℓ = 64 and f = 18) and |x| ≤ 256. The tolerances are derived
//! for rows of up to [`MAX_WIDTH`] values.
//!
//! At ℓ = 32 and f = 13 every product must stay below 2^(ℓ−2), so deviations must be below 4 in
//! magnitude: real BERT LayerNorm inputs (outliers above 200) need ℓ = 64.

use dyad_reference::layernorm::{self as reference, LayerNormParams, VariancePlan};
use dyad_sim::{FixedPoint, Formula, Party, Phase, Ring, RingTensor, Role, Share};
use ndarray::{ArrayD, Axis};

use crate::blocks::arith::{mul, mul_cost, square, square_cost};
use crate::blocks::beaver::{square_ring, square_ring_cost};

use crate::blocks::rsqrt::{DEFAULT_ITERATIONS, DEFAULT_RANGE, rsqrt, rsqrt_cost};
use crate::blocks::share::{repeat_last, share_input, share_input_cost, sum_last, tile_rows};
use crate::blocks::trunc::{truncate, truncate_cost};
use crate::error::ProtocolError;
use crate::protocol::TruncMode;
use crate::protocol::{Holder, InputSpec, Inputs, Protocol, matrix, row_len, shared, take};

/// The server's γ and β, secret-shared.
#[derive(Clone, Debug)]
pub struct AffineShares {
    /// Share of γ, `[d]`.
    pub gamma: Share,
    /// Share of β, `[d]`.
    pub beta: Share,
}

/// The setup step: the server secret-shares γ and β (plaintexts on the server's side only).
pub fn share_affine(
    p: &mut Party,
    gamma: Option<&RingTensor>,
    beta: Option<&RingTensor>,
    ring: Ring,
    d: usize,
) -> Result<AffineShares, ProtocolError> {
    p.in_phase(Phase::Setup, |p| {
        p.scope("share_weights", |p| {
            Ok(AffineShares {
                gamma: share_input(p, Role::Server, gamma, ring, &[d])?,
                beta: share_input(p, Role::Server, beta, ring, &[d])?,
            })
        })
    })
}

/// The formula of [`share_affine`]: γ and β, shared by the server in the setup phase.
pub fn share_affine_cost(f: &mut Formula, ring: Ring, d: usize) {
    f.in_phase(Phase::Setup, |f| f.repeat(2, |f| share_input_cost(f, Role::Server, ring, d)));
}

/// The formula of [`layernorm`] for `rows` rows of `d`: the mean's and the variance's per-row
/// truncations (one-bit when the run is probabilistic), the squares of the deviations, the
/// rsqrt per row, then two products per element (by the rsqrt, by γ).
pub fn layernorm_cost(
    f: &mut Formula,
    fx: FixedPoint,
    (rows, d): (usize, usize),
    params: &LayerNormParams,
    mode: TruncMode,
) -> Result<(), ProtocolError> {
    let shift = fx.frac() + reference::extra_bits(fx);
    let plan = VariancePlan::at(fx);
    let row_mode = if mode == TruncMode::Probabilistic { TruncMode::OneBit } else { mode };
    truncate_cost(f, fx.ring(), rows, shift, row_mode);
    if plan.exact_squares {
        square_ring_cost(f, fx.ring(), rows * d);
        truncate_cost(f, fx.ring(), rows, plan.squares_shift, row_mode);
    } else {
        square_cost(f, fx, rows * d, mode);
    }
    truncate_cost(f, fx.ring(), rows, plan.variance_shift, row_mode);
    rsqrt_cost(f, fx, rows, &params.range, params.iterations, mode, plan.extra)?;
    f.repeat(2, |f| mul_cost(f, fx, rows * d, mode));
    Ok(())
}

/// LayerNorm of each row of `x` (`[rows, d]`).
pub fn layernorm(
    p: &mut Party,
    fx: FixedPoint,
    x: &Share,
    affine: &AffineShares,
    params: &LayerNormParams,
    mode: TruncMode,
) -> Result<Share, ProtocolError> {
    let (rows, d) = match x.shape() {
        [rows, d] if *d > 0 => (*rows, *d),
        other => {
            return Err(ProtocolError::Dims { protocol: "layernorm", dims: other.to_vec(), expected: "rows,d".into() });
        }
    };
    p.scope("layernorm", |p| {
        let inv_d = reference::inverse_of_width(fx, d)?;
        let shift = fx.frac() + reference::extra_bits(fx);
        let row_mode = if mode == TruncMode::Probabilistic { TruncMode::OneBit } else { mode };
        let mean = truncate(p, &sum_last(x)?.scale(inv_d), shift, row_mode)?;
        let dev = x.sub(&repeat_last(&mean, d)?)?;
        let plan = VariancePlan::at(fx);
        let sums = if plan.exact_squares {
            let squares = sum_last(&square_ring(p, &dev)?)?;
            truncate(p, &squares, plan.squares_shift, row_mode)?
        } else {
            sum_last(&square(p, fx, &dev, mode)?)?
        };
        let eps = FixedPoint::new(fx.ring(), fx.frac() + plan.extra)?.encode(params.eps)?;
        let var = truncate(p, &sums.scale(inv_d), plan.variance_shift, row_mode)?.add_scalar(p.role(), eps);
        let rs = rsqrt(p, fx, &var, &params.range, params.iterations, mode, plan.extra)?;
        let y = mul(p, fx, &dev, &repeat_last(&rs, d)?, mode)?;
        let scaled = mul(p, fx, &y, &tile_rows(&affine.gamma, rows)?, mode)?;
        Ok(scaled.add(&tile_rows(&affine.beta, rows)?)?)
    })
}

/// The documented bound on |x|: 256 at ℓ = 64 (BERT's outlier dimensions reach about 200;
/// all-MiniLM-L6-v2's FFN LayerNorm inputs 191), 1.9 at ℓ = 32 (see the module docs). At ℓ = 64
/// the mean's product Σx·(1/d) stays below 256·2^(2f+8) = 2^52; the squares are bounded by
/// [`row_fits`], not by |x|.
fn input_bound(fx: FixedPoint) -> f64 {
    if fx.ring().bits() >= 64 { 256.0 } else { 1.9 }
}

/// Whether a row of `d` values with variance `var` keeps the variance's products inside the
/// truncations' domain, with one bit to spare: Σ dev² = d·var below 2^(ℓ−3) at scale 2^(2f) when the
/// squares are exact (ℓ = 64), at scale 2^f when each square is truncated (ℓ = 32).
fn row_fits(fx: FixedPoint, d: usize, var: f64) -> bool {
    d as f64 * var < row_limit(fx)
}

/// The bound on d·var of [`row_fits`]: 2^25 at ℓ = 64 and f = 18, 2^16 at ℓ = 32 and f = 13.
fn row_limit(fx: FixedPoint) -> f64 {
    let scale = if VariancePlan::at(fx).exact_squares { 2 * fx.frac() } else { fx.frac() };
    f64::from(fx.ring().bits() - 3).exp2() / f64::from(scale).exp2()
}

/// The mean and the (population) variance of a row, in float64.
fn moments(row: ndarray::ArrayView1<'_, f64>) -> (f64, f64) {
    let n = row.len() as f64;
    let mean = row.sum() / n;
    (mean, row.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n)
}

/// The widest rows the tolerances are derived for (BERT-large has 1024).
pub const MAX_WIDTH: usize = 4096;

impl LayerNorm {
    /// The row variances (ε included) inside the documented domain: the rsqrt's range at ℓ = 64;
    /// at ℓ = 32, whose variance has only f = 13 fraction bits, from 1/4 up.
    pub fn variance_range(&self, fx: FixedPoint) -> (f64, f64) {
        let (lo, hi) = self.params.range.bounds();
        if fx.ring().bits() >= 64 { (lo, hi) } else { (lo.max(0.25), hi) }
    }

    /// A bound in ULPs on y = dev·rs·γ from per-step errors, with `rsqrt_ulps` the rsqrt's error
    /// per unit of its restore scale: |dev|·e_rs ≤ rsqrt_ulps·|y| + |dev| with |y| ≤ √d; rs·e_dev
    /// for the mean's one ULP; the variance's rounding Δvar moves y by |y|·Δvar/(2·var); one for the
    /// product; γ ≤ 1.5 scales it and its product adds one more.
    fn error_ulps(&self, fx: FixedPoint, rsqrt_ulps: f64) -> f64 {
        let (var_floor, _) = self.variance_range(fx);
        let plan = VariancePlan::at(fx);
        let f = fx.frac() as i32;
        let (dev, rs, y) = (2.0 * input_bound(fx), 1.0 / var_floor.sqrt(), (MAX_WIDTH as f64).sqrt());
        let variance = if plan.exact_squares {
            // Σ dev² loses one unit at 2^−(2f − shift), divided by d ≥ 2, where |y| ≤ √d: the
            // worst case is d = 2; the variance's own rounding at 2^−(f + extra) adds |y|·that.
            let sum = f64::from(plan.squares_shift as i32 - 2 * f).exp2() / 2.0_f64.sqrt();
            let own = y * f64::from(-(f + plan.extra as i32)).exp2();
            (sum + own) / (2.0 * var_floor) * f64::from(f).exp2()
        } else {
            // Each square and the final product lose one unit at 2^−f: two units in the variance.
            y * 2.0 / (2.0 * var_floor)
        };
        (rsqrt_ulps * y + dev + rs + variance + 1.0) * 1.5 + 2.0
    }
}

/// `layernorm`: rows of x normalised, with the server's γ and β (dims rows,d).
#[derive(Clone, Copy, Debug)]
pub struct LayerNorm {
    /// ε, the rsqrt's range and iterations.
    pub params: LayerNormParams,
}

impl Default for LayerNorm {
    fn default() -> Self {
        LayerNorm { params: LayerNormParams { eps: 1e-12, range: DEFAULT_RANGE, iterations: DEFAULT_ITERATIONS } }
    }
}

impl Protocol for LayerNorm {
    fn name(&self) -> &'static str {
        "layernorm"
    }
    fn paper(&self) -> &'static str {
        "LayerNorm (Ba et al. 2016) as in BumbleBee/PUMA: mean, variance, rsqrt, affine"
    }
    fn computes(&self) -> &'static str {
        "γ·(x − mean)/√(var + ε) + β per row (dims rows,d; γ, β held by the server)"
    }
    fn with_layer_norm_eps(&self, eps: f64) -> Option<Box<dyn Protocol>> {
        Some(Box::new(LayerNorm { params: LayerNormParams { eps, ..self.params } }))
    }
    fn default_dims(&self) -> Vec<usize> {
        vec![4, 384]
    }
    fn inputs(&self, dims: &[usize], fx: FixedPoint) -> Result<Vec<InputSpec>, ProtocolError> {
        let d = match dims {
            [rows, d] if *rows > 0 && *d > 1 && *d <= MAX_WIDTH => *d,
            _ => {
                return Err(ProtocolError::Dims {
                    protocol: self.name(),
                    dims: dims.to_vec(),
                    expected: format!("rows,d with 2 ≤ d ≤ {MAX_WIDTH}"),
                });
            }
        };
        // The range is where random rows are drawn, narrower than the domain `in_domain` checks:
        // they must also keep every variance in the rsqrt's range and fit `row_fits`, and the
        // worst variance of values within ±b is b².
        let var_hi = self.variance_range(fx).1;
        let b = input_bound(fx).min(var_hi.sqrt()).min((row_limit(fx) / d as f64).sqrt());
        Ok(vec![
            shared("x", dims, (-b, b)),
            InputSpec { name: "gamma".into(), shape: vec![d], holder: Holder::Server, range: (0.5, 1.5) },
            InputSpec { name: "beta".into(), shape: vec![d], holder: Holder::Server, range: (-0.5, 0.5) },
        ])
    }
    fn run(&self, p: &mut Party, inputs: &Inputs) -> Result<Share, ProtocolError> {
        let mode = inputs.trunc;
        let x = inputs.share(self.name(), 0)?;
        let d = row_len(self.name(), x.shape())?;
        let affine = share_affine(p, inputs.plain(self.name(), 1)?, inputs.plain(self.name(), 2)?, x.ring(), d)?;
        layernorm(p, inputs.fixed, x, &affine, &self.params, mode)
    }
    fn cost(&self, f: &mut Formula, dims: &[usize], fx: FixedPoint, trunc: TruncMode) -> Option<()> {
        let (rows, d) = matrix(self.name(), dims).ok()?;
        share_affine_cost(f, fx.ring(), d);
        layernorm_cost(f, fx, (rows, d), &self.params, trunc).ok()?;
        Some(())
    }
    fn reference(&self, fx: FixedPoint, inputs: &[RingTensor]) -> Result<RingTensor, ProtocolError> {
        let [x, g, b] = take(self.name(), inputs)?;
        reference::layernorm(fx, x, g, b, &self.params)
            .map_err(|e| ProtocolError::Config { protocol: "layernorm", reason: e.to_string() })
    }
    fn ideal(&self, inputs: &[ArrayD<f64>]) -> Result<ArrayD<f64>, ProtocolError> {
        let [x, g, b] = take(self.name(), inputs)?;
        let mut out = x.clone();
        for mut row in out.lanes_mut(Axis(x.ndim() - 1)) {
            let (mean, var) = moments(row.view());
            let rs = 1.0 / (var + self.params.eps).sqrt();
            for ((v, gj), bj) in row.iter_mut().zip(g.iter()).zip(b.iter()) {
                *v = (*v - mean) * rs * gj + bj;
            }
        }
        Ok(out)
    }
    fn tolerance_ulp(&self, fx: FixedPoint, trunc: TruncMode) -> u64 {
        // The rsqrt's secure-vs-reference error is 6 ULPs per unit of restore scale (see
        // `Rsqrt::tolerance_ulp`), and the restore scale is below rs.
        trunc.tolerance(self.error_ulps(fx, 6.0).ceil() as u64)
    }
    fn in_domain(&self, fx: FixedPoint, inputs: &[ArrayD<f64>]) -> Result<ArrayD<bool>, ProtocolError> {
        let x = inputs.first().ok_or(ProtocolError::Input { protocol: self.name(), index: 0, expected: "x".into() })?;
        let (bound, (vlo, vhi)) = (input_bound(fx), self.variance_range(fx));
        let mut flags = x.mapv(|_| false);
        for (row, mut out) in x.lanes(Axis(x.ndim() - 1)).into_iter().zip(flags.lanes_mut(Axis(x.ndim() - 1))) {
            let var = moments(row).1 + self.params.eps;
            let ok = (vlo..vhi).contains(&var) && row_fits(fx, row.len(), var) && row.iter().all(|v| v.abs() <= bound);
            out.fill(ok);
        }
        Ok(flags)
    }
    fn activation(&self) -> Option<crate::protocol::Activation> {
        Some(crate::protocol::Activation::LayerNorm)
    }
    fn ideal_tolerance(&self, fx: FixedPoint) -> f64 {
        // The same steps against exact arithmetic: the rsqrt is within 8 ULPs per unit of restore
        // scale of 1/√var (see `Rsqrt::ideal_tolerance`).
        self.error_ulps(fx, 8.0) * fx.ulp()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dyad_sim::Ring;

    #[test]
    fn a_row_is_in_the_domain_only_when_its_values_and_its_variance_are() {
        let ln = LayerNorm::default();
        let fx = FixedPoint::default_for(Ring::Z64);
        let (lo, hi) = ln.params.range.bounds();
        // Variance 1; variance lo/4, below the rsqrt's range; a value beyond |x| ≤ 256; an outlier
        // of 191 (all-MiniLM-L6-v2's FFN LayerNorm input) in a row of small variance.
        let small = (lo / 4.0).sqrt();
        let rows = [
            [1.0, -1.0, 1.0, -1.0],
            [small, -small, small, -small],
            [300.0, 298.0, 300.0, 298.0],
            [191.0, 0.5, -0.5, 0.0],
        ];
        let x = ArrayD::from_shape_vec(vec![4, 4], rows.iter().flatten().copied().collect()).unwrap_or_default();
        let flags = ln.in_domain(fx, &[x]).unwrap_or_else(|e| panic!("{e}"));
        let per_row: Vec<Vec<bool>> = flags.outer_iter().map(|r| r.iter().copied().collect()).collect();
        assert_eq!(per_row, [[true; 4], [false; 4], [false; 4], [true; 4]]);
        assert!(hi > 1.0);
    }

    /// Secure LayerNorm on rows with the small variances of BERT-base-width models (10^−3 and
    /// 0.013): inside the domain, within the tolerance of the reference and the documented accuracy
    /// of the ideal, at every truncation.
    #[test]
    fn small_variance_rows_stay_within_the_documented_accuracy() {
        let ln = LayerNorm::default();
        let d = 384;
        let rows: Vec<f64> = [1e-3f64, 0.013]
            .iter()
            .flat_map(|v| (0..d).map(move |i| v.sqrt() * ((i as f64 * 0.7).sin() * 1.41) - 0.2))
            .collect();
        let x = ArrayD::from_shape_vec(vec![2, d], rows).unwrap_or_default();
        let fx = FixedPoint::default_for(Ring::Z64);
        assert!(ln.in_domain(fx, std::slice::from_ref(&x)).unwrap_or_else(|e| panic!("{e}")).iter().all(|&b| b));
        let inputs = vec![x, ArrayD::from_elem(vec![d], 1.0), ArrayD::zeros(vec![d])];
        for trunc in [TruncMode::OneBit, TruncMode::Faithful, TruncMode::Probabilistic] {
            let spec = crate::harness::RunSpec {
                inputs: Some(inputs.clone()),
                trunc: Some(trunc),
                ..crate::harness::RunSpec::new(Ring::Z64, 5).with_dims(&[2, d])
            };
            let r = crate::harness::run(&ln, &spec).unwrap_or_else(|e| panic!("{e}")).report;
            assert!(r.passed, "{}: {:?} ULPs from the reference", trunc.name(), r.error.vs_reference.max_ulp);
            let bound = ln.ideal_tolerance(fx) + ln.tolerance_ulp(fx, trunc) as f64 * fx.ulp();
            assert!(r.error.vs_ideal.max_abs <= bound, "{}: {} > {bound}", trunc.name(), r.error.vs_ideal.max_abs);
            assert!(r.error.vs_ideal.max_abs < 2e-3, "{}: {}", trunc.name(), r.error.vs_ideal.max_abs);
        }
    }
}
