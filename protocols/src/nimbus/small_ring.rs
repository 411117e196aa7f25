//! Nimbus's non-linear layers in a small ring (Li et al., NeurIPS 2024, arXiv 2411.15707:
//! low-degree polynomials on the recorded input range need fewer bits, and truncation fused with
//! the ring conversion makes the move between rings almost free).
//!
//! The linear layers keep Z_2^ℓ with f fraction bits; the activation runs in Z_2^ℓ' with f' < f:
//!
//! 1. **Truncate by t = f − f' and down-cast** ([`crate::blocks::cast::truncate_downcast`]),
//!    local: each element becomes ⌊x·2^f'⌋ or one unit less, by the carry of the shares' low t
//!    bits ([`Protocol::reference_for_shares`] computes which).
//! 2. The activation in Z_2^ℓ': every comparison of its segment selection (and the row maximum
//!    of Softmax) runs at ℓ' bits instead of ℓ.
//! 3. **Up-cast rescaling by 2^t** ([`crate::blocks::cast::upcast`]): exact for outputs below
//!    2^(ℓ'−2) units, one correlated OT of ℓ − ℓ' − t bits per element.
//!
//! Softmax converts only around its exp: the row maximum, x − max and the exp run in the small
//! ring, the row sum, the reciprocal and the product back in Z_2^ℓ, where the probabilities keep f
//! fraction bits.
//!
//! Unless the user states it ([`SmallRingSpec`], `dyad --small-ring PROTOCOL=BITS[:FRAC]`), f'
//! is the largest number of fraction bits at which every piece is safe on the whole of its
//! segment in Z_2^ℓ' (`safe_domain` is the whole domain): 11 for the fitted GELU's quartics, 10
//! for the fitted exp's cubics, at ℓ' = 32. A stated f' must be safe in the same sense, or the
//! protocol refuses it. The run ring must be larger than ℓ', so at ℓ' = 32 these protocols run at
//! ℓ = 64 only.

use dyad_reference::approx::{Piecewise, Target};
use dyad_reference::cast as cast_reference;
use dyad_reference::poly as poly_reference;
use dyad_sim::{FixedPoint, Formula, Party, Ring, RingTensor, Share};
use ndarray::ArrayD;

use crate::blocks::activation::{
    AttentionFunction, ExpMethod, PiecewiseActivation, Softmax, approximation_error, below_row_max, check_tolerance,
    normalise_rows, normalise_rows_cost, normalise_rows_reference, piecewise_tolerance, safe_domain, safe_on,
};
use crate::blocks::cast::{truncate_downcast, upcast, upcast_cost};
use crate::blocks::max::{max_cost, max_last};
use crate::blocks::poly::{piecewise_at, piecewise_cost_at};
use crate::blocks::share::repeat_last;
use crate::error::ProtocolError;
use crate::protocol::{
    Activation, InputSpec, Inputs, ModelShape, Protocol, SmallRingSpec, TruncMode, elements, matrix, row_len, shared,
    take,
};

/// Where Softmax evaluates its exp: x − max for scores that span up to 80.
const EXP_DOMAIN: (f64, f64) = (-80.0, 0.0);

/// The fewest fraction bits a small ring may leave.
pub const MIN_SMALL_FRAC: u32 = 8;

fn config(protocol: &'static str, reason: String) -> ProtocolError {
    ProtocolError::Config { protocol, reason }
}

/// Where a small-ring activation computes: the ring and f′ of x and the result, and the fraction
/// bits of its real coefficients.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SmallFormat {
    /// Z_2^ℓ′ with f′ fraction bits.
    pub fx: FixedPoint,
    /// Fraction bits of the real coefficients of x^i (i ≥ 1), f′ ≤ f_c ≤ f: each term is at
    /// scale 2^(f′ + f_c) until the pieces' one truncation by f_c. At f_c = f′ the refit exp's
    /// cubic would lose about 2^−11·|x|³ ≈ 0.1 to the rounding of its coefficients at x = −5.9.
    pub coeff_frac: u32,
}

/// The small ring's format for `pw` on inputs in `domain`, when the run is in `run`: f′ as `spec`
/// states it, or else the largest f′ < f at which `pw` is safe on the whole domain in
/// Z_2^ℓ′; then f_c the largest f_c ≤ f at which every selected piece's real terms stay below
/// 2^(ℓ′−3) at scale 2^(f′ + f_c). A stated f′ at which `pw` is not safe is refused.
pub fn small_format(
    protocol: &'static str,
    pw: &Piecewise,
    domain: (f64, f64),
    spec: SmallRingSpec,
    run: FixedPoint,
) -> Result<SmallFormat, ProtocolError> {
    let cap = domain.0.abs().max(domain.1.abs());
    let ring = Ring::new(spec.bits)?;
    if run.ring().bits() <= spec.bits {
        return Err(config(protocol, format!("computes in {ring}, so it needs a larger run ring than {}", run.ring())));
    }
    let constant = pw.pieces.iter().map(|q| q.coeffs.first().copied().unwrap_or(0.0).abs()).fold(0.0, f64::max);
    let limit = f64::from(spec.bits - 3).exp2();
    // Inputs, constants and outputs (bounded by 2^(ℓ'−3−2f') where the pieces are safe) stay below
    // the up-cast's 2^(ℓ'−2) units.
    let fits = |fx: FixedPoint| cap.max(constant) * f64::from(fx.frac()).exp2() < limit && safe_on(pw, fx, domain);
    let safest = || {
        (MIN_SMALL_FRAC..run.frac()).rev().map(|f| FixedPoint::new(ring, f)).filter_map(Result::ok).find(|&fx| fits(fx))
    };
    let fx = match spec.frac {
        Some(f) if !(MIN_SMALL_FRAC..run.frac()).contains(&f) => {
            return Err(config(
                protocol,
                format!("f′ = {f}: choose {MIN_SMALL_FRAC} ≤ f′ < {} (the run's fraction bits)", run.frac()),
            ));
        }
        Some(f) => {
            let fx = FixedPoint::new(ring, f)?;
            if !fits(fx) {
                let most =
                    safest().map_or_else(|| "none is".into(), |s| format!("the most that is: f′ = {}", s.frac()));
                return Err(config(
                    protocol,
                    format!(
                        "f′ = {f} in {ring}: its pieces overflow 2^{} units on [{}, {}] ({most})",
                        spec.bits - 3,
                        domain.0,
                        domain.1
                    ),
                ));
            }
            Some(fx)
        }
        None => safest(),
    };
    let fx = fx.ok_or_else(|| {
        config(
            protocol,
            format!(
                "no format of {ring} with {MIN_SMALL_FRAC} to {} fraction bits keeps its pieces safe on [{}, {}]",
                run.frac().saturating_sub(1),
                domain.0,
                domain.1
            ),
        )
    })?;
    let widest = real_terms_max(pw, domain);
    let coeff_frac =
        (fx.frac()..=run.frac()).rev().find(|&c| widest * f64::from(fx.frac() + c).exp2() < limit).unwrap_or(fx.frac());
    Ok(SmallFormat { fx, coeff_frac })
}

/// The largest Σ|a_i|·|x|^i over the real (non-integer) coefficients of x^i, i ≥ 1, of the piece
/// covering x, on a grid of 0.01 over `domain`.
fn real_terms_max(pw: &Piecewise, (lo, hi): (f64, f64)) -> f64 {
    let steps = ((hi - lo) / 0.01).ceil() as u32;
    (0..=steps)
        .map(|i| (lo + f64::from(i) * 0.01).min(hi))
        .map(|x| {
            let piece = &pw.pieces[pw.piece_at(x)];
            let real = |a: f64| a.fract() != 0.0 || a.abs() > 1048576.0;
            piece
                .coeffs
                .iter()
                .enumerate()
                .skip(1)
                .filter(|(_, a)| real(**a))
                .map(|(i, a)| a.abs() * x.abs().powi(i as i32))
                .sum::<f64>()
        })
        .fold(0.0, f64::max)
}

/// The first input down-cast into `small` as the protocols do: less one unit where the low bits
/// of the server's share (in `server`) and the client's carry, as if they never did without it.
fn downcast_input(
    protocol: &'static str,
    fx: FixedPoint,
    small: FixedPoint,
    inputs: &[RingTensor],
    server: &[Option<&RingTensor>],
) -> Result<RingTensor, ProtocolError> {
    let [x] = take(protocol, inputs)?;
    let t = fx.frac() - small.frac();
    Ok(match server.first() {
        Some(Some(x0)) => cast_reference::truncate_shared_into(x, x0, t, small.ring()),
        _ => cast_reference::truncate_into(x, t, small.ring()),
    })
}

/// The largest slope of the target on its domain: GELU's 1.13, exp's 1 below 0.
fn slope(target: Target) -> f64 {
    match target {
        Target::Gelu => 1.13,
        Target::Exp => 1.0,
    }
}

/// A piecewise activation (GELU or exp) computed in a small ring between the fused conversions.
#[derive(Clone, Debug)]
pub struct SmallRingActivation {
    name: &'static str,
    computes: &'static str,
    inner: PiecewiseActivation,
    ring: SmallRingSpec,
}

impl SmallRingActivation {
    /// `inner` in the small ring `ring`, registered as `name`.
    pub fn new(name: &'static str, computes: &'static str, inner: PiecewiseActivation, ring: SmallRingSpec) -> Self {
        SmallRingActivation { name, computes, inner, ring }
    }

    /// The small ring's format at run format `fx`.
    pub fn format(&self, fx: FixedPoint) -> Result<SmallFormat, ProtocolError> {
        small_format(self.name, self.inner.piecewise(), self.inner.domain(), self.ring, fx)
    }

    fn shift(&self, fx: FixedPoint) -> Result<(SmallFormat, u32), ProtocolError> {
        let small = self.format(fx)?;
        Ok((small, fx.frac() - small.fx.frac()))
    }

    /// The output for inputs `x` down-cast to `down` (in the small ring), up-cast back to `fx`.
    fn finish(&self, fx: FixedPoint, small: SmallFormat, down: &RingTensor) -> Result<RingTensor, ProtocolError> {
        let y = poly_reference::piecewise_at(small.fx, small.coeff_frac, down, self.inner.piecewise())?;
        Ok(cast_reference::scale_into(&y, fx.frac() - small.fx.frac(), fx.ring()))
    }
}

impl Protocol for SmallRingActivation {
    fn name(&self) -> &'static str {
        self.name
    }
    fn paper(&self) -> &'static str {
        self.inner.paper
    }
    fn computes(&self) -> &'static str {
        self.computes
    }
    fn model_dims(&self, m: &ModelShape) -> Vec<usize> {
        self.inner.model_dims(m)
    }
    fn default_dims(&self) -> Vec<usize> {
        self.inner.default_dims()
    }
    fn inputs(&self, dims: &[usize], fx: FixedPoint) -> Result<Vec<InputSpec>, ProtocolError> {
        let small = self.format(fx)?.fx;
        let mut specs = self.inner.inputs(dims, small)?;
        for s in &mut specs {
            let (lo, hi) = self.inner.inputs(dims, fx)?.first().map_or(s.range, |b| b.range);
            s.range = (s.range.0.max(lo), s.range.1.min(hi));
        }
        Ok(specs)
    }
    fn run(&self, p: &mut Party, inputs: &Inputs) -> Result<Share, ProtocolError> {
        let fx = inputs.fixed;
        let (small, t) = self.shift(fx)?;
        let down = truncate_downcast(inputs.share(self.name, 0)?, t, small.fx.ring())?;
        let y = piecewise_at(p, small.fx, small.coeff_frac, &down, self.inner.piecewise(), inputs.trunc)?;
        upcast(p, &y, 0, t, fx.ring())
    }
    fn cost(&self, f: &mut Formula, dims: &[usize], fx: FixedPoint, trunc: TruncMode) -> Option<()> {
        let n = elements(self.name, dims)?;
        let (small, t) = self.shift(fx).ok()?;
        piecewise_cost_at(f, small.fx, small.coeff_frac, n, self.inner.piecewise(), trunc).ok()?;
        upcast_cost(f, small.fx.ring(), fx.ring(), 0, t, n)
    }
    /// The output when no down-cast carries (the shares' low bits never overflow).
    fn reference(&self, fx: FixedPoint, inputs: &[RingTensor]) -> Result<RingTensor, ProtocolError> {
        self.reference_for_shares(fx, inputs, &[])
    }
    fn reference_for_shares(
        &self,
        fx: FixedPoint,
        inputs: &[RingTensor],
        server: &[Option<&RingTensor>],
    ) -> Result<RingTensor, ProtocolError> {
        let small = self.format(fx)?;
        self.finish(fx, small, &downcast_input(self.name, fx, small.fx, inputs, server)?)
    }
    fn ideal(&self, inputs: &[ArrayD<f64>]) -> Result<ArrayD<f64>, ProtocolError> {
        self.inner.ideal(inputs)
    }
    fn approximation(&self, inputs: &[ArrayD<f64>]) -> Result<ArrayD<f64>, ProtocolError> {
        self.inner.approximation(inputs)
    }
    fn tolerance_ulp(&self, fx: FixedPoint, trunc: TruncMode) -> u64 {
        // The small ring's ±1-unit truncations, each 2^t ULPs of the run's format.
        let Ok((small, t)) = self.shift(fx) else { return 0 };
        self.inner.tolerance_ulp(small.fx, trunc) << t
    }
    fn ideal_tolerance(&self, fx: FixedPoint) -> f64 {
        // The activation's own accuracy at f', and the input's floor to f' (two units with the
        // carry) times the target's slope.
        let Ok(small) = self.format(fx) else { return 0.0 };
        self.inner.ideal_tolerance(small.fx) + 2.0 * slope(self.inner.set.function) * small.fx.ulp()
    }
    fn breakpoints(&self) -> Vec<f64> {
        self.inner.breakpoints()
    }
    fn audit_note(&self) -> Option<&'static str> {
        self.inner.note
    }
    fn activation(&self) -> Option<Activation> {
        self.inner.activation()
    }
    fn small_ring(&self, fx: FixedPoint) -> Option<FixedPoint> {
        self.format(fx).ok().map(|s| s.fx)
    }
    fn with_small_ring(&self, ring: SmallRingSpec) -> Option<Box<dyn Protocol>> {
        Some(Box::new(SmallRingActivation { ring, ..self.clone() }))
    }
}

/// Softmax whose row maximum and exp run in a small ring: x − max and exp there, the exps
/// up-cast, the row sum, reciprocal and product in the run's ring.
#[derive(Clone, Debug)]
pub struct SmallRingSoftmax {
    inner: Softmax,
    pw: Piecewise,
    ring: SmallRingSpec,
}

impl SmallRingSoftmax {
    /// `inner` (whose exp must be piecewise) with its exp in the small ring `ring`.
    pub fn new(inner: Softmax, ring: SmallRingSpec) -> Result<Self, ProtocolError> {
        let ExpMethod::Piecewise(pw) = &inner.exp else {
            return Err(config(inner.name, "only a piecewise exp runs in a small ring".into()));
        };
        check_tolerance(inner.name, pw)?;
        let pw = pw.clone();
        Ok(SmallRingSoftmax { inner, pw, ring })
    }

    /// The small ring's format at run format `fx`.
    pub fn format(&self, fx: FixedPoint) -> Result<SmallFormat, ProtocolError> {
        small_format(self.inner.name, &self.pw, EXP_DOMAIN, self.ring, fx)
    }

    fn shift(&self, fx: FixedPoint) -> Result<(SmallFormat, u32), ProtocolError> {
        let small = self.format(fx)?;
        Ok((small, fx.frac() - small.fx.frac()))
    }

    /// The output for scores down-cast to `down` (in the small ring).
    fn finish(&self, fx: FixedPoint, small: SmallFormat, down: &RingTensor) -> Result<RingTensor, ProtocolError> {
        let e = poly_reference::piecewise_at(small.fx, small.coeff_frac, &below_row_max(small.fx, down)?, &self.pw)?;
        let e = cast_reference::scale_into(&e, fx.frac() - small.fx.frac(), fx.ring());
        normalise_rows_reference(fx, &e, self.inner.recip_iterations)
    }
}

impl AttentionFunction for SmallRingSoftmax {
    fn rows(&self, p: &mut Party, fx: FixedPoint, x: &Share, trunc: TruncMode) -> Result<Share, ProtocolError> {
        let n = row_len(self.inner.name, x.shape())?;
        let (small, t) = self.shift(fx)?;
        p.scope("softmax", |p| {
            let down = truncate_downcast(x, t, small.fx.ring())?;
            let m = max_last(p, &down)?;
            let d = down.sub(&repeat_last(&m, n)?)?;
            let e = piecewise_at(p, small.fx, small.coeff_frac, &d, &self.pw, trunc)?;
            let e = upcast(p, &e, 0, t, fx.ring())?;
            normalise_rows(p, fx, &e, n, self.inner.recip_iterations, trunc)
        })
    }
    fn rows_reference(&self, fx: FixedPoint, x: &RingTensor) -> Result<RingTensor, ProtocolError> {
        self.reference(fx, std::slice::from_ref(x))
    }
    fn rows_float(&self, x: &ArrayD<f64>) -> ArrayD<f64> {
        self.inner.rows_float(x)
    }
    fn attention_with_small_ring(&self, ring: SmallRingSpec) -> Option<Box<dyn AttentionFunction>> {
        Some(Box::new(SmallRingSoftmax { ring, ..self.clone() }))
    }
    fn rows_cost(
        &self,
        f: &mut Formula,
        fx: FixedPoint,
        (rows, n): (usize, usize),
        trunc: TruncMode,
    ) -> Result<(), ProtocolError> {
        let (small, t) = self.shift(fx)?;
        max_cost(f, small.fx.ring(), rows, n);
        piecewise_cost_at(f, small.fx, small.coeff_frac, rows * n, &self.pw, trunc)?;
        upcast_cost(f, small.fx.ring(), fx.ring(), 0, t, rows * n)
            .ok_or_else(|| config(self.inner.name, "no up-cast formula".into()))?;
        normalise_rows_cost(f, fx, (rows, n), self.inner.recip_iterations, trunc)
    }
}

impl Protocol for SmallRingSoftmax {
    fn name(&self) -> &'static str {
        self.inner.name
    }
    fn paper(&self) -> &'static str {
        self.inner.paper
    }
    fn computes(&self) -> &'static str {
        self.inner.computes
    }
    fn model_dims(&self, m: &ModelShape) -> Vec<usize> {
        self.inner.model_dims(m)
    }
    fn default_dims(&self) -> Vec<usize> {
        self.inner.default_dims()
    }
    fn inputs(&self, dims: &[usize], fx: FixedPoint) -> Result<Vec<InputSpec>, ProtocolError> {
        let small = self.format(fx)?.fx;
        matrix(self.inner.name, dims)?;
        let half = -safe_domain(&self.pw, small, EXP_DOMAIN).0 / 2.0;
        Ok(vec![shared("x", dims, (-half, half))])
    }
    fn run(&self, p: &mut Party, inputs: &Inputs) -> Result<Share, ProtocolError> {
        self.rows(p, inputs.fixed, inputs.share(self.inner.name, 0)?, inputs.trunc)
    }
    fn cost(&self, f: &mut Formula, dims: &[usize], fx: FixedPoint, trunc: TruncMode) -> Option<()> {
        let shape = matrix(self.inner.name, dims).ok()?;
        self.rows_cost(f, fx, shape, trunc).ok()
    }
    /// The output when no down-cast carries.
    fn reference(&self, fx: FixedPoint, inputs: &[RingTensor]) -> Result<RingTensor, ProtocolError> {
        self.reference_for_shares(fx, inputs, &[])
    }
    fn reference_for_shares(
        &self,
        fx: FixedPoint,
        inputs: &[RingTensor],
        server: &[Option<&RingTensor>],
    ) -> Result<RingTensor, ProtocolError> {
        let small = self.format(fx)?;
        self.finish(fx, small, &downcast_input(self.inner.name, fx, small.fx, inputs, server)?)
    }
    fn ideal(&self, inputs: &[ArrayD<f64>]) -> Result<ArrayD<f64>, ProtocolError> {
        self.inner.ideal(inputs)
    }
    fn approximation(&self, inputs: &[ArrayD<f64>]) -> Result<ArrayD<f64>, ProtocolError> {
        self.inner.approximation(inputs)
    }
    fn tolerance_ulp(&self, fx: FixedPoint, trunc: TruncMode) -> u64 {
        // As Softmax's, with each exp's ±1-unit truncations worth 2^t ULPs of the run's format.
        let Ok((_, t)) = self.shift(fx) else { return 0 };
        trunc.tolerance((130 * piecewise_tolerance(&self.pw, 20.0)).saturating_mul(1 << t) + 16)
    }
    fn ideal_tolerance(&self, fx: FixedPoint) -> f64 {
        // Softmax's: twice the exp's error over a row sum of at least 1, the reciprocal's 1e-4,
        // with the exp's truncations, its input's floor and its quantisation at f'.
        let Ok(small) = self.format(fx).map(|s| s.fx) else { return 0.0 };
        let exp_err = approximation_error(&self.pw, Target::Exp, (-20.0, 0.0));
        2.0 * exp_err + 1e-4 + (2 * piecewise_tolerance(&self.pw, 20.0) + 8) as f64 * small.ulp() + 64.0 * fx.ulp()
    }
    fn activation(&self) -> Option<Activation> {
        Some(Activation::Softmax)
    }
    fn small_ring(&self, fx: FixedPoint) -> Option<FixedPoint> {
        self.format(fx).ok().map(|s| s.fx)
    }
    fn with_small_ring(&self, ring: SmallRingSpec) -> Option<Box<dyn Protocol>> {
        Some(Box::new(SmallRingSoftmax { ring, ..self.clone() }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::nimbus;

    /// f′ and f_c of the built-in sets at ℓ = 64, f = 18, worked by hand: the refit GELU's quartic
    /// on [−3.1, −0.1] needs |x|⁴ = 92 < 2^(29 − 2f′), so f′ = 11, and its real terms reach 15.5 at
    /// −3.1, so f′ + f_c ≤ 25; the refit exp's cubic on [−5.9, −2.1] needs 205 < 2^(29 − 2f′), f′ = 10,
    /// terms up to 4.5, f′ + f_c ≤ 26; the example exp's cubic on [−3.9, 0]: 59 < 2^(29 − 2f′),
    /// f′ = 11, terms up to 9.0, f′ + f_c ≤ 25; the example GELU is limited by x up to 30 in its
    /// last piece (30 < 2^(29 − 2f′), f′ = 12), its quadratic's terms by 1.13, f_c capped at f.
    #[test]
    fn the_small_formats_of_the_builtin_sets_are_the_hand_derived_ones() {
        let run = FixedPoint::default_for(Ring::Z64);
        let got = |a: Result<SmallRingActivation, ProtocolError>| {
            let f = a.unwrap_or_else(|e| panic!("{e}")).format(run).unwrap_or_else(|e| panic!("{e}"));
            (f.fx.ring().bits(), f.fx.frac(), f.coeff_frac)
        };
        assert_eq!(got(nimbus::gelu_small()), (32, 11, 14));
        assert_eq!(got(nimbus::exp_small()), (32, 10, 16));
        assert_eq!(got(nimbus::exp_example_small()), (32, 11, 14));
        assert_eq!(got(nimbus::gelu_example_small()), (32, 12, 16));
        let softmax = nimbus::softmax_small().unwrap_or_else(|e| panic!("{e}")).format(run);
        assert_eq!(softmax.map(|f| (f.fx.frac(), f.coeff_frac)).ok(), Some((10, 16)));
    }
}
