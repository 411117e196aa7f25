//! Activation functions as audited protocols: a piecewise polynomial from a coefficient set
//! (Nimbus's GELU and exp, PUMA's GELU) and Softmax built from max, an exp, one reciprocal per
//! row and a product.
//!
//! Softmax of a row x of n scores: m = max(x) by the comparison tree; d = x − m ≤ 0; e = exp(d) by
//! the chosen method; s = Σ e ∈ [e(0), n]; r = 1/s by Goldschmidt with normalisation over
//! [2^−1, 2^(⌈log2 n⌉+1)) (SPU's 2 iterations); y = e·r. One reciprocal per row, as Nimbus and
//! SPU's faster variant do, rather than a division per element.

use dyad_reference::Fx;
use dyad_reference::approx::{CoefficientSet, Piecewise, Target};
use dyad_reference::exp as exp_reference;
use dyad_reference::normalize::ExponentRange;
use dyad_reference::poly as poly_reference;
use dyad_reference::recip::{GoldschmidtConsts, goldschmidt_scalar};
use dyad_sim::{FixedPoint, Formula, Party, RingTensor, Share};
use ndarray::{ArrayD, Axis};

use crate::blocks::arith::{mul, mul_cost};
use crate::blocks::exp::{exp_taylor, exp_taylor_cost};
use crate::blocks::max::{max_cost, max_last};
use crate::blocks::poly::{piecewise, piecewise_cost, poly_tolerance};
use crate::blocks::recip::{goldschmidt, goldschmidt_cost};
use crate::blocks::share::{repeat_last, sum_last};
use crate::error::ProtocolError;
use crate::protocol::TruncMode;
use crate::protocol::{
    Activation, InputSpec, Inputs, ModelShape, Protocol, SmallRingSpec, elements, elementwise, matrix, row_len, shared,
    take,
};

fn config(protocol: &'static str, reason: String) -> ProtocolError {
    ProtocolError::Config { protocol, reason }
}

/// The ULP error of evaluating `pw` with ±1-ULP truncations, over each piece's own segment
/// (outer pieces over |x| ≤ `outer`).
pub(crate) fn piecewise_tolerance(pw: &Piecewise, outer: f64) -> u64 {
    let mut worst = 0;
    for (i, piece) in pw.pieces.iter().enumerate() {
        let lo = if i == 0 { -outer } else { pw.breaks[i - 1] };
        let hi = pw.breaks.get(i).copied().unwrap_or(outer);
        worst = worst.max(poly_tolerance(piece, (lo, hi)));
    }
    worst
}

/// The largest tolerance against the reference that a coefficient set may need, in ULPs: 2^12,
/// 0.016 at f = 18. The built-in sets need at most 423. A set that needs more (high degrees,
/// large coefficients) is refused: its secure-vs-reference check could no longer fail.
pub const MAX_TOLERANCE_ULP: u64 = 1 << 12;

/// The narrowest input domain a coefficient set may be audited on: a set whose pieces are only
/// safe on a narrower interval at the run's ring is refused rather than scored on almost nothing.
pub const MIN_DOMAIN_WIDTH: f64 = 1.0;

/// Refuses a piecewise polynomial whose tolerance exceeds [`MAX_TOLERANCE_ULP`].
pub fn check_tolerance(protocol: &'static str, pw: &Piecewise) -> Result<(), ProtocolError> {
    let t = piecewise_tolerance(pw, 20.0);
    if t > MAX_TOLERANCE_ULP {
        return Err(config(
            protocol,
            format!(
                "its pieces (degrees {:?}) need a tolerance of {} ULPs against the reference, above the {MAX_TOLERANCE_ULP} \
                 Dyad can check meaningfully; lower the degree or the coefficients",
                pw.pieces.iter().map(|q| q.degree()).collect::<Vec<_>>(),
                if t == u64::MAX { "more than 2^64".to_owned() } else { t.to_string() }
            ),
        ));
    }
    Ok(())
}

/// The largest approximation error of `pw` against `target` on a fine grid of `domain`.
pub(crate) fn approximation_error(pw: &Piecewise, target: Target, domain: (f64, f64)) -> f64 {
    let steps = 20_000;
    (0..=steps)
        .map(|i| domain.0 + (domain.1 - domain.0) * f64::from(i) / f64::from(steps))
        .map(|x| (pw.eval(x) - target.ideal(x)).abs())
        .fold(0.0, f64::max)
}

/// The widest part [lo', hi'] of `domain` around 0 on which the piece covering each x evaluates
/// without leaving the truncation's domain: |x|^d·2^(2f) and Σ|a_i|·|x|^i·2^(2f) stay below
/// 2^(ℓ−3). Outside it the selected piece overflows the ring: at ℓ = 32 and f = 13 PUMA's
/// degree-6 piece is only safe for |x| < 1.41 and the Nimbus exp cubic for x > −2. Each side is
/// searched on its own, so exp's domain below 0 is not narrowed by pieces it never evaluates
/// above 0.
pub fn safe_domain(pw: &Piecewise, fx: FixedPoint, (lo, hi): (f64, f64)) -> (f64, f64) {
    let step = 0.01;
    let reach = |cap: f64, sign: f64| {
        let mut b = 0.0;
        while b + step <= cap && safe_at(pw, fx, sign * (b + step)) {
            b += step;
        }
        b
    };
    (-reach(-lo.min(0.0), -1.0), reach(hi.max(0.0), 1.0))
}

/// Whether the piece covering `x` evaluates there within the truncation's domain (see
/// [`safe_domain`]).
fn safe_at(pw: &Piecewise, fx: FixedPoint, x: f64) -> bool {
    let limit = (fx.ring().bits() as f64 - 3.0 - 2.0 * fx.frac() as f64).exp2();
    let piece = &pw.pieces[pw.piece_at(x)];
    let d = piece.degree() as i32;
    let sum: f64 = piece.coeffs.iter().enumerate().skip(1).map(|(i, a)| a.abs() * x.abs().powi(i as i32)).sum();
    (d < 2 || x.abs().powi(d) < limit) && sum < limit
}

/// Whether `pw` is safe (see [`safe_domain`]) at every point of `[lo, hi]`, on a grid of 0.01
/// and at both ends.
pub fn safe_on(pw: &Piecewise, fx: FixedPoint, (lo, hi): (f64, f64)) -> bool {
    let steps = ((hi - lo) / 0.01).ceil() as u32;
    (0..=steps).all(|i| safe_at(pw, fx, (lo + f64::from(i) * 0.01).min(hi)))
}

/// A piecewise-polynomial activation (GELU or exp) whose coefficients come from a set.
#[derive(Clone, Debug)]
pub struct PiecewiseActivation {
    /// Registry name.
    pub name: &'static str,
    /// Where it comes from.
    pub paper: &'static str,
    /// What it computes.
    pub computes: &'static str,
    /// The coefficients.
    pub set: CoefficientSet,
    /// A caveat for the audit.
    pub note: Option<&'static str>,
    pw: Piecewise,
}

impl PiecewiseActivation {
    /// The activation of `set`; an error if the set is malformed.
    pub fn new(
        name: &'static str,
        paper: &'static str,
        computes: &'static str,
        set: CoefficientSet,
    ) -> Result<Self, ProtocolError> {
        let pw = set.piecewise().map_err(|e| config(name, e.to_string()))?;
        check_tolerance(name, &pw)?;
        Ok(PiecewiseActivation { name, paper, computes, set, note: None, pw })
    }

    /// The piecewise polynomial of the set.
    pub fn piecewise(&self) -> &Piecewise {
        &self.pw
    }

    /// The input domain before the ring's safe bound narrows it: [−30, 30] for GELU, [−80, 0]
    /// for exp.
    pub fn domain(&self) -> (f64, f64) {
        match self.set.function {
            Target::Gelu => (-30.0, 30.0),
            Target::Exp => (-80.0, 0.0),
        }
    }
}

impl Protocol for PiecewiseActivation {
    fn name(&self) -> &'static str {
        self.name
    }
    fn paper(&self) -> &'static str {
        self.paper
    }
    fn computes(&self) -> &'static str {
        self.computes
    }
    fn model_dims(&self, m: &ModelShape) -> Vec<usize> {
        match self.set.function {
            Target::Gelu => vec![m.seq, m.ffn],
            Target::Exp => vec![m.heads * m.seq, m.seq],
        }
    }
    fn default_dims(&self) -> Vec<usize> {
        vec![1024]
    }
    fn inputs(&self, dims: &[usize], fx: FixedPoint) -> Result<Vec<InputSpec>, ProtocolError> {
        let (lo, hi) = self.domain();
        let (lo, hi) = safe_domain(&self.pw, fx, (lo, hi));
        if hi - lo < MIN_DOMAIN_WIDTH {
            return Err(config(
                self.name,
                format!(
                    "its pieces are only safe on [{lo:.2}, {hi:.2}] in Z_2^{} with {} fraction bits, narrower than the \
                     {MIN_DOMAIN_WIDTH} Dyad requires to score a set",
                    fx.ring().bits(),
                    fx.frac()
                ),
            ));
        }
        Ok(vec![shared("x", &elementwise(self.name, dims)?, (lo, hi))])
    }
    fn run(&self, p: &mut Party, inputs: &Inputs) -> Result<Share, ProtocolError> {
        piecewise(p, inputs.fixed, inputs.share(self.name, 0)?, &self.pw, inputs.trunc)
    }
    fn cost(&self, f: &mut Formula, dims: &[usize], fx: FixedPoint, trunc: TruncMode) -> Option<()> {
        let n = elements(self.name, dims)?;
        piecewise_cost(f, fx, n, &self.pw, trunc).ok()?;
        Some(())
    }
    fn reference(&self, fx: FixedPoint, inputs: &[RingTensor]) -> Result<RingTensor, ProtocolError> {
        let [x] = take(self.name, inputs)?;
        Ok(poly_reference::piecewise(fx, x, &self.pw)?)
    }
    fn ideal(&self, inputs: &[ArrayD<f64>]) -> Result<ArrayD<f64>, ProtocolError> {
        let [x] = take(self.name, inputs)?;
        let target = self.set.function;
        Ok(x.mapv(|v| target.ideal(v)))
    }
    fn approximation(&self, inputs: &[ArrayD<f64>]) -> Result<ArrayD<f64>, ProtocolError> {
        let [x] = take(self.name, inputs)?;
        Ok(x.mapv(|v| self.pw.eval(v)))
    }
    fn tolerance_ulp(&self, _: FixedPoint, trunc: TruncMode) -> u64 {
        trunc.tolerance(piecewise_tolerance(&self.pw, 20.0))
    }
    fn ideal_tolerance(&self, fx: FixedPoint) -> f64 {
        // The approximation's own worst error on the domain, plus coefficient quantisation and
        // floor truncations (at most one ULP per term, |x|^i ≤ 20^6 for the pieces in use).
        let quantisation = self
            .pw
            .pieces
            .iter()
            .map(|q| (0..=q.degree()).map(|i| 3.0f64.powi(i as i32)).sum::<f64>())
            .fold(0.0, f64::max);
        approximation_error(&self.pw, self.set.function, self.domain())
            + (quantisation + piecewise_tolerance(&self.pw, 20.0) as f64) * fx.ulp()
    }
    fn breakpoints(&self) -> Vec<f64> {
        self.set.breaks.clone()
    }
    fn audit_note(&self) -> Option<&'static str> {
        self.note
    }
    fn activation(&self) -> Option<Activation> {
        Some(match self.set.function {
            Target::Gelu => Activation::Gelu,
            Target::Exp => Activation::Exp,
        })
    }
}

/// How a Softmax computes exp(x − max).
#[derive(Clone, Debug)]
pub enum ExpMethod {
    /// (1 + x/2^n)^(2^n), 0 below `clip` (BumbleBee/SPU).
    Taylor {
        /// Squarings.
        n: u32,
        /// Clipping point.
        clip: f64,
    },
    /// A piecewise polynomial (Nimbus).
    Piecewise(Piecewise),
}

impl ExpMethod {
    /// exp on shares.
    pub fn secure(&self, p: &mut Party, fx: FixedPoint, x: &Share, mode: TruncMode) -> Result<Share, ProtocolError> {
        match self {
            ExpMethod::Taylor { n, clip } => exp_taylor(p, fx, x, *n, *clip, mode),
            ExpMethod::Piecewise(pw) => piecewise(p, fx, x, pw, mode),
        }
    }

    /// The formula of [`ExpMethod::secure`] for `n` elements.
    pub fn cost(&self, f: &mut Formula, fx: FixedPoint, n: usize, mode: TruncMode) -> Result<(), ProtocolError> {
        match self {
            ExpMethod::Taylor { n: squarings, .. } => exp_taylor_cost(f, fx, n, *squarings, mode),
            ExpMethod::Piecewise(pw) => piecewise_cost(f, fx, n, pw, mode)?,
        }
        Ok(())
    }

    /// The fixed-point reference.
    pub fn reference(&self, fx: FixedPoint, x: &RingTensor) -> Result<RingTensor, ProtocolError> {
        Ok(match self {
            ExpMethod::Taylor { n, clip } => exp_reference::taylor(fx, x, *n, *clip)?,
            ExpMethod::Piecewise(pw) => poly_reference::piecewise(fx, x, pw)?,
        })
    }

    /// The float64 evaluation.
    pub fn float(&self, x: f64) -> f64 {
        match self {
            ExpMethod::Taylor { n, clip } => {
                if x < *clip {
                    0.0
                } else {
                    (1.0 + x / f64::from(*n).exp2()).powi(1 << n)
                }
            }
            ExpMethod::Piecewise(pw) => pw.eval(x),
        }
    }

    /// ULPs from the reference with ±1-ULP truncations.
    pub fn tolerance(&self) -> u64 {
        match self {
            ExpMethod::Taylor { n, .. } => 1 << (n + 1),
            ExpMethod::Piecewise(pw) => piecewise_tolerance(pw, 20.0),
        }
    }

    /// How far below the row maximum inputs may lie before the exp leaves its safe domain
    /// (capped at 80).
    pub fn safe_span(&self, fx: FixedPoint) -> f64 {
        match self {
            ExpMethod::Taylor { .. } => 80.0,
            ExpMethod::Piecewise(pw) => -safe_domain(pw, fx, (-80.0, 0.0)).0,
        }
    }
}

/// A function applied to each row of attention scores: Softmax and the replacements that
/// freeDiv and MPCFormer put in its place. The attention block takes any of them.
pub trait AttentionFunction: Protocol {
    /// Each row of `x` (`[rows, n]`) on shares.
    fn rows(&self, p: &mut Party, fx: FixedPoint, x: &Share, trunc: TruncMode) -> Result<Share, ProtocolError>;
    /// The fixed-point reference on the encoded rows.
    fn rows_reference(&self, fx: FixedPoint, x: &RingTensor) -> Result<RingTensor, ProtocolError>;
    /// The float64 evaluation of what is computed (its own formula, not Softmax's).
    fn rows_float(&self, x: &ArrayD<f64>) -> ArrayD<f64>;
    /// The formula of [`AttentionFunction::rows`] for `rows` rows of `n`.
    fn rows_cost(
        &self,
        f: &mut Formula,
        fx: FixedPoint,
        shape: (usize, usize),
        trunc: TruncMode,
    ) -> Result<(), ProtocolError>;
    /// This function computing in the small ring `ring`, when it has one (see
    /// [`Protocol::with_small_ring`]).
    fn attention_with_small_ring(&self, ring: SmallRingSpec) -> Option<Box<dyn AttentionFunction>> {
        let _ = ring;
        None
    }
}

/// Softmax of every row in float64: the ideal of every attention function.
pub fn softmax_rows(x: &ArrayD<f64>) -> ArrayD<f64> {
    let mut out = x.clone();
    for mut row in out.lanes_mut(Axis(x.ndim() - 1)) {
        let p = dyad_reference::ideal::softmax(&row.to_vec());
        row.iter_mut().zip(p).for_each(|(v, q)| *v = q);
    }
    out
}

impl AttentionFunction for Softmax {
    fn rows(&self, p: &mut Party, fx: FixedPoint, x: &Share, trunc: TruncMode) -> Result<Share, ProtocolError> {
        softmax(p, fx, x, &self.exp, self.recip_iterations, trunc)
    }
    fn rows_reference(&self, fx: FixedPoint, x: &RingTensor) -> Result<RingTensor, ProtocolError> {
        self.reference(fx, std::slice::from_ref(x))
    }
    fn rows_cost(
        &self,
        f: &mut Formula,
        fx: FixedPoint,
        shape: (usize, usize),
        trunc: TruncMode,
    ) -> Result<(), ProtocolError> {
        softmax_cost(f, fx, shape, &self.exp, self.recip_iterations, trunc)
    }
    fn rows_float(&self, x: &ArrayD<f64>) -> ArrayD<f64> {
        let mut out = x.clone();
        for mut row in out.lanes_mut(Axis(x.ndim() - 1)) {
            let m = row.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let e: Vec<f64> = row.iter().map(|v| self.exp.float(v - m)).collect();
            let s: f64 = e.iter().sum();
            row.iter_mut().zip(e).for_each(|(v, q)| *v = q / s);
        }
        out
    }
}

/// Softmax along the last axis (dims rows,n).
#[derive(Clone, Debug)]
pub struct Softmax {
    /// Registry name.
    pub name: &'static str,
    /// Where it comes from.
    pub paper: &'static str,
    /// What it computes.
    pub computes: &'static str,
    /// The exp.
    pub exp: ExpMethod,
    /// Goldschmidt iterations of the per-row reciprocal.
    pub recip_iterations: usize,
}

/// The reciprocal's range for rows of n: sums lie in [exp(0), n].
pub fn sum_range(n: usize) -> ExponentRange {
    ExponentRange { kmin: -1, kmax: n.max(2).next_power_of_two().trailing_zeros() as i32 }
}

/// Softmax of each row of `x` (`[rows, n]`) on shares.
pub fn softmax(
    p: &mut Party,
    fx: FixedPoint,
    x: &Share,
    exp: &ExpMethod,
    iterations: usize,
    mode: TruncMode,
) -> Result<Share, ProtocolError> {
    let n = match x.shape() {
        [_, n] if *n > 0 => *n,
        other => {
            return Err(ProtocolError::Dims { protocol: "softmax", dims: other.to_vec(), expected: "rows,n".into() });
        }
    };
    p.scope("softmax", |p| {
        let m = max_last(p, x)?;
        let d = x.sub(&repeat_last(&m, n)?)?;
        let e = exp.secure(p, fx, &d, mode)?;
        normalise_rows(p, fx, &e, n, iterations, mode)
    })
}

/// x − max(row) for each row of `x` (`[rows, n]`) in the clear.
pub fn below_row_max(fx: FixedPoint, x: &RingTensor) -> Result<RingTensor, ProtocolError> {
    let n = row_len("softmax", x.shape())?;
    let f = Fx::new(fx);
    let ring = fx.ring();
    let mut out = Vec::with_capacity(x.len());
    for row in x.to_vec().chunks(n) {
        let m = row.iter().copied().max_by_key(|&v| ring.signed(v)).unwrap_or(0);
        out.extend(row.iter().map(|&v| f.sub(v, m)));
    }
    Ok(RingTensor::from_vec(ring, x.shape(), out)?)
}

/// e·(1/Σe) along each row of n: one Goldschmidt reciprocal per row, one product per element.
pub fn normalise_rows(
    p: &mut Party,
    fx: FixedPoint,
    e: &Share,
    n: usize,
    iterations: usize,
    mode: TruncMode,
) -> Result<Share, ProtocolError> {
    let r = goldschmidt(p, fx, &sum_last(e)?, &sum_range(n), iterations, mode)?;
    mul(p, fx, e, &repeat_last(&r, n)?, mode)
}

/// The formula of [`normalise_rows`] for `rows` rows of `n`.
pub fn normalise_rows_cost(
    f: &mut Formula,
    fx: FixedPoint,
    (rows, n): (usize, usize),
    iterations: usize,
    mode: TruncMode,
) -> Result<(), ProtocolError> {
    goldschmidt_cost(f, fx, rows, &sum_range(n), iterations, mode)?;
    mul_cost(f, fx, rows * n, mode);
    Ok(())
}

/// The fixed-point reference of [`normalise_rows`] on the exps `e` (`[rows, n]`).
pub fn normalise_rows_reference(
    fx: FixedPoint,
    e: &RingTensor,
    iterations: usize,
) -> Result<RingTensor, ProtocolError> {
    let n = row_len("softmax", e.shape())?;
    let f = Fx::new(fx);
    let range = sum_range(n);
    let consts = GoldschmidtConsts::new(fx, &range)?;
    let mut out = Vec::with_capacity(e.len());
    for row in e.to_vec().chunks(n) {
        let s = row.iter().fold(0, |a, &v| f.add(a, v));
        let r = goldschmidt_scalar(f, s, &range, iterations, &consts);
        out.extend(row.iter().map(|&v| f.mul(v, r)));
    }
    Ok(RingTensor::from_vec(fx.ring(), e.shape(), out)?)
}

/// The formula of [`softmax`] for `rows` rows of `n`: the max tree, the exp of every score,
/// one reciprocal per row, one product per score.
pub fn softmax_cost(
    f: &mut Formula,
    fx: FixedPoint,
    (rows, n): (usize, usize),
    exp: &ExpMethod,
    iterations: usize,
    mode: TruncMode,
) -> Result<(), ProtocolError> {
    max_cost(f, fx.ring(), rows, n);
    exp.cost(f, fx, rows * n, mode)?;
    normalise_rows_cost(f, fx, (rows, n), iterations, mode)
}

impl Protocol for Softmax {
    fn name(&self) -> &'static str {
        self.name
    }
    fn paper(&self) -> &'static str {
        self.paper
    }
    fn computes(&self) -> &'static str {
        self.computes
    }
    fn model_dims(&self, m: &ModelShape) -> Vec<usize> {
        vec![m.heads * m.seq, m.seq]
    }
    fn default_dims(&self) -> Vec<usize> {
        vec![12, 128]
    }
    fn inputs(&self, dims: &[usize], fx: FixedPoint) -> Result<Vec<InputSpec>, ProtocolError> {
        match dims {
            [rows, n] if *rows > 0 && *n > 0 => {
                let half = self.exp.safe_span(fx) / 2.0;
                Ok(vec![shared("x", dims, (-half, half))])
            }
            _ => Err(ProtocolError::Dims { protocol: self.name, dims: dims.to_vec(), expected: "rows,n".into() }),
        }
    }
    fn run(&self, p: &mut Party, inputs: &Inputs) -> Result<Share, ProtocolError> {
        softmax(p, inputs.fixed, inputs.share(self.name, 0)?, &self.exp, self.recip_iterations, inputs.trunc)
    }
    fn cost(&self, f: &mut Formula, dims: &[usize], fx: FixedPoint, trunc: TruncMode) -> Option<()> {
        let shape = matrix(self.name, dims).ok()?;
        self.rows_cost(f, fx, shape, trunc).ok()?;
        Some(())
    }
    fn reference(&self, fx: FixedPoint, inputs: &[RingTensor]) -> Result<RingTensor, ProtocolError> {
        let [x] = take(self.name, inputs)?;
        let e = self.exp.reference(fx, &below_row_max(fx, x)?)?;
        normalise_rows_reference(fx, &e, self.recip_iterations)
    }
    fn ideal(&self, inputs: &[ArrayD<f64>]) -> Result<ArrayD<f64>, ProtocolError> {
        let [x] = take(self.name, inputs)?;
        Ok(softmax_rows(x))
    }
    fn approximation(&self, inputs: &[ArrayD<f64>]) -> Result<ArrayD<f64>, ProtocolError> {
        let [x] = take(self.name, inputs)?;
        Ok(self.rows_float(x))
    }
    fn tolerance_ulp(&self, _: FixedPoint, trunc: TruncMode) -> u64 {
        // Each exp is within e ULPs; a row sum of up to 128 of them moves the reciprocal by up to
        // 128·e ULPs relative to a sum ≥ 1, and the product adds e, the reciprocal's 8 and 1.
        trunc.tolerance(130 * self.exp.tolerance() + 16)
    }
    fn ideal_tolerance(&self, fx: FixedPoint) -> f64 {
        // The exp's worst absolute error (about 0.03 for the cubic near its clipping point) over a
        // row sum of at least 1, plus the reciprocal's 5e-5 and a few ULPs.
        let exp_err = match &self.exp {
            ExpMethod::Taylor { .. } => 2.2e-3,
            ExpMethod::Piecewise(pw) => approximation_error(pw, Target::Exp, (-20.0, 0.0)),
        };
        2.0 * exp_err + 1e-4 + 64.0 * fx.ulp()
    }
    fn activation(&self) -> Option<Activation> {
        Some(Activation::Softmax)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dyad_sim::Ring;

    fn gelu_set(middle: &str) -> CoefficientSet {
        let text = format!(
            "name: t\nfunction: gelu\nsource: test\nbreaks: [-4.0, 4.0]\npieces: [{{coeffs: [0.0]}}, {{coeffs: {middle}}}, {{coeffs: [0.0, 1.0]}}]\n"
        );
        CoefficientSet::from_yaml(&text, "t.yaml").unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn a_set_whose_tolerance_could_not_fail_is_refused() {
        let high = format!("[{}]", vec!["0.5"; 13].join(", "));
        let e = PiecewiseActivation::new("coeffs.t", "p", "c", gelu_set(&high)).err().map(|e| e.to_string());
        assert!(e.as_deref().is_some_and(|e| e.contains("tolerance") && e.contains("4096")), "{e:?}");
        assert!(PiecewiseActivation::new("coeffs.t", "p", "c", gelu_set("[0.0, 0.5, 0.2]")).is_ok());
    }

    #[test]
    fn a_set_safe_only_on_a_sliver_is_refused_at_that_ring() {
        // 40·x² stays below 2^(ℓ−3−2f) = 8 at ℓ = 32, f = 13 only for |x| < 0.45.
        let p = PiecewiseActivation::new("coeffs.t", "p", "c", gelu_set("[0.0, 0.0, 40.0]"))
            .unwrap_or_else(|e| panic!("{e}"));
        let e = p.inputs(&[8], FixedPoint::default_for(Ring::Z32)).err().map(|e| e.to_string());
        assert!(e.as_deref().is_some_and(|e| e.contains("only safe on")), "{e:?}");
        assert!(p.inputs(&[8], FixedPoint::default_for(Ring::Z64)).is_ok());
    }
}
